# Leones — the two commands a fresh Debian machine needs: `make demo` and `make test`.
# Both install what is missing first (scripts/setup.sh).

CARGO ?= cargo
export LLVM_SYS_191_PREFIX ?= /usr/lib/llvm-19

.PHONY: setup demo test build fmt-check clean

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace

# The demo: check and run the sample traces with the research CLI.
demo: setup
	$(CARGO) build --release -p leones --bin leones
	@bash scripts/demo.sh target/release/leones

# Everything CI runs: the whole workspace's tests (unit, integration, filetests,
# property tests, doc tests). Heavy runs (long fuzzing, benchmarks) are not here.
test: setup
	$(CARGO) test --workspace --release

fmt-check:
	$(CARGO) fmt --all -- --check

clean:
	$(CARGO) clean
