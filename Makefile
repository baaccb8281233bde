# baton — two commands do everything: `make demo` and `make test`.
# Everything else here is what those two are built from.

GO      ?= go
BIN     := bin/baton
ORDERS  ?= 3000
SEED    ?= 42
BENCH_ORDERS ?= 20000
BENCH_RATE   ?= 500
BENCH_SECONDS ?= 120

.PHONY: build demo test test-chdb test-go docs lint alert-test dev-up dev-down dev-purge bench bench-go bench-compare bench-latency determinism chaos soak clean

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

test-chdb: ## the sink, report, documented and Grafana query tests against current ClickHouse (chDB, installed by scripts/install-deps.sh)
	scripts/install-deps.sh
	CHDB_LIB_PATH=$$(scripts/chdb.sh) $(GO) test -tags chdb -count=1 ./sinks/clickhouse/...

alert-test: ## a firing rule reaches a webhook: Prometheus (deploy/prometheus/rules) → Alertmanager (deploy/alertmanager) → a local receiver
	scripts/install-deps.sh
	$(GO) test -count=1 -run 'TestFiringRuleReachesTheWebhook|TestAlertRoutes' -v ./deploy/

docs: ## write docs/queries.md's SQL from sinks/clickhouse/queries/*.sql (the sink's tests fail while they differ)
	$(GO) run ./scripts/docqueries docs/queries.md

lint: ## gofmt, go vet, go.mod tidy, docker-compose.yml against the Compose specification
	scripts/lint.sh

bench: build dev-up bench-go bench-compare ## Go benchmarks plus the end-to-end comparison with the machine's ceilings (latency: make bench-latency)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-compare: build dev-up ## baton against the broker's and ClickHouse's ceilings on one BENCH_ORDERS-order backlog (default 20,000), BENCH_ROUNDS interleaved rounds (default 3): records/s, ratios, peak RSS, CPU per record; BENCH_BATONS=old/baton,bin/baton compares binaries back to back; CPU profiles in .dev/profiles
	$(GO) run ./scripts/benchcompare -orders $(or $(BENCH_ORDERS),20000) -rounds $(or $(BENCH_ROUNDS),3) -baton $(or $(BENCH_BATONS),bin/baton) -profiles .dev/profiles

bench-latency: ## pipeline latency p50/p95/p99 per stage, live at a steady BENCH_RATE events/s for BENCH_SECONDS s
	scripts/bench-latency.sh $(BENCH_RATE) $(BENCH_SECONDS)

determinism: dev-up ## the determinism harness at ORDERS orders (SEED): every table identical under load, reordering, rebalances, kills, live and backfill
	BATON_DETERMINISM_ORDERS=$(ORDERS) BATON_DETERMINISM_SEED=$(SEED) $(GO) test -count=1 -timeout 6h -run TestDeterminismHarness -v ./cmd/baton/

chaos: dev-up ## the long chaos suite: ClickHouse stopped 60 s, the broker SIGKILLed 30 s, the registry stopped 30 s, a webhook burst through a broker kill (own services), five SIGKILLs of baton during a CHAOS_ORDERS-order run (default 20,000)
	BATON_CHAOS_LONG=1 BATON_CHAOS_ORDERS=$(or $(CHAOS_ORDERS),20000) $(GO) test -count=1 -timeout 2h -run 'TestRunRidesThroughOutages|TestIngestBurstThroughABrokerKill|TestUnifyTimelineSurvivesFiveSIGKILLsExactlyOnce' -v ./cmd/baton/

soak: dev-up ## baton run live at SOAK_PACE events/s (default 1500) for SOAK_MINUTES (default 120), RSS sampled; it must level off, and the tables equal a clean replay
	BATON_SOAK_MINUTES=$(or $(SOAK_MINUTES),120) BATON_SOAK_PACE=$(or $(SOAK_PACE),1500) $(GO) test -count=1 -timeout 6h -run TestSoak -v ./cmd/baton/

clean:
	rm -rf bin
