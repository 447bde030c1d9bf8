#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 10s), one after another,
# and fails on the first that fails. make test calls it with a short FUZZTIME;
# for a long run: FUZZTIME=3m scripts/fuzz.sh. A failing input is written to
# the package's testdata/fuzz/<Target>/ and is then replayed by go test.
# FUZZMINIMIZETIME bounds how long the fuzzer minimizes each new input
# (go test's default of 60s would eat a short run).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-10s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}

# package target
targets=(
  "./promote/config FuzzParse"              # environments.yaml
  "./promote/config FuzzRepositoryPattern"  # repository patterns with {app}, app names
  "./promote FuzzParseRef"                  # APP[:TAG|@DIGEST] on the command line
  "./gates/vuln FuzzParseReport"            # Trivy, Grype, ECR, cosign vuln reports
  "./gates/vuln FuzzParseOpenVEX"           # OpenVEX documents
  "./promote/ledger FuzzRecordObject"       # record objects as read from the bucket
  "./promote/ledger FuzzRecordRoundTrip"    # records through append, store, read back, verify
  "./promote/ledger FuzzRecordKey"          # S3 ledger locations and record keys
  "./promote/ledger FuzzProofCheck"         # inclusion proofs and signed checkpoints as an auditor receives them
)

for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== fuzz $pkg $name for $FUZZTIME"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"
done
echo "== fuzz: all ${#targets[@]} targets passed"
