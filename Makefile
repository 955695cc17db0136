SHELL := /bin/bash
# otelcol-cloudtrail — build, run, test, lint and benchmark.
GO          ?= go
TOOLS_MOD   := internal/tools/go.mod
GOBIN       := $(shell $(GO) env GOPATH)/bin
OCB_VERSION := v0.160.0
OCB         := $(GOBIN)/builder
DIST        := dist/otelcol-cloudtrail
UNIT_PKGS    = $(shell $(GO) list ./... | grep -v /e2e)

.PHONY: all build run test unit race e2e soak lint generate bench clean

all: lint test

$(OCB):
	$(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

## build: build the otelcol-cloudtrail distribution with ocb into dist/.
build: $(OCB)
	$(OCB) --config builder-config.yaml

## run: build, start the local S3 server and Datadog intake emulator, run the collector on them.
## Ctrl-C stops it (exit status 0). DEMO_FLAGS passes flags to cmd/demo.
run: build
	$(GO) run ./cmd/demo $(DEMO_FLAGS)

## test: lint, unit and integration tests (the concurrent components also
## under the race detector), then end-to-end tests of the built collector.
test: lint unit race e2e

unit:
	$(GO) test -count=1 -timeout 15m $(UNIT_PKGS)

race:
	$(GO) test -count=1 -race -timeout 15m ./receiver/awscloudtrailreceiver/ ./exporter/...

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
	$(GO) tool -modfile=$(TOOLS_MOD) staticcheck ./...

## generate: regenerate mdatagen code from metadata.yaml files.
generate:
	for d in receiver/awscloudtrailreceiver exporter/datadoglogsexporter exporter/datadogeventsexporter; do \
		(cd $$d && $(GO) tool -modfile=../../$(TOOLS_MOD) mdatagen metadata.yaml) || exit 1; done

## bench: reader and exporter benchmarks next to their baselines, then the
## stdlib / receiver / end-to-end table on one generated trail tree.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 5x ./receiver/awscloudtrailreceiver/internal/objectreader/
	$(GO) test -run '^$$' -bench . -benchtime 20x ./exporter/datadoglogsexporter/ ./exporter/datadogeventsexporter/
	$(GO) test -run '^$$' -bench SQSReceivers -benchtime 2x ./receiver/awscloudtrailreceiver/
	$(GO) run ./cmd/bench

clean:
	rm -rf dist
