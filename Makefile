# Meridian: the two commands of the quick start, and a few more.
#   make demo    install what is missing, build, run the demo node
#   make demo-cluster  the same for the three-site demo cluster (three nodes, mutual TLS)
#   make test    install what is missing, build, run every test
#   make bench   run the DNS benchmark against the demo node
#   make bench-reflection  a spoofed reflection flood, rate limiting off and on
#   make bench-store  the consensus store benchmark (three local members)
#   make bench-failover  20 failovers of the demo cluster on the built-in store, then on etcd
#                        (BENCH_STORES="raft etcd"): p50/p99 until every node answers the new site
#   make fuzz    fuzz the peer wire format, the DNS answerer, the DNS probe's parser, the admin API's
#                request readers, the config loader and zone files, FUZZ_SECONDS (600) each, with libFuzzer

BUILD_DIR ?= build
JOBS ?= 2
FUZZ_SECONDS ?= 600
# CI builds with -Werror; developers get warnings without failing builds.
WERROR := $(if $(CI),ON,OFF)

.PHONY: all deps configure build test demo demo-cluster bench bench-reflection bench-store bench-failover fuzz clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMERIDIAN_WERROR=$(WERROR) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 900

demo: build
	@./scripts/demo.sh $(BUILD_DIR)

demo-cluster: build
	@./scripts/demo-cluster.sh $(BUILD_DIR)

bench: build
	@./bench/dns.sh $(BUILD_DIR)
	@echo
	@./bench/reflection.sh $(BUILD_DIR)

bench-reflection: build
	@./bench/reflection.sh $(BUILD_DIR)

bench-store: build
	@./bench/store.sh $(BUILD_DIR)

bench-failover: build
	@for store in $${BENCH_STORES:-raft etcd}; do DEMO_STORE=$$store ./bench/failover.sh $(BUILD_DIR) || exit 1; echo; done

fuzz: deps
	@./tests/fuzz/run_fuzz.sh wire . $(BUILD_DIR) $(FUZZ_SECONDS)
	@./tests/fuzz/run_fuzz.sh dns . $(BUILD_DIR) $(FUZZ_SECONDS)
	@./tests/fuzz/run_fuzz.sh probe . $(BUILD_DIR) $(FUZZ_SECONDS)
	@./tests/fuzz/run_fuzz.sh http . $(BUILD_DIR) $(FUZZ_SECONDS)
	@./tests/fuzz/run_fuzz.sh config . $(BUILD_DIR) $(FUZZ_SECONDS)
	@./tests/fuzz/run_fuzz.sh zone . $(BUILD_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR)
