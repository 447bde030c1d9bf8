package gates

import (
	"regexp"
	"strings"

	"github.com/promote-dev/promote/gates/vuln"
)

// vexSource is one configured OpenVEX document.
type vexSource struct {
	name string
	doc  *vuln.VEXDocument
}

// vexStatement is a statement and the document it came from.
type vexStatement struct {
	*vuln.VEXStatement
	doc string
}

// digestHexes holds the hex of every digest of the subject: the index, each
// platform's manifest and config.
type digestHexes map[string]bool

func (refs subjectRefs) hexes() digestHexes {
	out := digestHexes{}
	add := func(d string) {
		if _, h, ok := strings.Cut(d, ":"); ok {
			out[strings.ToLower(h)] = true
		}
	}
	add(refs.index)
	for _, p := range refs.platforms {
		add(p.manifest)
		for _, c := range p.configs {
			add(c)
		}
	}
	return out
}

// digestInID finds sha256 digests in identifiers such as
// pkg:oci/web@sha256%3A<hex> or registry/web@sha256:<hex>.
var digestInID = regexp.MustCompile(`(?i)sha256(?::|%3a)([0-9a-f]{64})`)

var bareHex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// vexFor returns the statement that decides finding f, or nil: among the
// statements of every document whose vulnerability names f and whose
// products apply to f, the one with the latest timestamp, the later one in
// configuration order on a tie. So an `affected` issued after a
// `not_affected` takes the suppression back. A statement names f when its
// vulnerability's name or @id is f's own id; with matchAliases, any of its
// names (aliases included) may equal f's id or one of f's aliases.
func (p scanPolicy) vexFor(f vuln.Finding, subject digestHexes) *vexStatement {
	var best *vexStatement
	names := p.findingNames(f)
	for _, src := range p.vex {
		for i := range src.doc.Statements {
			st := &src.doc.Statements[i]
			if !namesMatch(p.statementNames(st.Vulnerability), names) || !productsApply(st.Products, f, subject) {
				continue
			}
			if best == nil || !st.Timestamp.Before(best.Timestamp) {
				best = &vexStatement{VEXStatement: st, doc: src.name}
			}
		}
	}
	return best
}

// statementNames are the ids of a statement's vulnerability that may match:
// its name and @id, and its aliases with matchAliases.
func (p scanPolicy) statementNames(v vuln.VEXVulnerability) []string {
	if p.matchAliases {
		return v.Names()
	}
	return []string{v.Name, v.ID}
}

// productsApply reports whether a statement's products cover finding f:
//   - no products: the statement covers every finding;
//   - a product naming a digest (in @id, purl or hashes) covers f only when
//     that digest is the subject's (index, platform manifest or config); then
//     without subcomponents it covers every finding, and with subcomponents
//     only findings whose package purl one of them names;
//   - a product naming no digest covers findings whose purl one of its
//     subcomponents names, or, without subcomponents, whose purl it names itself.
//
// Purls are compared without qualifiers; a purl without a version names every version.
func productsApply(products []vuln.VEXProduct, f vuln.Finding, subject digestHexes) bool {
	if len(products) == 0 {
		return true
	}
	for _, prod := range products {
		hexes := productDigests(prod.VEXComponent)
		if len(hexes) > 0 {
			if !anyIn(hexes, subject) {
				continue
			}
			if len(prod.Subcomponents) == 0 || componentsName(prod.Subcomponents, f) {
				return true
			}
			continue
		}
		if len(prod.Subcomponents) > 0 {
			if componentsName(prod.Subcomponents, f) {
				return true
			}
			continue
		}
		if componentsName([]vuln.VEXComponent{prod.VEXComponent}, f) {
			return true
		}
	}
	return false
}

func productDigests(c vuln.VEXComponent) []string {
	var out []string
	for _, id := range []string{c.ID, c.PURL} {
		for _, m := range digestInID.FindAllStringSubmatch(id, -1) {
			out = append(out, strings.ToLower(m[1]))
		}
	}
	for _, h := range c.Hashes {
		if bareHex.MatchString(h) {
			out = append(out, strings.ToLower(h))
		}
	}
	return out
}

func anyIn(hexes []string, set digestHexes) bool {
	for _, h := range hexes {
		if set[h] {
			return true
		}
	}
	return false
}

// componentsName reports whether one of cs names f's package by purl.
func componentsName(cs []vuln.VEXComponent, f vuln.Finding) bool {
	if f.PURL == "" {
		return false
	}
	for _, c := range cs {
		if vuln.PURLMatch(c.ID, f.PURL) || vuln.PURLMatch(c.PURL, f.PURL) {
			return true
		}
	}
	return false
}
