package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

// state is what one invocation shares between the app and its commands.
type state struct {
	stdout, stderr  io.Writer
	json, csv, html bool
	quiet           bool // only the result on stdout, only the error on stderr
	log             *slog.Logger
	configPath      string
	insecure        []string
	jobs            int
	command         string
	rendered        bool
	ledgerKeys      *promote.KeySource // read from the environment once (keys)
}

// configure resolves the global settings command uses (globals.go), before
// it runs; every other setting, and its variable, the command ignores.
func (s *state) configure(c *cli.Context, command string) error {
	s.command = command
	out, err := output(c, command)
	if err != nil {
		return err
	}
	s.json, s.csv, s.html = out == "json", out == "csv", out == "html"
	quiet, verbose, err := quietVerbose(c, command != "version")
	if err != nil {
		return err
	}
	s.quiet = quiet
	logTo := s.stderr
	if quiet {
		logTo = io.Discard
	}
	s.log = newLogger(logTo, verbose)
	s.configPath = c.String("config")
	s.jobs = c.Int(jobsSetting.flag)
	if !reachesRegistries[command] {
		return nil
	}
	if s.jobs, s.insecure, err = registrySettings(c); err != nil {
		return err
	}
	if !quiet {
		warnInsecure(s.stderr, s.insecure)
	}
	return nil
}

// openOptions are what promote.Open needs of the global flags.
func (s *state) openOptions() promote.OpenOptions {
	o := promote.OpenOptions{ConfigPath: s.configPath, Insecure: s.insecure, Jobs: s.jobs,
		UserAgent: "promote/" + version, Logger: s.log, Keys: s.keys()}
	if !s.quiet && s.showProgress(s.stderr) { // --quiet: only the result or the error
		o.Progress = newBarProgress(s.stderr)
	}
	return o
}

// keys are where the ledger key comes from besides the configuration: a CI
// system's secrets. Every command that opens the ledger reads them; the key
// is never printed.
func (s *state) keys() promote.KeySource {
	if s.ledgerKeys == nil {
		s.ledgerKeys = &promote.KeySource{Key: os.Getenv(ledgerKeyVar), File: os.Getenv(ledgerKeyFileVar)}
		// Read once, then out of the environment: the credential helpers
		// and any other process promote starts inherit it.
		os.Unsetenv(ledgerKeyVar)
	}
	return *s.ledgerKeys
}

// The ledger key's variables.
const (
	ledgerKeyVar     = "PROMOTE_LEDGER_KEY"
	ledgerKeyFileVar = "PROMOTE_LEDGER_KEY_FILE"
)

// document is the one JSON document --output json prints.
type document struct {
	MediaType string `json:"mediaType"`
	Command   string `json:"command"`
	OK        bool   `json:"ok"`
	ExitCode  int    `json:"exitCode"`
	Error     string `json:"error,omitempty"`
	Result    any    `json:"result,omitempty"`
}

// render prints a command's result (and its error, if any) exactly once.
func (s *state) render(command string, result any, text func(io.Writer), err error) error {
	s.rendered = true
	if s.csv {
		return s.renderCSV(command, result, err)
	}
	if s.html {
		return s.renderHTML(command, result, err)
	}
	if s.json {
		doc := document{MediaType: promote.ResultMediaType, Command: command, OK: err == nil, ExitCode: exitCode(err), Result: result}
		if err != nil {
			doc.Error = err.Error()
		}
		enc := json.NewEncoder(s.stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(doc); encErr != nil {
			return fmt.Errorf("writing output: %w", encErr)
		}
		return err
	}
	if s.quiet {
		return s.renderQuiet(result, text, err)
	}
	if text != nil && (result != nil) {
		out := s.stdout
		if s.wantColor(out) {
			out = colorOut{out}
		}
		text(out)
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "promote: %v\n", err)
	}
	return err
}

// fail reports an error that no command rendered (usage, config).
func (s *state) fail(err error) {
	if s.json && !s.csv {
		_ = s.render(s.command, nil, nil, err)
		return
	}
	fmt.Fprintf(s.stderr, "promote: %v\n", err)
}

// csvWriter is a result that has a CSV form (history).
type csvWriter interface{ writeCSV(io.Writer) error }

// renderCSV writes a result's CSV form to stdout (also beside an error
// that comes with a result, such as report --fail-on); errors go to stderr.
func (s *state) renderCSV(command string, result any, err error) error {
	cw, ok := result.(csvWriter)
	if result == nil || !ok {
		if err == nil {
			err = errs.Usagef("--output csv: %s has no CSV form; history and report have", command)
		}
		fmt.Fprintf(s.stderr, "promote: %v\n", err)
		return err
	}
	if werr := cw.writeCSV(s.stdout); werr != nil {
		return fmt.Errorf("writing CSV: %w", werr)
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "promote: %v\n", err)
	}
	return err
}

// htmlWriter is a result that has an HTML form (report).
type htmlWriter interface{ writeHTML(io.Writer) error }

// renderHTML writes a result's HTML form to stdout, as renderCSV does.
func (s *state) renderHTML(command string, result any, err error) error {
	hw, ok := result.(htmlWriter)
	if result == nil || !ok {
		if err == nil {
			err = errs.Usagef("--output html: %s has no HTML form; report has", command)
		}
		fmt.Fprintf(s.stderr, "promote: %v\n", err)
		return err
	}
	if werr := hw.writeHTML(s.stdout); werr != nil {
		return fmt.Errorf("writing HTML: %w", werr)
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "promote: %v\n", err)
	}
	return err
}
