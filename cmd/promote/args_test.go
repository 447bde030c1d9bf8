package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNormalizeArgs(t *testing.T) {
	app := newApp(&state{})
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"flags before", []string{"promote", "to", "--dry-run", "prod", "web"}, []string{"promote", "to", "--dry-run", "--", "prod", "web"}},
		{"flags after", []string{"promote", "to", "prod", "web", "--tag", "1.0", "--dry-run"}, []string{"promote", "to", "--tag", "1.0", "--dry-run", "--", "prod", "web"}},
		{"global after command", []string{"promote", "current", "prod", "web", "--output", "json"}, []string{"promote", "--output", "json", "current", "--", "prod", "web"}},
		{"global with equals", []string{"promote", "history", "--config=x.yaml", "web"}, []string{"promote", "--config=x.yaml", "history", "--", "web"}},
		{"leading globals kept", []string{"promote", "-o", "json", "to", "prod", "web"}, []string{"promote", "-o", "json", "to", "--", "prod", "web"}},
		{"subcommand", []string{"promote", "ledger", "verify", "--output", "json"}, []string{"promote", "--output", "json", "ledger", "verify"}},
		{"double dash kept positional", []string{"promote", "to", "prod", "--", "--weird"}, []string{"promote", "to", "--", "prod", "--weird"}},
		{"unknown flag stays for cli to reject", []string{"promote", "to", "prod", "web", "--bogus"}, []string{"promote", "to", "--bogus", "--", "prod", "web"}},
		{"no command", []string{"promote", "--help"}, []string{"promote", "--help"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, normalizeArgs(app, c.in))
		})
	}
}
