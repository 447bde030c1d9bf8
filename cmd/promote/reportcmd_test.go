package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// promote report as a scheduled job runs it: text, JSON, CSV, --rebuild
// and --fail-on.
func TestCLIReport(t *testing.T) {
	c := newCLI(t)
	img, err := mutate.CreatedAt(regtest.Image(t, 1, regtest.Labels("1.0"), "1000"), v1.Time{Time: time.Now().Add(-45 * 24 * time.Hour)})
	require.NoError(t, err)
	d := regtest.Push(t, c.reg.Host+"/dev/web:1.0", img)
	code, _, stderr := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, stderr)

	code, out, stderr := c.run("report")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "test  RED")
	assert.Contains(t, out, "test: OLD: the image was built")
	assert.Contains(t, out, "rebuild: web")

	code, out, _ = c.run("report", "--rebuild")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, "web\n", out, "one app a line, nothing else")

	code, out, stderr = c.run("report", "--fail-on", "stale,old")
	assert.Equal(t, ExitRejected, code)
	assert.Contains(t, stderr, "found 1 old (--fail-on)")
	assert.Contains(t, out, "RED", "the report is printed beside the error")
	code, _, _ = c.run("report", "--fail-on", "stale,revoked")
	assert.Equal(t, ExitOK, code, "nothing stale or revoked")
	code, _, stderr = c.run("report", "--fail-on", "ugly")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `--fail-on "ugly": expected stale, old, vulnerable, revoked`)

	code, out, _ = c.run("--output", "json", "report", "web")
	require.Equal(t, ExitOK, code)
	var doc struct {
		Result struct {
			MediaType string `json:"mediaType"`
			Apps      []struct {
				Environments []struct {
					Env, Digest, Status string
				}
			}
			Rebuild []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, "application/vnd.promote.report.v1+json", doc.Result.MediaType)
	require.Len(t, doc.Result.Apps, 1)
	assert.Equal(t, d.String(), doc.Result.Apps[0].Environments[0].Digest)

	code, out, _ = c.run("--output", "csv", "report")
	require.Equal(t, ExitOK, code)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rows), 2)
	assert.Equal(t, []string{"app", "env", "status"}, rows[0][:3])
	assert.Equal(t, []string{"web", "test", "red"}, rows[1][:3])

	code, out, stderr = c.run("--output", "html", "report", "--fail-on", "old")
	assert.Equal(t, ExitRejected, code, "--fail-on holds with html too")
	assert.Contains(t, stderr, "found 1 old")
	assert.True(t, strings.HasPrefix(out, "<!doctype html>"), out)
	assert.Contains(t, out, `<section class="app" id="app-web" data-app="web">`)
	assert.Contains(t, out, `data-env="test" data-status="red"`)
	assert.Contains(t, out, "default-src 'none'", "the page may load nothing")
	assert.NotContains(t, out, "<script")
	code, _, stderr = c.run("--output", "html", "history")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "history has no HTML form (report has)")

	code, out, _ = c.run("--output", "csv", "report", "--pipeline")
	require.Equal(t, ExitOK, code)
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"env", "from", "week", "week_start", "promotions", "rollbacks"}, rows[0])
	total := 0
	for _, r := range rows[1:] {
		if r[0] == "test" && r[4] == "1" {
			total++
		}
	}
	assert.Equal(t, 1, total, "one promotion into test this week: %v", rows)
}
