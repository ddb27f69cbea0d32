# Leones — the two commands a fresh Debian machine needs: `make demo` and `make test`.
# Both install what is missing first (scripts/setup.sh).

CARGO ?= cargo
export LLVM_SYS_191_PREFIX ?= /usr/lib/llvm-19

.PHONY: setup demo test bench build fmt-check clean fuzz-smoke

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace

# The demo: the research CLI on sample traces, and the talk's programs on pylite.
demo: setup
	$(CARGO) build --release -p leones --bin leones -p pylite
	@bash scripts/demo.sh target/release/leones target/release/pylite

# Everything CI runs: the whole workspace's tests (unit, integration, filetests,
# property tests, doc tests). Heavy runs (long fuzzing, benchmarks) are not here.
test: setup
	$(CARGO) test --workspace --release

# Benchmarks (not part of `make test`): pylite vs python3 on the talk's programs,
# medians of interleaved runs in one invocation.
bench: setup
	$(CARGO) build --release -p pylite
	target/release/pylite bench --runs 3

# A bounded run of every fuzz target (~1 minute each; fuzz/README.md). Not part of
# `make test`: it needs cargo-fuzz (installed if missing) and builds a separate crate.
fuzz-smoke: setup
	@bash scripts/fuzz-smoke.sh

fmt-check:
	$(CARGO) fmt --all -- --check

clean:
	$(CARGO) clean
