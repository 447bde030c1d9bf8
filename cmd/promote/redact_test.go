package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/internal/regtest"
)

// leakyCLI promotes web:1.0 from dev on one Leaky registry into test on
// another, through the real command line.
type leakyCLI struct {
	src, dst *regtest.Leaky
	dir      string
	config   string
}

func newLeakyCLI(t *testing.T) *leakyCLI {
	c := &leakyCLI{src: regtest.NewLeaky(t), dst: regtest.NewLeaky(t), dir: t.TempDir()}
	c.config = filepath.Join(c.dir, "environments.yaml")
	require.NoError(t, os.WriteFile(c.config, []byte(fmt.Sprintf(`version: 1
ledger: %[3]s
environments:
  - name: dev
    repository: %[1]s/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %[2]s/test/{app}
    tags: immutable
    gates:
      - nonroot: {}
      - base: {approved: [%[1]s/library/base]}
`, c.src.Host, c.dst.Host, filepath.Join(c.dir, "ledger.db"))), 0o600))
	t.Setenv("PROMOTE_CACHE_DIR", filepath.Join(c.dir, "cache"))
	base := regtest.Image(t, 1, regtest.Labels("base"), "1000")
	regtest.Push(t, c.src.Host+"/library/base:1", base)
	layer, err := random.Layer(2048, types.DockerLayer)
	require.NoError(t, err)
	app, err := mutate.AppendLayers(base, layer)
	require.NoError(t, err)
	regtest.Push(t, c.src.Host+"/dev/web:1.0", app)
	return c
}

// run invokes the command line with --verbose (debug logs on stderr).
func (c *leakyCLI) run(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	argv := append([]string{"promote", "--config", c.config, "--insecure-registry", "127.0.0.1", "--verbose"}, args...)
	code = run(context.Background(), argv, &out, &errw)
	return code, out.String(), errw.String()
}

// ledgerBytes is everything the ledger store holds on disk: the database
// and the files beside it (journal, locks).
func (c *leakyCLI) ledgerBytes(t *testing.T) string {
	var all []byte
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(strings.TrimPrefix(path, c.dir+"/"), "ledger.db") {
			return err
		}
		b, err := os.ReadFile(path)
		all = append(all, b...)
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, all)
	return string(all)
}

// Every kind of request that can fail fails, through the real command line
// with --output text and json and debug logging: no secret planted in a
// query string, and no query string of any URL, reaches stdout, stderr or
// the ledger. Healed, the same command promotes (the planted URLs work).
func TestCLIPrintsNoSecretURLs(t *testing.T) {
	c := newLeakyCLI(t)
	type leakCase struct {
		on    func(*leakyCLI) *regtest.Leaky
		leak  regtest.Leak
		fault faults.Fault
		want  string // in the error: what failed is still said
	}
	src := func(c *leakyCLI) *regtest.Leaky { return c.src }
	dst := func(c *leakyCLI) *regtest.Leaky { return c.dst }
	forbidden := faults.Fault{Kind: faults.Status, Status: 403}
	cases := []leakCase{
		{src, regtest.LeakBlobGet, forbidden, "/bucket/dev/web/blobs/sha256:"},
		{src, regtest.LeakBlobGet, faults.Fault{Kind: faults.Corrupt}, "blob"},
		{dst, regtest.LeakBlobHead, forbidden, "/bucket/test/web/blobs/sha256:"},
		{dst, regtest.LeakUploadPost, forbidden, "/v2/test/web/blobs/uploads/"},
		{dst, regtest.LeakUploadPatch, faults.Fault{Kind: faults.ResetMidUpload, After: 10}, "/v2/test/web/blobs/uploads/"},
		{dst, regtest.LeakUploadPut, faults.Fault{Kind: faults.Status, Status: 400}, "/v2/test/web/blobs/uploads/"},
		{src, regtest.LeakManifestGet, forbidden, "/v2/dev/web/manifests/1.0"},
		{dst, regtest.LeakManifestHead, forbidden, "/v2/test/web/manifests/"},
		{dst, regtest.LeakManifestPut, faults.Fault{Kind: faults.ResetBefore}, "/v2/test/web/manifests/"},
		{src, regtest.LeakToken, forbidden, "/token"},
		{src, regtest.LeakReferrers, forbidden, "referrers"},
		{src, regtest.LeakTags, forbidden, "/v2/library/base/tags/list"},
	}
	for _, tc := range cases {
		for _, output := range []string{"text", "json"} {
			t.Run(fmt.Sprintf("%s %s %s", tc.leak, tc.fault, output), func(t *testing.T) {
				reg := tc.on(c)
				reg.Fail(tc.leak, tc.fault)
				defer reg.Fail("", faults.Fault{})
				code, stdout, stderr := c.run("to", "test", "web:1.0", "--output", output)
				require.Positive(t, reg.Injected(), "the fault was met; stderr: %s", stderr)
				assert.Equal(t, ExitError, code, "stdout: %s\nstderr: %s", stdout, stderr)
				for what, out := range map[string]string{"stdout": stdout, "stderr": stderr, "ledger": c.ledgerBytes(t)} {
					assert.Empty(t, regtest.Leaked(out), "no secret and no query string in %s", what)
				}
				msg := stderr
				if output == "json" {
					var doc document
					require.NoError(t, json.Unmarshal([]byte(stdout), &doc), stdout)
					msg = doc.Error + "\n" + stdout
				}
				assert.Contains(t, msg, tc.want, "the error still says what failed")
			})
		}
	}

	code, stdout, stderr := c.run("to", "test", "web:1.0", "--output", "json")
	require.Equal(t, ExitOK, code, "healed, the promotion completes: %s %s", stdout, stderr)
	assert.Empty(t, regtest.Leaked(stdout+stderr+c.ledgerBytes(t)))
	assert.True(t, strings.Contains(stderr, "level="), "debug logs were written: %s", stderr)
}

// A log line with a URL in an attribute (a string, a *url.URL, an error)
// shows it without its query string; other attributes are untouched.
func TestLogsCarryNoURLQuery(t *testing.T) {
	var buf bytes.Buffer
	u, err := url.Parse("https://bucket.s3.amazonaws.com/layer?X-Amz-Signature=" + regtest.Secret)
	require.NoError(t, err)
	newLogger(&buf, true).Debug("blob read redirected", "location", u.String(), "url", u,
		"error", fmt.Errorf("reading: %w", &url.Error{Op: "Get", URL: u.String(), Err: io.ErrUnexpectedEOF}), "n", 3)
	out := buf.String()
	assert.Empty(t, regtest.Leaked(out), out)
	assert.Contains(t, out, "location=https://bucket.s3.amazonaws.com/layer?REDACTED")
	assert.Contains(t, out, "url=https://bucket.s3.amazonaws.com/layer?REDACTED")
	assert.Contains(t, out, `error="reading: Get \"https://bucket.s3.amazonaws.com/layer?REDACTED\": unexpected EOF"`)
	assert.Contains(t, out, "n=3")
	assert.Regexp(t, `^time=\d{4}-\d\d-\d\dT`, out, "the time keeps its format")
}
