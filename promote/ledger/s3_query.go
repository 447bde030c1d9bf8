package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/promote-dev/promote/errs"
)

// Records returns the records matching q, newest first, decoded from their
// objects with Hash the stored hash; it does not verify them (Verify does).
//
// Cost: with App and Env both set (what `current`, rollback and the path
// check ask), it walks the one chain down from its head, reading records
// l.workers at a time, and stops as soon as Offset+Limit records matched:
// `current` costs a Head and nothing more. Any other query lists the keys
// under records/ (narrowed to one app when App is set) and reads every
// record of the matching chains: one GET per record, so a history across
// chains of a large ledger is slow; page it with Limit and filter by app.
func (l *s3Ledger) Records(ctx context.Context, q Query) ([]Record, error) {
	var recs []Record
	var err error
	if q.App != "" && q.Env != "" {
		recs, err = l.chainRecords(ctx, q)
	} else {
		recs, err = l.scanRecords(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("querying ledger %s: %w", l, err)
	}
	if q.Offset >= len(recs) {
		return nil, nil
	}
	recs = recs[q.Offset:]
	if q.Limit > 0 && len(recs) > q.Limit {
		recs = recs[:q.Limit]
	}
	return recs, nil
}

// chainRecords walks one chain from its head down and returns the matching
// records, seq descending, stopping once Offset+Limit matched.
func (l *s3Ledger) chainRecords(ctx context.Context, q Query) ([]Record, error) {
	head, err := l.headRecord(ctx, q.App, q.Env)
	if err != nil || head.Seq == 0 {
		return nil, err
	}
	var out []Record
	enough := func(r Record) bool {
		if q.Matches(r) {
			out = append(out, r)
		}
		return q.Limit > 0 && len(out) >= q.Offset+q.Limit
	}
	if enough(head) {
		return out, nil
	}
	for top := head.Seq - 1; top >= 1; {
		n := min(int64(l.workers), top)
		keys := make([]string, n)
		for i := range keys {
			keys[i] = l.recordKey(q.App, q.Env, top-int64(i))
		}
		objs, err := l.getMany(ctx, keys)
		if err != nil {
			return nil, err
		}
		for i, obj := range objs {
			if obj == nil {
				continue // a missing record: Verify reports it
			}
			rec, err := decodeRecordObject(obj)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.url(keys[i]), err)
			}
			if enough(rec) {
				return out, nil
			}
		}
		top -= n
	}
	return out, nil
}

// scanRecords reads every record of the chains q selects and returns those
// matching q, newest first: by time, then seq, both descending.
func (l *s3Ledger) scanRecords(ctx context.Context, q Query) ([]Record, error) {
	var keys []string
	err := l.list(ctx, l.recordsPrefix(q.App, ""), func(key string) error {
		if app, env, _, ok := l.recordKeyParts(key); ok && (q.App == "" || app == q.App) && (q.Env == "" || env == q.Env) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	objs, err := l.getMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	var out []Record
	for i, obj := range objs {
		if obj == nil {
			continue // deleted since the listing
		}
		rec, err := decodeRecordObject(obj)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.url(keys[i]), err)
		}
		if q.Matches(rec) {
			out = append(out, rec)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case !a.Time.Equal(b.Time):
			return a.Time.After(b.Time)
		case a.Seq != b.Seq:
			return a.Seq > b.Seq
		case a.App != b.App:
			return a.App < b.App
		}
		return a.Env < b.Env
	})
	return out, nil
}

// Get returns the record with the given id through its index object
// ids/<id>, or an error wrapping errs.ErrNotFound. It never scans: a record
// whose index is missing (written by hand, or its index deleted) is found by
// Records and Verify, not by Get.
func (l *s3Ledger) Get(ctx context.Context, id string) (Record, error) {
	data, _, err := l.get(ctx, l.idKey(id))
	if errors.Is(err, errNoObject) {
		return Record{}, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l, err)
	}
	rec, err := l.indexedRecord(ctx, data)
	if err != nil {
		return Record{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l, err)
	}
	if rec == nil || rec.ID != id {
		// The index of an append that lost its race or never finished, or
		// not an index at all.
		return Record{}, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	}
	return *rec, nil
}
