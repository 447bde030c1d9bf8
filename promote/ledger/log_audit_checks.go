package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/promote-dev/promote/promote/ledger/merkle"
	"golang.org/x/mod/sumdb/tlog"
)

// storedLeafHashes compares the leaf hash the log stored for each leaf
// with the hash of its record's body now: a record changed after it was
// logged (and re-hashed with its chain, so the chain walk finds nothing)
// no longer matches.
func (w *logWalk) storedLeafHashes(ctx context.Context, l Ledger) error {
	const chunk = 1000
	for start := int64(0); start < w.tree.size; start += chunk {
		end := min(start+chunk, w.tree.size)
		idx := make([]int64, 0, end-start)
		for n := start; n < end; n++ {
			idx = append(idx, tlog.StoredHashIndex(0, n))
		}
		stored, err := l.TreeHashes(ctx, idx)
		if err != nil {
			return fmt.Errorf("auditing the ledger's log: %w", err)
		}
		for i, x := range idx {
			n := start + int64(i)
			if stored[i] != w.tree.hashes[x] {
				w.leafProblem(n, leafRecord{ID: w.ids[n]}, fmt.Sprintf("record %s no longer hashes to the leaf logged for it: it was changed after it was logged", w.ids[n]))
			}
		}
	}
	return nil
}

// unlogged names the records of the chains that no leaf logs.
func (w *logWalk) unlogged(ctx context.Context, l Ledger) {
	if w.rep.Records <= len(w.seen) {
		return
	}
	recs, err := l.RecordsChecked(ctx, Query{})
	if err != nil {
		w.logProblem(fmt.Sprintf("%d records are not in the log (reading them: %v)", w.rep.Records-len(w.seen), err))
		return
	}
	for _, r := range recs {
		if _, ok := w.seen[r.ID]; !ok {
			w.rep.Problems = append(w.rep.Problems, Problem{App: r.App, Env: r.Env, Seq: r.Seq, RecordID: r.ID,
				Msg: "the record is not in the log: it was inserted, or its writer stopped before logging it (promote ledger upgrade logs it)"})
		}
	}
}

// checkpoints checks every checkpoint the ledger stores against the tree
// rebuilt from the records, and the newest one's signature with vkey.
func (w *logWalk) checkpoints(ctx context.Context, l Ledger, vkey string) error {
	var newest []byte
	err := l.Checkpoints(ctx, func(note []byte) error {
		newest = note
		cp, err := noteCheckpoint(note)
		if err != nil {
			w.logProblem(fmt.Sprintf("a stored checkpoint does not parse: %v", err))
			return nil
		}
		if msg := w.against(cp); msg != "" {
			w.logProblem(fmt.Sprintf("the stored checkpoint of %s: %s", leaves(cp.Size), msg))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("auditing the ledger's checkpoints: %w", err)
	}
	lr := w.rep.Log
	lr.Signature = SignatureNone
	if newest == nil {
		if vkey != "" && w.tree.size > 0 {
			w.logProblem("the ledger stores no signed checkpoint, yet it has a key: its checkpoints were deleted")
		}
		return nil
	}
	cp, err := noteCheckpoint(newest)
	if err != nil {
		return nil // reported above
	}
	lr.Origin, lr.Signed, lr.Signature = cp.Origin, cp.Size, SignatureUnchecked
	if vkey == "" {
		// What cannot be checked is not taken as fine: anyone who can
		// write the store can put a checkpoint there.
		w.logProblem(fmt.Sprintf("the newest stored checkpoint (%s) cannot be checked: no verifier key; pass --public-key, "+
			"or set ledger.public (promote ledger key --public prints it)", leaves(cp.Size)))
	}
	if vkey != "" {
		lr.Signature = SignatureChecked
		if _, err := merkle.Open(newest, vkey); err != nil {
			w.logProblem(fmt.Sprintf("the newest stored checkpoint (%s) is not signed by the ledger's key: %v", leaves(cp.Size), err))
		}
	}
	if cp.Size < w.tree.size {
		w.logProblem(fmt.Sprintf("leaves %d to %d are in no signed checkpoint: they were appended without the ledger key, "+
			"or a writer stopped before signing (its next append signs them)", cp.Size, w.tree.size-1))
	}
	return nil
}

// against says how the rebuilt tree disagrees with cp ("" if it has cp's
// root at cp's size).
func (w *logWalk) against(cp merkle.Checkpoint) string {
	if cp.Size > w.tree.size {
		return fmt.Sprintf("the log holds %s, fewer than the %d it signs: records were deleted, or it was cut short", leaves(w.tree.size), cp.Size)
	}
	root, err := w.tree.root(cp.Size)
	if err != nil || root != cp.Root {
		return fmt.Sprintf("the log's first %s do not hash to the root it signs: records among them were rewritten, reordered, inserted or deleted", leaves(cp.Size))
	}
	return ""
}

// kept checks that the log extends every kept checkpoint: its signature
// with the verifier key, then a consistency proof from the kept tree to
// the rebuilt one. One its reader found to be no checkpoint (Problem) is
// reported as such.
func (w *logWalk) kept(o AuditOptions) error {
	if len(o.Kept) == 0 {
		return nil
	}
	if o.Verifier == "" {
		return errors.New("checking kept checkpoints needs the ledger's verifier key: pass --public-key or set ledger.public in the configuration")
	}
	var now merkle.Checkpoint
	if w.tree.size > 0 {
		root, err := w.tree.root(w.tree.size)
		if err != nil {
			return err
		}
		now = merkle.Checkpoint{Size: w.tree.size, Root: root}
	}
	for _, k := range o.Kept {
		res := KeptResult{Source: k.Source}
		if k.Problem != "" {
			res.Problem = "not a checkpoint: " + k.Problem
			w.rep.Log.Kept = append(w.rep.Log.Kept, res)
			w.logProblem(fmt.Sprintf("%s is not a checkpoint: %s", k.Source, k.Problem))
			continue
		}
		cp, err := merkle.Open(k.Note, o.Verifier)
		if err != nil {
			res.Problem = fmt.Sprintf("it is not a checkpoint signed by the ledger's key: %v", err)
			w.rep.Log.Kept = append(w.rep.Log.Kept, res)
			w.logProblem(fmt.Sprintf("the checkpoint kept in %s: %s", k.Source, res.Problem)) // of no size it can tell
			continue
		}
		res.Size = cp.Size
		now.Origin = cp.Origin
		res.Problem = w.extends(cp, now)
		res.OK = res.Problem == ""
		w.rep.Log.Kept = append(w.rep.Log.Kept, res)
		if !res.OK {
			w.logProblem(fmt.Sprintf("the checkpoint kept in %s (%s): %s", k.Source, leaves(res.Size), res.Problem))
		}
	}
	return nil
}

// extends says how the log now fails to extend the kept checkpoint ("" if
// it does): the consistency proof from kept to now, made from the tree
// rebuilt from the records, must check.
func (w *logWalk) extends(kept, now merkle.Checkpoint) string {
	if kept.Size == 0 {
		return "" // every log extends the empty one
	}
	if kept.Size > now.Size {
		return fmt.Sprintf("the log holds %s, fewer than the %d kept: records were deleted, or it was cut short", leaves(now.Size), kept.Size)
	}
	var proof []merkle.Hash
	if kept.Size < now.Size && kept.Size > 0 {
		p, err := merkle.Consistency(kept.Size, now.Size, &w.tree)
		if err != nil {
			return err.Error()
		}
		proof = p
	}
	if err := merkle.CheckConsistency(proof, kept, now); err != nil {
		return fmt.Sprintf("the log does not extend it: records among its first %s were rewritten, reordered, inserted or deleted", leaves(kept.Size))
	}
	return ""
}
