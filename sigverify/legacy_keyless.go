package sigverify

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
)

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation: a Rekor
// v1 entry with its signed entry timestamp (inclusion promise).
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// legacyCertificateMaterial builds the verification material of a keyless
// legacy signature from its annotations: the certificate and chain (PEM)
// and the Rekor bundle, without which there is no trusted signing time.
func legacyCertificateMaterial(ann map[string]string) (*protobundle.VerificationMaterial, error) {
	certs, err := pemCertificates(ann[AnnotationCertificate])
	if err != nil || len(certs) == 0 {
		return nil, errors.New("certificate annotation is not a PEM certificate")
	}
	if chain := ann[AnnotationChain]; chain != "" {
		more, err := pemCertificates(chain)
		if err != nil {
			return nil, errors.New("chain annotation is not PEM certificates")
		}
		certs = append(certs, more...)
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{Certificates: certs}},
	}
	if raw := ann[AnnotationBundle]; raw != "" {
		tle, err := rekorEntry([]byte(raw))
		if err != nil {
			return nil, err
		}
		vm.TlogEntries = []*protorekor.TransparencyLogEntry{tle}
	}
	return vm, nil
}

// pemCertificates decodes every CERTIFICATE block of s.
func pemCertificates(s string) ([]*protocommon.X509Certificate, error) {
	var out []*protocommon.X509Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a certificate", b.Type)
		}
		out = append(out, &protocommon.X509Certificate{RawBytes: b.Bytes})
	}
	return out, nil
}

// rekorEntry converts cosign's Rekor bundle annotation into the
// transparency log entry of a sigstore bundle; sigstore-go then checks the
// promise against the trusted root's log key and the entry against the
// signature.
func rekorEntry(raw []byte) (*protorekor.TransparencyLogEntry, error) {
	var rb rekorBundle
	if err := json.Unmarshal(raw, &rb); err != nil {
		return nil, errors.New("transparency log bundle annotation is not valid JSON")
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, errors.New("transparency log bundle body is not valid base64")
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, errors.New("transparency log bundle logID is not hex")
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" {
		return nil, errors.New("transparency log bundle body names no entry kind")
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}
