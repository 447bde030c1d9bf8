package gates

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/promote-dev/promote/gates/verdict"
)

// Evaluate passes when no platform's config Env, labels or build history
// holds a secret. Evidence names where and which rule matched, never the value.
func (g secretsGate) Evaluate(_ context.Context, s *Subject) (Verdict, error) {
	var found []finding
	for _, img := range s.Images {
		if img.Config == nil {
			continue
		}
		p := s.ImageName(img)
		for _, kv := range img.Config.Config.Env {
			name, value, _ := strings.Cut(kv, "=")
			if rule := g.check(name, value); rule != "" {
				found = append(found, finding{Platform: p, Where: "env", Name: name, Rule: rule})
			}
		}
		for name, value := range img.Config.Config.Labels {
			if rule := g.check(name, value); rule != "" {
				found = append(found, finding{Platform: p, Where: "label", Name: name, Rule: rule})
			}
		}
		for i, h := range img.Config.History {
			where := fmt.Sprintf("history[%d]", i)
			if rule := g.check("", h.CreatedBy); rule != "" {
				found = append(found, finding{Platform: p, Where: where, Rule: rule})
				continue
			}
			for _, m := range assignment.FindAllStringSubmatch(h.CreatedBy, -1) {
				if rule := g.check(m[1], m[2]); rule != "" {
					found = append(found, finding{Platform: p, Where: where, Name: m[1], Rule: rule})
					break
				}
			}
		}
	}
	sortFindings(found)
	ev := map[string]any{"platforms": len(s.Images), "images": s.Judged()}
	if len(found) == 0 {
		return Verdict{Name: "noSecretsInEnv", Verdict: verdict.Pass, Reason: fmt.Sprintf("no secrets in env, labels or history of %d platform(s)", len(s.Images)), Evidence: ev}, nil
	}
	ev["findings"] = found
	var names []string
	seen := map[string]bool{}
	for _, f := range found {
		label := f.Where
		if f.Name != "" {
			label += " " + f.Name
		}
		label += " (" + f.Rule + ")"
		if !seen[label] {
			seen[label] = true
			names = append(names, label)
		}
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return Verdict{Name: "noSecretsInEnv", Verdict: verdict.Fail, Reason: "secret-like values in " + strings.Join(names, ", ") + "; pass secrets at run time, not in the image", Evidence: ev}, nil
}

func sortFindings(f []finding) {
	sort.Slice(f, func(i, j int) bool {
		a, b := f[i], f[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Where != b.Where {
			return a.Where < b.Where
		}
		return a.Name < b.Name
	})
}
