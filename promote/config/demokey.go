package config

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"
)

// demoKeyFingerprint is the SHA-256 of the PKIX (DER) public key of the
// key pair committed for `make demo` (testdata/demo/demo.key, demo.pub).
// Anyone can sign with it, so it is refused outside loopback registries.
const demoKeyFingerprint = "f97643d7c972f79d21911f7479ad8f2a3b6e9f2b958e13b63f98ab602188717b"

// maxKeyFile bounds what is read of a file a gate or attest block names.
const maxKeyFile = 1 << 20

// maxSettingsDepth bounds the walk of a gate's settings.
const maxSettingsDepth = 32

// demoKeys refuses the demo key pair in an environment whose registry is
// not on loopback: any file that a gate's settings or the attest block
// name which lies in a testdata/demo directory or holds the demo key
// (a copy, re-wrapped or not; the public or the private half).
func (w *walker) demoKeys(e *Environment, f map[string]entry, path string) error {
	host := registryHost(e.Repository)
	if isLoopback(host) {
		return nil
	}
	refuse := func(n *yaml.Node, field, value, why, want string) error {
		return w.errf(n, field, "%q %s, whose private key is committed for anyone to sign with; "+
			"environment %s uses the registry %s, which is not a loopback registry (localhost, 127.0.0.0/8, ::1), so the demo key is refused there: "+
			"generate your own key pair with cosign generate-key-pair and name %s here",
			value, why, e.Name, host, want)
	}
	if ent, ok := f["gates"]; ok {
		if n, field, v, why := w.findDemoKey(ent.val, join(path, "gates"), 0); n != nil {
			return refuse(n, field, v, why, "its public key (cosign.pub)")
		}
	}
	if ent, ok := f["approvals"]; ok {
		if n, field, v, why := w.findDemoKey(ent.val, join(path, "approvals"), 0); n != nil {
			return refuse(n, field, v, why, "an approver's public key")
		}
	}
	if ent, ok := f["attest"]; ok && e.Attest != nil {
		if n := lookup(deref(ent.val), "key"); n != nil {
			if why := demoKeyFile(e.Attest.Key); why != "" {
				return refuse(deref(n), join(path, "attest.key"), deref(n).Value, why, "its private key (cosign.key)")
			}
		}
	}
	return nil
}

// findDemoKey walks n and returns the first string that names a demo key
// file, with its node, field path and why it is one; a nil node if none.
func (w *walker) findDemoKey(n *yaml.Node, path string, depth int) (*yaml.Node, string, string, string) {
	n = deref(n)
	if n == nil || depth > maxSettingsDepth {
		return nil, "", "", ""
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" || n.Value == "" {
			return nil, "", "", ""
		}
		p := n.Value
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(w.file), p)
		}
		if why := demoKeyFile(p); why != "" {
			return n, path, n.Value, why
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if m, f, v, why := w.findDemoKey(item, index(path, i), depth+1); m != nil {
				return m, f, v, why
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if m, f, v, why := w.findDemoKey(n.Content[i+1], join(path, deref(n.Content[i]).Value), depth+1); m != nil {
				return m, f, v, why
			}
		}
	}
	return nil, "", "", ""
}

// demoKeyFile says why the regular file at p is the demo key, or "".
func demoKeyFile(p string) string {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxKeyFile {
		return ""
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		if abs, err := filepath.Abs(real); err == nil && inDemoDir(abs) {
			return "is in testdata/demo, the key pair of make demo"
		}
	}
	if data, err := os.ReadFile(p); err == nil && isDemoKey(data) {
		return "is a copy of the demo key (testdata/demo, the key pair of make demo)"
	}
	return ""
}

// inDemoDir reports whether the absolute path p lies in a testdata/demo directory.
func inDemoDir(p string) bool {
	parts := strings.Split(filepath.ToSlash(p), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "testdata" && parts[i+1] == "demo" {
			return true
		}
	}
	return false
}

// isDemoKey reports whether any PEM block of data holds the demo key: a
// PKIX public key, or a PKCS#8 or SEC 1 private key whose public half it is.
func isDemoKey(data []byte) bool {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return false
		}
		if der := publicDER(b.Bytes); der != nil {
			sum := sha256.Sum256(der)
			if hex.EncodeToString(sum[:]) == demoKeyFingerprint {
				return true
			}
		}
	}
}

func publicDER(block []byte) []byte {
	var pub crypto.PublicKey
	if k, err := x509.ParsePKIXPublicKey(block); err == nil {
		pub = k
	} else if k, err := x509.ParsePKCS8PrivateKey(block); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			pub = s.Public()
		}
	} else if k, err := x509.ParseECPrivateKey(block); err == nil {
		pub = k.Public()
	}
	if pub == nil {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return bytes.Clone(der)
}

// registryHost is the registry host of a repository pattern, in lower case
// (index.docker.io for a pattern that names none).
func registryHost(pattern string) string {
	const marker = "promote--app--placeholder"
	r, err := name.NewRepository(strings.ReplaceAll(pattern, appPlaceholder, marker), name.StrictValidation)
	if err != nil {
		host, _, _ := strings.Cut(pattern, "/")
		return strings.ToLower(host)
	}
	return strings.ToLower(r.RegistryStr())
}

// isLoopback reports whether host[:port] is localhost or a loopback address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
