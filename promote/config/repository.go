package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/errs"
)

const (
	appPlaceholder = "{app}"
	patternExample = "registry.example.com/team/{app}"
	// sampleApp stands in for {app} when a pattern is checked at load time.
	sampleApp = "app"
)

// pathComponent is one path component of a repository name, and appName one
// or more of them joined by '/', as the OCI distribution spec defines them.
var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	appName       = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
)

// RepositoryFor returns e's repository for app, such as
// registry.example.com/test/api. An app that is not a valid repository path
// (lowercase components joined by '/') is an error wrapping errs.ErrUsage.
func (e *Environment) RepositoryFor(app string) (string, error) {
	if !appName.MatchString(app) {
		return "", errs.Usagef("app name %q is invalid; expected lowercase repository path components such as api or team/api "+
			"(a-z and 0-9, separated by '.', '_', '__' or '-', joined by '/'; no tag or digest)", app)
	}
	repo := strings.ReplaceAll(e.Repository, appPlaceholder, app)
	if _, err := name.NewRepository(repo, name.StrictValidation); err != nil {
		return "", errs.Usagef("app name %q gives an invalid repository %q in environment %s: %v", app, repo, e.Name, err)
	}
	return repo, nil
}

// repository expands ${VAR} in the raw pattern and checks the result.
func (w *walker) repository(n *yaml.Node, field, raw string) (string, error) {
	p, err := expand(raw, os.LookupEnv)
	if err != nil {
		return "", w.errf(n, field, "%v", err)
	}
	if err := checkPattern(p); err != nil {
		shown := fmt.Sprintf("%q", p)
		if p != raw {
			shown = fmt.Sprintf("%q (expanded from %q)", p, raw)
		}
		return "", w.errf(n, field, "%s %v; expected a pattern such as %s", shown, err, patternExample)
	}
	return p, nil
}

// checkPattern checks an expanded repository pattern: {app} is the only
// placeholder and appears in the path; with a sample app name substituted it
// is a repository on an explicit registry host, with no tag or digest.
func checkPattern(p string) error {
	if err := checkPlaceholders(p); err != nil {
		return err
	}
	s := strings.ReplaceAll(p, appPlaceholder, sampleApp)
	if strings.Contains(s, "@") {
		return errors.New("must not include a digest")
	}
	host, path, ok := strings.Cut(s, "/")
	if !ok || !(host == "localhost" || strings.ContainsAny(host, ".:")) {
		return errors.New("names no registry host (the part before the first '/' must contain '.' or ':' or be localhost)")
	}
	if strings.Contains(p[:strings.Index(p, "/")], appPlaceholder) {
		return errors.New("puts {app} in the registry host; {app} belongs in the path")
	}
	if strings.Contains(path, ":") {
		return errors.New("must not include a tag; tags come from the command line and the tag policy")
	}
	if _, err := name.NewRepository(s, name.StrictValidation); err != nil {
		return fmt.Errorf("is not a valid repository (%v)", err)
	}
	for _, c := range strings.Split(path, "/") {
		if !pathComponent.MatchString(c) {
			return fmt.Errorf("has an invalid path component %q (lowercase a-z and 0-9, separated by '.', '_', '__' or '-')", c)
		}
	}
	return nil
}

// checkPlaceholders rejects braces other than {app}, and a pattern without
// {app}: every app would then share one repository.
func checkPlaceholders(p string) error {
	found := false
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '}':
			return errors.New("has a '}' without its '{'")
		case '{':
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				return errors.New("has a '{' without its '}'")
			}
			if ph := p[i : i+end+1]; ph != appPlaceholder {
				return fmt.Errorf("has the unknown placeholder %s; only {app} is replaced", ph)
			}
			found = true
			i += end
		}
	}
	if !found {
		return errors.New("has no {app}; without it every app would share one repository")
	}
	return nil
}
