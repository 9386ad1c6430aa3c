# The two commands a newcomer types: `make start` and `make test`.
SWIFT ?= swift
BIN := .build/debug/cubby
DATA ?= $(HOME)/.cubby/localkube
PORT ?= 8443

.PHONY: build release start test unit-test e2e-test test-deps bench clean

build:
	$(SWIFT) build --product cubby

release:
	$(SWIFT) build -c release --product cubby

# Until `cubby start` exists: build, then run localkube in the foreground (Ctrl-C stops it).
start: build
	@echo "KUBECONFIG=$(DATA)/kubeconfig kubectl get ns   # in another terminal"
	$(BIN) localkube --data-dir $(DATA) --port $(PORT)

test-deps:
	bash scripts/install-test-deps.sh

unit-test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

e2e-test: build test-deps
	CUBBY_BIN=$(abspath $(BIN)) python3 -m pytest -q tests/e2e

# Every test: Swift unit tests, then the end-to-end suites driving the real kubectl.
test: unit-test e2e-test

bench: release
	$(SWIFT) build -c release --product cubby-bench
	.build/release/cubby-bench --bin .build/release/cubby

clean:
	rm -rf .build
