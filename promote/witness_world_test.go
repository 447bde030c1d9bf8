package promote

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/blobcache"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// keyedWorld is the test world with a keyed ledger: its environments.yaml,
// written to a file, names the ledger as a mapping (location, key: a key
// file GenerateLedgerKey made, and any further fields), and its engines
// are opened from that file as the command line opens them (Open), so the
// key reaches the ledger the way it does in production.
type keyedWorld struct {
	*world
	config  string // the environments.yaml file
	keyFile string // the ledger's signer key file
	vkey    string // the ledger's verifier key
}

// keyOrigin is the keyed world's log name.
const keyOrigin = "ledger.promote.test/witness"

// newKeyedWorld builds the world with opts and writes its configuration
// with the ledger keyed; ledgerFields are more lines of the ledger mapping
// ("witnesses: [...]").
func newKeyedWorld(t *testing.T, ledgerFields []string, opts ...worldOption) *keyedWorld {
	t.Helper()
	t.Setenv(blobcache.EnvDir, "off")
	w := newWorld(t, opts...)
	dir := t.TempDir()
	kw := &keyedWorld{world: w, config: filepath.Join(dir, "environments.yaml"), keyFile: filepath.Join(dir, "keys", "ledger.key")}
	vkey, err := GenerateLedgerKey(context.Background(), kw.keyFile, keyOrigin)
	require.NoError(t, err)
	kw.vkey = vkey
	kw.writeConfig(ledgerFields...)
	return kw
}

// writeConfig (re)writes the world's configuration with the ledger keyed
// and these further ledger fields.
func (kw *keyedWorld) writeConfig(ledgerFields ...string) {
	kw.t.Helper()
	plain := "ledger: " + kw.ledger + "\n"
	keyed := "ledger:\n  location: " + kw.ledger + "\n  key: " + kw.keyFile + "\n"
	for _, f := range ledgerFields {
		keyed += "  " + f + "\n"
	}
	y := kw.yaml()
	require.Contains(kw.t, y, plain)
	require.NoError(kw.t, os.WriteFile(kw.config, []byte(strings.Replace(y, plain, keyed, 1)), 0o600))
	cfg, err := config.Load(kw.config)
	require.NoError(kw.t, err)
	require.Equal(kw.t, kw.keyFile, cfg.LedgerKey)
}

// open opens an engine on the world's configuration as a promote process
// would (Open), closed when the test ends.
func (kw *keyedWorld) open() *Engine {
	kw.t.Helper()
	o, err := Open(context.Background(), OpenOptions{ConfigPath: kw.config, Insecure: []string{"127.0.0.1"}})
	require.NoError(kw.t, err)
	kw.t.Cleanup(func() { o.Close() })
	o.actor, o.ci = ledger.Actor{Identity: "test"}, nil
	return o.Engine
}

// storedBody reads the body of record id straight from the SQLite file,
// as an auditor with the sqlite3 shell would: the bytes its leaf covers.
func (kw *keyedWorld) storedBody(id string) []byte {
	kw.t.Helper()
	db, err := sql.Open("sqlite", "file:"+kw.ledger+"?mode=ro")
	require.NoError(kw.t, err)
	defer db.Close()
	var body []byte
	require.NoError(kw.t, db.QueryRow(`SELECT body FROM records WHERE id = ?`, id).Scan(&body))
	return body
}

// rewrite edits record id, which must be the last of its chain, re-hashes
// it, rebuilds the log's tree from the records as they now are and signs
// its checkpoint with the ledger key, straight in the SQLite file: what a
// writer of the store who also holds the key can do. Nothing inside the
// store is left to show it; only checkpoints kept elsewhere can.
func (kw *keyedWorld) rewrite(id string, edit func(*ledger.Record)) {
	t := kw.t
	t.Helper()
	db, err := sql.Open("sqlite", kw.ledger)
	require.NoError(t, err)
	defer db.Close()
	for _, table := range []string{"records", "log_leaves", "log_hashes", "log_checkpoints", "log_key"} {
		for _, trigger := range []string{"_no_update", "_no_delete"} {
			_, err := db.Exec(`DROP TRIGGER IF EXISTS ` + table + trigger)
			require.NoError(t, err)
		}
	}
	var body []byte
	require.NoError(t, db.QueryRow(`SELECT body FROM records WHERE id = ?`, id).Scan(&body))
	var rec ledger.Record
	require.NoError(t, json.Unmarshal(body, &rec))
	edit(&rec)
	body, err = rec.Body()
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE records SET body = ?, hash = ?, digest = ? WHERE id = ?`, string(body), ledger.HashBody(body), rec.Digest, id)
	require.NoError(t, err)

	rows, err := db.Query(`SELECT r.body FROM log_leaves l JOIN records r ON r.id = l.id ORDER BY l.leaf`)
	require.NoError(t, err)
	var tree memHashes
	for rows.Next() {
		var b []byte
		require.NoError(t, rows.Scan(&b))
		_, hs, err := merkle.Stored(int64(tree.size), b, tree)
		require.NoError(t, err)
		tree.hashes = append(tree.hashes, hs...)
		tree.size++
	}
	require.NoError(t, rows.Close())
	root, err := merkle.Root(int64(tree.size), tree)
	require.NoError(t, err)
	skey, err := os.ReadFile(kw.keyFile)
	require.NoError(t, err)
	note, err := merkle.Sign(merkle.Checkpoint{Origin: keyOrigin, Size: int64(tree.size), Root: root}, strings.TrimSpace(string(skey)))
	require.NoError(t, err)
	for _, stmt := range []string{`DELETE FROM log_hashes`, `DELETE FROM log_checkpoints`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	for i, h := range tree.hashes {
		_, err := db.Exec(`INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`, i, h[:])
		require.NoError(t, err)
	}
	_, err = db.Exec(`INSERT INTO log_checkpoints (size, note) VALUES (?, ?)`, tree.size, string(note))
	require.NoError(t, err)
}

// memHashes is a tree's stored hashes in memory, in tlog's index order.
type memHashes struct {
	hashes []merkle.Hash
	size   int
}

func (m memHashes) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	out := make([]merkle.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m.hashes[x]
	}
	return out, nil
}
