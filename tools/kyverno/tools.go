//go:build tools

// Package kyverno pins the Kyverno CLI (kubectl-kyverno) that the admission
// export tests run, in a module of its own: Kyverno's go.mod has a replace
// directive, so `go install ...@version` refuses it, and its dependency
// graph is kept apart from promote's and from tools/go.mod.
package kyverno

import (
	_ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno" // kyverno apply / kyverno test
)
