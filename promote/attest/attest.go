// Package attest makes the signed promotion attestation: an in-toto v1
// statement with promote's own predicate (PredicateType) about a promoted
// digest, signed with a configured key (cosign's key format) into a sigstore
// bundle, and attached to that digest in the target repository as an OCI 1.1
// referrer, as `cosign attest` (v3) attaches one. `cosign verify-attestation
// --key KEY.pub --type https://promote.dev/attestation/promotion/v1` (v3,
// and v2 given a trusted root) accepts it, and so does Kyverno 1.19's
// SigstoreBundle verifier (docs/admission.md). It makes the approval
// attestation (approval.go) the same way: an approver's statement that a
// digest may enter an environment, which `promote approve` attaches.
//
// # Where the engine calls it
//
// After the promotion's ledger record is appended (the statement carries the
// record's seq and hash and, with a keyed ledger, its inclusion proof in the
// signed checkpoint after it: Promotion.Ledger), outside the ledger lock, as
// one more referrer write: in Promote, once execute has returned nil,
//
//	st, err := attest.BuildStatement(attest.Promotion{...from res and res.Record...})
//	d, err := signer.Attest(ctx, e.reg, dst, st)
//
// A failure to attach is reported (exit 1) but the promotion stands: the
// content, the tags and the ledger record are already written, the ledger is
// append-only and immutable repositories refuse to delete tags, so there is
// nothing to roll back to. The record is the source of truth and the
// attestation a proof derived from it: it is retried, never rolled back. A
// re-run that finds nothing to copy (NothingToDo) should call Attached with
// the current record's hash and attest when it finds none. Dry runs,
// rejections and rollbacks attach nothing.
package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/promote/registry"
)

// Annotations of the referrer manifest. The first three are what cosign v3
// writes; the dev.promote ones help find the attestation of a record. None
// is signed: trust only the verified statement.
const (
	AnnotationCreated       = "org.opencontainers.image.created"
	AnnotationContent       = "dev.sigstore.bundle.content"
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationEnvironment   = "dev.promote.environment"
	AnnotationRecordHash    = "dev.promote.record.hash"
)

// Registry is what Attest needs of a registry client: *registry.Client
// once it has PutBlob, which uploads a small in-memory blob (skipping one
// the repository holds) and returns its descriptor.
type Registry interface {
	Head(ctx context.Context, ref name.Reference) (*v1.Descriptor, error)
	PutBlob(ctx context.Context, repo name.Repository, mt types.MediaType, data []byte) (v1.Descriptor, error)
	Put(ctx context.Context, ref name.Reference, m *registry.Manifest) error
	Referrers(ctx context.Context, repo name.Repository, d v1.Hash) ([]v1.Descriptor, error)
}

// Attest signs st and attaches it to its digest in repo: the empty config
// and the bundle blobs, then the referrer manifest by digest (Put also
// updates the sha256-<hex> referrers tag on a registry without the
// referrers API). It returns the referrer manifest's digest. st must name
// repo (BuildStatement with repo's name) and the digest must be in repo.
func (s *Signer) Attest(ctx context.Context, reg Registry, repo name.Repository, st Statement) (v1.Hash, error) {
	return s.attach(ctx, reg, repo, st)
}

// statement is what Sign and Attest handle: a promotion Statement or an
// ApprovalStatement.
type statement interface {
	Digest() (v1.Hash, error)
	Payload() ([]byte, error) // the statement as signed; it checks the statement first
	subjectName() string
	predicateType() string
	annotations() map[string]string // of the referrer manifest
}

// attach is Attest for any statement.
func (s *Signer) attach(ctx context.Context, reg Registry, repo name.Repository, st statement) (v1.Hash, error) {
	d, err := st.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	if st.subjectName() != repo.Name() {
		return v1.Hash{}, fmt.Errorf("attestation: the statement names %s, not %s", st.subjectName(), repo.Name())
	}
	subject, err := reg.Head(ctx, repo.Digest(d.String()))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attestation: %w", err)
	}
	if subject == nil {
		return v1.Hash{}, fmt.Errorf("attestation: %s is not in %s", d, repo.Name())
	}
	raw, err := s.sign(st)
	if err != nil {
		return v1.Hash{}, err
	}
	cfg, err := reg.PutBlob(ctx, repo, types.OCIEmptyJSON, []byte("{}"))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attestation: %w", err)
	}
	layer, err := reg.PutBlob(ctx, repo, BundleMediaType, raw)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("attestation: %w", err)
	}
	m, err := referrerManifest(cfg, layer, v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}, st)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := reg.Put(ctx, repo.Digest(m.Digest.String()), m); err != nil {
		return v1.Hash{}, fmt.Errorf("attestation: %w", err)
	}
	return m.Digest, nil
}

// referrerManifest is the manifest cosign v3 writes for an attestation
// bundle: artifactType and the one layer the bundle media type, the OCI
// empty config, the subject, the statement's annotations.
func referrerManifest(cfg, layer, subject v1.Descriptor, st statement) (*registry.Manifest, error) {
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  BundleMediaType,
		Config:        v1.Descriptor{MediaType: cfg.MediaType, Digest: cfg.Digest, Size: cfg.Size, ArtifactType: BundleMediaType},
		Layers:        []v1.Descriptor{layer},
		Subject:       &subject,
		Annotations:   st.annotations(),
	})
	if err != nil {
		return nil, fmt.Errorf("attestation: encoding the referrer manifest: %w", err)
	}
	sum := sha256.Sum256(raw)
	return &registry.Manifest{Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, Type: types.OCIManifestSchema1, Raw: raw}, nil
}

// Attached lists the promotion attestations of d in repo, found through the
// referrers API or its tag fallback by their annotations; with recordHash
// set, only those made for that ledger record. Annotations are not signed:
// this finds, it does not verify.
func Attached(ctx context.Context, reg Registry, repo name.Repository, d v1.Hash, recordHash string) ([]v1.Descriptor, error) {
	refs, err := reg.Referrers(ctx, repo, d)
	if err != nil {
		return nil, fmt.Errorf("attestation: %w", err)
	}
	var out []v1.Descriptor
	for _, r := range refs {
		// Some registries (go-containerregistry's own) report the config's
		// media type as artifactType, ignoring the manifest's.
		if r.ArtifactType != BundleMediaType && r.ArtifactType != string(types.OCIEmptyJSON) {
			continue
		}
		if r.Annotations[AnnotationPredicateType] != PredicateType {
			continue
		}
		if recordHash != "" && r.Annotations[AnnotationRecordHash] != recordHash {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
