package promote

import (
	"context"
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// requireTampered asserts that err refuses a record that does not check out
// and sends the user to `promote ledger verify`.
func requireTampered(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, ledger.ErrTampered)
	assert.Contains(t, err.Error(), "promote ledger verify")
	var pe *PathError
	assert.False(t, errors.As(err, &pe), "not a path violation: the ledger cannot say: %v", err)
	assert.NotErrorIs(t, err, errs.ErrNotFound)
}

// A rejected attempt at test whose record is made to read "promotion" must
// not open the path to prod: the promotion fails, naming ledger verify, and
// prod receives nothing.
func TestPathCheckTrustsOnlyRecordsThatCheckOut(t *testing.T) {
	for _, b := range ledgerBackends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				tamper func(t *testing.T, ed ledgerEditor)
			}{
				{"kind index edited", func(t *testing.T, ed ledgerEditor) {
					ed.editIndex(t, "web", "test", 1, "kind", string(ledger.KindPromotion))
				}},
				{"rewritten and re-hashed", func(t *testing.T, ed ledgerEditor) {
					ed.rewrite(t, "web", "test", 1, func(r *ledger.Record) {
						r.Kind, r.Rejection = ledger.KindPromotion, ""
					})
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					w := newWorld(t, b.opts...)
					ed := w.editor()
					e := w.engine()
					// It runs as root: test's nonroot gate rejects it; prod only asks for labels.
					img := regtest.Image(t, 1, regtest.Labels("1.0"), "")
					bad := regtest.Push(t, w.dev("web")+":root", img)
					_, err := w.promote(e, "test", "web:root")
					require.ErrorIs(t, err, errs.ErrGateRejected)
					w.push("web", "1.1", "1.1")
					_, err = w.promote(e, "test", "web:1.1") // a record after the rejection
					require.NoError(t, err)

					// Someone with write access to test's repository puts it there:
					// only the ledger says whether it passed test's gates.
					regtest.Push(t, w.test("web")+":sneaked", img)
					tc.tamper(t, ed)
					w.b.Requests()
					_, err = w.promote(w.engine(), "prod", "web@"+bad.String())
					requireTampered(t, err)
					assert.Empty(t, regtest.Writes(w.b.Requests()), "nothing written to prod")
					assert.Empty(t, w.tags(w.prod("web")))
				})
			}
		})
	}
}

// What an environment holds is read from a record that checks out, or not
// at all: `current`, a promotion of APP alone from it, and a rollback in it
// refuse a current record whose digest index or body was edited.
func TestCurrentTrustsOnlyRecordsThatCheckOut(t *testing.T) {
	for _, b := range ledgerBackends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				tamper func(t *testing.T, ed ledgerEditor, d1, d2 v1.Hash)
			}{
				{"digest index edited", func(t *testing.T, ed ledgerEditor, d1, _ v1.Hash) {
					ed.editIndex(t, "web", "test", 2, "digest", d1.String())
				}},
				{"body edited", func(t *testing.T, ed ledgerEditor, d1, d2 v1.Hash) {
					ed.editBody(t, "web", "test", 2, `"digest":"`+d2.String(), `"digest":"`+d1.String())
				}},
				{"current hidden as rejected, index and body", func(t *testing.T, ed ledgerEditor, _, _ v1.Hash) {
					ed.editIndex(t, "web", "test", 2, "kind", string(ledger.KindRejected))
					if _, sqlite := ed.(*sqliteEditor); sqlite { // on S3 the index is the body
						ed.editBody(t, "web", "test", 2, `"kind":"promotion"`, `"kind":"rejected"`)
					}
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					w := newWorld(t, b.opts...)
					ed := w.editor()
					e := w.engine()
					d1, d2 := w.push("web", "1.0", "1.0"), w.push("web", "2.0", "2.0")
					for _, ref := range []string{"web:1.0", "web:2.0"} {
						_, err := w.promote(e, "test", ref)
						require.NoError(t, err)
					}
					tc.tamper(t, ed, d1, d2)

					e = w.engine()
					_, err := e.Current(ctx, "test", "web")
					requireTampered(t, err)
					w.b.Requests()
					_, err = w.promote(e, "prod", "web")
					requireTampered(t, err)
					assert.Empty(t, regtest.Writes(w.b.Requests()), "nothing written to prod")
					_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web"})
					requireTampered(t, err)
				})
			}
		})
	}
}

// A rollback returns only to a digest that a record which checks out shows
// the environment held: not to one whose record's digest index was edited,
// nor through a record whose body was edited.
func TestRollbackTargetsTrustOnlyRecordsThatCheckOut(t *testing.T) {
	for _, b := range ledgerBackends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, b.opts...)
			ed := w.editor()
			e := w.engine()
			d1, d2, d3 := w.push("web", "1.0", "1.0"), w.push("web", "2.0", "2.0"), w.push("web", "3.0", "3.0")
			for _, ref := range []string{"web:1.0", "web:2.0", "web:3.0"} {
				_, err := w.promote(e, "test", ref)
				require.NoError(t, err)
			}
			never := w.push("web", "4.0", "4.0") // in dev only, never promoted to test
			seq2 := w.records(ledger.Query{App: "web", Env: "test", Digest: d2.String()})[0].ID

			ed.editIndex(t, "web", "test", 1, "digest", never.String())
			ed.editBody(t, "web", "test", 2, `"identity":"test"`, `"identity":"mallory"`)

			e = w.engine()
			_, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: never.String()})
			requireTampered(t, err)
			_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web"}) // back to d2
			requireTampered(t, err)
			_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: seq2})
			requireTampered(t, err)
			_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: d1.String()})
			requireTampered(t, err)

			cur, err := e.Current(ctx, "test", "web")
			require.NoError(t, err, "the current record still checks out")
			assert.Equal(t, d3.String(), cur.Digest, "no rollback happened")
		})
	}
}
