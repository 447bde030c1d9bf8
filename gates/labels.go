package gates

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/promote-dev/promote/gates/verdict"
)

// LabelsConfig is the labels gate's configuration.
type LabelsConfig struct {
	// Require lists labels every platform must carry with a non-empty value.
	Require []string `yaml:"require"`
}

// DefaultRequiredLabels trace an image to its source and commit.
var DefaultRequiredLabels = []string{"org.opencontainers.image.source", "org.opencontainers.image.revision"}

type labelsGate struct{ require []string }

func init() {
	Register("labels", func(s Settings) (Gate, error) {
		var c LabelsConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return NewLabels(c)
	})
}

// NewLabels builds the labels gate; an empty Require means DefaultRequiredLabels.
func NewLabels(c LabelsConfig) (Gate, error) {
	req := c.Require
	if len(req) == 0 {
		req = DefaultRequiredLabels
	}
	for _, l := range req {
		if strings.TrimSpace(l) == "" {
			return nil, fmt.Errorf("require: empty label name")
		}
	}
	return labelsGate{require: req}, nil
}

// Evaluate passes when every platform carries every required label.
func (g labelsGate) Evaluate(_ context.Context, s *Subject) (Verdict, error) {
	missing := map[string][]string{} // label -> platforms lacking it
	for _, img := range s.Images {
		var labels map[string]string
		if img.Config != nil {
			labels = img.Config.Config.Labels
		}
		for _, l := range g.require {
			if strings.TrimSpace(labels[l]) == "" {
				missing[l] = append(missing[l], s.ImageName(img))
			}
		}
	}
	ev := map[string]any{"required": g.require, "platforms": len(s.Images), "images": s.Judged()}
	if len(missing) == 0 {
		return Verdict{Name: "labels", Verdict: verdict.Pass, Reason: fmt.Sprintf("all %d required labels present on %d platform(s)", len(g.require), len(s.Images)), Evidence: ev}, nil
	}
	names := make([]string, 0, len(missing))
	for l := range missing {
		names = append(names, l)
	}
	sort.Strings(names)
	ev["missing"] = names
	return Verdict{Name: "labels", Verdict: verdict.Fail, Reason: fmt.Sprintf("missing label %s on %s", strings.Join(names, ", "), strings.Join(missing[names[0]], ", ")), Evidence: ev}, nil
}

// PlatformName renders an image's platform as os/arch[/variant], or its digest.
func PlatformName(img Image) string {
	if img.Platform == nil || img.Platform.OS == "" {
		return img.Digest.String()
	}
	s := img.Platform.OS + "/" + img.Platform.Architecture
	if img.Platform.Variant != "" {
		s += "/" + img.Platform.Variant
	}
	return s
}
