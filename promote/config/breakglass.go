package config

import (
	"gopkg.in/yaml.v3"
)

// BreakGlass is an environment's leave to pass a closed window or a freeze
// with `promote to --break-glass TEXT`: recorded, shown loudly, and still
// held to Approvals distinct approvals (0: the justification alone).
type BreakGlass struct {
	Approvals int
}

// breakGlass decodes an environment's breakGlass block: {approvals: N},
// N ≥ 0; an empty mapping is {approvals: 0}.
func (w *walker) breakGlass(n *yaml.Node, path string) (*BreakGlass, error) {
	f, err := w.fields(n, path, "a mapping with approvals (how many approvals a break-glass promotion needs; 0 for none)",
		[]string{"approvals"})
	if err != nil {
		return nil, err
	}
	b := &BreakGlass{}
	if ent, ok := f["approvals"]; ok {
		field := join(path, "approvals")
		if b.Approvals, err = w.integer(ent.val, field); err != nil {
			return nil, err
		}
		if b.Approvals < 0 {
			return nil, w.errf(ent.val, field, "%d: expected 0 or more approvals", b.Approvals)
		}
	}
	return b, nil
}
