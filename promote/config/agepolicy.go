package config

import (
	"time"

	"github.com/promote-dev/promote/gates"
)

// DefaultMaxAge is how old, by default, an image an environment runs and
// the base it was built on may be before promote report calls it old: the
// 30-day rule of continuous patching.
const DefaultMaxAge = 30 * 24 * time.Hour

// agePolicy reads an environment's maxImageAge and maxBaseAge (promote
// report's patching policy), each DefaultMaxAge when left out.
func (w *walker) agePolicy(e *Environment, f map[string]entry, path string) error {
	e.MaxImageAge, e.MaxBaseAge = DefaultMaxAge, DefaultMaxAge
	for key, dst := range map[string]*time.Duration{"maxImageAge": &e.MaxImageAge, "maxBaseAge": &e.MaxBaseAge} {
		ent, ok := f[key]
		if !ok {
			continue
		}
		field := join(path, key)
		s, err := w.str(ent.val, field)
		if err != nil {
			return err
		}
		d, err := gates.ParseDuration(s)
		if err != nil {
			return w.errf(ent.val, field, "%v; promote report calls an image (or its base) older than this old", err)
		}
		*dst = time.Duration(d)
	}
	return nil
}
