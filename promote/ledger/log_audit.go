package ledger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// AuditOptions say what Audit checks the log against.
type AuditOptions struct {
	// Verifier is the ledger's note verifier key: the signatures of the
	// newest stored checkpoint and of every kept one are checked with it.
	// Without it stored checkpoints are compared unsigned and kept ones
	// cannot be checked.
	Verifier string
	// Kept are signed checkpoints kept outside the store (an auditor's
	// copy, the witnesses published to registries): the log must extend
	// each.
	Kept []Kept
}

// Kept is one signed checkpoint kept outside the store, and where it was
// kept, for messages. Problem is set, and Note is not, when whoever read
// it found that Source holds no checkpoint at all (a witness tag holding
// an image): it says what Source holds instead, and the audit reports it
// as not a checkpoint, with no note to open.
type Kept struct {
	Source  string
	Note    []byte
	Problem string
}

// LogReport is what Audit found of the log.
type LogReport struct {
	Size      int64        `json:"size"`             // leaves in the log
	Origin    string       `json:"origin,omitempty"` // the log's name, from its newest checkpoint
	Signed    int64        `json:"signed"`           // leaves the newest stored checkpoint covers
	Signature string       `json:"signature"`        // of the newest checkpoint: checked, unchecked or none
	Kept      []KeptResult `json:"kept,omitempty"`   // one per kept checkpoint, in the order given
	Root      string       `json:"root,omitempty"`   // base64 root of the whole log, as recomputed
}

// Signature states of LogReport.
const (
	SignatureChecked   = "checked"   // with the verifier key given
	SignatureUnchecked = "unchecked" // no verifier key was given
	SignatureNone      = "none"      // the ledger stores no checkpoint
)

// KeptResult is the check of one kept checkpoint.
type KeptResult struct {
	Source  string `json:"source"`
	Size    int64  `json:"size"`
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// Audit checks the whole ledger: every chain (Verify), then the log: that
// every leaf's record is stored and each chain's records are logged once,
// in seq order; that every record still hashes to the leaf logged for it;
// that the tree rebuilt from the records has the root of every checkpoint
// the ledger stores, the newest one signed with the verifier key and
// covering every leaf; and that the log extends every kept checkpoint
// (a consistency proof). Each finding is a Problem naming the record or
// leaf; an error means the walk itself failed.
func Audit(ctx context.Context, l Ledger, o AuditOptions) (Report, error) {
	// The chains and the leaves are two reads of everything: side by side.
	type verified struct {
		rep Report
		err error
	}
	chains := make(chan verified, 1)
	go func() {
		rep, err := l.Verify(ctx)
		chains <- verified{rep, err}
	}()
	var logRep Report
	w := &logWalk{rep: &logRep, chains: map[chainKey]int64{}, seen: map[string]int64{}}
	walkErr := w.walk(ctx, l)
	v := <-chains
	switch {
	case v.err != nil:
		return Report{}, v.err
	case walkErr != nil:
		return Report{}, walkErr
	}
	rep := v.rep
	rep.Problems = append(rep.Problems, logRep.Problems...)
	w.rep = &rep
	w.unlogged(ctx, l)
	rep.Log = &LogReport{Size: w.tree.size}
	if w.tree.size > 0 {
		root, err := w.tree.root(w.tree.size)
		if err != nil {
			return Report{}, err
		}
		rep.Log.Root = base64.StdEncoding.EncodeToString(root[:])
	}
	if err := w.checkpoints(ctx, l, o.Verifier); err != nil {
		return Report{}, err
	}
	if err := w.kept(o); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// walk reads every leaf in order into the rebuilt tree, then compares the
// leaf hashes the log stored.
func (w *logWalk) walk(ctx context.Context, l Ledger) error {
	size, err := l.LogSize(ctx)
	if err != nil {
		return err
	}
	if err := l.Leaves(ctx, 0, size, w.leaf); err != nil && !errors.As(err, new(errStopWalk)) {
		return fmt.Errorf("auditing the ledger's log: %w", err)
	}
	if w.tree.size != size {
		w.logProblem(fmt.Sprintf("the log claims %s and holds %d: leaves were deleted", leaves(size), w.tree.size))
	}
	return w.storedLeafHashes(ctx, l)
}

// logWalk is Audit's state over the leaves.
type logWalk struct {
	rep    *Report
	tree   memTree
	chains map[chainKey]int64 // the last seq logged of each chain
	seen   map[string]int64   // record id -> its leaf
	ids    []string           // by leaf
}

// leafRecord is what the walk reads of a leaf's body.
type leafRecord struct {
	ID  string `json:"id"`
	App string `json:"app"`
	Env string `json:"env"`
	Seq int64  `json:"seq"`
}

// leaf checks one leaf and adds it to the rebuilt tree.
func (w *logWalk) leaf(lf Leaf) error {
	n := lf.Index
	if n != w.tree.size {
		w.logProblem(fmt.Sprintf("the log has no leaf %d: leaves were deleted", w.tree.size))
		return errStopWalk(n)
	}
	w.ids = append(w.ids, lf.ID)
	rec := leafRecord{ID: lf.ID, App: lf.App, Env: lf.Env, Seq: lf.Seq}
	switch {
	case lf.ID == "":
		w.leafProblem(n, rec, "the leaf is unreadable")
	case lf.Body == nil:
		w.leafProblem(n, rec, fmt.Sprintf("it logs record %s, which is gone from its chain: the record was deleted", lf.ID))
	case lf.App != "":
		w.order(n, rec) // the body's agreement with where it is stored is Verify's
	case json.Unmarshal(lf.Body, &rec) != nil:
		w.leafProblem(n, leafRecord{ID: lf.ID}, "the record it logs is not JSON")
	case rec.ID != lf.ID:
		w.leafProblem(n, rec, fmt.Sprintf("it logs record %s, but that record's body is record %s", lf.ID, rec.ID))
	default:
		w.order(n, rec)
	}
	if lf.ID != "" {
		if first, dup := w.seen[lf.ID]; dup {
			w.leafProblem(n, rec, fmt.Sprintf("record %s is logged twice, at leaves %d and %d: a record was inserted", lf.ID, first, n))
		} else {
			w.seen[lf.ID] = n
		}
	}
	if _, _, err := w.tree.add(lf.Body); err != nil {
		return err
	}
	return nil
}

// order checks that rec comes next in its chain's order in the log.
func (w *logWalk) order(n int64, rec leafRecord) {
	k := chainKey{rec.App, rec.Env}
	last := w.chains[k]
	if rec.Seq != last+1 {
		w.leafProblem(n, rec, fmt.Sprintf("the log has %s/%s seq %d after seq %d: records of the chain were reordered, inserted or deleted",
			rec.Env, rec.App, rec.Seq, last))
	}
	if rec.Seq > last {
		w.chains[k] = rec.Seq
	}
}

// errStopWalk stops the walk at a gap in the leaves, which the tree cannot
// be rebuilt past.
type errStopWalk int64

func (e errStopWalk) Error() string { return fmt.Sprintf("the log has a gap before leaf %d", int64(e)) }

func (w *logWalk) leafProblem(n int64, rec leafRecord, msg string) {
	leaf := n
	w.rep.Problems = append(w.rep.Problems, Problem{App: rec.App, Env: rec.Env, Seq: rec.Seq, RecordID: rec.ID, Leaf: &leaf, Msg: msg})
}

func (w *logWalk) logProblem(msg string) {
	w.rep.Problems = append(w.rep.Problems, Problem{Msg: msg})
}

// leaves is n with its noun: "1 leaf", "2 leaves".
func leaves(n int64) string {
	if n == 1 {
		return "1 leaf"
	}
	return fmt.Sprintf("%d leaves", n)
}
