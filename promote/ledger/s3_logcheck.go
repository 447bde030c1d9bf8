package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// What an S3 writer holding the key checks before it signs. Whoever can
// write the prefix can add record objects and leaves; only the key signs.
// So before a writer signs the tree of n leaves it checks (checkTree):
//
//   - that the newest checkpoint it found is signed by its key, that the
//     log holds at least that checkpoint's leaves, and that a consistency
//     proof from it to the tree checks (checkSignable, with the tail
//     allowed: a writer can die between its leaf and its checkpoint);
//   - that every leaf after that checkpoint logs a record whose intent
//     (log_intent.go) verifies with the key and names the hash of the
//     record's stored body, and holds the stored hashes that body makes
//     (authenticLeaves): leaves of writers that died before signing, or
//     that are signing now, pass, and a leaf someone added without the
//     key does not;
//   - and, before it logs a record no leaf logs (a writer that died
//     between its record and its leaf), that record's intent.
//
// A log that has leaves or records and no checkpoint at all is signed by
// an append, or by the heal, only if every leaf and record in it passes:
// a ledger that had its key from its first record, whose first writers are
// racing to sign it. A ledger that had no key has no intents, and only
// ledger upgrade --sign-unsigned signs it (errUnsigned); so is one whose
// every checkpoint was deleted and whose records do not all check. What the
// checks cannot see is what no check inside the store can: a log cut back,
// or its unsigned tail reordered, after its newer checkpoints were deleted.
// Kept and witnessed checkpoints show that.
//
// An error of a check is ErrLogTampered only for what the store holds; an
// error reading it is returned as it is, so that a network error never
// reads as a forgery.

// checkBatch is how many leaves authenticLeaves checks at once, reading
// their records and intents in parallel; it stops after the first batch
// that holds a forgery.
const checkBatch = 64

// errNotAuthentic is wrapped by the errors of the checks for something in
// the log that no holder of the key wrote.
var errNotAuthentic = errors.New("the log holds what no holder of the ledger key wrote")

// checkTree checks, for a writer with the key about to sign the tree of
// o.Size leaves, the log against base, the newest checkpoint it found (nil
// if none): see above. Leaves below checked were checked by this writer
// already; mine (nil: none) says which leaves it wrote itself. trust skips
// everything for a log without a checkpoint: ledger upgrade --sign-unsigned.
func (l *s3Ledger) checkTree(ctx context.Context, base []byte, o signing, checked int64, mine func(int64) bool, trust bool) error {
	if l.logSigner.key == nil {
		return nil
	}
	if base == nil {
		if o.Before == 0 || trust {
			return nil
		}
		if err := l.authenticLeaves(ctx, checked, o.Before, mine); err != nil {
			return l.unsignedErr(leaves(o.Before), err)
		}
		o.First = true // every leaf checks: a log keyed from its first record
		return l.checkSignable(nil, o, nil, l.String())
	}
	var readErr error
	r := readErrors{hashReader{ctx, l}, &readErr}
	if err := l.checkSignable(base, o, r, l.String()); err != nil {
		if readErr != nil {
			return readErr
		}
		return err
	}
	cp, err := merkle.Open(base, l.logSigner.key.Public) // checkSignable opened it
	if err != nil {
		return fmt.Errorf("%w: ledger %s: %v", ErrLogTampered, l, err)
	}
	return l.tamperedErr(l.authenticLeaves(ctx, max(checked, cp.Size), o.Before, mine))
}

// noteSize is the tree size a checkpoint note names, unchecked; 0 for nil
// or a note that does not parse.
func noteSize(note []byte) int64 {
	if note == nil {
		return 0
	}
	cp, err := merkle.ParseCheckpoint(string(note))
	if err != nil {
		return 0
	}
	return cp.Size
}

// readErrors reads stored hashes and keeps, in err, the last error that
// was one of reading them rather than a hash missing from the log.
type readErrors struct {
	r   hashReader
	err *error
}

func (r readErrors) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	hs, err := r.r.ReadHashes(indexes)
	if err != nil && !errors.Is(err, errLogHole) {
		*r.err = err
	}
	return hs, err
}

// tamperedErr makes a finding of the checks (errNotAuthentic) an error
// wrapping ErrLogTampered; other errors, and nil, are returned as they are.
func (l *s3Ledger) tamperedErr(err error) error {
	if err == nil || !errors.Is(err, errNotAuthentic) {
		return err
	}
	return fmt.Errorf("%w: ledger %s: %w; audit it with promote ledger verify", ErrLogTampered, l, err)
}

// unsignedErr is the refusal to sign a log of holds and no checkpoint,
// for the finding err, which it wraps; other errors are returned as they
// are.
func (l *s3Ledger) unsignedErr(holds string, err error) error {
	if !errors.Is(err, errNotAuthentic) {
		return err
	}
	return fmt.Errorf("%w: %w", errUnsigned(l.String(), holds), err)
}

// authenticLeaves checks the leaves lo ≤ n < hi but those mine wrote:
// each must be a leaf object naming a record object whose body holds the
// leaf's record id, whose intent verifies with the key and names the hash
// of that body, and whose stored hashes are those that body makes as leaf
// n. Its findings wrap errNotAuthentic.
func (l *s3Ledger) authenticLeaves(ctx context.Context, lo, hi int64, mine func(int64) bool) error {
	for start := lo; start < hi; start += checkBatch {
		var idx []int64
		for n := start; n < min(start+checkBatch, hi); n++ {
			if mine == nil || !mine(n) {
				idx = append(idx, n)
			}
		}
		if err := l.authenticBatch(ctx, idx); err != nil {
			return err
		}
	}
	return nil
}

// authenticBatch checks the leaves idx, in increasing order, for
// authenticLeaves: their records and intents are read in parallel.
func (l *s3Ledger) authenticBatch(ctx context.Context, idx []int64) error {
	if len(idx) == 0 {
		return nil
	}
	reads, err := l.readLeaves(ctx, idx, false)
	if err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	recKeys, intentKeys := make([]string, len(idx)), make([]string, len(idx))
	for i, r := range reads {
		n := idx[i]
		switch {
		case r.err != nil:
			return fmt.Errorf("%w: leaf %d is not a leaf object", errNotAuthentic, n)
		case r.leaf == nil:
			return fmt.Errorf("%w: leaf %d is missing", errNotAuthentic, n)
		}
		if _, _, _, ok := l.recordKeyParts(r.leaf.Record); !ok {
			return fmt.Errorf("%w: leaf %d names %q, not a record object", errNotAuthentic, n, r.leaf.Record)
		}
		recKeys[i], intentKeys[i] = r.leaf.Record, l.intentKey(r.leaf.ID)
	}
	objs, intents, err := l.getBoth(ctx, recKeys, intentKeys)
	if err != nil {
		return fmt.Errorf("reading the records of the log: %w", err)
	}
	if err := l.loggedOnce(ctx, idx, reads); err != nil {
		return err
	}
	for i, n := range idx {
		lf := reads[i].leaf
		body, err := l.authenticBody(lf.ID, objs[i], intents[i])
		if err != nil {
			return fmt.Errorf("leaf %d logs record %s (%s): %w", n, lf.ID, l.url(lf.Record), err)
		}
		_, hashes, err := merkle.Stored(n, body, hashReader{ctx, l})
		switch {
		case errors.Is(err, errLogHole):
			return fmt.Errorf("%w: leaf %d: %w", errNotAuthentic, n, err)
		case err != nil:
			return err
		}
		same := len(hashes) == len(lf.Stored)
		for j := 0; same && j < len(hashes); j++ {
			same = bytes.Equal(hashes[j][:], lf.Stored[j])
		}
		if !same {
			return fmt.Errorf("%w: leaf %d does not hold the tree hashes of record %s", errNotAuthentic, n, lf.ID)
		}
	}
	return nil
}

// loggedOnce refuses a leaf of idx that logs a record logged at another
// leaf: a genuine record, with its genuine intent, replayed as an extra
// leaf. The record's log index, where written, must name this leaf, and no
// two leaves of idx may log one record.
func (l *s3Ledger) loggedOnce(ctx context.Context, idx []int64, reads []leafRead) error {
	seen := map[string]int64{}
	keys := make([]string, len(idx))
	for i, n := range idx {
		id := reads[i].leaf.ID
		if first, dup := seen[id]; dup {
			return fmt.Errorf("%w: leaves %d and %d both log record %s", errNotAuthentic, first, n, id)
		}
		seen[id] = n
		keys[i] = l.logIDKey(id)
	}
	objs, err := l.getMany(ctx, keys)
	if err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	for i, n := range idx {
		if objs[i] == nil {
			continue // not written yet: a writer that died after its leaf
		}
		var ix logIDIndex
		if json.Unmarshal(objs[i], &ix) != nil || ix.Leaf != n {
			return fmt.Errorf("%w: leaf %d logs record %s, which its log index puts at another leaf", errNotAuthentic, n, reads[i].leaf.ID)
		}
	}
	return nil
}

// getBoth reads the objects at a and at b, in parallel; a missing object
// is nil.
func (l *s3Ledger) getBoth(ctx context.Context, a, b []string) (objsA, objsB [][]byte, err error) {
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() { objsA, errA = l.getMany(ctx, a) })
	wg.Go(func() { objsB, errB = l.getMany(ctx, b) })
	wg.Wait()
	return objsA, objsB, errors.Join(errA, errB)
}

// authenticBody returns the body of record object obj if it holds record
// id and intent is id's intent for that body's hash; its findings wrap
// errNotAuthentic.
func (l *s3Ledger) authenticBody(id string, obj, intent []byte) ([]byte, error) {
	if obj == nil {
		return nil, fmt.Errorf("%w: its record object is gone", errNotAuthentic)
	}
	body, _, err := decodeObject(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: its record object is not a stored record (%v)", errNotAuthentic, err)
	}
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &rec); err != nil || rec.ID != id {
		return nil, fmt.Errorf("%w: its record object holds another record", errNotAuthentic)
	}
	if err := l.checkIntent(intent, id, HashBody(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotAuthentic, err)
	}
	return body, nil
}

// authenticRecords checks the intent of each record of recs (records no
// leaf logs, about to be logged) against the hash of its stored body; its
// findings wrap errNotAuthentic.
func (l *s3Ledger) authenticRecords(ctx context.Context, recs []loggable) error {
	for start := 0; start < len(recs); start += checkBatch {
		batch := recs[start:min(start+checkBatch, len(recs))]
		keys := make([]string, len(batch))
		for i, s := range batch {
			keys[i] = l.intentKey(s.rec.ID)
		}
		intents, err := l.getMany(ctx, keys)
		if err != nil {
			return fmt.Errorf("reading the intents of the records to log: %w", err)
		}
		for i, s := range batch {
			if err := l.checkIntent(intents[i], s.rec.ID, HashBody(s.body)); err != nil {
				return fmt.Errorf("record %s (%s in %s, seq %d), in no leaf: %w: %w", s.rec.ID, s.rec.App, s.rec.Env,
					s.rec.Seq, errNotAuthentic, err)
			}
		}
	}
	return nil
}

// authenticRecord checks the record object at key, which no leaf logs,
// as authenticRecords does: it reads the object, then its intent.
func (l *s3Ledger) authenticRecord(ctx context.Context, key string) error {
	obj, _, err := l.get(ctx, key)
	if err != nil && !errors.Is(err, errNoObject) {
		return err
	}
	var id string
	if rec, err := decodeRecordObject(obj); err == nil {
		id = rec.ID
	}
	var intent []byte
	if id != "" {
		if intent, _, err = l.get(ctx, l.intentKey(id)); err != nil && !errors.Is(err, errNoObject) {
			return err
		}
	}
	if _, err := l.authenticBody(id, obj, intent); err != nil {
		return fmt.Errorf("record %s (%s), which no log index names: %w", id, l.url(key), err)
	}
	return nil
}

// frontierLeaves returns the leaves whose objects hold the hashes of the
// complete subtrees the first size leaves split into, the root of that
// tree, but the last one, size-1: the leaves a writer about to check the
// tree and add leaf size reads.
func frontierLeaves(size int64) []int64 {
	var out []int64
	var end int64
	for k := 62; k >= 0; k-- {
		if size&(1<<k) != 0 {
			if end += 1 << k; end < size {
				out = append(out, end-1)
			}
		}
	}
	return out
}

// checkWriter checks, when a writer is about to append to the chain of
// app in env, what its append will: its key (checkKey); that the log, as
// far as the size hint and a probe past it find it, is one it would sign
// (checkTree, from the newest checkpoint stored); and that the chain's
// newest record is logged or carries its intent. Cost, on a healthy
// ledger: the log's key, its size hint and the chain's head, then the
// hinted last leaf and the one after it, a LIST of the checkpoints from
// the hint on and the newest, and the head's log id, at once; then the
// leaves holding the hashes of the tree's root (11 requests in all at 40
// records, TestS3CheckWriterRequests). A writer without a key signs
// nothing: only the log's key is read, to refuse it a signed log.
func (l *s3Ledger) checkWriter(ctx context.Context, app, env string) error {
	keyed := l.logSigner.key != nil
	var vkey string
	var h logHint
	var head Record
	var keyErr, hintErr, headErr error
	var wg sync.WaitGroup
	wg.Go(func() { vkey, keyErr = l.logKey(ctx) })
	if keyed {
		wg.Go(func() { h, hintErr = l.readLogHint(ctx) })
		if app != "" && env != "" {
			wg.Go(func() { head, headErr = l.headRecord(ctx, app, env) })
		}
	}
	wg.Wait()
	if err := errors.Join(keyErr, hintErr, headErr); err != nil {
		return fmt.Errorf("opening ledger %s: %w", l, err)
	}
	if err := l.checkKey(vkey, l.String()); err != nil {
		return err
	}
	if !keyed {
		return nil // it signs nothing, and checks nothing it would sign
	}
	var size int64
	var base []byte
	headLogged := true
	var sizeErr, baseErr, loggedErr error
	wg.Go(func() { size, sizeErr = l.walkLog(ctx, h.Size, true, nil) })
	wg.Go(func() { base, baseErr = l.newestCheckpoint(ctx, h.Size) })
	if head.Seq > 0 {
		wg.Go(func() { headLogged, loggedErr = l.isLogged(ctx, head.ID) })
	}
	wg.Wait()
	if s := noteSize(base); sizeErr == nil && s > size {
		// A writer signed more leaves than the walk found, meanwhile.
		size, sizeErr = l.walkLog(ctx, s, true, nil)
	}
	if err := errors.Join(sizeErr, baseErr, loggedErr); err != nil {
		return fmt.Errorf("opening ledger %s: reading the log: %w", l, err)
	}
	if err := l.checkTree(ctx, base, signing{Size: size, Before: size}, 0, nil, false); err != nil {
		return err
	}
	unlogged := ""
	switch {
	case head.Seq > 0 && !headLogged:
		unlogged = l.recordKey(app, env, head.Seq)
	case size == 0 && base == nil:
		// No log: a ledger written before it, whose first keyed append
		// logs every record (or an empty one).
		var err error
		if unlogged, err = l.firstRecordKey(ctx); err != nil {
			return fmt.Errorf("opening ledger %s: %w", l, err)
		}
	}
	if unlogged == "" {
		return nil
	}
	err := l.authenticRecord(ctx, unlogged)
	if base == nil {
		return l.unsignedErr("records that no leaf logs", err)
	}
	return l.tamperedErr(err)
}

// firstRecordKey returns the key of the ledger's first record object in
// key order, "" if it has none: one LIST of one key.
func (l *s3Ledger) firstRecordKey(ctx context.Context) (string, error) {
	var first string
	prefix := l.recordsPrefix("", "")
	out, err := l.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &l.bucket, Prefix: &prefix, MaxKeys: aws.Int32(1)})
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", l.url(prefix), classify(err))
	}
	for _, o := range out.Contents {
		if k := aws.ToString(o.Key); l.isRecordKey(k) {
			first = k
		}
	}
	return first, nil
}

// isRecordKey reports whether key is the key of a record object.
func (l *s3Ledger) isRecordKey(key string) bool {
	_, _, _, ok := l.recordKeyParts(key)
	return ok
}
