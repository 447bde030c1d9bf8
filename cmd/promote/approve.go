package main

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/promote"
)

func approveCommand(s *state) *cli.Command {
	const usage = "approve ENV APP@DIGEST --key FILE --reason TEXT [--approver NAME]"
	cmd := command("approve", usage, "sign an approval of a digest for ENV and attach it where a promotion into ENV counts it",
		&cli.StringFlag{Name: "key", Usage: "the approver's private key `FILE` (cosign's format; its password in $COSIGN_PASSWORD)"},
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why the digest may enter ENV (required)"},
		&cli.StringFlag{Name: "approver", Usage: "`NAME` the approval states (default: the CI identity, else the OS user, else the key's ID)"})
	cmd.Description = `An approval is a signed in-toto attestation (predicate type
` + promote.ApprovalPredicateType + `) of
{environment, app, approver, reason, time} on the digest, attached as an OCI 1.1
referrer in the repository ENV is promoted from. A promotion into ENV counts the
approvals of ENV's approvals block: distinct listed signers, for ENV, within its
expires; the promoter's own key never counts. cosign attest --key KEY --type
` + promote.ApprovalPredicateType + ` --predicate FILE makes one
too, and cosign verify-attestation checks either.

Refused (exit 2), writing nothing: an ENV without approvals, a reference without
a digest, no --reason, a digest not in the source repository, a key ENV's
approvals do not list or that signs ENV's promotion attestations.`
	cmd.Action = s.action("approve", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 2, 2)
		if err != nil {
			return nil, nil, err
		}
		ref, err := promote.ParseRef(a[1])
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Approve(c.Context, promote.ApproveRequest{Env: a[0], Ref: ref, Key: c.String("key"),
			Reason: c.String("reason"), Approver: c.String("approver")})
		return answer(res, err, printApproval)
	})
	return cmd
}

func printApproval(w io.Writer, r *promote.ApproveResult) {
	fmt.Fprintf(w, "approved %s@%s for %s\n", r.App, short(r.Digest), r.Env)
	fmt.Fprintf(w, "  approver     %s (key %s)\n", r.Approver, r.KeyID)
	fmt.Fprintf(w, "  reason       %s\n", r.Reason)
	fmt.Fprintf(w, "  time         %s\n", r.Time.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  attached to  %s@%s\n", r.Repository, r.Digest)
	fmt.Fprintf(w, "  attestation  %s\n", r.Attestation)
	fmt.Fprintf(w, "promote status %s shows the approvals %s still needs\n", r.App, r.Env)
}
