package config

import (
	"fmt"
	"regexp"
	"strings"
)

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${VAR} and ${VAR:-default} in s with values from lookup,
// as a POSIX shell does: the default applies when VAR is unset or empty, and
// is itself expanded. An unset VAR without a default is an error naming VAR.
// Braces inside a default are balanced, so ${R:-reg.example.com/{app}} works.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '{' {
			return "", fmt.Errorf("'$' at position %d of %q starts no ${VAR}; expected ${VAR} or ${VAR:-default}", i+1, s)
		}
		end := closing(s, i+1)
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q; expected ${VAR} or ${VAR:-default}", s)
		}
		v, err := expandOne(s[i:end+1], lookup)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		i = end + 1
	}
	return b.String(), nil
}

// expandOne expands ref, which is exactly one ${...}.
func expandOne(ref string, lookup func(string) (string, bool)) (string, error) {
	body := ref[2 : len(ref)-1]
	name, def, hasDef := strings.Cut(body, ":-")
	if !varName.MatchString(name) {
		return "", fmt.Errorf("%s is not a variable reference; expected ${VAR} or ${VAR:-default}, VAR made of letters, digits and _", ref)
	}
	v, set := lookup(name)
	switch {
	case hasDef && v == "":
		return expand(def, lookup)
	case !set:
		return "", fmt.Errorf("environment variable %s is not set and %s has no default; set %s or write ${%s:-default}", name, ref, name, name)
	}
	return v, nil
}

// closing returns the index of the '}' matching the '{' at open, or -1.
func closing(s string, open int) int {
	depth := 0
	for j := open; j < len(s); j++ {
		switch s[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}
