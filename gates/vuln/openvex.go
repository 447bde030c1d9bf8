package vuln

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// VEXStatus is an OpenVEX statement status.
type VEXStatus string

// The four OpenVEX statuses.
const (
	NotAffected        VEXStatus = "not_affected"
	Affected           VEXStatus = "affected"
	Fixed              VEXStatus = "fixed"
	UnderInvestigation VEXStatus = "under_investigation"
)

// Suppresses reports whether a statement with this status sets a finding aside.
func (s VEXStatus) Suppresses() bool { return s == NotAffected || s == Fixed }

// VEXDocument is an OpenVEX document (https://openvex.dev/ns, v0.0.1 to v0.2.0).
type VEXDocument struct {
	ID         string
	Author     string
	Timestamp  time.Time
	Statements []VEXStatement
}

// VEXStatement is one statement. Timestamp is the statement's last_updated,
// else its timestamp, else the document's; zero when none is given.
type VEXStatement struct {
	Vulnerability VEXVulnerability
	Products      []VEXProduct // empty: the statement applies to whatever it is judged against
	Status        VEXStatus
	Justification string
	Timestamp     time.Time
}

// VEXVulnerability names a vulnerability: its name, @id and aliases.
type VEXVulnerability struct {
	ID      string
	Name    string
	Aliases []string
}

// Names lists every non-empty identifier of the vulnerability.
func (v VEXVulnerability) Names() []string {
	var out []string
	for _, n := range append([]string{v.Name, v.ID}, v.Aliases...) {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// VEXComponent identifies a product or subcomponent: @id, identifiers.purl, hashes.
type VEXComponent struct {
	ID     string
	PURL   string
	Hashes []string // hash values, any algorithm
}

// VEXProduct is a product and the subcomponents the statement narrows it to.
type VEXProduct struct {
	VEXComponent
	Subcomponents []VEXComponent
}

// vexComponentJSON accepts a component as an object or, as OpenVEX v0.0.1
// wrote products and subcomponents, as a bare identifier string.
type vexComponentJSON struct {
	ID          string `json:"@id"`
	Identifiers struct {
		PURL string `json:"purl"`
	} `json:"identifiers"`
	Hashes        map[string]string  `json:"hashes"`
	Subcomponents []vexComponentJSON `json:"subcomponents"`
}

func (c *vexComponentJSON) UnmarshalJSON(b []byte) error {
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, `"`) {
		return json.Unmarshal(b, &c.ID)
	}
	type plain vexComponentJSON
	return json.Unmarshal(b, (*plain)(c))
}

func (c vexComponentJSON) component() VEXComponent {
	out := VEXComponent{ID: c.ID, PURL: c.Identifiers.PURL}
	for _, h := range c.Hashes {
		out.Hashes = append(out.Hashes, h)
	}
	return out
}

// vexVulnJSON accepts a vulnerability as an object or (v0.0.1) a string.
type vexVulnJSON struct {
	ID      string   `json:"@id"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
}

func (v *vexVulnJSON) UnmarshalJSON(b []byte) error {
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, `"`) {
		return json.Unmarshal(b, &v.Name)
	}
	type plain vexVulnJSON
	return json.Unmarshal(b, (*plain)(v))
}

type vexDocJSON struct {
	Context     string `json:"@context"`
	ID          string `json:"@id"`
	Author      string `json:"author"`
	Timestamp   string `json:"timestamp"`
	LastUpdated string `json:"last_updated"`
	Statements  []struct {
		Vulnerability   vexVulnJSON        `json:"vulnerability"`
		Products        []vexComponentJSON `json:"products"`
		Status          string             `json:"status"`
		Justification   string             `json:"justification"`
		ImpactStatement string             `json:"impact_statement"`
		Timestamp       string             `json:"timestamp"`
		LastUpdated     string             `json:"last_updated"`
	} `json:"statements"`
}

// ParseOpenVEX reads an OpenVEX JSON document. It requires an openvex.dev
// @context, a known status and a vulnerability name on every statement, and
// (as the specification does) a justification or impact statement on every
// not_affected statement.
func ParseOpenVEX(data []byte) (*VEXDocument, error) {
	var d vexDocJSON
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("openvex: %w", err)
	}
	if !strings.HasPrefix(d.Context, "https://openvex.dev/ns") {
		return nil, fmt.Errorf("openvex: @context %q is not https://openvex.dev/ns…", d.Context)
	}
	doc := &VEXDocument{ID: d.ID, Author: d.Author, Timestamp: latest(d.Timestamp, d.LastUpdated)}
	for i, s := range d.Statements {
		st := VEXStatement{
			Vulnerability: VEXVulnerability{ID: s.Vulnerability.ID, Name: s.Vulnerability.Name, Aliases: s.Vulnerability.Aliases},
			Status:        VEXStatus(s.Status),
			Justification: s.Justification,
			Timestamp:     latest(s.Timestamp, s.LastUpdated),
		}
		if st.Timestamp.IsZero() {
			st.Timestamp = doc.Timestamp
		}
		switch st.Status {
		case NotAffected, Affected, Fixed, UnderInvestigation:
		default:
			return nil, fmt.Errorf("openvex: statements[%d]: status %q, expected not_affected, affected, fixed or under_investigation", i, s.Status)
		}
		if len(st.Vulnerability.Names()) == 0 {
			return nil, fmt.Errorf("openvex: statements[%d]: no vulnerability name", i)
		}
		if st.Status == NotAffected && s.Justification == "" && s.ImpactStatement == "" {
			return nil, fmt.Errorf("openvex: statements[%d]: not_affected needs a justification or an impact_statement", i)
		}
		for _, p := range s.Products {
			prod := VEXProduct{VEXComponent: p.component()}
			for _, sc := range p.Subcomponents {
				prod.Subcomponents = append(prod.Subcomponents, sc.component())
			}
			st.Products = append(st.Products, prod)
		}
		doc.Statements = append(doc.Statements, st)
	}
	return doc, nil
}

// latest returns the later of two RFC 3339 times; unparseable ones count as absent.
func latest(a, b string) time.Time {
	ta, tb := parseTime(a), parseTime(b)
	if tb.After(ta) {
		return tb
	}
	return ta
}

// purlParts splits a package URL into its base (pkg:type/namespace/name, with
// the type lower-cased and %-escapes decoded) and version; qualifiers (?…)
// and subpath (#…) are dropped. ok is false for anything not starting pkg:.
func purlParts(p string) (base, version string, ok bool) {
	p = strings.TrimSpace(p)
	if len(p) < 4 || !strings.EqualFold(p[:4], "pkg:") {
		return "", "", false
	}
	if i := strings.IndexByte(p, '#'); i >= 0 {
		p = p[:i]
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if at, slash := strings.LastIndexByte(p, '@'), strings.LastIndexByte(p, '/'); at > slash {
		p, version = p[:at], p[at+1:]
	}
	rest := strings.TrimLeft(p[4:], "/")
	typ, path, _ := strings.Cut(rest, "/")
	if typ == "" || path == "" {
		return "", "", false
	}
	if u, err := url.PathUnescape(path); err == nil {
		path = u
	}
	if u, err := url.PathUnescape(version); err == nil {
		version = u
	}
	return "pkg:" + strings.ToLower(typ) + "/" + path, version, true
}

// PURLMatch reports whether pattern (from a VEX statement) names the package
// purl (from a finding): the same type, namespace and name, and the same
// version unless pattern gives none. Qualifiers such as ?arch= and
// ?distro= are ignored on both sides.
func PURLMatch(pattern, purl string) bool {
	pb, pv, ok1 := purlParts(pattern)
	fb, fv, ok2 := purlParts(purl)
	if !ok1 || !ok2 || pb != fb {
		return false
	}
	return pv == "" || pv == fv
}
