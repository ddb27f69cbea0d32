#!/usr/bin/env bash
# The demo: the research CLI on sample traces, then the talk's programs on pylite with
# the JIT, then the benchmark table (pylite, pylite + JIT, python3, pypy3) at small sizes.
set -euo pipefail
LEONES=${1:-target/release/leones}
PYLITE=${2:-target/release/pylite}
FT=tests/filetests
show() { echo; echo "\$ leones $*"; "$LEONES" "$@" || true; }
echo "== Leones demo: the trace IR, its verifier and its reference interpreter =="
show check $FT/leibniz.ir
show print $FT/region_diamond.ir
show run $FT/leibniz.ir --input i64:0 --input i64:100000 --input f64:0.0
show run $FT/virtuals.ir --input f64:1.5 --input i64:2
show run $FT/int_div_edge.ir --input 5 --input 0
show check $FT/invalid/not_dominated.ir
show check $FT/invalid/unexpected_token.ir
show opt $FT/leibniz.ir --stats

echo
echo "== pylite: the talk's programs with the Leones JIT (the talk's sizes) =="
P=pylite/programs
for prog in pi.py pi_blocker.py data_driven.py pythagorean.py readpoly.py; do
  echo; echo "\$ pylite run --jit on $P/$prog"
  "$PYLITE" run --jit on "$P/$prog"
done

echo
echo "== the benchmark table at small sizes (make bench: the talk's sizes) =="
echo "\$ pylite bench --size small --runs 3    # 3 interleaved rounds of every runtime, then of the warm-up variants: ~30 s"
# The rows also stream to stderr as they come in; the final report (stdout) has them all.
"$PYLITE" bench --size small --runs 3 --json target/bench-small.json 2>/dev/null ||
  echo "pylite bench: exit status $? (see the notes above)"
