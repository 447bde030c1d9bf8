package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// Logging a record in the S3 log. The record object stays the commit point
// of its chain; the log follows it:
//
//  1. Before the record is stored (logStart), the log's key (log/key) is
//     checked against the writer's, so a writer that may not sign the log
//     stores nothing, and the size hint is read: the record's leaf can only
//     be at that index or after it. A writer with the key writes the
//     record's signed intent (log_intent.go) with its id index.
//  2. After it is stored (logStored), the record is logged as leaf N, N the
//     hinted size (the leaf before it checked), created with If-None-Match:
//     *; a writer that loses leaf N (to another writer, or because the hint
//     lags) reads it and tries N+1. Then log/ids/<id> names the leaf, a
//     writer with the key signs the checkpoint of the grown tree, and the
//     hint moves on.
//
// Every leaf from the hint on is written or read by the writer, so it never
// logs a record twice, even when an upgrade logs the same record at once.
// If the chain's previous record is not logged (its writer died between
// its record and its leaf), or the log is empty while other records exist
// (a ledger written before the log), the whole ledger is upgraded first.

// leafAttempts bounds the leaves one record's writer tries: each lost
// attempt means another writer's leaf was added. sameLeafAttempts bounds
// the attempts at one leaf that a conflicting write holds (409) without
// creating it.
const (
	leafAttempts     = 1000
	sameLeafAttempts = 10
)

// textPlain is the Content-Type of the checkpoints, the intents and log/key.
const textPlain = "text/plain; charset=utf-8"

// logKey returns the verifier key the log's checkpoints are signed with,
// "" if none is yet; once read it is kept, since log/key is never rewritten.
func (l *s3Ledger) logKey(ctx context.Context) (string, error) {
	l.mu.Lock()
	vkey := l.log.vkey
	l.mu.Unlock()
	if vkey != "" {
		return vkey, nil
	}
	data, _, err := l.get(ctx, l.logKeyKey())
	if errors.Is(err, errNoObject) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if vkey = strings.TrimSpace(string(data)); vkey == "" || strings.ContainsAny(vkey, " \n") {
		return "", fmt.Errorf("%s is not a note verifier key", l.url(l.logKeyKey()))
	}
	l.mu.Lock()
	l.log.vkey = vkey
	l.mu.Unlock()
	return vkey, nil
}

// checkWriterKey refuses, with ErrKeyMismatch, a writer without the key
// the log's checkpoints are signed with.
func (l *s3Ledger) checkWriterKey(ctx context.Context) error {
	vkey, err := l.logKey(ctx)
	if err != nil {
		return fmt.Errorf("opening ledger %s: reading the log's key: %w", l, err)
	}
	return l.checkKey(vkey, l.String())
}

// logStart reads, before a record is stored, the log's key, and refuses
// with ErrKeyMismatch a writer without it, and the log's size hint, from
// which on logStored looks for the end of the log.
func (l *s3Ledger) logStart(ctx context.Context) (from int64, err error) {
	var vkey string
	var h logHint
	var keyErr, hintErr error
	var wg sync.WaitGroup
	wg.Go(func() { vkey, keyErr = l.logKey(ctx) })
	wg.Go(func() { h, hintErr = l.readLogHint(ctx) })
	wg.Wait()
	if err := errors.Join(keyErr, hintErr); err != nil {
		return 0, fmt.Errorf("ledger %s: reading the log: %w", l, err)
	}
	if err := l.checkKey(vkey, l.String()); err != nil {
		return 0, err
	}
	return h.Size, nil
}

// logStored logs r (whose body is body), just stored in its chain; prevID
// is the id of the record before it there ("" for the first), from what
// logStart returned. Its error says what of r is stored where.
func (l *s3Ledger) logStored(ctx context.Context, r Record, body []byte, prevID string, from int64) error {
	seen := map[string]int64{}
	var size int64
	prevLogged := true
	var walkErr, prevErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		size, walkErr = l.walkLog(ctx, from, false, func(n int64, lf *s3Leaf) {
			if _, ok := seen[lf.ID]; !ok {
				seen[lf.ID] = n
			}
		})
	})
	if prevID != "" {
		wg.Go(func() { prevLogged, prevErr = l.isLogged(ctx, prevID) })
	}
	wg.Wait()
	if err := errors.Join(walkErr, prevErr); err != nil {
		return l.notLogged(r, err)
	}
	heal := !prevLogged
	if size == 0 && prevID == "" {
		var err error
		if heal, err = l.otherRecords(ctx, l.recordKey(r.App, r.Env, r.Seq)); err != nil {
			return l.notLogged(r, err)
		}
	}
	if heal {
		if _, err := l.upgrade(ctx); err != nil {
			return l.notLogged(r, fmt.Errorf("logging the records before it: %w", err))
		}
		return nil
	}
	w := logWriter{l: l, next: size, seen: seen}
	n, _, err := w.add(ctx, r, l.recordKey(r.App, r.Env, r.Seq), body)
	if err != nil {
		return l.notLogged(r, err)
	}
	var idErr, signErr error
	wg.Go(func() { idErr = l.putLogID(ctx, r.ID, n) })
	wg.Go(func() { signErr = l.signTree(ctx, n+1) })
	wg.Wait()
	l.moveLogHint(ctx, n+1)
	if idErr != nil {
		return fmt.Errorf("ledger %s: record %s (%s in %s, seq %d) is stored and logged as leaf %d, but its log "+
			"index is not written; promote ledger upgrade writes it: %w: %w", l, r.ID, r.App, r.Env, r.Seq, n, ErrLogBehind, idErr)
	}
	if signErr != nil {
		return fmt.Errorf("ledger %s: record %s (%s in %s, seq %d) is stored and logged as leaf %d, but no checkpoint "+
			"of the log was signed; the next append signs one: %w: %w", l, r.ID, r.App, r.Env, r.Seq, n, ErrLogBehind, signErr)
	}
	return nil
}

// notLogged is the error of a record stored in its chain that could not be
// logged: it wraps ErrNotLogged and cause.
func (l *s3Ledger) notLogged(r Record, cause error) error {
	return fmt.Errorf("ledger %s: record %s (%s in %s, seq %d) is stored in its chain but not logged; the next "+
		"append to %s in %s, or promote ledger upgrade, logs it: %w: %w: %w", l, r.ID, r.App, r.Env, r.Seq,
		r.App, r.Env, ErrLogBehind, ErrNotLogged, cause)
}

// isLogged reports whether record id has its log/ids object.
func (l *s3Ledger) isLogged(ctx context.Context, id string) (bool, error) {
	_, _, err := l.get(ctx, l.logIDKey(id))
	if errors.Is(err, errNoObject) {
		return false, nil
	}
	return err == nil, err
}

// logWriter adds leaves to the log from index next on. Every leaf from
// where it starts is either written by it or, when another writer created
// it first, read by it, and seen holds the ids of those leaves (and of
// those its user read before), so it never logs a record twice.
type logWriter struct {
	l    *s3Ledger
	next int64
	seen map[string]int64 // record id -> the first leaf seen logging it
}

// add logs record r, stored at key with body, unless a leaf seen logs it,
// and returns its leaf; added is false if it was logged already.
func (w *logWriter) add(ctx context.Context, r Record, key string, body []byte) (n int64, added bool, err error) {
	if n, ok := w.seen[r.ID]; ok {
		return n, false, nil
	}
	lf := s3Leaf{ID: r.ID, Record: key, Hash: r.Hash}
	same := 0
	for range leafAttempts {
		n = w.next
		_, hashes, err := merkle.Stored(n, body, hashReader{ctx, w.l})
		if err != nil {
			return 0, false, fmt.Errorf("logging record %s as leaf %d: %w", r.ID, n, err)
		}
		lf.Stored = make([][]byte, len(hashes))
		for i := range hashes {
			lf.Stored[i] = hashes[i][:]
		}
		data, _ := json.Marshal(lf)
		_, err = w.l.put(ctx, w.l.leafKey(n), data, putCond{create: true})
		if err == nil {
			w.l.cacheLeaf(n, &lf)
			w.seen[r.ID], w.next = n, n+1
			return n, true, nil
		}
		if !errors.Is(err, errCondition) {
			return 0, false, fmt.Errorf("logging record %s as leaf %d: %w", r.ID, n, err)
		}
		got, err := w.l.readLeaves(ctx, []int64{n}, true)
		if err != nil {
			return 0, false, fmt.Errorf("logging record %s: %w", r.ID, err)
		}
		if !exists(got[0]) {
			if same++; same >= sameLeafAttempts {
				return 0, false, fmt.Errorf("logging record %s: leaf %d is refused but not created", r.ID, n)
			}
			continue // a conflicting write that did not complete: try n again
		}
		w.next, same = n+1, 0
		if other := got[0].leaf; other != nil {
			if _, ok := w.seen[other.ID]; !ok {
				w.seen[other.ID] = n
			}
			if other.ID == r.ID {
				return n, true, nil // an earlier attempt of this PUT, retried by the SDK, or another logger of r
			}
		}
	}
	return 0, false, fmt.Errorf("logging record %s: the log grew by another leaf at each of %d attempts", r.ID, leafAttempts)
}

// putLogID writes log/ids/<id> naming leaf n, create-only: an object that
// exists already was written by an earlier attempt or by the writer of the
// first leaf that logs id.
func (l *s3Ledger) putLogID(ctx context.Context, id string, n int64) error {
	data, _ := json.Marshal(logIDIndex{Leaf: n})
	if _, err := l.put(ctx, l.logIDKey(id), data, putCond{create: true}); err != nil && !errors.Is(err, errCondition) {
		return err
	}
	return nil
}

// signTree signs the checkpoint of the first size leaves and stores it
// create-only; without a key it does nothing. Note signatures are
// deterministic, so a checkpoint another writer stored for the same size
// must be byte for byte this one.
func (l *s3Ledger) signTree(ctx context.Context, size int64) error {
	if l.logSigner.key == nil || size == 0 {
		return nil
	}
	if err := l.claimLogKey(ctx); err != nil {
		return err
	}
	root, err := merkle.Root(size, hashReader{ctx, l})
	if err != nil {
		return err
	}
	note, err := l.sign(size, root)
	if err != nil {
		return err
	}
	key := l.checkpointKey(size)
	_, err = l.put(ctx, key, note, putCond{create: true, contentType: textPlain})
	if !errors.Is(err, errCondition) {
		return err
	}
	stored, _, err := l.get(ctx, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored, note) {
		return fmt.Errorf("%s is not the checkpoint this writer signs for %d leaves: the log was rewritten, "+
			"or signed with another key", l.url(key), size)
	}
	return nil
}

// claimLogKey makes log/key this writer's verifier key if the log has none,
// before its first checkpoint is stored, and refuses (ErrKeyMismatch) to
// sign a log whose key is another.
func (l *s3Ledger) claimLogKey(ctx context.Context) error {
	vkey, err := l.logKey(ctx)
	if err != nil {
		return err
	}
	if vkey == "" {
		_, err := l.put(ctx, l.logKeyKey(), []byte(l.logSigner.key.Public), putCond{create: true, contentType: textPlain})
		switch {
		case err == nil:
			vkey = l.logSigner.key.Public
			l.mu.Lock()
			l.log.vkey = vkey
			l.mu.Unlock()
		case errors.Is(err, errCondition):
			if vkey, err = l.logKey(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return l.checkKey(vkey, l.String())
}
