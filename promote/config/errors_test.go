package config

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// requireConfigError asserts that err is a *errs.ConfigError matching
// errs.ErrConfig, at file:line, on field, with msg in its message.
func requireConfigError(t *testing.T, err error, file string, line int, field, msg string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, errs.ErrConfig)
	var ce *errs.ConfigError
	require.True(t, errors.As(err, &ce), "want *errs.ConfigError, got %T: %v", err, err)
	assert.Equal(t, file, ce.File, "file")
	assert.Equal(t, line, ce.Line, "line")
	assert.Equal(t, field, ce.Field, "field")
	assert.Contains(t, ce.Msg, msg, "message")
}

// dev is a valid first environment on lines 3-5 after "version: 1" and "environments:".
var dev = []string{
	"version: 1",
	"environments:",
	"  - name: dev",
	"    repository: 127.0.0.1:5001/dev/{app}",
	"    tags: mutable",
}

// withDev returns dev followed by more lines, the first of them line 6.
func withDev(more ...string) []byte { return lines(append(append([]string{}, dev...), more...)...) }

func TestParseErrors(t *testing.T) {
	const file = "conf/environments.yaml"
	tests := []struct {
		name  string
		data  []byte
		line  int
		field string
		msg   string
	}{
		// YAML itself.
		{"syntax error", lines("version: 1", "environments:", "  - name: [dev", "    tags: mutable"), 3, "", "invalid YAML"},
		{"parser error on a later line", lines("- dev", "version: 1"), 2, "", "did not find expected '-' indicator"},
		{"unknown anchor", lines("version: 1", "environments:", "  - *dev"), 3, "", "unknown anchor 'dev' referenced"},
		{"tab indentation", lines("version: 1", "\tenvironments: []"), 2, "", "tab character"},
		{"empty file", nil, 0, "", "the file is empty"},
		{"two documents", lines("version: 1", "---", "version: 1"), 2, "", "second YAML document"},
		{"not a mapping", lines("- dev"), 1, "", "expected a mapping with version: 1 and environments, found a list"},

		// Top level.
		{"version missing", lines("environments: []"), 1, "version", "missing; expected version: 1"},
		{"version unsupported", lines("version: 2", "environments: []"), 1, "version", "unsupported version 2; expected 1"},
		{"version not an integer", lines(`version: "1"`), 1, "version", `expected an integer, found the string "1"`},
		{"unknown top-level field", lines("version: 1", "ledgr: x.db"), 2, "ledgr",
			`unknown field "ledgr"; expected one of: version, ledger, movingTags, deriveTags, limits, environments`},
		{"duplicate top-level key", withDev("environments: []"), 6, "environments", "duplicate field (first set on line 2)"},
		{"environments missing", lines("version: 1"), 1, "environments", "missing; expected a list of environments"},
		{"environments wrong type", lines("version: 1", "environments: foo"), 2, "environments", `expected a list of environments (- name: dev ...), found the string "foo"`},
		{"environments empty", lines("version: 1", "environments: []"), 2, "environments", "expected at least one environment"},
		{"ledger unknown scheme", lines("version: 1", "ledger: gs://bucket/l", "environments: []"), 2, "ledger", "unsupported scheme"},
		{"ledger wrong type", lines("version: 1", "ledger: [a]"), 2, "ledger", "expected a string, found a list"},
		{"ledger mapping unknown field", lines("version: 1", "ledger: {location: l.db, keyfile: k}"), 2, "ledger.keyfile",
			`unknown field "keyfile"; expected one of: location, key, public, witnesses`},
		{"ledger key given inline", lines("version: 1", "ledger: {key: PRIVATE+KEY+x+1+y}"), 2, "ledger.key", "never the key itself"},
		{"ledger public is a signer key", lines("version: 1", "ledger: {public: PRIVATE+KEY+x+1+y}"), 2, "ledger.public", "verifier key"},
		{"ledger location unknown scheme", lines("version: 1", "ledger:", "  location: gs://b/l"), 3, "ledger.location", "unsupported scheme"},
		{"ledger witnesses not a list", lines("version: 1", "ledger: {witnesses: r}"), 2, "ledger.witnesses", "expected a list of strings"},
		{"movingTags wrong type", lines("version: 1", "movingTags: latest"), 2, "movingTags", "expected a list of strings"},
		{"movingTags bad tag", lines("version: 1", "movingTags:", "  - latest", "  - .hidden"), 4, "movingTags[1]", `".hidden" is not a valid tag name`},
		{"deriveTags unknown kind", lines("version: 1", "deriveTags: [version, sha]"), 2, "deriveTags[1]", `unknown kind "sha"; expected one of: version, revision`},
		{"deriveTags twice", lines("version: 1", "deriveTags: [version, version]"), 2, "deriveTags[1]", "listed twice"},

		// One environment.
		{"environment not a mapping", lines("version: 1", "environments:", "  - dev"), 3, "environments[0]", `expected an environment (a mapping with name, repository and tags), found the string "dev"`},
		{"unknown environment field", withDev("    tag: immutable"), 6, "environments[0].tag",
			`unknown field "tag"; expected one of: name, from, repository, tags, pointerTag, gates, aws`},
		{"duplicate environment key", withDev("    tags: immutable"), 6, "environments[0].tags", "duplicate field (first set on line 5)"},
		{"name missing", lines("version: 1", "environments:", "  - repository: 127.0.0.1:5001/dev/{app}", "    tags: mutable"), 3, "environments[0].name", "missing; expected a lowercase name"},
		{"name invalid", lines("version: 1", "environments:", "  - name: Dev"), 3, "environments[0].name", `"Dev" is not a valid name; expected a lowercase name such as dev`},
		{"name wrong type", lines("version: 1", "environments:", "  - name: {a: b}"), 3, "environments[0].name", "expected a string, found a mapping"},
		{"tags missing", lines(dev[:4]...), 3, "environments[0].tags", "missing; expected mutable or immutable"},
		{"tags unknown", lines(append(dev[:4:4], "    tags: mutible")...), 5, "environments[0].tags", `unknown tag policy "mutible"; expected mutable or immutable`},
		{"repository missing", lines("version: 1", "environments:", "  - name: dev", "    tags: mutable"), 3, "environments[0].repository", "missing; expected a pattern such as registry.example.com/team/{app}"},
		{"aws bad region", withDev("    aws: {region: europe}"), 6, "environments[0].aws.region", `"europe" is not an AWS region`},
		{"aws unknown field", withDev("    aws: {role: x}"), 6, "environments[0].aws.role", "expected one of: region, profile, roleArn, registryId, immutabilityExclusions"},

		// Between environments.
		{"duplicate name", withDev("  - name: dev", "    repository: 127.0.0.1:5001/other/{app}", "    tags: mutable"), 6, "environments[1].name",
			`environment "dev" is already defined as environments[0] on line 3`},
		{"duplicate repository", withDev("  - name: test", "    repository: 127.0.0.1:5001/dev/{app}", "    tags: immutable"), 7, "environments[1].repository",
			`environments dev and test both use the repository "127.0.0.1:5001/dev/{app}"`},
		{"duplicate repository after expansion", withDev("  - name: test", "    repository: ${PROMOTE_TEST_UNSET:-127.0.0.1:5001}/dev/{app}", "    tags: immutable"), 7, "environments[1].repository",
			"environments dev and test both use"},
		{"from unknown", withDev("  - name: test", "    from: staging", "    repository: 127.0.0.1:5001/test/{app}", "    tags: immutable"), 7, "environments[1].from",
			`unknown environment "staging"; expected one of: dev, test`},
		{"from itself", withDev("  - name: test", "    from: test", "    repository: 127.0.0.1:5001/test/{app}", "    tags: immutable"), 7, "environments[1].from",
			"environment test names itself"},
		{"from cycle", withDev(
			"  - name: test", "    from: prod", "    repository: 127.0.0.1:5001/test/{app}", "    tags: immutable",
			"  - name: prod", "    from: test", "    repository: 127.0.0.1:5001/prod/{app}", "    tags: immutable",
		), 7, "environments[1].from", "the from links form a cycle: test -> prod -> test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(file, tt.data)
			requireConfigError(t, err, file, tt.line, tt.field, tt.msg)
		})
	}
}

func TestLoadErrorFixtures(t *testing.T) {
	tests := []struct {
		file  string
		line  int
		field string
		msg   string
	}{
		{"unknown-field.yaml", 6, "environments[0].tag", `unknown field "tag"`},
		{"from-cycle.yaml", 7, "environments[1].from", "cycle: test -> prod -> test"},
		{"bad-gate.yaml", 14, "environments[1].gates[1].test-flag.levle", `unknown field "levle"; expected one of: extra, level, nested, require, style`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(testdata, tt.file)
			_, err := Load(path)
			requireConfigError(t, err, path, tt.line, tt.field, tt.msg)
		})
	}
}
