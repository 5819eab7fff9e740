# Drawbridge: `make run` starts it, `make test` tests it. `make help` lists the rest.

GO      ?= go
BIN     := bin/drawbridge
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
OIDC_TEST_PROVIDER := web/webtest/oidcprovider
MCP_INSPECTOR := cmd/drawbridge/testdata/inspector
MCP_TS_CLIENT := cmd/drawbridge/testdata/tsclient

.DEFAULT_GOAL := help
.PHONY: help run build test testdeps fuzz lint generate verify bench clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: build ## Start Drawbridge on the embedded default (SQLite in ./data, demo MCP server)
	./$(BIN) serve --demo

build: ## Build bin/drawbridge
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/drawbridge

test: testdeps ## Run every test, with the race detector; the store's again on PostgreSQL
	$(GO) test -race -count=1 -timeout 15m ./...
	DRAWBRIDGE_TEST_DB=postgres $(GO) test -race -count=1 -timeout 15m ./models/... ./proxy/vault/

testdeps: $(OIDC_TEST_PROVIDER)/node_modules/.package-lock.json $(MCP_INSPECTOR)/node_modules/.package-lock.json $(MCP_TS_CLIENT)/node_modules/.package-lock.json ## Install what the tests need (the test OIDC provider, the MCP Inspector, the TypeScript MCP client)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ echo "browser tests need Chromium: apt-get install -y chromium" >&2; exit 1; }

$(OIDC_TEST_PROVIDER)/node_modules/.package-lock.json: $(OIDC_TEST_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_TEST_PROVIDER) --no-audit --no-fund

$(MCP_INSPECTOR)/node_modules/.package-lock.json: $(MCP_INSPECTOR)/package-lock.json
	npm ci --prefix $(MCP_INSPECTOR) --no-audit --no-fund

$(MCP_TS_CLIENT)/node_modules/.package-lock.json: $(MCP_TS_CLIENT)/package-lock.json
	npm ci --prefix $(MCP_TS_CLIENT) --no-audit --no-fund

FUZZTIME ?= 10s

fuzz: ## Run every fuzz target for FUZZTIME each (default 10s), starting from its committed seeds
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz: $$f in $$dir for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi

generate: ## Generate templ components
	$(GO) tool templ generate

verify: generate ## Fail if generated files are out of date
	@git diff --exit-code -- '*_templ.go' || { echo "generated files were stale: run make generate and commit" >&2; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "new generated files are not committed" >&2; exit 1; }

bench: ## Run the micro-benchmarks, then drawbench, the whole gateway benchmark, which writes bin/bench.md (flags: make bench BENCHFLAGS='-rounds 5')
	$(GO) test -run '^$$' -bench . -skip BenchmarkAuditScale -benchmem ./...
	@mkdir -p bin
	$(GO) run ./cmd/drawbench -out bin/bench.md $(BENCHFLAGS)

clean: ## Remove build output (keeps ./data)
	rm -rf bin
