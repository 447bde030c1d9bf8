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
	rt       map[string]http.RoundTripper // dst repository (| mount source) -> push transport
	chunked  map[string]bool              // registry host -> the monolithic upload was refused
	sessions map[string]*session          // dst repository@digest -> a session opened ahead (OpenUploads)
}

// session is an upload session opened ahead of its blob; ready is closed
// once loc or err is set.
type session struct {
	ready chan struct{}
	loc   string
	err   error
}

// OpenUploads opens, in the background, an upload session in dst for
// each of descs (blobs that will be sent from elsewhere, not mounted), so
// that their uploads find them open: the sessions' round trip is then
// spent while the caller does something else (a promotion checks its plan
// under the lock). A session not used is left to the registry to expire;
// it holds no content.
func (c *Client) OpenUploads(ctx context.Context, dst name.Repository, descs []v1.Descriptor) {
	if c.chunkedOnly(dst.RegistryStr()) {
		return
	}
	c.pushes.mu.Lock()
	if c.pushes.sessions == nil {
		c.pushes.sessions = map[string]*session{}
	}
	var opening []*session
	var keys []v1.Descriptor
	for _, d := range descs {
		key := dst.Name() + "@" + d.Digest.String()
		if c.pushes.sessions[key] != nil {
			continue
		}
		s := &session{ready: make(chan struct{})}
		c.pushes.sessions[key] = s
		opening, keys = append(opening, s), append(keys, d)
	}
	c.pushes.mu.Unlock()
	for i, s := range opening {
		go func() {
			defer close(s.ready)
			rt, err := c.pushTransport(ctx, dst, nil)
			if err != nil {
				s.err = err
				return
			}
			s.loc, _, s.err = c.startUpload(ctx, rt, dst, nil, keys[i])
		}()
	}
}

// openedSession takes the session opened ahead for desc in dst, if any,
// once it is open; "" when there is none or it did not open.
func (c *Client) openedSession(ctx context.Context, dst name.Repository, desc v1.Descriptor) string {
	key := dst.Name() + "@" + desc.Digest.String()
	c.pushes.mu.Lock()
	s := c.pushes.sessions[key]
	delete(c.pushes.sessions, key)
	c.pushes.mu.Unlock()
	if s == nil {
		return ""
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return ""
	}
	if s.err != nil {
		return ""
	}
	return s.loc
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

// pushTransport is the authenticated transport to push into dst (and pull
// from from, on the same registry, for a mount), built once.
func (c *Client) pushTransport(ctx context.Context, dst name.Repository, from *name.Repository) (http.RoundTripper, error) {
	key := dst.Name()
	scopes := []string{dst.Scope(transport.PushScope)}
	if from != nil && from.Name() != dst.Name() {
		key += "|" + from.Name()
		scopes = append(scopes, from.Scope(transport.PullScope))
	}
	c.pushes.mu.Lock()
	defer c.pushes.mu.Unlock()
	if rt, ok := c.pushes.rt[key]; ok {
		return rt, nil
	}
	auth, err := authn.Resolve(ctx, c.keychain, dst)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", dst, err)
	}
	rt, err := transport.NewWithContext(ctx, dst.Registry, auth, c.transport, scopes)
	if err != nil {
		return nil, err
	}
	if c.pushes.rt == nil {
		c.pushes.rt = map[string]http.RoundTripper{}
	}
	c.pushes.rt[key] = rt
	return rt, nil
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
	if !mountable {
		loc = c.openedSession(ctx, dst, desc)
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
	return c.commitUpload(ctx, rt, loc, desc, o.rc)
}

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
	if canonicalHost(loc.Scheme, loc.Host) != canonicalHost(u.Scheme, u.Host) {
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), body)
	if err != nil {
		_ = body.Close()
		return err
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
