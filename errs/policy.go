package errs

import "fmt"

// PolicyRefusal is a release policy's no: a promotion window closed, and
// later approvals, soak, freezes and revocations. It matches
// ErrGateRejected (exit 3: a gate or release policy rejected the image).
type PolicyRefusal struct {
	Policy string // window, …
	Reason string // what the policy found, and what to do
}

func (e *PolicyRefusal) Error() string {
	return fmt.Sprintf("release policy %s: %s", e.Policy, e.Reason)
}

// Is makes a PolicyRefusal match ErrGateRejected.
func (e *PolicyRefusal) Is(target error) bool { return target == ErrGateRejected }
