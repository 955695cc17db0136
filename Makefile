SHELL := /bin/bash
# otelcol-cloudtrail — build, run, test, lint and benchmark.
GO          ?= go
TOOLS_MOD   := internal/tools/go.mod
# ocb, mdatagen, goimports and staticcheck are pinned in internal/tools/go.mod.
TOOL        := $(GO) tool -modfile=$(TOOLS_MOD)
DIST        := dist/otelcol-cloudtrail
# The concurrent components run under the race detector (race), every other
# package without it (unit): each package runs once.
RACE_PKGS    = $(shell $(GO) list ./receiver/awscloudtrailreceiver/ ./receiver/awscloudtrailreceiver/internal/checkpoint/ ./exporter/...)
UNIT_PKGS    = $(filter-out $(RACE_PKGS),$(shell $(GO) list ./... | grep -v /e2e))

.PHONY: all build run test unit race e2e soak lint generate check-generate bench clean

all: lint test

## build: build the otelcol-cloudtrail distribution with ocb into dist/.
## ocb v0.160.0 makes an empty temporary directory it never removes: TMPDIR
## points it (and the go build it runs) into dist/.tmp, removed afterwards.
build:
	@mkdir -p dist/.tmp
	TMPDIR=$(CURDIR)/dist/.tmp $(TOOL) builder --config builder-config.yaml; \
		status=$$?; rm -rf dist/.tmp; exit $$status

## run: build, start the local S3 server and Datadog intake emulator, run the collector on them.
## Ctrl-C stops it (exit status 0). DEMO_FLAGS passes flags to cmd/demo.
## The demo is built and run, not `go run`: go run ends with status 1 when
## its child gets SIGINT, so a SIGINT to the whole process group made
## `make run` fail although the demo stopped cleanly.
run: build
	$(GO) build -o dist/demo ./cmd/demo
	./dist/demo $(DEMO_FLAGS)

## test: lint, unit and integration tests (the concurrent components also
## under the race detector), then end-to-end tests of the built collector.
test: lint unit race e2e

unit:
	$(GO) test -count=1 -timeout 15m $(UNIT_PKGS)

race:
	$(GO) test -count=1 -race -timeout 15m $(RACE_PKGS)

e2e: build
	OTELCOL_BINARY=$(CURDIR)/$(DIST) $(GO) test -count=1 -timeout 20m -v ./e2e/

## soak: the randomized fault-injection soak (internal/soak) for SOAK_DURATION
## (default 10m); SOAK_SEED=N replays a scenario (SOAK_SCENARIOS=1: that one
## only). `make unit` runs its short form (a few scenarios).
SOAK_DURATION ?= 10m
soak:
	SOAK_DURATION=$(SOAK_DURATION) SOAK_SEED=$(SOAK_SEED) SOAK_SCENARIOS=$(SOAK_SCENARIOS) \
		$(GO) test -count=1 -timeout 0 -run TestSoak -v ./internal/soak/

## lint: gofmt, go vet and staticcheck (installed from internal/tools).
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './dist/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(TOOL) staticcheck ./...

## generate: regenerate mdatagen code from metadata.yaml files.
generate:
	for d in receiver/awscloudtrailreceiver exporter/datadoglogsexporter exporter/datadogeventsexporter; do \
		(cd $$d && $(GO) tool -modfile=../../$(TOOLS_MOD) mdatagen metadata.yaml && \
		 $(GO) tool -modfile=../../$(TOOLS_MOD) goimports -w $$(find . -name 'generated_*.go')) || exit 1; done

## check-generate: fail when `make generate` changes the tree (CI; run it on a clean tree).
check-generate: generate
	@changed=$$(git status --porcelain); \
	if [ -n "$$changed" ]; then echo "make generate changed the tree:"; echo "$$changed"; git diff; exit 1; fi

## bench: one table from one run (cmd/bench): gunzip floor, stdlib JSON
## split, the receiver's reader per body mode, datadoglogs per body mode,
## and the built collector end to end per body mode, each as a ratio of the
## stdlib split. The single-core rows run with GOMAXPROCS=1. BENCH_FLAGS
## passes flags, e.g. BENCH_FLAGS="-baseline-collector /path/to/old/otelcol-cloudtrail
## -e2e-runs 3" (go run ./cmd/bench -h lists them).
bench: build
	GO=$(GO) $(GO) run ./cmd/bench $(BENCH_FLAGS)

clean:
	rm -rf dist
