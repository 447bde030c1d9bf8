package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"
)

// hint is the head hint object of one chain, as read (with its ETag) or
// written. It only says where to start looking: the records are the truth.
type hint struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	etag string // "" if the object does not exist
}

// Head returns the head of the chain of app in env without listing it: it
// reads the head hint (seq N), then reads record N and probes N+1, N+2… until
// a key is free. Records found beyond the hint are those of a runner that
// died between writing its record and updating the hint: the hint is moved
// forward (a best-effort conditional write), so the gap heals itself. Only if
// the hint is missing while records exist, or names a record that is gone,
// does Head list the chain's keys to find the highest.
func (l *s3Ledger) Head(ctx context.Context, app, env string) (Head, error) {
	rec, err := l.headRecord(ctx, app, env)
	if err != nil {
		return Head{}, fmt.Errorf("ledger %s: reading head of %s in %s: %w", l, app, env, err)
	}
	return Head{Seq: rec.Seq, Hash: rec.Hash}, nil
}

// headRecord returns the newest record of the chain (zero if empty).
func (l *s3Ledger) headRecord(ctx context.Context, app, env string) (Record, error) {
	h, err := l.readHint(ctx, app, env)
	if err != nil {
		return Record{}, err
	}
	// Read the hinted record and probe the one after it at once.
	var at, next *Record
	g, gctx := errgroup.WithContext(ctx)
	if h.Seq > 0 {
		g.Go(func() (err error) { at, err = l.readRecord(gctx, app, env, h.Seq); return err })
	}
	g.Go(func() (err error) { next, err = l.readRecord(gctx, app, env, h.Seq+1); return err })
	if err := g.Wait(); err != nil {
		return Record{}, err
	}
	var head Record
	probe := true // whether records may follow head
	switch {
	case next != nil && h.Seq > 0:
		head = *next
	case at != nil:
		head, probe = *at, false // next was probed: there is none
	case next != nil, h.Seq > 0:
		// Records but no (readable) hint, or a hint naming a record that is gone:
		// find the highest record by listing rather than probing a long
		// chain one record at a time. (An empty chain has neither.)
		if head, err = l.listHead(ctx, app, env); err != nil {
			return Record{}, err
		}
	}
	for probe && head.Seq > 0 {
		more, err := l.readRecord(ctx, app, env, head.Seq+1)
		if err != nil {
			return Record{}, err
		}
		if more == nil {
			break
		}
		head = *more
	}
	if head.Seq > h.Seq {
		l.moveHint(ctx, app, env, Head{Seq: head.Seq, Hash: head.Hash})
	}
	if head.Seq > 0 {
		l.remember(head)
	}
	return head, nil
}

// listHead finds the chain's highest record by listing its keys.
func (l *s3Ledger) listHead(ctx context.Context, app, env string) (Record, error) {
	var seqs []int64
	err := l.list(ctx, l.recordsPrefix(app, env), func(key string) error {
		if a, e, seq, ok := l.recordKeyParts(key); ok && a == app && e == env {
			seqs = append(seqs, seq)
		}
		return nil
	})
	if err != nil || len(seqs) == 0 {
		return Record{}, err
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	rec, err := l.readRecord(ctx, app, env, seqs[len(seqs)-1])
	if err != nil || rec == nil {
		return Record{}, err
	}
	return *rec, nil
}

// readRecord reads and decodes record seq of a chain; nil if there is none.
func (l *s3Ledger) readRecord(ctx context.Context, app, env string, seq int64) (*Record, error) {
	if known, ok := l.knownHead(app, env); ok && known.Seq == seq {
		return &known, nil
	}
	key := l.recordKey(app, env, seq)
	data, _, err := l.get(ctx, key)
	if errors.Is(err, errNoObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := decodeRecordObject(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.url(key), err)
	}
	return &rec, nil
}

// decodeRecordObject decodes a record object, with Hash the stored hash.
func decodeRecordObject(data []byte) (Record, error) {
	body, hash, err := decodeObject(data)
	if err != nil {
		return Record{}, err
	}
	var rec Record
	if err := json.Unmarshal(body, &rec); err != nil {
		return Record{}, fmt.Errorf("decoding record: %w", err)
	}
	rec.Hash = hash
	return rec, nil
}

// readHint reads the head hint of a chain; a missing or unreadable hint is
// the zero hint (an unreadable one keeps its ETag, so it can be replaced).
func (l *s3Ledger) readHint(ctx context.Context, app, env string) (hint, error) {
	data, etag, err := l.get(ctx, l.hintKey(app, env))
	if errors.Is(err, errNoObject) {
		return hint{}, nil
	}
	if err != nil {
		return hint{}, err
	}
	var h hint
	if json.Unmarshal(data, &h) != nil || h.Seq < 0 {
		h = hint{}
	}
	h.etag = etag
	l.mu.Lock()
	l.hints[chainKey{app, env}] = h
	l.mu.Unlock()
	return h, nil
}
