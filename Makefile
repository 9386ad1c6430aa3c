# The two commands a newcomer types: `make start` and `make test`.
SWIFT ?= swift
BIN := .build/debug/cubby

.PHONY: build release start test unit-test e2e-test test-deps bench fuzz soak soak-short clean

build:
	$(SWIFT) build --product cubby

# The Swift runtime is linked in: one self-contained binary, and less memory mapped at run time.
# Position-independent, as the toolchain links by default: the server's own code is randomised
# in memory like everything else on the machine.
RELEASE := -c release --static-swift-stdlib

release:
	$(SWIFT) build $(RELEASE) --product cubby

# Build, then start the default cluster in the background and point kubectl at it; on Linux as
# root the container runtime is installed first, so pods run as real containers.
start: build
	bash scripts/install-runtime.sh --optional
	$(BIN) start

test-deps:
	bash scripts/install-test-deps.sh

# The test bundle alone: --build-tests would also build every tool of the dependencies (protoc
# and its plugins among them), minutes CI need not spend.
unit-test:
	$(SWIFT) build --product cubbyPackageTests
	$(SWIFT) test --skip-build

# The API server's suites, which run a second time with every cluster's objects in etcd.
ON_ETCD := test_kubectl test_writes test_wire_details test_auth test_python_client test_python_client_suite \
	test_validation_admission test_workload_controllers test_workloads test_storage_durability test_limits

e2e-test: build test-deps
	CUBBY_BIN=$(abspath $(BIN)) python3 -m pytest -q tests/e2e
	CUBBY_TEST_STORE=etcd CUBBY_BIN=$(abspath $(BIN)) python3 -m pytest -q $(patsubst %,tests/e2e/%.py,$(ON_ETCD))

# Every test: Swift unit tests, then the end-to-end suites driving the real kubectl.
test: unit-test e2e-test

# libFuzzer on every parser and patch engine, FUZZ_SECONDS each, after replaying the crashers already
# found; CI runs a short pass with a fixed seed (make fuzz FUZZ_SECONDS=15 FUZZ_SEED=1). Fold new finds into the committed corpus
# with scripts/fuzz.sh --merge.
FUZZ_SECONDS ?= 300
FUZZ_SEED ?=

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) bash scripts/fuzz.sh

bench: release
	$(SWIFT) build $(RELEASE) --product cubby-bench
	$(SWIFT) build $(RELEASE) --product cubby-patch-bench
	$(SWIFT) build $(RELEASE) --product cubby-store-bench
	.build/release/cubby-bench --bin .build/release/cubby
	command -v etcd >/dev/null || bash scripts/install-test-deps.sh
	.build/release/cubby-store-bench --bin .build/release/cubby
	.build/release/cubby-patch-bench
	python3 Benchmarks/cli_bench.py .build/release/cubby
	python3 Benchmarks/workload_bench.py .build/release/cubby
	python3 Benchmarks/dns_bench.py .build/release/cubby
	python3 Benchmarks/watch_memory_bench.py .build/release/cubby
	python3 Benchmarks/snapshot_bench.py .build/release/cubby
	python3 Benchmarks/admission_bench.py .build/release/cubby
	# Real pods and the service proxy's rules need Linux and root.
	if [ "$$(uname -s)" = Linux ] && [ "$$(id -u)" = 0 ]; then \
		$(SWIFT) build $(RELEASE) --product cubby-cri-bench && \
		$(SWIFT) build $(RELEASE) --product cubby-proxy-bench && \
		python3 Benchmarks/runtime_bench.py .build/release/cubby .build/release/cubby-cri-bench && \
		.build/release/cubby-proxy-bench && \
		python3 Benchmarks/service_bench.py .build/release/cubby && \
		python3 Benchmarks/logs_bench.py .build/release/cubby && \
		python3 Benchmarks/stream_bench.py .build/release/cubby .build/release/cubby-cri-bench; \
	fi

# Issue 16's soak: 100 clients creating, updating, patching, deleting and listing while 1,000
# watchers check every event of theirs against the writes made; latencies and localkube's RSS.
# Ten minutes on release builds; soak-short, which CI runs, is 60 s on the debug build.
SOAK_SECONDS ?= 600

soak: release
	$(SWIFT) build $(RELEASE) --product cubby-soak
	.build/release/cubby-soak --bin .build/release/cubby --seconds $(SOAK_SECONDS)

soak-short: build
	$(SWIFT) build --product cubby-soak
	.build/debug/cubby-soak --bin $(BIN) --seconds 60

clean:
	rm -rf .build
