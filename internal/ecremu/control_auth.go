package ecremu

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// GetAuthorizationToken and the registry tokens it issues; the account
// settings (GetAccountSetting/PutAccountSetting) that the data plane honours.

// token is a registry password: opaque, bound to the principal that asked
// for it, valid until expires.
type token struct {
	principal principal
	expires   time.Time
}

// issueTokenLocked creates a registry password for p.
func (s *Server) issueTokenLocked(p principal) (string, time.Time) {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	password := base64.RawURLEncoding.EncodeToString(b)
	exp := s.now().Add(s.opts.TokenTTL)
	s.tokens[password] = &token{principal: p, expires: exp}
	return password, exp
}

// IssueToken is GetAuthorizationToken for Go callers: a registry password
// (user "AWS") for a principal of the given account, and its expiry.
func (s *Server) IssueToken(account string) (password string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTokenLocked(principal{account: account, arn: "arn:aws:iam::" + account + ":user/ecremu"})
}

type authorizationData struct {
	AuthorizationToken string     `json:"authorizationToken"`
	ExpiresAt          *epochTime `json:"expiresAt"`
	ProxyEndpoint      string     `json:"proxyEndpoint"`
}

func (c *controlCall) getAuthorizationToken(body []byte) (any, *apiError) {
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	ids := in.RegistryIDs
	if len(ids) == 0 {
		ids = []string{c.p.account}
	}
	if len(ids) > 10 {
		return nil, validationErr("1 validation error detected: Value at 'registryIds' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	data := []authorizationData{}
	for _, id := range ids {
		if !accountPattern.MatchString(id) {
			return nil, invalidParam(fmt.Sprintf("Invalid parameter at 'registryIds' failed to satisfy constraint: '%s' must satisfy regular expression '[0-9]{12}'", id))
		}
		password, exp := c.s.issueTokenLocked(c.p)
		data = append(data, authorizationData{
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
			ExpiresAt:          epoch(exp),
			ProxyEndpoint:      c.s.proxyEndpointLocked(id, c.host),
		})
	}
	c.registry = ids[0]
	return map[string]any{"authorizationData": data}, nil
}

var accountSettings = map[string][]string{
	"BLOB_MOUNTING":           {"ENABLED", "DISABLED"},
	"BASIC_SCAN_TYPE_VERSION": {"AWS_NATIVE"},
	"REGISTRY_POLICY_SCOPE":   {"V1", "V2"},
}

func (c *controlCall) getAccountSetting(body []byte) (any, *apiError) {
	var in struct {
		Name string `json:"name"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if _, ok := accountSettings[in.Name]; !ok {
		return nil, validationErr(fmt.Sprintf("Invalid account setting name '%s'", in.Name))
	}
	reg := c.s.registryLocked(c.p.account)
	c.registry = reg.id
	return map[string]any{"name": in.Name, "value": reg.settings[in.Name]}, nil
}

func (c *controlCall) putAccountSetting(body []byte) (any, *apiError) {
	var in struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	values, ok := accountSettings[in.Name]
	if !ok {
		return nil, validationErr(fmt.Sprintf("Invalid account setting name '%s'", in.Name))
	}
	valid := false
	for _, v := range values {
		valid = valid || v == in.Value
	}
	if !valid {
		return nil, validationErr(fmt.Sprintf("Invalid value '%s' for account setting '%s'", in.Value, in.Name))
	}
	reg := c.s.registryLocked(c.p.account)
	c.registry = reg.id
	reg.settings[in.Name] = in.Value
	return map[string]any{"name": in.Name, "value": in.Value}, nil
}
