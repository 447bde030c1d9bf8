package promote

import (
	"context"
	"errors"
	"fmt"

	"github.com/promote-dev/promote/errs"
)

// InterruptedError is a promotion a signal stopped, saying honestly how far
// it got: in which phase, what the copy had finished of what it planned,
// and what was not done. It unwraps to the *errs.Interrupt, from which cmd
// takes the exit code.
type InterruptedError struct {
	App, Env string
	Phase    string    // the phase under way
	Done     CopyStats // what the copy finished
	Plan     *Plan     // what it planned (nil before the plan)
	Signal   *errs.Interrupt
}

func (e *InterruptedError) Error() string {
	head := fmt.Sprintf("%s while promoting %s to %s", e.Signal, e.App, e.Env)
	switch e.Phase {
	case "copy", "replan":
		blobs, bytes := e.planned()
		return fmt.Sprintf("%s: stopped during the copy with %d of %d blobs confirmed in the target (%s of %s read from the source); nothing tagged or recorded; run the same command again to finish",
			head, e.Done.BlobsCopied+e.Done.BlobsMounted, blobs, HumanBytes(max(e.Done.Streamed, e.Done.Bytes)), HumanBytes(bytes))
	case "tag", "verify", "record":
		return fmt.Sprintf("%s: stopped in the %s phase, after the copy: tags may be partly written, nothing recorded; run the same command again to finish", head, e.Phase)
	}
	return fmt.Sprintf("%s: stopped in the %s phase, before anything was written; run the same command again", head, e.Phase)
}

func (e *InterruptedError) Unwrap() error { return e.Signal }

// planned counts the blobs and bytes the plan had to move.
func (e *InterruptedError) planned() (blobs int, bytes int64) {
	if e.Plan == nil {
		return 0, 0
	}
	for _, b := range e.Plan.Blobs {
		if b.Action != ActPresent {
			blobs++
		}
	}
	return blobs, e.Plan.Bytes()
}

// interrupted turns err, met by a run whose context a signal cancelled,
// into an *InterruptedError; any other err is returned as it is.
func (r *run) interrupted(ctx context.Context, err error) error {
	var sig *errs.Interrupt
	if err == nil || !errors.As(context.Cause(ctx), &sig) {
		return err
	}
	ie := &InterruptedError{App: r.res.App, Env: r.env.Name, Phase: r.phase, Plan: r.res.Plan, Signal: sig}
	if r.res.Copy != nil {
		ie.Done = *r.res.Copy
	}
	return ie
}

// HumanBytes is n in B, KiB, MiB, … with one decimal: how promote prints
// sizes to people.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
