package promote

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

func TestRollbackDigest(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	)
	cur := &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "prod", Digest: d2, Previous: d1}
	first := &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "prod", Digest: d1}
	rec := func(kind ledger.Kind, app, env string) *ledger.Record {
		return &ledger.Record{Kind: kind, App: app, Env: env, Digest: d3}
	}
	req := func(to string) RollbackRequest { return RollbackRequest{App: "web", Env: "prod", To: to} }
	cases := []struct {
		name    string
		req     RollbackRequest
		cur     *ledger.Record
		named   *ledger.Record // the record --to names, as read
		byID    bool           // --to names a record
		want    string
		wantErr error
		msg     string
	}{
		{name: "no --to: the digest held before", req: req(""), cur: cur, want: d1},
		{name: "no --to and nothing before", req: req(""), cur: first, wantErr: errs.ErrNotFound,
			msg: "not found: prod held nothing before " + d1 + "; pass --to DIGEST|RECORD"},
		{name: "no --to after a rollback: what it replaced", req: req(""),
			cur: &ledger.Record{Kind: ledger.KindRollback, App: "web", Env: "prod", Digest: d1, Previous: d2}, want: d2},
		{name: "--to a digest", req: req(d3), cur: first, want: d3},
		{name: "--to the current digest is chosen (Rollback refuses it later)", req: req(d2), cur: cur, want: d2},
		{name: "--to a promotion record", req: req("rec-9"), cur: cur, named: rec(ledger.KindPromotion, "web", "prod"), byID: true, want: d3},
		{name: "--to a rollback record", req: req("rec-9"), cur: cur, named: rec(ledger.KindRollback, "web", "prod"), byID: true, want: d3},
		{name: "--to a rejection", req: req("rec-9"), cur: cur, named: rec(ledger.KindRejected, "web", "prod"), byID: true,
			wantErr: errs.ErrUsage, msg: "usage error: --to rec-9: record is a rejected of web in prod, not a promotion of web in prod"},
		{name: "--to a record of another app", req: req("rec-9"), cur: cur, named: rec(ledger.KindPromotion, "api", "prod"), byID: true,
			wantErr: errs.ErrUsage, msg: "usage error: --to rec-9: record is a promotion of api in prod, not a promotion of web in prod"},
		{name: "--to a record of another environment", req: req("rec-9"), cur: cur, named: rec(ledger.KindPromotion, "web", "test"), byID: true,
			wantErr: errs.ErrUsage, msg: "usage error: --to rec-9: record is a promotion of web in test, not a promotion of web in prod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.byID, rollbackNamesRecord(c.req))
			got, err := rollbackDigest(c.req, c.cur, c.named)
			if c.wantErr != nil {
				require.ErrorIs(t, err, c.wantErr)
				assert.Equal(t, c.msg, err.Error())
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestRollbackRecord(t *testing.T) {
	req := RollbackRequest{App: "web", Env: "prod"}
	const d = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	promoted := &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "prod", Digest: d, Tags: []string{"1.0"}}

	got, err := rollbackRecord(req, d, promoted)
	require.NoError(t, err)
	assert.Same(t, promoted, got)

	got, err = rollbackRecord(req, d, nil)
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Nil(t, got)
	assert.Equal(t, "conflict: prod never held web@"+d+", so it cannot roll back to it (rollback only returns to a digest promoted there)", err.Error())
}
