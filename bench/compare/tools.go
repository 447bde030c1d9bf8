package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// toolset holds the programs the harness drives, found once; a missing one
// is an error that says how to install it.
type toolset struct {
	promote, promoteDemo, crane, skopeo, regctl, registry string
	batch                                                 bool // promote to ENV APP... --jobs N
	versions                                              map[string]string
}

func findTools(root string, want map[string]bool, baseline string) (*toolset, error) {
	t := &toolset{versions: map[string]string{}}
	var missing []string
	find := func(local, name, hint string) string {
		if local != "" {
			if st, err := os.Stat(filepath.Join(root, local)); err == nil && !st.IsDir() {
				return filepath.Join(root, local)
			}
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		missing = append(missing, fmt.Sprintf("%s not found: %s", name, hint))
		return ""
	}
	build := "run `make build` (or scripts/bench.sh)"
	t.registry = find("", "docker-registry", "apt-get install docker-registry (Debian's CNCF distribution 2.8), or `make tools` as root")
	if want["promote"] {
		t.promote = find("bin/promote", "promote", build)
		t.promoteDemo = find("bin/promote-demo", "promote-demo", build)
	}
	if want["crane"] {
		t.crane = find(".tools/bin/crane", "crane", "run `make tools`, which installs the pinned crane into .tools/bin")
	}
	if want["skopeo"] {
		t.skopeo = find("", "skopeo", "apt-get install skopeo (scripts/bench.sh does it as root)")
	}
	if want["regctl"] {
		t.regctl = find(".tools/bin/regctl", "regctl", "GOBIN=$PWD/.tools/bin go install github.com/regclient/regclient/cmd/regctl@"+regctlVersion+" (scripts/bench.sh does it)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing tools:\n  %s", strings.Join(missing, "\n  "))
	}
	version := func(key, bin string, args ...string) {
		if bin == "" {
			return
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		v := strings.TrimSpace(string(out))
		if err != nil {
			v = fmt.Sprintf("unknown (%v)", err)
		}
		t.versions[key] = strings.Join(strings.Fields(v), " ")
	}
	version("docker-registry", t.registry, "--version")
	version("promote", t.promote, "--version")
	version("crane", t.crane, "version")
	version("skopeo", t.skopeo, "--version")
	version("regctl", t.regctl, "version", "--format", "{{.VCSTag}} ({{.GoVer}})")
	if baseline != "" {
		if !detectBatch(baseline) {
			return nil, fmt.Errorf("-baseline %s: not a promote binary with batch mode (promote to ENV APP... --jobs N)", baseline)
		}
		version(baselineLabel, baseline, "--version")
	}
	if t.promote != "" {
		if out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%h %cI %s").Output(); err == nil {
			t.versions["promote"] += ", tree at " + strings.TrimSpace(string(out))
		}
		t.batch = detectBatch(t.promote)
	}
	return t, nil
}

// regctlVersion is the newest regctl that builds with Go 1.26 (checked when
// the harness was written); scripts/bench.sh installs it.
const regctlVersion = "v0.11.7"

var batchUsage = regexp.MustCompile(`APP\S*\.\.\.`)

// detectBatch reports whether `promote to` takes several APPs and --jobs, as
// its help says: then the fleet is one command, else one per image.
func detectBatch(promote string) bool {
	to, _ := exec.Command(promote, "to", "--help").CombinedOutput()
	all, _ := exec.Command(promote, "--help").CombinedOutput()
	return batchUsage.Match(to) && bytes.Contains(append(to, all...), []byte("--jobs"))
}

// toolEnv is a private environment for one tool in one run: HOME, the XDG
// directories (promote's blob-location cache lives under XDG_CACHE_HOME,
// skopeo's blob-info cache under XDG_DATA_HOME or ~/.local/share), docker
// config and TMPDIR all under home, nothing inherited from the real ones.
func toolEnv(home string) ([]string, error) {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || k == "DOCKER_CONFIG" || k == "TMPDIR" || k == "REGISTRY_AUTH_FILE" ||
			strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "PROMOTE_") ||
			strings.HasPrefix(k, "REGCTL_") || strings.HasPrefix(k, "COSIGN_") {
			continue
		}
		env = append(env, kv)
	}
	dirs := map[string]string{
		"HOME": "", "DOCKER_CONFIG": ".docker", "XDG_CONFIG_HOME": ".config", "XDG_CACHE_HOME": ".cache",
		"XDG_DATA_HOME": ".local/share", "XDG_RUNTIME_DIR": "run", "TMPDIR": "tmp",
	}
	for k, sub := range dirs {
		d := filepath.Join(home, sub)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		env = append(env, k+"="+d)
	}
	return env, nil
}

// procs is the outcome of running one or more tool processes.
type procs struct {
	wall   time.Duration
	cpu    time.Duration // user+system, summed over the processes
	maxRSS int64         // KiB, the largest over the processes
	n      int
}

// run starts every command (at most parallel at once, in order) with env
// and dir, as uid when uid >= 0, and measures the wall time from the first
// start to the last exit and the peak RSS (rusage of each process). The
// first failure stops the rest and is returned with the tool's stderr.
func run(cmds [][]string, env []string, dir string, uid, parallel int) (procs, error) {
	var (
		mu       sync.Mutex
		res      procs
		firstErr error
		wg       sync.WaitGroup
		next     int
	)
	worker := func() {
		defer wg.Done()
		for {
			mu.Lock()
			if next >= len(cmds) || firstErr != nil {
				mu.Unlock()
				return
			}
			argv := cmds[next]
			next++
			mu.Unlock()
			rss, cpu, err := runOne(argv, env, dir, uid)
			mu.Lock()
			res.n++
			res.cpu += cpu
			res.maxRSS = max(res.maxRSS, rss)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}
	start := time.Now()
	for i := 0; i < max(1, parallel); i++ {
		wg.Add(1)
		go worker()
	}
	wg.Wait()
	res.wall = time.Since(start)
	return res, firstErr
}

// spawn starts the tools (see spawner); main starts it first.
var spawn *spawner

func runOne(argv, env []string, dir string, uid int) (int64, time.Duration, error) {
	return spawn.run(argv, env, dir, uid)
}

// shellJoin renders a command for the report; long argument lists (the
// fleet batch) are abbreviated.
func shellJoin(argv []string) string {
	args := argv
	if len(args) > 12 {
		args = append(append(append([]string{}, args[:8]...), fmt.Sprintf("…(%d more)…", len(args)-10)), args[len(args)-2:]...)
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a
		if strings.ContainsAny(a, " \t\"'$") {
			parts[i] = "'" + a + "'"
		}
	}
	return strings.Join(parts, " ")
}

func chownTree(dir string, uid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
}
