package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Finding the end of the S3 log. log/head.json holds a size hint, moved
// forward after each append like the chains' head hints; the leaves are
// the truth: the size is found by checking that the hinted last leaf
// exists and probing the leaves after it until one is absent (a writer
// does not probe: its create-only writes find the end).

// logHint is the log size hint object as read (with its ETag) or written.
type logHint struct {
	Size int64  `json:"size"`
	etag string // "" if the object does not exist
}

// readLogHint reads log/head.json; a missing or unreadable hint is the
// zero hint (an unreadable one keeps its ETag, so it can be replaced).
func (l *s3Ledger) readLogHint(ctx context.Context) (logHint, error) {
	data, etag, err := l.get(ctx, l.logHintKey())
	if errors.Is(err, errNoObject) {
		data, err = nil, nil
	}
	if err != nil {
		return logHint{}, err
	}
	var h logHint
	if data != nil && (json.Unmarshal(data, &h) != nil || h.Size < 0) {
		h = logHint{}
	}
	h.etag = etag
	l.mu.Lock()
	l.log.hint, l.log.hintKnown = h, true
	l.mu.Unlock()
	return h, nil
}

// moveLogHint moves the log size hint forward to size, with If-Match on
// its ETag (If-None-Match when there is none), retrying a few times while
// another writer moves it too. It never moves the hint back, and a failure
// is not an error. A read-only ledger leaves the hint as it is.
func (l *s3Ledger) moveLogHint(ctx context.Context, size int64) {
	if l.readOnly {
		return
	}
	data, _ := json.Marshal(logHint{Size: size})
	l.mu.Lock()
	h, cached := l.log.hint, l.log.hintKnown
	l.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		if !cached {
			var err error
			if h, err = l.readLogHint(ctx); err != nil {
				return
			}
		}
		if h.Size >= size {
			return
		}
		etag, err := l.put(ctx, l.logHintKey(), data, putCond{create: h.etag == "", ifMatch: h.etag})
		if err == nil {
			l.mu.Lock()
			l.log.hint, l.log.hintKnown = logHint{Size: size, etag: etag}, true
			l.mu.Unlock()
			return
		}
		if !errors.Is(err, errCondition) && !errors.Is(err, errNoObject) {
			return
		}
		cached = false
	}
}

// walkLog returns the size of the log, reading every leaf from index from
// on and calling seen (if not nil) with each that decodes. from is a size
// the log had (a hint): leaf from-1 must exist. If it does not (a hint
// beyond the log, or from 0), the leaves are listed instead: the size is
// then one more than the highest leaf, gaps included. Unless probe is set,
// the leaves after from are not read, and from is returned as the size: a
// writer learns of them as it loses the create-only writes of their keys,
// which costs nothing when the hint is current.
func (l *s3Ledger) walkLog(ctx context.Context, from int64, probe bool, seen func(n int64, lf *s3Leaf)) (int64, error) {
	if seen == nil {
		seen = func(int64, *s3Leaf) {}
	}
	if from > 0 {
		idx := []int64{from - 1}
		if probe {
			idx = append(idx, from)
		}
		reads, err := l.readLeaves(ctx, idx, false)
		if err != nil {
			return 0, err
		}
		if !probe && exists(reads[0]) {
			return from, nil
		}
		if exists(reads[0]) {
			n, r := from, reads[1]
			for exists(r) {
				if r.leaf != nil {
					seen(n, r.leaf)
				}
				n++
				next, err := l.readLeaves(ctx, []int64{n}, false)
				if err != nil {
					return 0, err
				}
				r = next[0]
			}
			return n, nil
		}
	}
	return l.listLog(ctx, from, seen)
}

// exists reports whether a leaf object was read, a leaf or not.
func exists(r leafRead) bool { return r.leaf != nil || r.err != nil }

// listLog finds the size of the log by listing its leaves, then reads the
// leaves from index from on for seen.
func (l *s3Ledger) listLog(ctx context.Context, from int64, seen func(n int64, lf *s3Leaf)) (int64, error) {
	var idx []int64
	err := l.list(ctx, l.key("log", "leaves")+"/", func(key string) error {
		if n, ok := l.leafKeyIndex(key); ok {
			idx = append(idx, n)
		}
		return nil
	})
	if err != nil || len(idx) == 0 {
		return 0, err
	}
	size := slices.Max(idx) + 1
	var tail []int64
	for _, n := range idx {
		if n >= from {
			tail = append(tail, n)
		}
	}
	reads, err := l.readLeaves(ctx, tail, false)
	if err != nil {
		return 0, err
	}
	for i, r := range reads {
		if r.leaf != nil {
			seen(tail[i], r.leaf)
		}
	}
	return size, nil
}

// LogSize returns the number of leaves: the size hint, checked and probed
// past; a writable ledger moves a hint that lags forward.
func (l *s3Ledger) LogSize(ctx context.Context) (int64, error) {
	h, err := l.readLogHint(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the log of ledger %s: %w", l, err)
	}
	size, err := l.walkLog(ctx, h.Size, true, nil)
	if err != nil {
		return 0, fmt.Errorf("reading the log of ledger %s: %w", l, err)
	}
	if size > h.Size {
		l.moveLogHint(ctx, size)
	}
	return size, nil
}
