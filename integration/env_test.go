//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pipeline is one test's world: registry A (dev, test), registry B (prod), a
// config file and ledger of its own, and a home for the tools.
type pipeline struct {
	t      *testing.T
	tools  tools
	A, B   *registry
	dir    string
	home   string
	config string
	ledger string
	env    []string // added to every promote run's environment
}

// newPipeline starts two registries and writes the config:
// dev (mutable, A/dev/{app}) -> test (immutable, A/test/{app}, labels+nonroot)
// -> prod (immutable, B/prod/{app}, labels incl. version).
func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	dir := t.TempDir()
	return newPipelineOn(t, dir, startRegistry(t, "A"), startRegistry(t, "B"))
}

// newPipelineOn is newPipeline on registries the test started, in dir (a
// t.TempDir of the test); the SQLite ledgers under dir go to the secret
// scan when the test ends.
func newPipelineOn(t *testing.T, dir string, a, b *registry) *pipeline {
	t.Helper()
	p := &pipeline{t: t, tools: requireTools(t), dir: dir, A: a, B: b}
	collectLedgerFiles(t, dir)
	p.home = filepath.Join(p.dir, "home")
	if err := os.MkdirAll(filepath.Join(p.home, ".docker"), 0o700); err != nil {
		t.Fatalf("creating tool home: %v", err)
	}
	p.ledger = filepath.Join(p.dir, "ledger.db")
	p.config = filepath.Join(p.dir, "environments.yaml")
	p.config = p.writeConfig(p.config,
		[]string{"labels: {}", "nonroot: {}"},
		[]string{"labels: {require: [org.opencontainers.image.source, org.opencontainers.image.revision, org.opencontainers.image.version]}"})
	return p
}

// writeConfig writes the dev (mutable, A) → test (immutable, A) → prod
// (immutable, B) pipeline to path with the given gates (one YAML flow item
// each) and returns path; nil prodGates leaves prod out.
func (p *pipeline) writeConfig(path string, testGates, prodGates []string) string {
	p.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nledger: %s\nenvironments:\n  - name: dev\n    repository: %s/dev/{app}\n    tags: mutable\n", p.ledger, p.A.Host)
	env := func(name, from, host string, gates []string) {
		fmt.Fprintf(&b, "  - name: %s\n    from: %s\n    repository: %s/%s/{app}\n    tags: immutable\n", name, from, host, name)
		if len(gates) > 0 {
			b.WriteString("    gates:\n")
			for _, g := range gates {
				fmt.Fprintf(&b, "      - %s\n", g)
			}
		}
	}
	env("test", "dev", p.A.Host, testGates)
	if prodGates != nil {
		env("prod", "test", p.B.Host, prodGates)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		p.t.Fatalf("creating config dir: %v", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		p.t.Fatalf("writing config: %v", err)
	}
	return path
}

// repo names app's repository in env.
func (p *pipeline) repo(env, app string) string {
	switch env {
	case "dev", "test":
		return p.A.Host + "/" + env + "/" + app
	case "prod":
		return p.B.Host + "/prod/" + app
	}
	p.t.Fatalf("unknown environment %q", env)
	return ""
}

// cmdResult is what one process did.
type cmdResult struct {
	Args           []string
	Stdout, Stderr string
	Code           int
}

func (r cmdResult) String() string {
	return fmt.Sprintf("promote %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// promote runs the real binary with --config (the test's config) and args.
func (p *pipeline) promote(args ...string) cmdResult {
	return p.promoteCtx(context.Background(), args...)
}

// promoteWith runs the real binary with another config file.
func (p *pipeline) promoteWith(config string, args ...string) cmdResult {
	return p.promoteCtx(context.Background(), append([]string{"--config", config}, args...)...)
}

func (p *pipeline) promoteCtx(ctx context.Context, args ...string) cmdResult {
	full := args
	if len(args) == 0 || args[0] != "--config" {
		full = append([]string{"--config", p.config}, args...)
	}
	out, errOut, code := run(ctx, p.dir, append(toolEnv(p.home), p.env...), p.tools.promote, full...)
	return cmdResult{Args: full, Stdout: out, Stderr: errOut, Code: code}
}

// promoteEnv runs promote with env added to the pipeline's own for this
// one run.
func (p *pipeline) promoteEnv(env []string, args ...string) cmdResult {
	saved := p.env
	p.env = append(append([]string(nil), saved...), env...)
	defer func() { p.env = saved }()
	return p.promote(args...)
}

// mustPromote runs promote and fails unless it exits with want.
func (p *pipeline) mustPromote(want int, args ...string) cmdResult {
	p.t.Helper()
	r := p.promote(args...)
	if r.Code != want {
		p.t.Fatalf("expected exit %d, got %d:\n%s", want, r.Code, r)
	}
	return r
}

// document is the one JSON document `--output json` prints.
type document struct {
	MediaType string          `json:"mediaType"`
	Command   string          `json:"command"`
	OK        bool            `json:"ok"`
	ExitCode  int             `json:"exitCode"`
	Error     string          `json:"error"`
	Result    json.RawMessage `json:"result"`
}

// promoteJSON runs promote with --output json (as a global flag), asserts
// that stdout is exactly one JSON document agreeing with the exit code, and
// returns it.
func (p *pipeline) promoteJSON(args ...string) (cmdResult, document) {
	p.t.Helper()
	r := p.promote(append([]string{"--output", "json"}, args...)...)
	return r, parseDocument(p.t, r)
}

// parseDocument decodes stdout as exactly one JSON document.
func parseDocument(t *testing.T, r cmdResult) document {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	var doc document
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, r)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON document (second: %s, err %v)\n%s", extra, err, r)
	}
	if doc.MediaType == "" || !strings.HasPrefix(doc.MediaType, "application/vnd.promote.result.") {
		t.Errorf("document mediaType %q, expected application/vnd.promote.result.*\n%s", doc.MediaType, r)
	}
	if doc.ExitCode != r.Code {
		t.Errorf("document exitCode %d, but the process exited %d\n%s", doc.ExitCode, r.Code, r)
	}
	if doc.OK != (r.Code == 0) {
		t.Errorf("document ok %v with exit code %d\n%s", doc.OK, r.Code, r)
	}
	if !doc.OK && doc.Error == "" {
		t.Errorf("document ok false but error empty\n%s", r)
	}
	return doc
}

// decodeResult decodes doc.Result into v, strictly enough to catch renames.
func decodeResult(t *testing.T, doc document, v any) {
	t.Helper()
	if len(bytes.TrimSpace(doc.Result)) == 0 || string(doc.Result) == "null" {
		t.Fatalf("document of %q has no result: %+v", doc.Command, doc)
	}
	if err := json.Unmarshal(doc.Result, v); err != nil {
		t.Fatalf("decoding result of %q: %v\n%s", doc.Command, err, doc.Result)
	}
}
