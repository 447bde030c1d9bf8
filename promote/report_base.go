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

// reportBases fills ri's bases: each platform's base as the base gate
// proved it at promotion (its evidence in the promotion record), else as
// the image's OCI base annotations name it, checked against the layers;
// then, for a base named by tag, what that tag names now, or the newest
// tag of its version line (3.19.4 for 3.19.1). A newer base is
// a stale finding (amber), with how many days it is behind; a base past
// env's maxBaseAge an old one.
func (e *Engine) reportBases(ctx context.Context, env *config.Environment, app string, ri *RunningImage, subj *gates.Subject, now time.Time) error {
	proven, err := e.provenBases(ctx, env, app, ri.Digest, subj)
	if err != nil {
		return err
	}
	src := gateSource{names: e.reg, rd: e.rd}
	var stale, old []string
	var behind float64
	for _, b := range proven {
		if b.Created != nil {
			age := days(now.Sub(*b.Created))
			b.AgeDays = &age
			if now.Sub(*b.Created) > env.MaxBaseAge {
				old = append(old, fmt.Sprintf("%s (%s, %.0f days)", b.Base, b.Platform, age))
			}
		}
		if tag := baseTag(b, subj); tag != "" {
			if strings.Contains(b.Base, "@") {
				b.Base = tag // named as the image names it; Digest keeps what was proven
			}
			if line, err := newerInLine(ctx, src, tag); err != nil {
				b.Error = fmt.Sprintf("listing the tags of %s: %v", tag, err)
			} else if line != "" {
				tag = line // a newer version of the same line supersedes the tag
			}
			d, created, err := gates.BaseAt(ctx, src, tag, platformOf(b.Platform))
			switch {
			case err != nil:
				b.Error = fmt.Sprintf("reading %s now: %v", tag, err)
			case d.String() != b.Digest:
				c := created.UTC()
				b.Newer, b.NewerTag, b.NewerCreated = d.String(), tag, &c
				if b.Created != nil {
					n := days(created.Sub(*b.Created))
					b.DaysBehind = &n
					behind = max(behind, n)
				}
				stale = append(stale, fmt.Sprintf("%s names %s (%s)", tag, d, b.Platform))
			}
		}
		ri.Bases = append(ri.Bases, b)
	}
	if len(stale) > 0 {
		ri.Findings = append(ri.Findings, Finding{Kind: FindingStale,
			Reason:   fmt.Sprintf("built on a base with a newer image under its tag or version line, %.0f days newer: %s; rebuild on it", behind, strings.Join(stale, "; ")),
			Evidence: map[string]any{"daysBehind": behind, "base": stale}})
	}
	if len(old) > 0 {
		ri.Findings = append(ri.Findings, Finding{Kind: FindingOld,
			Reason:   fmt.Sprintf("built on a base older than %s's maxBaseAge of %.0f days: %s; rebuild on a patched base", env.Name, days(env.MaxBaseAge), strings.Join(old, "; ")),
			Evidence: map[string]any{"base": old, "maxBaseAgeDays": days(env.MaxBaseAge)}})
	}
	return nil
}

// provenBases is each platform's base: from the base gate's evidence in
// the promotion of digest into env, else proven now from the image's base
// annotations. None when neither proves one.
func (e *Engine) provenBases(ctx context.Context, env *config.Environment, app, digest string, subj *gates.Subject) ([]BaseRun, error) {
	recs, err := e.led.Records(ctx, ledger.Query{App: app, Env: env.Name, Kinds: []ledger.Kind{ledger.KindPromotion}, Digest: digest, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	if len(recs) == 1 {
		if out := gateBases(recs[0].Gates); len(out) > 0 {
			return out, nil
		}
	}
	src := gateSource{names: e.reg, rd: e.rd}
	var out []BaseRun
	for _, img := range subj.Images {
		index := []byte(nil)
		if subj.Manifest != nil && img.Digest != subj.Digest {
			index = subj.Manifest
		}
		p, problem, err := gates.AnnotatedBase(ctx, src, img, index)
		if err != nil {
			return append(out, BaseRun{Platform: gates.PlatformName(img), Error: err.Error()}), nil
		}
		if problem != "" {
			continue
		}
		c := p.Created.UTC()
		out = append(out, BaseRun{Platform: subj.ImageName(img), Base: orTag(p), Digest: p.Digest.String(), Created: &c})
	}
	return out, nil
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
