//go:build tools

// Package tools pins the programs the integration tests run, in a module of
// its own so that their dependencies stay out of promote's go.mod. Install
// them with `make tools` (see README.md there).
package tools

import (
	_ "github.com/versity/versitygw/cmd/versitygw" // the real S3 server of the S3 ledger tests
)
