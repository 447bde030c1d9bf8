package merkle

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Inclusion proves that leaf index is in the tree of size leaves.
func Inclusion(index, size int64, r HashReader) ([]Hash, error) {
	if err := checkSize(size); err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, fmt.Errorf("merkle: proving leaf %d in %d: %w", index, size, err)
	}
	return p, nil
}

// CheckInclusion checks that body is leaf index of the tree cp commits to.
func CheckInclusion(proof []Hash, cp Checkpoint, index int64, body []byte) error {
	if err := checkSize(cp.Size); err != nil {
		return err
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, index, Leaf(body)); err != nil {
		return fmt.Errorf("merkle: record %d is not in the tree of checkpoint %s/%d: %w", index, cp.Origin, cp.Size, err)
	}
	return nil
}

// Consistency proves that the tree of size leaves extends the one of old.
func Consistency(old, size int64, r HashReader) ([]Hash, error) {
	if err := errors.Join(checkSize(old), checkSize(size)); err != nil {
		return nil, err
	}
	p, err := tlog.ProveTree(size, old, r)
	if err != nil {
		return nil, fmt.Errorf("merkle: proving %d extends %d: %w", size, old, err)
	}
	return p, nil
}

// CheckConsistency checks that newer's tree only appended to older's: the
// log was neither rewritten nor cut short between them.
func CheckConsistency(proof []Hash, older, newer Checkpoint) error {
	if err := errors.Join(checkSize(older.Size), checkSize(newer.Size)); err != nil {
		return err
	}
	switch {
	case older.Origin != newer.Origin:
		return fmt.Errorf("merkle: checkpoints of two logs (%s, %s)", older.Origin, newer.Origin)
	case newer.Size < older.Size:
		return fmt.Errorf("merkle: the log holds %d records, fewer than the %d of a checkpoint it signed: it was cut short", newer.Size, older.Size)
	case newer.Size == older.Size:
		if newer.Root != older.Root {
			return fmt.Errorf("merkle: the log of %d records has another root than the checkpoint kept for that size: it was rewritten", newer.Size)
		}
		return nil
	}
	if err := tlog.CheckTree(proof, newer.Size, newer.Root, older.Size, older.Root); err != nil {
		return fmt.Errorf("merkle: the log of %d records does not extend the kept checkpoint of %d: it was rewritten (%w)", newer.Size, older.Size, err)
	}
	return nil
}
