package promote

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/blobcache"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
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
