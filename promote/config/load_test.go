package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

const testdata = "../../testdata/config"

func TestLoadValid(t *testing.T) {
	t.Setenv("PROMOTE_TEST_DEV_REGISTRY", "") // empty: the default applies
	path := filepath.Join(testdata, "valid.yaml")

	c, err := Load(path)
	require.NoError(t, err)

	require := []string{"org.opencontainers.image.source"}
	want := &Config{
		File:       path,
		Version:    1,
		Ledger:     filepath.Join(testdata, "state/ledger.db"),
		MovingTags: []string{"latest", "edge"},
		DeriveTags: []string{DeriveVersion, DeriveRevision},
		Limits:     Limits{}.WithDefaults(),
		Environments: []*Environment{
			{Name: "dev", Repository: "127.0.0.1:5001/dev/{app}", Tags: Mutable, Line: 8},
			{Name: "test", From: "dev", Repository: "127.0.0.1:5001/test/{app}", Tags: Immutable, Line: 11,
				Gates: []Gate{
					{Kind: flagKind, Gate: &flagGate{flagSettings{Require: require, Level: 2}}, Line: 16},
					{Kind: noneKind, Gate: noneGate{}, Line: 17},
				}},
			{Name: "prod", From: "test", Repository: "222222222222.dkr.ecr.eu-central-1.amazonaws.com/{app}", Tags: Immutable, Line: 18,
				AWS: &AWS{Region: "eu-central-1", RoleArn: "arn:aws:iam::222222222222:role/promoter"},
				Gates: []Gate{
					{Kind: flagKind, Gate: &flagGate{flagSettings{Require: append(require, "org.opencontainers.image.revision")}}, Line: 24},
				}},
		},
	}
	for _, e := range want.Environments {
		e.MaxImageAge, e.MaxBaseAge = DefaultMaxAge, DefaultMaxAge // the 30-day rule when not configured
	}
	assert.Equal(t, want, c)
}

func TestLoadExpandsFromEnvironment(t *testing.T) {
	t.Setenv("PROMOTE_TEST_DEV_REGISTRY", "registry.example.com:5000")
	c, err := Load(filepath.Join(testdata, "valid.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "registry.example.com:5000/dev/{app}", c.Environments[0].Repository)
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "environments.yaml")
	_, err := Load(path)
	require.ErrorIs(t, err, errs.ErrConfig)
	var ce *errs.ConfigError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, path, ce.File)
	assert.Contains(t, ce.Msg, "--config")
	assert.Contains(t, ce.Msg, "PROMOTE_CONFIG")
}

func TestParseDefaultsAndLedger(t *testing.T) {
	envs := lines("environments:", "  - {name: dev, repository: 'localhost:5000/{app}', tags: mutable}")
	tests := []struct {
		name, file, top string
		ledger          string
		moving, derive  []string
	}{
		{"defaults", "conf/envs.yaml", "", filepath.Join("conf", DefaultLedger), []string{"latest"}, []string{"version"}},
		{"bare file name", "envs.yaml", "", DefaultLedger, []string{"latest"}, []string{"version"}},
		{"s3 kept", "conf/envs.yaml", "ledger: s3://bucket/prefix\n", "s3://bucket/prefix", []string{"latest"}, []string{"version"}},
		{"absolute kept", "conf/envs.yaml", "ledger: /var/lib/promote/l.db\n", "/var/lib/promote/l.db", []string{"latest"}, []string{"version"}},
		{"empty lists", "envs.yaml", "movingTags: []\nderiveTags: []\n", DefaultLedger, []string{"latest"}, []string{}},
		{"latest not repeated", "envs.yaml", "movingTags: [stable, latest]\nderiveTags: [revision]\n", DefaultLedger, []string{"stable", "latest"}, []string{"revision"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.file, []byte("version: 1\n"+tt.top+string(envs)))
			require.NoError(t, err)
			assert.Equal(t, tt.ledger, c.Ledger)
			assert.Equal(t, tt.moving, c.MovingTags)
			assert.Equal(t, tt.derive, c.DeriveTags)
		})
	}
}

func TestLedgerMapping(t *testing.T) {
	envs := lines("environments:", "  - {name: dev, repository: 'localhost:5000/{app}', tags: mutable}")
	top := lines("ledger:", "  location: state/ledger.db", "  key: keys/ledger.key",
		"  public: promote.example/ledger+01234567+AbCd", "  witnesses: [reg.example/audit/ledger]")
	c, err := Parse("conf/envs.yaml", []byte("version: 1\n"+string(top)+string(envs)))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("conf", "state/ledger.db"), c.Ledger)
	assert.Equal(t, filepath.Join("conf", "keys/ledger.key"), c.LedgerKey, "resolved like the ledger")
	assert.Equal(t, "promote.example/ledger+01234567+AbCd", c.LedgerPublic, "a verifier key is kept as it is")
	assert.Equal(t, []string{"reg.example/audit/ledger"}, c.Witnesses)

	c, err = Parse("conf/envs.yaml", []byte("version: 1\nledger: {key: /etc/promote/k, public: keys/ledger.pub}\n"+string(envs)))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("conf", DefaultLedger), c.Ledger, "the default location")
	assert.Equal(t, "/etc/promote/k", c.LedgerKey)
	assert.Equal(t, filepath.Join("conf", "keys/ledger.pub"), c.LedgerPublic, "a file holding the verifier key")
	assert.Nil(t, c.Witnesses)
}

func TestEnvironmentWindows(t *testing.T) {
	cfg := lines("version: 1", "environments:",
		"  - name: prod",
		"    repository: 'localhost:5000/{app}'",
		"    tags: immutable",
		"    soak: 2d",
		"    windows:",
		"      - {allow: 'Mon-Fri 09:00-16:00', timezone: Europe/Amsterdam}",
		"      - {deny: '2026-12-24..2026-12-26', timezone: Europe/Amsterdam}")
	c, err := Parse("envs.yaml", cfg)
	require.NoError(t, err)
	prod, err := c.Env("prod")
	require.NoError(t, err)
	require.Len(t, prod.Windows, 2)
	assert.Equal(t, 48*time.Hour, prod.Soak)
	assert.Equal(t, "allow Mon-Fri 09:00-16:00 Europe/Amsterdam", prod.Windows[0].Text)

	for _, tc := range []struct{ entry, want string }{
		{"      - {allow: 'Mon-Fri 9-16'}", `environments[0].windows[0]: allow "Mon-Fri 9-16"`},
		{"      - {deny: '2026-12-24', timezone: Mars/Olympus}", "not an IANA time zone"},
		{"      - {allow: 'Mon-Fri 09:00-16:00', when: now}", `unknown field "when"`},
		{"      []\n    soak: soon", `environments[0].soak: duration "soon"`},
	} {
		bad := lines("version: 1", "environments:", "  - name: prod", "    repository: 'localhost:5000/{app}'",
			"    tags: immutable", "    windows:", tc.entry)
		_, err := Parse("envs.yaml", bad)
		require.Error(t, err, tc.entry)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// Soak from a first environment can never pass (the ledger does not know
// when a pushed digest arrived), so it is refused at load; breakGlass is
// read, and a negative count refused.
func TestSoakFromAFirstEnvironmentAndBreakGlass(t *testing.T) {
	pipeline := func(testExtra, prodExtra string) []byte {
		return lines("version: 1", "environments:",
			"  - {name: dev, repository: 'localhost:5000/dev/{app}', tags: mutable}",
			"  - name: test", "    from: dev", "    repository: 'localhost:5000/test/{app}'", "    tags: immutable", testExtra,
			"  - name: prod", "    from: test", "    repository: 'localhost:5000/prod/{app}'", "    tags: immutable", prodExtra)
	}
	_, err := Parse("envs.yaml", pipeline("    soak: 1h", ""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "envs.yaml:8: environments[1].soak: dev is fed by pushes")
	c, err := Parse("envs.yaml", pipeline("", "    soak: 1h\n    breakGlass: {}"))
	require.NoError(t, err)
	prod, err := c.Env("prod")
	require.NoError(t, err)
	assert.Equal(t, time.Hour, prod.Soak)
	require.NotNil(t, prod.BreakGlass)
	assert.Equal(t, 0, prod.BreakGlass.Approvals)
	_, err = Parse("envs.yaml", pipeline("", "    breakGlass: {approvals: 2}"))
	assert.ErrorContains(t, err, "environments[2].breakGlass.approvals: 2, but prod has no approvals block, so nothing could approve")
	_, err = Parse("envs.yaml", pipeline("", "    breakGlass: {approvals: -1}"))
	assert.ErrorContains(t, err, "environments[2].breakGlass.approvals: -1: expected 0 or more approvals")
	_, err = Parse("envs.yaml", pipeline("", "    breakGlass: {who: me}"))
	assert.ErrorContains(t, err, `unknown field "who"`)
}

// maxImageAge and maxBaseAge default to the 30-day rule, and are read
// strictly.
func TestAgePolicy(t *testing.T) {
	cfg := func(extra string) []byte {
		return lines("version: 1", "environments:", "  - name: prod", "    repository: 'localhost:5000/{app}'", "    tags: immutable", extra)
	}
	c, err := Parse("envs.yaml", cfg("    maxImageAge: 2w"))
	require.NoError(t, err)
	prod, _ := c.Env("prod")
	assert.Equal(t, 14*24*time.Hour, prod.MaxImageAge)
	assert.Equal(t, DefaultMaxAge, prod.MaxBaseAge)
	_, err = Parse("envs.yaml", cfg("    maxBaseAge: soon"))
	assert.ErrorContains(t, err, `envs.yaml:6: environments[0].maxBaseAge: duration "soon"`)
}

func TestConfigHelpers(t *testing.T) {
	t.Setenv("PROMOTE_TEST_DEV_REGISTRY", "")
	c, err := Load(filepath.Join(testdata, "valid.yaml"))
	require.NoError(t, err)

	prod, err := c.Env("prod")
	require.NoError(t, err)
	assert.Equal(t, "prod", prod.Name)
	assert.True(t, prod.Immutable())

	_, err = c.Env("staging")
	require.ErrorIs(t, err, errs.ErrUsage)
	assert.Contains(t, err.Error(), `"staging"`)
	assert.Contains(t, err.Error(), "dev, test, prod")

	dev, err := c.Env("dev")
	require.NoError(t, err)
	assert.False(t, dev.Immutable())

	assert.True(t, c.IsMoving("latest"))
	assert.True(t, c.IsMoving("edge"))
	assert.False(t, c.IsMoving("1.2.3"))

	assert.Equal(t, []*Environment{c.Environments[1]}, c.Downstream("dev"))
	assert.Equal(t, []*Environment{c.Environments[2]}, c.Downstream("test"))
	assert.Empty(t, c.Downstream("prod"))
}

// lines joins YAML lines, so that a test's line numbers can be read off.
func lines(l ...string) []byte {
	var b []byte
	for _, s := range l {
		b = append(b, s...)
		b = append(b, '\n')
	}
	return b
}

// TestParseSchemaExample parses the schema's own example, with the gate kinds
// the gates package registers.
func TestParseSchemaExample(t *testing.T) {
	unsetenv(t, "DEV_REGISTRY")
	data := lines(
		"version: 1",
		"ledger: .promote/ledger.db",
		"movingTags: [latest]",
		"deriveTags: [version]",
		"environments:",
		"  - name: dev",
		"    repository: ${DEV_REGISTRY:-127.0.0.1:5001}/dev/{app}",
		"    tags: mutable",
		"  - name: test",
		"    from: dev",
		"    repository: 127.0.0.1:5001/test/{app}",
		"    tags: immutable",
		"    gates:",
		"      - labels: {require: [org.opencontainers.image.source]}",
		"      - nonroot: {}",
	)
	c, err := Parse("environments.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, ".promote/ledger.db", c.Ledger)
	assert.Equal(t, "127.0.0.1:5001/dev/{app}", c.Environments[0].Repository)
	test := c.Environments[1]
	require.Len(t, test.Gates, 2)
	assert.Equal(t, []string{"labels", "nonroot"}, []string{test.Gates[0].Kind, test.Gates[1].Kind})
	assert.Equal(t, []int{14, 15}, []int{test.Gates[0].Line, test.Gates[1].Line})

	repo, err := test.RepositoryFor("api")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5001/test/api", repo)
}

func TestPointerTag(t *testing.T) {
	cfg, err := Parse("e.yaml", []byte("version: 1\nenvironments:\n  - name: dev\n    repository: r.example.com/dev/{app}\n    tags: mutable\n  - name: prod\n    from: dev\n    repository: r.example.com/prod/{app}\n    tags: immutable\n    pointerTag: current\n"))
	require.NoError(t, err)
	prod, err := cfg.Env("prod")
	require.NoError(t, err)
	assert.Equal(t, "current", prod.PointerTag)
	assert.True(t, cfg.IsMoving("current"), "a pointer tag moves, so it is never one of an immutable environment's tags")
	_, err = Parse("e.yaml", []byte("version: 1\nenvironments:\n  - name: dev\n    repository: r.example.com/dev/{app}\n    tags: mutable\n    pointerTag: 'bad tag'\n"))
	var ce *errs.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 6, ce.Line)
	assert.Equal(t, "environments[0].pointerTag", ce.Field)
}

func TestImmutabilityExclusions(t *testing.T) {
	src := "version: 1\nenvironments:\n  - name: prod\n    repository: 111111111111.dkr.ecr.eu-central-1.amazonaws.com/{app}\n    tags: immutable\n    aws: {immutabilityExclusions: [release-*]}\n"
	cfg, err := Parse("e.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []string{"release-*"}, cfg.Environments[0].AWS.ImmutabilityExclusions)
	_, err = Parse("e.yaml", []byte(strings.Replace(src, "[release-*]", "[release/x]", 1)))
	var ce *errs.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "environments[0].aws.immutabilityExclusions[0]", ce.Field)
}
