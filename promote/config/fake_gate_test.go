package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
)

// Gate kinds registered for these tests only. test-flag has settings of
// several shapes so the strict decoder is exercised; test-none has none.
const (
	flagKind = "test-flag"
	noneKind = "test-none"
)

type flagSettings struct {
	Require []string          `yaml:"require"`
	Level   int               `yaml:"level"`
	Nested  *nestedSettings   `yaml:"nested"`
	Extra   map[string]string `yaml:"extra"`
	Inline  inlineSettings    `yaml:",inline"`
}

type nestedSettings struct {
	Mode string `yaml:"mode"`
}

type inlineSettings struct {
	Style string // key "style": yaml.v3 lowercases untagged field names
}

type flagGate struct{ settings flagSettings }

func (g *flagGate) Evaluate(context.Context, *gates.Subject) (gates.Verdict, error) {
	return gates.Verdict{Name: flagKind, Verdict: verdict.Pass}, nil
}

type noneGate struct{}

func (noneGate) Evaluate(context.Context, *gates.Subject) (gates.Verdict, error) {
	return gates.Verdict{Name: noneKind, Verdict: verdict.Pass}, nil
}

func init() {
	gates.Register(flagKind, func(st gates.Settings) (gates.Gate, error) {
		decode := st.Decode
		g := &flagGate{}
		if err := decode(&g.settings); err != nil {
			// Wrapped on purpose: the loader must still report the decoder's
			// own line and field.
			return nil, fmt.Errorf("%s: %w", flagKind, err)
		}
		if g.settings.Level < 0 {
			return nil, errors.New("level: must be 0 or more")
		}
		return g, nil
	})
	gates.Register(noneKind, func(st gates.Settings) (gates.Gate, error) {
		decode := st.Decode
		var s struct{}
		if err := decode(&s); err != nil {
			return nil, err
		}
		return noneGate{}, nil
	})
}
