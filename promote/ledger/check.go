package ledger

import (
	"context"
	"fmt"
)

// Checker is implemented by backends whose storage settings decide how well
// the ledger resists tampering: the S3 backend reports its bucket's
// versioning and Object Lock. `promote ledger check` prints the report.
type Checker interface {
	Check(ctx context.Context) (CheckReport, error)
}

// CheckReport says whether a ledger's storage keeps records WORM (write once,
// read many): versioning keeps every overwritten or deleted record as an
// older version, and Object Lock default retention forbids deleting those
// versions until the retention ends.
type CheckReport struct {
	Location       string   `json:"location"`
	Versioning     string   `json:"versioning"` // Enabled, Suspended, or "" (never enabled)
	ObjectLock     bool     `json:"objectLock"`
	RetentionMode  string   `json:"retentionMode,omitempty"` // GOVERNANCE or COMPLIANCE: the bucket's default retention
	RetentionDays  int32    `json:"retentionDays,omitempty"`
	RetentionYears int32    `json:"retentionYears,omitempty"`
	Advice         []string `json:"advice"` // what to change, empty when the ledger is WORM
}

// WORM reports whether every new record is kept immutably: versioning
// enabled, Object Lock enabled and a default retention set.
func (r CheckReport) WORM() bool {
	return r.Versioning == "Enabled" && r.ObjectLock && r.RetentionMode != "" && (r.RetentionDays > 0 || r.RetentionYears > 0)
}

// Check runs l's Check, or says that its backend has nothing to check.
func Check(ctx context.Context, l Ledger) (CheckReport, error) {
	c, ok := l.(Checker)
	if !ok {
		return CheckReport{}, fmt.Errorf("this ledger backend has no storage settings to check: " +
			"the SQLite file is protected by file permissions and `promote ledger verify`; " +
			"use an S3 ledger with Object Lock for WORM records")
	}
	return c.Check(ctx)
}
