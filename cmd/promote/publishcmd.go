package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/promote"
)

// ledgerPublishCommand copies the ledger's newest signed checkpoint into
// the witness registries, where a writer of the ledger's store cannot
// reach it.
func ledgerPublishCommand(s *state) *cli.Command {
	const usage = "ledger publish"
	cmd := command("publish", usage, "push the ledger's newest signed checkpoint to the witness repositories, tagged checkpoint-SIZE")
	cmd.Description = `The witnesses are ledger.witnesses, or by default the repository of every
environment with immutable tags, {app} being promote-ledger. Each gets an OCI
artifact (artifactType application/vnd.promote.ledger.checkpoint.v1) holding
the signed note, under a new tag per tree size; a witness that holds it already
is left unchanged. promote ledger verify --witness reads them back: the ledger
must extend every one. Needs the ledger's key (ledger.key) or ledger.public.

Before writing, each witness's newest checkpoint must be one the ledger's
newest extends. If a witness shows the ledger's history was rewritten or cut
short, or holds another checkpoint under the tag, nothing is published
anywhere and the command exits 4. The ledger is only read.`
	cmd.Action = s.action(usage, func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		if _, err := positional(c, usage, 0, 0); err != nil {
			return nil, nil, err
		}
		res, err := eng.PublishCheckpoint(c.Context)
		return partial(res, err, printPublished)
	})
	return cmd
}

// printPublished is ledger publish's text: the checkpoint, then what each
// witness did.
func printPublished(w io.Writer, p *promote.Published) {
	fmt.Fprintf(w, "%s  log %s, %d leaves, %s\n", p.Tag, p.Origin, p.TreeSize, short(p.Digest))
	for _, r := range p.Witnesses {
		word := strings.ToUpper(r.Action)
		if r.Action == promote.WitnessFailed {
			word = "FAIL"
		}
		var detail []string
		switch {
		case r.Error != "":
			detail = append(detail, r.Error)
		case r.Extends > 0:
			detail = append(detail, fmt.Sprintf("extends checkpoint-%d", r.Extends))
		}
		if len(r.Ignored) > 0 {
			detail = append(detail, fmt.Sprintf("ignored %s: not checkpoints signed by the ledger's key (ledger verify --witness reports them)",
				someTags(r.Ignored)))
		}
		line := "  " + paint(w, word) + strings.Repeat(" ", max(0, 11-len(word))) + r.Repository
		if len(detail) > 0 {
			line += "  (" + strings.Join(detail, "; ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// shownTags is how many tags a line names before it counts the rest: a
// witness may hold up to a thousand junk tags, and --output json lists
// every one.
const shownTags = 8

// someTags names the first shownTags of tags and counts the rest.
func someTags(tags []string) string {
	if len(tags) <= shownTags {
		return strings.Join(tags, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(tags[:shownTags], ", "), len(tags)-shownTags)
}
