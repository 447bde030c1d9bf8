package admission

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// obj is a YAML mapping that keeps its keys in the order written, so that
// an exported object reads as Kubernetes objects are written (apiVersion,
// kind, metadata, spec; a rule's name first). Plain maps, such as labels,
// are sorted by key.
type obj []field

type field struct {
	k string
	v any
}

// o builds an obj of fields, in order.
func o(fields ...field) obj { return fields }

// f is one field of an obj.
func f(k string, v any) field { return field{k, v} }

// MarshalYAML renders the fields in order.
func (m obj) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range m {
		var v yaml.Node
		if err := v.Encode(f.v); err != nil {
			return nil, fmt.Errorf("%s: %w", f.k, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.k}, &v)
	}
	return n, nil
}

// list is a YAML sequence.
func list[T any](xs ...T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
