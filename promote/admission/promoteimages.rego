package promoteimages

# Every container of the pod under review: containers, initContainers and
# ephemeralContainers.
containers[c] {
	c := input.review.object.spec.containers[_]
}

containers[c] {
	c := input.review.object.spec.initContainers[_]
}

containers[c] {
	c := input.review.object.spec.ephemeralContainers[_]
}

violation[{"msg": msg}] {
	c := containers[_]
	not regex.match(input.parameters.imagePattern, c.image)
	msg := sprintf("container %v: image %v is not from a repository of environment %v's apps (%v)", [c.name, c.image, input.parameters.environment, concat(", ", input.parameters.repositories)])
}

violation[{"msg": msg}] {
	c := containers[_]
	not regex.match(`@sha256:[a-f0-9]{64}$`, c.image)
	msg := sprintf("container %v: image %v is not referenced by digest; use REPOSITORY@sha256:... as promote current %v APP prints it", [c.name, c.image, input.parameters.environment])
}

violation[{"msg": msg}] {
	c := containers[_]
	m := regex.find_all_string_submatch_n(`^(?:[^@]*/)?[^/@:]+:([^/@:]+)(?:@.*)?$`, c.image, 1)
	tag := m[0][1]
	tag == input.parameters.movingTags[_]
	msg := sprintf("container %v: image %v names the moving tag %v; reference the digest", [c.name, c.image, tag])
}

violation[{"msg": msg}] {
	c := containers[_]
	r := input.parameters.revoked[_]
	endswith(c.image, concat("", ["@", r.digest]))
	msg := sprintf("container %v: image %v is revoked (app %v, revocation %v)", [c.name, c.image, r.app, r.revocation])
}
