package promote

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/ledger"
)

// unsignedLedger is a keyed ledger whose log is behind after every append,
// as the S3 ledger's is when the checkpoint after a stored record cannot
// be signed (unlogged: when its leaf or log index cannot be written): the
// record is stored, Append says ErrLogBehind, and the newest checkpoint
// stays the one signed before (none, before the first append). promote
// ledger upgrade (Upgrade) completes the log.
type unsignedLedger struct {
	ledger.Ledger
	unlogged bool

	mu     sync.Mutex
	behind bool
	before []byte // the newest checkpoint when the log fell behind
	id     string // the record appended then
}

func (l *unsignedLedger) Append(ctx context.Context, rec *ledger.Record, expected ledger.Head) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.behind {
		before, err := l.Ledger.Checkpoint(ctx)
		if err != nil {
			return err
		}
		l.before, l.behind = before, true
	}
	if err := l.Ledger.Append(ctx, rec, expected); err != nil {
		return err
	}
	if l.id == "" {
		l.id = rec.ID
	}
	return fmt.Errorf("record %s is stored, but no checkpoint of the log was signed: %w", rec.ID, ledger.ErrLogBehind)
}

func (l *unsignedLedger) Checkpoint(ctx context.Context) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.behind {
		return l.before, nil
	}
	return l.Ledger.Checkpoint(ctx)
}

func (l *unsignedLedger) LeafIndex(ctx context.Context, id string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.behind && l.unlogged && id == l.id {
		return 0, fmt.Errorf("ledger record %s: %w", id, ledger.ErrNotLogged)
	}
	return l.Ledger.LeafIndex(ctx, id)
}

// AuthenticTail takes the record the log fell behind on as written by a
// writer with the key, as the S3 ledger does with its signed intent.
func (l *unsignedLedger) AuthenticTail(_ context.Context, rec ledger.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec.ID != l.id {
		return fmt.Errorf("%w: record %s", ledger.ErrLogTampered, rec.ID)
	}
	return nil
}

func (l *unsignedLedger) Upgrade(ctx context.Context, o ledger.UpgradeOptions) (ledger.Upgraded, error) {
	up, err := l.Ledger.Upgrade(ctx, o)
	if err == nil {
		l.mu.Lock()
		l.behind = false
		l.mu.Unlock()
	}
	return up, err
}

// A promotion whose record no signed checkpoint covers yet (the log is
// behind) stands, but its attestation, which must carry the record's proof
// in a signed checkpoint, cannot be made: the error says to run promote
// ledger upgrade, which signs the log, and then the command again. Run
// again before that, the command finds nothing to do and says the same;
// after it, the re-run attaches the attestation, proven in the checkpoint
// the upgrade signed. The first record of a keyed ledger (no checkpoint
// at all yet) is no exception: its attestation is not made without the
// proof, as if the ledger had no key.
func TestAttestationOfARecordTheLogDoesNotSignYetSaysToUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name     string
		first    bool // the log falls behind at the first record
		unlogged bool
	}{
		{name: "unsigned"},
		{name: "unlogged", unlogged: true},
		{name: "first record", first: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kw := newKeyedWorld(t, nil)
			key := testAttestKey(t)
			e := kw.open()
			env, err := e.Config().Env("test")
			require.NoError(t, err)
			env.Attest = key
			ctx := ctxTimeout(t)
			if !tc.first {
				kw.push("web", "1.0", "1.0")
				res, err := kw.promote(e, "test", "web:1.0")
				require.NoError(t, err)
				require.NotEmpty(t, res.Attestation)
			}
			behind := &unsignedLedger{Ledger: e.led, unlogged: tc.unlogged}
			e.led = behind

			d := kw.push("web", "2.0", "2.0")
			res, err := kw.promote(e, "test", "web:2.0")
			require.Error(t, err)
			require.NotNil(t, res)
			require.NotNil(t, res.Record, "the promotion stands")
			rec := res.Record
			for _, want := range []string{"promotion " + rec.ID + " is recorded, but its attestation could not be made",
				"the ledger's log is behind", "run promote ledger upgrade", "then run the same command again"} {
				assert.Contains(t, err.Error(), want)
			}
			found, err := attest.Attached(context.Background(), registryIO{e.rd, e.wr}, mustRepo(t, kw.test("web")), d, "")
			require.NoError(t, err)
			assert.Empty(t, found, "no attestation without the ledger's proof")

			again, err := kw.promote(e, "test", "web:2.0")
			require.Error(t, err, "nothing to do, and still no signed checkpoint covers the record")
			assert.True(t, again.NothingToDo)
			assert.Contains(t, err.Error(), "run promote ledger upgrade")

			_, err = e.UpgradeLedger(ctx, false)
			require.NoError(t, err)
			again, err = kw.promote(e, "test", "web:2.0")
			require.NoError(t, err)
			assert.True(t, again.NothingToDo)
			require.NotEmpty(t, again.Attestation, "the re-run after the upgrade attaches it")
			p := readAttestation(t, kw.test("web"), d, rec.Hash)
			require.NotNil(t, p.Ledger)
			_, err = checkLedgerProof(p.Ledger, kw.vkey, kw.storedBody(rec.ID))
			assert.NoError(t, err)
		})
	}
}

// A re-run after another promotion signed a checkpoint that covers the
// record needs no upgrade: it attaches the attestation, proven there.
func TestAttestationLeftBehindIsAttachedOnceACheckpointCoversIt(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	key := testAttestKey(t)
	e := kw.open()
	env, err := e.Config().Env("test")
	require.NoError(t, err)
	env.Attest = key
	kw.push("web", "1.0", "1.0")
	_, err = kw.promote(e, "test", "web:1.0")
	require.NoError(t, err)

	healthy := e.led
	e.led = &unsignedLedger{Ledger: healthy}
	d := kw.push("web", "2.0", "2.0")
	res, err := kw.promote(e, "test", "web:2.0")
	require.Error(t, err)
	rec := res.Record
	require.NotNil(t, rec)

	e.led = healthy // the log catches up at the next append
	kw.push("api", "1.0", "1.0")
	_, err = kw.promote(e, "test", "api:1.0")
	require.NoError(t, err)
	again, err := kw.promote(e, "test", "web:2.0")
	require.NoError(t, err)
	assert.True(t, again.NothingToDo)
	require.NotEmpty(t, again.Attestation)
	p := readAttestation(t, kw.test("web"), d, rec.Hash)
	require.NotNil(t, p.Ledger)
	assert.Equal(t, int64(1), p.Ledger.LeafIndex)
	assert.Equal(t, int64(3), p.Ledger.TreeSize, "proven in the checkpoint signed after the api record")
	_, err = checkLedgerProof(p.Ledger, kw.vkey, kw.storedBody(rec.ID))
	assert.NoError(t, err)
}
