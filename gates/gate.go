// Package gates defines the Gate interface, the Subject a gate judges and the
// registry of gate kinds that environments.yaml names. A gate reads what the
// Subject holds (manifests, configs, referrer descriptors) and never writes.
package gates

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"github.com/promote-dev/promote/gates/verdict"
)

// Gate judges one Subject. It returns a Verdict with evidence when it could
// judge, and an error only when it could not (a fetch failed): the engine
// then fails closed.
type Gate interface {
	Evaluate(ctx context.Context, s *Subject) (Verdict, error)
}

// EvidenceJudge is a Gate that judges the promotion's evidence document
// (Subject.Evidence, package evidence) rather than the Subject alone: the
// engine runs it after every other gate of the environment, once their
// verdicts are in the document.
type EvidenceJudge interface {
	Gate
	JudgesEvidence()
}

// Verdict is a gate's judgement and the evidence behind it: a gate sets
// Verdict to verdict.Pass or verdict.Fail. It is the one gate-result type
// (verdict.Result) from the gate, through the engine, which names it after
// the gate's kind, to the ledger record and the promotion attestation.
type Verdict = verdict.Result

// Decoder decodes a gate's configuration block into v, rejecting unknown
// fields. It is handed to a Factory by the configuration loader.
type Decoder func(v any) error

// Settings is what a Factory is given: a strict decoder of the gate's
// configuration block and the directory of the configuration file, against
// which relative paths (keys, trusted roots, VEX documents) are resolved.
type Settings struct {
	Decode Decoder
	Dir    string
}

// Path resolves p against the configuration file's directory.
func (s Settings) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// Factory builds a configured Gate; it validates the configuration and
// returns an error naming the field at fault.
type Factory func(s Settings) (Gate, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a gate kind available under name. It panics on a duplicate
// name: registration happens in init functions, where that is a programming error.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[name]; dup {
		panic(fmt.Sprintf("gates: %q registered twice", name))
	}
	factories[name] = f
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := factories[name]
	return f, ok
}

// Names lists the registered gate kinds, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(factories))
	for n := range factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
