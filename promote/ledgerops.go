package promote

import (
	"context"
	"fmt"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// LedgerCopy is what CopyLedger did.
type LedgerCopy struct {
	From, To string
	Records  int // copied, whether or not the copy then failed
}

// CopyLedger copies every record of the ledger at location from into the
// one at location to (a file path or s3://bucket/prefix; its chains must be
// empty), hashes and chains intact (ledger.Copy). It needs no
// configuration. The source is only read (a mistyped path creates
// nothing), and one that holds no records is a usage error. The result is
// nil when either ledger could not be opened.
func CopyLedger(ctx context.Context, from, to string) (*LedgerCopy, error) {
	src, err := ledger.OpenReadOnly(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", from, err)
	}
	defer src.Close()
	if some, err := src.Records(ctx, ledger.Query{Limit: 1}); err != nil {
		return nil, fmt.Errorf("reading %s: %w", from, err)
	} else if len(some) == 0 {
		return nil, errs.Usagef("ledger copy: %s holds no records, so there is nothing to copy; check --from", from)
	}
	dst, err := ledger.Open(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", to, err)
	}
	defer dst.Close()
	n, err := ledger.Copy(ctx, src, dst)
	return &LedgerCopy{From: from, To: to, Records: n}, err
}

// CheckLedger reports whether the ledger's storage keeps records WORM
// (write once, read many); a backend without such settings is an error
// that says so.
func (r *Reader) CheckLedger(ctx context.Context) (ledger.CheckReport, error) {
	return ledger.Check(ctx, r.led)
}
