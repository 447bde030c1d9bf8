//go:build integration

// Package integration drives the real promote binary against real CNCF
// distribution registries (docker-registry), with inputs built by the real
// crane CLI and signed by the real cosign CLI. Every part runs on 127.0.0.1
// and is started and stopped by the tests themselves. A missing tool is a
// failure (run `make tools`), never a skip.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// registryStartTimeout bounds how long a registry may take to answer GET /v2/.
const registryStartTimeout = 10 * time.Second

// tools are the external programs the suite drives, found once.
type tools struct {
	promote, crane, cosign, registry string
}

var (
	toolsOnce sync.Once
	toolsErr  error
	toolPaths tools
)

// requireTools finds promote ($PROMOTE_BIN), crane, cosign and docker-registry,
// failing the test with what to do when one is missing.
func requireTools(t *testing.T) tools {
	t.Helper()
	toolsOnce.Do(func() {
		var missing []string
		bin := os.Getenv("PROMOTE_BIN")
		switch {
		case bin == "":
			missing = append(missing, "PROMOTE_BIN is not set (run `make integration`, or `make build` and set PROMOTE_BIN=$PWD/bin/promote)")
		default:
			if st, err := os.Stat(bin); err != nil || st.IsDir() {
				missing = append(missing, fmt.Sprintf("PROMOTE_BIN=%s is not a file (run `make build`): %v", bin, err))
			}
			toolPaths.promote = bin
		}
		look := func(name, hint string) string {
			p, err := exec.LookPath(name)
			if err != nil {
				missing = append(missing, fmt.Sprintf("%s not found in PATH (%s)", name, hint))
			}
			return p
		}
		toolPaths.crane = look("crane", "run `make tools`, which installs it into .tools/bin, and put .tools/bin on PATH")
		toolPaths.cosign = look("cosign", "run `make tools`, which installs it into .tools/bin, and put .tools/bin on PATH")
		toolPaths.registry = look("docker-registry", "run `make tools`, or apt-get install docker-registry")
		if len(missing) > 0 {
			toolsErr = fmt.Errorf("integration tests need real tools:\n  %s", strings.Join(missing, "\n  "))
		}
	})
	if toolsErr != nil {
		t.Fatalf("%v", toolsErr)
	}
	return toolPaths
}

// registry is one running docker-registry process.
type registry struct {
	Host string // 127.0.0.1:PORT
	Dir  string // its storage root
}

// registryOptions vary how a registry is started; the zero value is a plain
// HTTP registry without auth that every promote run names insecure.
type registryOptions struct {
	TLS       *tlsFiles // serve HTTPS with this certificate
	Htpasswd  string    // path of an htpasswd file: Basic auth required
	AccessLog bool      // log every request (info level), for the secret scan
	// NotInsecure keeps the registry out of PROMOTE_INSECURE_REGISTRY.
	NotInsecure bool
}

// startRegistry starts a plain HTTP docker-registry on a free loopback port
// and names it in the PROMOTE_INSECURE_REGISTRY of every later promote run.
func startRegistry(t *testing.T, name string) *registry {
	t.Helper()
	return startRegistryWith(t, name, registryOptions{})
}

// startRegistryWith starts `docker-registry serve` on a free loopback port
// with a config of its own, waits until it answers, and stops it on
// cleanup; its log and storage go to the secret scan when it stops.
func startRegistryWith(t *testing.T, name string, o registryOptions) *registry {
	t.Helper()
	tl := requireTools(t)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		r, err := tryStartRegistry(t, tl.registry, name, o)
		if err == nil {
			if o.TLS == nil && !o.NotInsecure {
				markInsecure(t, r.Host)
			}
			return r
		}
		lastErr = err
	}
	t.Fatalf("registry %s did not start after 5 attempts: %v", name, lastErr)
	return nil
}

func tryStartRegistry(t *testing.T, bin, name string, o registryOptions) (*registry, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", port)
	level := map[bool]string{false: "error", true: "info"}[o.AccessLog]
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: %s
  accesslog:
    disabled: %t
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, level, !o.AccessLog, filepath.Join(dir, "data"), host)
	scheme, client := "http", &http.Client{Timeout: time.Second}
	if o.TLS != nil {
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", o.TLS.Cert, o.TLS.Key)
		scheme, client = "https", o.TLS.client()
	}
	if o.Htpasswd != "" {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: promote-test\n    path: %s\n", o.Htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing registry config: %v", err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(registryStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // let stop() return at once
			stop()
			return nil, fmt.Errorf("registry %s on %s exited (%v): %s", name, host, err, out.String())
		default:
		}
		resp, err := client.Get(scheme + "://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || (o.Htpasswd != "" && resp.StatusCode == http.StatusUnauthorized) {
				t.Cleanup(func() {
					stop()
					collect("log", "registry "+name+" "+host, []byte(out.String()))
					collectTree("registry-data", filepath.Join(dir, "data"))
				})
				return &registry{Host: host, Dir: dir}, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("registry %s on %s did not answer GET /v2/ within %s: %s", name, host, registryStartTimeout, out.String())
}

// freePort asks the kernel for a free loopback port; the caller retries if
// another process takes it before the registry binds it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// toolEnv is the environment every tool runs in: a HOME and DOCKER_CONFIG of
// the test's own, so nothing reads or writes the real home.
func toolEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "DOCKER_CONFIG", "COSIGN_PASSWORD", "PROMOTE_CONFIG", "PROMOTE_OUTPUT", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
			"PROMOTE_INSECURE_REGISTRY", "PROMOTE_VERBOSE", "PROMOTE_CACHE_DIR", "PROMOTE_CPUPROFILE", "SSL_CERT_FILE", "SSL_CERT_DIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"COSIGN_PASSWORD=")
}

// run executes a tool with a timeout and returns stdout, stderr and its exit
// code (-1 if it could not run or was killed). Unless env sets
// PROMOTE_INSECURE_REGISTRY itself, it names every plain HTTP registry the
// suite runs (insecureRegistryEnv); both outputs go to the secret scan.
func run(ctx context.Context, dir string, env []string, bin string, args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if !hasEnv(env, "PROMOTE_INSECURE_REGISTRY") {
		env = append(env[:len(env):len(env)], insecureRegistryEnv())
	}
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() >= 0 {
			code = ee.ExitCode()
		} else {
			e.WriteString("\n(run error: " + err.Error() + ")")
		}
	}
	collectCommand(bin, args, o.String(), e.String())
	return o.String(), e.String(), code
}
