# Distill — every target sets up what it needs first (scripts/bootstrap.sh, idempotent).
SWIFT ?= swift
CACHE ?= .cache
BENCH_TRIALS ?= 7

.PHONY: setup build test bench demo fixtures clean

setup:
	@bash scripts/bootstrap.sh

build: setup
	$(SWIFT) build

## Run the whole test suite (what CI runs).
test: setup
	$(SWIFT) test

## Engine benchmark: engine matmul vs raw OpenBLAS vs numpy, and a transformer block fwd+bwd.
bench: setup
	$(SWIFT) build -c release --product distill
	@mkdir -p $(CACHE)/bench
	python3 bench/numpy_matmul.py $(BENCH_TRIALS) > $(CACHE)/bench/numpy.json
	.build/release/distill bench --peers $(CACHE)/bench/numpy.json --trials $(BENCH_TRIALS)

## The end-to-end demo on built-in defaults.
demo: setup
	$(SWIFT) build -c release --product distill
	.build/release/distill demo

## Regenerate the numpy reference values the tests compare against.
fixtures: setup
	python3 scripts/make_op_fixtures.py

clean:
	rm -rf .build $(CACHE)
