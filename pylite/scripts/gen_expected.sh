#!/bin/sh
# Regenerates programs/expected/*.txt by running the programs under python3 at the
# small sizes the tests use (timing lines are dropped). Keep in sync with tests/programs.rs.
set -e
cd "$(dirname "$0")/../programs"
tmp=$(mktemp -d)
run() { name=$1; shift; python3 "$name.py" "$@" | grep -v ' secs$' > "expected/$name.txt"; }
run pi 5
run pi_blocker 5
run data_driven 2000 2
run pythagorean 20000
run readpoly 3000 "$tmp/poly.bin"
rm -rf "$tmp"
