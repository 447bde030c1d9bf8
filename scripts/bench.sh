#!/usr/bin/env bash
# Benchmarks (issues 6 and 17): promote beside crane, skopeo and regctl on the
# same images and the same real registries, in one run, over loopback and with
# 10 ms each way between every tool and every registry (toxiproxy). Installs
# what is missing, then runs the harness; results land in
# bench/out/results.{md,json}.
#
#   scripts/bench.sh                       # the full run: loopback (1 GiB image) and 10 ms
#                                          # (256 MiB image), 3 repetitions, fleet at 4 and 16
#   scripts/bench.sh -size 64MiB -latency-size 0 -reps 1 -fleet 40   # a quick check
#   scripts/bench.sh -cases cold,fleet -tools promote,crane
#   scripts/bench.sh -latency 0,10ms,30ms -logs bench/out/logs       # timelines of every request
#
# Arguments go to `go run ./bench/compare` (see -h there).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
REGCTL_VERSION=v0.11.7   # the newest regctl that builds with Go 1.26; keep in step with bench/compare/tools.go
export PATH="$PWD/.tools/bin:$PATH"

need=""
for p in skopeo docker-registry; do command -v "$p" >/dev/null || need="$need $p"; done
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
  else
    echo "bench: Debian packages required:$need (sudo apt-get install$need)" >&2
    exit 1
  fi
fi
if ! .tools/bin/regctl version --format '{{.VCSTag}}' 2>/dev/null | grep -qx "$REGCTL_VERSION"; then
  GOBIN="$PWD/.tools/bin" "$GO" install "github.com/regclient/regclient/cmd/regctl@$REGCTL_VERSION"
fi
make tools build

BENCH_COMMAND="scripts/bench.sh $*" exec "$GO" run ./bench/compare -out bench/out "$@"
