package admission

import (
	_ "embed"
	"strings"
)

// The Gatekeeper template and its kind. The template is the same for every
// environment; the constraint carries the environment's rules as
// parameters, so a new revocation needs only the constraint re-exported.
const (
	templateName = "promoteimages"
	templateKind = "PromoteImages"
)

//go:embed promoteimages.rego
var promoteImagesRego string

// gatekeeper returns the ConstraintTemplate and the environment's
// Constraint. Gatekeeper cannot verify signatures: the attestation rule is
// the Kyverno and policy-controller exports' business.
func gatekeeper(in Input) ([]File, error) {
	str := map[string]any{"type": "string"}
	strings_ := map[string]any{"type": "array", "items": str}
	tmpl := map[string]any{
		"apiVersion": "templates.gatekeeper.sh/v1",
		"kind":       "ConstraintTemplate",
		"metadata":   metadata(in, templateName, ""),
		"spec": map[string]any{
			"crd": map[string]any{"spec": map[string]any{
				"names": map[string]any{"kind": templateKind},
				"validation": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"environment":  str,
						"repository":   str,
						"imagePattern": str,
						"movingTags":   strings_,
						"revoked": map[string]any{"type": "array", "items": map[string]any{
							"type": "object",
							"properties": map[string]any{
								"digest": str, "app": str, "revocation": str,
							},
						}},
					},
				}},
			}},
			"targets": []any{map[string]any{
				"target": "admission.k8s.gatekeeper.sh",
				"rego":   promoteImagesRego,
			}},
		},
	}
	revoked := make([]any, len(in.Revoked))
	for i, r := range in.Revoked {
		revoked[i] = map[string]any{"digest": r.Digest, "app": r.App, "revocation": r.Revocation}
	}
	moving := make([]any, len(in.MovingTags))
	for i, t := range in.MovingTags {
		moving[i] = t
	}
	excluded := make([]any, len(excludedNamespaces))
	for i, n := range excludedNamespaces {
		excluded[i] = n
	}
	name := "promote-" + in.Env
	constraint := map[string]any{
		"apiVersion": "constraints.gatekeeper.sh/v1beta1",
		"kind":       templateKind,
		"metadata":   metadata(in, name, ""),
		"spec": map[string]any{
			"enforcementAction": "deny",
			"match": map[string]any{
				"kinds":              []any{map[string]any{"apiGroups": []any{""}, "kinds": []any{"Pod"}}},
				"excludedNamespaces": excluded,
			},
			"parameters": map[string]any{
				"environment":  in.Env,
				"repository":   in.Repository,
				"imagePattern": imageRegex(in.Repository),
				"movingTags":   moving,
				"revoked":      revoked,
			},
		},
	}
	t, err := document(Gatekeeper, in, "Gatekeeper ConstraintTemplate "+templateName+": the rules of promote's environments (images by digest, from the environment's repositories, no moving tag, not revoked).", "gatekeeper/constrainttemplate-"+templateName+".yaml", tmpl)
	if err != nil {
		return nil, err
	}
	c, err := document(Gatekeeper, in, "Gatekeeper Constraint "+name+": the pods of environment "+strings.ToLower(in.Env)+" run only images promote promoted there; apply after the template.", "gatekeeper/constraint-"+name+".yaml", constraint)
	if err != nil {
		return nil, err
	}
	return []File{t, c}, nil
}
