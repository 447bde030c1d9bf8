package admission

import (
	"fmt"
	"strconv"
	"strings"
)

// policyControllerNamespace is where policy-controller reads its
// configuration (its Helm chart's default).
const policyControllerNamespace = "cosign-system"

// policyController returns a ClusterImagePolicy requiring the promotion
// attestation for the environment, whose CUE policy also refuses revoked
// digests, and the config-policy-controller ConfigMap with no-match-policy
// deny: an image outside the environment's repositories matches no policy
// and is refused. policy-controller resolves a tag to a digest and judges
// that, so it cannot refuse a tag-only reference or a moving tag: use the
// Gatekeeper or Kyverno export beside it for those.
func policyController(in Input) ([]File, error) {
	name := "promote-" + in.Env
	cip := o(
		f("apiVersion", "policy.sigstore.dev/v1beta1"),
		f("kind", "ClusterImagePolicy"),
		f("metadata", metadata(in, name, "")),
		f("spec", o(
			f("mode", "enforce"),
			f("images", globs(policyControllerGlobs(in.Repositories))),
			f("authorities", list(o(
				f("name", "promote"),
				f("signatureFormat", "bundle"),
				f("key", o(f("data", string(in.PublicKeyPEM)))),
				f("attestations", list(o(
					f("name", "promotion"),
					f("predicateType", PredicateType),
					f("policy", o(f("type", "cue"), f("data", cuePolicy(in)))),
				))),
			))),
		)),
	)
	cm := o(
		f("apiVersion", "v1"),
		f("kind", "ConfigMap"),
		f("metadata", metadata(in, "config-policy-controller", policyControllerNamespace)),
		f("data", o(f("no-match-policy", "deny"))),
	)
	p, err := document(PolicyController, in, "sigstore policy-controller ClusterImagePolicy "+name+": every image of environment "+in.Env+" carries promote's promotion attestation for "+in.Env+", signed with its key, of a digest not revoked.", "policy-controller/clusterimagepolicy-"+name+".yaml", cip)
	if err != nil {
		return nil, err
	}
	c, err := document(PolicyController, in, "policy-controller's configuration: an image that no ClusterImagePolicy matches (not from environment "+in.Env+"'s repositories) is refused.", "policy-controller/configmap-config-policy-controller.yaml", cm)
	if err != nil {
		return nil, err
	}
	return []File{p, c}, nil
}

func globs(gs []string) []any {
	out := make([]any, len(gs))
	for i, g := range gs {
		out[i] = o(f("glob", g))
	}
	return out
}

// cuePolicy is the CUE policy on the in-toto statement: the promotion
// predicate, into this environment, of a digest not revoked.
func cuePolicy(in Input) string {
	var b strings.Builder
	fmt.Fprintf(&b, "predicateType: %s\n", strconv.Quote(PredicateType))
	fmt.Fprintf(&b, "predicate: environment: %s\n", strconv.Quote(in.Env))
	if len(in.Revoked) > 0 {
		not := make([]string, len(in.Revoked))
		for i, r := range in.Revoked {
			not[i] = "!=" + strconv.Quote(r.Digest)
		}
		fmt.Fprintf(&b, "predicate: digest: string & %s\n", strings.Join(not, " & "))
	}
	return b.String()
}
