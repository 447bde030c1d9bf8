package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/gates"
)

var pointerTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

var envFields = []string{"name", "from", "repository", "tags", "pointerTag", "gates", "aws", "attest", "windows", "soak", "breakGlass", "approvals", "maxImageAge", "maxBaseAge"}

// envSource keeps the nodes that rules spanning several environments report on.
type envSource struct {
	path             string // environments[i]
	name, from, repo *yaml.Node
	soak             *yaml.Node
}

var envName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// environment decodes one item of the environments list.
func (w *walker) environment(n *yaml.Node, path string) (*Environment, envSource, error) {
	src := envSource{path: path}
	f, err := w.fields(n, path, "an environment (a mapping with name, repository and tags)", envFields)
	if err != nil {
		return nil, src, err
	}
	n = deref(n)
	e := &Environment{Line: n.Line}
	required := func(key, expected string) (*yaml.Node, string, error) {
		field := join(path, key)
		ent, ok := f[key]
		if !ok {
			return nil, "", w.errf(n, field, "missing; expected %s", expected)
		}
		s, err := w.str(ent.val, field)
		if err == nil && s == "" {
			err = w.errf(ent.val, field, "empty; expected %s", expected)
		}
		return ent.val, s, err
	}

	const nameExpected = "a lowercase name such as dev ([a-z0-9][a-z0-9_-]*)"
	if src.name, e.Name, err = required("name", nameExpected); err != nil {
		return nil, src, err
	}
	if !envName.MatchString(e.Name) {
		return nil, src, w.errf(src.name, join(path, "name"), "%q is not a valid name; expected %s", e.Name, nameExpected)
	}
	if ent, ok := f["from"]; ok {
		src.from = ent.val
		if e.From, err = w.str(ent.val, join(path, "from")); err != nil {
			return nil, src, err
		}
	}
	if src.repo, e.Repository, err = required("repository", "a pattern such as "+patternExample); err != nil {
		return nil, src, err
	}
	if e.Repository, err = w.repository(src.repo, join(path, "repository"), e.Repository); err != nil {
		return nil, src, err
	}
	tagsNode, tags, err := required("tags", "mutable or immutable")
	if err != nil {
		return nil, src, err
	}
	switch e.Tags = TagPolicy(tags); e.Tags {
	case Mutable, Immutable:
	default:
		return nil, src, w.errf(tagsNode, join(path, "tags"), "unknown tag policy %q; expected mutable or immutable", tags)
	}
	if ent, ok := f["pointerTag"]; ok {
		field := join(path, "pointerTag")
		if e.PointerTag, err = w.str(ent.val, field); err != nil {
			return nil, src, err
		}
		if !pointerTag.MatchString(e.PointerTag) || strings.HasPrefix(e.PointerTag, "sha256-") {
			return nil, src, w.errf(ent.val, field, "%q is not a tag; expected one such as current", e.PointerTag)
		}
	}
	if ent, ok := f["gates"]; ok {
		if e.Gates, err = w.gates(ent.val, join(path, "gates")); err != nil {
			return nil, src, err
		}
	}
	if ent, ok := f["aws"]; ok {
		if e.AWS, err = w.aws(ent.val, join(path, "aws")); err != nil {
			return nil, src, err
		}
	}
	if ent, ok := f["attest"]; ok {
		if e.Attest, err = w.attest(ent.val, join(path, "attest")); err != nil {
			return nil, src, err
		}
	}
	if ent, ok := f["soak"]; ok {
		src.soak = ent.val
		field := join(path, "soak")
		v, err := w.str(ent.val, field)
		if err != nil {
			return nil, src, err
		}
		d, err := gates.ParseDuration(v)
		if err != nil {
			return nil, src, w.errf(ent.val, field, "%v", err)
		}
		e.Soak = time.Duration(d)
	}
	if ent, ok := f["windows"]; ok {
		if e.Windows, err = w.windows(ent.val, join(path, "windows")); err != nil {
			return nil, src, err
		}
	}
	if ent, ok := f["breakGlass"]; ok {
		if e.BreakGlass, err = w.breakGlass(ent.val, join(path, "breakGlass")); err != nil {
			return nil, src, err
		}
	}
	if ent, ok := f["approvals"]; ok {
		if e.Approvals, err = w.approvals(ent.val, join(path, "approvals"), e); err != nil {
			return nil, src, err
		}
	}
	if err := w.glassApprovals(e, f, path); err != nil {
		return nil, src, err
	}
	if err := w.agePolicy(e, f, path); err != nil {
		return nil, src, err
	}
	if err := w.demoKeys(e, f, path); err != nil {
		return nil, src, err
	}
	return e, src, nil
}

var (
	awsRegion  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	awsRoleArn = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$`)
)

// aws decodes an environment's optional aws block; null means none.
func (w *walker) aws(n *yaml.Node, path string) (*AWS, error) {
	if isNull(n) {
		return nil, nil
	}
	f, err := w.fields(n, path, "a mapping with region, profile, roleArn, registryId and immutabilityExclusions",
		[]string{"region", "profile", "roleArn", "registryId", "immutabilityExclusions"})
	if err != nil {
		return nil, err
	}
	a := &AWS{}
	if ent, ok := f["region"]; ok {
		if a.Region, err = w.str(ent.val, join(path, "region")); err != nil {
			return nil, err
		}
		if !awsRegion.MatchString(a.Region) {
			return nil, w.errf(ent.val, join(path, "region"), "%q is not an AWS region; expected one such as eu-central-1", a.Region)
		}
	}
	if ent, ok := f["roleArn"]; ok {
		if a.RoleArn, err = w.str(ent.val, join(path, "roleArn")); err != nil {
			return nil, err
		}
		if !awsRoleArn.MatchString(a.RoleArn) {
			return nil, w.errf(ent.val, join(path, "roleArn"), "%q is not an IAM role ARN; expected one such as arn:aws:iam::222222222222:role/promoter", a.RoleArn)
		}
	}
	if ent, ok := f["profile"]; ok {
		if a.Profile, err = w.str(ent.val, join(path, "profile")); err != nil {
			return nil, err
		}
	}
	if ent, ok := f["immutabilityExclusions"]; ok {
		field := join(path, "immutabilityExclusions")
		if ent.val.Kind != yaml.SequenceNode {
			return nil, w.errf(ent.val, field, "expected a list of tag filters such as [release-*]")
		}
		for i, item := range ent.val.Content {
			v, err := w.str(item, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			if !exclusionFilter.MatchString(v) {
				return nil, w.errf(item, fmt.Sprintf("%s[%d]", field, i), "%q is not an ECR tag filter: 1 to 128 of a-z A-Z 0-9 . _ - and the wildcard *", v)
			}
			a.ImmutabilityExclusions = append(a.ImmutabilityExclusions, v)
		}
	}
	if ent, ok := f["registryId"]; ok {
		if a.RegistryID, err = w.str(ent.val, join(path, "registryId")); err != nil {
			return nil, err
		}
		if !awsAccount.MatchString(a.RegistryID) {
			return nil, w.errf(ent.val, join(path, "registryId"), "%q is not an AWS account id; expected 12 digits such as 111111111111", a.RegistryID)
		}
	}
	return a, nil
}

var (
	awsAccount      = regexp.MustCompile(`^[0-9]{12}$`)
	exclusionFilter = regexp.MustCompile(`^[A-Za-z0-9._*-]{1,128}$`)
)

// attest reads an environment's attest block: the key that signs its
// promotion attestations (relative to the config file) and the variable
// holding the key's password.
func (w *walker) attest(n *yaml.Node, path string) (*Attest, error) {
	f, err := w.fields(n, path, "a mapping with key and passwordEnv", []string{"key", "passwordEnv"})
	if err != nil {
		return nil, err
	}
	ent, ok := f["key"]
	if !ok {
		return nil, w.errf(deref(n), join(path, "key"), "missing; expected the signing key file, such as keys/promote.key (cosign's format)")
	}
	a := &Attest{}
	if a.Key, err = w.str(ent.val, join(path, "key")); err != nil {
		return nil, err
	}
	if a.Key == "" {
		return nil, w.errf(ent.val, join(path, "key"), "empty; expected the signing key file")
	}
	if !filepath.IsAbs(a.Key) {
		a.Key = filepath.Join(filepath.Dir(w.file), a.Key)
	}
	if _, err := os.Stat(a.Key); err != nil {
		return nil, w.errf(ent.val, join(path, "key"), "%v", err)
	}
	if pe, ok := f["passwordEnv"]; ok {
		if a.PasswordEnv, err = w.str(pe.val, join(path, "passwordEnv")); err != nil {
			return nil, err
		}
	}
	return a, nil
}
