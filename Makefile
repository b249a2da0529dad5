# Cairn: a Redis-compatible cache and leaderboard server.
#   make run    build and start a single node (data in ./data, port 6379)
#   make cluster  build and run a local 3-node cluster in the foreground (ports 7001-7003, ./data/<port>)
#   make test   install test dependencies, then vet, format check and every test with -race
#   make crash  50 rounds of kill -9 under concurrent writers (make test runs 5), then the store crash tests
#   make compat  real client libraries (Go, Node, Python, redis-cli) against a single node, a 3-node cluster and a real Redis

GO      ?= go
BIN     := bin/cairn
ARGS    ?=

.PHONY: run cluster build test crash compat deps vet fmt-check unit bench fuzz clean

run: build
	./$(BIN) --dir ./data $(ARGS)

cluster: build
	./scripts/cluster.sh $(ARGS)

build:
	$(GO) build -o $(BIN) ./cmd/cairn

deps:
	./scripts/test-deps.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, including the fuzz seed corpora, with the race detector (which
# also turns on the invariants checks).
test: deps vet fmt-check
	CI=$${CI:-} $(GO) test -race -count=1 -timeout 15m ./...

# Crash tests at length: the kill -9 loop (appendfsync always) for 50 rounds,
# Pebble's crash-simulating filesystem and injected disk errors.
crash:
	$(GO) test -v -count=1 -timeout 10m -run 'TestCrash_' ./commands -args -crash.rounds 50
	$(GO) test -v -count=1 -timeout 10m -run 'TestCrash_' ./store

# Client libraries' flows (compat/<suite>/run.sh) against a real redis-server
# (the control), a single node and a local 3-node cluster; see compat/run.sh.
compat: build
	./compat/run.sh

# Short fuzzing of the request reader (the corpus itself runs in make test).
fuzz:
	$(GO) test ./resp -run XXX -fuzz FuzzReader -fuzztime 60s

# Go benchmarks (allocations and ns/op); redis-benchmark comparisons are in docs/benchmarks.md.
bench:
	$(GO) test -run XXX -bench . -benchmem ./...

clean:
	rm -rf bin
