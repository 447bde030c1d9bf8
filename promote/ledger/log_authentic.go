package ledger

import (
	"context"
	"errors"
	"fmt"
)

// Authentic checks that rec, as read, is what the ledger key's holder
// wrote, before anyone acts on it: it is proven included (an inclusion
// proof over the stored tree) in the newest checkpoint signed with vkey,
// as the very body stored; or, after that checkpoint, it is a record a
// writer with the key stored and has not signed over yet (on S3, its
// signed intent; SQLite has no such window). A record rewritten in place
// with fresh hashes, or added behind the log's back, fails, with an error
// wrapping ErrLogTampered. Without vkey, or on a ledger that signs no
// checkpoint, there is nothing to check against and rec passes.
func Authentic(ctx context.Context, l Ledger, rec Record, vkey string) error {
	if vkey == "" {
		return nil
	}
	p, err := Prove(ctx, l, rec.ID, vkey)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return nil
	case errors.Is(err, ErrNotLogged), errors.Is(err, ErrNotSigned):
		return tailAuthentic(ctx, l, rec)
	case errors.Is(err, ErrLogTampered):
		return fmt.Errorf("%w: record %s (%s in %s, seq %d) is not proven in the newest signed checkpoint: "+
			"it was changed after it was logged; audit with promote ledger verify (%v)", ErrLogTampered, rec.ID, rec.App, rec.Env, rec.Seq, err)
	case err != nil:
		return err
	case HashBody(p.Record) != rec.Hash:
		return fmt.Errorf("%w: record %s (%s in %s, seq %d) is not the record leaf %d logs", ErrLogTampered, rec.ID, rec.App, rec.Env, rec.Seq, p.LeafIndex)
	}
	return nil
}

// TailAuthenticator is a backend where a writer with the key can leave a
// record that no checkpoint covers yet (S3, a writer that died before it
// signed), and that can tell such a record from a forged one.
type TailAuthenticator interface {
	// AuthenticTail returns nil if rec was stored by a writer with the
	// key, an error wrapping ErrLogTampered if not.
	AuthenticTail(ctx context.Context, rec Record) error
}

// AuthenticTail checks rec's signed intent.
func (l *s3Ledger) AuthenticTail(ctx context.Context, rec Record) error {
	if err := l.authenticRecord(ctx, l.recordKey(rec.App, rec.Env, rec.Seq)); err != nil {
		return fmt.Errorf("%w: %v", ErrLogTampered, err)
	}
	return nil
}

// tailAuthentic checks a record that no signed checkpoint covers yet.
func tailAuthentic(ctx context.Context, l Ledger, rec Record) error {
	if t, ok := l.(TailAuthenticator); ok {
		return t.AuthenticTail(ctx, rec)
	}
	return fmt.Errorf("%w: record %s (%s in %s, seq %d) is in no signed checkpoint: it was added without the ledger key; "+
		"audit with promote ledger verify", ErrLogTampered, rec.ID, rec.App, rec.Env, rec.Seq)
}
