package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// shellCommands splits a shell script into its simple commands, each a list
// of words with quotes removed, recursing into $(...) substitutions. It
// knows enough of the shell for CI scripts: quotes, backslashes, comments,
// command separators and redirections; it does not expand anything.
func shellCommands(script string) [][]string {
	l := &shellLexer{src: []rune(script)}
	l.lex()
	return l.cmds
}

type shellLexer struct {
	src      []rune
	i        int
	word     strings.Builder
	inWord   bool
	redirect bool // the next word is a redirection target, not an argument
	cur      []string
	cmds     [][]string
}

func (l *shellLexer) lex() {
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == ' ' || c == '\t':
			l.endWord()
		case c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')':
			l.endCommand()
		case c == '>' || c == '<':
			if w := l.word.String(); l.inWord && strings.Trim(w, "0123456789") == "" {
				l.word.Reset() // 2>file: the digits name a descriptor
				l.inWord = false
			}
			l.endWord()
			for l.i+1 < len(l.src) && strings.ContainsRune(">&", l.src[l.i+1]) {
				l.i++
			}
			l.redirect = true
		case c == '#' && !l.inWord:
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.i++
			}
			continue
		case c == '\\':
			l.i++
			if l.i < len(l.src) && l.src[l.i] != '\n' {
				l.add(l.src[l.i])
			}
		case c == '\'':
			l.inWord = true
			for l.i++; l.i < len(l.src) && l.src[l.i] != '\''; l.i++ {
				l.word.WriteRune(l.src[l.i])
			}
		case c == '"':
			l.inWord = true
			l.doubleQuoted()
		case c == '$' && l.peek() == '(':
			l.substitution()
		default:
			l.add(c)
		}
		l.i++
	}
	l.endCommand()
}

func (l *shellLexer) peek() rune {
	if l.i+1 < len(l.src) {
		return l.src[l.i+1]
	}
	return 0
}

func (l *shellLexer) add(c rune) {
	l.word.WriteRune(c)
	l.inWord = true
}

// doubleQuoted reads up to the closing quote; l.i is on the opening one.
func (l *shellLexer) doubleQuoted() {
	for l.i++; l.i < len(l.src) && l.src[l.i] != '"'; l.i++ {
		switch c := l.src[l.i]; {
		case c == '\\' && l.i+1 < len(l.src):
			l.i++
			l.word.WriteRune(l.src[l.i])
		case c == '$' && l.peek() == '(':
			l.substitution()
		default:
			l.word.WriteRune(c)
		}
	}
}

// substitution lexes $(...) as a script of its own and leaves "$(...)" in
// the word; l.i is on the '$' and ends on the closing parenthesis.
func (l *shellLexer) substitution() {
	start, depth := l.i+2, 0
	var quote rune
	for l.i += 2; l.i < len(l.src); l.i++ {
		c := l.src[l.i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')' && depth == 0:
			l.cmds = append(l.cmds, shellCommands(string(l.src[start:l.i]))...)
			l.word.WriteString("$(...)")
			l.inWord = true
			return
		case c == ')':
			depth--
		}
	}
}

func (l *shellLexer) endWord() {
	if !l.inWord {
		return
	}
	if l.redirect {
		l.redirect = false
	} else {
		l.cur = append(l.cur, l.word.String())
	}
	l.word.Reset()
	l.inWord = false
}

func (l *shellLexer) endCommand() {
	l.endWord()
	l.redirect = false
	if len(l.cur) > 0 {
		l.cmds = append(l.cmds, l.cur)
	}
	l.cur = nil
}

var shellAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// promoteInvocations returns the commands of script that run promote, from
// the word after "promote", leaving out the shell keywords and variable
// assignments before it.
func promoteInvocations(script string) [][]string {
	var out [][]string
	for _, words := range shellCommands(script) {
		for len(words) > 0 && (shellAssignment.MatchString(words[0]) || isShellKeyword(words[0])) {
			words = words[1:]
		}
		if len(words) > 0 && words[0] == "promote" {
			out = append(out, words[1:])
		}
	}
	return out
}

func isShellKeyword(w string) bool {
	switch w {
	case "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "exec":
		return true
	}
	return false
}

// checkPromoteArgs checks a promote command line (the words after
// "promote") against the app's real definitions: every command and
// subcommand exists, every flag is the command's or a global one, a flag
// that takes a value has one, and the positional arguments are as many as
// the command's usage line asks for.
func checkPromoteArgs(app *cli.App, args []string) error {
	globals := flagSet(app.Flags)
	globals["version"], globals["v"] = false, false
	cmds, flags := app.Commands, globals
	var path []string
	var cmd *cli.Command
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" && a != "--" {
			n := flagName(a)
			takes, ok := flags[n]
			if !ok {
				takes, ok = globals[n]
			}
			if !ok {
				return fmt.Errorf("%q: promote %s has no flag --%s", strings.Join(args, " "), strings.Join(path, " "), n)
			}
			if takes && !strings.Contains(a, "=") {
				if i+1 == len(args) {
					return fmt.Errorf("%q: --%s needs a value", strings.Join(args, " "), n)
				}
				i++
			}
			continue
		}
		if len(cmds) > 0 && len(pos) == 0 {
			c := findCommand(cmds, a)
			if c == nil {
				return fmt.Errorf("%q: promote %s has no command %q", strings.Join(args, " "), strings.Join(path, " "), a)
			}
			path, cmd, cmds, flags = append(path, a), c, c.Subcommands, mergeFlags(globals, flagSet(c.Flags))
			continue
		}
		pos = append(pos, a)
	}
	switch {
	case len(cmds) > 0 && cmd != nil: // a group (ledger, envs): alone it only lists its subcommands
		return fmt.Errorf("%q: promote %s needs a subcommand", strings.Join(args, " "), strings.Join(path, " "))
	case cmd == nil:
		if len(pos) > 0 {
			return fmt.Errorf("%q: no command", strings.Join(args, " "))
		}
		return nil
	}
	lo, hi := usageArity(cmd.UsageText)
	if slices.Contains(pos, "$@") { // a script's own arguments: any number
		return nil
	}
	if len(pos) < lo || (hi >= 0 && len(pos) > hi) {
		return fmt.Errorf("%q: %d positional arguments, usage is %q", strings.Join(args, " "), len(pos), cmd.UsageText)
	}
	return nil
}

func mergeFlags(a, b map[string]bool) map[string]bool {
	m := map[string]bool{}
	for _, s := range []map[string]bool{a, b} {
		for k, v := range s {
			m[k] = v
		}
	}
	return m
}

var (
	usageFlag = regexp.MustCompile(`\[-[^\]]*\]\.*|--?[a-z][\w-]*( [A-Z][^ ]*)?`)
)

// usageArity reads how many positional arguments a usage line such as
// "promote to ENV APP[:TAG|@DIGEST]... [--tag TAG]..." takes: at least lo,
// at most hi (-1: no limit).
func usageArity(usage string) (lo, hi int) {
	words := strings.Fields(usageFlag.ReplaceAllString(usage, ""))
	for _, w := range words {
		if w != strings.ToUpper(w) { // "promote" and the command path
			continue
		}
		if !strings.HasPrefix(w, "[") {
			lo++
		}
		switch {
		case strings.HasSuffix(w, "...") || strings.HasSuffix(w, "...]"):
			hi = -1
		case hi >= 0:
			hi++
		}
	}
	return lo, hi
}
