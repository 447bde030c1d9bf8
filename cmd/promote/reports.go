package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

// maxReportBytes bounds one scan report read into memory.
const maxReportBytes = 256 << 20

var scanReportFlag = &cli.StringSliceFlag{Name: "scan-report", Usage: "Trivy (JSON, schema 2) or Grype (JSON) report `FILE` for the scan gate, bound to the digest (repeatable: one per platform)"}

// readReports reads every --scan-report file; a missing or oversized file
// is a usage error naming it.
func readReports(c *cli.Context) ([]promote.ScanReport, error) {
	var out []promote.ScanReport
	for _, path := range c.StringSlice("scan-report") {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%w: --scan-report %s: %v", errs.ErrUsage, path, err)
		}
		data, err := io.ReadAll(io.LimitReader(f, maxReportBytes+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--scan-report %s: %w", path, err)
		}
		if len(data) > maxReportBytes {
			return nil, fmt.Errorf("%w: --scan-report %s is larger than %d bytes", errs.ErrUsage, path, maxReportBytes)
		}
		out = append(out, promote.ScanReport{Name: path, Data: data})
	}
	return out, nil
}
