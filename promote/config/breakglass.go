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

// glassApprovals refuses a breakGlass.approvals that could never be met:
// more than the environment's approvals block lists approvers for, or any
// without an approvals block.
func (w *walker) glassApprovals(e *Environment, f map[string]entry, path string) error {
	if e.BreakGlass == nil || e.BreakGlass.Approvals == 0 {
		return nil
	}
	n := lookup(deref(f["breakGlass"].val), "approvals")
	field := join(path, "breakGlass.approvals")
	if e.Approvals == nil {
		return w.errf(n, field, "%d, but %s has no approvals block, so nothing could approve a break-glass promotion: "+
			"add approvals (required, keys or identities), or set breakGlass.approvals to 0", e.BreakGlass.Approvals, e.Name)
	}
	if most := e.Approvals.MostApprovers(); e.BreakGlass.Approvals > most {
		return w.errf(n, field, "%d, but only %d approvers are listed in approvals, each counted once: it could never be met; require at most %d",
			e.BreakGlass.Approvals, most, most)
	}
	return nil
}
