package gates

import (
	"context"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/gates/verdict"
)

// NonrootConfig is the nonroot gate's configuration (no fields yet).
type NonrootConfig struct{}

type nonrootGate struct{}

func init() {
	Register("nonroot", func(s Settings) (Gate, error) {
		var c NonrootConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return nonrootGate{}, nil
	})
}

// isRoot reports whether a config User runs as root: empty, "root", "0",
// or either with a group ("0:0", "root:wheel").
func isRoot(user string) bool {
	u := strings.TrimSpace(user)
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u == "" || u == "root" || u == "0"
}

// Evaluate passes when every platform's config sets a User that is not root.
func (nonrootGate) Evaluate(_ context.Context, s *Subject) (Verdict, error) {
	users := map[string]string{}
	var bad []string
	for _, img := range s.Images {
		user := ""
		if img.Config != nil {
			user = img.Config.Config.User
		}
		p := s.ImageName(img)
		users[p] = user
		if isRoot(user) {
			shown := user
			if shown == "" {
				shown = "unset"
			}
			bad = append(bad, fmt.Sprintf("%s (user %s)", p, shown))
		}
	}
	ev := map[string]any{"users": users, "images": s.Judged()}
	if len(bad) > 0 {
		return Verdict{Name: "nonroot", Verdict: verdict.Fail, Reason: "runs as root on " + strings.Join(bad, ", ") + "; set USER to a non-root uid", Evidence: ev}, nil
	}
	return Verdict{Name: "nonroot", Verdict: verdict.Pass, Reason: fmt.Sprintf("runs as a non-root user on %d platform(s)", len(s.Images)), Evidence: ev}, nil
}
