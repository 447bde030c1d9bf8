package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/ledger"
)

// The ledger's transparency log: its key, its checkpoints, proofs, the
// upgrade of a ledger written before it, and the audit.

// ledgerKeyCommand prints the ledger's verifier key, or makes a new key.
func ledgerKeyCommand(s *state) *cli.Command {
	const usage = "ledger key --public | ledger key --generate FILE [--origin NAME]"
	cmd := command("key", usage, "print the ledger's verifier key (--public), or make a new signer key (--generate)",
		&cli.BoolFlag{Name: "public", Usage: "print the verifier key, for auditors (note vkey form)"},
		&cli.StringFlag{Name: "generate", Usage: "write a new signer key to `FILE` (mode 0600; never replaced)"},
		&cli.StringFlag{Name: "origin", Usage: "the log's `NAME`, the first line of its checkpoints (with --generate)", Value: "promote/ledger"},
	)
	cmd.Action = func(c *cli.Context) error {
		s.command = "ledger key"
		if _, err := positional(c, usage, 0, 0); err != nil {
			return s.render(s.command, nil, nil, err)
		}
		switch gen := c.String("generate"); {
		case gen != "" && c.Bool("public"):
			return s.render(s.command, nil, nil, errs.Usagef("ledger key: give --public or --generate FILE, not both"))
		case gen != "":
			vkey, err := promote.GenerateLedgerKey(c.Context, gen, c.String("origin"))
			res := map[string]string{"file": gen, "publicKey": vkey}
			return s.render(s.command, res, func(w io.Writer) {
				fmt.Fprintf(w, "wrote a new ledger key to %s; set ledger.key: %s in the configuration (or PROMOTE_LEDGER_KEY_FILE)\n", gen, gen)
				fmt.Fprintf(w, "verifier key, for auditors and ledger.public:\n%s\n", vkey)
			}, err)
		case !c.Bool("public"):
			return s.render(s.command, nil, nil, errs.Usagef("ledger key: give --public or --generate FILE; usage: promote %s", usage))
		}
		return s.query(s.command, func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
			vkey, err := r.PublicKey()
			return answer(map[string]string{"publicKey": vkey}, err, func(w io.Writer, m map[string]string) {
				fmt.Fprintln(w, m["publicKey"])
			})
		})(c)
	}
	return cmd
}

// ledgerCheckpointCommand prints the newest signed checkpoint, to keep.
func ledgerCheckpointCommand(s *state) *cli.Command {
	cmd := command("checkpoint", "ledger checkpoint", "print the ledger's newest signed checkpoint, for auditors to keep (ledger verify --checkpoint FILE)")
	cmd.Action = s.query("ledger checkpoint", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		if _, err := positional(c, "ledger checkpoint", 0, 0); err != nil {
			return nil, nil, err
		}
		cp, err := r.Checkpoint(c.Context)
		return partial(cp, err, func(w io.Writer, cp *promote.Checkpoint) { io.WriteString(w, cp.Note) })
	})
	return cmd
}

// ledgerProveCommand prints the proof that one record is in the log.
func ledgerProveCommand(s *state) *cli.Command {
	const usage = "ledger prove RECORD"
	cmd := command("prove", usage, "prove a record is in the log of the newest signed checkpoint (with --output json: the proof alone checks it)")
	cmd.Action = s.query("ledger prove", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 1, 1)
		if err != nil {
			return nil, nil, err
		}
		p, err := r.Prove(c.Context, a[0])
		return answer(p, err, printProof)
	})
	return cmd
}

func printProof(w io.Writer, p ledger.Proof) {
	fmt.Fprintf(w, "record is leaf %d of %d in log %s, proven by %d hashes (--output json gives the proof)\n",
		p.LeafIndex, p.TreeSize, p.Origin, len(p.Hashes))
	fmt.Fprintf(w, "checkpoint:\n%s", p.Checkpoint)
}

// ledgerUpgradeCommand logs the records of a ledger written before the log.
func ledgerUpgradeCommand(s *state) *cli.Command {
	cmd := command("upgrade", "ledger upgrade [--sign-unsigned]", "add every record to the log (a ledger written before it), hashes unchanged, and sign a checkpoint",
		&cli.BoolFlag{Name: "sign-unsigned", Usage: "sign a log that no checkpoint covers yet (a ledger given its key now): check it against any checkpoint kept first"})
	cmd.Description = `A ledger that gets its key after records were written is signed for the first
time only with --sign-unsigned: nothing in the store tells such a ledger from one
whose checkpoints someone deleted, so check it first (ledger verify --checkpoint
FILE or --witnesses) against any checkpoint kept.`
	cmd.Action = s.action("ledger upgrade", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		if _, err := positional(c, "ledger upgrade", 0, 0); err != nil {
			return nil, nil, err
		}
		up, err := eng.UpgradeLedger(c.Context, c.Bool("sign-unsigned"))
		return answer(up, err, func(w io.Writer, up ledger.Upgraded) {
			fmt.Fprintf(w, "logged %s; the log holds %s", count(up.Logged, "record"), count(int(up.Size), "record"))
			if up.Signed {
				fmt.Fprintln(w, ", under a signed checkpoint")
			} else {
				fmt.Fprintln(w, "; no checkpoint signed: the ledger has no key (ledger.key)")
			}
		})
	})
	return cmd
}

// ledgerVerifyCommand checks every chain and the log.
func ledgerVerifyCommand(s *state) *cli.Command {
	const usage = "ledger verify [--checkpoint FILE]... [--witness REPO]... [--witnesses] [--public-key KEY]"
	cmd := command("verify", usage, "check every record, the log and its checkpoints; prove the log extends each kept checkpoint",
		&cli.StringSliceFlag{Name: "checkpoint", Usage: "a signed checkpoint kept earlier (promote ledger checkpoint > `FILE`): the log must extend it; repeatable"},
		&cli.StringSliceFlag{Name: "witness", Usage: "a witness `REPO`sitory (promote ledger publish): the log must extend every checkpoint published there; repeatable"},
		&cli.BoolFlag{Name: "witnesses", Usage: "as --witness, for every configured witness repository (ledger.witnesses, or the default ones)"},
		&cli.StringFlag{Name: "public-key", Usage: "the ledger's verifier `KEY`, or a file holding it (default: ledger.public, or the ledger key's)"},
	)
	verified := func(rep ledger.Report, err error) (any, func(io.Writer), error) {
		if err != nil {
			return nil, nil, err
		}
		text := func(w io.Writer) { printVerify(w, rep) }
		if !rep.OK() {
			return rep, text, verifyError(rep)
		}
		return rep, text, nil
	}
	request := func(c *cli.Context) (promote.AuditRequest, error) {
		_, err := positional(c, "ledger verify", 0, 0)
		return promote.AuditRequest{Checkpoints: c.StringSlice("checkpoint"), PublicKey: c.String("public-key")}, err
	}
	withWitnesses := s.action("ledger verify", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		req, err := request(c)
		if err != nil {
			return nil, nil, err
		}
		return verified(eng.AuditWithWitnesses(c.Context, req, c.StringSlice("witness")))
	})
	alone := s.query("ledger verify", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		req, err := request(c)
		if err != nil {
			return nil, nil, err
		}
		return verified(r.AuditLedger(c.Context, req))
	})
	cmd.Action = func(c *cli.Context) error {
		if c.IsSet("witness") && c.Bool("witnesses") {
			s.command = "ledger verify"
			return s.render(s.command, nil, nil, errs.Usagef("ledger verify: give --witness REPO or --witnesses, not both"))
		}
		if c.IsSet("witness") || c.Bool("witnesses") {
			return withWitnesses(c) // reaches registries: an engine, read-only
		}
		return alone(c)
	}
	return cmd
}

// logSummary is what verify says of the log, after the chains.
func logSummary(w io.Writer, l *ledger.LogReport) {
	if l == nil {
		return
	}
	switch l.Signature {
	case ledger.SignatureNone:
		fmt.Fprintf(w, "log: %s, no signed checkpoint\n", count(int(l.Size), "record"))
	default:
		fmt.Fprintf(w, "log %s: %s, newest checkpoint signs %d, signature %s\n", l.Origin, count(int(l.Size), "record"), l.Signed, l.Signature)
	}
	for _, k := range l.Kept {
		if !k.OK && k.Size == 0 && strings.HasPrefix(k.Problem, "not a checkpoint: ") {
			fmt.Fprintf(w, "kept checkpoint %s: NOT A CHECKPOINT: %s\n", k.Source, strings.TrimPrefix(k.Problem, "not a checkpoint: "))
			continue
		}
		state := "consistent: the log extends it"
		if !k.OK {
			state = "NOT EXTENDED: " + k.Problem
		}
		fmt.Fprintf(w, "kept checkpoint %s (%d): %s\n", k.Source, k.Size, state)
	}
}

// problemPlace names where a problem is: its record, or its leaf.
func problemPlace(p ledger.Problem) string {
	var parts []string
	if p.App != "" || p.Env != "" {
		parts = append(parts, fmt.Sprintf("%s/%s #%d", p.Env, p.App, p.Seq))
	}
	if p.RecordID != "" {
		parts = append(parts, p.RecordID)
	}
	if p.Leaf != nil {
		parts = append(parts, fmt.Sprintf("leaf %d", *p.Leaf))
	}
	if len(parts) == 0 {
		return "log"
	}
	return strings.Join(parts, " ")
}
