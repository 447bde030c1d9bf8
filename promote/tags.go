package promote

import (
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/registry"
)

// Labels the derived tags come from.
const (
	labelVersion  = "org.opencontainers.image.version"
	labelRevision = "org.opencontainers.image.revision"
)

// targetTags decides which tags a promotion writes into env: the source's
// tags (the given tag, or the tags the digest carries in the from
// environment) plus --tag. An immutable environment never receives a moving
// tag: a moving source tag is replaced by the tags the configuration derives
// from the image's labels, or refused with a message naming what to pass.
func (e *Engine) targetTags(env *config.Environment, src *source, s *gates.Subject, extra []string) ([]string, error) {
	set := map[string]bool{}
	var out []string
	add := func(t string) {
		if !set[t] {
			set[t] = true
			out = append(out, t)
		}
	}
	for _, t := range extra {
		if err := checkTag(t); err != nil {
			return nil, err
		}
		if env.Immutable() && e.cfg.IsMoving(t) {
			return nil, errs.Usagef("--tag %s: %q is a moving tag and %s is immutable: it would freeze there forever; pass a version or commit tag", t, t, env.Name)
		}
		add(t)
	}
	movingSource := false
	for _, t := range src.tags {
		if env.Immutable() && e.cfg.IsMoving(t) {
			movingSource = true
			continue
		}
		add(t)
	}
	if movingSource {
		derived, err := e.deriveTags(s)
		if err != nil {
			return nil, err
		}
		if len(derived) == 0 && len(extra) == 0 {
			return nil, errs.Usagef("%s is a moving tag and %s is immutable; the image has no %s label to derive a tag from: pass --tag VERSION (or promote APP:VERSION)",
				src.given, env.Name, labelVersion)
		}
		for _, t := range derived {
			add(t)
		}
	}
	return out, nil
}

// knownTags is what targetTags will surely include, known before the
// image configs are read (tags derived from labels are not): the tags
// given and the source's own, but not a moving one into an immutable
// environment. Invalid tags are left out here; targetTags refuses them.
func (e *Engine) knownTags(env *config.Environment, src *source, extra []string) []string {
	var out []string
	for _, t := range append(slices.Clone(extra), src.tags...) {
		if checkTag(t) == nil && !(env.Immutable() && e.cfg.IsMoving(t)) {
			out = append(out, t)
		}
	}
	return out
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func validTag(t string) bool { return tagRE.MatchString(t) }

func checkTag(t string) error {
	if !validTag(t) {
		return errs.Usagef("tag %q is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})", t)
	}
	if registry.IsAttachmentTag(t) {
		return errs.Usagef("tag %q is reserved for signatures and referrers", t)
	}
	return nil
}

// deriveTags reads the labels the configuration names (version, revision)
// from every platform; platforms that disagree are an error.
func (e *Engine) deriveTags(s *gates.Subject) ([]string, error) {
	var out []string
	for _, kind := range e.cfg.DeriveTags {
		label := labelVersion
		if kind == "revision" {
			label = labelRevision
		}
		vals := map[string]bool{}
		for _, img := range s.Images {
			if img.Config != nil && img.Config.Config.Labels[label] != "" {
				vals[img.Config.Config.Labels[label]] = true
			}
		}
		if len(vals) > 1 {
			keys := make([]string, 0, len(vals))
			for k := range vals {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return nil, fmt.Errorf("%w: platforms disagree on label %s: %v", errs.ErrConfig, label, keys)
		}
		for v := range vals {
			if kind == "revision" && len(v) > 12 {
				v = v[:12]
			}
			if checkTag(v) != nil || e.cfg.IsMoving(v) {
				return nil, errs.Usagef("label %s=%q cannot be used as a tag; pass --tag", label, v)
			}
			out = append(out, v)
		}
	}
	return out, nil
}
