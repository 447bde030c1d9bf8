package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
)

// fuzzFile is the name Parse is given in the fuzz targets: the repository's
// own environments.yaml, so that the key paths of the example configs
// (testdata/demo/demo.pub) resolve as they do for `make demo`.
const fuzzFile = "../../environments.yaml"

// FuzzParse feeds arbitrary bytes to Parse, seeded with the example configs
// and the test configs. Besides not panicking, every answer must be either a
// fully validated Config or a *errs.ConfigError naming the file (never both,
// never neither), and a Config must satisfy the rules validate promises.
// Run: go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 3m ./promote/config/
func FuzzParse(f *testing.F) {
	seeds := []string{"../../environments.yaml", "../../environments.ecr.yaml"}
	more, err := filepath.Glob(filepath.Join(testdata, "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(seeds, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(fuzzFile, data)
		checkParsed(t, data, c, err)
		// Parse is a function of its input: the same bytes give the same answer.
		c2, err2 := Parse(fuzzFile, data)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Parse is not deterministic: %v, then %v", err, err2)
		}
		if c != nil && c2 != nil && len(c.Environments) != len(c2.Environments) {
			t.Fatalf("Parse is not deterministic: %d environments, then %d", len(c.Environments), len(c2.Environments))
		}
	})
}

func checkParsed(t *testing.T, data []byte, c *Config, err error) {
	t.Helper()
	if (c == nil) == (err == nil) {
		t.Fatalf("Parse returned config %v and error %v; want exactly one", c != nil, err)
	}
	if err != nil {
		var ce *errs.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, errs.ErrConfig) {
			t.Fatalf("error %T is not an *errs.ConfigError: %v", err, err)
		}
		if ce.File != fuzzFile || !strings.HasPrefix(err.Error(), fuzzFile) {
			t.Fatalf("error does not name the file %s: %v", fuzzFile, err)
		}
		if lines := yamlLines(data); ce.Line < 0 || ce.Line > lines {
			t.Fatalf("error names line %d of a %d-line file: %v", ce.Line, lines, err)
		}
		if ce.Msg == "" {
			t.Fatalf("error without a message: %#v", ce)
		}
		return
	}
	if c.File != fuzzFile || c.Version != Version || c.Ledger == "" {
		t.Fatalf("config header: file %q version %d ledger %q", c.File, c.Version, c.Ledger)
	}
	if !slices.Contains(c.MovingTags, "latest") {
		t.Fatalf("movingTags %q lacks latest", c.MovingTags)
	}
	for i, k := range c.DeriveTags {
		if !slices.Contains(deriveKinds, k) || slices.Contains(c.DeriveTags[:i], k) {
			t.Fatalf("deriveTags %q", c.DeriveTags)
		}
	}
	if len(c.Environments) == 0 {
		t.Fatal("a config without environments")
	}
	byName := map[string]*Environment{}
	repos := map[string]string{}
	for _, e := range c.Environments {
		if e == nil || !envName.MatchString(e.Name) {
			t.Fatalf("environment %+v has an invalid name", e)
		}
		if byName[e.Name] != nil {
			t.Fatalf("environment %s defined twice", e.Name)
		}
		byName[e.Name] = e
		if got, err := c.Env(e.Name); err != nil || got != e {
			t.Fatalf("Env(%q) = %v, %v", e.Name, got, err)
		}
		if e.Tags != Mutable && e.Tags != Immutable {
			t.Fatalf("environment %s has tag policy %q", e.Name, e.Tags)
		}
		if err := checkPattern(e.Repository); err != nil {
			t.Fatalf("environment %s has repository %q: %v", e.Name, e.Repository, err)
		}
		if _, err := e.RepositoryFor(sampleApp); err != nil {
			t.Fatalf("environment %s: a pattern that validated gives no repository for %q: %v", e.Name, sampleApp, err)
		}
		key := repositoryKey(e.Repository)
		if other, dup := repos[key]; dup {
			t.Fatalf("environments %s and %s share the repository %s", other, e.Name, key)
		}
		repos[key] = e.Name
		if e.PointerTag != "" && (!pointerTag.MatchString(e.PointerTag) || !c.IsMoving(e.PointerTag)) {
			t.Fatalf("environment %s has pointer tag %q", e.Name, e.PointerTag)
		}
		for _, g := range e.Gates {
			if g.Gate == nil {
				t.Fatalf("environment %s has a nil %s gate", e.Name, g.Kind)
			}
			if _, ok := gates.Lookup(g.Kind); !ok {
				t.Fatalf("environment %s has an unregistered gate kind %q", e.Name, g.Kind)
			}
		}
	}
	roots := 0
	for _, e := range c.Environments {
		if e.From == "" {
			roots++
			continue
		}
		if e.From == e.Name || byName[e.From] == nil {
			t.Fatalf("environment %s is promoted from %q, which is not another environment", e.Name, e.From)
		}
		// Following from links ends at a root: no cycle got through.
		seen := map[string]bool{}
		for cur := e; cur.From != ""; cur = byName[cur.From] {
			if seen[cur.Name] {
				t.Fatalf("the from links of %s form a cycle", e.Name)
			}
			seen[cur.Name] = true
		}
		if !slices.Contains(c.Downstream(e.From), e) {
			t.Fatalf("Downstream(%s) lacks %s", e.From, e.Name)
		}
	}
	if roots == 0 {
		t.Fatal("no environment without from")
	}
}

// yamlLines counts the lines of data as YAML breaks them, the way an editor
// shows them: a last line without a break counts.
func yamlLines(data []byte) int {
	s := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(string(data))
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// FuzzRepositoryPattern checks the repository patterns with {app} and the
// app names substituted into them: checkPattern and RepositoryFor never
// panic, and an accepted pattern with an accepted app gives a valid
// repository on the pattern's own registry host, where the app and a digest
// or tag stay as given.
// Run: go test -run '^$' -fuzz '^FuzzRepositoryPattern$' -fuzztime 3m ./promote/config/
func FuzzRepositoryPattern(f *testing.F) {
	for _, s := range []struct{ pattern, app string }{
		{"${DEMO_REGISTRY_A:-127.0.0.1:5001}/dev/{app}", "api"},
		{"111111111111.dkr.ecr.eu-central-1.amazonaws.com/dev/{app}", "team/api"},
		{"localhost:5000/team/{app}/images", "a.b_c__d-e"},
		{"docker.io/library/{app}", "web"},
		{"127.0.0.1:5001/{team}/{app}", "api"},
		{"127.0.0.1:5001/dev/{app}:latest", "api:1.0"},
		{"'{app}.example.com/x/{app}'", "api@sha256:0123"},
		{"${R:-reg.example.com/{app}}", "../api"},
	} {
		f.Add(s.pattern, s.app)
	}
	lookup := func(v string) (string, bool) {
		switch v {
		case "SET":
			return "registry.example.com:5000", true
		case "EMPTY":
			return "", true
		}
		return "", false
	}
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	f.Fuzz(func(t *testing.T, raw, app string) {
		p, err := expand(raw, lookup)
		if err != nil {
			return
		}
		_ = repositoryKey(p)
		if checkPattern(p) != nil {
			return
		}
		if !strings.Contains(p, appPlaceholder) {
			t.Fatalf("pattern %q accepted without {app}", p)
		}
		host, _, _ := strings.Cut(p, "/")
		e := &Environment{Name: "dev", Repository: p}
		repo, err := e.RepositoryFor(app)
		if err != nil {
			if !errors.Is(err, errs.ErrUsage) {
				t.Fatalf("RepositoryFor(%q) on %q: %v does not wrap ErrUsage", app, p, err)
			}
			return
		}
		if !appName.MatchString(app) {
			t.Fatalf("RepositoryFor accepted the app name %q", app)
		}
		if want := strings.ReplaceAll(p, appPlaceholder, app); repo != want {
			t.Fatalf("RepositoryFor(%q) on %q = %q, want %q", app, p, repo, want)
		}
		if !strings.HasPrefix(repo, host+"/") {
			t.Fatalf("app %q moved %q off its registry host %s: %q", app, p, host, repo)
		}
		r, err := name.NewRepository(repo, name.StrictValidation)
		if err != nil {
			t.Fatalf("RepositoryFor gave %q, which does not parse: %v", repo, err)
		}
		if got := r.RegistryStr(); got != host && !(host == "docker.io" && got == name.DefaultRegistry) {
			t.Fatalf("%q is on registry %s, not %s", repo, got, host)
		}
		d, err := name.NewDigest(repo+"@"+digest, name.StrictValidation)
		if err != nil || d.DigestStr() != digest || d.Context().String() != r.String() {
			t.Fatalf("%s@%s does not keep its digest: %v, %v", repo, digest, d, err)
		}
		tag, err := name.NewTag(repo+":v1.2.3", name.StrictValidation)
		if err != nil || tag.TagStr() != "v1.2.3" || tag.Context().String() != r.String() {
			t.Fatalf("%s:v1.2.3 does not keep its tag: %v, %v", repo, tag, err)
		}
	})
}
