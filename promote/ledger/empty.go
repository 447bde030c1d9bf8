package ledger

import (
	"context"
	"fmt"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// emptyLedger is what OpenReadOnly returns for an SQLite ledger file that
// does not exist yet: it holds no record, and refuses every write, as any
// read-only ledger does. It is not a Checker, like the SQLite backend.
type emptyLedger struct {
	path string // absolute path of the absent file, for messages
}

var _ Ledger = emptyLedger{}

// alwaysReadOnly is the write guard of every emptyLedger.
var alwaysReadOnly = writeGuard{readOnly: true}

func (emptyLedger) Head(context.Context, string, string) (Head, error) { return Head{}, nil }

func (emptyLedger) Records(context.Context, Query) ([]Record, error) { return nil, nil }

func (emptyLedger) RecordsChecked(context.Context, Query) ([]Checked, error) { return nil, nil }

func (emptyLedger) Get(_ context.Context, id string) (Record, error) {
	return Record{}, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
}

func (l emptyLedger) GetChecked(ctx context.Context, id string) (Checked, error) {
	rec, err := l.Get(ctx, id)
	return Checked{Record: rec}, err
}

func (emptyLedger) Verify(context.Context) (Report, error) { return Report{Problems: []Problem{}}, nil }

func (emptyLedger) Close() error { return nil }

func (l emptyLedger) Append(context.Context, *Record, Head) error {
	return alwaysReadOnly.writable("appending to", l.path)
}

func (l emptyLedger) Import(context.Context, Record) error {
	return alwaysReadOnly.writable("importing into", l.path)
}

func (l emptyLedger) Lock(context.Context, string, string) (Lease, error) {
	return nil, alwaysReadOnly.writable("locking", l.path)
}

func (emptyLedger) LogSize(context.Context) (int64, error) { return 0, nil }

func (emptyLedger) Leaves(context.Context, int64, int64, func(Leaf) error) error { return nil }

func (l emptyLedger) LeafIndex(ctx context.Context, id string) (int64, error) {
	_, err := l.Get(ctx, id)
	return 0, err
}

func (emptyLedger) TreeHashes(_ context.Context, indexes []int64) ([]merkle.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("the log has no stored hash %d: it is empty", indexes[0])
}

func (emptyLedger) Checkpoint(context.Context) ([]byte, error) { return nil, nil }

func (emptyLedger) Checkpoints(context.Context, func([]byte) error) error { return nil }

func (l emptyLedger) Upgrade(context.Context, UpgradeOptions) (Upgraded, error) {
	return Upgraded{}, alwaysReadOnly.writable("upgrading", l.path)
}
