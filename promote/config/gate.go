package config

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/gates"
)

// gates decodes an environment's gates list; null means no gates.
func (w *walker) gates(n *yaml.Node, path string) ([]Gate, error) {
	if isNull(n) {
		return nil, nil
	}
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, w.errf(n, path, "expected a list of gates such as [{nonroot: {}}], found %s", describe(n))
	}
	out := make([]Gate, 0, len(n.Content))
	for j, item := range n.Content {
		g, err := w.gate(item, index(path, j))
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// gate decodes one gates item, a mapping with exactly one key: the gate kind,
// whose value (a mapping, or null for none) the kind's Factory decodes.
func (w *walker) gate(n *yaml.Node, path string) (Gate, error) {
	n = deref(n)
	known := "expected one of: " + strings.Join(gates.Names(), ", ")
	if len(gates.Names()) == 0 {
		known = "no gate kinds are registered in this build"
	}
	switch {
	case n.Kind != yaml.MappingNode:
		return Gate{}, w.errf(n, path, "expected a gate as a one-key mapping such as {nonroot: {}}, found %s; %s", describe(n), known)
	case len(n.Content) == 0:
		return Gate{}, w.errf(n, path, "empty; expected a gate kind as the only key; %s", known)
	case len(n.Content) > 2:
		second := deref(n.Content[2])
		return Gate{}, w.errf(second, join(path, second.Value),
			"a gate item has exactly one key, the gate kind, but %q follows %q; write each gate as its own list item (- kind: {...})",
			second.Value, deref(n.Content[0]).Value)
	}
	k, v := deref(n.Content[0]), deref(n.Content[1])
	if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
		return Gate{}, w.errf(k, path, "expected a gate kind as the key, found %s; %s", describe(k), known)
	}
	field := join(path, k.Value)
	factory, ok := gates.Lookup(k.Value)
	if !ok {
		return Gate{}, w.errf(k, field, "unknown gate kind %q; %s", k.Value, known)
	}
	if !isNull(v) && v.Kind != yaml.MappingNode {
		return Gate{}, w.errf(v, field, "expected the gate's settings as a mapping (or nothing), found %s", describe(v))
	}

	var decodeErr error
	decode := func(out any) error {
		decodeErr = w.decodeStrict(v, out, field)
		return decodeErr
	}
	g, err := factory(gates.Settings{Decode: decode, Dir: filepath.Dir(w.file)})
	switch {
	case err != nil && decodeErr != nil && errors.Is(err, decodeErr):
		return Gate{}, decodeErr // already names the line and field at fault
	case err != nil:
		return Gate{}, w.errf(k, field, "%v", err)
	case g == nil:
		return Gate{}, w.errf(k, field, "the %s gate returned no gate and no error (a bug in the gate)", k.Value)
	}
	return Gate{Kind: k.Value, Gate: g, Line: k.Line}, nil
}

// decodeStrict decodes n into out, rejecting keys that name no field of the
// struct they decode into; null leaves out as it is.
func (w *walker) decodeStrict(n *yaml.Node, out any, path string) error {
	if isNull(n) {
		return nil
	}
	if err := w.strict(n, out, path); err != nil {
		return err
	}
	err := n.Decode(out)
	if err == nil {
		return nil
	}
	// yaml.TypeError lists "line N: cannot unmarshal ..."; report the first.
	line, msg := n.Line, err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
		if m := lineMsg.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
	}
	return w.errf(&yaml.Node{Line: line}, path, "%s", msg)
}
