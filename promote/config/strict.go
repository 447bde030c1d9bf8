package config

import (
	"encoding"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxStrictNodes bounds the walk over a gate's settings, which aliases could
// otherwise blow up.
const maxStrictNodes = 100_000

var (
	yamlUnmarshaler     = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshaler = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
	textUnmarshaler     = reflect.TypeFor[encoding.TextUnmarshaler]()
	anyMap              = reflect.TypeFor[map[string]any]()
)

// strict checks n against the type of out (a pointer) the way yaml.v3 maps
// keys to struct fields, so that a key naming no field is reported at its own
// line. Values of types that decode themselves are not looked into; scalar
// values are left for yaml.v3 to convert.
func (w *walker) strict(n *yaml.Node, out any, path string) error {
	t := reflect.TypeOf(out)
	if t == nil || t.Kind() != reflect.Pointer {
		return w.errf(n, path, "the gate decoded its settings into %T, not a pointer (a bug in the gate)", out)
	}
	budget := maxStrictNodes
	return w.strictNode(n, t, path, &budget)
}

func (w *walker) strictNode(n *yaml.Node, t reflect.Type, path string, budget *int) error {
	n = deref(n)
	if *budget--; *budget < 0 {
		return w.errf(n, path, "too many nodes (more than %d once aliases are expanded); simplify the settings", maxStrictNodes)
	}
	if isNull(n) {
		return nil
	}
	for t.Kind() == reflect.Pointer && !decodesItself(t, n) {
		t = t.Elem()
	}
	if decodesItself(t, n) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return w.errf(n, path, "expected a mapping, found %s", describe(n))
		}
		fields := map[string]reflect.Type{}
		inline := structFields(t, fields)
		return w.strictMapping(n, path, budget, func(key string) (reflect.Type, bool) {
			if ft, ok := fields[key]; ok {
				return ft, true
			}
			if inline != nil {
				return inline.Elem(), true
			}
			return nil, false
		}, fields)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return w.errf(n, path, "expected a mapping, found %s", describe(n))
		}
		return w.strictMapping(n, path, budget, func(string) (reflect.Type, bool) { return t.Elem(), true }, nil)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && n.Kind == yaml.ScalarNode {
			return nil // !!binary
		}
		if n.Kind != yaml.SequenceNode {
			return w.errf(n, path, "expected a list, found %s", describe(n))
		}
		for i, item := range n.Content {
			if err := w.strictNode(item, t.Elem(), index(path, i), budget); err != nil {
				return err
			}
		}
	case reflect.Interface:
	default:
		if n.Kind != yaml.ScalarNode {
			return w.errf(n, path, "expected a value of type %s, found %s", t.Kind(), describe(n))
		}
	}
	return nil
}

// strictMapping checks each key of mapping n with field, which returns the
// type its value decodes into; known lists the allowed keys for messages.
func (w *walker) strictMapping(n *yaml.Node, path string, budget *int, field func(string) (reflect.Type, bool), known map[string]reflect.Type) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if first, dup := seen[k.Value]; dup {
			return w.errf(k, join(path, k.Value), "duplicate field (first set on line %d); give each field once", first)
		}
		seen[k.Value] = k.Line
		ft, ok := field(k.Value)
		if !ok {
			if len(known) == 0 {
				return w.errf(k, join(path, k.Value), "unknown field %q; this takes no settings, leave it empty", k.Value)
			}
			names := slices.Sorted(maps.Keys(known))
			return w.errf(k, join(path, k.Value), "unknown field %q; expected one of: %s", k.Value, strings.Join(names, ", "))
		}
		if err := w.strictNode(n.Content[i+1], ft, join(path, k.Value), budget); err != nil {
			return err
		}
	}
	return nil
}

// decodesItself reports whether yaml.v3 hands node n to t's own decoding.
func decodesItself(t reflect.Type, n *yaml.Node) bool {
	p := reflect.PointerTo(t)
	if t.Implements(yamlUnmarshaler) || p.Implements(yamlUnmarshaler) ||
		t.Implements(obsoleteUnmarshaler) || p.Implements(obsoleteUnmarshaler) {
		return true
	}
	return n.Kind == yaml.ScalarNode && (t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler))
}

// structFields adds the YAML keys of struct t to fields, following yaml.v3's
// rules (tag name or lowercased field name, "-" skipped, ",inline" merged),
// and returns the type of an inline map that takes any other key, if any.
func structFields(t reflect.Type, fields map[string]reflect.Type) (inline reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		if !slices.Contains(strings.Split(flags, ","), "inline") {
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Map:
			inline = ft
		case reflect.PointerTo(ft).Implements(yamlUnmarshaler):
			inline = anyMap // it sees the whole mapping and judges it itself
		case ft.Kind() == reflect.Struct:
			if in := structFields(ft, fields); in != nil {
				inline = in
			}
		}
	}
	return inline
}
