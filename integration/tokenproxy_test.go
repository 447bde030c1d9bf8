//go:build integration

package integration

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// tokenProxy puts the Docker token flow in front of a plain registry, as
// Docker Hub, GHCR or Harbor do: /v2/ answers 401 with a Bearer challenge,
// the realm (/token) trades Basic credentials for a bearer token, and only
// requests bearing that token reach the registry. It logs every request
// line to the secret scan, so a credential sent in a URL shows.
type tokenProxy struct {
	Host              string
	user, pass, token string
	log               syncBuffer
}

// startTokenProxy starts the proxy in front of upstream (host:port).
func startTokenProxy(t *testing.T, upstream, user, pass, token string) *tokenProxy {
	t.Helper()
	tp := &tokenProxy{user: user, pass: pass, token: token}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream})
	tp.Host = serveLocal(t, "token proxy", func(host string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(&tp.log, "%s %s %s\n", r.RemoteAddr, r.Method, r.URL.RequestURI())
			if r.URL.Path == "/token" {
				tp.serveToken(w, r)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+tp.token)) != 1 {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="token-proxy"`, host))
				unauthorized(w, "authentication required")
				return
			}
			rp.ServeHTTP(w, r)
		})
	})
	t.Cleanup(func() { collect("log", "token proxy "+tp.Host, []byte(tp.log.String())) })
	return tp
}

func (tp *tokenProxy) serveToken(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != tp.user || subtle.ConstantTimeCompare([]byte(p), []byte(tp.pass)) != 1 {
		unauthorized(w, "invalid username or password")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tp.token, "access_token": tp.token, "expires_in": 300})
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":%q}]}`, msg)
}

// writeHtpasswd writes an htpasswd file (bcrypt) for user and password.
func writeHtpasswd(t *testing.T, path, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("bcrypt: %v", err)
	}
	if err := os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

// dockerConfig writes DIR/config.json with Basic credentials per host, the
// way `docker login` stores them (base64 of user:password), and returns
// DIR.
func dockerConfig(t *testing.T, dir string, creds map[string][2]string) string {
	t.Helper()
	auths := map[string]any{}
	for host, c := range creds {
		auths[host] = map[string]string{"auth": basicAuth(c[0], c[1])}
	}
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatalf("encoding docker config: %v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("creating %s: %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatalf("writing docker config: %v", err)
	}
	return dir
}

// basicAuth is base64(user:password).
func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
