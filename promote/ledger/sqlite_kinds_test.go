package ledger

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v2RecordsCheck is the kind constraint of schema version 2.
const v2RecordsCheck = `CHECK (kind IN ('promotion', 'rollback', 'rejected'))`

// writeV2Ledger makes a ledger file as a promote before the release-control
// kinds wrote it: schema version 2, the records table refusing every kind
// but promotion, rollback and rejected.
func writeV2Ledger(t *testing.T, key *Key, n int) (string, []Record) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := OpenWith(context.Background(), path, Options{Key: key})
	require.NoError(t, err)
	recs := loggedHistory(t, l, n)
	require.NoError(t, l.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var table string
	require.NoError(t, db.QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'records'`).Scan(&table))
	old := strings.Replace(table, "CHECK (kind IN ("+sqlKinds()+"))", v2RecordsCheck, 1)
	require.NotEqual(t, table, old)
	var version int
	require.NoError(t, db.QueryRow(`PRAGMA schema_version`).Scan(&version))
	for _, stmt := range []string{`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_schema SET sql = '` + strings.ReplaceAll(old, "'", "''") + `' WHERE name = 'records'`,
		`PRAGMA schema_version = ` + itoa(version+1), `PRAGMA writable_schema = OFF`, `PRAGMA user_version = 2`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	return path, recs
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestLedgerBeforeTheControlKindsIsReadAndRebuiltInPlace(t *testing.T) {
	ctx := context.Background()
	key := testKey(t, "promote.test/kinds")
	path, recs := writeV2Ledger(t, key, 5)

	ro, err := OpenReadOnly(ctx, path)
	require.NoError(t, err, "a read opens a version 2 ledger as it is")
	got, err := ro.Records(ctx, Query{})
	require.NoError(t, err)
	assert.Len(t, got, 5)
	require.NoError(t, ro.Close())

	l, err := OpenWith(ctx, path, Options{Key: key})
	require.NoError(t, err, "a writable open rebuilds the records table")
	defer l.Close()
	freeze := &Record{ID: "freeze-1", Time: t0.Add(timeStep(9)), Kind: KindFreeze, App: AllApps, Env: "prod", Reason: "incident"}
	appendAtHead(t, l, freeze)
	revoke := newRecord("web", AllEnvs, digestN(1), t0.Add(timeStep(10)))
	revoke.Kind = KindRevocation
	appendAtHead(t, l, revoke)
	for _, r := range recs {
		stored, err := l.Get(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, r.Hash, stored.Hash, "no record hash changes")
	}
	rep, err := Audit(ctx, l, AuditOptions{Verifier: key.Public})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep.Problems)
	size, err := l.LogSize(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 7, size)

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var version int
	require.NoError(t, db.QueryRow(`PRAGMA user_version`).Scan(&version))
	assert.Equal(t, schemaVersion, version)
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM history WHERE kind = 'freeze'`).Scan(&n), "the view is back")
	assert.Equal(t, 1, n)
	_, err = db.Exec(`INSERT INTO records (id, app, env, seq, kind, digest, time, prev_hash, hash, body)
		VALUES ('x', 'a', 'b', 1, 'bogus', 'd', 't', '', 'h', '{}')`)
	assert.ErrorContains(t, err, "CHECK constraint failed", "the table still refuses an unknown kind")
	_, err = db.Exec(`DELETE FROM records WHERE id = 'freeze-1'`)
	assert.ErrorContains(t, err, "append-only", "the triggers are back")
}

// The control chains (every app in an environment, an app in every
// environment) are stored, queried, logged and audited like any other, on
// every backend; a freeze names no digest, every other kind must.
func TestControlChainsOnEveryBackend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		key := testKey(t, "promote.test/control")
		l := s.keyed(key)
		loggedHistory(t, l, 3)
		freeze := &Record{ID: "freeze-1", Time: t0.Add(timeStep(5)), Kind: KindFreeze, App: AllApps, Env: AllEnvs, Reason: "holidays"}
		appendAtHead(t, l, freeze)
		unfreeze := &Record{ID: "unfreeze-1", Time: t0.Add(timeStep(6)), Kind: KindUnfreeze, App: AllApps, Env: AllEnvs}
		appendAtHead(t, l, unfreeze)
		revoke := newRecord("web", AllEnvs, digestN(2), t0.Add(timeStep(7)))
		revoke.Kind = KindRevocation
		appendAtHead(t, l, revoke)
		bad := newRecord("web", AllEnvs, "", t0.Add(timeStep(8)))
		bad.Kind = KindRevocation
		head, err := l.Head(ctx, "web", AllEnvs)
		require.NoError(t, err)
		assert.ErrorContains(t, l.Append(ctx, bad, head), "digest is empty", "a revocation names a digest")

		got, err := l.Records(ctx, Query{App: AllApps, Env: AllEnvs})
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, KindUnfreeze, got[0].Kind, "newest first")
		assert.EqualValues(t, 2, got[0].Seq)
		got, err = l.Records(ctx, Query{App: "web"})
		require.NoError(t, err)
		kinds := map[Kind]int{}
		for _, r := range got {
			kinds[r.Kind]++
		}
		assert.Equal(t, 1, kinds[KindRevocation], "an app's records include its revocations")
		rep, err := Audit(ctx, l, AuditOptions{Verifier: key.Public})
		require.NoError(t, err)
		assert.True(t, rep.OK(), "%+v", rep.Problems)
		assert.Equal(t, 6, rep.Records)
	})
}
