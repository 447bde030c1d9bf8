package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// colorOut marks stdout as a terminal that takes colour: the verdict words
// (PASS, FAIL, ERROR, REJECTED, BREAK-GLASS, FROZEN, REVOKED) are painted there, and nowhere else.
type colorOut struct{ io.Writer }

// wantColor reports whether w takes colour: a terminal, text output, and
// NO_COLOR (no-color.org) not set to anything.
func (s *state) wantColor(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && !s.json && !s.csv && !s.html && os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))
}

// ANSI SGR colours of the verdict words.
var paints = map[string]string{
	"PASS":        "\x1b[32m",
	"FAIL":        "\x1b[31m",
	"ERROR":       "\x1b[33m",
	"REJECTED":    "\x1b[1;31m",
	"BREAK-GLASS": "\x1b[1;33m",
	"FROZEN":      "\x1b[1;36m",
	"REVOKED":     "\x1b[1;31m",
	"GREEN":       "\x1b[32m",
	"AMBER":       "\x1b[33m",
	"RED":         "\x1b[31m",
}

// paint is word, coloured when w takes colour and the word has one.
func paint(w io.Writer, word string) string {
	if _, ok := w.(colorOut); !ok {
		return word
	}
	if c, ok := paints[word]; ok {
		return c + word + "\x1b[0m"
	}
	return word
}
