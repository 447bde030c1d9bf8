package admission

import "strings"

// containersList is every container of a pod, as Kyverno's foreach reads it.
const containersList = "request.object.spec.[ephemeralContainers, initContainers, containers][]"

// kyverno returns two ClusterPolicies: the image rules, which Kyverno
// checks offline (validate), and the attestation rule, which reads the
// registry (verifyImages), so each can be tested, and fail, on its own.
func kyverno(in Input) ([]File, error) {
	images, err := kyvernoImages(in)
	if err != nil {
		return nil, err
	}
	att, err := kyvernoAttestation(in)
	if err != nil {
		return nil, err
	}
	return []File{images, att}, nil
}

// kyvernoRule is a rule named name on pods outside the excluded
// namespaces, doing what body says (validate or verifyImages).
func kyvernoRule(name string, body field) obj {
	return o(
		f("name", name),
		f("match", o(f("any", list(o(f("resources", o(f("kinds", list("Pod"))))))))),
		f("exclude", o(f("any", list(o(f("resources", o(f("namespaces", list(excludedNamespaces(Kyverno)...))))))))),
		body,
	)
}

// denyEach is a validate rule that denies a pod when cond holds for any of
// its containers' images.
func denyEach(name, message string, cond obj) obj {
	return kyvernoRule(name, f("validate", o(
		f("failureAction", "Enforce"),
		f("message", message),
		f("foreach", list(o(
			f("list", containersList),
			f("deny", o(f("conditions", o(f("any", list(cond)))))),
		))),
	)))
}

// regexIs is a condition: regex_match(re, element.image) is want.
func regexIs(re string, want bool) obj {
	return o(f("key", "{{ regex_match('"+re+"', element.image) }}"), f("operator", "Equals"), f("value", want))
}

func kyvernoImages(in Input) (File, error) {
	rules := []any{
		denyEach("repository", "every image must come from the repositories of environment "+in.Env+"'s apps ("+strings.Join(in.Repositories, ", ")+")",
			regexIs(imageRegex(in.Repositories), false)),
		denyEach("digest", "every image must be referenced by digest (REPOSITORY@sha256:...), as promote current "+in.Env+" APP prints it",
			regexIs(byDigest, false)),
	}
	if len(in.MovingTags) > 0 {
		rules = append(rules, denyEach("moving-tag", "no image may name a moving tag ("+strings.Join(in.MovingTags, ", ")+"); reference the digest",
			regexIs(movingRegex(in.MovingTags), true)))
	}
	if len(in.Revoked) > 0 {
		digests := make([]any, len(in.Revoked))
		for i, r := range in.Revoked {
			digests[i] = r.Digest
		}
		rules = append(rules, denyEach("revoked", "no image may be a revoked digest (promote status APP names the revocation)",
			o(f("key", "{{ regex_replace_all('^[^@]*@?', element.image, '') }}"), f("operator", "AnyIn"), f("value", digests))))
	}
	name := "promote-" + in.Env + "-images"
	pol := o(
		f("apiVersion", "kyverno.io/v1"),
		f("kind", "ClusterPolicy"),
		f("metadata", metadata(in, name, "")),
		f("spec", o(f("background", true), f("rules", rules))),
	)
	return document(Kyverno, in, "Kyverno ClusterPolicy "+name+": pods of environment "+in.Env+" run images by digest, from its repositories, with no moving tag, not revoked.", "kyverno/clusterpolicy-"+name+".yaml", pol)
}

func kyvernoAttestation(in Input) (File, error) {
	rule := kyvernoRule("promotion-attestation", f("verifyImages", list(o(
		f("type", "SigstoreBundle"),
		f("failureAction", "Enforce"),
		f("imageReferences", list(kyvernoReferences(in.Repositories)...)),
		f("required", true),
		f("verifyDigest", true),
		f("mutateDigest", false),
		f("attestations", list(o(
			f("type", PredicateType),
			f("attestors", list(o(f("entries", list(o(f("keys", o(
				f("publicKeys", string(in.PublicKeyPEM)),
				f("rekor", o(f("ignoreTlog", true))),
				f("ctlog", o(f("ignoreSCT", true))),
			)))))))),
			f("conditions", list(o(f("all", list(o(
				f("key", "{{ environment }}"), f("operator", "Equals"), f("value", in.Env),
			)))))),
		))),
	))))
	name := "promote-" + in.Env + "-attestation"
	pol := o(
		f("apiVersion", "kyverno.io/v1"),
		f("kind", "ClusterPolicy"),
		f("metadata", metadata(in, name, "")),
		f("spec", o(
			f("background", false),
			f("webhookConfiguration", o(f("failurePolicy", "Fail"), f("timeoutSeconds", 30))),
			f("rules", list(rule)),
		)),
	)
	return document(Kyverno, in, "Kyverno ClusterPolicy "+name+": every image of environment "+in.Env+" carries promote's promotion attestation for "+in.Env+", signed with its key (Kyverno 1.19 or later).", "kyverno/clusterpolicy-"+name+".yaml", pol)
}
