package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// registry is one running CNCF distribution registry (Debian's
// docker-registry, distribution 2.8) on 127.0.0.1 with its own storage
// directory, started as integration/harness_test.go starts it, behind a
// front: the counting and timing proxy, and toxiproxy when the network case
// has latency. Its access log (stdout) is kept to count requests.
type registry struct {
	name   string
	dir    string // storage root and config; removed by stop
	direct string // the registry's own host:port (setup and checks only)
	Host   string // the front's host:port: what every tool is given
	proxy  *proxy // the front's timing proxy
	front  *front
	cmd    *exec.Cmd
	exited chan error
	log    string // access log path
}

func startRegistry(bin, parent, name string) (*registry, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		r, err := tryStartRegistry(bin, parent, name)
		if err == nil {
			return r, nil
		}
		last = err
	}
	return nil, fmt.Errorf("registry %s did not start after 5 attempts: %w", name, last)
}

// setFront puts a new front for network case n before the registry,
// closing the one before (its connections must have ended: drain first).
func (r *registry) setFront(n netCase, ids *atomic.Int64) error {
	if r.front != nil {
		r.front.close()
		r.front, r.proxy, r.Host = nil, nil, ""
	}
	f, err := openFront(r.direct, r.name, n, ids)
	if err != nil {
		return err
	}
	r.front, r.proxy, r.Host = f, f.proxy, f.Host()
	return nil
}

func tryStartRegistry(bin, parent, name string) (*registry, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp(parent, "registry-"+name+"-")
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), host)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	r := &registry{name: name, dir: dir, direct: host, log: filepath.Join(dir, "access.log"), exited: make(chan error, 1)}
	logf, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	r.cmd = exec.Command(bin, "serve", cfgPath)
	r.cmd.Stdout, r.cmd.Stderr = logf, errf
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-r.exited:
			r.exited <- err
			out, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
			r.stop()
			return nil, fmt.Errorf("registry %s on %s exited (%v): %s", name, host, err, out)
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return r, nil
		}
	}
	r.stop()
	return nil, fmt.Errorf("registry %s on %s did not answer GET /v2/ within 10s", name, host)
}

// stop kills the registry, closes its front and deletes its storage.
func (r *registry) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		err := <-r.exited
		r.exited <- err
	}
	if r.front != nil {
		r.front.close()
	}
	os.RemoveAll(r.dir)
}

// logSize is where the access log ends now: requests after it belong to
// what runs next.
func (r *registry) logSize() int64 {
	st, err := os.Stat(r.log)
	if err != nil {
		return 0
	}
	return st.Size()
}

// requests counts the access-log lines written since offset.
type requests struct {
	Total    int            `json:"total"`
	ByMethod map[string]int `json:"by_method"`
	Mounts   int            `json:"mounts"`    // POST ...?mount= answered 201: a blob mounted, not uploaded
	BlobPuts int            `json:"blob_puts"` // upload sessions completed (PUT .../blobs/uploads/... 201)
	Errors   int            `json:"errors"`    // 4xx/5xx other than 404 (a blob or tag the client probes for)
}

func (r *registry) requestsSince(offset int64) (requests, error) {
	rq := requests{ByMethod: map[string]int{}}
	f, err := os.Open(r.log)
	if err != nil {
		return rq, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return rq, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// combined log: IP - - [time] "METHOD /path HTTP/1.1" STATUS SIZE "ref" "agent"
		_, rest, ok := strings.Cut(sc.Text(), `"`)
		if !ok {
			continue
		}
		req, rest, _ := strings.Cut(rest, `"`)
		fields := strings.Fields(req)
		status := strings.Fields(rest)
		if len(fields) < 2 || len(status) < 1 {
			continue
		}
		method, path, code := fields[0], fields[1], status[0]
		rq.Total++
		rq.ByMethod[method]++
		switch {
		case method == "POST" && strings.Contains(path, "mount=") && code == "201":
			rq.Mounts++
		case method == "PUT" && strings.Contains(path, "/blobs/uploads/") && code == "201":
			rq.BlobPuts++
		}
		if code >= "400" && code != "404" {
			rq.Errors++
		}
	}
	return rq, sc.Err()
}

// saveLogs keeps, with -logs DIR, the access-log lines of a timed run of
// both registries, to see where a tool's requests went, and the timeline
// of its requests as the timing proxies saw them (see writeTimeline).
func (h *harness) saveLogs(rc *runCtx, res *runResult, srcOffset, tgtOffset int64, start time.Time, reqs []request, chain []int) {
	if h.opt.logs == "" {
		return
	}
	mode := strings.ReplaceAll(strings.ReplaceAll(res.Mode, "--", ""), " ", "")
	base := fmt.Sprintf("%s-%s-%s", res.Network, res.Case, res.Contender)
	if mode != "" {
		base += "-" + mode
	}
	base += fmt.Sprintf("-rep%d", res.Rep)
	title := fmt.Sprintf("%s, %s: %s %s rep %d: %s", h.net.Title(), res.Case, res.Contender, res.Mode, res.Rep, res.Command)
	if err := writeTimeline(filepath.Join(h.opt.logs, base+".timeline.txt"), title, start, reqs, chain); err != nil {
		logf("timeline: %v", err)
	}
	for _, l := range []struct {
		r    *registry
		from int64
		name string
	}{{h.src, srcOffset, "source"}, {rc.tgt, tgtOffset, "target"}} {
		b, err := os.ReadFile(l.r.log)
		if err == nil && int64(len(b)) >= l.from {
			_ = os.WriteFile(filepath.Join(h.opt.logs, base+"."+l.name+".log"), b[l.from:], 0o644)
		}
	}
}

// verify checks, on the registry directly (not through the proxy), that
// every timed copy landed with the source's digest.
func (h *harness) verify(rc *runCtx, copies []copySpec) error {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	for _, c := range copies {
		want := h.imgs.fleetDig[c.app]
		if b := h.imgs.big[c.app]; b != nil {
			want = b.Digests[c.tag]
		}
		ref, err := name.ParseReference(fmt.Sprintf("%s/%s/%s:%s", rc.tgt.direct, c.env, c.app, c.tag), name.Insecure)
		if err != nil {
			return err
		}
		d, err := remote.Head(ref, remote.WithTransport(tr))
		if err != nil {
			return fmt.Errorf("verify: %s: %w", ref, err)
		}
		if d.Digest != want {
			return fmt.Errorf("verify: %s is %s, want %s", ref, d.Digest, want)
		}
	}
	return nil
}
