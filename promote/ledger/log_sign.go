package ledger

import (
	"errors"
	"fmt"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// ErrLogTampered is wrapped by a writer's refusal to sign, or to write at
// all, when the log it would extend does not extend the newest checkpoint
// it stores signed by the ledger key: a writer never signs a history that
// someone changed behind its back.
var ErrLogTampered = errors.New("the ledger's log does not extend its signed checkpoints")

// signing says what a writer about to sign the tree of Size leaves
// expects of the log.
type signing struct {
	Size   int64 // the leaves of the tree to sign
	Before int64 // the leaves before this write (Size when nothing is added)
	// First allows signing a log that has leaves and no checkpoint: only
	// ledger upgrade, a person's decision, signs a log for the first time.
	First bool
	// StrictTail requires the newest checkpoint to cover every leaf
	// before this write (SQLite, where a leaf and its checkpoint are one
	// transaction); S3 allows a tail a writer died before signing.
	StrictTail bool
}

// checkSignable checks, for a writer holding the key, that the tree read by
// r (Size leaves) extends newest, the newest checkpoint the log stores (nil
// if none): newest must be signed by the key, and a consistency proof from
// it to the tree must check. Without a key there is nothing to check.
func (s logSigner) checkSignable(newest []byte, o signing, r merkle.HashReader, ledger string) error {
	if s.key == nil {
		return nil
	}
	if newest == nil {
		if o.Before == 0 || o.First {
			return nil
		}
		return errUnsigned(ledger, leaves(o.Before))
	}
	cp, err := merkle.Open(newest, s.key.Public)
	if err != nil {
		return fmt.Errorf("%w: ledger %s: its newest stored checkpoint is not signed by the ledger key %s: %v",
			ErrLogTampered, ledger, s.key.Public, err)
	}
	switch {
	case cp.Size > o.Before:
		return fmt.Errorf("%w: ledger %s: the log holds %s, fewer than the %d its newest checkpoint signs: records were deleted",
			ErrLogTampered, ledger, leaves(o.Before), cp.Size)
	case o.StrictTail && cp.Size < o.Before:
		return fmt.Errorf("%w: ledger %s: leaves %d to %d are in no signed checkpoint: they were added without the ledger key",
			ErrLogTampered, ledger, cp.Size, o.Before-1)
	}
	root, err := merkle.Root(o.Size, r)
	if err != nil {
		return fmt.Errorf("%w: ledger %s: %v", ErrLogTampered, ledger, err)
	}
	var proof []merkle.Hash
	if cp.Size > 0 && cp.Size < o.Size {
		if proof, err = merkle.Consistency(cp.Size, o.Size, r); err != nil {
			return fmt.Errorf("%w: ledger %s: %v", ErrLogTampered, ledger, err)
		}
	}
	if err := merkle.CheckConsistency(proof, cp, merkle.Checkpoint{Origin: cp.Origin, Size: o.Size, Root: root}); err != nil {
		return fmt.Errorf("%w: ledger %s: the log does not extend its newest signed checkpoint (%s): records among them "+
			"were rewritten, reordered, inserted or deleted; audit it with promote ledger verify", ErrLogTampered, ledger, leaves(cp.Size))
	}
	return nil
}

// errUnsigned is the refusal to sign, for the first time, a log that holds
// something (holds: "3 leaves") and no signed checkpoint.
func errUnsigned(ledger, holds string) error {
	return fmt.Errorf("%w: ledger %s: the log holds %s and no signed checkpoint: a ledger that had no key is signed "+
		"for the first time only by promote ledger upgrade --sign-unsigned, after checking it against any checkpoint "+
		"kept (promote ledger verify --checkpoint FILE or --witnesses); if it had a key, its checkpoints were deleted",
		ErrLogTampered, ledger, holds)
}
