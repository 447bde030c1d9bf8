package ledger

import "strings"

// The walk of Verify, one for every backend: each backend lists and reads
// its chains in its own way, checks each record on its own (body against
// stored hash, its index against the body) as it reads it, and hands every
// chain, in stored seq order, to verifyChain, which checks what only the
// chain as a whole can say: seqs and links.

// storedRecord is one record as its backend stores it, read leniently (a
// tampered record is reported, never a failure of the walk) and already
// checked on its own.
type storedRecord struct {
	ID       string   // the id it is named by in a problem; "" if none is known
	Seq      int64    // the seq it is stored at: SQLite's seq column, S3's key
	SeqErr   string   // why the stored seq cannot be read; the walk then judges it as if in place
	PrevHash string   // the prev_hash it stores
	Hash     string   // its stored hash
	Self     []string // what is wrong with it on its own
	NoLink   bool     // it holds no record, so there is no prev_hash to check
	Gone     bool     // listed, but gone when read: counted, not checked
}

// verifyChain checks the records of the chain of app in env, as stored in
// seq order, and adds them to rep, with a problem for each record whose seq
// does not continue 1, 2, 3… (records are missing, or a seq repeats), whose
// prev_hash is not the stored hash of the record before it (a record before
// it was changed, removed or inserted), or that is wrong on its own (see
// check). A chain with no record adds nothing.
func verifyChain(rep *Report, app, env string, recs []storedRecord) {
	if len(recs) == 0 {
		return
	}
	rep.Chains++
	rep.Records += len(recs)
	var prev Head
	for _, r := range recs {
		if r.Gone {
			continue
		}
		wantSeq := prev.Seq + 1
		if msgs := r.check(wantSeq, prev.Hash); len(msgs) > 0 {
			rep.Problems = append(rep.Problems, Problem{
				App: app, Env: env, Seq: r.Seq, RecordID: r.ID, Msg: strings.Join(msgs, "; "),
			})
		}
		prev = Head{Seq: r.Seq, Hash: r.Hash}
		if r.SeqErr != "" {
			prev.Seq = wantSeq // judge the next record as if this one were in place
		}
	}
}

// check returns what is wrong with r, given the seq it should have and the
// stored hash of the record before it ("" for the first of a chain): its
// seq, then its own problems, then its link.
func (r storedRecord) check(wantSeq int64, wantPrev string) []string {
	var msgs []string
	if r.SeqErr != "" {
		msgs = append(msgs, r.SeqErr)
	} else if m := seqProblem(r.Seq, wantSeq); m != "" {
		msgs = append(msgs, m)
	}
	msgs = append(msgs, r.Self...)
	if m := linkProblem(r.PrevHash, wantPrev); m != "" && !r.NoLink {
		msgs = append(msgs, m)
	}
	return msgs
}
