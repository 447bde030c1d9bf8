package config

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/errs"
)

// Load reads and validates the config file at path. A missing file is a
// ConfigError that points at --config and PROMOTE_CONFIG.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &errs.ConfigError{File: path, Msg: "config file not found; pass --config FILE or set PROMOTE_CONFIG"}
	}
	if err != nil {
		return nil, &errs.ConfigError{File: path, Msg: "cannot read config file: " + err.Error()}
	}
	return Parse(path, data)
}

// Parse validates data as the contents of file. File names the config in
// errors, and relative ledger paths are resolved against its directory.
// ${VAR} in repository patterns is expanded from the process environment.
func Parse(file string, data []byte) (*Config, error) {
	w := &walker{file: file, lines: lineCount(data)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, w.errf(nil, "", "the file is empty; expected a mapping with version: 1 and environments")
		}
		return nil, w.syntax(err, data)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, w.errf(&extra, "", "a second YAML document starts here; expected exactly one document")
	case !errors.Is(err, io.EOF):
		return nil, w.syntax(err, data)
	}
	if len(doc.Content) == 0 {
		return nil, w.errf(&doc, "", "the file is empty; expected a mapping with version: 1 and environments")
	}
	c, srcs, err := w.config(doc.Content[0])
	if err != nil {
		return nil, err
	}
	if err := w.validate(c, srcs); err != nil {
		return nil, err
	}
	return c, nil
}

var topFields = []string{"version", "ledger", "movingTags", "deriveTags", "limits", "environments"}

// config decodes the top-level mapping. Version is checked before anything
// else, so a file written for another schema gets that message first.
func (w *walker) config(root *yaml.Node) (*Config, []envSource, error) {
	root = deref(root)
	const what = "a mapping with version: 1 and environments"
	if root.Kind != yaml.MappingNode {
		return nil, nil, w.errf(root, "", "expected %s, found %s", what, describe(root))
	}
	c := &Config{File: w.file, MovingTags: []string{"latest"}, DeriveTags: []string{DeriveVersion}, Limits: Limits{}.WithDefaults()}
	if v := lookup(root, "version"); v == nil {
		return nil, nil, w.errf(root, "version", "missing; expected version: %d", Version)
	} else if n, err := w.integer(v, "version"); err != nil {
		return nil, nil, err
	} else if n != Version {
		return nil, nil, w.errf(v, "version", "unsupported version %d; expected %d", n, Version)
	} else {
		c.Version = n
	}
	f, err := w.fields(root, "", what, topFields)
	if err != nil {
		return nil, nil, err
	}
	if err := w.ledger(c, f["ledger"]); err != nil {
		return nil, nil, err
	}
	if e, ok := f["movingTags"]; ok {
		if c.MovingTags, err = w.movingTags(e.val); err != nil {
			return nil, nil, err
		}
	}
	if e, ok := f["deriveTags"]; ok {
		if c.DeriveTags, err = w.deriveTags(e.val); err != nil {
			return nil, nil, err
		}
	}
	if e, ok := f["limits"]; ok {
		if c.Limits, err = w.limits(e.val); err != nil {
			return nil, nil, err
		}
	}
	e, ok := f["environments"]
	if !ok {
		return nil, nil, w.errf(root, "environments", "missing; expected a list of environments, each with name, repository and tags")
	}
	envs, srcs, err := w.environments(e.val)
	if err != nil {
		return nil, nil, err
	}
	c.Environments = envs
	return c, srcs, nil
}

// environments decodes the environments list; cross-environment rules are
// checked afterwards by validate, using the returned sources.
func (w *walker) environments(n *yaml.Node) ([]*Environment, []envSource, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, nil, w.errf(n, "environments", "expected a list of environments (- name: dev ...), found %s", describe(n))
	}
	if len(n.Content) == 0 {
		return nil, nil, w.errf(n, "environments", "empty; expected at least one environment")
	}
	envs := make([]*Environment, 0, len(n.Content))
	srcs := make([]envSource, 0, len(n.Content))
	for i, item := range n.Content {
		e, src, err := w.environment(item, index("environments", i))
		if err != nil {
			return nil, nil, err
		}
		envs = append(envs, e)
		srcs = append(srcs, src)
	}
	return envs, srcs, nil
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
