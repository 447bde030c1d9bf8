package admission

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Annotations every exported object carries, naming what it came from.
const (
	AnnotationEnvironment  = "promote.dev/environment"
	AnnotationConfig       = "promote.dev/config"
	AnnotationConfigSHA256 = "promote.dev/config-sha256"
	// AnnotationCheckpoint is the signed checkpoint's origin, tree size and
	// root hash, space-separated (the note's first three lines).
	AnnotationCheckpoint = "promote.dev/ledger-checkpoint"
	// AnnotationHead is "RECORD-ID HASH" of the newest record, or "empty",
	// for a ledger without a key (it signs no checkpoint).
	AnnotationHead    = "promote.dev/ledger-head"
	AnnotationRevoked = "promote.dev/revoked-digests" // how many digests the export denies as revoked
)

// ledgerState is the ledger half of the provenance: the annotation that
// names it and its value.
func (s Source) ledgerState() (key, value string) {
	if c := s.Checkpoint; c != nil {
		return AnnotationCheckpoint, fmt.Sprintf("%s %d %s", c.Origin, c.Size, c.Root)
	}
	return AnnotationHead, s.Head
}

// metadata is an object's metadata: its name, namespace when not "", the
// managed-by label and the provenance annotations.
func metadata(in Input, name, namespace string) obj {
	k, v := in.Source.ledgerState()
	m := o(f("name", name))
	if namespace != "" {
		m = append(m, f("namespace", namespace))
	}
	return append(m,
		f("labels", map[string]string{"app.kubernetes.io/managed-by": "promote"}),
		f("annotations", map[string]string{
			AnnotationEnvironment:  in.Env,
			AnnotationConfig:       in.Source.Config,
			AnnotationConfigSHA256: in.Source.ConfigSHA256,
			AnnotationRevoked:      strconv.Itoa(len(in.Revoked)),
			k:                      v,
		}))
}

// header is the comment block at the top of every file.
func header(c Controller, in Input, what string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", what)
	fmt.Fprintf(&b, "# Exported by `promote policy export --for %s --env %s`; do not edit: export again.\n", c, in.Env)
	fmt.Fprintf(&b, "# config: %s sha256:%s\n", in.Source.Config, in.Source.ConfigSHA256)
	if cp := in.Source.Checkpoint; cp != nil {
		fmt.Fprintf(&b, "# ledger: checkpoint %s, tree size %d, root %s\n", cp.Origin, cp.Size, cp.Root)
	} else {
		fmt.Fprintf(&b, "# ledger: no signed checkpoint; head %s\n", in.Source.Head)
	}
	fmt.Fprintf(&b, "# revoked digests denied: %d\n", len(in.Revoked))
	return b.String()
}

// document renders one file: the header, then obj as YAML (maps in key
// order, two-space indent, multi-line strings as literal blocks).
func document(c Controller, in Input, what, name string, v obj) (File, error) {
	var b bytes.Buffer
	b.WriteString(header(c, in, what))
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return File{}, fmt.Errorf("rendering %s: %w", name, err)
	}
	if err := enc.Close(); err != nil {
		return File{}, fmt.Errorf("rendering %s: %w", name, err)
	}
	return File{Name: name, Data: b.Bytes()}, nil
}

// excludedNamespaces are never judged by controller c: the cluster's own
// (kube-system) and c's own, whose images come from elsewhere; no other
// controller's, which on a cluster without it anyone allowed to create a
// namespace could create and run anything in.
func excludedNamespaces(c Controller) []string {
	switch c {
	case Gatekeeper:
		return []string{"gatekeeper-system", "kube-system"}
	case Kyverno:
		return []string{"kube-system", "kyverno"}
	}
	return []string{"cosign-system", "kube-system"}
}
