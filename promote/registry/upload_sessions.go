package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

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
// under the lock). At most Lookups sessions are being opened at once. A
// session not used by the time ctx ends is forgotten and left to the
// registry to expire: it holds no content. One that has expired by the
// time it is used costs its upload a new session (staleSession).
func (c *Client) OpenUploads(ctx context.Context, dst name.Repository, descs []v1.Descriptor) {
	if c.chunkedOnly(dst.RegistryStr()) {
		return
	}
	type opening struct {
		key  string
		s    *session
		desc v1.Descriptor
	}
	var todo []opening
	c.pushes.mu.Lock()
	if c.pushes.sessions == nil {
		c.pushes.sessions = map[string]*session{}
	}
	for _, d := range descs {
		key := dst.Name() + "@" + d.Digest.String()
		if c.pushes.sessions[key] != nil {
			continue
		}
		s := &session{ready: make(chan struct{})}
		c.pushes.sessions[key] = s
		todo = append(todo, opening{key, s, d})
	}
	c.pushes.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	sem := make(chan struct{}, c.Lookups())
	for _, o := range todo {
		go func() {
			defer close(o.s.ready)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				o.s.err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			rt, err := c.pushTransport(ctx, dst, nil)
			if err != nil {
				o.s.err = err
				return
			}
			o.s.loc, _, o.s.err = c.startUpload(ctx, rt, dst, nil, o.desc)
		}()
	}
	context.AfterFunc(ctx, func() { // what the caller did not take is forgotten
		c.pushes.mu.Lock()
		defer c.pushes.mu.Unlock()
		for _, o := range todo {
			if c.pushes.sessions[o.key] == o.s {
				delete(c.pushes.sessions, o.key)
			}
		}
	})
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
