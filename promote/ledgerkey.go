package promote

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// KeySource says where the ledger's signer key comes from besides the
// configuration's ledger.key file: the environment, where a CI system puts
// its secrets. The key text wins over the file; either wins over the
// configuration.
type KeySource struct {
	Key  string // the signer key itself (PROMOTE_LEDGER_KEY)
	File string // a file holding it (PROMOTE_LEDGER_KEY_FILE)
}

// ledgerKey returns the ledger's signer key, or nil if none is configured.
func ledgerKey(cfg *config.Config, src KeySource) (*ledger.Key, error) {
	switch {
	case strings.TrimSpace(src.Key) != "":
		k, err := ledger.ParseKey(src.Key)
		if err != nil {
			return nil, fmt.Errorf("PROMOTE_LEDGER_KEY: %w", err)
		}
		return k, nil
	case src.File != "":
		return readKeyFile(src.File, "PROMOTE_LEDGER_KEY_FILE")
	case cfg.LedgerKey != "":
		return readKeyFile(cfg.LedgerKey, cfg.File+": ledger.key")
	}
	return nil, nil
}

// readKeyFile reads a signer key file, refusing one that others can read:
// whoever reads it can sign the ledger's checkpoints.
func readKeyFile(path, from string) (*ledger.Key, error) {
	if looksLikeKey(path) {
		// A key where its file's name belongs (PROMOTE_LEDGER_KEY_FILE set
		// to the key): said without repeating it.
		return nil, fmt.Errorf("%w: %s holds a signer key, not a file name: put the key in PROMOTE_LEDGER_KEY, "+
			"or its file's name here", errs.ErrConfig, from)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: ledger key file %s (from %s): %w", errs.ErrConfig, path, from, unwrapPath(err))
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: ledger key file %s is readable by others (mode %#o): chmod 600 %s",
			errs.ErrConfig, path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: ledger key file %s: %w", errs.ErrConfig, path, unwrapPath(err))
	}
	k, err := ledger.ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("ledger key file %s: %w", path, err)
	}
	return k, nil
}

// looksLikeKey reports whether s holds a note signer key, which is never
// to be printed.
func looksLikeKey(s string) bool { return strings.Contains(s, "PRIVATE+KEY") }

// unwrapPath drops the path a *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// verifierKey returns the ledger's verifier key: ledger.public (the key, or
// a file holding it), else the public half of the signer key, else "".
func verifierKey(cfg *config.Config, src KeySource) (string, error) {
	if p := cfg.LedgerPublic; p != "" {
		if !fileExists(p) {
			return checkVerifier(p, cfg.File+": ledger.public")
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("%w: ledger.public file %s: %w", errs.ErrConfig, p, unwrapPath(err))
		}
		return checkVerifier(strings.TrimSpace(string(data)), "ledger.public file "+p)
	}
	k, err := ledgerKey(cfg, src)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		// A reader (an auditor) need not hold the signer key: without it
		// signatures go unchecked, and say so.
		return "", nil
	}
	if err != nil || k == nil {
		return "", err
	}
	return k.Public, nil
}

// checkVerifier returns vkey if it parses as a note verifier key.
func checkVerifier(vkey, from string) (string, error) {
	if looksLikeKey(vkey) {
		return "", fmt.Errorf("%w: %s is the ledger's signer key, not its verifier key: give the verifier key "+
			"(promote ledger key --public prints it), and keep the signer key secret", errs.ErrConfig, from)
	}
	if err := merkle.CheckVerifier(vkey); err != nil {
		return "", fmt.Errorf("%w: %s is not a note verifier key, nor a file holding one (promote ledger key --public prints it)", errs.ErrConfig, from)
	}
	return vkey, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// GenerateLedgerKey writes a new Ed25519 note signer key named origin to
// path (mode 0600; an existing file is never replaced) and returns its
// verifier key. The origin is the log's name, the first line of every
// checkpoint.
func GenerateLedgerKey(_ context.Context, path, origin string) (string, error) {
	skey, vkey, err := merkle.KeyPair(origin, rand.Reader)
	if err != nil {
		return "", errs.Usagef("ledger key --generate: origin %q: it must be non-empty, without spaces or '+'", origin)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("ledger key --generate: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", errs.Usagef("ledger key --generate: %s exists; a ledger key is never replaced: choose another file", path)
	}
	if err != nil {
		return "", fmt.Errorf("ledger key --generate: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("ledger key --generate: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("ledger key --generate: writing %s: %w", path, err)
	}
	return vkey, nil
}
