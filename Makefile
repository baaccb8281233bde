# baton — two commands do everything: `make demo` and `make test`.
# Everything else here is what those two are built from.

GO      ?= go
BIN     := bin/baton
ORDERS  ?= 3000
SEED    ?= 42
BENCH_ORDERS ?= 20000
BENCH_RATE   ?= 500
BENCH_SECONDS ?= 120

.PHONY: build demo test test-go lint dev-up dev-down dev-purge bench bench-go bench-e2e bench-latency clean

build: ## build bin/baton
	$(GO) build -o $(BIN) ./cmd/baton

dev-up: ## start the embedded dev stack (broker, registry, ClickHouse); idempotent
	scripts/dev-up.sh

dev-down: ## stop the dev stack and baton serve (data stays in .dev/)
	scripts/dev-down.sh

dev-purge: ## stop the dev stack and delete its data
	scripts/dev-down.sh --purge

demo: build dev-up ## simulate orders, run the pipeline until caught up, print the report, start baton serve
	$(BIN) topics
	$(BIN) simulate --orders $(ORDERS) --seed $(SEED)
	$(BIN) run --until-caught-up
	$(BIN) report
	@echo
	@echo "The dev stack is still running: explore with 'bin/baton report', clickhouse-client, kcat -L -b 127.0.0.1:9092."
	@echo "Stop it with 'make dev-down' (keeps data) or 'make dev-purge' (deletes .dev/)."
	scripts/demo-serve.sh

test: ## install what is missing, start the dev stack, run every check and test with -race, stop what it started
	scripts/test.sh

lint: ## gofmt, go vet, go.mod tidy
	scripts/lint.sh

bench: build dev-up bench-go bench-e2e ## Go benchmarks plus the end-to-end throughput run (latency: make bench-latency)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-e2e:
	scripts/bench-e2e.sh $(BENCH_ORDERS)

bench-latency: ## pipeline latency p50/p95/p99 per stage, live at a steady BENCH_RATE events/s for BENCH_SECONDS s
	scripts/bench-latency.sh $(BENCH_RATE) $(BENCH_SECONDS)

clean:
	rm -rf bin
