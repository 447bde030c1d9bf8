package ledger

import (
	"github.com/stretchr/testify/require"
)

// rebuildLog empties the log tables (dropping their triggers, as anyone
// with write access to the file can) and logs the records ids in order.
func (r *sqliteRaw) rebuildLog(ids []string) {
	r.t.Helper()
	db := r.conn()
	for _, t := range []string{"log_leaves", "log_hashes", "log_checkpoints", "log_key"} {
		for _, stmt := range []string{`DROP TRIGGER IF EXISTS ` + t + `_no_update`, `DROP TRIGGER IF EXISTS ` + t + `_no_delete`, `DELETE FROM ` + t} {
			_, err := db.Exec(stmt)
			require.NoError(r.t, err, stmt)
		}
	}
	var tree memTree
	for n, id := range ids {
		var body []byte
		require.NoError(r.t, db.QueryRow(`SELECT body FROM records WHERE id = ?`, id).Scan(&body), id)
		idx, hashes, err := tree.add(body)
		require.NoError(r.t, err)
		_, err = db.Exec(`INSERT INTO log_leaves (leaf, id) VALUES (?, ?)`, n, id)
		require.NoError(r.t, err)
		for i, x := range idx {
			_, err = db.Exec(`INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`, x, hashes[i][:])
			require.NoError(r.t, err)
		}
	}
}

// appendForged stores rec (re-hashed, after the chain's head) and logs it
// as the log's next leaf, its tree hashes computed as an honest writer
// computes them, and signs nothing: a record added by someone who can
// write the file but does not hold the key.
func (r *sqliteRaw) appendForged(rec Record) {
	r.t.Helper()
	db := r.conn()
	var head Head
	err := db.QueryRow(`SELECT seq, hash FROM records WHERE app = ? AND env = ? ORDER BY seq DESC LIMIT 1`, rec.App, rec.Env).Scan(&head.Seq, &head.Hash)
	require.NoError(r.t, err)
	rec.Seq, rec.PrevHash = head.Seq+1, head.Hash
	body := rehash(r.t, &rec)
	_, err = db.Exec(`INSERT INTO records (id, app, env, seq, kind, digest, time, prev_hash, hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, rec.App, rec.Env, rec.Seq, string(rec.Kind), rec.Digest, rec.Time.Format(timeLayout), rec.PrevHash, rec.Hash, string(body))
	require.NoError(r.t, err)
	rows, err := db.Query(`SELECT r.body FROM log_leaves l JOIN records r ON r.id = l.id ORDER BY l.leaf`)
	require.NoError(r.t, err)
	var tree memTree
	for rows.Next() {
		var b []byte
		require.NoError(r.t, rows.Scan(&b))
		_, _, err := tree.add(b)
		require.NoError(r.t, err)
	}
	require.NoError(r.t, rows.Close())
	n := tree.size
	idx, hashes, err := tree.add(body)
	require.NoError(r.t, err)
	_, err = db.Exec(`INSERT INTO log_leaves (leaf, id) VALUES (?, ?)`, n, rec.ID)
	require.NoError(r.t, err)
	for i, x := range idx {
		_, err = db.Exec(`INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`, x, hashes[i][:])
		require.NoError(r.t, err)
	}
}
