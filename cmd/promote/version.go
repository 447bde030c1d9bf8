package main

import (
	"io"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version, if set at build time (-ldflags "-X main.version=v1.2.3"), names
// the release; otherwise the build info says what was built.
var version = ""

// build is what the running binary was built from: the module version
// (from `go install …@version`, or version when set, else "dev"), the VCS
// revision and time and whether the tree was modified (from a build in a
// checkout), and the Go version.
type build struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go,omitempty"`
}

// thisBuild describes the running binary; --version and `promote version`
// both print it.
func thisBuild() build {
	info, _ := debug.ReadBuildInfo()
	return readBuild(info, version)
}

// versionString is thisBuild in one line.
func versionString() string { return thisBuild().String() }

func readBuild(info *debug.BuildInfo, override string) build {
	b := build{Version: override}
	if info != nil {
		b.Go = info.GoVersion
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// String is the build in one line: "v1.4.0 (revision 0123456789ab,
// 2026-12-04T16:00:00Z, modified) go1.26.8". It never says less than "dev"
// and, with build info, the Go version.
func (b build) String() string {
	var details []string
	if rev := b.Revision; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		details = append(details, "revision "+rev)
	}
	if b.Time != "" {
		details = append(details, b.Time)
	}
	if b.Modified {
		details = append(details, "modified")
	}
	out := b.Version
	if len(details) > 0 {
		out += " (" + strings.Join(details, ", ") + ")"
	}
	if b.Go != "" {
		out += " " + b.Go
	}
	return out
}

// versionCommand prints what --version prints; with --output json, the
// build's fields; with --quiet, the build line alone.
func versionCommand(s *state) *cli.Command {
	cmd := command("version", "version", "print the module version, VCS revision and Go version this binary was built from")
	cmd.Action = func(c *cli.Context) error {
		if _, err := positional(c, "version", 0, 0); err != nil {
			return s.render("version", nil, nil, err)
		}
		return s.render("version", thisBuild(), func(io.Writer) { cli.ShowVersion(c) }, nil)
	}
	return cmd
}
