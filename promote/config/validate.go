package config

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// validate checks the rules that span environments: unique names, unique
// repositories, from links that name another environment and form no cycle.
func (w *walker) validate(c *Config, srcs []envSource) error {
	byName := make(map[string]int, len(c.Environments))
	for i, e := range c.Environments {
		if j, dup := byName[e.Name]; dup {
			return w.errf(srcs[i].name, srcs[i].path+".name", "environment %q is already defined as %s on line %d; names must be unique",
				e.Name, srcs[j].path, c.Environments[j].Line)
		}
		byName[e.Name] = i
	}

	repos := make(map[string]int, len(c.Environments))
	for i, e := range c.Environments {
		key := repositoryKey(e.Repository)
		if j, dup := repos[key]; dup {
			return w.errf(srcs[i].repo, srcs[i].path+".repository",
				"environments %s and %s both use the repository %q; each environment needs its own repository",
				c.Environments[j].Name, e.Name, e.Repository)
		}
		repos[key] = i
	}

	known := strings.Join(c.names(), ", ")
	for i, e := range c.Environments {
		field := srcs[i].path + ".from"
		switch _, ok := byName[e.From]; {
		case e.From == "":
		case e.From == e.Name:
			return w.errf(srcs[i].from, field, "environment %s names itself; expected another environment (one of: %s) or no from", e.Name, known)
		case !ok:
			return w.errf(srcs[i].from, field, "unknown environment %q; expected one of: %s", e.From, known)
		}
	}
	for i := range c.Environments {
		if cycle := cycleAt(c, byName, i); cycle != nil {
			return w.errf(srcs[i].from, srcs[i].path+".from", "the from links form a cycle: %s; expected a chain that starts at an environment without from",
				strings.Join(cycle, " -> "))
		}
	}
	for i, e := range c.Environments {
		if e.Soak > 0 && e.From != "" && c.Environments[byName[e.From]].From == "" {
			return w.errf(srcs[i].soak, srcs[i].path+".soak", "%s is fed by pushes, which the ledger does not record, so no digest "+
				"could ever have soaked there; put soak on an environment fed from one promote promotes into", e.From)
		}
	}
	return nil
}

// cycleAt follows from links starting at environment i and returns the names
// along the way if they lead back to i, else nil. Links must already be known
// to name existing environments.
func cycleAt(c *Config, byName map[string]int, i int) []string {
	path := []string{c.Environments[i].Name}
	seen := map[int]bool{i: true}
	for j := i; c.Environments[j].From != ""; {
		j = byName[c.Environments[j].From]
		path = append(path, c.Environments[j].Name)
		if j == i {
			return path
		}
		if seen[j] {
			return nil // a cycle that does not pass through i; reported at its own first member
		}
		seen[j] = true
	}
	return nil
}

// repositoryKey normalises a valid pattern for comparison: registry host in
// lower case, docker.io as index.docker.io.
func repositoryKey(pattern string) string {
	const marker = "promote--app--placeholder"
	r, err := name.NewRepository(strings.ReplaceAll(pattern, appPlaceholder, marker), name.StrictValidation)
	if err != nil {
		return pattern
	}
	return strings.ToLower(r.RegistryStr()) + "/" + r.RepositoryStr()
}
