package main

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/promote-dev/promote/internal/regtest"
)

// keyedCLI is the CLI harness with a ledger key made by ledger key
// --generate and named in the configuration; it returns the verifier key.
func keyedCLI(t *testing.T) (*harness, string) {
	c := newCLI(t)
	dir := filepath.Dir(c.config)
	keyFile := filepath.Join(dir, "keys", "ledger.key")
	code, out, errOut := c.run("ledger", "key", "--generate", keyFile, "--origin", "promote.test/cli")
	require.Equal(t, ExitOK, code, errOut)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	lines := strings.Split(strings.TrimSpace(out), "\n")
	vkey := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(vkey, "promote.test/cli+"), out)
	assert.NotContains(t, out, "PRIVATE", "the signer key is never printed")

	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	cfg = []byte(strings.Replace(string(cfg), "ledger: ledger.db", "ledger:\n  location: ledger.db\n  key: keys/ledger.key", 1))
	require.NoError(t, os.WriteFile(c.config, cfg, 0o600))
	return c, vkey
}

// checkProofWithTheStandardLibrary checks a ledger prove result with
// golang.org/x/mod/sumdb/note and tlog alone, none of promote's code.
func checkProofWithTheStandardLibrary(t *testing.T, vkey string, res map[string]any) {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	n, err := note.Open([]byte(res["checkpoint"].(string)), note.VerifierList(v))
	require.NoError(t, err, "the checkpoint is signed by the ledger key")
	lines := strings.Split(n.Text, "\n")
	require.GreaterOrEqual(t, len(lines), 3)
	assert.Equal(t, res["origin"], lines[0])
	size, err := strconv.ParseInt(lines[1], 10, 64)
	require.NoError(t, err)
	assert.EqualValues(t, res["treeSize"], size)
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	require.NoError(t, err)
	var root tlog.Hash
	copy(root[:], rootBytes)
	record, err := base64.StdEncoding.DecodeString(res["record"].(string))
	require.NoError(t, err)
	var proof tlog.RecordProof
	for _, h := range res["proof"].([]any) {
		b, err := base64.StdEncoding.DecodeString(h.(string))
		require.NoError(t, err)
		var hash tlog.Hash
		copy(hash[:], b)
		proof = append(proof, hash)
	}
	index := int64(res["leafIndex"].(float64))
	require.NoError(t, tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(record)))
	var body map[string]any
	require.NoError(t, json.Unmarshal(record, &body), "the leaf is the record's body")
}

func TestCLIProvesAndAuditsTheLog(t *testing.T) {
	c, vkey := keyedCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:3.0", regtest.Image(t, 1, regtest.Labels("3.0"), "1000"))
	code, _, errOut := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)
	code, doc, res := c.runJSON("to", "test", "web:2.0")
	require.Equal(t, ExitOK, code, doc.Error)
	id := res["record"].(map[string]any)["id"].(string)

	code, out, _ := c.run("ledger", "key", "--public")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, vkey+"\n", out)

	code, doc, res = c.runJSON("ledger", "prove", id)
	require.Equal(t, ExitOK, code, doc.Error)
	assert.EqualValues(t, 1, res["leafIndex"])
	checkProofWithTheStandardLibrary(t, vkey, res)

	code, kept, _ := c.run("ledger", "checkpoint")
	require.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(kept, "promote.test/cli\n2\n"), kept)
	keptFile := filepath.Join(t.TempDir(), "kept.note")
	require.NoError(t, os.WriteFile(keptFile, []byte(kept), 0o600))

	code, out, _ = c.run("show", id)
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "leaf 1 of 2 in promote.test/cli, proven by the newest checkpoint, its signature checked")

	code, _, errOut = c.run("to", "test", "web:3.0")
	require.Equal(t, ExitOK, code, errOut)
	code, out, errOut = c.run("ledger", "verify", "--checkpoint", keptFile)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "log promote.test/cli: 3 records, newest checkpoint signs 3, signature checked")
	assert.Contains(t, out, "kept checkpoint "+keptFile+" (2): consistent: the log extends it")

	// Whoever can write the file cuts the log short: the kept checkpoint
	// says so, and show no longer proves the cut record.
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(c.config), "ledger.db"))
	require.NoError(t, err)
	for _, stmt := range []string{`DROP TRIGGER records_no_delete`, `DROP TRIGGER log_leaves_no_delete`,
		`DELETE FROM log_leaves WHERE leaf >= 1`, `DELETE FROM records WHERE seq >= 2`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())
	code, out, errOut = c.run("ledger", "verify", "--checkpoint", keptFile)
	assert.Equal(t, ExitError, code)
	assert.Contains(t, out, "fewer than the 2 kept: records were deleted, or it was cut short")
	assert.Contains(t, errOut, "ledger verification failed")
	code, doc, _ = c.runJSON("ledger", "verify", "--checkpoint", keptFile)
	assert.Equal(t, ExitError, code)
	assert.False(t, doc.OK)
}

func TestCLILedgerKeyRefusals(t *testing.T) {
	c, _ := keyedCLI(t)
	keyFile := filepath.Join(filepath.Dir(c.config), "keys", "ledger.key")
	code, _, errOut := c.run("ledger", "key", "--generate", keyFile)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "is never replaced")
	code, _, errOut = c.run("ledger", "key")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "give --public or --generate FILE")

	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	require.NoError(t, os.Chmod(keyFile, 0o644))
	code, _, errOut = c.run("to", "test", "web:1.0")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "readable by others (mode 0644): chmod 600")
	require.NoError(t, os.Chmod(keyFile, 0o600))
	code, _, errOut = c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)

	// A promoter without the key of a signed ledger is refused before it
	// copies anything.
	d2 := regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))
	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.config, []byte(strings.Replace(string(cfg), "  key: keys/ledger.key\n", "", 1)), 0o600))
	code, _, errOut = c.run("to", "test", "web:2.0")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "signs its checkpoints with key promote.test/cli+")
	code, out, _ := c.run("current", "test", "web")
	assert.Equal(t, ExitOK, code)
	assert.NotContains(t, out, d2.String())
	_, err = crane.Head(c.reg.Host+"/test/web:2.0", crane.Insecure)
	assert.Error(t, err, "nothing copied")

	// The key from the environment, as a CI secret.
	data, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	t.Setenv("PROMOTE_LEDGER_KEY", string(data))
	code, _, errOut = c.run("to", "test", "web:2.0")
	require.Equal(t, ExitOK, code, errOut)
	assert.NotContains(t, errOut, "PRIVATE")
}

// An auditor with the configuration but not the signer key cannot check
// signatures, and show, verify and prove say so and fail; with
// ledger.public they check.
func TestCLIReaderWithoutTheSignerKey(t *testing.T) {
	c, vkey := keyedCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, doc, res := c.runJSON("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, doc.Error)
	id := res["record"].(map[string]any)["id"].(string)
	require.NoError(t, os.Remove(filepath.Join(filepath.Dir(c.config), "keys", "ledger.key")))

	// What cannot be checked is not taken as fine: anyone who can write
	// the store can put a checkpoint there.
	code, out, errOut := c.run("show", id)
	assert.Equal(t, ExitError, code, errOut)
	assert.Contains(t, out, "NOT PROVEN: the ledger signs checkpoints, and no verifier key is known to check them")
	code, out, _ = c.run("ledger", "verify")
	assert.Equal(t, ExitError, code)
	assert.Contains(t, out, "cannot be checked: no verifier key")
	code, _, errOut = c.run("ledger", "prove", id)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "needs the ledger's verifier key")

	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.config, []byte(strings.Replace(string(cfg), "  key: keys/ledger.key\n", "  public: "+vkey+"\n", 1)), 0o600))
	code, out, errOut = c.run("show", id)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "its signature checked")
	code, _, errOut = c.run("ledger", "verify", "--public-key", "promote.test/cli+00000000+AQ==")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "is not a note verifier key")

	other := filepath.Join(t.TempDir(), "other.key")
	code, out, _ = c.run("ledger", "key", "--generate", other, "--origin", "promote.test/cli")
	require.Equal(t, ExitOK, code)
	otherPub := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	code, out, _ = c.run("ledger", "verify", "--public-key", otherPub)
	assert.Equal(t, ExitError, code, "checkpoints signed by another key")
	assert.Contains(t, out, "is not signed by the ledger's key")
}

func TestCLIConfigCheckLoadsTheLedgerKey(t *testing.T) {
	c, vkey := keyedCLI(t)
	code, out, errOut := c.run("config", "check")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "ledger key: ok: "+vkey)

	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	code, out, _ = c.run("ledger", "key", "--generate", filepath.Join(t.TempDir(), "other.key"), "--origin", "promote.test/cli")
	require.Equal(t, ExitOK, code)
	otherPub := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	wrong := strings.Replace(string(cfg), "  key: keys/ledger.key\n", "  key: keys/ledger.key\n  public: "+otherPub+"\n", 1)
	require.NoError(t, os.WriteFile(c.config, []byte(wrong), 0o600))
	code, out, _ = c.run("config", "check")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, out, "is not the verifier key of the ledger key")

	require.NoError(t, os.WriteFile(c.config, cfg, 0o600))
	require.NoError(t, os.Chmod(filepath.Join(filepath.Dir(c.config), "keys", "ledger.key"), 0o640))
	code, out, _ = c.run("config", "check")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, out, "readable by others (mode 0640)")
}

// Checkpoints published to a witness repository are read back by verify
// --witness: the log must extend each; an empty witness is a problem.
func TestCLIVerifiesAgainstPublishedWitnesses(t *testing.T) {
	c, _ := keyedCLI(t)
	for i, v := range []string{"1.0", "2.0"} {
		regtest.Push(t, c.reg.Host+"/dev/web:"+v, regtest.Image(t, 1, regtest.Labels(v), "1000"))
		code, _, errOut := c.run("to", "test", "web:"+v)
		require.Equal(t, ExitOK, code, errOut)
		code, _, errOut = c.run("ledger", "publish")
		require.Equal(t, ExitOK, code, "publish %d: %s", i, errOut)
	}
	witness := c.reg.Host + "/test/promote-ledger"
	code, out, errOut := c.run("ledger", "verify", "--witnesses")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "kept checkpoint "+witness+":checkpoint-1 (1): consistent")
	assert.Contains(t, out, "kept checkpoint "+witness+":checkpoint-2 (2): consistent")

	code, out, _ = c.run("ledger", "verify", "--witness", c.reg.Host+"/test/nothing-here")
	assert.Equal(t, ExitError, code)
	assert.Contains(t, out, "holds no published checkpoint")
	code, _, errOut = c.run("ledger", "verify", "--witness", witness, "--witnesses")
	assert.Equal(t, ExitUsage, code, errOut)

	// The store's writer cuts the last record: the published checkpoint of
	// two records says so.
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(c.config), "ledger.db"))
	require.NoError(t, err)
	for _, stmt := range []string{`DROP TRIGGER records_no_delete`, `DROP TRIGGER log_leaves_no_delete`,
		`DROP TRIGGER log_checkpoints_no_delete`, `DELETE FROM log_leaves WHERE leaf >= 1`,
		`DELETE FROM records WHERE seq >= 2`, `DELETE FROM log_checkpoints WHERE size >= 2`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())
	code, out, _ = c.run("ledger", "verify")
	assert.Equal(t, ExitOK, code, "inside the store, a tail cut back to a checkpoint it keeps looks whole:\n%s", out)
	code, out, _ = c.run("ledger", "verify", "--witnesses")
	assert.Equal(t, ExitError, code)
	assert.Contains(t, out, witness+":checkpoint-2 (2): NOT EXTENDED: the log holds 1 leaf, fewer than the 2 kept: records were deleted, or it was cut short")
}

// The signer key is never printed, wherever it is put by mistake, and it
// leaves the environment once read (credential helpers inherit it).
func TestCLINeverPrintsTheSignerKey(t *testing.T) {
	c, _ := keyedCLI(t)
	keyFile := filepath.Join(filepath.Dir(c.config), "keys", "ledger.key")
	data, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	skey := strings.TrimSpace(string(data))
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))

	t.Setenv("PROMOTE_LEDGER_KEY_FILE", skey) // the key where its file's name belongs
	code, out, errOut := c.run("to", "test", "web:1.0", "--output", "json")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, out, "PROMOTE_LEDGER_KEY_FILE holds a signer key, not a file name")
	assert.NotContains(t, out+errOut, "PRIVATE", "the key is not repeated")
	t.Setenv("PROMOTE_LEDGER_KEY_FILE", "")

	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	for _, bad := range []string{"  key: ' " + skey + "'\n", "  public: ' " + skey + "'\n"} {
		require.NoError(t, os.WriteFile(c.config, []byte(strings.Replace(string(cfg), "  key: keys/ledger.key\n", bad, 1)), 0o600))
		code, out, errOut = c.run("config", "check")
		assert.Equal(t, ExitUsage, code, bad)
		assert.NotContains(t, out+errOut, "PRIVATE+KEY+promote", "%q: the key is not repeated", bad)
	}
	require.NoError(t, os.WriteFile(c.config, cfg, 0o600))
	code, out, errOut = c.run("ledger", "verify", "--public-key", skey)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "is the ledger's signer key, not its verifier key")
	assert.NotContains(t, out+errOut, "PRIVATE")

	t.Setenv("PROMOTE_LEDGER_KEY", skey)
	code, _, errOut = c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)
	assert.Empty(t, os.Getenv("PROMOTE_LEDGER_KEY"), "out of the environment once read")
}

// A junk image under a checkpoint tag of a witness is reported once per
// line, by its tag, with what it holds: no reason twice, no note that
// was never there ("malformed note"), no leaves it does not have.
func TestCLIVerifySaysWhatAJunkWitnessTagHolds(t *testing.T) {
	c, _ := keyedCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, _, errOut := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)
	code, _, errOut = c.run("ledger", "publish")
	require.Equal(t, ExitOK, code, errOut)
	witness := c.reg.Host + "/test/promote-ledger"
	regtest.Push(t, witness+":checkpoint-7", regtest.Image(t, 1, regtest.Labels("x"), "1000"))

	code, out, errOut := c.run("ledger", "verify", "--witnesses")
	assert.Equal(t, ExitError, code)
	const holds = "it holds a container image (a checkpoint is an artifact of type application/vnd.promote.ledger.checkpoint.v1)"
	assert.Contains(t, out, "  log: "+witness+":checkpoint-7 is not a checkpoint: "+holds+"\n")
	assert.Contains(t, out, "kept checkpoint "+witness+":checkpoint-1 (1): consistent")
	assert.Contains(t, errOut, witness+":checkpoint-7 is not a checkpoint: "+holds+"\n")
	for _, line := range strings.Split(out+errOut, "\n") {
		assert.LessOrEqual(t, strings.Count(line, "it holds"), 1, line)
		assert.NotContains(t, line, "malformed note")
		assert.NotContains(t, line, "0 leaves")
		assert.NotContains(t, line, "not a checkpoint signed by the ledger's key", "an image is no forged note")
	}
}
