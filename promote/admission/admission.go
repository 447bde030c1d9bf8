// Package admission turns an environment of the pipeline into admission
// policies for a cluster that runs it: Gatekeeper, Kyverno and sigstore
// policy-controller. It is pure: Export takes plain data (Input) and returns
// files whose bytes depend on that data alone, so exporting the same
// configuration and ledger twice gives the same bytes.
package admission

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Controller is an admission controller Export writes policies for.
type Controller string

// The controllers Export knows.
const (
	Gatekeeper       Controller = "gatekeeper"
	Kyverno          Controller = "kyverno"
	PolicyController Controller = "policy-controller"
)

// Controllers is every controller, in the order the documentation lists them.
var Controllers = []Controller{Gatekeeper, Kyverno, PolicyController}

// PredicateType is the predicate type of promote's promotion attestation
// (as promote/attest writes it), which the Kyverno and policy-controller
// exports require.
const PredicateType = "https://promote.dev/attestation/promotion/v1"

// Input is everything one export is made of.
type Input struct {
	Env        string // the environment the cluster runs, such as prod
	Repository string // its repository pattern, still holding {app}
	// Repositories are the pattern's repositories of the apps the
	// environment holds: the only ones a pod may pull from. An app
	// promoted there for the first time needs a new export.
	Repositories []string
	MovingTags   []string
	Revoked      []Revoked
	// PublicKeyPEM verifies the environment's promotion attestations; the
	// Kyverno and policy-controller exports require it, Gatekeeper's
	// ignores it.
	PublicKeyPEM []byte
	Source       Source
}

// Revoked is one digest no pod may run: a revoked digest, or a manifest of
// the content its revocation covers.
type Revoked struct {
	Digest     string `json:"digest"`
	App        string `json:"app"`
	Revocation string `json:"revocation"` // the id of the revocation record
}

// Source says which configuration and ledger state an export came from.
// Exactly one of Checkpoint and Head is set: the newest signed checkpoint
// of a keyed ledger, else the newest record ("" for an empty ledger).
type Source struct {
	Config       string // the configuration file's name
	ConfigSHA256 string // hex SHA-256 of its bytes
	Checkpoint   *Checkpoint
	Head         string // "RECORD-ID HASH" of the newest record of a ledger without a key
}

// Checkpoint is a signed ledger checkpoint: its origin, tree size and root
// hash (base64, as the signed note carries it).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   string
}

// File is one exported file: a path relative to the output directory and
// its bytes (one YAML document).
type File struct {
	Name string
	Data []byte
}

var (
	envName   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	digestRe  = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	sha256Hex = regexp.MustCompile(`^[a-f0-9]{64}$`)
	tagRe     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// Export returns the files for controller c, sorted by name. Input that
// cannot make a correct policy (an environment name that is not a
// Kubernetes name, a bad pattern, digest or tag, a missing public key where
// c needs one) is an error that names it, and no file is returned.
func Export(c Controller, in Input) ([]File, error) {
	in, err := normalize(in)
	if err != nil {
		return nil, err
	}
	var files []File
	switch c {
	case Gatekeeper:
		files, err = gatekeeper(in)
	case Kyverno, PolicyController:
		if len(in.PublicKeyPEM) == 0 {
			return nil, fmt.Errorf("the %s export requires promote's signed promotion attestation, "+
				"and environment %s has no attestation public key", c, in.Env)
		}
		if c == Kyverno {
			files, err = kyverno(in)
		} else {
			files, err = policyController(in)
		}
	default:
		return nil, fmt.Errorf("unknown controller %q; expected one of %s", c, controllerList())
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// normalize checks in and returns it with its lists sorted and deduplicated
// and its key in canonical PEM.
func normalize(in Input) (Input, error) {
	if !envName.MatchString(in.Env) || len(in.Env) > 40 {
		return in, fmt.Errorf("environment name %q cannot name a Kubernetes object; expected lowercase a-z, 0-9 and '-', at most 40 characters", in.Env)
	}
	pat, err := compilePattern(in.Repository)
	if err != nil {
		return in, err
	}
	if len(in.Repositories) == 0 {
		return in, fmt.Errorf("environment %s holds no app yet, so no repository of it may run: promote an app into it, then export", in.Env)
	}
	repos, re := slices.Clone(in.Repositories), regexp.MustCompile(pat)
	for _, r := range repos {
		if !re.MatchString(r) {
			return in, fmt.Errorf("repository %q is not one of the pattern %s", r, in.Repository)
		}
	}
	slices.Sort(repos)
	in.Repositories = slices.Compact(repos)
	s := in.Source
	if !sha256Hex.MatchString(s.ConfigSHA256) {
		return in, fmt.Errorf("config sha256 %q is not 64 lowercase hex digits", s.ConfigSHA256)
	}
	if (s.Checkpoint != nil) == (s.Head != "") {
		return in, errors.New("the source names both a ledger checkpoint and a head, or neither")
	}
	tags := slices.Clone(in.MovingTags)
	for _, t := range tags {
		if !tagRe.MatchString(t) {
			return in, fmt.Errorf("moving tag %q is not a valid tag", t)
		}
	}
	slices.Sort(tags)
	in.MovingTags = slices.Compact(tags)
	revoked := slices.Clone(in.Revoked)
	for _, r := range revoked {
		if !digestRe.MatchString(r.Digest) {
			return in, fmt.Errorf("revoked digest %q (app %s) is not sha256:<64 hex digits>", r.Digest, r.App)
		}
	}
	slices.SortFunc(revoked, func(a, b Revoked) int {
		return cmpJoin(strings.Compare(a.Digest, b.Digest), strings.Compare(a.App, b.App), strings.Compare(a.Revocation, b.Revocation))
	})
	in.Revoked = slices.CompactFunc(revoked, func(a, b Revoked) bool { return a.Digest == b.Digest })
	if len(in.PublicKeyPEM) > 0 {
		k, err := canonicalKey(in.PublicKeyPEM)
		if err != nil {
			return in, err
		}
		in.PublicKeyPEM = k
	}
	return in, nil
}

// canonicalKey re-encodes a PEM public key, so that the same key exported
// from a file or derived from the private key gives the same bytes.
func canonicalKey(p []byte) ([]byte, error) {
	blk, _ := pem.Decode(p)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("the attestation public key is not a PEM PUBLIC KEY")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the attestation public key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("the attestation public key: %w", err)
	}
	return bytes.TrimSpace(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// cmpJoin returns the first non-zero comparison.
func cmpJoin(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}

func controllerList() string {
	s := make([]string, len(Controllers))
	for i, c := range Controllers {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
