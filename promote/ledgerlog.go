package promote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// AuditRequest says what ledger verify checks the log against besides the
// ledger itself.
type AuditRequest struct {
	Checkpoints []string // files holding signed checkpoints an auditor kept
	// PublicKey is the verifier key, or a file holding it, to check
	// signatures with; "" takes ledger.public, else the signer key's.
	PublicKey string
}

// AuditLedger checks every chain and the log (ledger.Audit), the newest
// stored checkpoint's signature with the ledger's verifier key when one is
// known, and the log's consistency with every checkpoint in
// req.Checkpoints and in witnesses (read by the caller from registries).
func (r *Reader) AuditLedger(ctx context.Context, req AuditRequest, witnesses ...ledger.Kept) (ledger.Report, error) {
	vkey, err := r.verifier(req.PublicKey)
	if err != nil {
		return ledger.Report{}, err
	}
	kept := make([]ledger.Kept, 0, len(req.Checkpoints)+len(witnesses))
	for _, f := range req.Checkpoints {
		note, err := os.ReadFile(f)
		if err != nil {
			return ledger.Report{}, errs.Usagef("ledger verify --checkpoint %s: %v", f, unwrapPath(err))
		}
		kept = append(kept, ledger.Kept{Source: f, Note: note})
	}
	kept = append(kept, witnesses...)
	if len(kept) > 0 && vkey == "" {
		return ledger.Report{}, fmt.Errorf("%w: checking a kept checkpoint needs the ledger's verifier key: "+
			"pass --public-key, or set ledger.public (or ledger.key) in %s", errs.ErrConfig, r.cfg.File)
	}
	return ledger.Audit(ctx, r.led, ledger.AuditOptions{Verifier: vkey, Kept: kept})
}

// verifier returns the verifier key flag gives (the key or a file holding
// it), else the configuration's (verifierKey), else "".
func (r *Reader) verifier(flag string) (string, error) {
	if flag == "" {
		return verifierKey(r.cfg, r.keys)
	}
	if fileExists(flag) {
		data, err := os.ReadFile(flag)
		if err != nil {
			return "", errs.Usagef("--public-key %s: %v", flag, unwrapPath(err))
		}
		return checkVerifier(strings.TrimSpace(string(data)), "--public-key "+flag)
	}
	return checkVerifier(strings.TrimSpace(flag), "--public-key")
}

// PublicKey returns the ledger's verifier key, in the note vkey form, from
// the configuration (ledger.public, else the signer key's public half).
func (r *Reader) PublicKey() (string, error) {
	vkey, err := verifierKey(r.cfg, r.keys)
	if err != nil {
		return "", err
	}
	if vkey == "" {
		return "", fmt.Errorf("%w: %s names no ledger key: set ledger.key (make one with promote ledger key --generate FILE) "+
			"or ledger.public, or PROMOTE_LEDGER_KEY", errs.ErrConfig, r.cfg.File)
	}
	return vkey, nil
}

// Checkpoint is the newest checkpoint the ledger stores.
type Checkpoint struct {
	Note      string `json:"checkpoint"` // the signed note, to keep
	Origin    string `json:"origin"`
	Size      int64  `json:"treeSize"`
	Signature string `json:"signature"` // ledger.SignatureChecked or SignatureUnchecked
}

// Checkpoint returns the newest signed checkpoint, its signature checked
// when the verifier key is known. A ledger that stores none (it has no key)
// is an error wrapping ledger.ErrNoCheckpoint.
func (r *Reader) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	note, err := r.led.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if note == nil {
		return nil, fmt.Errorf("%w: %s names no ledger key, or no record was appended since it was set: "+
			"set ledger.key (promote ledger key --generate FILE), then promote ledger upgrade", ledger.ErrNoCheckpoint, r.cfg.File)
	}
	vkey, err := verifierKey(r.cfg, r.keys)
	if err != nil {
		return nil, err
	}
	cp := &Checkpoint{Note: string(note), Signature: ledger.SignatureUnchecked}
	var c merkle.Checkpoint
	if vkey != "" {
		if c, err = merkle.Open(note, vkey); err != nil {
			return nil, fmt.Errorf("the ledger's newest checkpoint does not verify with the ledger key %s: %w", vkey, err)
		}
		cp.Signature = ledger.SignatureChecked
	} else if c, err = ledger.ParseNote(note); err != nil {
		return nil, fmt.Errorf("the ledger's newest checkpoint: %w", err)
	}
	cp.Origin, cp.Size = c.Origin, c.Size
	return cp, nil
}

// Prove returns the proof that record id is in the log of the newest
// checkpoint signed by the ledger key. It needs the verifier key: a proof
// handed out is one promote checked.
func (r *Reader) Prove(ctx context.Context, id string) (ledger.Proof, error) {
	vkey, err := r.verifier("")
	if err != nil {
		return ledger.Proof{}, err
	}
	if vkey == "" {
		return ledger.Proof{}, fmt.Errorf("%w: proving a record needs the ledger's verifier key: set ledger.public (promote "+
			"ledger key --public prints it) or ledger.key in %s", errs.ErrConfig, r.cfg.File)
	}
	p, err := ledger.Prove(ctx, r.led, id, vkey)
	if err != nil {
		return ledger.Proof{}, err
	}
	if _, err := p.Check(vkey); err != nil {
		return ledger.Proof{}, fmt.Errorf("proving record %s: %w", id, err)
	}
	return p, nil
}

// Inclusion is what show says of a record's place in the log.
type Inclusion struct {
	Included  bool   `json:"included"`
	LeafIndex int64  `json:"leafIndex"`
	TreeSize  int64  `json:"treeSize,omitempty"`
	Origin    string `json:"origin,omitempty"`
	Signature string `json:"signature"` // of the checkpoint: checked or none
	// Unsigned says the ledger signs no checkpoint and none is expected (no
	// key is configured): nothing is proven, and nothing is wrong.
	Unsigned bool   `json:"unsigned,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// ErrNotIncluded is wrapped by Include's error for a record the newest
// checkpoint does not prove.
var ErrNotIncluded = errors.New("the record is not proven in the ledger's log")

// Include checks that rec, as shown, is in the log of the newest checkpoint
// signed by the ledger key: the proven leaf must be rec's very body. A
// ledger that signs nothing and has no key configured proves nothing and
// claims nothing: Included false, Unsigned, no error. Otherwise a record
// that is not proven, or a signature that cannot be checked (no verifier
// key), is an error wrapping ErrNotIncluded.
func (r *Reader) Include(ctx context.Context, rec ledger.Record) (Inclusion, error) {
	vkey, err := r.verifier("")
	if err != nil {
		return Inclusion{}, err
	}
	in := Inclusion{Signature: ledger.SignatureNone}
	fail := func(msg string) (Inclusion, error) {
		in.Problem = msg
		return in, fmt.Errorf("%w: %s", ErrNotIncluded, msg)
	}
	p, err := ledger.Prove(ctx, r.led, rec.ID, vkey)
	switch {
	case errors.Is(err, ledger.ErrNoCheckpoint) && vkey == "":
		in.Unsigned, in.Problem = true, "the ledger signs no checkpoint: it has no key (ledger.key)"
		return in, nil
	case err != nil:
		return fail(err.Error())
	case vkey == "":
		return fail("the ledger signs checkpoints, and no verifier key is known to check them: set ledger.public " +
			"(promote ledger key --public prints it) or ledger.key")
	}
	in.LeafIndex, in.TreeSize, in.Origin, in.Signature = p.LeafIndex, p.TreeSize, p.Origin, ledger.SignatureChecked
	if _, err := p.Check(vkey); err != nil {
		return fail(err.Error())
	}
	if got := ledger.HashBody(p.Record); got != rec.Hash {
		return fail(fmt.Sprintf("leaf %d of the log is another record (its body hashes to %s, not %s): run promote ledger verify",
			p.LeafIndex, got, rec.Hash))
	}
	in.Included = true
	return in, nil
}

// AuditWithWitnesses is AuditLedger with the checkpoints published to the
// witness repositories repos (none: the configured ones) as kept ones. A
// witness repository that holds no checkpoint is a problem: it was never
// published to, or it was emptied, and either way it witnesses nothing.
func (e *Engine) AuditWithWitnesses(ctx context.Context, req AuditRequest, repos []string) (ledger.Report, error) {
	if len(repos) == 0 {
		var err error
		if repos, err = e.WitnessRepositories(); err != nil {
			return ledger.Report{}, err
		}
	}
	kept, err := e.Witnessed(ctx, repos)
	if err != nil {
		return ledger.Report{}, err
	}
	rep, err := e.reader().AuditLedger(ctx, req, kept...)
	if err != nil {
		return rep, err
	}
	for _, repo := range repos {
		n := 0
		for _, k := range kept {
			if strings.HasPrefix(k.Source, repo+":") {
				n++
			}
		}
		if n == 0 {
			rep.Problems = append(rep.Problems, ledger.Problem{Msg: fmt.Sprintf("witness %s holds no published checkpoint: "+
				"it was never published to (promote ledger publish), or it was emptied", repo)})
		}
	}
	return rep, nil
}

// UpgradeLedger logs every record the ledger's log does not hold and signs
// a checkpoint of the whole log with the ledger key; signUnsigned allows
// signing a log no checkpoint covers yet (ledger.UpgradeOptions).
func (e *Engine) UpgradeLedger(ctx context.Context, signUnsigned bool) (ledger.Upgraded, error) {
	return e.led.Upgrade(ctx, ledger.UpgradeOptions{SignUnsigned: signUnsigned})
}

// Reader is the engine's reader, for the read commands that run on an
// engine (ledger verify --witness needs its registry client).
func (e *Engine) Reader() *Reader { return e.reader() }
