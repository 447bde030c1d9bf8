package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/promote-dev/promote/errs"
)

// Reading the S3 log: its leaves with the bodies of the records they name,
// where a record is logged, and the signed checkpoints. LogSize is in
// s3_logtail.go, TreeHashes in s3_logleaf.go.

// leavesBatch is how many leaves Leaves reads, in parallel, before calling
// fn with them in order.
const leavesBatch = 256

// Leaves calls fn with the leaves start ≤ index < end of the log (its end
// found as LogSize finds it), each with the stored body of the record
// object it names: nil if that object is gone or does not hold a record.
// The leaf objects are read afresh, not from memory. A leaf object that is
// missing or is not a leaf does not end the walk: fn gets a Leaf with its
// index, ID "" and a nil Body, and the audit walk, which compares every
// leaf with the tree, reports it.
func (l *s3Ledger) Leaves(ctx context.Context, start, end int64, fn func(Leaf) error) error {
	size, err := l.LogSize(ctx)
	if err != nil {
		return err
	}
	start, end = max(start, 0), min(end, size)
	for lo := start; lo < end; lo += leavesBatch {
		batch, err := l.leafBatch(ctx, lo, min(lo+leavesBatch, end))
		if err != nil {
			return fmt.Errorf("reading the log of ledger %s: %w", l, err)
		}
		for _, lf := range batch {
			if err := fn(lf); err != nil {
				return err
			}
		}
	}
	return nil
}

// leafBatch reads the leaves lo ≤ index < hi and the record objects they
// name, l.workers at a time.
func (l *s3Ledger) leafBatch(ctx context.Context, lo, hi int64) ([]Leaf, error) {
	idx := make([]int64, 0, hi-lo)
	for n := lo; n < hi; n++ {
		idx = append(idx, n)
	}
	reads, err := l.readLeaves(ctx, idx, true)
	if err != nil {
		return nil, err
	}
	out := make([]Leaf, len(idx))
	var keys []string
	var at []int
	for i, r := range reads {
		out[i].Index = idx[i]
		if r.leaf == nil {
			continue
		}
		out[i].ID = r.leaf.ID
		if _, _, _, ok := l.recordKeyParts(r.leaf.Record); ok {
			keys, at = append(keys, r.leaf.Record), append(at, i)
		}
	}
	objs, err := l.getMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	for j, obj := range objs {
		if body, _, err := decodeObject(obj); obj != nil && err == nil {
			out[at[j]].Body = body
		}
	}
	return out, nil
}

// LeafIndex returns the leaf that logs record id, through log/ids/<id>; the
// record must be one Get finds. Cost: the record's index and its log id
// together, then the record object.
func (l *s3Ledger) LeafIndex(ctx context.Context, id string) (int64, error) {
	var found bool
	var ix []byte
	var recErr, ixErr error
	var wg sync.WaitGroup
	wg.Go(func() { found, recErr = l.recordExists(ctx, id) })
	wg.Go(func() { ix, _, ixErr = l.get(ctx, l.logIDKey(id)) })
	wg.Wait()
	switch {
	case recErr != nil:
		return 0, fmt.Errorf("reading ledger record %q from %s: %w", id, l, recErr)
	case !found:
		return 0, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	case errors.Is(ixErr, errNoObject):
		return 0, fmt.Errorf("ledger record %s: %w", id, ErrNotLogged)
	case ixErr != nil:
		return 0, fmt.Errorf("reading the log of ledger %s: %w", l, ixErr)
	}
	var li logIDIndex
	if err := json.Unmarshal(ix, &li); err != nil || li.Leaf < 0 {
		return 0, fmt.Errorf("ledger record %s: its log index %s does not name a leaf", id, l.url(l.logIDKey(id)))
	}
	return li.Leaf, nil
}

// recordExists reports whether Get finds record id: its index ids/<id>
// names a record object that exists and, if it holds a record at all,
// holds that id.
func (l *s3Ledger) recordExists(ctx context.Context, id string) (bool, error) {
	data, _, err := l.get(ctx, l.idKey(id))
	if errors.Is(err, errNoObject) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var ix idIndex
	if json.Unmarshal(data, &ix) != nil {
		return false, nil
	}
	if _, _, _, ok := l.recordKeyParts(ix.Record); !ok {
		return false, nil
	}
	obj, _, err := l.get(ctx, ix.Record)
	if errors.Is(err, errNoObject) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rec, err := decodeRecordObject(obj)
	return err != nil || rec.ID == "" || rec.ID == id, nil
}

// Checkpoint returns the signed checkpoint of the largest tree stored: the
// checkpoints are listed from the size hint on, so one that a writer
// stored without moving the hint is found (newestCheckpoint).
func (l *s3Ledger) Checkpoint(ctx context.Context) ([]byte, error) {
	h, err := l.readLogHint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint of ledger %s: %w", l, err)
	}
	note, err := l.newestCheckpoint(ctx, h.Size)
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint of ledger %s: %w", l, err)
	}
	return note, nil
}

// newestCheckpoint returns the stored checkpoint of the largest tree, nil
// if none, listing the checkpoints from size on (size: a size the log had,
// its hint), then, if none is there, from a little before it (a hint moved
// past leaves whose writer died before signing them), and only then all
// of them.
func (l *s3Ledger) newestCheckpoint(ctx context.Context, size int64) ([]byte, error) {
	prefix := l.key("log", "checkpoints") + "/"
	var newest string
	for _, back := range []int64{1, 1000, size} {
		after := ""
		if size-back >= 1 {
			after = l.checkpointKey(size - back)
		}
		err := l.listAfter(ctx, prefix, after, func(key string) error {
			if _, ok := l.checkpointKeySize(key); ok {
				newest = key
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if newest != "" || after == "" {
			break
		}
	}
	if newest == "" {
		return nil, nil
	}
	note, _, err := l.get(ctx, newest)
	return note, err
}

// checkpointAt reads the checkpoint object at key; nil if there is none.
func (l *s3Ledger) checkpointAt(ctx context.Context, key string) ([]byte, error) {
	note, _, err := l.get(ctx, key)
	if errors.Is(err, errNoObject) {
		return nil, nil
	}
	return note, err
}

// Checkpoints calls fn with every stored checkpoint, smallest tree first,
// reading them leavesBatch at a time.
func (l *s3Ledger) Checkpoints(ctx context.Context, fn func(note []byte) error) error {
	var keys []string
	err := l.list(ctx, l.key("log", "checkpoints")+"/", func(key string) error {
		if _, ok := l.checkpointKeySize(key); ok {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the checkpoints of ledger %s: %w", l, err)
	}
	for lo := 0; lo < len(keys); lo += leavesBatch {
		notes, err := l.getMany(ctx, keys[lo:min(lo+leavesBatch, len(keys))])
		if err != nil {
			return fmt.Errorf("reading the checkpoints of ledger %s: %w", l, err)
		}
		for _, note := range notes {
			if note == nil {
				continue // deleted since the listing
			}
			if err := fn(note); err != nil {
				return err
			}
		}
	}
	return nil
}
