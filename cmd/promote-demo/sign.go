package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// sign attaches a signature of REPO@DIGEST in cosign's legacy format (a
// simple-signing payload layer with the signature in an annotation, under
// the sha256-<hex>.sig tag), so the demo needs no cosign binary.
func sign(args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	keyPath := fs.String("key", "testdata/demo/demo.key", "PEM PKCS#8 ECDSA private key")
	if len(args) < 1 {
		return fmt.Errorf("sign: missing REPO@DIGEST")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ref, err := name.NewDigest(args[0])
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	key, err := loadKey(*keyPath)
	if err != nil {
		return err
	}
	kc, err := ecrKeychain()
	if err != nil {
		return err
	}
	payload := fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`,
		ref.Context().Name(), ref.DigestStr())
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return err
	}
	layer := static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json")
	img, err := mutate.Append(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
		mutate.Addendum{Layer: layer, Annotations: map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)}})
	if err != nil {
		return err
	}
	h := ref.DigestStr()
	tag := ref.Context().Tag("sha256-" + h[len("sha256:"):] + ".sig")
	if err := remote.Write(tag, img, remote.WithAuthFromKeychain(kc)); err != nil {
		return fmt.Errorf("sign: writing %s: %w", tag, err)
	}
	fmt.Printf("signed %s (%s)\n", ref, tag.TagStr())
	return nil
}

func loadKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("sign: %s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sign: %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("sign: %s is a %T, not an ECDSA key", path, k)
	}
	return ek, nil
}
