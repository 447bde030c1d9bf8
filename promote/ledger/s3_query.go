package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/promote-dev/promote/errs"
)

// RecordsChecked returns the records matching q, newest first, decoded from
// their objects with Hash the stored hash, each checked: its body hashes to
// its stored hash, its key names the chain and seq its body says, it links to
// the records beside it, and the chain's head hint, where it names the
// record, has its hash. A record whose body does not check on its own is
// returned whatever q says, since its body cannot say whether it matches.
//
// Cost: with App and Env both set (what `current`, rollback and the path
// check ask), it reads the head hint, then the hinted record, the one after
// it (none, normally) and the one before it together, and walks down from
// there l.workers records at a time, stopping as soon as Offset+Limit
// records were returned: `current` costs four GETs in two round trips. Any
// other query lists the hints and keys under heads/ and records/ (narrowed
// to one app when App is set) and reads every hint and record of the
// matching chains: one GET per record, so a history across chains of a
// large ledger is slow; page it with Limit and filter by app.
func (l *s3Ledger) RecordsChecked(ctx context.Context, q Query) ([]Checked, error) {
	var recs []Checked
	var err error
	if q.App != "" && q.Env != "" {
		recs, err = l.chainRecords(ctx, q)
	} else {
		recs, err = l.scanRecords(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("querying ledger %s: %w", l, err)
	}
	if q.Offset >= len(recs) {
		return nil, nil
	}
	recs = recs[q.Offset:]
	if q.Limit > 0 && len(recs) > q.Limit {
		recs = recs[:q.Limit]
	}
	return recs, nil
}

// chainRecords walks one chain from its head down and returns the records
// it selects, seq descending, stopping once Offset+Limit were selected.
func (l *s3Ledger) chainRecords(ctx context.Context, q Query) ([]Checked, error) {
	k := chainKey{q.App, q.Env}
	top, objs, hint, err := l.chainTop(ctx, k)
	if err != nil || top == 0 {
		return nil, err
	}
	var out []Checked
	next := top - int64(len(objs)) // the highest seq not read yet
	for i := 0; int64(i) < top; i++ {
		seq := top - int64(i)
		if seq > 1 && i+1 >= len(objs) { // the record before it is needed: read on
			n := min(int64(l.workers), next)
			keys := make([]string, n)
			for j := range keys {
				keys[j] = l.recordKey(k.app, k.env, next-int64(j))
			}
			more, err := l.getMany(ctx, keys)
			if err != nil {
				return nil, err
			}
			objs, next = append(objs, more...), next-n
		}
		if objs[i] == nil {
			continue // a missing record: the records beside it say so
		}
		n := neighbours{hint: hint, last: i == 0}
		if i > 0 {
			n.setAfter(objs[i-1], true)
		}
		if seq > 1 {
			n.setBefore(objs[i+1])
		}
		if c, selfOK := checkObject(objs[i], k, seq, n); selects(q, c, selfOK) {
			out = append(out, c)
			if q.Limit > 0 && len(out) >= q.Offset+q.Limit {
				break
			}
		}
	}
	return out, nil
}

// chainTop returns the seq of the chain's newest record (0 if the chain is
// empty), the objects from it down (it and the one before it, at least),
// and the chain's head hint as read before them.
func (l *s3Ledger) chainTop(ctx context.Context, k chainKey) (int64, [][]byte, Head, error) {
	h, err := l.readHint(ctx, k.app, k.env)
	if err != nil {
		return 0, nil, Head{}, err
	}
	hint := Head{Seq: h.Seq, Hash: h.Hash}
	down := func(top int64, extra ...string) ([][]byte, error) {
		keys := append(extra, l.recordKey(k.app, k.env, top))
		if top > 1 {
			keys = append(keys, l.recordKey(k.app, k.env, top-1))
		}
		return l.getMany(ctx, keys)
	}
	if h.Seq > 0 {
		objs, err := down(h.Seq, l.recordKey(k.app, k.env, h.Seq+1))
		if err != nil {
			return 0, nil, Head{}, err
		}
		if objs[0] == nil && objs[1] != nil {
			return h.Seq, objs[1:], hint, nil
		}
	}
	// No hint, a hint behind the head (a writer died before moving it) or one
	// naming a record that is gone: find the head as Head does.
	head, err := l.headRecord(ctx, k.app, k.env)
	if err != nil || head.Seq == 0 {
		return 0, nil, hint, err
	}
	objs, err := down(head.Seq)
	if err != nil {
		return 0, nil, Head{}, err
	}
	return head.Seq, objs, hint, nil
}

// setBefore records the object of the record before (nil if missing).
func (n *neighbours) setBefore(obj []byte) {
	if obj == nil {
		return
	}
	_, hash, _ := decodeObject(obj)
	n.before, n.hasBefore = hash, true
}

// setAfter records the object of the record after (nil if missing, though
// later records exist when later is set).
func (n *neighbours) setAfter(obj []byte, later bool) {
	n.last = false
	if obj == nil {
		n.afterGone = later
		n.last = !later
		return
	}
	var link struct {
		PrevHash string `json:"prev_hash"`
	}
	if body, _, err := decodeObject(obj); err == nil {
		_ = json.Unmarshal(body, &link)
	}
	n.afterPrev, n.hasAfter = link.PrevHash, true
}

// checkObject checks the object at key seq of chain k against its
// neighbours; selfOK says whether it checks out on its own.
func checkObject(obj []byte, k chainKey, seq int64, n neighbours) (c Checked, selfOK bool) {
	rec, msgs, _ := checkObjectSelf(obj, k, seq)
	selfOK = len(msgs) == 0
	return newChecked(rec, append(msgs, n.problems(seq, rec.PrevHash, rec.Hash)...)), selfOK
}

// selects reports whether a read returns c for q: when it matches, or when
// its body does not check out on its own and so cannot say whether it does.
func selects(q Query, c Checked, selfOK bool) bool { return !selfOK || q.Matches(c.Record) }

// scanRecords reads every record of the chains q selects and returns those
// it selects, newest first: by time, then seq, both descending.
func (l *s3Ledger) scanRecords(ctx context.Context, q Query) ([]Checked, error) {
	hints, err := l.readHints(ctx, q.App) // before the records: a hint never runs ahead of them
	if err != nil {
		return nil, err
	}
	type stored struct {
		k   chainKey
		seq int64
	}
	var at []stored
	objs, err := l.listRead(ctx, l.recordsPrefix(q.App, ""), func(key string) bool {
		app, env, seq, ok := l.recordKeyParts(key)
		if ok = ok && (q.App == "" || app == q.App) && (q.Env == "" || env == q.Env); ok {
			at = append(at, stored{chainKey{app, env}, seq})
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	chains := map[chainKey]map[int64][]byte{}
	tops := map[chainKey]int64{}
	for i, s := range at {
		if chains[s.k] == nil {
			chains[s.k] = map[int64][]byte{}
		}
		chains[s.k][s.seq] = objs[i]
		tops[s.k] = max(tops[s.k], s.seq)
	}
	var out []Checked
	for i, s := range at {
		if objs[i] == nil {
			continue // deleted since the listing
		}
		n := neighbours{hint: hints[s.k], last: s.seq == tops[s.k]}
		if !n.last {
			n.setAfter(chains[s.k][s.seq+1], true)
		}
		if s.seq > 1 {
			n.setBefore(chains[s.k][s.seq-1])
		}
		if c, selfOK := checkObject(objs[i], s.k, s.seq, n); selects(q, c, selfOK) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case !a.Time.Equal(b.Time):
			return a.Time.After(b.Time)
		case a.Seq != b.Seq:
			return a.Seq > b.Seq
		case a.App != b.App:
			return a.App < b.App
		}
		return a.Env < b.Env
	})
	return out, nil
}

// readHints reads the head hints of every chain (of app, if given).
func (l *s3Ledger) readHints(ctx context.Context, app string) (map[chainKey]Head, error) {
	var chains []chainKey
	objs, err := l.listRead(ctx, l.hintsPrefix(app), func(key string) bool {
		k, ok := l.hintKeyParts(key)
		if ok {
			chains = append(chains, k)
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	out := map[chainKey]Head{}
	for i, obj := range objs {
		var h hint
		if obj != nil && json.Unmarshal(obj, &h) == nil && h.Seq > 0 {
			out[chains[i]] = Head{Seq: h.Seq, Hash: h.Hash}
		}
	}
	return out, nil
}

// GetChecked returns the record with the given id through its index object
// ids/<id>, checked like RecordsChecked, or an error wrapping errs.ErrNotFound.
// It never scans: a record whose index is missing (written by hand, or its
// index deleted) is found by Records and Verify, not by Get. Cost: the
// index, the chain's hint, then the record and the two beside it together.
func (l *s3Ledger) GetChecked(ctx context.Context, id string) (Checked, error) {
	notFound := fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	data, _, err := l.get(ctx, l.idKey(id))
	if errors.Is(err, errNoObject) {
		return Checked{}, notFound
	}
	if err != nil {
		return Checked{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l, err)
	}
	var ix idIndex
	if json.Unmarshal(data, &ix) != nil {
		return Checked{}, notFound
	}
	app, env, seq, ok := l.recordKeyParts(ix.Record)
	if !ok {
		return Checked{}, notFound
	}
	k := chainKey{app, env}
	h, err := l.readHint(ctx, app, env)
	if err != nil {
		return Checked{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l, err)
	}
	keys := []string{l.recordKey(app, env, seq+1), l.recordKey(app, env, seq), l.recordKey(app, env, seq-1)}
	if seq == 1 {
		keys = keys[:2]
	}
	objs, err := l.getMany(ctx, keys)
	if err != nil {
		return Checked{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l, err)
	}
	if objs[1] == nil {
		return Checked{}, notFound // the index of an append that lost its race or never finished
	}
	n := neighbours{hint: Head{Seq: h.Seq, Hash: h.Hash}}
	n.setAfter(objs[0], false)
	if seq > 1 {
		n.setBefore(objs[2])
	}
	c, _ := checkObject(objs[1], k, seq, n)
	switch {
	case c.ID == "":
		c.ID = id // not a record at all: name it by the id that led here
	case c.ID != id:
		return Checked{}, notFound // an index that points at another record
	}
	return c, nil
}
