package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// A blob goes into a registry in two requests where the registry allows
// it, not go-containerregistry's three (POST, PATCH, PUT): the session is
// opened (POST, or a mount request that may finish the job) and the whole
// blob sent with its digest in one PUT, the monolithic upload of the OCI
// distribution spec that distribution, ECR and the other registries
// conforming to it accept. From another registry, the source's GET goes
// out with the POST, so a blob costs two round trips instead of four.
// A registry that refuses the monolithic PUT (405, 415, 501), or that
// sends the upload to another host, gets go-containerregistry's chunked
// upload instead, for this blob and every later one (chunkedOnly).

// pushers caches what monolithic uploads need per target.
type pushers struct {
	mu       sync.Mutex
	rt       map[string]*pushRT  // dst repository (| mount source) -> push transport
	chunked  map[string]bool     // registry host -> the monolithic upload was refused
	sessions map[string]*session // dst repository@digest -> a session opened ahead (OpenUploads)
}

// errMonolithicRefused is a registry declining the monolithic upload.
var errMonolithicRefused = errors.New("the registry does not take a blob in one PUT")

func (c *Client) chunkedOnly(host string) bool {
	c.pushes.mu.Lock()
	defer c.pushes.mu.Unlock()
	return c.pushes.chunked[host]
}

func (c *Client) setChunked(host string) {
	c.pushes.mu.Lock()
	defer c.pushes.mu.Unlock()
	if c.pushes.chunked == nil {
		c.pushes.chunked = map[string]bool{}
	}
	c.pushes.chunked[host] = true
}

// pushOrChunk puts a blob into dst in one PUT (pushBlob) unless dst's
// registry is known to refuse that, else, or when it refuses now, with
// chunked, go-containerregistry's upload; the refusal is remembered.
func (c *Client) pushOrChunk(ctx context.Context, mount *name.Repository, dst name.Repository, desc v1.Descriptor,
	open func(context.Context) (io.ReadCloser, error), chunked func() error) error {
	if !c.chunkedOnly(dst.RegistryStr()) {
		err := c.pushBlob(ctx, mount, dst, desc, open)
		if !errors.Is(err, errMonolithicRefused) {
			return err
		}
		c.setChunked(dst.RegistryStr())
	}
	return chunked()
}

// pushTransport is the authenticated transport to push into dst (and pull
// from from, on the same registry, for a mount), built once: callers of one
// key wait for its first (a ping and a token fetch, outside the lock); a
// failure is not kept, so the next caller tries again.
func (c *Client) pushTransport(ctx context.Context, dst name.Repository, from *name.Repository) (http.RoundTripper, error) {
	key := dst.Name()
	scopes := []string{dst.Scope(transport.PushScope)}
	if from != nil && from.Name() != dst.Name() {
		key += "|" + from.Name()
		scopes = append(scopes, from.Scope(transport.PullScope))
	}
	c.pushes.mu.Lock()
	if c.pushes.rt == nil {
		c.pushes.rt = map[string]*pushRT{}
	}
	p, ok := c.pushes.rt[key]
	if !ok {
		p = &pushRT{ready: make(chan struct{})}
		c.pushes.rt[key] = p
	}
	c.pushes.mu.Unlock()
	if ok {
		select {
		case <-p.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if p.err == nil {
			return p.rt, nil
		}
		return c.pushTransport(ctx, dst, from) // the first failed and is forgotten: try again
	}
	p.rt, p.err = c.newPushTransport(ctx, dst, scopes)
	if p.err != nil {
		c.pushes.mu.Lock()
		delete(c.pushes.rt, key)
		c.pushes.mu.Unlock()
	}
	close(p.ready)
	return p.rt, p.err
}

// pushRT is a push transport being built, or built.
type pushRT struct {
	ready chan struct{}
	rt    http.RoundTripper
	err   error
}

func (c *Client) newPushTransport(ctx context.Context, dst name.Repository, scopes []string) (http.RoundTripper, error) {
	auth, err := authn.Resolve(ctx, c.keychain, dst)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", dst, err)
	}
	return transport.NewWithContext(ctx, dst.Registry, auth, c.transport, scopes)
}

// pushBlob puts the blob desc names into dst: mounted from mount, a
// repository of dst's registry, where it is set and the registry agrees,
// otherwise read with open (started beside the session's POST when there is
// no mount to try) and sent in one PUT. It reports errMonolithicRefused when the
// registry wants the chunked upload instead; nothing is then committed.
func (c *Client) pushBlob(ctx context.Context, mount *name.Repository, dst name.Repository, desc v1.Descriptor, open func(context.Context) (io.ReadCloser, error)) error {
	mountable := mount != nil
	rt, err := c.pushTransport(ctx, dst, mount)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a source read the upload did not take
	type opened struct {
		rc  io.ReadCloser
		err error
	}
	early := make(chan opened, 1)
	if !mountable {
		go func() {
			rc, err := open(ctx)
			early <- opened{rc, err}
		}()
	}
	var loc string
	var mounted bool
	ahead := false
	if !mountable {
		loc = c.openedSession(ctx, dst, desc)
		ahead = loc != ""
	}
	if loc == "" {
		loc, mounted, err = c.startUpload(ctx, rt, dst, mount, desc)
	}
	var te *transport.Error
	if mountable && errors.As(err, &te) { // some registries answer a mount they cannot do with an error
		loc, mounted, err = c.startUpload(ctx, rt, dst, nil, desc)
	}
	if err != nil || mounted {
		if !mountable {
			cancel() // the source read is not wanted: do not wait for it
			if o := <-early; o.rc != nil {
				_ = o.rc.Close()
			}
		}
		return err
	}
	var o opened
	if mountable { // the mount was declined: read the blob after all
		o.rc, o.err = open(ctx)
	} else {
		o = <-early
	}
	if o.err != nil {
		return o.err
	}
	err = c.commitUpload(ctx, rt, loc, desc, o.rc)
	if ahead && errors.As(err, &te) && (te.StatusCode == http.StatusNotFound || te.StatusCode == http.StatusBadRequest) {
		return &staleSession{err} // opened too long ago: a new session, and the source read again
	}
	return err
}

// staleSession is a session opened ahead that the registry no longer
// knows (expired, or dropped): the upload restarts with a new one.
type staleSession struct{ err error }

func (e *staleSession) Error() string { return "upload session opened ahead: " + e.err.Error() }
func (e *staleSession) Unwrap() error { return e.err }

// startUpload opens an upload session in dst, asking for a mount from
// mount when it is set. It returns the session's location, or mounted when
// the registry mounted the blob.
func (c *Client) startUpload(ctx context.Context, rt http.RoundTripper, dst name.Repository, mount *name.Repository, desc v1.Descriptor) (string, bool, error) {
	u := url.URL{Scheme: dst.Scheme(), Host: dst.RegistryStr(), Path: "/v2/" + dst.RepositoryStr() + "/blobs/uploads/"}
	if mount != nil {
		u.RawQuery = url.Values{"mount": {desc.Digest.String()}, "from": {mount.RepositoryStr()}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return "", false, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated, http.StatusAccepted); err != nil {
		return "", false, err
	}
	if resp.StatusCode == http.StatusCreated {
		return "", true, nil
	}
	loc, err := resp.Location()
	if err != nil {
		return "", false, fmt.Errorf("the upload session in %s has no usable location: %w", dst, err)
	}
	sent := resp.Request.URL // as sent: go-containerregistry may have upgraded the scheme
	if canonicalHost(loc.Scheme, loc.Host) != canonicalHost(sent.Scheme, sent.Host) {
		return "", false, errMonolithicRefused // elsewhere: go-containerregistry knows which hosts to trust
	}
	return loc.String(), false, nil
}

// commitUpload sends the blob, body, to the session at loc in one PUT with
// its digest; the registry checks the digest and size before it commits.
func (c *Client) commitUpload(ctx context.Context, rt http.RoundTripper, loc string, desc v1.Descriptor, body io.ReadCloser) error {
	u, err := url.Parse(loc)
	if err != nil {
		_ = body.Close()
		return err
	}
	q := u.Query()
	q.Set("digest", desc.Digest.String())
	u.RawQuery = q.Encode()
	var rb io.Reader = body
	if desc.Size == 0 {
		rb = http.NoBody // an empty blob: Content-Length 0, not a chunked body
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), rb)
	if err != nil {
		_ = body.Close()
		return err
	}
	if desc.Size == 0 {
		defer body.Close()
	}
	req.ContentLength = desc.Size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType, http.StatusNotImplemented:
		return errMonolithicRefused
	}
	return transport.CheckError(resp, http.StatusCreated)
}
