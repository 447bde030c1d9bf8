package admission

import _ "embed"

// The Gatekeeper template and its kind. The template is the same for every
// environment; the constraint carries the environment's rules as
// parameters, so a new revocation changes only the constraint.
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
	str := o(f("type", "string"))
	tmpl := o(
		f("apiVersion", "templates.gatekeeper.sh/v1"),
		f("kind", "ConstraintTemplate"),
		f("metadata", metadata(in, templateName, "")),
		f("spec", o(
			f("crd", o(f("spec", o(
				f("names", o(f("kind", templateKind))),
				f("validation", o(f("openAPIV3Schema", o(
					f("type", "object"),
					f("properties", o(
						f("environment", str),
						f("repository", str),
						f("repositories", o(f("type", "array"), f("items", str))),
						f("imagePattern", str),
						f("movingTags", o(f("type", "array"), f("items", str))),
						f("revoked", o(f("type", "array"), f("items", o(
							f("type", "object"),
							f("properties", o(f("digest", str), f("app", str), f("revocation", str))),
						)))),
					)),
				)))),
			)))),
			f("targets", list(o(
				f("target", "admission.k8s.gatekeeper.sh"),
				f("rego", promoteImagesRego),
			))),
		)),
	)
	revoked := make([]any, len(in.Revoked))
	for i, r := range in.Revoked {
		revoked[i] = o(f("digest", r.Digest), f("app", r.App), f("revocation", r.Revocation))
	}
	name := "promote-" + in.Env
	constraint := o(
		f("apiVersion", "constraints.gatekeeper.sh/v1beta1"),
		f("kind", templateKind),
		f("metadata", metadata(in, name, "")),
		f("spec", o(
			f("enforcementAction", "deny"),
			f("match", o(
				f("kinds", list(o(f("apiGroups", list("")), f("kinds", list("Pod"))))),
				f("excludedNamespaces", list(excludedNamespaces(Gatekeeper)...)),
			)),
			f("parameters", o(
				f("environment", in.Env),
				f("repository", in.Repository),
				f("repositories", list(in.Repositories...)),
				f("imagePattern", imageRegex(in.Repositories)),
				f("movingTags", list(in.MovingTags...)),
				f("revoked", revoked),
			)),
		)),
	)
	t, err := document(Gatekeeper, in, "Gatekeeper ConstraintTemplate "+templateName+": the rules of promote's environments (images by digest, from the environment's repositories, no moving tag, not revoked).", "gatekeeper/constrainttemplate-"+templateName+".yaml", tmpl)
	if err != nil {
		return nil, err
	}
	c, err := document(Gatekeeper, in, "Gatekeeper Constraint "+name+": the pods of environment "+in.Env+" run only images promote promoted there; apply after the template.", "gatekeeper/constraint-"+name+".yaml", constraint)
	if err != nil {
		return nil, err
	}
	return []File{t, c}, nil
}
