package ledger

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

var (
	_ Log      = (*s3Ledger)(nil)
	_ Upgrader = (*s3Ledger)(nil)
)

// Upgrade logs every record the log does not hold: those of a ledger
// written before the log, and those whose writer stopped between storing
// the record and logging it. It reads every leaf, writes the log/ids object
// of any leaf that lacks one, lists every record and reads those no leaf
// names, logs those that no leaf logs (by id) in the order they were
// appended (appendOrder), and, with a key, signs the checkpoint of the
// whole log. Records and their hashes are kept as they are. Two upgrades,
// or an upgrade and appends, may run at once: no record is logged twice
// (see logWriter).
//
// With a key, it first checks the log as an append does (checkTree) and
// logs a record only if its intent verifies (authenticRecords), refusing
// with ErrLogTampered, before it logs anything, a log whose leaves or
// records a writer without the key added. A log that holds leaves or
// records and no checkpoint, and whose records do not all carry intents
// (a ledger that had no key), is signed only with o.SignUnsigned: then
// nothing is checked, a person having checked it against what they kept.
// With a checkpoint, o.SignUnsigned changes nothing.
//
// Cost: one LIST per 1000 leaves, log ids and records, one GET per leaf
// and per record not logged, l.workers at a time, then two PUTs per record
// logged: its leaf, one after the other (each leaf's stored hashes depend
// on the leaves before it), and its log id, in parallel. With a key, the
// newest checkpoint, and one GET per record not logged and per leaf after
// that checkpoint (its intent) and per leaf after it (its record).
func (l *s3Ledger) Upgrade(ctx context.Context, o UpgradeOptions) (Upgraded, error) {
	if err := l.writable("upgrading", l); err != nil {
		return Upgraded{}, err
	}
	vkey, err := l.logKey(ctx)
	if err != nil {
		return Upgraded{}, fmt.Errorf("upgrading ledger %s: %w", l, err)
	}
	if err := l.checkKey(vkey, l.String()); err != nil {
		return Upgraded{}, err
	}
	up, err := l.upgrade(ctx, o.SignUnsigned)
	if err != nil {
		return Upgraded{}, fmt.Errorf("upgrading ledger %s: %w", l, err)
	}
	return up, nil
}

// upgrade is Upgrade once the key is checked; signUnsigned is its option.
func (l *s3Ledger) upgrade(ctx context.Context, signUnsigned bool) (Upgraded, error) {
	keyed := l.logSigner.key != nil
	var base []byte
	if keyed {
		// The newest checkpoint, before the leaves: it signs no more of
		// them than the scan finds, however many writers add more meanwhile.
		h, err := l.readLogHint(ctx)
		if err == nil {
			base, err = l.newestCheckpoint(ctx, h.Size)
		}
		if err != nil {
			return Upgraded{}, fmt.Errorf("reading the log's checkpoint: %w", err)
		}
	}
	size, seen, named, err := l.scanLog(ctx)
	if err != nil {
		return Upgraded{}, err
	}
	recs, err := l.storedRecords(ctx, func(key string) bool { return !named[key] })
	if err != nil {
		return Upgraded{}, err
	}
	var todo []loggable
	for _, s := range appendOrder(recs) {
		if _, ok := seen[s.rec.ID]; !ok {
			todo = append(todo, s)
		}
	}
	trust := false
	if keyed {
		trust = signUnsigned && base == nil
		if err := l.checkTree(ctx, base, signing{Size: size, Before: size}, 0, nil, trust); err != nil {
			return Upgraded{}, err
		}
		if !trust {
			err := l.authenticRecords(ctx, todo)
			if base == nil {
				err = l.unsignedErr(fmt.Sprintf("%s (and %s)", leaves(size), count(len(todo), "record no leaf logs",
					"records no leaf logs")), err)
			} else {
				err = l.tamperedErr(err)
			}
			if err != nil {
				return Upgraded{}, err
			}
		}
	}
	if err := l.putMissingIDs(ctx, seen); err != nil {
		return Upgraded{}, err
	}
	var up Upgraded
	w := logWriter{l: l, next: size, seen: seen}
	ids, idsCtx := errgroup.WithContext(ctx)
	ids.SetLimit(l.workers)
	for _, s := range todo {
		n, added, err := w.add(ctx, s.rec, s.key, s.body)
		if err != nil {
			return Upgraded{}, errors.Join(err, ids.Wait())
		}
		if added {
			up.Logged++
			ids.Go(func() error { return l.putLogID(idsCtx, s.rec.ID, n) })
		}
	}
	if err := ids.Wait(); err != nil {
		return Upgraded{}, err
	}
	up.Size = w.next
	if keyed && !trust {
		// The leaves other writers added meanwhile, and the tree as grown.
		if err := l.checkTree(ctx, base, signing{Size: up.Size, Before: up.Size}, size, w.mine, false); err != nil {
			return Upgraded{}, err
		}
	}
	if err := l.signTree(ctx, up.Size); err != nil {
		return Upgraded{}, err
	}
	up.Signed = keyed && up.Size > 0
	l.moveLogHint(ctx, up.Size)
	return up, nil
}

// loggable is a record as its object stores it: Hash the stored hash,
// body the bytes the hash and the leaf cover, key the object's key.
type loggable struct {
	rec  Record
	key  string
	body []byte
}

// storedRecords reads the record objects whose keys read accepts, and
// returns those that hold a record; objects that do not (Verify reports
// them) are left out of the log.
func (l *s3Ledger) storedRecords(ctx context.Context, read func(key string) bool) ([]loggable, error) {
	var keys []string
	objs, err := l.listRead(ctx, l.recordsPrefix("", ""), func(key string) bool {
		_, _, _, ok := l.recordKeyParts(key)
		if ok = ok && read(key); ok {
			keys = append(keys, key)
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	out := make([]loggable, 0, len(objs))
	for i, obj := range objs {
		body, hash, err := decodeObject(obj)
		if err != nil {
			continue // not a record, or deleted since the listing
		}
		var rec Record
		if json.Unmarshal(body, &rec) != nil || rec.ID == "" {
			continue
		}
		rec.Hash = hash
		out = append(out, loggable{rec: rec, key: keys[i], body: body})
	}
	return out, nil
}

// appendOrder orders records as they were appended: each chain in seq
// order, the chains merged by record time (then app, env). Sorting by time
// alone would do the same, but for a chain whose clocks went backwards,
// whose seq order it would break.
func appendOrder(recs []loggable) []loggable {
	chains := map[chainKey][]loggable{}
	for _, s := range recs {
		k := chainKey{s.rec.App, s.rec.Env}
		chains[k] = append(chains[k], s)
	}
	h := &chainHeap{}
	for _, c := range chains {
		slices.SortStableFunc(c, func(a, b loggable) int { return cmp.Compare(a.rec.Seq, b.rec.Seq) })
		*h = append(*h, c)
	}
	heap.Init(h)
	out := make([]loggable, 0, len(recs))
	for h.Len() > 0 {
		c := (*h)[0]
		out = append(out, c[0])
		if len(c) == 1 {
			heap.Pop(h)
		} else {
			(*h)[0] = c[1:]
			heap.Fix(h, 0)
		}
	}
	return out
}

// chainHeap holds the records of each chain not yet ordered, the chain
// whose next record comes first on top.
type chainHeap [][]loggable

func (h chainHeap) Len() int { return len(h) }
func (h chainHeap) Less(i, j int) bool {
	a, b := h[i][0].rec, h[j][0].rec
	if c := a.Time.Compare(b.Time); c != 0 {
		return c < 0
	}
	return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Env, b.Env), cmp.Compare(a.Seq, b.Seq)) < 0
}
func (h chainHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *chainHeap) Push(x any)   { *h = append(*h, x.([]loggable)) }
func (h *chainHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// scanLog lists and reads every leaf: the log's size (one more than the
// highest leaf), for each record id logged its first leaf, and the keys of
// the record objects the leaves name.
func (l *s3Ledger) scanLog(ctx context.Context) (int64, map[string]int64, map[string]bool, error) {
	seen, named := map[string]int64{}, map[string]bool{}
	size, err := l.listLog(ctx, 0, func(n int64, lf *s3Leaf) {
		if _, ok := seen[lf.ID]; !ok {
			seen[lf.ID] = n
		}
		named[lf.Record] = true
	})
	return size, seen, named, err
}

// putMissingIDs writes the log/ids object of every logged record that has
// none: a writer stopped between its leaf and its log id.
func (l *s3Ledger) putMissingIDs(ctx context.Context, logged map[string]int64) error {
	have := map[string]bool{}
	if err := l.list(ctx, l.key("log", "ids")+"/", func(key string) error {
		have[key] = true
		return nil
	}); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.workers)
	for id, n := range logged {
		if !have[l.logIDKey(id)] {
			g.Go(func() error { return l.putLogID(gctx, id, n) })
		}
	}
	return g.Wait()
}

// otherRecords reports whether the ledger holds a record other than the
// one at key own: one LIST of at most two keys.
func (l *s3Ledger) otherRecords(ctx context.Context, own string) (bool, error) {
	prefix := l.recordsPrefix("", "")
	out, err := l.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &l.bucket, Prefix: &prefix, MaxKeys: aws.Int32(2)})
	if err != nil {
		return false, fmt.Errorf("listing %s: %w", l.url(prefix), classify(err))
	}
	for _, o := range out.Contents {
		if k := aws.ToString(o.Key); k != own {
			if _, _, _, ok := l.recordKeyParts(k); ok {
				return true, nil
			}
		}
	}
	return false, nil
}
