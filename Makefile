# promote — see README.md
GO        ?= go
BIN       := bin
TOOLS     := $(CURDIR)/.tools/bin
CRANE_VERSION  := v0.22.1
COSIGN_VERSION := v2.6.5
COSIGN3_VERSION := v3.1.3
STATICCHECK_VERSION := v0.8.2
ACTIONLINT_VERSION := v1.7.12
GATOR_VERSION := v3.23.1
# KYVERNO_VERSION is pinned in tools/kyverno/go.mod (v1.19.1); see integration-kyverno.
export PATH := $(TOOLS):$(PATH)
# The tools are built without symbol tables and DWARF: they are run, never
# debugged, and their big binaries link faster (gator: 13 s to 7 s).
TOOL_LDFLAGS := -ldflags='-s -w'

.PHONY: all build demo test unit fuzz integration integration-kyverno tools vet lint fmt bench bench-go bench-peers clean

all: build

# -buildvcs=auto: --version reports the revision even where GOFLAGS turns it off.
build:
	$(GO) build -buildvcs=auto -o $(BIN)/promote ./cmd/promote
	$(GO) build -buildvcs=auto -o $(BIN)/promote-demo ./cmd/promote-demo

demo: build
	./scripts/demo.sh

## test: vet, lint, unit tests with the race detector (the fault suite's 200
## randomised promotions among them), the fuzz targets for a few seconds
## each, then integration tests against the real distribution registry
## with crane and cosign.
test: vet lint unit fuzz integration

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	./scripts/check-large-files.sh

## lint: staticcheck (pinned), on the integration tests too (the Kyverno ones included).
lint: $(TOOLS)/staticcheck
	$(TOOLS)/staticcheck -tags integration,kyverno ./...

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install $(TOOL_LDFLAGS) honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

unit:
	$(GO) test -race -count=1 ./...

## fuzz: every fuzz target for FUZZTIME each: a count of inputs here
## (a time limit can end a run with go test's own "context deadline
## exceeded" without any finding), minutes by hand: FUZZTIME=3m scripts/fuzz.sh.
FUZZTIME ?= 20000x
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

integration: tools build
	PROMOTE_BIN=$(CURDIR)/$(BIN)/promote $(GO) test -count=1 -tags integration -timeout 20m ./integration/...

## integration-kyverno: the Kyverno CLI suite of the exported admission
## policies (build tag kyverno), apart from `make integration` because
## building the Kyverno CLI takes far longer than the other tools (see
## tools/kyverno/go.mod).
integration-kyverno: tools $(TOOLS)/kyverno build
	PROMOTE_BIN=$(CURDIR)/$(BIN)/promote $(GO) test -count=1 -tags integration,kyverno -timeout 20m -run Kyverno ./integration/...

## tools: the real clients the integration tests drive (pinned), and
## versitygw, a real S3 server for the S3 ledger tests, pinned (v1.8.0) in
## tools/go.mod, a module of its own so its dependencies stay out of go.mod;
## actionlint checks docs/ci's GitHub Actions workflow, jq runs its stage script,
## chromium (driven by chromedp) opens the report page; gator (Gatekeeper's
## test CLI) runs the exported admission policies.
tools: $(TOOLS)/crane $(TOOLS)/cosign $(TOOLS)/cosign3 $(TOOLS)/versitygw $(TOOLS)/actionlint $(TOOLS)/opa $(TOOLS)/gator
	@need=""; for p in docker-registry sqlite3 jq chromium; do command -v $$p >/dev/null || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need; \
	  else echo "Debian packages required:$$need (sudo apt-get install$$need)"; exit 1; fi; fi

$(TOOLS)/crane:
	GOBIN=$(TOOLS) $(GO) install $(TOOL_LDFLAGS) github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)

$(TOOLS)/cosign:
	GOBIN=$(TOOLS) $(GO) install $(TOOL_LDFLAGS) github.com/sigstore/cosign/v2/cmd/cosign@$(COSIGN_VERSION)

# cosign v3 installs as cosign3 beside v2 so tests can sign with both.
$(TOOLS)/cosign3:
	GOBIN=$(CURDIR)/.tools/cosign-v3 $(GO) install $(TOOL_LDFLAGS) github.com/sigstore/cosign/v3/cmd/cosign@$(COSIGN3_VERSION)
	mkdir -p $(TOOLS) && mv $(CURDIR)/.tools/cosign-v3/cosign $@ && rmdir $(CURDIR)/.tools/cosign-v3

# About 30 s to build on an empty module and build cache.
$(TOOLS)/actionlint:
	GOBIN=$(TOOLS) $(GO) install $(TOOL_LDFLAGS) github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# opa: the OPA CLI, for the policy gate's parity test (opa eval on the same
# input and policy); the gate itself evaluates in-process with OPA's library.
# A tool of go.mod (go get -tool), so it is the library's very version and
# build shares the library's compiled packages with promote's.
$(TOOLS)/opa: go.mod go.sum
	$(GO) build $(TOOL_LDFLAGS) -o $@ github.com/open-policy-agent/opa

# About 3 min to build on 2 cores (171 s measured, module cache warm from opa).
$(TOOLS)/gator:
	GOBIN=$(TOOLS) $(GO) install $(TOOL_LDFLAGS) github.com/open-policy-agent/gatekeeper/v3/cmd/gator@$(GATOR_VERSION)

# Kyverno's go.mod has a replace directive, so `go install ...@v1.19.1`
# refuses it: it is built from tools/kyverno, a module of its own, and
# installed as kyverno. About 16 min on 2 cores from an empty build cache
# (76 s to download its modules, 910 s to build, measured 2026-12-05).
$(TOOLS)/kyverno: tools/kyverno/go.mod tools/kyverno/go.sum
	cd tools/kyverno && GOBIN=$(CURDIR)/.tools/kyverno-build $(GO) install $(TOOL_LDFLAGS) github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
	mkdir -p $(TOOLS) && mv $(CURDIR)/.tools/kyverno-build/kubectl-kyverno $@ && rmdir $(CURDIR)/.tools/kyverno-build

$(TOOLS)/versitygw: tools/go.mod tools/go.sum
	cd tools && GOBIN=$(TOOLS) $(GO) install $(TOOL_LDFLAGS) github.com/versity/versitygw/cmd/versitygw

## bench: the Go benchmarks, then promote beside crane, skopeo and regctl on
## real registries, over loopback and with 10 ms each way (scripts/bench.sh;
## figures in docs/BENCHMARKS.md). BENCH_ARGS go to the harness, e.g.
## BENCH_ARGS="-latency 0,10ms -logs bench/out/logs".
bench: bench-go bench-peers

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

BENCH_ARGS ?=
bench-peers:
	./scripts/bench.sh $(BENCH_ARGS)

clean:
	rm -rf $(BIN) .promote
