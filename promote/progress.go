package promote

// Progress hears how copies go, for a person watching a terminal. Copies
// of a batch run at once: each reports to its own CopyProgress.
type Progress interface {
	// Start: a copy into the target repository begins with these blobs
	// (mounts and copies; those the target holds are left out).
	Start(target string, blobs []BlobStep) CopyProgress
}

// CopyProgress hears one copy. Calls come from several goroutines at once.
type CopyProgress interface {
	// Bytes: done bytes of the blob of digest d have streamed in its
	// current attempt (a restarted upload counts again from 0).
	Bytes(d string, done int64)
	// Done: the blob of digest d is in the target (err nil) or failed.
	Done(d string, err error)
	// Finish: the copy ended; nothing more follows for it.
	Finish()
}

// WithProgress reports each copy to p (nil: none).
func WithProgress(p Progress) Option {
	return func(e *Engine) error { e.progress = p; return nil }
}

// moving lists the blobs of p a copy moves.
func moving(p *Plan) []BlobStep {
	var out []BlobStep
	for _, b := range p.Blobs {
		if b.Action != ActPresent {
			out = append(out, b)
		}
	}
	return out
}
