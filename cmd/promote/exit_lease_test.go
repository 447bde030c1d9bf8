package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/promote/ledger"
)

// A promoter that lost its ledger lock exits 4 (conflict), as for a ledger
// head that kept moving: another promoter holds the chain, run again.
func TestExitCodeLostLeaseIsConflict(t *testing.T) {
	taken := fmt.Errorf("stopped before writing tags: %w",
		&ledger.LeaseLostError{App: "web", Env: "prod", Lock: "s3://b/locks/web/prod", TakenBy: "runner-2"})
	expired := fmt.Errorf("promoting web to prod stopped: %w",
		&ledger.LeaseLostError{App: "web", Env: "prod", Lock: "s3://b/locks/web/prod", Expired: true, TTL: 2 * time.Minute})
	assert.Equal(t, ExitConflict, exitCode(taken))
	assert.Equal(t, ExitConflict, exitCode(expired))
}
