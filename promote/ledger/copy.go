package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// importer is a backend that can store a record exactly as another ledger
// wrote it: seq, prev_hash, hash, id and time kept. Both backends implement
// it; Copy is its only user.
type importer interface {
	// Import stores rec as the next record of its chain. It refuses a record
	// whose hash is not the hash of its body, or that does not follow the
	// chain's head (seq and prev_hash), and then stores nothing.
	Import(ctx context.Context, rec Record) error
}

// checkImport returns the body of rec if rec can be imported as it is.
func checkImport(rec Record) ([]byte, error) {
	if err := validate(&rec); err != nil {
		return nil, err
	}
	switch {
	case rec.ID == "", rec.MediaType == "", rec.Time.IsZero():
		return nil, fmt.Errorf("importing a record of %s in %s (seq %d): id, mediaType and time must be set", rec.App, rec.Env, rec.Seq)
	case rec.Seq < 1:
		return nil, fmt.Errorf("importing record %s: seq %d is not positive", rec.ID, rec.Seq)
	case (rec.Seq == 1) != (rec.PrevHash == ""):
		return nil, fmt.Errorf("importing record %s: seq %d with prev_hash %q: only seq 1 has none", rec.ID, rec.Seq, rec.PrevHash)
	}
	body, err := rec.Body()
	if err != nil {
		return nil, err
	}
	if got := HashBody(body); got != rec.Hash {
		return nil, fmt.Errorf("importing record %s (%s in %s, seq %d): its body hashes to %s, not to its hash %s",
			rec.ID, rec.App, rec.Env, rec.Seq, got, rec.Hash)
	}
	return body, nil
}

// Copy copies every chain of from into to, record by record, keeping seq,
// prev_hash, hash, id and time exactly, and returns how many records it
// copied. It refuses to start if from does not verify, or if to already has
// a record in any of from's chains (nothing is written then); it verifies to
// afterwards and checks that each copied chain ends where from's does.
// A copy stopped by an error leaves whole records only, a prefix of each
// chain; run it again into an empty destination.
func Copy(ctx context.Context, from, to Ledger) (int, error) {
	imp, ok := to.(importer)
	if !ok {
		return 0, errors.New("copying ledger: the destination backend cannot import records")
	}
	rep, err := from.Verify(ctx)
	if err != nil {
		return 0, fmt.Errorf("copying ledger: verifying the source: %w", err)
	}
	if !rep.OK() {
		p := rep.Problems[0]
		return 0, fmt.Errorf("copying ledger: the source does not verify (%d problems; first: %s in %s seq %d: %s)",
			len(rep.Problems), p.App, p.Env, p.Seq, p.Msg)
	}
	recs, err := from.Records(ctx, Query{})
	if err != nil {
		return 0, fmt.Errorf("copying ledger: reading the source: %w", err)
	}
	chains := map[chainKey][]Record{}
	var order []chainKey
	for _, r := range recs {
		k := chainKey{r.App, r.Env}
		if _, ok := chains[k]; !ok {
			order = append(order, k)
		}
		chains[k] = append(chains[k], r)
	}
	sort.Slice(order, func(i, j int) bool {
		return order[i].app < order[j].app || order[i].app == order[j].app && order[i].env < order[j].env
	})
	for _, k := range order {
		sort.Slice(chains[k], func(i, j int) bool { return chains[k][i].Seq < chains[k][j].Seq })
		head, err := to.Head(ctx, k.app, k.env)
		if err != nil {
			return 0, fmt.Errorf("copying ledger: %w", err)
		}
		if head != (Head{}) {
			return 0, fmt.Errorf("copying ledger: the destination already has %d records of %s in %s; copy into an empty ledger",
				head.Seq, k.app, k.env)
		}
	}
	all, err := copyOrder(ctx, from, recs)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range all {
		if err := imp.Import(ctx, r); err != nil {
			return n, fmt.Errorf("copying ledger after %d records: %w", n, err)
		}
		n++
	}
	return n, checkCopy(ctx, to, order, chains)
}

// copyOrder returns recs in the order from appended them: its log's
// order when the log holds every record, so that the destination's log is
// the same tree and the source's checkpoints hold for it; else (a ledger
// written before the log) as the S3 upgrade orders records (appendOrder):
// each chain in seq order, the chains merged by time.
func copyOrder(ctx context.Context, from Ledger, recs []Record) ([]Record, error) {
	size, err := from.LogSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("copying ledger: reading the source's log: %w", err)
	}
	if size == int64(len(recs)) && size > 0 {
		byID := make(map[string]Record, len(recs))
		for _, r := range recs {
			byID[r.ID] = r
		}
		out := make([]Record, 0, len(recs))
		err := from.Leaves(ctx, 0, size, func(lf Leaf) error {
			r, ok := byID[lf.ID]
			if !ok {
				return fmt.Errorf("leaf %d logs record %s, which is not in the source's chains", lf.Index, lf.ID)
			}
			delete(byID, lf.ID)
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("copying ledger: reading the source's log: %w", err)
		}
		if len(out) == len(recs) {
			return out, nil
		}
	}
	in := make([]loggable, len(recs))
	for i, r := range recs {
		in[i] = loggable{rec: r}
	}
	ordered := appendOrder(in)
	out := make([]Record, len(ordered))
	for i, l := range ordered {
		out[i] = l.rec
	}
	return out, nil
}

// checkCopy verifies the destination and compares each chain's head.
func checkCopy(ctx context.Context, to Ledger, order []chainKey, chains map[chainKey][]Record) error {
	rep, err := to.Verify(ctx)
	if err != nil {
		return fmt.Errorf("copying ledger: verifying the destination: %w", err)
	}
	if !rep.OK() {
		p := rep.Problems[0]
		return fmt.Errorf("copying ledger: the destination does not verify after the copy (first: %s in %s seq %d: %s)",
			p.App, p.Env, p.Seq, p.Msg)
	}
	for _, k := range order {
		last := chains[k][len(chains[k])-1]
		head, err := to.Head(ctx, k.app, k.env)
		if err != nil {
			return fmt.Errorf("copying ledger: %w", err)
		}
		if want := (Head{Seq: last.Seq, Hash: last.Hash}); head != want {
			return fmt.Errorf("copying ledger: %s in %s ends at %+v in the destination, not at %+v", k.app, k.env, head, want)
		}
	}
	return nil
}
