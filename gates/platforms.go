package gates

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/promote-dev/promote/gates/verdict"
)

// PlatformsConfig is the platforms gate's configuration.
type PlatformsConfig struct {
	// Require lists os/arch[/variant] the image must provide.
	Require []string `yaml:"require"`
	// Only, when true, refuses platforms beyond Require.
	Only bool `yaml:"only"`
}

type platformsGate struct {
	require []string
	only    bool
}

func init() {
	Register("platforms", func(s Settings) (Gate, error) {
		var c PlatformsConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return NewPlatforms(c)
	})
}

// NewPlatforms validates the configuration and builds the gate.
func NewPlatforms(c PlatformsConfig) (Gate, error) {
	if len(c.Require) == 0 {
		return nil, fmt.Errorf("require: list the platforms the image must provide, such as [linux/amd64, linux/arm64]")
	}
	for _, p := range c.Require {
		parts := strings.Split(p, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("require: %q is not os/arch[/variant]", p)
		}
	}
	return platformsGate{require: c.Require, only: c.Only}, nil
}

// Evaluate passes when every required platform is present (and, with only,
// nothing else is).
func (g platformsGate) Evaluate(_ context.Context, s *Subject) (Verdict, error) {
	have := map[string]bool{}
	var list []string
	for _, img := range s.Images {
		p := PlatformName(img)
		have[p] = true
		list = append(list, p)
		if img.Platform != nil && img.Platform.Variant != "" {
			have[img.Platform.OS+"/"+img.Platform.Architecture] = true // linux/arm64 is met by linux/arm64/v8
		}
	}
	sort.Strings(list)
	want := map[string]bool{}
	var missing, extra []string
	for _, p := range g.require {
		want[p] = true
		if !have[p] {
			missing = append(missing, p)
		}
	}
	if g.only {
		for _, p := range list {
			if !want[p] && !want[osArch(p)] {
				extra = append(extra, p)
			}
		}
	}
	ev := map[string]any{"platforms": list, "required": g.require, "images": s.Judged()}
	switch {
	case len(missing) > 0:
		ev["missing"] = missing
		return Verdict{Name: "platforms", Verdict: verdict.Fail, Reason: fmt.Sprintf("missing platform %s (has %s)", strings.Join(missing, ", "), strings.Join(list, ", ")), Evidence: ev}, nil
	case len(extra) > 0:
		ev["unexpected"] = extra
		return Verdict{Name: "platforms", Verdict: verdict.Fail, Reason: "platforms beyond those allowed: " + strings.Join(extra, ", "), Evidence: ev}, nil
	}
	return Verdict{Name: "platforms", Verdict: verdict.Pass, Reason: "provides " + strings.Join(list, ", "), Evidence: ev}, nil
}

// osArch drops a variant: linux/arm64/v8 → linux/arm64.
func osArch(p string) string {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 {
		return p
	}
	return parts[0] + "/" + parts[1]
}
