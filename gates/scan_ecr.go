package gates

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/promote-dev/promote/gates/vuln"
)

// ECR scan statuses the gate accepts: a finished basic or enhanced scan, and
// ACTIVE, which continuous (enhanced) scanning reports for a scanned image.
var ecrAccepted = map[string]bool{"COMPLETE": true, "ACTIVE": true}

// ecrSource reads ECR's scan of every platform image: an index has no scan
// of its own, so each child digest is read. Any status but COMPLETE or
// ACTIVE fails closed with the status in the reason; a scan still running
// when wait runs out is an error.
func ecrSource(ctx context.Context, wait time.Duration, s *Subject) (sourceFindings, error) {
	sf := sourceFindings{source: SourceECR}
	if s.Scans == nil {
		return sf, fmt.Errorf("scan: source ecr: %s is not an ECR repository (give its environment an aws block)", s.Repository)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var bad []string
	for _, img := range s.Images {
		raw, err := s.Scans.ScanFindings(ctx, img.Digest)
		if err != nil {
			return sf, err
		}
		r, err := vuln.ParseECR(raw)
		if err != nil {
			return sf, fmt.Errorf("ECR scan of %s: %w", PlatformName(img), err)
		}
		if !ecrAccepted[r.Status] {
			why := fmt.Sprintf("ECR scan of %s is %s", PlatformName(img), r.Status)
			if r.StatusDescription != "" {
				why += " (" + r.StatusDescription + ")"
			}
			bad = append(bad, why)
			continue
		}
		sf.reports = append(sf.reports, namedReport{name: "ECR scan of " + PlatformName(img), report: r})
	}
	if len(bad) > 0 {
		sf.reports = nil
		sf.missing = strings.Join(bad, "; ")
	}
	return sf, nil
}
