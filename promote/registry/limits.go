package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Limits on what promote reads from a registry into memory.
const (
	// maxManifestBytes bounds every manifest and referrers index read: the
	// 4 MiB that distribution and ECR accept for a manifest.
	maxManifestBytes = 4 << 20
	// maxReferrerPages bounds the pages of one referrers list followed.
	maxReferrerPages = 10
	// maxReferrers bounds the descriptors of one referrers list.
	maxReferrers = 4096
	// maxTagPages bounds the pages of one tag list followed (each page,
	// like a manifest, at most maxManifestBytes).
	maxTagPages = 100
)

// limitManifests checks the answers to GET requests as they are read:
//
//   - a manifest, referrers index or tag list page (by the path of the request that
//     started the redirect chain) larger than maxManifestBytes is refused,
//     unread when its Content-Length says so, after maxManifestBytes when
//     it does not;
//   - a manifest whose bytes do not hash to the Docker-Content-Digest header
//     the registry sent with them is refused (go-containerregistry checks
//     the digest of a manifest fetched by digest, not by tag);
//   - a body that ends before its Content-Length says which bytes are missing.
func limitManifests(next http.RoundTripper) http.RoundTripper { return manifestLimiter{next} }

type manifestLimiter struct{ next http.RoundTripper }

func (l manifestLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	first := origin(req)
	manifest := manifestPath.MatchString(first.URL.Path)
	if !manifest && !referrersPath.MatchString(first.URL.Path) && !tagsPath.MatchString(first.URL.Path) {
		if resp.ContentLength > 0 {
			resp.Body = &checkedBody{rc: resp.Body, what: describe(first), from: req.URL.Host, declared: resp.ContentLength, max: -1}
		}
		return resp, nil
	}
	what := describe(first)
	if resp.ContentLength > maxManifestBytes {
		_ = resp.Body.Close()
		resp.Body = errorBody{refuse("%s is %d bytes (Content-Length), more than the 4 MiB (%d bytes) that distribution and ECR accept for a manifest: refused unread",
			what, resp.ContentLength, maxManifestBytes)}
		return resp, nil
	}
	b := &checkedBody{rc: resp.Body, what: what, from: req.URL.Host, declared: resp.ContentLength, max: maxManifestBytes}
	if manifest && resp.Header.Get("Content-Type") != string(types.DockerManifestSchema1Signed) {
		// A signed schema 1 manifest's header names the digest without its
		// signatures; promote refuses schema 1 later, saying so.
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil && h.Algorithm == "sha256" {
			b.want, b.hash = h, sha256.New()
		}
	}
	resp.Body = b
	return resp, nil
}

// checkedBody reads a response body, refusing more than max bytes (max < 0:
// no limit) and, when want is set, content that does not hash to it.
type checkedBody struct {
	rc       io.ReadCloser
	what     string // what the body is, as describe names it
	from     string // the host that sent it
	declared int64  // Content-Length, -1 when unknown
	max      int64
	want     v1.Hash
	hash     hash.Hash
	n        int64
	err      error
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if b.max >= 0 && b.n+int64(n) > b.max {
		n = int(b.max - b.n)
		b.n += int64(n)
		b.err = refuse("%s is larger than the 4 MiB (%d bytes) that distribution and ECR accept for a manifest: refused after reading %d bytes",
			b.what, b.max, b.n)
		return n, b.err
	}
	b.n += int64(n)
	if b.hash != nil {
		b.hash.Write(p[:n])
	}
	switch {
	case err == io.EOF && b.hash != nil:
		got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(b.hash.Sum(nil))}
		if got != b.want {
			b.err = refuse("%s: registry %s sent bytes that hash to %s, not to %s, the Docker-Content-Digest it names them by: refused",
				b.what, b.from, got, b.want)
			return n, b.err
		}
	case errors.Is(err, io.ErrUnexpectedEOF) && b.declared >= 0:
		err = fmt.Errorf("%s: registry %s sent %d of the %d bytes its Content-Length declared: %w", b.what, b.from, b.n, b.declared, err)
	}
	return n, err
}

func (b *checkedBody) Close() error { return b.rc.Close() }

// errorBody is a response body that fails with err when read.
type errorBody struct{ err error }

func (b errorBody) Read([]byte) (int, error) { return 0, b.err }
func (b errorBody) Close() error             { return nil }

// sizedBlob hands the upload its last bytes only once the source has ended
// exactly where the descriptor says and its digest checked out: otherwise
// the target could receive a complete body (and answer it) before the lie
// shows. Failing, it withholds the bytes of the read that failed.
type sizedBlob struct {
	rc   io.ReadCloser
	desc v1.Descriptor
	n    int64
	err  error // returned from then on
}

var errLonger = errors.New("longer than its descriptor")

func (b *sizedBlob) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if b.n+int64(n) > b.desc.Size {
		err = errLonger
	} else if b.n += int64(n); err == nil && b.n == b.desc.Size {
		err = b.end()
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF && b.n == b.desc.Size:
		return n, io.EOF
	case err == errLonger:
		b.err = refuse("blob %s: the source sent more than the %d bytes its descriptor declares: refused", b.desc.Digest, b.desc.Size)
	case err == io.EOF:
		b.err = refuse("blob %s: the source sent %d bytes, not the %d its descriptor declares: refused", b.desc.Digest, b.n, b.desc.Size)
	case networkFailure(err):
		b.err = err // a connection that broke: the upload may be started again
	case b.n != b.desc.Size:
		b.err = refuse("blob %s: the source sent %d bytes, not the %d its descriptor declares: %v", b.desc.Digest, b.n, b.desc.Size, err)
	default:
		b.err = refuse("blob %s: %v: refused", b.desc.Digest, err)
	}
	return 0, b.err
}

// end reads on past the descriptor's size: io.EOF (or the digest check's
// error, which comes at the end) when the source ends there, errLonger
// when it does not.
func (b *sizedBlob) end() error {
	var one [1]byte
	for range 100 {
		m, err := b.rc.Read(one[:])
		if m > 0 {
			return errLonger
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

func (b *sizedBlob) Close() error { return b.rc.Close() }

// unwrapRefusal returns the refusal inside err, if any, without the upload
// request it interrupted (a source blob refused mid-upload reads best as
// what was wrong with it), and err otherwise.
func unwrapRefusal(err error) error {
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe
	}
	return err
}

// networkFailure reports whether err is the transport failing rather than
// the content being wrong.
func networkFailure(err error) bool {
	return brokenConnection(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
