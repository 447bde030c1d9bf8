package gates

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func platformImg(p string) Image {
	parts := strings.Split(p, "/")
	pl := &v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		pl.Variant = parts[2]
	}
	return Image{Platform: pl, Config: &v1.ConfigFile{}}
}

func TestPlatforms(t *testing.T) {
	cases := []struct {
		name    string
		require []string
		only    bool
		have    []string
		pass    bool
		reason  string
	}{
		{"both present", []string{"linux/amd64", "linux/arm64"}, false, []string{"linux/amd64", "linux/arm64"}, true, "provides linux/amd64, linux/arm64"},
		{"variant satisfies arch", []string{"linux/arm64"}, false, []string{"linux/arm64/v8"}, true, ""},
		{"missing arm64", []string{"linux/amd64", "linux/arm64"}, false, []string{"linux/amd64"}, false, "missing platform linux/arm64"},
		{"extra refused with only", []string{"linux/amd64"}, true, []string{"linux/amd64", "linux/s390x"}, false, "linux/s390x"},
		{"extra allowed without only", []string{"linux/amd64"}, false, []string{"linux/amd64", "linux/s390x"}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := NewPlatforms(PlatformsConfig{Require: c.require, Only: c.only})
			require.NoError(t, err)
			s := &Subject{}
			for _, p := range c.have {
				s.Images = append(s.Images, platformImg(p))
			}
			v, err := g.Evaluate(context.Background(), s)
			require.NoError(t, err)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, c.reason)
		})
	}
	for _, bad := range [][]string{nil, {"linux"}, {"linux/amd64/v1/x"}, {"/amd64"}} {
		_, err := NewPlatforms(PlatformsConfig{Require: bad})
		assert.Error(t, err, bad)
	}
}

func TestMaxAge(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	g := maxAgeGate{max: 30 * 24 * time.Hour}
	cases := []struct {
		name    string
		created []time.Time
		pass    bool
		reason  string
	}{
		{"fresh", []time.Time{now.Add(-72 * time.Hour)}, true, "built 3d ago"},
		{"old", []time.Time{now.Add(-40 * 24 * time.Hour)}, false, "is 40d old"},
		{"one platform old", []time.Time{now.Add(-time.Hour), now.Add(-31 * 24 * time.Hour)}, false, "31d old"},
		{"epoch", []time.Time{time.Unix(0, 0)}, false, "reproducible-build timestamp"},
		{"unset", []time.Time{{}}, false, "no created time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Subject{Now: now}
			for i, cr := range c.created {
				img := platformImg([]string{"linux/amd64", "linux/arm64"}[i])
				img.Config.Created = v1.Time{Time: cr}
				s.Images = append(s.Images, img)
			}
			v, err := g.Evaluate(context.Background(), s)
			require.NoError(t, err)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, c.reason)
		})
	}
}

func TestNoSecretsInEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		labels  map[string]string
		history []string
		allow   []string
		rule    string // "" = pass
		where   string
	}{
		{"clean", []string{"PATH=/usr/bin", "DB_PASSWORD_FILE=/run/secrets/db", "TOKEN_URL=https://x"}, nil, []string{"RUN make"}, nil, "", ""},
		{"aws key in any variable", []string{"SOMETHING=AKIAIOSFODNN7EXAMPLE"}, nil, nil, nil, "aws-access-key-id", "env SOMETHING"},
		{"secret by name", []string{"DB_PASSWORD=hunter2"}, nil, nil, nil, "secret-name", "env DB_PASSWORD"},
		{"allowed name", []string{"DB_PASSWORD=hunter2"}, nil, nil, []string{"DB_PASSWORD"}, "", ""},
		{"empty value is no secret", []string{"API_KEY="}, nil, nil, nil, "", ""},
		{"github token in label", nil, map[string]string{"ci": "ghp_" + strings.Repeat("a", 36)}, nil, nil, "github-token", "label ci"},
		{"build arg in history", nil, nil, []string{"|1 NPM_TOKEN=abc123 /bin/sh -c npm ci"}, nil, "secret-name", "history[0] NPM_TOKEN"},
		{"private key in history", nil, nil, []string{"ENV KEY=-----BEGIN RSA PRIVATE KEY-----"}, nil, "private-key", "history[0]"},
		{"credentials in url", []string{"MIRROR=https://bob:s3cr3t@mirror.example.com/"}, nil, nil, nil, "credentials-in-url", "env MIRROR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := NewSecrets(SecretsConfig{Allow: c.allow})
			require.NoError(t, err)
			img := platformImg("linux/amd64")
			img.Config.Config.Env, img.Config.Config.Labels = c.env, c.labels
			for _, h := range c.history {
				img.Config.History = append(img.Config.History, v1.History{CreatedBy: h})
			}
			v, err := g.Evaluate(context.Background(), &Subject{Images: []Image{img}})
			require.NoError(t, err)
			if c.rule == "" {
				assert.True(t, v.Passed(), v.Reason)
				return
			}
			assert.False(t, v.Passed())
			assert.Contains(t, v.Reason, c.where+" ("+c.rule+")")
			for _, secret := range []string{"hunter2", "AKIAIOSFODNN7EXAMPLE", "abc123", "s3cr3t", strings.Repeat("a", 36)} {
				assert.NotContains(t, v.Reason, secret, "the secret itself is never shown")
				assert.NotContains(t, strings.ToLower(fmtEvidence(v)), strings.ToLower(secret))
			}
		})
	}
	_, err := NewSecrets(SecretsConfig{Patterns: []string{"("}})
	assert.ErrorContains(t, err, "patterns[0]")
	g, err := NewSecrets(SecretsConfig{Patterns: []string{`corp_[0-9]{8}`}})
	require.NoError(t, err)
	img := platformImg("linux/amd64")
	img.Config.Config.Env = []string{"X=corp_12345678"}
	v, err := g.Evaluate(context.Background(), &Subject{Images: []Image{img}})
	require.NoError(t, err)
	assert.Contains(t, v.Reason, "pattern-0")
}

// fmtEvidence renders evidence as text, to check no secret value is in it.
func fmtEvidence(v Verdict) string { return fmt.Sprintf("%+v", v.Evidence) }
