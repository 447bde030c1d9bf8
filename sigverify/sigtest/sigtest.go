// Package sigtest mints keyless sigstore signatures for tests, offline:
// sigstore-go's virtual sigstore (an in-memory Fulcio, Rekor and TSA) signs
// as a given identity, and this package packs the result the way cosign
// attaches it to an image (a v0.3 bundle, or a legacy .sig layer's
// annotations) with the trusted_root.json that verifies it. Tests only.
package sigtest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
)

// Sigstore is a virtual sigstore deployment.
type Sigstore struct{ vs *ca.VirtualSigstore }

// New starts a virtual sigstore (nothing listens: it is all in memory).
func New(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	require.NoError(t, err)
	return &Sigstore{vs: vs}
}

// TrustedRootJSON is the deployment's trusted_root.json: its Fulcio CA,
// Rekor log and TSA, and its CT log when withCT (which makes an SCT
// mandatory; the virtual Fulcio embeds none).
func (s *Sigstore) TrustedRootJSON(t testing.TB, withCT bool) []byte {
	t.Helper()
	// The virtual logs' IDs are hex strings; a trusted root holds raw bytes.
	raw := func(logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
		for id, l := range logs {
			b, err := hex.DecodeString(id)
			require.NoError(t, err)
			l.ID = b
		}
		return logs
	}
	var ct map[string]*root.TransparencyLog
	if withCT {
		ct = raw(s.vs.CTLogs())
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.vs.FulcioCertificateAuthorities(), ct, s.vs.TimestampingAuthorities(), raw(s.vs.RekorLogs()))
	require.NoError(t, err)
	js, err := tr.MarshalJSON()
	require.NoError(t, err)
	return js
}

// promised adds to a log entry what a Rekor v1 response carries and the
// virtual one lacks: its kind and its signed entry timestamp.
func (s *Sigstore) promised(t testing.TB, e *tlog.Entry) *protorekor.TransparencyLogEntry {
	t.Helper()
	tle := e.TransparencyLogEntry()
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	require.NoError(t, json.Unmarshal(tle.CanonicalizedBody, &kv))
	tle.KindVersion = &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion}
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	require.NoError(t, err)
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}

// Bundle signs an in-toto statement keylessly as identity (issued by
// issuer) and returns the sigstore bundle (v0.3) cosign v3 attaches:
// certificate, DSSE envelope, Rekor entry with inclusion proof and
// promise, RFC 3161 timestamp.
func (s *Sigstore) Bundle(t testing.TB, identity, issuer string, statement []byte) []byte {
	t.Helper()
	ent, err := s.vs.AttestAtTime(identity, issuer, statement, time.Now().Add(5*time.Minute), true)
	require.NoError(t, err)
	vc, err := ent.VerificationContent()
	require.NoError(t, err)
	sc, err := ent.SignatureContent()
	require.NoError(t, err)
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	require.NoError(t, err)
	entries, err := ent.TlogEntries()
	require.NoError(t, err)
	tsrs, err := ent.Timestamps()
	require.NoError(t, err)
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TlogEntries:               []*protorekor.TransparencyLogEntry{s.promised(t, entries[0])},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsrs[0]}}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	raw, err := protojson.Marshal(pb)
	require.NoError(t, err)
	return raw
}

// LegacyAnnotations signs payload (a simple-signing payload) keylessly and
// returns the annotations of the .sig layer cosign v2 writes: signature,
// certificate and Rekor bundle.
func (s *Sigstore) LegacyAnnotations(t testing.TB, identity, issuer string, payload []byte) map[string]string {
	t.Helper()
	ent, err := s.vs.Sign(identity, issuer, payload)
	require.NoError(t, err)
	vc, err := ent.VerificationContent()
	require.NoError(t, err)
	sc, err := ent.SignatureContent()
	require.NoError(t, err)
	entries, err := ent.TlogEntries()
	require.NoError(t, err)
	tle := s.promised(t, entries[0])
	rb, err := json.Marshal(map[string]any{
		"SignedEntryTimestamp": tle.InclusionPromise.SignedEntryTimestamp,
		"Payload": map[string]any{
			"body":           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
			"integratedTime": tle.IntegratedTime,
			"logIndex":       tle.LogIndex,
			"logID":          hex.EncodeToString(tle.LogId.KeyId),
		},
	})
	require.NoError(t, err)
	return map[string]string{
		"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sc.Signature()),
		"dev.sigstore.cosign/certificate":    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})),
		"dev.sigstore.cosign/bundle":         string(rb),
	}
}
