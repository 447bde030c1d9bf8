package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestRepositoryPattern(t *testing.T) {
	const file = "environments.yaml"
	const expected = "; expected a pattern such as registry.example.com/team/{app}"
	tests := []struct {
		pattern string // as written in YAML
		err     string // "" when valid
	}{
		{pattern: "127.0.0.1:5001/dev/{app}"},
		{pattern: "localhost/{app}"},
		{pattern: "localhost:5000/team/{app}/images"},
		{pattern: "111111111111.dkr.ecr.eu-central-1.amazonaws.com/dev/{app}"},
		{pattern: "127.0.0.1:5001/{team}/{app}", err: "has the unknown placeholder {team}; only {app} is replaced" + expected},
		{pattern: "dev/{app}", err: `"dev/{app}" names no registry host`},
		{pattern: "'{app}'", err: "names no registry host"},
		{pattern: "'{app}.example.com/x/{app}'", err: "puts {app} in the registry host"},
		{pattern: "127.0.0.1:5001/dev/{app}:latest", err: "must not include a tag"},
		{pattern: "127.0.0.1:5001/dev/{app}@sha256:0123", err: "must not include a digest"},
		{pattern: "127.0.0.1:5001/dev/app", err: "has no {app}"},
		{pattern: "127.0.0.1:5001/Dev/{app}", err: "is not a valid repository"},
		{pattern: "127.0.0.1:5001/dev//{app}", err: `has an invalid path component ""`},
		{pattern: "127.0.0.1:5001/dev-/{app}", err: `has an invalid path component "dev-"`},
		{pattern: "127.0.0.1:5001/dev/{app", err: "has a '{' without its '}'"},
		{pattern: "127.0.0.1:5001/dev/app}", err: "has a '}' without its '{'"},
		{pattern: "$REGISTRY/{app}", err: "starts no ${VAR}"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			data := lines("version: 1", "environments:", "  - name: dev", "    repository: "+tt.pattern, "    tags: mutable")
			c, err := Parse(file, data)
			if tt.err == "" {
				require.NoError(t, err)
				assert.Equal(t, strings.Trim(tt.pattern, "'"), c.Environments[0].Repository)
				return
			}
			requireConfigError(t, err, file, 4, "environments[0].repository", tt.err)
		})
	}
}

func TestRepositoryFor(t *testing.T) {
	e := &Environment{Name: "test", Repository: "registry.example.com/test/{app}"}
	good := map[string]string{
		"api":             "registry.example.com/test/api",
		"team/api":        "registry.example.com/test/team/api",
		"a.b_c__d-e--f9":  "registry.example.com/test/a.b_c__d-e--f9",
		"0/1/2":           "registry.example.com/test/0/1/2",
		"payments-worker": "registry.example.com/test/payments-worker",
	}
	for app, want := range good {
		got, err := e.RepositoryFor(app)
		require.NoError(t, err, app)
		assert.Equal(t, want, got, app)
	}

	bad := []string{
		"", "API", "api:1.0", "api@sha256:0123", "/api", "api/", "team//api",
		"-api", "api-", "a..b", "a___b", "a b", "äpi", strings.Repeat("a", 255),
	}
	for _, app := range bad {
		_, err := e.RepositoryFor(app)
		require.ErrorIs(t, err, errs.ErrUsage, "%q", app)
		assert.Contains(t, err.Error(), `app name "`+app+`"`)
	}
}
