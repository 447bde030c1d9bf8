package gates

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/promote-dev/promote/gates/verdict"
)

// MaxAgeConfig is the maxAge gate's configuration.
type MaxAgeConfig struct {
	// Max is the oldest an image may be, by its config's created time.
	Max Duration `yaml:"max"`
}

type maxAgeGate struct{ max time.Duration }

func init() {
	Register("maxAge", func(s Settings) (Gate, error) {
		var c MaxAgeConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		if c.Max <= 0 {
			return nil, fmt.Errorf("max: required, such as 30d")
		}
		return maxAgeGate{max: time.Duration(c.Max)}, nil
	})
}

// epochLimit: a created time before this is a reproducible build's fixed
// timestamp (SOURCE_DATE_EPOCH=0, ko, bazel), not a build date.
var epochLimit = time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC)

// Evaluate passes when every platform was built within max of the judging time.
func (g maxAgeGate) Evaluate(_ context.Context, s *Subject) (Verdict, error) {
	created := map[string]string{}
	var bad []string
	oldest := time.Duration(0)
	for _, img := range s.Images {
		p := s.ImageName(img)
		var c time.Time
		if img.Config != nil {
			c = img.Config.Created.Time
		}
		switch {
		case c.IsZero():
			bad = append(bad, p+" has no created time")
			continue
		case c.Before(epochLimit):
			created[p] = c.UTC().Format(time.RFC3339)
			bad = append(bad, fmt.Sprintf("%s created %s: a fixed reproducible-build timestamp says nothing of its age", p, c.UTC().Format("2006-01-02")))
			continue
		}
		created[p] = c.UTC().Format(time.RFC3339)
		age := s.Now.Sub(c)
		if age > oldest {
			oldest = age
		}
		if age > g.max {
			bad = append(bad, fmt.Sprintf("%s is %s old", p, Age(age)))
		}
	}
	ev := map[string]any{"created": created, "max": Duration(g.max).String(), "images": s.Judged()}
	if len(bad) > 0 {
		return Verdict{Name: "maxAge", Verdict: verdict.Fail, Reason: strings.Join(bad, "; ") + fmt.Sprintf(" (max %s)", Duration(g.max)), Evidence: ev}, nil
	}
	ev["age"] = Age(oldest)
	return Verdict{Name: "maxAge", Verdict: verdict.Pass, Reason: fmt.Sprintf("built %s ago, within %s", Age(oldest), Duration(g.max)), Evidence: ev}, nil
}
