package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
)

// A global setting comes from its flag or, failing that, its environment
// variable. A flag on the command line is always checked, whatever the
// command; a variable only by the commands that use the setting, so that a
// value meant for one command (PROMOTE_OUTPUT=csv for history,
// PROMOTE_JOBS for promotions) never breaks another. urfave/cli would read
// and parse the variables for every command, so these flags declare none
// and the variables are read here.
type setting struct{ flag, env string }

var (
	outputSetting   = setting{"output", "PROMOTE_OUTPUT"}
	jobsSetting     = setting{"jobs", "PROMOTE_JOBS"}
	insecureSetting = setting{"insecure-registry", "PROMOTE_INSECURE_REGISTRY"}
	verboseSetting  = setting{"verbose", "PROMOTE_VERBOSE"}
	quietSetting    = setting{"quiet", "PROMOTE_QUIET"}
)

// Which commands use which setting: --output and --quiet, every command
// but help and completion; --config and --verbose, those but version too;
// --jobs and --insecure-registry, only the commands that reach registries
// (the ones that open the engine, and config check for --online); --output
// csv, only history.
var (
	reachesRegistries = map[string]bool{"to": true, "rollback": true, "approve": true, "revoke": true, "status": true, "report": true, "gates": true, "envs check": true, "envs apply": true, "config check": true, "ledger publish": true, "ledger verify": true}
	hasCSV            = map[string]bool{"history": true, "report": true}
	hasHTML           = map[string]bool{"report": true}
)

// from returns the setting's text: the flag's if it is on the command line,
// else the variable's (set and not empty), else "" and where == "".
func (g setting) from(c *cli.Context) (value, where string) {
	if c.IsSet(g.flag) {
		return c.String(g.flag), "--" + g.flag
	}
	if v := os.Getenv(g.env); v != "" {
		return v, g.env
	}
	return "", ""
}

// checkFlags checks the global flags given on the command line, before any
// command runs: a bad value is a usage error wherever it is given.
func checkFlags(c *cli.Context) error {
	if c.IsSet("output") {
		if _, err := outputFormat(c.String("output"), "--output", ""); err != nil {
			return err
		}
	}
	if c.IsSet("jobs") {
		if _, err := jobsValue(c.String("jobs"), "--jobs"); err != nil {
			return err
		}
	}
	if c.IsSet("insecure-registry") {
		if _, err := insecureHosts(c.StringSlice("insecure-registry")); err != nil {
			return err
		}
	}
	return nil
}

// outputFormat checks an --output value for command; csv is accepted only
// where the command has a CSV form ("" is any command).
func outputFormat(v, where, command string) (string, error) {
	switch v {
	case "text", "json":
		return v, nil
	case "csv":
		if command == "" || hasCSV[command] {
			return v, nil
		}
		return "", errs.Usagef("%s csv: %s has no CSV form (history and report have); use text or json", where, command)
	case "html":
		if command == "" || hasHTML[command] {
			return v, nil
		}
		return "", errs.Usagef("%s html: %s has no HTML form (report has); use text or json", where, command)
	}
	return "", errs.Usagef("%s %q: expected text, json, csv or html", where, v)
}

func jobsValue(v, where string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 64 {
		return 0, errs.Usagef("%s %s: expected a number from 1 to 64", where, v)
	}
	return n, nil
}

func boolValue(v, where string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.Usagef("%s %q: expected true or false (1 or 0)", where, v)
	}
	return b, nil
}

// output resolves --output for command: a variable naming csv for a command
// without a CSV form is ignored (text), a flag naming it is a usage error.
func output(c *cli.Context, command string) (string, error) {
	v, where := outputSetting.from(c)
	switch {
	case where == "":
		return "text", nil
	case where == outputSetting.env && (v == "csv" && !hasCSV[command] || v == "html" && !hasHTML[command]):
		return "text", nil
	}
	return outputFormat(v, where, command)
}

// quietVerbose resolves --quiet and, for a command that logs, --verbose.
// They contradict each other: a flag beats the other's variable; both
// flags, or both variables, are a usage error.
func quietVerbose(c *cli.Context, logs bool) (quiet, verbose bool, err error) {
	var where [2]string
	var on [2]bool
	for i, g := range []setting{quietSetting, verboseSetting} {
		if g == verboseSetting && !logs {
			continue
		}
		v, w := g.from(c)
		if w == "" {
			continue
		}
		if on[i], err = boolValue(v, w); err != nil {
			return false, false, err
		}
		where[i] = w
	}
	if on[0] && on[1] {
		qFlag, vFlag := where[0] == "--quiet", where[1] == "--verbose"
		if qFlag == vFlag {
			return false, false, errs.Usagef("%s and %s contradict each other: choose one", where[0], where[1])
		}
		on[0], on[1] = qFlag, vFlag
	}
	return on[0], on[1], nil
}

// registrySettings resolves --jobs and --insecure-registry, for the commands
// that reach registries.
func registrySettings(c *cli.Context) (jobs int, insecure []string, err error) {
	jobs = c.Int(jobsSetting.flag) // its default, or the flag, checked by checkFlags
	if v, where := jobsSetting.from(c); where == jobsSetting.env {
		if jobs, err = jobsValue(v, where); err != nil {
			return 0, nil, err
		}
	}
	hosts := c.StringSlice(insecureSetting.flag)
	if !c.IsSet(insecureSetting.flag) {
		hosts = strings.Split(os.Getenv(insecureSetting.env), ",")
	}
	insecure, err = insecureHosts(hosts)
	return jobs, insecure, err
}
