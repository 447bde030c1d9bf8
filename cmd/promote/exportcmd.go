package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/admission"
)

// policyCommand groups what promote says about policies outside itself:
// today, admission policies for the clusters that run an environment.
func policyCommand(s *state) *cli.Command {
	return &cli.Command{
		Name:        "policy",
		Usage:       "export admission policies that admit only what promote promoted into an environment",
		Subcommands: []*cli.Command{policyExportCommand(s)},
	}
}

func policyExportCommand(s *state) *cli.Command {
	const usage = "policy export --for gatekeeper|kyverno|policy-controller [--env ENV] [--out DIR] [--attest-pub FILE]"
	cmd := command("export", usage, "write Gatekeeper, Kyverno or policy-controller policies for the cluster that runs ENV",
		&cli.StringFlag{Name: "for", Usage: "the admission controller, one of `gatekeeper|kyverno|policy-controller`"},
		&cli.StringFlag{Name: "env", Usage: "the environment `ENV` the cluster runs (default: the pipeline's last, such as prod)"},
		&cli.StringFlag{Name: "out", Usage: "write the files under `DIR` (default: print them to stdout as one YAML stream)"},
		&cli.StringFlag{Name: "attest-pub", Usage: "the attestation public key `FILE` (PEM), instead of deriving it from ENV's attest key"})
	cmd.Description = `The policies admit a pod only when every image (containers, initContainers,
ephemeralContainers) is referenced by digest, from the repository of an app ENV
holds (by the ledger), under no moving tag, and not revoked (for any app); the
kyverno and policy-controller exports also require promote's signed promotion
attestation for ENV. Every file names the config (sha256) and ledger checkpoint
it came from; the same config and ledger give the same bytes. Export again
after a revocation and after an app's first promotion into ENV. See
docs/admission.md.`
	cmd.Action = s.query("policy export", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		if _, err := positional(c, usage, 0, 0); err != nil {
			return nil, nil, err
		}
		if c.String("for") == "" {
			return nil, nil, errs.Usagef("policy export: --for is required: gatekeeper, kyverno or policy-controller")
		}
		exp, err := r.ExportAdmission(c.Context, promote.AdmissionRequest{
			Controller: admission.Controller(c.String("for")), Env: c.String("env"), AttestPub: c.String("attest-pub")})
		if err != nil {
			return nil, nil, err
		}
		return exportResult(exp, c.String("out"))
	})
	return cmd
}

// exported is policy export's JSON result.
type exported struct {
	Controller admission.Controller `json:"controller"`
	Env        string               `json:"env"`
	Dir        string               `json:"dir,omitempty"`
	Files      []exportedFile       `json:"files"`
}

// exportedFile is one file: where it was written (or its name), its
// SHA-256, and its content when it was not written.
type exportedFile struct {
	Name    string `json:"name"`
	Path    string `json:"path,omitempty"`
	SHA256  string `json:"sha256"`
	Content string `json:"content,omitempty"`
}

// exportResult writes the files under dir when dir is set; the text output
// is then the paths written, else the files as one YAML stream.
func exportResult(exp *promote.AdmissionExport, dir string) (any, func(io.Writer), error) {
	res := exported{Controller: exp.Controller, Env: exp.Env, Dir: dir}
	for _, f := range exp.Files {
		sum := sha256.Sum256(f.Data)
		ef := exportedFile{Name: f.Name, SHA256: hex.EncodeToString(sum[:])}
		if dir == "" {
			ef.Content = string(f.Data)
		} else {
			ef.Path = filepath.Join(dir, filepath.FromSlash(f.Name))
		}
		res.Files = append(res.Files, ef)
	}
	if dir == "" {
		return res, func(w io.Writer) {
			for _, f := range exp.Files {
				w.Write(f.Data)
			}
		}, nil
	}
	if err := writeFiles(dir, exp.Files); err != nil {
		return nil, nil, err
	}
	return res, func(w io.Writer) {
		for _, f := range res.Files {
			fmt.Fprintf(w, "wrote %s\n", f.Path)
		}
	}, nil
}

// writeFiles writes each file under dir, each whole or not at all (a
// temporary file renamed into place), replacing an earlier export's.
func writeFiles(dir string, files []admission.File) error {
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
		if err != nil {
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		_, werr := tmp.Write(f.Data)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), 0o644)
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), path)
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("writing %s: %w", path, werr)
		}
	}
	return nil
}
