package config

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/errs"
)

// walker turns yaml.Node trees into values and every problem into an
// *errs.ConfigError naming the file, the node's line and the field path.
type walker struct {
	file  string
	lines int // lineCount of the file's data
}

func (w *walker) errf(n *yaml.Node, field, format string, a ...any) error {
	line := 0
	if n != nil {
		line = w.clamp(n.Line)
	}
	return &errs.ConfigError{File: w.file, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// entry is one key/value pair of a YAML mapping.
type entry struct {
	key, val *yaml.Node
}

// fields returns the entries of mapping n by key. It rejects a node that is
// not a mapping (what describes the expected content), non-string keys,
// duplicate keys and keys not in allowed.
func (w *walker) fields(n *yaml.Node, path, what string, allowed []string) (map[string]entry, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, w.errf(n, path, "expected %s, found %s", what, describe(n))
	}
	out := make(map[string]entry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			return nil, w.errf(k, path, "expected a field name, found %s", describe(k))
		}
		if k.Value == "<<" {
			return nil, w.errf(k, join(path, k.Value), "merge keys (<<) are not supported; write the fields out")
		}
		if prev, dup := out[k.Value]; dup {
			return nil, w.errf(k, join(path, k.Value), "duplicate field (first set on line %d); give each field once", prev.key.Line)
		}
		if !slices.Contains(allowed, k.Value) {
			return nil, w.errf(k, join(path, k.Value), "unknown field %q; expected one of: %s", k.Value, strings.Join(allowed, ", "))
		}
		out[k.Value] = entry{key: k, val: v}
	}
	return out, nil
}

// str returns the value of a string scalar; null counts as "".
func (w *walker) str(n *yaml.Node, path string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", w.errf(n, path, "expected a string, found %s", describe(n))
	}
	if n.ShortTag() == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

// stringList returns the items of a sequence of string scalars; null counts as empty.
func (w *walker) stringList(n *yaml.Node, path string) ([]string, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return []string{}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, w.errf(n, path, "expected a list of strings such as [a, b], found %s", describe(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		s, err := w.str(item, index(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// integer returns the value of an integer scalar.
func (w *walker) integer(n *yaml.Node, path string) (int, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, w.errf(n, path, "expected an integer, found %s", describe(n))
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, w.errf(n, path, "expected an integer, found %q", n.Value)
	}
	return v, nil
}

// syntax converts an error of the YAML parser on data into a ConfigError.
// yaml.v3 numbers parser errors from 0 and omits line 1; this corrects both.
func (w *walker) syntax(err error, data []byte) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := lineMsg.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			line++
		}
	}
	if parserProblems[msg] && msg != "did not find expected <document start>" {
		msg += " (check the indentation and brackets from this line on)"
	}
	if anchor, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		line = lineOf(data, "*"+strings.TrimSuffix(anchor, "' referenced"))
	}
	return &errs.ConfigError{File: w.file, Line: w.clamp(line), Msg: "invalid YAML: " + msg}
}

// clamp keeps a line number within the file: at the end of input yaml.v3
// counts a line that the file does not have (after "---", or after "{"
// without a newline).
func (w *walker) clamp(line int) int {
	return min(line, w.lines)
}

// parserProblems are the messages of yaml.v3's parser, as opposed to its
// scanner: their line is the 0-based line of the enclosing block.
var parserProblems = map[string]bool{
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
}

// lineOf returns the 1-based line of the first occurrence of s in data, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// lineCount returns the number of lines in data as YAML counts them (line
// breaks are \n, \r\n, \r, NEL, LS and PS); a last line without a break
// counts, an empty file has none.
func lineCount(data []byte) int {
	n, open := 0, false
	for i := 0; i < len(data); {
		switch {
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			n, open, i = n+1, false, i+2
		case data[i] == '\n' || data[i] == '\r':
			n, open, i = n+1, false, i+1
		case bytes.HasPrefix(data[i:], []byte("\u0085")):
			n, open, i = n+1, false, i+2
		case bytes.HasPrefix(data[i:], []byte("\u2028")) || bytes.HasPrefix(data[i:], []byte("\u2029")):
			n, open, i = n+1, false, i+3
		default:
			open, i = true, i+1
		}
	}
	if open {
		n++
	}
	return n
}

// lineMsg splits "line N: message", as yaml.v3 words its errors.
var lineMsg = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node holds, for "expected X, found Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		default:
			return fmt.Sprintf("%s %s", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
		}
	}
	return "an unexpected node"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
