//go:build integration

package integration

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// runAll starts every command at once (released together) and waits for all.
func (p *pipeline) runAll(cmds [][]string) []cmdResult {
	out := make([]cmdResult, len(cmds))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, args := range cmds {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = p.promote(args...)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// Two processes race to write the same immutable tag for two different
// digests: exactly one wins (exit 0), the other gets a conflict (exit 4) and
// writes nothing; the tag names the winner's digest.
func TestSameTagRaceBetweenProcesses(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			t.Parallel()
			p := newPipeline(t)
			dev, test := p.repo("dev", "web"), p.repo("test", "web")
			digests := map[string]string{
				"a": p.pushImage(dev+":a", image{Version: "1.0"}),
				"b": p.pushImage(dev+":b", image{Version: "1.0"}),
			}
			rs := p.runAll([][]string{
				{"to", "test", "web:a", "--tag", "release"},
				{"to", "test", "web:b", "--tag", "release"},
			})
			names := []string{"a", "b"}
			var winner, loser = -1, -1
			for i, r := range rs {
				switch r.Code {
				case 0:
					if winner >= 0 {
						t.Errorf("both processes succeeded: an immutable tag was written twice\n%s\n%s", rs[0], rs[1])
					}
					winner = i
				case 4:
					loser = i
				default:
					t.Errorf("expected exit 0 or 4 from each racer, got:\n%s", r)
				}
			}
			if winner < 0 || loser < 0 {
				t.Fatalf("expected exactly one winner (exit 0) and one loser (exit 4):\n%s\n%s", rs[0], rs[1])
			}
			win, lose := names[winner], names[loser]
			if got := p.digest(test + ":release"); got != digests[win] {
				t.Errorf("test:release names %s, expected the winner's (%s) digest %s", got, win, digests[win])
			}
			if !strings.Contains(rs[loser].Stderr, "release") {
				t.Errorf("the loser's conflict message should name the tag release:\n%s", rs[loser])
			}
			if p.hasTag(test, lose) {
				t.Errorf("the loser (%s) got a conflict, yet its tag %s was written to test: %v", lose, lose, p.tags(test))
			}
			if p.hasManifest(test, digests[lose]) {
				t.Errorf("the loser's (%s) manifest %s was written to test despite the conflict", lose, digests[lose])
			}
			for _, r := range p.history("web", "--env", "test", "--kind", "promotion") {
				if r.Digest != digests[win] {
					t.Errorf("the loser's digest %s was recorded as a promotion in test: %+v", digests[lose], r)
				}
			}
			if cur := p.mustPromote(0, "current", "test", "web"); cur.Stdout != test+"@"+digests[win]+"\n" {
				t.Errorf("current test web printed %q, expected the winner's digest %s", cur.Stdout, digests[win])
			}
			p.verifyLedger()
		})
	}
}
