#!/usr/bin/env bash
# promote-stage.sh ENV APP[:TAG|@DIGEST] [FLAG]... — one pipeline stage:
# `promote to` with --output json, the result parsed with jq, the exit code
# turned into a message the job log shows, then returned unchanged so the
# CI system fails the stage on anything but 0.
#
#   0  promoted, or nothing to do (ENV already holds that digest and tags)
#   3  a gate or release policy rejected the image (recorded as rejected)
#   4  conflict: an immutable tag names another digest, the path is
#      violated, or the ledger head kept moving
#   2  usage or configuration error;  1  registry, network, I/O, ledger
#
# The whole JSON result is kept in $PROMOTE_RESULT (default
# promote-result.json) for the job's artifacts. Needs promote and jq on PATH.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 ENV APP[:TAG|@DIGEST] [promote to flags]..." >&2
  exit 2
fi
env_name=$1
result=${PROMOTE_RESULT:-promote-result.json}

code=0
promote to "$@" --output json >"$result" || code=$?

case $code in
  0)
    jq -r '.result | if .nothingToDo then "nothing to do: \(.env) already holds \(.repository)@\(.digest)"
      elif .dryRun then "dry run: would promote \(.repository)@\(.digest); nothing written"
      else "promoted \(.repository)@\(.digest) (record \(.record.id))" end' "$result"
    ;;
  3)
    echo "REJECTED: $env_name refused the image; nothing was copied" >&2
    # The gates that failed; a release policy's refusal (frozen, not
    # approved, revoked ...) or an unjudgeable image names no gate.
    jq -r '[.result.gates[]? | select(.verdict != "pass")] as $failed
      | if ($failed | length) > 0 then $failed[] | "  \(.verdict | ascii_upcase) \(.name): \(.reason)"
        else "  " + (.result.record.rejection // .error) end' "$result" >&2
    ;;
  4)
    echo "CONFLICT promoting into $env_name; nothing was changed:" >&2
    jq -r '"  " + .error' "$result" >&2
    ;;
  *)
    echo "promote to $env_name failed (exit $code):" >&2
    jq -r '.error // empty' "$result" >&2 || cat "$result" >&2
    ;;
esac
exit "$code"
