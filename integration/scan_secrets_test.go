//go:build integration

package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// secret is a credential or token a test planted: it must appear in no
// output, log, ledger or object the suite collected, in any encoding. A
// canary is planted on purpose in non-secret places, to prove the scan
// finds what it looks for.
type secret struct {
	value, what string
	canary      bool
}

var planted struct {
	sync.Mutex
	list []secret
}

// plantSecret registers s (what names it in a report) and returns it.
func plantSecret(t *testing.T, what, s string) string {
	t.Helper()
	if len(s) < 12 {
		t.Fatalf("planted secret %s is too short to scan for without false alarms: %q", what, s)
	}
	planted.Lock()
	defer planted.Unlock()
	planted.list = append(planted.list, secret{value: s, what: what})
	return s
}

// plantCanary plants a canary: a secret-looking value the canary test
// writes on purpose where the scan must find it.
func plantCanary(t *testing.T) string {
	v := "Canary" + randomHex(t, 10) + "/+=" + randomHex(t, 4) + "@:x"
	planted.Lock()
	defer planted.Unlock()
	planted.list = append(planted.list, secret{value: v, what: "canary", canary: true})
	return v
}

// newSecret plants a fresh secret with the characters encodings change.
func newSecret(t *testing.T, what string) string {
	return plantSecret(t, what, "Pw"+randomHex(t, 10)+"/+="+randomHex(t, 4)+"@:~x")
}

// needle is one encoding of a secret, as it would sit inside other text.
type needle struct {
	enc  string // raw, json, base64, base64url, url-query, url-path, hex
	text string
	fold bool // compare case-insensitively (%2F or %2f, hex)
}

// needles are the forms s takes raw, JSON-escaped, URL-encoded, hex, and
// base64 (standard and URL alphabets) at each of the three byte offsets it
// may start at inside a longer encoded string, such as user:password in a
// Basic credential or a docker config.
func needles(s string) []needle {
	out := []needle{{enc: "raw", text: s}}
	if j, _ := json.Marshal(s); string(j[1:len(j)-1]) != s {
		out = append(out, needle{enc: "json", text: string(j[1 : len(j)-1])})
	}
	for enc, v := range map[string]string{"url-query": url.QueryEscape(s), "url-path": url.PathEscape(s)} {
		if v != s {
			out = append(out, needle{enc: enc, text: strings.ToLower(v), fold: true})
		}
	}
	out = append(out, needle{enc: "hex", text: hex.EncodeToString([]byte(s)), fold: true})
	for k := range 3 {
		b := append(make([]byte, k), s...)
		full := base64.StdEncoding.EncodeToString(b)
		from, to := (8*k+5)/6, len(b)/3*4 // characters that depend on s alone
		if to-from < 12 {
			continue
		}
		std := full[from:to]
		out = append(out, needle{enc: "base64", text: std})
		if u := strings.NewReplacer("+", "-", "/", "_").Replace(std); u != std {
			out = append(out, needle{enc: "base64url", text: u})
		}
	}
	return out
}

// finding is one place a secret was seen.
type finding struct {
	secret secret
	enc    string
	chunk  *chunk
	around string
}

func (f finding) String() string {
	return fmt.Sprintf("%s (%s) found %s-encoded in %s %q:\n      ...%s...", f.secret.what, map[bool]string{true: "canary", false: "planted secret"}[f.secret.canary],
		f.enc, f.chunk.kind, f.chunk.source, f.around)
}

// scan looks for every needle of every secret in every chunk.
func scan(chunks []chunk, secrets []secret) []finding {
	var out []finding
	for i := range chunks {
		c := &chunks[i]
		var lower []byte
		for _, s := range secrets {
			for _, n := range needles(s.value) {
				hay := c.data
				if n.fold {
					if lower == nil {
						lower = bytes.ToLower(c.data)
					}
					hay = lower
				}
				if at := bytes.Index(hay, []byte(n.text)); at >= 0 {
					out = append(out, finding{secret: s, enc: n.enc, chunk: c, around: excerpt(hay, at, len(n.text), s.what)})
				}
			}
		}
	}
	return out
}

// excerpt shows where a needle sat, the needle itself replaced.
func excerpt(hay []byte, at, n int, what string) string {
	from, to := max(at-80, 0), min(at+n+80, len(hay))
	return strings.ToValidUTF8(string(hay[from:at])+"<"+what+">"+string(hay[at+n:to]), "?")
}

// scannerSelfTest plants a synthetic secret in each encoding inside other
// text and checks that the scan finds every one, and nothing in text
// without it.
func scannerSelfTest() error {
	s := secret{value: "selftest/+=@:~?" + fmt.Sprint(len(planted.list)) + "0123456789abcdef", what: "self-test", canary: true}
	user := "promoter:" + s.value
	encoded := map[string]string{
		"raw":       "password=" + s.value + " end",
		"url-query": "https://h/token?password=" + strings.ToUpper(url.QueryEscape(s.value)) + "&x=1",
		"url-path":  "https://h/" + url.PathEscape(s.value) + "/v2/",
		"hex":       "0x" + strings.ToUpper(hex.EncodeToString([]byte(s.value))),
	}
	for pad := ""; len(pad) < 64; pad += "x" { // a form whose URL alphabet differs
		if u := base64.URLEncoding.EncodeToString([]byte(pad + user)); u != base64.StdEncoding.EncodeToString([]byte(pad+user)) {
			encoded["base64url"] = `{"t":"` + u + `"}`
			break
		}
	}
	for k := range 3 {
		encoded[fmt.Sprintf("base64 (offset %d)", k)] = `{"auth":"` + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("u", k)+user)) + `"}`
	}
	if encoded["base64url"] == "" {
		return fmt.Errorf("secret scan self-test: no base64url form differs from base64 (test setup)")
	}
	for name, text := range encoded {
		want := strings.Fields(name)[0]
		found := false
		for _, f := range scan([]chunk{{kind: "self-test", source: name, data: []byte(text)}}, []secret{s}) {
			found = found || f.enc == want
		}
		if !found {
			return fmt.Errorf("secret scan self-test: the scanner missed the secret %s in %q", name, text)
		}
	}
	if f := scan([]chunk{{kind: "self-test", data: []byte("nothing secret here: " + strings.Repeat("selftest/+=@:", 3))}}, []secret{s}); len(f) > 0 {
		return fmt.Errorf("secret scan self-test: the scanner found the secret where it is not: %v", f)
	}
	return nil
}
