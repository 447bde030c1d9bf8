package promote

import (
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
)

// tagEngine is an engine with a configuration and nothing else: tag choice
// reads the configuration only. derive is the deriveTags list, e.g. "[version]".
func tagEngine(t *testing.T, derive string) *Engine {
	t.Helper()
	cfg, err := config.Parse("environments.yaml", []byte(fmt.Sprintf(`version: 1
ledger: ledger.db
movingTags: [stable]
deriveTags: %s
environments:
  - name: dev
    repository: reg.example/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: reg.example/test/{app}
    tags: immutable
    pointerTag: current
  - name: qa
    from: dev
    repository: reg.example/qa/{app}
    tags: mutable
`, derive)))
	require.NoError(t, err)
	return &Engine{cfg: cfg}
}

// subjectWith is a subject with one image per label set (nil: no config).
func subjectWith(labels ...map[string]string) *gates.Subject {
	s := &gates.Subject{}
	for _, l := range labels {
		img := gates.Image{}
		if l != nil {
			img.Config = &v1.ConfigFile{Config: v1.Config{Labels: l}}
		}
		s.Images = append(s.Images, img)
	}
	return s
}

func ver(v string) map[string]string { return map[string]string{labelVersion: v} }

const longRev = "0123456789abcdef0123456789abcdef01234567"

func TestTargetTags(t *testing.T) {
	both := map[string]string{labelVersion: "1.2.3", labelRevision: longRev}
	sig := "sha256-" + hex64 + ".sig"
	cases := []struct {
		name    string
		derive  string
		env     string
		given   string   // the source as given
		src     []string // the source's tags
		s       *gates.Subject
		extra   []string // --tag
		want    []string
		wantErr error
		msg     string // the whole error message
	}{
		{name: "a version tag travels", env: "test", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both), want: []string{"1.2.3"}},
		{name: "--tag comes first, each tag once", env: "test", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both),
			extra: []string{"build-7", "1.2.3", "build-7"}, want: []string{"build-7", "1.2.3"}},
		{name: "tags of a record travel", env: "test", given: "web@sha256:" + hex64, src: []string{"1.2.3", "build-7"}, s: subjectWith(),
			want: []string{"1.2.3", "build-7"}},
		{name: "latest into immutable: version and revision derived", derive: "[version, revision]", env: "test", given: "web:latest",
			src: []string{"latest"}, s: subjectWith(both, both), want: []string{"1.2.3", "0123456789ab"}},
		{name: "configured moving tag into immutable: derived in configured order", derive: "[revision, version]", env: "test", given: "web:stable",
			src: []string{"stable"}, s: subjectWith(both), want: []string{"0123456789ab", "1.2.3"}},
		{name: "a platform without a config is skipped", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(nil, ver("2.0")), want: []string{"2.0"}},
		{name: "--tag and derived together", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(ver("2.0")), extra: []string{"rc1"}, want: []string{"rc1", "2.0"}},
		{name: "moving tag without labels: --tag suffices", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(map[string]string{}), extra: []string{"2.0"}, want: []string{"2.0"}},
		{name: "moving tag without labels is refused", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(map[string]string{labelRevision: longRev}), wantErr: errs.ErrUsage,
			msg: "usage error: web:latest is a moving tag and test is immutable; the image has no org.opencontainers.image.version label to derive a tag from: pass --tag VERSION (or promote APP:VERSION)"},
		{name: "nothing to derive from when none is configured", derive: "[]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(both), wantErr: errs.ErrUsage,
			msg: "usage error: web:latest is a moving tag and test is immutable; the image has no org.opencontainers.image.version label to derive a tag from: pass --tag VERSION (or promote APP:VERSION)"},
		{name: "platforms disagree", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(ver("2.0"), ver("1.0")), wantErr: errs.ErrConfig,
			msg: "configuration error: platforms disagree on label org.opencontainers.image.version: [1.0 2.0]"},
		{name: "a label that is no tag", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(ver("1.2.3+build")), wantErr: errs.ErrUsage,
			msg: `usage error: label org.opencontainers.image.version="1.2.3+build" cannot be used as a tag; pass --tag`},
		{name: "a label naming the pointer tag", derive: "[version]", env: "test", given: "web:latest", src: []string{"latest"},
			s: subjectWith(ver("current")), wantErr: errs.ErrUsage,
			msg: `usage error: label org.opencontainers.image.version="current" cannot be used as a tag; pass --tag`},
		{name: "--tag latest into immutable", env: "test", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both),
			extra: []string{"latest"}, wantErr: errs.ErrUsage,
			msg: `usage error: --tag latest: "latest" is a moving tag and test is immutable: it would freeze there forever; pass a version or commit tag`},
		{name: "--tag of the pointer tag into immutable", env: "test", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both),
			extra: []string{"current"}, wantErr: errs.ErrUsage,
			msg: `usage error: --tag current: "current" is a moving tag and test is immutable: it would freeze there forever; pass a version or commit tag`},
		{name: "--tag of an attachment tag", env: "qa", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both),
			extra: []string{sig}, wantErr: errs.ErrUsage, msg: fmt.Sprintf("usage error: tag %q is reserved for signatures and referrers", sig)},
		{name: "--tag that is no tag", env: "qa", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both),
			extra: []string{"bad tag"}, wantErr: errs.ErrUsage,
			msg: `usage error: tag "bad tag" is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`},
		{name: "mutable keeps the moving source tag", derive: "[version]", env: "qa", given: "web:latest", src: []string{"latest"},
			s: subjectWith(both), want: []string{"latest"}},
		{name: "mutable takes a moving --tag", env: "qa", given: "web:1.2.3", src: []string{"1.2.3"}, s: subjectWith(both),
			extra: []string{"stable"}, want: []string{"stable", "1.2.3"}},
		{name: "nothing given, nothing carried", env: "test", given: "web", s: subjectWith(both)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			derive := c.derive
			if derive == "" {
				derive = "[version]"
			}
			e := tagEngine(t, derive)
			env, err := e.cfg.Env(c.env)
			require.NoError(t, err)
			got, err := e.targetTags(env, &source{given: c.given, tags: c.src}, c.s, c.extra)
			if c.wantErr != nil {
				require.ErrorIs(t, err, c.wantErr)
				assert.Equal(t, c.msg, err.Error())
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestDeriveTags(t *testing.T) {
	cases := []struct {
		name, derive string
		s            *gates.Subject
		want         []string
	}{
		{"nothing configured", "[]", subjectWith(map[string]string{labelVersion: "1.0", labelRevision: "abc"}), nil},
		{"version only", "[version]", subjectWith(map[string]string{labelVersion: "1.0", labelRevision: "abc"}), []string{"1.0"}},
		{"short revision kept whole", "[revision]", subjectWith(map[string]string{labelRevision: "abc"}), []string{"abc"}},
		{"long revision cut to 12", "[revision]", subjectWith(map[string]string{labelRevision: longRev}), []string{"0123456789ab"}},
		{"missing label derives nothing", "[version, revision]", subjectWith(map[string]string{labelRevision: "abc"}), []string{"abc"}},
		{"agreeing platforms give one tag", "[version]", subjectWith(ver("1.0"), nil, ver("1.0")), []string{"1.0"}},
		{"no images", "[version, revision]", subjectWith(), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tagEngine(t, c.derive).deriveTags(c.s)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}
