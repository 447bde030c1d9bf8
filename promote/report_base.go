package promote

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// reportBases fills ri's bases: each platform's base as a base gate
// proved it at a promotion of this digest (its evidence, in any
// environment), else as the image's OCI base annotations name it when a
// base gate of the configuration approves that repository, proven against
// the layers (an image cannot send the report to a registry it names);
// then, for a base named by tag, what that tag names now, or the newest
// tag of its version line (3.19.4 for 3.19.1). A base built later than the
// one the image runs on is a stale finding (amber), with how many days it
// is behind; a base past env's maxBaseAge an old one. What cannot be read
// or proven is said in ri.Unknown (amber).
func (e *Engine) reportBases(ctx context.Context, env *config.Environment, ri *RunningImage, subj *gates.Subject, proms []ledger.Record, now time.Time) {
	proven := provenByGate(proms)
	if len(proven) == 0 {
		proven = e.annotatedBases(ctx, ri, subj)
	}
	src := gateSource{names: e.reg, rd: e.rd}
	var stale, old []string
	var behind float64
	for _, b := range proven {
		tag := baseTag(b, subj)
		if tag != "" && strings.Contains(b.Base, "@") {
			b.Base = tag // named as the image names it; Digest keeps what was proven
		}
		if b.Created != nil {
			age := days(now.Sub(*b.Created))
			b.AgeDays = &age
			if now.Sub(*b.Created) > env.MaxBaseAge {
				old = append(old, fmt.Sprintf("%s (%s, %.0f days)", b.Base, b.Platform, age))
			}
		}
		if tag != "" {
			e.newerBase(ctx, src, tag, &b)
			if b.Error != "" {
				ri.Unknown = append(ri.Unknown, fmt.Sprintf("base %s (%s): %s", b.Base, b.Platform, b.Error))
			}
			if b.DaysBehind != nil {
				behind = max(behind, *b.DaysBehind)
				stale = append(stale, fmt.Sprintf("%s names %s (%s)", b.NewerTag, b.Newer, b.Platform))
			}
		}
		ri.Bases = append(ri.Bases, b)
	}
	if len(stale) > 0 {
		ri.Findings = append(ri.Findings, Finding{Kind: FindingStale, Of: "base",
			Reason:   fmt.Sprintf("built on a base with a newer image under its tag or version line, %.0f days newer: %s; rebuild on it", behind, strings.Join(stale, "; ")),
			Evidence: map[string]any{"daysBehind": behind, "base": stale}})
	}
	if len(old) > 0 {
		ri.Findings = append(ri.Findings, Finding{Kind: FindingOld, Of: "base",
			Reason:   fmt.Sprintf("built on a base older than %s's maxBaseAge of %.0f days: %s; rebuild on a patched base", env.Name, days(env.MaxBaseAge), strings.Join(old, "; ")),
			Evidence: map[string]any{"base": old, "maxBaseAgeDays": days(env.MaxBaseAge)}})
	}
}

// newerBase reads what tag (or the newest tag of its version line) names
// now for b's platform, and notes it on b when it is another image built
// later than b's: a tag moved to an older build is no newer base.
func (e *Engine) newerBase(ctx context.Context, src gates.Source, tag string, b *BaseRun) {
	if line, err := newerInLine(ctx, src, tag); err != nil {
		b.Error = fmt.Sprintf("listing the tags of %s: %v", tag, err)
	} else if line != "" {
		tag = line // a newer version of the same line supersedes the tag
	}
	d, created, err := gates.BaseAt(ctx, src, tag, platformOf(b.Platform))
	switch {
	case err != nil:
		b.Error = fmt.Sprintf("reading %s now: %v", tag, err)
	case d.String() == b.Digest:
	case b.Created == nil || created.IsZero():
		b.Error = fmt.Sprintf("%s now names %s, but a creation time is missing, so which is newer is unknown", tag, d)
	case created.After(*b.Created):
		c, n := created.UTC(), days(created.Sub(*b.Created))
		b.Newer, b.NewerTag, b.NewerCreated, b.DaysBehind = d.String(), tag, &c, &n
	}
}

// provenByGate is each platform's base from the base gate's evidence of
// the first promotion of the digest (proms, newest first; any environment)
// whose base gate passed.
func provenByGate(proms []ledger.Record) []BaseRun {
	for _, r := range proms {
		if out := gateBases(r.Gates); len(out) > 0 {
			return out
		}
	}
	return nil
}

// annotatedBases proves each platform's base from its OCI base
// annotations, where a base gate of the configuration approves the
// repository they name; others are noted in ri.Unknown, unread.
func (e *Engine) annotatedBases(ctx context.Context, ri *RunningImage, subj *gates.Subject) []BaseRun {
	src := gateSource{names: e.reg, rd: e.rd}
	var out []BaseRun
	for _, img := range subj.Images {
		index := []byte(nil)
		if subj.Manifest != nil && img.Digest != subj.Digest {
			index = subj.Manifest
		}
		named, ok := gates.AnnotatedBaseName(img, index)
		if !ok {
			continue
		}
		if !e.approvedBase(named) {
			ri.Unknown = append(ri.Unknown, fmt.Sprintf("%s names base %s, in no repository a base gate approves: not read", gates.PlatformName(img), named))
			continue
		}
		p, problem, err := gates.AnnotatedBase(ctx, src, img, index)
		switch {
		case err != nil:
			ri.Unknown = append(ri.Unknown, fmt.Sprintf("%s: reading base %s: %v", gates.PlatformName(img), named, err))
		case problem != "":
			ri.Unknown = append(ri.Unknown, fmt.Sprintf("%s: base %s not proven: %s", gates.PlatformName(img), named, problem))
		default:
			c := p.Created.UTC()
			out = append(out, BaseRun{Platform: subj.ImageName(img), Base: orTag(p), Digest: p.Digest.String(), Created: &c})
		}
	}
	return out
}

// approvedBase reports whether some base gate of the configuration
// approves the repository of ref.
func (e *Engine) approvedBase(ref string) bool {
	r, err := name.ParseReference(ref)
	if err != nil {
		return false
	}
	for _, env := range e.cfg.Environments {
		for _, g := range env.Gates {
			if g.Kind == "base" && gates.BaseApproves(g.Gate, r.Context().Name()) {
				return true
			}
		}
	}
	return false
}

// gateBases reads the base gate's evidence of a passed verdict.
func gateBases(gs []verdict.Result) []BaseRun {
	for _, g := range gs {
		if g.Name != "base" || !g.Passed() {
			continue
		}
		raw, err := json.Marshal(g.Evidence["platforms"])
		if err != nil {
			return nil
		}
		var evs []struct{ Platform, Base, Digest, Created string }
		if json.Unmarshal(raw, &evs) != nil {
			return nil
		}
		var out []BaseRun
		for _, ev := range evs {
			b := BaseRun{Platform: ev.Platform, Base: ev.Base, Digest: ev.Digest}
			if t, err := time.Parse(time.RFC3339, ev.Created); err == nil {
				b.Created = &t
			}
			out = append(out, b)
		}
		return out
	}
	return nil
}

// orTag names a proven base by its tag when the annotations named one.
func orTag(p gates.BaseProof) string {
	if p.Tag != "" {
		return p.Tag
	}
	return p.Ref
}

// baseTag is the repo:tag the base of b was named by, read now for a newer
// base: b's own name when it is a tag, else the base annotation of its
// platform image (or of the index); "" when only a digest names it.
func baseTag(b BaseRun, subj *gates.Subject) string {
	if r, err := name.ParseReference(b.Base); err == nil {
		if t, ok := r.(name.Tag); ok && !strings.Contains(b.Base, "@") {
			return t.Name()
		}
	}
	for _, img := range subj.Images {
		if subj.ImageName(img) != b.Platform && gates.PlatformName(img) != b.Platform {
			continue
		}
		for _, raw := range [][]byte{img.Manifest, subj.Manifest} {
			var m struct {
				Annotations map[string]string `json:"annotations"`
			}
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			if r, err := name.ParseReference(m.Annotations[gates.AnnotationBaseName]); err == nil {
				if t, ok := r.(name.Tag); ok {
					return t.Name()
				}
			}
		}
	}
	return ""
}

// platformOf reads a platform as evidence names it ("linux/arm64", maybe
// followed by "@digest"); nil when it names none.
func platformOf(s string) *v1.Platform {
	s, _, _ = strings.Cut(s, "@")
	if strings.HasPrefix(s, "sha256:") || s == "" {
		return nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return nil
	}
	return p
}
