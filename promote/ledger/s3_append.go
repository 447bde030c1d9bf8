package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Append stores rec as the record after expected in the chain of (rec.App,
// rec.Env). The compare-and-swap has two halves: record expected.Seq must
// exist with hash expected.Hash (records are create-only, so this cannot
// change afterwards), and the record object expected.Seq+1 is created with
// If-None-Match: *, so that of two runners after the same head exactly one
// wins; the other gets 412 (or 409) and ErrHeadMoved, and nothing of its
// record is stored. Then the record id's index object is written, and the
// head hint moved (best effort: Head heals a stale hint). Fields are filled
// as the SQLite backend fills them.
//
// Before anything is stored, the log's key is checked (ErrKeyMismatch for
// a writer that may not sign the log) and, with a key, the log as far as
// the writer sees it then (ErrLogTampered for one it would not sign);
// once the record is stored, it is logged (s3_log.go). On an error before
// the record is stored, rec is left as it was; once it is stored, rec is
// the stored record even if logging it fails: the error then says so, and
// wraps ErrNotLogged if it is not in the log, and ErrLogBehind unless the
// writer refused to sign the log (ErrLogTampered).
func (l *s3Ledger) Append(ctx context.Context, rec *Record, expected Head) error {
	if err := l.writable("appending to", l); err != nil {
		return err
	}
	r, err := prepare(rec)
	if err != nil {
		return err
	}
	p, err := l.beforeStore(ctx, r.App, r.Env, expected)
	if err != nil {
		return err
	}
	body, err := r.chainAfter(expected)
	if err != nil {
		return err
	}
	if err := l.store(ctx, r, body); err != nil {
		return err
	}
	*rec = r
	return l.logStored(ctx, r, body, p)
}

// beforeStore checks, at once, that expected is the chain's head (reading
// whether its record is logged) and that this writer may append to the log
// (logStart), then reads the log as logStored will need it (planLog). An
// error of the chain comes first.
func (l *s3Ledger) beforeStore(ctx context.Context, app, env string, expected Head) (logPlan, error) {
	var prevID string
	prevLogged := true
	var from int64
	var chainErr, prevErr, logErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if prevID, chainErr = l.checkExpected(ctx, app, env, expected); chainErr == nil && prevID != "" {
			prevLogged, prevErr = l.isLogged(ctx, prevID)
		}
	})
	wg.Go(func() { from, logErr = l.logStart(ctx) })
	wg.Wait()
	if chainErr != nil {
		return logPlan{}, chainErr
	}
	if logErr != nil {
		return logPlan{}, logErr
	}
	if prevErr != nil {
		return logPlan{}, fmt.Errorf("ledger %s: reading the log: %w", l, prevErr)
	}
	return l.planLog(ctx, chainKey{app, env}, expected.Seq, prevLogged, from, false)
}

// checkExpected returns ErrHeadMoved unless expected names a record of the
// chain (or is the zero Head), and the id of that record. Whether a record
// follows it is settled by the create-only write of the next one.
func (l *s3Ledger) checkExpected(ctx context.Context, app, env string, expected Head) (string, error) {
	switch {
	case expected.Seq < 0:
		return "", fmt.Errorf("%w: %s in %s: expected seq %d is negative", ErrHeadMoved, app, env, expected.Seq)
	case expected.Seq == 0 && expected.Hash != "":
		return "", fmt.Errorf("%w: %s in %s: expected hash %s without a seq", ErrHeadMoved, app, env, expected.Hash)
	case expected.Seq == 0:
		return "", nil
	}
	rec, err := l.readRecord(ctx, app, env, expected.Seq)
	if err != nil {
		return "", fmt.Errorf("appending %s/%s to ledger %s: %w", app, env, l, err)
	}
	if rec == nil {
		return "", fmt.Errorf("%w: %s in %s has no record %d", ErrHeadMoved, app, env, expected.Seq)
	}
	if rec.Hash != expected.Hash {
		return "", fmt.Errorf("%w: %s in %s: seq %d has hash %s, not %s as expected",
			ErrHeadMoved, app, env, expected.Seq, rec.Hash, expected.Hash)
	}
	return rec.ID, nil
}

// store writes a complete record r (whose body hashes to r.Hash): its id
// index and, with a key, its intent, at once, then the record object,
// create-only, then the head hint.
func (l *s3Ledger) store(ctx context.Context, r Record, body []byte) error {
	key := l.recordKey(r.App, r.Env, r.Seq)
	var intent []byte
	if l.logSigner.key != nil {
		var err error
		if intent, err = l.signIntent(r.ID, r.Hash); err != nil {
			return err
		}
	}
	var claimErr, intentErr error
	var wg sync.WaitGroup
	wg.Go(func() { claimErr = l.claimID(ctx, r.ID, key) })
	if intent != nil {
		wg.Go(func() {
			_, intentErr = l.put(ctx, l.intentKey(r.ID), intent, putCond{create: true, contentType: textPlain})
		})
	}
	wg.Wait()
	if claimErr != nil {
		return claimErr
	}
	if errors.Is(intentErr, errCondition) {
		intentErr = l.replaceIntent(ctx, r.ID, intent)
	}
	if intentErr != nil {
		return fmt.Errorf("appending record %s: writing its intent: %w", r.ID, intentErr)
	}
	if _, err := l.put(ctx, key, encodeObject(body, r.Hash), putCond{create: true}); err != nil {
		// The id index now points at another record, or none: it is stale,
		// Get ignores it and the next claim of this id replaces it.
		if errors.Is(err, errCondition) {
			return fmt.Errorf("%w: %s in %s already has seq %d", ErrHeadMoved, r.App, r.Env, r.Seq)
		}
		return fmt.Errorf("appending record %s (%s in %s, seq %d): %w", r.ID, r.App, r.Env, r.Seq, err)
	}
	l.remember(r)
	l.moveHint(ctx, r.App, r.Env, Head{Seq: r.Seq, Hash: r.Hash})
	return nil
}

// replaceIntent makes intent the intent of record id when another is
// there: one this writer's SDK wrote already (the same bytes: nothing to
// do), or one of an earlier attempt at this id that lost its race, or that
// someone wrote without the key. Called once the id is claimed, so no
// stored record has this id; replaced conditionally on the ETag read.
func (l *s3Ledger) replaceIntent(ctx context.Context, id string, intent []byte) error {
	k := l.intentKey(id)
	for attempt := 0; attempt < 5; attempt++ {
		old, etag, err := l.get(ctx, k)
		cond := putCond{ifMatch: etag, contentType: textPlain}
		switch {
		case errors.Is(err, errNoObject):
			cond = putCond{create: true, contentType: textPlain}
		case err != nil:
			return err
		case bytes.Equal(old, intent):
			return nil
		}
		_, err = l.put(ctx, k, intent, cond)
		if !errors.Is(err, errCondition) && !errors.Is(err, errNoObject) {
			return err
		}
	}
	return fmt.Errorf("%s keeps changing", l.url(k))
}

// idIndex is the content of an ids/<id> object.
type idIndex struct {
	Record string `json:"record"` // the key of the record object
}

// claimID creates the index object of id pointing at key. An index that exists already belongs to a stored record with that id
// (a duplicate id: an error, not ErrHeadMoved) or is stale, left by an
// attempt that lost its race or died before writing its record: a stale
// index is replaced, conditionally on its ETag.
func (l *s3Ledger) claimID(ctx context.Context, id, key string) error {
	ik := l.idKey(id)
	data, _ := json.Marshal(idIndex{Record: key})
	cond := putCond{create: true}
	for attempt := 0; attempt < 5; attempt++ {
		_, err := l.put(ctx, ik, data, cond)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errCondition) && !errors.Is(err, errNoObject) {
			return fmt.Errorf("appending record %s: %w", id, err)
		}
		old, oldTag, err := l.get(ctx, ik)
		if errors.Is(err, errNoObject) {
			cond = putCond{create: true}
			continue
		}
		if err != nil {
			return fmt.Errorf("appending record %s: %w", id, err)
		}
		if rec, err := l.indexedRecord(ctx, old); err != nil {
			return fmt.Errorf("appending record %s: %w", id, err)
		} else if rec != nil && rec.ID == id {
			return fmt.Errorf("appending record %s: a record with this id is already in the ledger (%s in %s, seq %d)",
				id, rec.App, rec.Env, rec.Seq)
		}
		cond = putCond{ifMatch: oldTag}
	}
	return fmt.Errorf("appending record %s: its id index %s keeps changing", id, l.url(ik))
}

// indexedRecord reads the record an index object points at; nil if the
// index is unreadable or points at no record of this ledger.
func (l *s3Ledger) indexedRecord(ctx context.Context, index []byte) (*Record, error) {
	var ix idIndex
	if json.Unmarshal(index, &ix) != nil {
		return nil, nil
	}
	app, env, seq, ok := l.recordKeyParts(ix.Record)
	if !ok {
		return nil, nil
	}
	return l.readRecord(ctx, app, env, seq)
}

// moveHint moves the chain's head hint forward to head, with If-Match on the
// hint's ETag (or If-None-Match when there is none), retrying a few times
// while another writer moves it too. It never moves a hint back, and a
// failure is not an error: the hint only tells Head where to start probing.
// A read-only ledger leaves the hint as it is.
func (l *s3Ledger) moveHint(ctx context.Context, app, env string, head Head) {
	if l.readOnly {
		return
	}
	k := chainKey{app, env}
	data, _ := json.Marshal(hint{Seq: head.Seq, Hash: head.Hash})
	l.mu.Lock()
	h, cached := l.hints[k]
	l.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		if !cached {
			var err error
			if h, err = l.readHint(ctx, app, env); err != nil {
				return
			}
		}
		if h.Seq >= head.Seq {
			return
		}
		cond := putCond{create: h.etag == "", ifMatch: h.etag}
		etag, err := l.put(ctx, l.hintKey(app, env), data, cond)
		if err == nil {
			l.mu.Lock()
			l.hints[k] = hint{Seq: head.Seq, Hash: head.Hash, etag: etag}
			l.mu.Unlock()
			return
		}
		if !errors.Is(err, errCondition) && !errors.Is(err, errNoObject) {
			return
		}
		cached = false
	}
}

var _ importer = (*s3Ledger)(nil)

// Import stores rec exactly as it is (seq, prev_hash, hash, id, time) as the
// next record of its chain, for Copy, with the same conditional writes as
// Append: ErrHeadMoved, and nothing stored, unless rec follows the chain's
// head. A record whose hash is not its body's is refused. The key check,
// the intent, the checks of the log and the logging are Append's.
func (l *s3Ledger) Import(ctx context.Context, rec Record) error {
	if err := l.writable("importing into", l); err != nil {
		return err
	}
	body, err := checkImport(rec)
	if err != nil {
		return err
	}
	p, err := l.beforeStore(ctx, rec.App, rec.Env, Head{Seq: rec.Seq - 1, Hash: rec.PrevHash})
	if err != nil {
		return fmt.Errorf("importing record %s: %w", rec.ID, err)
	}
	if err := l.store(ctx, rec, body); err != nil {
		return err
	}
	return l.logStored(ctx, rec, body, p)
}
