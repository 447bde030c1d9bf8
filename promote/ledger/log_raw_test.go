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
