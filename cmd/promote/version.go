package main

import (
	"runtime/debug"
	"strings"
)

// version, if set at build time (-ldflags "-X main.version=v1.2.3"), names
// the release; otherwise the build info says what was built.
var version = ""

// versionString describes the running binary: the module version (from
// `go install …@version`, or version when set), the VCS revision and time
// and whether the tree was modified (from a build in a checkout), and the
// Go version. It never says less than "dev" and the Go version.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(info, version)
}

func describeBuild(info *debug.BuildInfo, override string) string {
	v := override
	var goVersion string
	var details []string
	if info != nil {
		goVersion = info.GoVersion
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		var rev, at string
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			details = append(details, "revision "+rev)
		}
		if at != "" {
			details = append(details, at)
		}
		if modified {
			details = append(details, "modified")
		}
	}
	if v == "" {
		v = "dev"
	}
	out := v
	if len(details) > 0 {
		out += " (" + strings.Join(details, ", ") + ")"
	}
	if goVersion != "" {
		out += " " + goVersion
	}
	return out
}
