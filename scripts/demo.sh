#!/usr/bin/env bash
# make demo: a dev -> test -> prod pipeline on two local registries, run with
# the real promote binary and environments.yaml. Shows gates, a refused tag
# overwrite, a refused image, a second version, a rollback and the history.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
work=$(mktemp -d)
cleanup() { [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
# run a promote command, print it, and show its exit code without stopping the demo
p() { step "$1" "promote ${*:2}"; set +e; "$BIN/promote" "${@:2}"; rc=$?; set -e; echo "(exit $rc)"; }

"$BIN/promote-demo" serve --count 2 --addr-file "$work/addrs" & srv=$!
for _ in $(seq 100); do [ -s "$work/addrs" ] && break; sleep 0.05; done
# shellcheck disable=SC1091
. "$work/addrs"
export DEMO_REGISTRY_A=$REGISTRY_A DEMO_REGISTRY_B=$REGISTRY_B
export PROMOTE_CONFIG=environments.yaml
rm -f .promote/demo-ledger.db .promote/demo-ledger.db-*   # the demo's own ledger, fresh each run
echo "registries: A=$REGISTRY_A (dev, test)  B=$REGISTRY_B (prod)"

step "CI pushes web 1.0.0 to dev (a two-platform index)" "promote-demo push $REGISTRY_A/dev/web:1.0.0"
"$BIN/promote-demo" push "$REGISTRY_A/dev/web:1.0.0" --version 1.0.0

p "promote 1.0.0 to test: gates run on the digest, blobs are mounted (same registry)" to test web:1.0.0 --reason "nightly"
p "promote to prod: APP alone takes test's current digest and its tags" to prod web
p "what does prod run?" current prod web

step "someone rebuilds 1.0.0 in dev (dev tags are mutable)" "promote-demo push $REGISTRY_A/dev/web:1.0.0"
"$BIN/promote-demo" push "$REGISTRY_A/dev/web:1.0.0" --version 1.0.0
p "test is immutable: 1.0.0 already names another digest, refused (exit 4), nothing written" to test web:1.0.0

step "a build that runs as root" "promote-demo push $REGISTRY_A/dev/web:1.0.1 --user root"
"$BIN/promote-demo" push "$REGISTRY_A/dev/web:1.0.1" --version 1.0.1 --user root
p "the nonroot gate refuses it (exit 3), and the ledger records the attempt" to test web:1.0.1

step "CI pushes web 1.1.0 as latest" "promote-demo push $REGISTRY_A/dev/web:latest"
"$BIN/promote-demo" push "$REGISTRY_A/dev/web:latest" --version 1.1.0
p "latest moves, so test gets the tag derived from the version label instead" to test web:latest
p "dry run of the prod promotion: the plan, nothing written" to prod web --dry-run
p "promote 1.1.0 to prod" to prod web
p "prod runs 1.1.0 (JSON for pipelines: one document on stdout)" current prod web --output json
p "release manager: roll prod back (copies nothing)" rollback prod web --reason "error rate up"
p "prod runs 1.0.0 again" current prod web
p "the history, newest first" history web
p "the ledger's hash chain checks out" ledger verify
echo
echo "ledger: .promote/demo-ledger.db (try: sqlite3 .promote/demo-ledger.db 'select * from history')"
