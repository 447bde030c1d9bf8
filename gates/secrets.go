package gates

import (
	"fmt"
	"regexp"
	"strings"
)

// SecretsConfig is the noSecretsInEnv gate's configuration.
type SecretsConfig struct {
	// Allow lists variable or label names that are not secrets despite their
	// name: it exempts them from the name rule only. A value that looks like
	// a secret (a token or key format, credentials in a URL, a pattern)
	// fails under any name.
	Allow []string `yaml:"allow"`
	// Patterns adds regular expressions of secret values to the built-in rules.
	Patterns []string `yaml:"patterns"`
}

// secretRule recognises a secret by its value.
type secretRule struct {
	name string
	re   *regexp.Regexp
}

// valueRules are well-known token and key formats, matched anywhere in a
// value: they are specific enough to flag whatever the variable is called.
var valueRules = []secretRule{
	{"aws-access-key-id", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"github-token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)},
	{"gitlab-token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"slack-token", regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}`)},
	{"google-api-key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"stripe-key", regexp.MustCompile(`\b[sr]k_live_[0-9A-Za-z]{20,}`)},
	{"npm-token", regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"private-key", regexp.MustCompile(`-----BEGIN ([A-Z]+ )?PRIVATE KEY-----`)},
	{"jwt", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`)},
	{"credentials-in-url", regexp.MustCompile(`\b[a-z][a-z0-9+.-]*://[^/\s:@"']+:[^/\s@"']+@`)},
}

// secretName matches variable names that hold secrets.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)`)

// referenceName: a name that points at a secret rather than holding one.
var referenceName = regexp.MustCompile(`(?i)(_FILE|_PATH|_DIR|_NAME|_ARN|_ID|_URL|_ENDPOINT|_HEADER)$`)

// assignment finds NAME=value pairs in history lines (ENV, ARG, RUN with build args).
var assignment = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s"']+)`)

type secretsGate struct {
	allow map[string]bool
	rules []secretRule
}

func init() {
	Register("noSecretsInEnv", func(s Settings) (Gate, error) {
		var c SecretsConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return NewSecrets(c)
	})
}

// NewSecrets builds the gate, compiling the extra patterns.
func NewSecrets(c SecretsConfig) (Gate, error) {
	g := secretsGate{allow: map[string]bool{}, rules: append([]secretRule{}, valueRules...)}
	for _, a := range c.Allow {
		g.allow[a] = true
	}
	for i, p := range c.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("patterns[%d]: %v", i, err)
		}
		g.rules = append(g.rules, secretRule{name: fmt.Sprintf("pattern-%d", i), re: re})
	}
	return g, nil
}

// finding names where a secret is and which rule saw it; never the value.
type finding struct {
	Platform string `json:"platform"`
	Where    string `json:"where"` // env, label or history[i]
	Name     string `json:"name,omitempty"`
	Rule     string `json:"rule"`
}

// check judges one name/value pair: the value rules apply to every name,
// the name rule to names not allowed.
func (g secretsGate) check(name, value string) string {
	for _, r := range g.rules {
		if r.re.MatchString(value) {
			return r.name
		}
	}
	if g.allow[name] {
		return ""
	}
	v := strings.Trim(strings.TrimSpace(value), `"'`)
	if name != "" && secretName.MatchString(name) && !referenceName.MatchString(name) &&
		v != "" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "$") {
		return "secret-name"
	}
	return ""
}

// LooksSecret names the rule by which the noSecretsInEnv gate, with its
// defaults, sees a secret in a name and value, or "" when it sees none.
// The evidence document redacts such label values.
func LooksSecret(name, value string) string {
	return secretsGate{rules: valueRules}.check(name, value)
}
