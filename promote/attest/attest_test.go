package attest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/registry"
	"github.com/promote-dev/promote/sigverify"
)

// Attest attaches the signed statement as an OCI 1.1 referrer of the
// promoted digest, found through the referrers API where the registry has
// it and through the sha256-<hex> tag schema where it does not, laid out as
// cosign v3 lays out an attestation, and verifiable by the signed gate.
func TestAttestAttachesAReferrer(t *testing.T) {
	for name, opts := range map[string][]regtest.Option{
		"referrers API": nil,
		"tag fallback":  {regtest.WithoutReferrersAPI()},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r := regtest.New(t, opts...)
			repoName := r.Host + "/prod/web"
			d := regtest.Push(t, repoName+":1.4.2", regtest.Image(t, 1, regtest.Labels("1.4.2"), "65532"))
			reg := newClient(t)
			repo, err := reg.Repository(repoName)
			require.NoError(t, err)
			st, err := BuildStatement(promotion(repo.Name(), d.String()))
			require.NoError(t, err)

			s := fixtureSigner(t)
			ref, err := s.Attest(ctx, reg, repo, st)
			require.NoError(t, err)

			refs, err := reg.Referrers(ctx, repo, d)
			require.NoError(t, err)
			require.Len(t, refs, 1)
			assert.Equal(t, ref, refs[0].Digest)
			// The in-process registry's referrers API reports the config's
			// media type (a go-containerregistry quirk); the tag schema and
			// real registries report the manifest's artifactType.
			assert.Contains(t, []string{BundleMediaType, "application/vnd.oci.empty.v1+json"}, refs[0].ArtifactType)
			if opts != nil {
				assert.Equal(t, BundleMediaType, refs[0].ArtifactType)
			}
			assert.Equal(t, PredicateType, refs[0].Annotations[AnnotationPredicateType])
			if opts != nil {
				idx, err := reg.Get(ctx, repo.Tag(registry.AttachmentTag(d, "")))
				require.NoError(t, err, "the referrers tag schema index is written")
				assert.Contains(t, string(idx.Raw), ref.String())
			}

			found, err := Attached(ctx, reg, repo, d, st.Predicate.Record.Hash)
			require.NoError(t, err)
			assert.Len(t, found, 1)
			found, err = Attached(ctx, reg, repo, d, "sha256:another-record")
			require.NoError(t, err)
			assert.Empty(t, found)

			m := referrer(t, reg, repo, ref)
			assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", string(m.MediaType))
			assert.Equal(t, BundleMediaType, m.ArtifactType)
			assert.Equal(t, "application/vnd.oci.empty.v1+json", string(m.Config.MediaType))
			assert.Equal(t, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", m.Config.Digest.String())
			require.Len(t, m.Layers, 1)
			assert.Equal(t, BundleMediaType, string(m.Layers[0].MediaType))
			require.NotNil(t, m.Subject)
			assert.Equal(t, d, m.Subject.Digest)
			assert.Equal(t, map[string]string{
				AnnotationCreated: "2026-11-24T08:30:00Z", AnnotationContent: "dsse-envelope", AnnotationPredicateType: PredicateType,
				AnnotationEnvironment: "prod", AnnotationRecordHash: st.Predicate.Record.Hash,
			}, m.Annotations)

			raw, err := reg.FetchBlob(ctx, repo, m.Layers[0], 1<<20)
			require.NoError(t, err)
			v, err := sigverify.New(sigverify.WithKeys(s.Key()))
			require.NoError(t, err)
			res, err := v.VerifyAttestationBundle(raw, d)
			require.NoError(t, err)
			assert.Equal(t, PredicateType, res.Statement.PredicateType)
		})
	}
}

func referrer(t *testing.T, reg blobRegistry, repo name.Repository, d v1.Hash) *v1.Manifest {
	t.Helper()
	got, err := reg.Get(context.Background(), repo.Digest(d.String()))
	require.NoError(t, err)
	var m v1.Manifest
	require.NoError(t, json.Unmarshal(got.Raw, &m))
	return &m
}

// Nothing is written for a statement about another repository, or about a
// digest the repository does not hold.
func TestAttestRefusesBeforeWriting(t *testing.T) {
	ctx := context.Background()
	r := regtest.New(t)
	d := regtest.Push(t, r.Host+"/prod/web:1", regtest.Image(t, 1, regtest.Labels("1"), "65532"))
	reg := newClient(t)
	repo, err := reg.Repository(r.Host + "/prod/web")
	require.NoError(t, err)
	s := fixtureSigner(t)
	r.Requests()

	st, err := BuildStatement(promotion(r.Host+"/test/web", d.String()))
	require.NoError(t, err)
	_, err = s.Attest(ctx, reg, repo, st)
	assert.ErrorContains(t, err, "the statement names "+r.Host+"/test/web, not "+repo.Name())

	st, err = BuildStatement(promotion(repo.Name(), testDigest))
	require.NoError(t, err)
	_, err = s.Attest(ctx, reg, repo, st)
	assert.ErrorContains(t, err, testDigest+" is not in "+repo.Name())

	assert.Empty(t, regtest.Writes(r.Requests()))
}
