package promote

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// minDigestPrefix is the fewest hex digits a shortened digest may have:
// what history and show print (sha256: and 12 hex digits).
const minDigestPrefix = 12

// digestPrefix reports whether s names a digest by a prefix of its hex
// (sha256:HEX or bare HEX, at least minDigestPrefix and fewer than 64
// digits), and returns that prefix in sha256:hex form, lowercased.
func digestPrefix(s string) (string, bool) {
	hex := strings.ToLower(strings.TrimPrefix(s, "sha256:"))
	if len(hex) < minDigestPrefix || len(hex) >= 64 {
		return "", false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return "sha256:" + hex, true
}

// digestArg reads an argument that may be a digest: sha256:HEX or bare
// HEX, any case. It returns the digest in its normal form (sha256: and
// lowercase hex: all 64 digits, or a prefix of 12 to 63 that
// expandDigest resolves) and true; false for what is not hex at all (a
// record id). Hex of another length is a usage error naming arg.
func digestArg(flag, arg string) (string, bool, error) {
	hex, had := strings.CutPrefix(strings.ToLower(arg), "sha256:")
	isHex := hex != ""
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			isHex = false
		}
	}
	switch {
	case !isHex && !had:
		return "", false, nil
	case isHex && len(hex) >= minDigestPrefix && len(hex) <= 64:
		return "sha256:" + hex, true, nil
	}
	return "", false, errs.Usagef("%s %s: a digest is sha256: and 64 hex digits, or at least its first %d (as history prints it); or pass a record id",
		flag, arg, minDigestPrefix)
}

// expandDigest finds the one digest among held that starts with prefix
// (digestPrefix's form). given is the argument as typed ("--to
// sha256:b7f018b6fe24"), where says what held is ("test held for web"),
// none what to do when nothing matches. An unknown or ambiguous prefix is a
// usage error: the second lists the candidates.
func expandDigest(given, prefix string, held []string, where, none string) (string, error) {
	seen := map[string]bool{}
	var matches []string
	for _, d := range held {
		if strings.HasPrefix(d, prefix) && !seen[d] {
			seen[d] = true
			matches = append(matches, d)
		}
	}
	sort.Strings(matches)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", errs.Usagef("%s: no digest %s starts with %s; %s", given, where, prefix, none)
	}
	return "", errs.Usagef("%s: %d digests %s start with it: %s; pass more of the digest, the full digest or a record id",
		given, len(matches), where, strings.Join(matches, ", "))
}

// heldDigests lists the digests env held for app, per the ledger's
// promotions and rollbacks (with repeats).
func (r *Reader) heldDigests(ctx context.Context, app, env string) ([]string, error) {
	recs, err := r.led.Records(ctx, ledger.Query{App: app, Env: env, Kinds: []ledger.Kind{ledger.KindPromotion, ledger.KindRollback}})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	held := make([]string, len(recs))
	for i, rec := range recs {
		held[i] = rec.Digest
	}
	return held, nil
}

// expandSource expands the digest prefix of APP@PREFIX, a promotion's
// source in from: against the digests from held per the ledger, or, for
// an environment fed by pushes (no ledger history), those the tags of its
// repository name.
func (e *Engine) expandSource(ctx context.Context, from *config.Environment, repo name.Repository, app, prefix string) (string, error) {
	given := app + "@" + prefix
	if from.From != "" {
		held, err := e.reader().heldDigests(ctx, app, from.Name)
		if err != nil {
			return "", err
		}
		return expandDigest(given, prefix, held, from.Name+" held for "+app,
			fmt.Sprintf("pass the full digest (promote history %s --env %s lists them)", app, from.Name))
	}
	tagged, err := e.taggedDigests(ctx, repo)
	if err != nil {
		return "", fmt.Errorf("%s: %w", given, err)
	}
	return expandDigest(given, prefix, tagged, "tagged in "+repo.Name(),
		"an untagged digest is matched only in full: pass the full digest")
}

// taggedDigests lists the digests the tags of repo name (attachment tags
// left out), asking jobs tags at a time.
func (e *Engine) taggedDigests(ctx context.Context, repo name.Repository) ([]string, error) {
	tags, err := e.rd.Tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var out []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Jobs())
	for _, t := range tags {
		if registry.IsAttachmentTag(t) {
			continue
		}
		g.Go(func() error {
			d, err := e.rd.Head(gctx, repo.Tag(t))
			if err != nil || d == nil {
				return err
			}
			mu.Lock()
			out = append(out, d.Digest.String())
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}
