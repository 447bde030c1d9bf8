package gates

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/promote-dev/promote/gates/vuln"
)

// sourceFindings is what one scan source gathered for a subject: its
// reports, or why it has none.
type sourceFindings struct {
	source  string
	missing string // set when the source had nothing to judge; the gate fails with it
	reports []namedReport
}

type namedReport struct {
	name   string
	report *vuln.Report
}

// platformRef is one platform image's identity: its manifest digest and its
// config digest(s) (from the manifest's config descriptor and from the config
// bytes; they agree for a well-formed image).
type platformRef struct {
	name     string
	manifest string
	configs  []string
}

// subjectRefs are the digests a report may bind to.
type subjectRefs struct {
	index     string
	platforms []platformRef
}

func refsOf(s *Subject) subjectRefs {
	refs := subjectRefs{index: s.Digest.String()}
	for _, img := range s.Images {
		refs.platforms = append(refs.platforms, platformRef{name: PlatformName(img), manifest: img.Digest.String(), configs: configDigests(img)})
	}
	if len(refs.platforms) == 0 { // nothing fetched per platform: the subject itself must be scanned
		refs.platforms = []platformRef{{name: refs.index, manifest: refs.index}}
	}
	return refs
}

func configDigests(img Image) []string {
	var out []string
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if json.Unmarshal(img.Manifest, &m) == nil && m.Config.Digest != "" {
		out = append(out, m.Config.Digest)
	}
	if len(img.ConfigRaw) > 0 {
		sum := sha256.Sum256(img.ConfigRaw)
		if d := "sha256:" + hex.EncodeToString(sum[:]); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// binding is how one report relates to the subject.
type binding struct {
	unbound bool          // the report names no digest
	foreign *vuln.Digest  // a digest naming another image; the report is refused
	matched []vuln.Digest // digests that name the subject or one of its platforms
	covers  []int         // indices of the platforms the report scanned
}

// bind relates a report to the subject. A config digest identifies the
// content scanned exactly: it must be one platform's config, and it decides
// which platform is covered. Without one, a manifest digest equal to a
// platform's manifest covers that platform, and one equal to the index digest
// covers every platform. Manifest digests that match nothing (the same image
// under another repository's encoding) are tolerated when another digest
// matches; a report whose digests all miss is foreign.
func (refs subjectRefs) bind(r *vuln.Report) binding {
	var b binding
	if len(r.Digests) == 0 {
		b.unbound = true
		return b
	}
	cover := func(i int) {
		if !slices.Contains(b.covers, i) {
			b.covers = append(b.covers, i)
		}
	}
	index, byConfig := false, false
	for _, d := range r.Digests {
		hit := false
		for i, p := range refs.platforms {
			if d.Kind == vuln.ConfigDigest && slices.Contains(p.configs, d.Value) ||
				d.Kind == vuln.ManifestDigest && d.Value == p.manifest {
				cover(i)
				hit = true
				byConfig = byConfig || d.Kind == vuln.ConfigDigest
			}
		}
		if d.Kind == vuln.ManifestDigest && d.Value == refs.index {
			index, hit = true, true
		}
		switch {
		case hit:
			b.matched = append(b.matched, d)
		case d.Kind == vuln.ConfigDigest && b.foreign == nil:
			b.foreign = &d
		}
	}
	if b.foreign != nil {
		b.matched, b.covers = nil, nil
		return b
	}
	if len(b.matched) == 0 {
		b.foreign = &r.Digests[0]
		return b
	}
	if index && !byConfig && len(b.covers) == 0 {
		for i := range refs.platforms {
			cover(i)
		}
	}
	slices.Sort(b.covers)
	return b
}

// boundReport is a report accepted for judging.
type boundReport struct {
	namedReport
	source string
	b      binding
}

// bindSource binds every report of a source and checks that together they
// cover every platform. It returns the reports accepted and, one line each,
// why the source fails (a foreign or unbound report, an uncovered platform).
func bindSource(refs subjectRefs, sf sourceFindings, allowUnbound, sayWhich bool) ([]boundReport, []string) {
	if sf.missing != "" {
		return nil, []string{sf.missing}
	}
	var bound []boundReport
	var problems []string
	covered := make([]bool, len(refs.platforms))
	for _, nr := range sf.reports {
		b := refs.bind(nr.report)
		switch {
		case b.foreign != nil:
			problems = append(problems, fmt.Sprintf("scan report %s names %s (%s), not this image", nr.name, b.foreign.Value, b.foreign.Field))
			continue
		case b.unbound && !allowUnbound:
			problems = append(problems, fmt.Sprintf("scan report %s is not bound to any digest (it names none; allowUnbound accepts such reports)", nr.name))
			continue
		case b.unbound:
			for i := range refs.platforms {
				b.covers = append(b.covers, i)
			}
		}
		for _, i := range b.covers {
			covered[i] = true
		}
		bound = append(bound, boundReport{namedReport: nr, source: sf.source, b: b})
	}
	for i, ok := range covered {
		if !ok {
			msg := "no scan for " + refs.platforms[i].name
			if sayWhich {
				msg += " from source " + sf.source
			}
			problems = append(problems, msg)
		}
	}
	return bound, problems
}
