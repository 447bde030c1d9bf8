package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGateErrors(t *testing.T) {
	const file = "environments.yaml"
	const g0 = "environments[0].gates[0]"
	tests := []struct {
		name  string
		gates []string // lines 6 and on
		line  int
		field string
		msg   string
	}{
		{"gates not a list", []string{"    gates: {test-none: {}}"}, 6, "environments[0].gates", "expected a list of gates"},
		{"item not a mapping", []string{"    gates: [test-none]"}, 6, g0, `expected a gate as a one-key mapping such as {nonroot: {}}, found the string "test-none"`},
		{"item empty", []string{"    gates: [{}]"}, 6, g0, "empty; expected a gate kind as the only key"},
		{"item with two keys", []string{"    gates:", "      - test-none: {}", "        test-flag: {}"}, 8, g0 + ".test-flag",
			`a gate item has exactly one key, the gate kind, but "test-flag" follows "test-none"`},
		{"unknown kind", []string{"    gates:", "      - no-such-gate: {}"}, 7, g0 + ".no-such-gate", `unknown gate kind "no-such-gate"; expected one of:`},
		{"unknown kind lists known", []string{"    gates:", "      - no-such-gate: {}"}, 7, g0 + ".no-such-gate", "test-flag, test-none"},
		{"settings not a mapping", []string{"    gates:", "      - test-flag: [a]"}, 7, g0 + ".test-flag",
			"expected the gate's settings as a mapping (or nothing), found a list"},
		{"unknown settings field", []string{"    gates:", "      - test-flag:", "          require: [a]", "          levle: 3"}, 9, g0 + ".test-flag.levle",
			`unknown field "levle"; expected one of: extra, level, nested, require, style`},
		{"unknown nested field", []string{"    gates:", "      - test-flag: {nested: {mod: x}}"}, 7, g0 + ".test-flag.nested.mod",
			`unknown field "mod"; expected one of: mode`},
		{"settings for a gate without settings", []string{"    gates:", "      - test-none: {x: 1}"}, 7, g0 + ".test-none.x", "takes no settings"},
		{"duplicate settings field", []string{"    gates:", "      - test-flag:", "          level: 1", "          level: 2"}, 9, g0 + ".test-flag.level",
			"duplicate field (first set on line 8)"},
		{"list expected", []string{"    gates:", "      - test-flag: {require: x}"}, 7, g0 + ".test-flag.require", `expected a list, found the string "x"`},
		{"scalar expected", []string{"    gates:", "      - test-flag: {level: [1]}"}, 7, g0 + ".test-flag.level", "expected a value of type int, found a list"},
		{"scalar of the wrong type", []string{"    gates:", "      - test-flag:", "          level: high"}, 8, g0 + ".test-flag",
			"cannot unmarshal !!str `high` into int"},
		{"factory rejects", []string{"    gates:", "      - test-none:", "      - test-flag: {level: -1}"}, 8, "environments[0].gates[1].test-flag",
			"level: must be 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(file, withDev(tt.gates...))
			requireConfigError(t, err, file, tt.line, tt.field, tt.msg)
		})
	}
}

func TestGateSettings(t *testing.T) {
	data := withDev(
		"    gates:",
		"      - test-none:",
		"      - test-none: {}",
		"      - test-flag: &strict",
		"          require: [a, b]",
		"          level: 3",
		"          style: loud",
		"          nested: {mode: fast}",
		"          extra: {k: v}",
		"  - name: test",
		"    from: dev",
		"    repository: 127.0.0.1:5001/test/{app}",
		"    tags: immutable",
		"    gates:",
		"      - test-flag: *strict",
	)
	c, err := Parse("environments.yaml", data)
	require.NoError(t, err)

	want := &flagGate{flagSettings{
		Require: []string{"a", "b"},
		Level:   3,
		Nested:  &nestedSettings{Mode: "fast"},
		Extra:   map[string]string{"k": "v"},
		Inline:  inlineSettings{Style: "loud"},
	}}
	dev, test := c.Environments[0], c.Environments[1]
	require.Len(t, dev.Gates, 3)
	assert.Equal(t, Gate{Kind: noneKind, Gate: noneGate{}, Line: 7}, dev.Gates[0])
	assert.Equal(t, Gate{Kind: noneKind, Gate: noneGate{}, Line: 8}, dev.Gates[1])
	assert.Equal(t, Gate{Kind: flagKind, Gate: want, Line: 9}, dev.Gates[2])
	require.Len(t, test.Gates, 1)
	assert.Equal(t, Gate{Kind: flagKind, Gate: want, Line: 20}, test.Gates[0])
}
