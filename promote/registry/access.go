package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// CheckAccess reaches the registry at host (HOST[:PORT]) as a promotion
// would: it pings /v2/ and, where the registry asks, authenticates with
// the client's credentials, requesting no repository scope. It reads
// nothing else and writes nothing.
func (c *Client) CheckAccess(ctx context.Context, host string) (err error) {
	repo, err := c.Repository(host + "/promote-access-check")
	if err != nil {
		return redact(err)
	}
	defer func() {
		done(&err, repo)
		var re *ReachError
		if errors.As(err, &re) {
			re.Repository = "" // no repository was asked for: the failure is the registry's
		}
	}()
	auth, err := authn.Resolve(ctx, c.keychain, repo.Registry)
	if err != nil {
		return fmt.Errorf("credentials for %s: %w", host, err)
	}
	if _, err := transport.NewWithContext(ctx, repo.Registry, auth, c.transport, nil); err != nil {
		return fmt.Errorf("reaching %s: %w", host, explain(host, err))
	}
	return nil
}
