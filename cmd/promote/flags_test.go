package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"
)

var usageLineFlag = regexp.MustCompile(`--([a-z][a-z-]*)(?: ([^\s|\[\]-][^\s]*))?`)

// usageFlags reads a usage line's flags and their placeholders:
// "[--to DIGEST|RECORD]" gives to → DIGEST|RECORD, "[--dry-run]" dry-run → "".
func usageFlags(line string) map[string]string {
	out := map[string]string{}
	for _, m := range usageLineFlag.FindAllStringSubmatch(line, -1) {
		p := strings.TrimSuffix(m[2], "...")
		for strings.Count(p, "]") > strings.Count(p, "[") {
			p = strings.TrimSuffix(p, "]")
		}
		out[m[1]] = p
	}
	return out
}

// helpFlags is what --help shows of flags: each flag's placeholder, read
// from the line urfave/cli prints for it ("--reason value\t…" gives
// reason → value; a switch has none).
func helpFlags(flags []cli.Flag) map[string]string {
	out := map[string]string{}
	for _, f := range flags {
		name := f.Names()[0]
		if name == "help" {
			continue
		}
		shown, _, _ := strings.Cut(f.String(), "\t")
		shown, _, _ = strings.Cut(shown, ", ")
		shown, _, _ = strings.Cut(shown, " [")
		_, p, _ := strings.Cut(shown, " ")
		out[name] = p
	}
	return out
}

// Every flag of every command appears in its usage line with the
// placeholder its help shows (--reason TEXT, not --reason value), and the
// usage line names no flag the command lacks.
func TestFlagPlaceholdersMatchUsageLines(t *testing.T) {
	app := newApp(&state{})
	assert.Equal(t, usageFlags(app.UsageText), helpFlags(app.Flags), "global flags against %q", app.UsageText)
	var check func(prefix string, cmds []*cli.Command)
	check = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				check(name, c.Subcommands)
				continue
			}
			assert.True(t, strings.HasPrefix(c.UsageText, "promote "+name), "%s: usage line %q", name, c.UsageText)
			assert.Equal(t, usageFlags(c.UsageText), helpFlags(c.Flags), "%s: flags against %q", name, c.UsageText)
		}
	}
	check("", app.Commands)
}

func TestUsageFlagsReadsPlaceholders(t *testing.T) {
	assert.Equal(t, map[string]string{"to": "DIGEST|RECORD", "dry-run": "", "reason": "TEXT"},
		usageFlags("promote rollback ENV APP [--to DIGEST|RECORD] [--dry-run] [--reason TEXT]"))
	assert.Equal(t, map[string]string{"quiet": "", "verbose": "", "insecure-registry": "HOST[:PORT]", "tag": "TAG"},
		usageFlags("promote [--quiet | --verbose] [--insecure-registry HOST[:PORT]]... [--tag TAG]..."))
	assert.Equal(t, map[string]string{"reason": "value"}, helpFlags([]cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why"}}),
		"a Usage without a back-quoted word shows value, which no usage line says")
}
