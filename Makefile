# lethe — make targets. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
export CGO_LDFLAGS ?= -lopenblas
TAGS ?= openblas
GO ?= go
GOFLAGS_TAGS := -tags=$(TAGS)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 5s

.PHONY: all setup setup-bench build test test-short demo bench fuzz fmt lint generate reproduce schemas clean

all: build

setup:
	@scripts/setup.sh

setup-bench:
	@scripts/setup.sh --bench

build:
	$(GO) build $(GOFLAGS_TAGS) -ldflags "-X github.com/lethe-ml/lethe.Version=$(VERSION)" -o bin/lethe ./cmd/lethe

test: setup
	$(GO) vet $(GOFLAGS_TAGS) ./...
	LETHE_REQUIRE_COMPONENTS=1 $(GO) test $(GOFLAGS_TAGS) -count=1 ./...
	$(GO) test $(GOFLAGS_TAGS) -count=1 -tags=$(TAGS) ./onnxio -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)

test-short:
	$(GO) test $(GOFLAGS_TAGS) -short ./...

demo: setup build
	bin/lethe demo --out out/demo

bench: setup-bench build
	bench/run.sh

fuzz:
	$(GO) test $(GOFLAGS_TAGS) ./onnxio -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 5m

reproduce: setup build
	bin/lethe demo --reproduce --out results --work out/reproduce

# schemas/examples/*.json: each command's real --json output, checked
# against schemas/*.schema.json by the tests.
schemas: setup
	$(GO) test $(GOFLAGS_TAGS) -count=1 ./cmd/lethe -run '^TestJSONSchemas$$' -update

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

lint:
	$(GO) vet $(GOFLAGS_TAGS) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

generate:
	$(GO) generate ./...

clean:
	rm -rf bin
