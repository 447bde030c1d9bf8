package config

import (
	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/promote/policy"
)

var windowFields = []string{"allow", "deny", "timezone"}

// windows decodes an environment's windows: a list of {allow: "Mon-Fri
// 09:00-16:00", timezone: Europe/Amsterdam} and {deny: "2026-12-24", or a
// range "2026-12-24..2027-01-02", timezone: …} entries; timezone is UTC
// when left out.
func (w *walker) windows(n *yaml.Node, path string) ([]policy.Window, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, w.errf(n, path, `expected a list such as [{allow: "Mon-Fri 09:00-16:00", timezone: Europe/Amsterdam}, {deny: "2026-12-24"}], found %s`, describe(n))
	}
	out := make([]policy.Window, 0, len(n.Content))
	for i, item := range n.Content {
		field := index(path, i)
		f, err := w.fields(item, field, "a window (allow or deny, and a timezone)", windowFields)
		if err != nil {
			return nil, err
		}
		var text [3]string
		for j, key := range windowFields {
			if ent, ok := f[key]; ok {
				if text[j], err = w.str(ent.val, join(field, key)); err != nil {
					return nil, err
				}
			}
		}
		win, err := policy.ParseWindow(text[0], text[1], text[2])
		if err != nil {
			return nil, w.errf(item, field, "%v", err)
		}
		out = append(out, win)
	}
	return out, nil
}
