package admission

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testPub is a fixed P-256 public key.
const testPub = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2p2d2j13hkbNLd8pp3GXfahv/9n1
H/ybm/JWnieIwMg1GwdxqwvpmiEYcWasAs/Fq1k0yjVg+R7DLNCOhLN+6A==
-----END PUBLIC KEY-----
`

func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

func testInput() Input {
	return Input{
		Env:        "prod",
		Repository: "registry.example.com:5000/prod/{app}",
		Repositories: []string{"registry.example.com:5000/prod/web", "registry.example.com:5000/prod/team/api",
			"registry.example.com:5000/prod/web"},
		MovingTags: []string{"latest", "current", "latest"},
		Revoked: []Revoked{
			{Digest: digest('b'), App: "web", Revocation: "rev-2"},
			{Digest: digest('a'), App: "api", Revocation: "rev-1"},
		},
		PublicKeyPEM: []byte(testPub),
		Source: Source{
			Config: "environments.yaml", ConfigSHA256: strings.Repeat("c", 64),
			Checkpoint: &Checkpoint{Origin: "example.com/promote", Size: 12, Root: "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="},
		},
	}
}

// Every controller's files match their golden copies byte for byte.
func TestExportGolden(t *testing.T) {
	for _, c := range Controllers {
		files, err := Export(c, testInput())
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		for _, f := range files {
			golden := filepath.Join("testdata", filepath.FromSlash(f.Name))
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(f.Data, want) {
				t.Errorf("%s differs from %s:\n%s", f.Name, golden, f.Data)
			}
		}
	}
}

// Exporting twice, or with the inputs' lists in another order or with
// duplicates, gives the same bytes.
func TestExportDeterministic(t *testing.T) {
	for _, c := range Controllers {
		a, err := Export(c, testInput())
		if err != nil {
			t.Fatal(err)
		}
		in := testInput()
		in.MovingTags = []string{"current", "latest"}
		in.Revoked[0], in.Revoked[1] = in.Revoked[1], in.Revoked[0]
		in.Revoked = append(in.Revoked, in.Revoked[0])
		in.PublicKeyPEM = []byte(strings.TrimSpace(testPub) + "\n\n")
		b, err := Export(c, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d files, then %d", c, len(a), len(b))
		}
		for i := range a {
			if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
				t.Errorf("%s: %s differs between two exports", c, a[i].Name)
			}
		}
	}
}

// Every file names the configuration and the ledger checkpoint (or head)
// in its header and in its annotations, and revoked digests are listed in
// digest order.
func TestExportProvenance(t *testing.T) {
	for _, head := range []bool{false, true} {
		in := testInput()
		want := []string{"promote.dev/ledger-checkpoint: example.com/promote 12 q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
			"# ledger: checkpoint example.com/promote, tree size 12, root q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="}
		if head {
			in.Source.Checkpoint, in.Source.Head = nil, "rec-9 sha256:"+strings.Repeat("9", 64)
			want = []string{"promote.dev/ledger-head: rec-9 sha256:" + strings.Repeat("9", 64),
				"# ledger: no signed checkpoint; head rec-9 sha256:" + strings.Repeat("9", 64) + "\n"}
		}
		want = append(want, "# config: environments.yaml sha256:"+strings.Repeat("c", 64),
			"promote.dev/config-sha256: "+strings.Repeat("c", 64), "promote.dev/environment: prod", "promote.dev/revoked-digests: \"2\"")
		for _, c := range Controllers {
			files, err := Export(c, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				for _, w := range want {
					if !strings.Contains(string(f.Data), w) {
						t.Errorf("%s (head %v) lacks %q", f.Name, head, w)
					}
				}
				if i, j := strings.Index(string(f.Data), digest('a')), strings.Index(string(f.Data), digest('b')); i > j {
					t.Errorf("%s lists %s after %s", f.Name, digest('a'), digest('b'))
				}
			}
		}
	}
}

// The image pattern admits the repositories of the environment's apps,
// with or without tag and digest, and nothing else: not another
// repository the pattern would expand to (another environment's under a
// prod pattern of REGISTRY/{app}, a sibling, a nested path).
func TestImageRegex(t *testing.T) {
	re := regexp.MustCompile(imageRegex([]string{"registry.example.com:5000/prod/team/web", "registry.example.com:5000/prod/web"}))
	d := "@" + digest('a')
	for img, want := range map[string]bool{
		"registry.example.com:5000/prod/web" + d:          true,
		"registry.example.com:5000/prod/team/web:1.0" + d: true,
		"registry.example.com:5000/prod/web:latest":       true,
		"registry.example.com:5000/prod/api" + d:          false,
		"registry.example.com:5000/prod/web/evil" + d:     false,
		"registry.example.com:5000/prod/webx" + d:         false,
		"registry.example.com:5000/prod/team" + d:         false,
		"registry.example.com:5000/test/web" + d:          false,
		"registry.example.com/prod/web" + d:               false,
		"registryXexample.com:5000/prod/web" + d:          false,
		"registry.example.com:5000/prod/Web" + d:          false,
		"evil.io/registry.example.com:5000/prod/web" + d:  false,
		"registry.example.com:5000/prod/web" + d + "x":    false,
	} {
		if re.MatchString(img) != want {
			t.Errorf("%s: match %v, want %v", img, !want, want)
		}
	}
	mv := regexp.MustCompile(movingRegex([]string{"current", "latest"}))
	for img, want := range map[string]bool{
		"r.io/prod/web:latest":       true,
		"r.io/prod/web:latest" + d:   true,
		"r.io:5000/prod/web:current": true,
		"r.io:5000/prod/web" + d:     false,
		"r.io/prod/web:latest-1":     false,
		"r.io/prod/latest/web:1.0":   false,
		"web:latest":                 true,
		"r.io/prod/web:1.0" + d:      false,
	} {
		if mv.MatchString(img) != want {
			t.Errorf("moving %s: match %v, want %v", img, !want, want)
		}
	}
}

// Input that cannot make a correct policy is refused, naming the problem.
func TestExportRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		c    Controller
		edit func(*Input)
		want string
	}{
		"no key kyverno":     {Kyverno, func(in *Input) { in.PublicKeyPEM = nil }, "has no attestation public key"},
		"no key pc":          {PolicyController, func(in *Input) { in.PublicKeyPEM = nil }, "has no attestation public key"},
		"bad env":            {Gatekeeper, func(in *Input) { in.Env = "Prod_1" }, "cannot name a Kubernetes object"},
		"bad digest":         {Gatekeeper, func(in *Input) { in.Revoked[0].Digest = "sha256:abc" }, "is not sha256:"},
		"bad tag":            {Gatekeeper, func(in *Input) { in.MovingTags = []string{"a b"} }, "is not a valid tag"},
		"no app":             {Gatekeeper, func(in *Input) { in.Repository = "r.io/prod/web" }, "has no {app}"},
		"bad key":            {Kyverno, func(in *Input) { in.PublicKeyPEM = []byte("junk") }, "not a PEM PUBLIC KEY"},
		"unknown":            {Controller("opa"), func(*Input) {}, "unknown controller"},
		"both ledger states": {Gatekeeper, func(in *Input) { in.Source.Head = "x" }, "both a ledger checkpoint and a head"},
		"no repositories":    {Gatekeeper, func(in *Input) { in.Repositories = nil }, "holds no app yet"},
		"foreign repository": {Gatekeeper, func(in *Input) { in.Repositories = []string{"registry.example.com:5000/test/web"} }, "is not one of the pattern"},
	} {
		in := testInput()
		tc.edit(&in)
		files, err := Export(tc.c, in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || files != nil {
			t.Errorf("%s: got %v, %d files; want an error containing %q", name, err, len(files), tc.want)
		}
	}
}

// With a prod pattern of REGISTRY/{app} (DESIGN's own), an image in the dev
// or test repository of the same registry matches no rule that admits it:
// the Gatekeeper pattern, Kyverno's references and policy-controller's
// globs name the prod apps' repositories alone.
func TestAPatternThatCoversOtherEnvironmentsAdmitsOnlyItsApps(t *testing.T) {
	in := testInput()
	in.Repository = "registry.example.com/{app}"
	in.Repositories = []string{"registry.example.com/web"}
	for _, c := range Controllers {
		files, err := Export(c, in)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		for _, f := range files {
			if s := string(f.Data); strings.Contains(s, "registry.example.com/*") || strings.Contains(s, "registry.example.com/**") {
				t.Errorf("%s %s admits the whole registry:\n%s", c, f.Name, s)
			}
		}
	}
	re := regexp.MustCompile(imageRegex(in.Repositories))
	for _, img := range []string{"registry.example.com/dev/web@" + digest('a'), "registry.example.com/test/web@" + digest('a')} {
		if re.MatchString(img) {
			t.Errorf("%s matches the prod pattern", img)
		}
	}
	refs := kyvernoReferences(in.Repositories)
	if strings.Join(refs, " ") != "registry.example.com/web registry.example.com/web:* registry.example.com/web@*" {
		t.Errorf("kyverno references: %v", refs)
	}
}
