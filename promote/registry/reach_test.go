package registry

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// counting is a base transport that counts the requests it sends, per
// scheme: the attempts, since retries happen above it.
type counting struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func newCounting(next http.RoundTripper) *counting {
	if next == nil {
		next = remote.DefaultTransport
	}
	return &counting{next: next, n: map[string]int{}}
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.URL.Scheme]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *counting) count(scheme string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[scheme]
}

// reachClient is a client with the default retry policy (the one users
// get), over tr, logging at debug level into log.
func reachClient(t *testing.T, tr http.RoundTripper, log *bytes.Buffer, kc authn.Keychain, insecure ...string) *Client {
	o := Options{Insecure: insecure, Transport: tr, Keychain: kc}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := New(o)
	require.NoError(t, err)
	return c
}

// headErr is the error of a HEAD of host/dev/web:1.
func headErr(t *testing.T, c *Client, host string) (*ReachError, time.Duration, error) {
	t.Helper()
	repo, err := c.Repository(host + "/dev/web")
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Head(context.Background(), repo.Tag("1"))
	took := time.Since(start)
	require.Error(t, err)
	var re *ReachError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, host, re.Host)
	assert.Equal(t, host+"/dev/web", re.Repository)
	return re, took, err
}

func TestARefusedConnectionFailsAfterAFewQuickTries(t *testing.T) {
	host := regtest.ClosedPort(t)
	for _, insecure := range [][]string{nil, {"127.0.0.1"}} {
		tr, log := newCounting(nil), &bytes.Buffer{}
		re, took, err := headErr(t, reachClient(t, tr, log, nil, insecure...), host)
		assert.Equal(t, ReachRefused, re.Kind)
		assert.Contains(t, err.Error(), "cannot connect to registry "+host+": connection refused")
		assert.Equal(t, refusedAttempts, tr.count("https"), "was 8 attempts over 15 s")
		if insecure != nil {
			assert.Equal(t, refusedAttempts, tr.count("http"), "the plain HTTP fallback too")
		} else {
			assert.Zero(t, tr.count("http"))
		}
		assert.Less(t, took, 5*time.Second, "was 17 s")
		assert.Contains(t, log.String(), "attempt=\"1 of 3\"")
		assert.Contains(t, log.String(), "attempt=\"2 of 3\"")
		assert.NotContains(t, log.String(), "3 of 3", "no retry after the last attempt")
		assert.Contains(t, log.String(), "connection refused")
		assert.Contains(t, log.String(), "wait=")
	}
}

// nxdomain is a DNS server on 127.0.0.1 that answers every query "no such
// name" and counts the queries: the resolver under test never leaves the
// machine.
func nxdomain(t *testing.T) (addr string, queries func() int) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	var mu sync.Mutex
	n := 0
	go func() {
		buf := make([]byte, 512)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if k < 12 {
				continue
			}
			mu.Lock()
			n++
			mu.Unlock()
			resp := append([]byte(nil), buf[:k]...)
			resp[2] = 0x80 | buf[2]&0x79 // QR, the query's opcode and RD
			resp[3] = 0x80 | 3           // RA, RCODE NXDOMAIN
			for i := 6; i < 12; i++ {    // no answer, authority or additional records
				resp[i] = 0
			}
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func TestAHostThatDoesNotResolveFailsAtOnce(t *testing.T) {
	dns, queries := nxdomain(t)
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dns)
	}}
	base := remote.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = (&net.Dialer{Resolver: resolver, Timeout: 5 * time.Second}).DialContext
	tr := newCounting(base)
	host := "registry.promote-test.invalid" // RFC 2606: never resolves
	re, took, err := headErr(t, reachClient(t, tr, nil, nil), host)
	assert.Equal(t, ReachDNS, re.Kind)
	assert.Contains(t, err.Error(), "cannot resolve registry host "+host+": no such host")
	assert.Equal(t, 1, tr.count("https"), "was 8 attempts")
	assert.Positive(t, queries(), "resolved by the local DNS server, not the network")
	assert.Less(t, took, 3*time.Second)
}

func TestACertificateThatDoesNotVerifyFailsAtOnce(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	host := srv.Listener.Addr().String()

	tr := newCounting(nil)
	re, _, err := headErr(t, reachClient(t, tr, nil, nil), host)
	assert.Equal(t, ReachTLS, re.Kind)
	assert.Contains(t, err.Error(), "TLS verification failed for registry "+host+": x509: certificate signed by unknown authority")
	assert.Contains(t, err.Error(), "SSL_CERT_FILE")
	assert.Equal(t, 1, tr.count("https"))

	// A trusted certificate for other names: httptest's names 127.0.0.1
	// and example.com, not localhost.
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	base := remote.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig.RootCAs = pool
	_, port, _ := net.SplitHostPort(host)
	tr = newCounting(base)
	re, _, err = headErr(t, reachClient(t, tr, nil, nil), "localhost:"+port)
	assert.Equal(t, ReachTLS, re.Kind)
	assert.Contains(t, err.Error(), "certificate is valid for")
	assert.Equal(t, 1, tr.count("https"))
}

// basicAuth is a registry that wants user:pass, answering 401 with a Basic
// challenge otherwise.
func basicAuth(t *testing.T, user, pass string) string {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="promote-test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.pass}), nil
}

func TestAuthenticationFailuresSayWhereCredentialsComeFrom(t *testing.T) {
	host := basicAuth(t, "promoter", "right")
	for _, kc := range []authn.Keychain{
		staticKeychain{},                    // none found: anonymous
		staticKeychain{"promoter", "wrong"}, // rejected
	} {
		tr := newCounting(nil)
		re, _, err := headErr(t, reachClient(t, tr, nil, kc, "127.0.0.1"), host)
		assert.Equal(t, ReachAuth, re.Kind)
		assert.Equal(t, http.StatusUnauthorized, re.Status)
		msg := err.Error()
		assert.Contains(t, msg, "authentication failed for "+host+": the registry answered 401 Unauthorized")
		assert.Contains(t, msg, "no credentials were found for "+host+", or it rejected them")
		assert.Contains(t, msg, "docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json")
		assert.Contains(t, msg, "credential helpers")
		assert.NotContains(t, msg, "use GET for details")
		assert.NotContains(t, msg, "AWS", "not an ECR environment")
		assert.Equal(t, 2, tr.count("http"), "the ping and the HEAD, no retry")
	}

	// Placed, the message names the environment and its repository line.
	var re *ReachError
	_, _, err := headErr(t, reachClient(t, nil, nil, staticKeychain{}, "127.0.0.1"), host)
	require.True(t, errors.As(err, &re))
	msg := re.Placed("prod", host+"/dev/{app}", true).Error()
	assert.Contains(t, msg, "authentication failed for "+host+" (prod): ")
	assert.Contains(t, msg, "Environment prod is configured with `repository: "+host+"/dev/{app}`")
	assert.Contains(t, msg, "AWS default credential chain")
}

func TestATokenRealmsRefusalIsTheRegistrys(t *testing.T) {
	realm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // wrong credentials
	}))
	t.Cleanup(realm.Close)
	// A realm on another host, as auth.docker.io is to Docker Hub
	// (go-containerregistry refuses loopback IP literals as realms).
	_, port, _ := net.SplitHostPort(realm.Listener.Addr().String())
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://localhost:`+port+`/token",service="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(reg.Close)
	host := reg.Listener.Addr().String()
	re, _, err := headErr(t, reachClient(t, nil, nil, staticKeychain{"ci", "wrong"}, "127.0.0.1", "localhost"), host)
	assert.Equal(t, ReachAuth, re.Kind)
	assert.Contains(t, err.Error(), "authentication failed for "+host+":", "the registry's host, not the realm's")
	assert.Contains(t, err.Error(), "docker login "+host)
}

func TestEachRetryIsLoggedWithoutQueries(t *testing.T) {
	f := newFaulty(t)
	pushRandom(t, f.Host+"/a/app:1")
	c := reachClient(t, nil, nil, nil, "127.0.0.1")
	repo, _ := c.Repository(f.Host + "/a/app")
	m, err := c.Get(context.Background(), repo.Tag("1"))
	require.NoError(t, err)
	layer := layersOf(t, m)[0]
	failed := 0
	f.Set(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/blobs/"+layer.Digest.String()):
			http.Redirect(w, r, "/storage/blob?X-Amz-Signature=SECRET", http.StatusTemporaryRedirect)
		case r.URL.Path == "/storage/blob" && failed < 2:
			failed++
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/storage/blob":
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawQuery = "/v2/a/app/blobs/"+layer.Digest.String(), ""
			f.Serve(w, r2)
		default:
			return false
		}
		return true
	})
	log := &bytes.Buffer{}
	c = reachClient(t, nil, log, nil, "127.0.0.1")
	_, err = c.FetchBlob(context.Background(), repo, layer, 1<<20)
	require.NoError(t, err)
	out := log.String()
	assert.Equal(t, 2, strings.Count(out, "registry request failed, retrying"), out)
	assert.Contains(t, out, `attempt="1 of 8" cause="503 Service Unavailable"`)
	assert.Contains(t, out, `attempt="2 of 8"`)
	assert.Contains(t, out, "GET http://"+f.Host+"/storage/blob?REDACTED")
	assert.NotContains(t, out, "SECRET")
}
