#!/usr/bin/env bash
# A bounded run of every fuzz target (fuzz/README.md): `make fuzz-smoke`.
#
# Each target runs for FUZZ_SECONDS (default 60) from its checked-in seed corpus, new
# inputs going to a scratch directory (the checked-in corpus stays small). Uses nightly
# with AddressSanitizer when a nightly toolchain is installed and builds the targets,
# otherwise stable without a sanitizer (FUZZ_TOOLCHAIN / FUZZ_SANITIZER override).
# Not part of `make test`. Exits non-zero if any target finds a crash, a hang or a
# differential mismatch; the input is saved under fuzz/artifacts/TARGET/.
#
#   FUZZ_SECONDS=600 FUZZ_TARGETS="llvm_diff" scripts/fuzz-smoke.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"parse opt_diff llvm_diff pylite_diff"}
export LLVM_SYS_191_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/fuzz/target}
bash "$ROOT/scripts/setup.sh"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

cd "$ROOT/fuzz"
build() { # toolchain sanitizer
  cargo "+$1" fuzz build -O -s "$2" --target-dir "$TARGET_DIR"
}
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  TOOLCHAIN=$FUZZ_TOOLCHAIN
  SANITIZER=${FUZZ_SANITIZER:-none}
  build "$TOOLCHAIN" "$SANITIZER"
elif rustup toolchain list 2>/dev/null | grep -q '^nightly' && build nightly "${FUZZ_SANITIZER:-address}"; then
  TOOLCHAIN=nightly
  SANITIZER=${FUZZ_SANITIZER:-address}
else
  echo "fuzz-smoke: no working nightly toolchain; stable without a sanitizer" >&2
  TOOLCHAIN=stable
  SANITIZER=none
  build "$TOOLCHAIN" "$SANITIZER"
fi

status=0
summary=""
for t in $TARGETS; do
  scratch=$(mktemp -d)
  mkdir -p "$scratch/corpus"
  log="$scratch/fuzz.log"
  # parse reads text (up to 4 KiB, with the format's dictionary, also seeded by the
  # filetests); the IR differential targets read a few control bytes and a 32-byte
  # seed (fuzz/src/input.rs); pylite_diff mixes up to 4 KiB into its program
  # generator's decisions, eight bytes a decision (fuzz/src/pylite_diff.rs).
  extra=()
  seeds=("corpus/$t")
  max_len=64
  case "$t" in
    parse) extra=(-dict=ir.dict); seeds+=(../tests/filetests); max_len=4096 ;;
    pylite_diff) max_len=4096 ;;
  esac
  echo "== $t: ${SECONDS_PER_TARGET}s ($TOOLCHAIN, sanitizer $SANITIZER)" >&2
  if nice -n 19 cargo "+$TOOLCHAIN" fuzz run -O -s "$SANITIZER" --target-dir "$TARGET_DIR" "$t" \
    "$scratch/corpus" "${seeds[@]}" -- -max_total_time="$SECONDS_PER_TARGET" -timeout=60 -rss_limit_mb=4096 -max_len="$max_len" \
    "${extra[@]}" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 60 "$log" >&2
  fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  summary+="$t: $result  ${last}"$'\n'
  rm -rf "$scratch"
done
printf '\n%s' "$summary"
exit $status
