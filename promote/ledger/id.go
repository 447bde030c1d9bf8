package ledger

import (
	"crypto/rand"
	"encoding/hex"
)

// idPrefix starts every record id that Append generates.
const idPrefix = "r-"

// newID returns a fresh record id: "r-" and 12 lowercase hex characters
// (48 random bits), short enough to type in `promote rollback --to`.
func newID() string {
	var b [6]byte
	// crypto/rand.Read never returns an error and always fills b (Go 1.24+).
	_, _ = rand.Read(b[:])
	return idPrefix + hex.EncodeToString(b[:])
}
