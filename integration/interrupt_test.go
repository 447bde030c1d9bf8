//go:build integration

package integration

import (
	"bytes"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// stallProxy passes requests to a registry until one blob upload has
// started, then holds every further upload session's start (its POST)
// until its client goes away: a copy that hangs half-way, with one blob of
// several confirmed, for a Ctrl-C to stop. Blobs go up together, so the
// hold is what makes "one" exact.
type stallProxy struct {
	Host     string
	mu       sync.Mutex
	started  bool          // the first session went through
	held     int           // sessions held
	finished int           // blobs committed (PUT answered 201)
	open     bool          // let every upload through
	stalled  chan struct{} // closed once a session is held and a blob is in
	once     sync.Once
}

func startStallProxy(t *testing.T, upstream string) *stallProxy {
	t.Helper()
	sp := &stallProxy{stalled: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream})
	sp.Host = serveLocal(t, "stall proxy", func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.Path, "/blobs/uploads/") {
				rp.ServeHTTP(w, r)
				return
			}
			if r.Method == http.MethodPost {
				sp.mu.Lock()
				hold := sp.started && !sp.open
				sp.started = true
				if hold {
					sp.held++
				}
				sp.signal()
				sp.mu.Unlock()
				if hold {
					<-r.Context().Done()
					return
				}
			}
			rec := &statusRecorder{ResponseWriter: w}
			rp.ServeHTTP(rec, r)
			if r.Method == http.MethodPut && rec.status == http.StatusCreated {
				sp.mu.Lock()
				sp.finished++
				sp.signal()
				sp.mu.Unlock()
			}
		})
	})
	return sp
}

// signal closes stalled once a session is held and a blob committed; the
// caller holds mu.
func (sp *stallProxy) signal() {
	if sp.held > 0 && sp.finished > 0 {
		sp.once.Do(func() { close(sp.stalled) })
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// Ctrl-C during a copy: promote stops at once, says what it really did
// (one blob of two, nothing tagged or recorded), exits 130, and the same
// command run again finishes the promotion.
func TestInterruptedCopySaysWhatItDid(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	sp := startStallProxy(t, p.B.Host)
	p.B = &registry{Host: sp.Host, Dir: p.B.Dir}
	p.config = p.writeConfig(p.config, []string{"labels: {}"}, []string{"labels: {}"})
	dev := p.repo("dev", "web")
	p.pushImage(dev+":1.0", image{Version: "1.0"})
	p.mustPromote(0, "to", "test", "web:1.0")

	args := []string{"--config", p.config, "--jobs", "1", "to", "prod", "web"}
	cmd := exec.Command(p.tools.promote, args...)
	var out, errOut bytes.Buffer
	cmd.Dir, cmd.Stdout, cmd.Stderr = p.dir, &out, &errOut
	cmd.Env = append(toolEnv(p.home), insecureRegistryEnv())
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting promote: %v", err)
	}
	select {
	case <-sp.stalled:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the copy never reached its second blob:\n%s", errOut.String())
	}
	sent := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("sending SIGINT: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("promote did not stop within 30 s of SIGINT:\n%s", errOut.String())
	}
	collectCommand(p.tools.promote, args, out.String(), errOut.String())
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit code after SIGINT %d, expected 130:\n%s%s", code, out.String(), errOut.String())
	}
	t.Logf("stopped %.2fs after SIGINT", time.Since(sent).Seconds())
	for _, want := range []string{"interrupted (interrupt) while promoting web to prod",
		"stopped during the copy with 1 of 2 blobs confirmed in the target", "nothing tagged or recorded", "run the same command again to finish"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr should say %q:\n%s", want, errOut.String())
		}
	}
	if strings.Contains(out.String(), "copied    2 blobs") {
		t.Errorf("the output claims a copy that did not finish:\n%s", out.String())
	}
	if tags := p.tags(p.repo("prod", "web")); len(tags) != 0 {
		t.Errorf("an interrupted copy tagged %v in prod", tags)
	}
	if n := len(p.history("web", "--env", "prod")); n != 0 {
		t.Errorf("an interrupted copy recorded %d records in prod", n)
	}

	sp.mu.Lock()
	sp.open = true
	sp.mu.Unlock()
	p.mustPromote(0, "to", "prod", "web")
	if n := len(p.history("web", "--env", "prod")); n != 1 {
		t.Errorf("the re-run should record the promotion: %d records", n)
	}
	p.verifyLedger()
}
