//go:build integration

package integration

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// What the suite saw, for the secret scan TestMain runs after every test
// (scan_secrets_test.go): every stdout and stderr of every command run()
// starts, the logs of the registries, token proxies and S3 servers, the
// ledger files and S3 objects the tests wrote, and the registries' storage.
type chunk struct {
	kind   string // output, log, ledger, s3-object, registry-data
	source string // what produced it: a command line, a file
	data   []byte
}

var collected struct {
	sync.Mutex
	chunks   []chunk
	commands int // commands whose output was collected
}

// maxCollectedFile bounds one file read for the scan: layers are not
// scanned whole, the JSON (manifests, configs, records) always is.
const maxCollectedFile = 4 << 20

// collect adds one piece of text to the scan.
func collect(kind, source string, data []byte) {
	collected.Lock()
	defer collected.Unlock()
	collected.chunks = append(collected.chunks, chunk{kind: kind, source: source, data: data})
}

// collectCommand adds what one command printed.
func collectCommand(bin string, args []string, stdout, stderr string) {
	src := filepath.Base(bin) + " " + strings.Join(args, " ")
	collect("output", src+" (stdout)", []byte(stdout))
	collect("output", src+" (stderr)", []byte(stderr))
	collected.Lock()
	collected.commands++
	collected.Unlock()
}

// collectFile adds a file if it exists.
func collectFile(kind, path string) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	data := make([]byte, min(st.Size(), maxCollectedFile))
	n, _ := io.ReadFull(f, data)
	collect(kind, path, data[:n])
}

// collectTree adds every regular file under root.
func collectTree(kind, root string) {
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			collectFile(kind, path)
		}
		return nil
	})
}

// collectLedgerFiles adds the SQLite ledgers (and their journals) under dir
// when the test ends, before its temporary directory is removed; register
// it after the test's first t.TempDir().
func collectLedgerFiles(t *testing.T, dir string) {
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && isLedgerFile(d.Name()) {
				collectFile("ledger", path)
			}
			return nil
		})
	})
}

func isLedgerFile(name string) bool {
	for _, suffix := range []string{".db", ".db-wal", ".db-journal", ".db-shm"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// syncBuffer is a bytes.Buffer a server process and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The plain HTTP registries running now: every promote run() starts names
// them in PROMOTE_INSECURE_REGISTRY, since promote reaches every other host
// over verified TLS only. A registry leaves the list when it stops, so a
// later TLS registry on the same port is never named by accident.
var insecureHosts struct {
	sync.Mutex
	hosts map[string]int
}

// markInsecure names host insecure until the test ends.
func markInsecure(t *testing.T, host string) {
	insecureHosts.Lock()
	if insecureHosts.hosts == nil {
		insecureHosts.hosts = map[string]int{}
	}
	insecureHosts.hosts[host]++
	insecureHosts.Unlock()
	t.Cleanup(func() {
		insecureHosts.Lock()
		defer insecureHosts.Unlock()
		if insecureHosts.hosts[host]--; insecureHosts.hosts[host] <= 0 {
			delete(insecureHosts.hosts, host)
		}
	})
}

// insecureRegistryEnv is PROMOTE_INSECURE_REGISTRY=host,host,... (sorted).
func insecureRegistryEnv() string {
	insecureHosts.Lock()
	defer insecureHosts.Unlock()
	hosts := make([]string, 0, len(insecureHosts.hosts))
	for h := range insecureHosts.hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return "PROMOTE_INSECURE_REGISTRY=" + strings.Join(hosts, ",")
}

// hasEnv reports whether env sets key (to anything, empty included).
func hasEnv(env []string, key string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}
