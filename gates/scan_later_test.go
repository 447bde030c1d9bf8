package gates

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scan gate judged again later drops the reports given at promotion, and
// one that reads nothing else cannot be judged again.
func TestScanJudgedAgainWithoutReports(t *testing.T) {
	later, ok := ScanWithoutReports(&scanGate{sources: []string{SourceReport, SourceAttestation}})
	require.True(t, ok)
	assert.Equal(t, []string{SourceAttestation}, later.(*scanGate).sources)
	_, ok = ScanWithoutReports(&scanGate{sources: []string{SourceReport}})
	assert.False(t, ok, "reports alone")
	_, ok = ScanWithoutReports(nonrootGate{})
	assert.False(t, ok, "not a scan gate")
}
