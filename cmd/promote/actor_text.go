package main

import (
	"strings"

	"github.com/promote-dev/promote/promote/ledger"
)

// actorText is the actor as show prints it: each identity with how it was
// established and whether that is authenticated or only asserted. A record
// written before promote recorded how says nothing about it.
func actorText(a ledger.Actor) string {
	var parts []string
	if a.Identity != "" {
		parts = append(parts, a.Identity+established(a.IdentityVia))
	}
	if a.User != "" || a.Host != "" {
		parts = append(parts, "user "+a.User+" on "+a.Host+established(a.UserVia))
	}
	if a.AWS != "" {
		parts = append(parts, "AWS "+a.AWS+established(a.AWSVia))
	}
	return strings.Join(parts, "; ")
}

func established(via string) string {
	switch {
	case via == "":
		return ""
	case ledger.Authenticated(via):
		return " (" + via + ": authenticated)"
	default:
		return " (" + via + ": asserted, not authenticated)"
	}
}
