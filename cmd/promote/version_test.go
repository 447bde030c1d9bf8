package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadBuild(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-04T16:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name     string
		info     *debug.BuildInfo
		override string
		want     string
	}{
		{"go install @version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, "", "v1.4.0 go1.26.8"},
		{"built in a modified checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "",
			"dev (revision 0123456789ab, 2026-12-04T16:00:00Z, modified) go1.26.8"},
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:1]}, "",
			"dev (revision 0123456789ab) go1.26.8"},
		{"ldflags override wins", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: vcs[:1]}, "v2.0.0-rc1",
			"v2.0.0-rc1 (revision 0123456789ab) go1.26.8"},
		{"no build info", nil, "", "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, readBuild(tc.info, tc.override).String())
		})
	}
}

// --version prints what this test binary was built from: at least the Go
// version, never a bare "dev".
func TestVersionFlagReadsBuildInfo(t *testing.T) {
	c := newCLI(t)
	code, out, _ := c.run("--version")
	assert.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(out, "promote version "), out)
	assert.Contains(t, out, " go1.", "the Go version from the build info")
}
