package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The tools are started by a spawner: this program re-executed as a small
// child before the harness grows. Linux starts a child with the memory of
// its parent (Go's vfork and exec), and the child's peak RSS (rusage
// maxrss) keeps the parent's peak from before the exec: started by the
// harness, every tool would report at least the harness's own peak (the
// 19.2 MiB that crane and regctl alike showed in docs/BENCHMARKS.md were
// the harness's; toxiproxy's buffers grow it past 150 MiB in a 1 GiB copy
// with latency). Started by the spawner, a tool reports at least the
// spawner's few MiB, measured once (spawner.floorKiB) and shown in the
// report.

const spawnerEnv = "BENCH_COMPARE_SPAWNER"

type spawnRequest struct {
	ID   int64    `json:"id"`
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
	UID  int      `json:"uid"`
}

type spawnResult struct {
	ID     int64  `json:"id"`
	RSSKiB int64  `json:"rss_kib"`
	CPU    int64  `json:"cpu_ns"`
	Err    string `json:"err,omitempty"`
}

// spawnerMain serves spawn requests, one JSON line each on stdin, each in
// its own goroutine, answering on stdout. When stdin ends (the harness has
// exited) it kills what is still running and exits.
func spawnerMain() {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	var wg sync.WaitGroup
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var rq spawnRequest
		if err := json.Unmarshal(sc.Bytes(), &rq); err != nil {
			fmt.Fprintf(os.Stderr, "spawner: %v\n", err)
			os.Exit(2)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rss, cpu, err := execOne(ctx, rq.Argv, rq.Env, rq.Dir, rq.UID)
			res := spawnResult{ID: rq.ID, RSSKiB: rss, CPU: int64(cpu)}
			if err != nil {
				res.Err = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(res)
		}()
	}
	cancel()
	wg.Wait()
}

// execOne runs one command and returns its peak RSS (KiB) and CPU time.
func execOne(ctx context.Context, argv, env []string, dir string, uid int) (int64, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, &stdout, &stderr
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	err := cmd.Run()
	var rss int64
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss
		}
	}
	if err != nil {
		var ee *exec.ExitError
		what := err.Error()
		if errors.As(err, &ee) {
			what = fmt.Sprintf("exit %d", ee.ExitCode())
		}
		out := strings.TrimSpace(stderr.String() + "\n" + stdout.String())
		if len(out) > 2000 {
			out = out[:1000] + "\n…\n" + out[len(out)-1000:]
		}
		return rss, cpu, fmt.Errorf("%s: %s:\n%s", shellJoin(argv), what, out)
	}
	return rss, cpu, nil
}

// spawner is the harness's side: a running spawner process.
type spawner struct {
	cmd      *exec.Cmd
	in       io.WriteCloser
	wmu      sync.Mutex // writes to in
	mu       sync.Mutex // next, waiting, dead
	next     int64
	waiting  map[int64]chan spawnResult
	dead     error
	floorKiB int64 // maxrss of /bin/true started by the spawner
}

func startSpawner() (*spawner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &spawner{waiting: map[int64]chan spawnResult{}}
	s.cmd = exec.Command(self)
	s.cmd.Env = append(os.Environ(), spawnerEnv+"=1")
	s.cmd.Stderr = os.Stderr
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the spawner: %w", err)
	}
	go s.read(out)
	if s.floorKiB, _, err = s.run([]string{"/bin/true"}, os.Environ(), "/", -1); err != nil {
		return nil, fmt.Errorf("spawner: %w", err)
	}
	return s, nil
}

func (s *spawner) read(out io.Reader) {
	dec := json.NewDecoder(out)
	for {
		var res spawnResult
		err := dec.Decode(&res)
		s.mu.Lock()
		if err != nil {
			s.dead = fmt.Errorf("spawner: %w", err)
			for id, ch := range s.waiting {
				close(ch)
				delete(s.waiting, id)
			}
			s.mu.Unlock()
			return
		}
		if ch := s.waiting[res.ID]; ch != nil {
			ch <- res
			delete(s.waiting, res.ID)
		}
		s.mu.Unlock()
	}
}

// run has the spawner run one command and waits for it.
func (s *spawner) run(argv, env []string, dir string, uid int) (int64, time.Duration, error) {
	ch := make(chan spawnResult, 1)
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		return 0, 0, s.dead
	}
	s.next++
	rq := spawnRequest{ID: s.next, Argv: argv, Env: env, Dir: dir, UID: uid}
	s.waiting[rq.ID] = ch
	s.mu.Unlock()
	line, err := json.Marshal(rq)
	if err == nil {
		s.wmu.Lock()
		_, err = s.in.Write(append(line, '\n'))
		s.wmu.Unlock()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("spawner: %w", err)
	}
	res, ok := <-ch
	if !ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		return 0, 0, s.dead
	}
	if res.Err != "" {
		err = errors.New(res.Err)
	}
	return res.RSSKiB, time.Duration(res.CPU), err
}

// stop ends the spawner: it kills what still runs and exits.
func (s *spawner) stop() {
	_ = s.in.Close()
	_ = s.cmd.Wait()
}
