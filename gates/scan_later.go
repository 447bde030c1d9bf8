package gates

// ScanWithoutReports returns scan gate g judging only from its sources
// that can be read after promotion (the vulnerability attestations
// attached, ECR's current findings), not the --scan-report files given at
// promotion: for a report that judges what runs again. ok is false when g
// is no scan gate, or reads reports alone.
func ScanWithoutReports(g Gate) (Gate, bool) {
	sg, isScan := g.(*scanGate)
	if !isScan {
		return nil, false
	}
	later := *sg
	later.sources = nil
	for _, s := range sg.sources {
		if s != SourceReport {
			later.sources = append(later.sources, s)
		}
	}
	if len(later.sources) == 0 {
		return nil, false
	}
	return &later, true
}
