#!/usr/bin/env bash
# make demo: a dev -> test -> prod pipeline on two local registries, run with
# the real promote binary and environments.yaml. Shows the gates passing a
# signed, clean image and refusing one that runs as root, an unsigned one and
# a vulnerable one; a refused tag overwrite, a moving tag, a second version,
# an approval, a Rego policy gate and a signed promotion attestation into
# prod, a freeze, a rollback during it, a revoked digest, the history, and
# the admission policies (Gatekeeper, Kyverno, policy-controller) of the
# clusters that run prod.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
work=$(mktemp -d)
cleanup() { for pid in ${srv:-} ${ecr:-}; do kill "$pid" 2>/dev/null; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
# p TITLE ARGS...: run promote, show the command and its exit code, go on either way
p() { say "$1"; echo "\$ promote ${*:2}"; set +e; "$BIN/promote" "${@:2}"; rc=$?; set -e; echo "(exit $rc)"; }
# build TAG VERSION [push flags...]: CI builds web and pushes it to dev; sets $digest
build() {
  local out
  out=$("$BIN/promote-demo" push "$dev:$1" --version "$2" ${BASE:+--base "$BASE"} "${@:3}")
  digest=${out##*@}
  echo "  pushed $dev:$1 ($digest)"
}
# signs: CI signs what it built (cosign's format, the demo key)
signs() { "$BIN/promote-demo" sign "$dev@$digest" >/dev/null && echo "  signed $dev@$digest"; }
# approves REASON: Alice, the release approver, approves test's current digest for prod
approves() {
  local d
  d=$("$BIN/promote" current test web); d=${d##*@}
  "$BIN/promote" approve prod "web@$d" --key testdata/demo/alice.key --approver alice --reason "$1" >/dev/null
  echo "  alice approved web@$d for prod: $1"
}
# scans FIXTURE: CI scans what it built; a real Trivy report bound to $digest lands in $report
scans() {
  report=$work/scan-${digest#sha256:}.json
  "$BIN/promote-demo" report "$dev@$digest" --from "testdata/scan/$1" --out "$report" >/dev/null
  echo "  scanned: $1 bound to $digest"
}

"$BIN/promote-demo" serve --count 2 --addr-file "$work/addrs" & srv=$!
for _ in $(seq 100); do [ -s "$work/addrs" ] && break; sleep 0.05; done
# shellcheck disable=SC1091
. "$work/addrs"
export DEMO_REGISTRY_A=$REGISTRY_A DEMO_REGISTRY_B=$REGISTRY_B
export PROMOTE_CONFIG=environments.yaml
# The demo registries speak plain HTTP on loopback; promote uses verified TLS
# for every host not named this way.
export PROMOTE_INSECURE_REGISTRY=$REGISTRY_A,$REGISTRY_B
rm -f .promote/demo-ledger.db .promote/demo-ledger.db-* .promote/demo-ledger.key .promote/demo-checkpoint.note   # the demo's own ledger, fresh each run
"$BIN/promote" ledger key --generate .promote/demo-ledger.key --origin promote.demo/ledger >/dev/null   # its signing key
dev=$REGISTRY_A/dev/web
BASE=$REGISTRY_A/base/os:1   # the approved base every demo build is built on
"$BIN/promote-demo" push-base "$BASE" --age 20 >/dev/null
echo "registries: A=$REGISTRY_A (dev, test)  B=$REGISTRY_B (prod), plain HTTP (PROMOTE_INSECURE_REGISTRY); pipeline: environments.yaml"

say "CI builds web 1.0.0 (linux/amd64 + linux/arm64), signs it and scans it"
build 1.0.0 1.0.0; signs; scans trivy-sl-micro-rancher5.4.json
p "promote 1.0.0 to test: every gate judges that digest; blobs are mounted within the registry" to test web:1.0.0 --scan-report "$report" --reason "nightly"
p "prod needs one approval (four eyes): without it the promotion is refused (exit 3) and recorded" to prod web
cur=$("$BIN/promote" current test web); cur=${cur##*@}
p "Alice approves test's digest for prod: a signed in-toto attestation on the digest, as cosign attests (cosign verify-attestation checks it)" \
  approve prod "web@$cur" --key testdata/demo/alice.key --approver alice --reason "CAB-101: release 1.0.0"
p "status: who has approved what would enter prod next" status web
p "promote to prod: APP alone takes test's current digest and the tags it carries there; the approval counts" to prod web
p "what does prod run?" current prod web

say "someone rebuilds 1.0.0 in dev (dev tags are mutable)"
build 1.0.0 1.0.0; signs; scans trivy-sl-micro-rancher5.4.json
p "test is immutable: 1.0.0 already names another digest: refused (exit 4), nothing written" to test web:1.0.0 --scan-report "$report"

say "a build that runs as root"
build 1.0.1 1.0.1 --user root; signs; scans trivy-sl-micro-rancher5.4.json
p "the nonroot gate refuses it (exit 3); the ledger records the attempt and the evidence" to test web:1.0.1 --scan-report "$report"

say "a build nobody signed"
build 1.0.2 1.0.2; scans trivy-sl-micro-rancher5.4.json
p "the signed gate refuses it (exit 3): no signature verifies for this digest" to test web:1.0.2 --scan-report "$report"

say "a signed build whose scan finds critical vulnerabilities (a real Trivy report)"
build 1.0.3 1.0.3; signs; scans trivy-photon-30.json
p "the scan gate refuses it (exit 3) and names the blocking CVEs" to test web:1.0.3 --scan-report "$report"

say "CI builds web 1.1.0, pushes it as latest, signs and scans it"
build latest 1.1.0; signs; scans trivy-sl-micro-rancher5.4.json
p "latest moves, so test gets the tag derived from the version label instead" to test web:latest --scan-report "$report"
approves "CAB-102: release 1.1.0"
p "dry run of the prod promotion: release policies, gates and the plan, nothing written" to prod web --dry-run
p "promote 1.1.0 to prod" to prod web
p "prod runs 1.1.0 (JSON for pipelines: one document on stdout)" current prod web --output json
p "incident: the release manager freezes prod; promotions into it stop until unfreeze" freeze prod --reason "INC-7: error rate up since 1.1.0"
p "release manager: roll prod back; rollbacks run during a freeze (copies nothing, takes a moment)" rollback prod web --reason "INC-7: error rate up"
rollback_id=$("$BIN/promote" history web --env prod --limit 1 --quiet)
p "prod runs 1.0.0 again" current prod web
bad=$("$BIN/promote" current test web); bad=${bad##*@}
p "1.1.0 leaks memory: revoke it, so no environment takes it again, by promotion or rollback" revoke "web@$bad" --reason "INC-7: memory leak in 1.1.0"
p "status: prod is frozen, and test still runs the revoked digest (REVOKED)" status web
p "for a scheduled job: exit 3 while any environment runs a revoked digest" status web --fail-on revoked
p "a promotion into frozen prod is refused (exit 3) and recorded" to prod web
p "the incident is over: lift the freeze" unfreeze prod --reason "INC-7 resolved"
p "prod refuses the revoked 1.1.0 all the same (exit 3), whatever its gates say" to prod web
p "the history, newest first: the freeze, the rollback, the revocation, the refusals" history --limit 10
p "the ledger checks out: every record, its chain, and the log under its signed checkpoint" ledger verify
say "an auditor keeps the newest signed checkpoint, outside the ledger"
echo "\$ promote ledger checkpoint > .promote/demo-checkpoint.note"
"$BIN/promote" ledger checkpoint > .promote/demo-checkpoint.note
cat .promote/demo-checkpoint.note
p "show proves the rollback's record is in the log of that checkpoint" show "$rollback_id"
say "CI builds the fix, web 1.1.1, signs and scans it"
build 1.1.1 1.1.1; signs; scans trivy-sl-micro-rancher5.4.json
p "promote 1.1.1 to test" to test web:1.1.1 --scan-report "$report"
approves "CAB-103: the fix"
p "the fix is out: prod rolls forward to 1.1.1" to prod web --reason "fixed in 1.1.1"
p "verify proves the log only grew from the kept checkpoint: no record rewritten, reordered, inserted or cut" ledger verify --checkpoint .promote/demo-checkpoint.note
p "publish the checkpoint to the witness repositories, beside test and prod (registries the ledger's writer does not control)" ledger publish
p "verify against every published checkpoint" ledger verify --witnesses
rm -rf .promote/demo-policies
p "admission: export prod's policies for Gatekeeper (a cluster running prod admits images by digest, from prod's repositories, no moving tag, not revoked)" \
  policy export --for gatekeeper --out .promote/demo-policies
say "each file names the config and the ledger checkpoint it came from; the constraint carries the revoked 1.1.0 as parameters: its index, platform images and configs"
sed -n '/^# config/p;/^# ledger/p;/^  parameters:/,$p' .promote/demo-policies/gatekeeper/constraint-promote-prod.yaml
p "Kyverno: the same rules, and an image runs only with promote's signed promotion attestation for prod (the key of prod's attest block)" \
  policy export --for kyverno --out .promote/demo-policies
sed -n '/verifyImages:/,/ignoreSCT/p' .promote/demo-policies/kyverno/*attest*.yaml | head -24
p "sigstore policy-controller: a ClusterImagePolicy (docs/admission.md says what it can verify today)" \
  policy export --for policy-controller --out .promote/demo-policies
p "exporting again gives the same bytes, so a GitOps diff shows only real changes (a revocation, a new repository)" \
  policy export --for gatekeeper --out "$work/again"
diff -r .promote/demo-policies/gatekeeper "$work/again/gatekeeper" && echo "  identical: the same config and ledger give the same files"
echo
echo "ledger: .promote/demo-ledger.db (try: sqlite3 .promote/demo-ledger.db 'select * from history')"
echo "kept checkpoint: .promote/demo-checkpoint.note; verifier key: $("$BIN/promote" ledger key --public)"

say "ACT 2: the same pipeline on Amazon ECR (the in-repo emulator: two accounts, prod reached by a role)"
"$BIN/promote-demo" serve-ecr --addr-file "$work/ecr.env" & ecr=$!
for _ in $(seq 100); do [ -s "$work/ecr.env" ] && break; sleep 0.05; done
set -a
# shellcheck disable=SC1091
. "$work/ecr.env"
set +a
unset AWS_PROFILE BASE
export PROMOTE_CONFIG=environments.ecr.yaml
export PROMOTE_INSECURE_REGISTRY=$ECR_A,$ECR_B
rm -f .promote/demo-ecr-ledger.db .promote/demo-ecr-ledger.db-*
dev=$ECR_A/dev/web
echo "ECR: account 111111111111 at $ECR_A (dev, test), account 222222222222 at $ECR_B (prod); endpoint $AWS_ENDPOINT_URL_ECR"
p "envs check: the repositories do not exist yet (exit 4)" envs check web
p "envs apply: create them (immutable ones IMMUTABLE_WITH_EXCLUSION for signatures and the pointer tag; scan on push)" envs apply web
say "CI builds web 1.0.0 and pushes it to ECR dev, signed"
build 1.0.0 1.0.0; signs
p "promote to test: an IMMUTABLE ECR repository; credentials from GetAuthorizationToken" to test web:1.0.0
p "promote to prod in account 222222222222, through the promoter role; the pointer tag 'current' follows" to prod web
p "the same command again: nothing to do, nothing written (ECR would refuse to re-push the tag even for the same digest)" to prod web
say "someone rebuilds 1.0.0 in dev"
build 1.0.0 1.0.0; signs
p "test refuses the overwrite (exit 4): promote looks before it writes" to test web:1.0.0
p "envs check: repositories as the environments need them" envs check web
p "the ECR pipeline's history" history web

say "EPILOGUE: the daily patching job, back on the first pipeline"
export PROMOTE_CONFIG=environments.yaml PROMOTE_INSECURE_REGISTRY=$REGISTRY_A,$REGISTRY_B
BASE=$REGISTRY_A/base/os:1
say "the platform team patches the base: $BASE now names a new image"
"$BIN/promote-demo" push-base "$BASE" --age 0 >/dev/null
p "the report: what runs where, how old, on which base (web is now 20 days behind it), and what to rebuild (a daily job runs it)" report
p "for a CI trigger: the apps to rebuild, one per line" report --rebuild
"$BIN/promote" report --output html > .promote/demo-report.html
echo "  the same as one self-contained page: .promote/demo-report.html (promote report --output html)"
