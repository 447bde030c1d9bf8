package ecr

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
)

// refreshBefore renews a token this long before ECR says it expires.
const refreshBefore = 5 * time.Minute

// Registry is one ECR registry promote reaches: its host, its account and
// the client whose credentials read it.
type Registry struct {
	Host       string // as repositories name it (an ECR host, or an endpoint's host:port)
	RegistryID string
	Client     *Client
}

// Keychain hands go-containerregistry the credentials of ECR registries,
// from GetAuthorizationToken, cached until shortly before they expire. It
// answers Anonymous for any other host, so it composes with
// authn.NewMultiKeychain(keychain, authn.DefaultKeychain). Tokens never
// reach logs or errors.
type Keychain struct {
	mu    sync.Mutex
	regs  map[string]Registry
	cache map[string]token
	now   func() time.Time
}

type token struct {
	user, pass string
	expires    time.Time
}

// NewKeychain serves credentials for regs.
func NewKeychain(regs ...Registry) *Keychain {
	k := &Keychain{regs: map[string]Registry{}, cache: map[string]token{}, now: time.Now}
	for _, r := range regs {
		k.regs[r.Host] = r
	}
	return k
}

// Resolve implements authn.Keychain.
func (k *Keychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), res)
}

// ResolveContext implements authn.ContextKeychain.
func (k *Keychain) ResolveContext(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	reg, ok := k.regs[res.RegistryStr()]
	if !ok {
		return authn.Anonymous, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.cache[reg.Host]; ok && k.now().Before(t.expires.Add(-refreshBefore)) {
		return &authn.Basic{Username: t.user, Password: t.pass}, nil
	}
	t, err := reg.Client.token(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry credentials for %s: %w", reg.Host, err)
	}
	k.cache[reg.Host] = t
	return &authn.Basic{Username: t.user, Password: t.pass}, nil
}

// token calls GetAuthorizationToken. The token opens every registry the
// caller's principal may use (ECR deprecated RegistryIds: naming one does
// not narrow it), so it is asked for once per client and registry host.
func (c *Client) token(ctx context.Context) (token, error) {
	out, err := c.api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return token{}, apiError("GetAuthorizationToken", "in "+c.region, err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return token{}, fmt.Errorf("ecr GetAuthorizationToken returned no token")
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	if err != nil {
		return token{}, fmt.Errorf("ecr authorization token is not base64") // never echo the token
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return token{}, fmt.Errorf("ecr authorization token is not USER:PASSWORD")
	}
	t := token{user: user, pass: pass, expires: time.Now().Add(time.Hour)}
	if d.ExpiresAt != nil {
		t.expires = *d.ExpiresAt
	}
	return t, nil
}
