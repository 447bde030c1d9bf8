package promote

import (
	"bytes"
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/promote/ledger"
)

// Where the blob cache knows nothing (a fresh CI runner), the ledger still
// knows which digests earlier promotions put into which repositories of
// the target registry; their manifests say which blobs those repositories
// hold. Reading them costs a few small GETs, so it is done only when the
// bytes to upload are worth it, and within bounds.
const (
	ledgerSearchMinBytes = 8 << 20 // missing bytes below this are just uploaded
	ledgerSearchRecords  = 50      // newest records read per environment
	ledgerSearchRepos    = 8       // repositories whose manifests are read
	ledgerSearchChildren = 8       // child manifests read per index
)

// ledgerMountSources returns, for blobs in missing (digest → size) that
// dst lacks, a repository path on dst's registry that the ledger's records
// show holding them. Best effort: errors only shorten the search.
func (e *Engine) ledgerMountSources(ctx context.Context, dst name.Repository, missing map[v1.Hash]int64) map[v1.Hash]string {
	var total int64
	for _, n := range missing {
		total += n
	}
	found := map[v1.Hash]string{}
	if total < e.searchMin {
		return found
	}
	seen := map[string]bool{dst.RepositoryStr(): true}
	repos := 0
	for _, env := range e.cfg.Environments {
		recs, err := e.led.Records(ctx, ledger.Query{Env: env.Name, Kinds: []ledger.Kind{ledger.KindPromotion, ledger.KindRollback}, Limit: ledgerSearchRecords})
		if err != nil {
			e.log.Debug("ledger search for mount sources stopped", "env", env.Name, "error", err)
			continue
		}
		for _, rec := range recs {
			if repos >= ledgerSearchRepos || len(found) == len(missing) {
				return found
			}
			path, err := env.RepositoryFor(rec.App)
			if err != nil {
				continue
			}
			repo, err := e.reg.Repository(path)
			if err != nil || repo.RegistryStr() != dst.RegistryStr() || seen[repo.RepositoryStr()] {
				continue
			}
			seen[repo.RepositoryStr()] = true
			repos++
			for _, b := range e.blobsOf(ctx, repo, rec.Digest) {
				if _, want := missing[b]; want && found[b] == "" {
					found[b] = repo.RepositoryStr()
				}
			}
		}
	}
	return found
}

// blobsOf lists the config and layer digests of the image or index digest
// names in repo (the children of an index within bounds); nil on any error.
func (e *Engine) blobsOf(ctx context.Context, repo name.Repository, digest string) []v1.Hash {
	m, err := e.rd.Get(ctx, repo.Digest(digest))
	if err != nil {
		return nil
	}
	if idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw)); err == nil && len(idx.Manifests) > 0 {
		var out []v1.Hash
		for i, c := range idx.Manifests {
			if i == ledgerSearchChildren {
				break
			}
			out = append(out, e.blobsOf(ctx, repo, c.Digest.String())...)
		}
		return out
	}
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil
	}
	out := []v1.Hash{mf.Config.Digest}
	for _, l := range mf.Layers {
		out = append(out, l.Digest)
	}
	return out
}
