#!/usr/bin/env bash
# The demo: the research CLI on sample traces, then the talk's programs on pylite's
# interpreter (the JIT is wired into pylite by a later issue).
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
echo "== pylite: the talk's programs (interpreter; small sizes) =="
P=pylite/programs
for prog in "pi.py 6" "pi_blocker.py 6" "data_driven.py 20000 5" "pythagorean.py 200000" "readpoly.py 50000"; do
  set -- $prog
  echo; echo "\$ pylite run $P/$*"
  "$PYLITE" run "$P/$1" "${@:2}"
done
