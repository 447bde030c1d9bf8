package ledger

import (
	"context"
	"fmt"
	"sort"
)

// Verify lists every chain of the bucket, reads and checks each object on
// its own and walks each chain with verifyChain, as the SQLite backend
// does; it reports each record that does not check out: a seq that does not continue
// 1, 2, 3… (a record was deleted), an object whose body does not hash to its
// stored hash (edited), a record whose seq, app or env is not the one its key
// says (moved: reordered or displaced by an insertion), a prev_hash that is
// not the hash of the record before (a record before it was changed, removed
// or inserted), and an object that is not a record at all. It also compares
// each chain with its head hint: a hint beyond the last record means records
// were deleted from the end; a hint whose hash differs from that record's
// means the record was replaced. On a bucket with versioning, every delete
// marker and every overwritten version under records/ is a problem too (see
// s3_bucket.go). Problems are ordered by app, env and seq.
//
// Cost: one LIST per 1000 records and one GET per record, l.workers at a
// time. What Verify cannot see is the same as for SQLite: a tail rewritten
// and re-hashed, hint included, by someone with write access; Object Lock
// retention (see Check) is what makes records immutable.
func (l *s3Ledger) Verify(ctx context.Context) (Report, error) {
	rep := Report{Problems: []Problem{}}
	chains := map[chainKey][]int64{}
	err := l.list(ctx, l.recordsPrefix("", ""), func(key string) error {
		app, env, seq, ok := l.recordKeyParts(key)
		if !ok {
			rep.Problems = append(rep.Problems, Problem{Msg: fmt.Sprintf("object %s is not a record key", key)})
			return nil
		}
		chains[chainKey{app, env}] = append(chains[chainKey{app, env}], seq)
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("verifying ledger %s: %w", l, err)
	}
	hinted, err := l.hintedChains(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verifying ledger %s: %w", l, err)
	}
	for k := range hinted {
		if _, ok := chains[k]; !ok {
			chains[k] = nil
		}
	}
	order := make([]chainKey, 0, len(chains))
	for k := range chains {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool {
		return order[i].app < order[j].app || order[i].app == order[j].app && order[i].env < order[j].env
	})
	for _, k := range order {
		seqs := chains[k]
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		recs, err := l.readChain(ctx, k, seqs)
		if err != nil {
			return Report{}, fmt.Errorf("verifying ledger %s: %w", l, err)
		}
		verifyChain(&rep, k.app, k.env, recs)
		if p := l.checkHint(ctx, k, recs); p != nil {
			rep.Problems = append(rep.Problems, *p)
		}
	}
	vprobs, err := l.versionProblems(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verifying ledger %s: %w", l, err)
	}
	rep.Problems = append(rep.Problems, vprobs...)
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		a, b := rep.Problems[i], rep.Problems[j]
		if a.App != b.App {
			return a.App < b.App
		}
		if a.Env != b.Env {
			return a.Env < b.Env
		}
		return a.Seq < b.Seq
	})
	return rep, nil
}

// readChain reads the records of chain k at the given key seqs (ascending)
// and checks each on its own, for verifyChain.
func (l *s3Ledger) readChain(ctx context.Context, k chainKey, seqs []int64) ([]storedRecord, error) {
	keys := make([]string, len(seqs))
	for i, s := range seqs {
		keys[i] = l.recordKey(k.app, k.env, s)
	}
	objs, err := l.getMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	recs := make([]storedRecord, len(seqs))
	for i, seq := range seqs {
		if objs[i] == nil {
			recs[i] = storedRecord{Seq: seq, Gone: true} // deleted during the walk; a versioned bucket reports it
			continue
		}
		recs[i] = storedObject(objs[i], k, seq)
	}
	return recs, nil
}

// storedObject is the object at key seq of chain k as Verify's walk of its
// chain takes it, checked on its own.
func storedObject(obj []byte, k chainKey, seq int64) storedRecord {
	rec, self, ok := checkObjectSelf(obj, k, seq)
	r := storedRecord{Seq: seq, Hash: rec.Hash, Self: self, NoLink: !ok}
	if ok {
		r.ID, r.PrevHash = rec.ID, rec.PrevHash
	}
	return r
}

// checkObjectSelf checks the object at key seq of chain k on its own: its
// body against its stored hash, and its key against the body. It returns the
// record the object holds (Hash the stored hash) or, if it holds none (ok
// false), one made of what the key and object say.
func checkObjectSelf(obj []byte, k chainKey, seq int64) (rec Record, msgs []string, ok bool) {
	body, hash, err := decodeObject(obj)
	if err != nil {
		return Record{App: k.app, Env: k.env, Seq: seq}, []string{fmt.Sprintf("object is not a stored record: %v", err)}, false
	}
	if rec, msgs, ok = checkBody(body, hash); !ok {
		return Record{App: k.app, Env: k.env, Seq: seq, Hash: hash}, msgs, false
	}
	if rec.Seq != seq || rec.App != k.app || rec.Env != k.env {
		msgs = append(msgs, fmt.Sprintf("key says %s in %s seq %d but the record says %s in %s seq %d: "+
			"the record was moved (reordered, or displaced by an insertion)", k.app, k.env, seq, rec.App, rec.Env, rec.Seq))
	}
	return rec, msgs, true
}

// hintedChains lists the chains that have a head hint.
func (l *s3Ledger) hintedChains(ctx context.Context) (map[chainKey]bool, error) {
	out := map[chainKey]bool{}
	err := l.list(ctx, l.hintsPrefix(""), func(key string) error {
		if k, ok := l.hintKeyParts(key); ok {
			out[k] = true
		}
		return nil
	})
	return out, err
}

// checkHint compares a chain's head hint with its records as stored. A hint
// behind the last record is normal (a writer died before moving it).
func (l *s3Ledger) checkHint(ctx context.Context, k chainKey, recs []storedRecord) *Problem {
	h, err := l.readHint(ctx, k.app, k.env)
	if err != nil || h.Seq == 0 {
		return nil // a missing hint is healed by Head, not a sign of tampering
	}
	var last int64
	stored := ""
	for _, r := range recs {
		if r.Gone {
			continue
		}
		last = r.Seq
		if r.Seq == h.Seq {
			stored = r.Hash
		}
	}
	if h.Seq > last {
		return &Problem{App: k.app, Env: k.env, Seq: h.Seq, Msg: fmt.Sprintf(
			"head hint names seq %d but the chain ends at seq %d: records were deleted from its end", h.Seq, last)}
	}
	if stored != "" {
		if m := hintProblem(Head{Seq: h.Seq, Hash: h.Hash}, h.Seq, stored); m != "" {
			return &Problem{App: k.app, Env: k.env, Seq: h.Seq, Msg: m}
		}
	}
	return nil
}
