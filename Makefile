# Leones — the two commands a fresh Debian machine needs: `make demo` and `make test`.
# Both install what is missing first (scripts/setup.sh).

CARGO ?= cargo
export LLVM_SYS_191_PREFIX ?= /usr/lib/llvm-19
# Where cargo puts binaries (honours CARGO_TARGET_DIR).
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)

.PHONY: setup demo test bench build fmt-check clean fuzz-smoke

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace

# The demo: the research CLI on sample traces, the talk's programs on pylite with the
# JIT, and the benchmark table at small sizes (about a minute in all).
demo: setup
	$(CARGO) build --release -p leones --bin leones -p pylite
	@bash scripts/demo.sh $(TARGET_DIR)/release/leones $(TARGET_DIR)/release/pylite

# Everything CI runs: the whole workspace's tests (unit, integration, filetests,
# property tests, doc tests). Heavy runs (long fuzzing, benchmarks) are not here.
test: setup
	$(CARGO) test --workspace --release

# Benchmarks (not part of `make test`): the talk's programs at their default sizes on
# pylite, pylite + JIT, python3 and pypy3 (when installed), medians of interleaved runs;
# writes target/bench.json, docs/benchmarks.md and the warm-up plots docs/warmup/*.svg.
bench: setup
	$(CARGO) build --release -p pylite
	$(TARGET_DIR)/release/pylite bench --runs 3 --json target/bench.json --markdown docs/benchmarks.md --plots docs/warmup

# A bounded run of every fuzz target (~1 minute each; fuzz/README.md). Not part of
# `make test`: it needs cargo-fuzz (installed if missing) and builds a separate crate.
fuzz-smoke: setup
	@bash scripts/fuzz-smoke.sh

fmt-check:
	$(CARGO) fmt --all -- --check

clean:
	$(CARGO) clean
