# otelcol-cloudtrail — build, test, lint and benchmark.
GO        ?= go
TOOLS_MOD := internal/tools/go.mod
GOBIN     := $(shell $(GO) env GOPATH)/bin
PKGS      := ./...

.PHONY: all build test unit lint generate bench clean

all: lint test

## build: compile every package.
build:
	$(GO) build $(PKGS)

## test: vet, lint and run every test (unit, integration through the S3 protocol).
test: lint unit

unit:
	$(GO) test -count=1 -timeout 15m $(PKGS)

## lint: gofmt, go vet and staticcheck (installed from internal/tools).
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool -modfile=$(TOOLS_MOD) staticcheck $(PKGS)

## generate: regenerate mdatagen code from metadata.yaml files.
generate:
	cd receiver/awscloudtrailreceiver && $(GO) tool -modfile=../../$(TOOLS_MOD) mdatagen metadata.yaml

## bench: reader+mapper benchmarks next to the gunzip and encoding/json baselines.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./receiver/awscloudtrailreceiver/internal/objectreader/

clean:
	rm -rf dist
