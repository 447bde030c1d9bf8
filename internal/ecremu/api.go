package ecremu

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// The Go API tests use to arrange what ECR would hold and to observe what a
// client did: repositories, scan results, lifecycle policies, cross-account
// grants, injected throttling, and a CloudTrail-like event log.

// Registry is a handle on one account's registry.
type Registry struct {
	s  *Server
	id string
}

// Registry returns the handle for account id (created on first use).
func (s *Server) Registry(id string) *Registry { return &Registry{s: s, id: id} }

// Default returns the default account's registry.
func (s *Server) Default() *Registry { return s.Registry(s.DefaultAccount()) }

// ID is the registry (account) id.
func (r *Registry) ID() string { return r.id }

// CreateRepository creates a repository as CreateRepository would.
func (r *Registry) CreateRepository(name string, cfg RepositoryConfig) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	_, aerr := r.s.createRepoLocked(r.s.registryLocked(r.id), name, cfg)
	if aerr != nil {
		return aerr
	}
	return nil
}

func (r *Registry) repoLocked(name string) (*repository, error) {
	repo := r.s.registryLocked(r.id).repos[name]
	if repo == nil {
		return nil, repoNotFound(name, r.id)
	}
	return repo, nil
}

// SetScan injects the scan DescribeImageScanFindings (and DescribeImages)
// report for the image with this manifest digest. It replaces any earlier
// scan and restarts its Sequence.
func (r *Registry) SetScan(repoName, digest string, scan Scan) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	repo, err := r.repoLocked(repoName)
	if err != nil {
		return err
	}
	if !validDigest(digest) {
		return fmt.Errorf("ecremu: invalid digest %q", digest)
	}
	repo.scans[digest] = newScanState(scan, r.s.now())
	return nil
}

// SetLifecyclePolicy sets the policy GetLifecyclePolicy returns ("" removes it).
func (r *Registry) SetLifecyclePolicy(repoName, text string, lastEvaluated time.Time) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	repo, err := r.repoLocked(repoName)
	if err != nil {
		return err
	}
	repo.lifecycle = nil
	if text != "" {
		repo.lifecycle = &lifecyclePolicy{text: text, lastEvaluated: lastEvaluated}
	}
	return nil
}

// GrantAccount lets principals of another account use this registry (both
// planes), standing in for a registry or repository policy.
func (r *Registry) GrantAccount(principalAccount string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.registryLocked(r.id).grants[principalAccount] = true
}

// SetBlobMounting sets the BLOB_MOUNTING account setting.
func (r *Registry) SetBlobMounting(enabled bool) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	v := "DISABLED"
	if enabled {
		v = "ENABLED"
	}
	r.s.registryLocked(r.id).settings["BLOB_MOUNTING"] = v
}

// Tags lists a repository's tags and the digests they name.
func (r *Registry) Tags(repoName string) (map[string]string, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	repo, err := r.repoLocked(repoName)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for t, d := range repo.tagIndex {
		out[t] = d
	}
	return out, nil
}

// Manifest returns the stored manifest bytes and media type of a digest.
func (r *Registry) Manifest(repoName, digest string) ([]byte, string, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	repo, err := r.repoLocked(repoName)
	if err != nil {
		return nil, "", err
	}
	img := repo.images[digest]
	if img == nil {
		return nil, "", errors.New("ecremu: image not found")
	}
	return append([]byte(nil), img.manifest...), img.mediaType, nil
}

// Throttle makes the next n control-plane calls of op (e.g. "DescribeImages")
// fail with ThrottlingException, as a throttled ECR answers.
func (s *Server) Throttle(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[op] = n
}

// ThrottleRegistry makes the next n data-plane requests fail with HTTP 429
// TOOMANYREQUESTS.
func (s *Server) ThrottleRegistry(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regThrottle = n
}

// Event is one logged request, named like its CloudTrail event: the control
// plane by operation, the data plane by the ECR action it stands for
// (BatchGetImage, PutImage, InitiateLayerUpload, GetDownloadUrlForLayer...).
type Event struct {
	Time       time.Time
	Plane      string // "control" or "registry"
	Action     string
	Registry   string
	Repository string
	Principal  string
	Error      string // AWS error type or registry error code; "" on success
}

func (s *Server) recordLocked(e Event) {
	e.Time = s.now()
	s.events = append(s.events, e)
}

// Events returns every request so far, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Count is how many requests of action succeeded (both planes).
func (s *Server) Count(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.Action == action && e.Error == "" {
			n++
		}
	}
	return n
}

// Repositories lists a registry's repository names, sorted.
func (r *Registry) Repositories() []string {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	var names []string
	for n := range r.s.registryLocked(r.id).repos {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
