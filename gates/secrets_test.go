package gates

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretsAllowExemptsNamesOnly: allow takes a name out of the name rule
// (DB_PASSWORD may hold a placeholder), never out of the value rules.
func TestSecretsAllowExemptsNamesOnly(t *testing.T) {
	cases := []struct {
		name, env, rule string // rule "" = pass
	}{
		{"allowed name, plain value", "DB_PASSWORD=changeme", ""},
		{"allowed name, AWS key value", "DB_PASSWORD=AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"},
		{"allowed name, private key value", "DB_PASSWORD=-----BEGIN PRIVATE KEY-----", "private-key"},
		{"allowed name, credentials in a URL", "DB_PASSWORD=postgres://app:s3cr3t@db:5432/app", "credentials-in-url"},
	}
	g, err := NewSecrets(SecretsConfig{Allow: []string{"DB_PASSWORD"}})
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := platformImg("linux/amd64")
			img.Config.Config.Env = []string{c.env}
			v, err := g.Evaluate(context.Background(), &Subject{Images: []Image{img}})
			require.NoError(t, err)
			if c.rule == "" {
				assert.True(t, v.Passed(), v.Reason)
				return
			}
			assert.False(t, v.Passed(), "a value that looks like a secret fails even under an allowed name")
			assert.Contains(t, v.Reason, "env DB_PASSWORD ("+c.rule+")")
			assert.NotContains(t, v.Reason, "AKIAIOSFODNN7EXAMPLE")
			assert.NotContains(t, fmtEvidence(v), "s3cr3t")
		})
	}
}
