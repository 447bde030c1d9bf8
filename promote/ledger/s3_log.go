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
//  1. Before the record is stored (logStart, planLog), the log's key
//     (log/key) is checked against the writer's, so a writer that may not
//     sign the log stores nothing, and the size hint is read: the record's
//     leaf can only be at that index or after it. With the hinted last leaf
//     (which must exist) and whether the chain's previous record is logged,
//     a writer with the key reads the checkpoint of the hinted size and the
//     leaves holding its root's hashes, and checks the log as it finds it
//     (checkTree, s3_logcheck.go): a log it would not sign is refused with
//     ErrLogTampered before anything is stored. Then, with the record's id
//     index, it writes the record's signed intent (log_intent.go).
//  2. After the record is stored (logStored), it is logged as leaf N, N the
//     hinted size, created with If-None-Match: *; a writer that loses leaf N
//     (to another writer, or because the hint lags) reads it and tries N+1.
//     Then log/ids/<id> names the leaf and a writer with the key checks the
//     leaves it lost to (their intents) and signs the checkpoint of the
//     grown tree; and the hint moves on.
//
// Every leaf from the hint on is written or read by the writer, so it never
// logs a record twice, even when an upgrade logs the same record at once.
// If the chain's previous record is not logged (its writer died between
// its record and its leaf), or the log is empty while other records exist
// (a ledger written before the log), the whole ledger is upgraded first:
// after the record is stored, so that the record stands if the upgrade
// fails; before it, when the writer has the key and the previous record
// has no intent to show it was written with the key (the upgrade will
// refuse it, most likely, and nothing is stored).

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

// logStart reads, before a record is stored, the log's key, and refuses
// with ErrKeyMismatch a writer without it, and the log's size hint, from
// which on planLog and logStored look for the end of the log.
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

// logPlan is what a writer knows of the log before it stores its record.
type logPlan struct {
	size int64            // the log's size as the hint says and its last leaf confirms
	seen map[string]int64 // the ids of the leaves read from the hint on, and their leaves
	base []byte           // with a key: the newest checkpoint found, nil if none
	heal bool             // upgrade the whole ledger once the record is stored
}

// planLog reads, before a record is stored in chain c after its record
// prevSeq (0: none; prevLogged: whether it is logged), the log from the
// size hint from on, as logStored needs it. With a key, it reads the
// checkpoint of that size and the leaves holding the hashes of that tree's
// root, and checks the log (checkTree): ErrLogTampered for a log this
// writer would not sign, before the record is stored. A previous record
// that is not logged and has no valid intent is healed now, not after,
// unless healed says the ledger was just healed.
func (l *s3Ledger) planLog(ctx context.Context, c chainKey, prevSeq int64, prevLogged bool, from int64, healed bool) (logPlan, error) {
	p := logPlan{seen: map[string]int64{}}
	keyed := l.logSigner.key != nil
	var cp []byte
	var walkErr, cpErr, rootErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		p.size, walkErr = l.walkLog(ctx, from, false, func(n int64, lf *s3Leaf) {
			if _, ok := p.seen[lf.ID]; !ok {
				p.seen[lf.ID] = n
			}
		})
	})
	if keyed && from > 0 {
		wg.Go(func() { cp, cpErr = l.checkpointAt(ctx, l.checkpointKey(from)) })
		wg.Go(func() { _, rootErr = l.readLeaves(ctx, frontierLeaves(from), false) })
	}
	wg.Wait()
	if err := errors.Join(walkErr, cpErr, rootErr); err != nil {
		return logPlan{}, fmt.Errorf("ledger %s: reading the log: %w", l, err)
	}
	p.heal = !prevLogged
	if p.size == 0 && prevSeq == 0 && !healed {
		var err error
		if p.heal, err = l.otherRecords(ctx, l.recordKey(c.app, c.env, 1)); err != nil {
			return logPlan{}, fmt.Errorf("ledger %s: %w", l, err)
		}
	}
	if !keyed {
		return p, nil
	}
	if cp == nil || p.size != from {
		var err error
		if p.base, err = l.newestCheckpoint(ctx, p.size); err != nil {
			return logPlan{}, fmt.Errorf("ledger %s: reading the log's checkpoint: %w", l, err)
		}
		if s := noteSize(p.base); s > p.size {
			// Writers added and signed leaves since the walk.
			if p.size, err = l.walkLog(ctx, s, false, nil); err != nil {
				return logPlan{}, fmt.Errorf("ledger %s: reading the log: %w", l, err)
			}
		}
	} else {
		p.base = cp
	}
	if p.heal {
		healNow := true
		if !prevLogged {
			err := l.authenticRecord(ctx, l.recordKey(c.app, c.env, prevSeq))
			if err != nil && !errors.Is(err, errNotAuthentic) {
				return logPlan{}, fmt.Errorf("ledger %s: %w", l, err)
			}
			healNow = err != nil
		}
		if healNow {
			up, err := l.upgrade(ctx, false)
			if err != nil {
				return logPlan{}, fmt.Errorf("ledger %s: logging the records before it: %w", l, err)
			}
			return l.planLog(ctx, c, prevSeq, true, up.Size, true)
		}
	}
	if err := l.checkTree(ctx, p.base, signing{Size: p.size, Before: p.size}, 0, nil, false); err != nil {
		return logPlan{}, err
	}
	return p, nil
}

// logStored logs r (whose body is body), just stored in its chain, as p
// planned it. Its error says what of r is stored where.
func (l *s3Ledger) logStored(ctx context.Context, r Record, body []byte, p logPlan) error {
	if p.heal {
		if _, err := l.upgrade(ctx, false); err != nil {
			if errors.Is(err, ErrLogTampered) {
				return fmt.Errorf("ledger %s: record %s (%s in %s, seq %d) is stored in its chain, but this writer logs "+
					"and signs nothing more: %w: %w", l, r.ID, r.App, r.Env, r.Seq, ErrNotLogged, err)
			}
			return l.notLogged(r, fmt.Errorf("logging the records before it: %w", err))
		}
		return nil
	}
	w := logWriter{l: l, next: p.size, seen: p.seen}
	n, _, err := w.add(ctx, r, l.recordKey(r.App, r.Env, r.Seq), body)
	if err != nil {
		return l.notLogged(r, err)
	}
	var idErr, signErr error
	var wg sync.WaitGroup
	wg.Go(func() { idErr = l.putLogID(ctx, r.ID, n) })
	wg.Go(func() { signErr = l.checkAndSign(ctx, p, n, w.mine) })
	wg.Wait()
	l.moveLogHint(ctx, n+1)
	if errors.Is(signErr, ErrLogTampered) {
		return fmt.Errorf("ledger %s: record %s (%s in %s, seq %d) is stored and logged as leaf %d, but this writer "+
			"signs no checkpoint of the log: %w", l, r.ID, r.App, r.Env, r.Seq, n, errors.Join(signErr, idErr))
	}
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

// checkAndSign checks the tree of the first n+1 leaves, leaf n logging
// this writer's record, against p.base (or, when it lost leaves after
// p.size to other writers, against the checkpoint of n leaves if one is
// stored by now), then signs it. mine says which leaves this writer
// created: leaf n may be another's that logs the same record.
func (l *s3Ledger) checkAndSign(ctx context.Context, p logPlan, n int64, mine func(int64) bool) error {
	if l.logSigner.key == nil {
		return nil
	}
	base := p.base
	if n > p.size {
		cp, err := l.checkpointAt(ctx, l.checkpointKey(n))
		if err != nil {
			return err
		}
		if cp != nil {
			base = cp
		}
	}
	if err := l.checkTree(ctx, base, signing{Size: n + 1, Before: n + 1}, p.size, mine, false); err != nil {
		return err
	}
	return l.signTree(ctx, n+1)
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
	l     *s3Ledger
	next  int64
	seen  map[string]int64 // record id -> the first leaf seen logging it
	wrote map[int64]bool   // the leaves this writer created
}

// mine reports whether this writer created leaf n.
func (w *logWriter) mine(n int64) bool { return w.wrote[n] }

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
			if w.wrote == nil {
				w.wrote = map[int64]bool{}
			}
			w.wrote[n] = true
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
		return fmt.Errorf("%w: %s is not the checkpoint this writer signs for %d leaves: the log was rewritten, "+
			"or signed with another key", ErrLogTampered, l.url(key), size)
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
