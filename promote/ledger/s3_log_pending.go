package ledger

import (
	"context"
	"errors"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// PENDING: replaced by the S3 log (s3log branch).
var errS3NoLog = errors.New("the S3 ledger keeps no log yet")

func (l *s3Ledger) LogSize(context.Context) (int64, error)                   { return 0, errS3NoLog }
func (l *s3Ledger) Leaves(context.Context, int64, int64, func(Leaf) error) error { return errS3NoLog }
func (l *s3Ledger) LeafIndex(context.Context, string) (int64, error)         { return 0, errS3NoLog }
func (l *s3Ledger) TreeHashes(context.Context, []int64) ([]merkle.Hash, error) {
	return nil, errS3NoLog
}
func (l *s3Ledger) Checkpoint(context.Context) ([]byte, error)              { return nil, errS3NoLog }
func (l *s3Ledger) Checkpoints(context.Context, func([]byte) error) error { return errS3NoLog }
func (l *s3Ledger) Upgrade(context.Context) (Upgraded, error)             { return Upgraded{}, errS3NoLog }
