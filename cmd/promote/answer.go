package main

import (
	"io"

	"github.com/urfave/cli/v2"
)

// answer is a command's result when it succeeds: v, and how to print it as
// text. On an error there is no result, only the error.
func answer[T any](v T, err error, text func(io.Writer, T)) (any, func(io.Writer), error) {
	if err != nil {
		return nil, nil, err
	}
	return v, func(w io.Writer) { text(w, v) }, nil
}

// partial is a command's result that stands beside its error, as a refused
// promotion's gate verdicts do; a nil v means there is nothing to show.
func partial[T any](v *T, err error, text func(io.Writer, *T)) (any, func(io.Writer), error) {
	if v == nil {
		return nil, nil, err
	}
	return v, func(w io.Writer) { text(w, v) }, err
}

// command declares a command: its name, its usage line (what follows
// "promote "), a one-line summary and its flags. The caller adds the
// action and any description.
func command(name, usage, summary string, flags ...cli.Flag) *cli.Command {
	return &cli.Command{Name: name, Usage: summary, UsageText: "promote " + usage, Flags: flags}
}
