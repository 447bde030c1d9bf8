package config

import (
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/gates"
)

// Approvals is an environment's four-eyes rule: a digest enters only once
// Required distinct signers among Signers have approved it for the
// environment, each with a signed approval attestation on the digest.
type Approvals struct {
	Required int
	// Signers are who may approve, as configured: public key files (as
	// written, resolved against the config file's directory by Verifier),
	// keyless identities and the trusted root they need.
	Signers gates.SignedConfig
	// Verifier checks approvals against Signers, offline.
	Verifier *gates.SignatureVerifier
	// Expires is how long an approval counts after the time it states; 0:
	// it does not expire.
	Expires time.Duration
	Line    int
}

var approvalFields = []string{"required", "keys", "identities", "trustedRoot", "expires"}

const approvalsExpected = "a mapping such as {required: 2, keys: [keys/alice.pub, keys/bob.pub], expires: 72h}"

// approvals decodes an environment's approvals block: who may approve
// (keys, keyless identities with a trusted root, as the signed gate takes
// them), how many distinct approvals are required, and how long one counts.
func (w *walker) approvals(n *yaml.Node, path string, e *Environment) (*Approvals, error) {
	f, err := w.fields(n, path, approvalsExpected, approvalFields)
	if err != nil {
		return nil, err
	}
	n = deref(n)
	if e.From == "" {
		return nil, w.errf(n, path, "environment %s has no from: nothing is promoted into it, so nothing needs approving; "+
			"give approvals to an environment downstream of it", e.Name)
	}
	a := &Approvals{Line: n.Line}
	ent, ok := f["required"]
	if !ok {
		return nil, w.errf(n, join(path, "required"), "missing; expected how many distinct approvers must approve a digest, such as 2")
	}
	if a.Required, err = w.integer(ent.val, join(path, "required")); err != nil {
		return nil, err
	}
	if a.Required < 1 {
		return nil, w.errf(ent.val, join(path, "required"), "%d; expected 1 or more distinct approvals", a.Required)
	}
	if k, ok := f["keys"]; ok {
		if a.Signers.Keys, err = w.stringList(k.val, join(path, "keys")); err != nil {
			return nil, err
		}
		for i, key := range a.Signers.Keys {
			if key == "" {
				return nil, w.errf(deref(k.val).Content[i], index(join(path, "keys"), i), "empty; expected a PEM public key file such as keys/alice.pub")
			}
		}
	}
	if ids, ok := f["identities"]; ok {
		if a.Signers.Identities, err = w.identities(ids.val, join(path, "identities")); err != nil {
			return nil, err
		}
	}
	if tr, ok := f["trustedRoot"]; ok {
		if a.Signers.TrustedRoot, err = w.str(tr.val, join(path, "trustedRoot")); err != nil {
			return nil, err
		}
	}
	if len(a.Signers.Keys) == 0 && len(a.Signers.Identities) == 0 {
		return nil, w.errf(n, path, "no keys and no identities: nobody could approve; "+
			"expected keys (public key files such as keys/alice.pub) or identities ([{issuer, subject}]) or both")
	}
	if a.Verifier, err = gates.NewSignatureVerifier(a.Signers, gates.Settings{Dir: filepath.Dir(w.file)}); err != nil {
		return nil, w.signerErr(n, f, path, err)
	}
	if most := a.MostApprovers(); a.Required > most {
		keys := most - len(a.Signers.Identities)
		return nil, w.errf(ent.val, join(path, "required"), "%d, but at most %d approvals can ever count (%d distinct %s, %d %s, "+
			"each counted once): it could never be met; list more keys or identities, or require at most %d",
			a.Required, most, keys, plural(keys, "key", "keys"), len(a.Signers.Identities), plural(len(a.Signers.Identities), "identity", "identities"), most)
	}
	if ex, ok := f["expires"]; ok {
		field := join(path, "expires")
		s, err := w.str(ex.val, field)
		if err != nil {
			return nil, err
		}
		d, err := gates.ParseDuration(s)
		if err != nil {
			return nil, w.errf(ex.val, field, "%v; an approval counts for this long after its time", err)
		}
		a.Expires = time.Duration(d)
	}
	return a, nil
}

// MostApprovers is how many approvals could ever count: one per distinct
// key, one per listed identity.
func (a *Approvals) MostApprovers() int {
	ids := map[string]bool{}
	for _, k := range a.Verifier.Keys() {
		ids[k.ID] = true
	}
	return len(ids) + len(a.Signers.Identities)
}

// identities decodes a list of keyless identities {issuer, subject}.
func (w *walker) identities(n *yaml.Node, path string) ([]gates.IdentityConfig, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, w.errf(n, path, "expected a list such as [{issuer: https://token.actions.githubusercontent.com, subject: ^https://github.com/org/.*$}], found %s", describe(n))
	}
	out := make([]gates.IdentityConfig, 0, len(n.Content))
	for i, item := range n.Content {
		field := index(path, i)
		f, err := w.fields(item, field, "an identity (a mapping with issuer and subject)", []string{"issuer", "subject"})
		if err != nil {
			return nil, err
		}
		var id gates.IdentityConfig
		for key, dst := range map[string]*string{"issuer": &id.Issuer, "subject": &id.Subject} {
			ent, ok := f[key]
			if !ok {
				return nil, w.errf(deref(item), join(field, key), "missing; expected the certificate's OIDC %s", key)
			}
			if *dst, err = w.str(ent.val, join(field, key)); err != nil {
				return nil, err
			}
		}
		out = append(out, id)
	}
	return out, nil
}

// signerPrefix is how gates.NewSignatureVerifier names the field at fault:
// "keys[1]: …", "identities[0]: …", "trustedRoot: …".
var signerPrefix = regexp.MustCompile(`^(keys|identities|trustedRoot)(?:\[(\d+)\])?: `)

// signerErr reports an error of gates.NewSignatureVerifier at the node it
// names, when it names one, else at the approvals block.
func (w *walker) signerErr(n *yaml.Node, f map[string]entry, path string, err error) error {
	msg := err.Error()
	m := signerPrefix.FindStringSubmatch(msg)
	if m == nil {
		return w.errf(n, path, "%s", msg)
	}
	ent, ok := f[m[1]]
	if !ok {
		return w.errf(n, join(path, m[1]), "%s", msg[len(m[0]):])
	}
	at, field := deref(ent.val), join(path, m[1])
	if m[2] != "" {
		i, _ := strconv.Atoi(m[2])
		if i < len(at.Content) {
			at = at.Content[i]
		}
		field = index(field, i)
	}
	return w.errf(at, field, "%s", msg[len(m[0]):])
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
