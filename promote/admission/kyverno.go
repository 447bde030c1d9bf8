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

// kyvernoMatch is the rules' match and exclude: pods, outside the
// excluded namespaces.
func kyvernoMatch(rule map[string]any) map[string]any {
	ns := make([]any, len(excludedNamespaces))
	for i, n := range excludedNamespaces {
		ns[i] = n
	}
	rule["match"] = map[string]any{"any": []any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}}}}}
	rule["exclude"] = map[string]any{"any": []any{map[string]any{"resources": map[string]any{"namespaces": ns}}}}
	return rule
}

// denyEach is a validate rule that denies a pod when cond holds for any of
// its containers' images.
func denyEach(name, message string, cond map[string]any) map[string]any {
	return kyvernoMatch(map[string]any{
		"name": name,
		"validate": map[string]any{
			"failureAction": "Enforce",
			"message":       message,
			"foreach": []any{map[string]any{
				"list": containersList,
				"deny": map[string]any{"conditions": map[string]any{"any": []any{cond}}},
			}},
		},
	})
}

// regexIs is a condition: regex_match(re, element.image) is want.
func regexIs(re string, want bool) map[string]any {
	return map[string]any{"key": "{{ regex_match('" + re + "', element.image) }}", "operator": "Equals", "value": want}
}

func kyvernoImages(in Input) (File, error) {
	rules := []any{
		denyEach("repository", "every image must come from environment "+in.Env+"'s repositories ("+in.Repository+")",
			regexIs(imageRegex(in.Repository), false)),
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
			map[string]any{"key": "{{ regex_replace_all('^[^@]*@?', element.image, '') }}", "operator": "AnyIn", "value": digests}))
	}
	name := "promote-" + in.Env + "-images"
	pol := map[string]any{
		"apiVersion": "kyverno.io/v1",
		"kind":       "ClusterPolicy",
		"metadata":   metadata(in, name, ""),
		"spec": map[string]any{
			"background": true,
			"rules":      rules,
		},
	}
	return document(Kyverno, in, "Kyverno ClusterPolicy "+name+": pods of environment "+in.Env+" run images by digest, from its repositories, with no moving tag, not revoked.", "kyverno/clusterpolicy-"+name+".yaml", pol)
}

func kyvernoAttestation(in Input) (File, error) {
	rule := kyvernoMatch(map[string]any{
		"name": "promotion-attestation",
		"verifyImages": []any{map[string]any{
			"type":            "SigstoreBundle",
			"failureAction":   "Enforce",
			"imageReferences": []any{glob(in.Repository, "*")},
			"required":        true,
			"verifyDigest":    true,
			"mutateDigest":    false,
			"attestations": []any{map[string]any{
				"type": PredicateType,
				"attestors": []any{map[string]any{"entries": []any{map[string]any{
					"keys": map[string]any{
						"publicKeys": string(in.PublicKeyPEM),
						"rekor":      map[string]any{"ignoreTlog": true},
						"ctlog":      map[string]any{"ignoreSCT": true},
					},
				}}}},
				"conditions": []any{map[string]any{"all": []any{map[string]any{
					"key": "{{ environment }}", "operator": "Equals", "value": in.Env,
				}}}},
			}},
		}},
	})
	name := "promote-" + in.Env + "-attestation"
	pol := map[string]any{
		"apiVersion": "kyverno.io/v1",
		"kind":       "ClusterPolicy",
		"metadata":   metadata(in, name, ""),
		"spec": map[string]any{
			"background":           false,
			"webhookConfiguration": map[string]any{"failurePolicy": "Fail", "timeoutSeconds": 30},
			"rules":                []any{rule},
		},
	}
	return document(Kyverno, in, "Kyverno ClusterPolicy "+name+": every image of environment "+in.Env+" carries promote's promotion attestation for "+in.Env+", signed with its key (Kyverno 1.19 or later).", "kyverno/clusterpolicy-"+name+".yaml", pol)
}
