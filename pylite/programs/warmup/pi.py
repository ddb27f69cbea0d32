# Warm-up variant of ../pi.py: the same Leibniz loop, timed in chunks.
# After iteration 16, 32, 64, ... (doubling until the chunk reaches STEP, then every
# STEP iterations) the loop records time.perf_counter(); at the end it prints one
# line per mark, `chunk NAME ITERATIONS SECONDS` (cumulative since the loop started),
# then the same result and timing lines as ../pi.py. `pylite bench` plots them.
# Usage: pi.py [DIGITS]   -- tolerance is 10**-DIGITS (default 7)
import sys
import time


def report(name, t0, marks):
    for n, t in marks:
        print(f"chunk {name} {n} {t - t0:.9f}")


def get_pi(tol, step, marks):
    pi_approx = 0.0
    k = 0
    term = 1.0
    mark = 16
    while abs(term) > tol:
        if k % 2 == 0:
            term = 1.0 / (2 * k + 1)
        else:
            term = -1 * 1.0 / (2 * k + 1)
        pi_approx = pi_approx + term
        k = k + 1
        if k == mark:
            marks.append((k, time.perf_counter()))
            mark += min(mark, step)
    marks.append((k, time.perf_counter()))
    return 4 * pi_approx


def main():
    digits = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tol = 1.0 / 10 ** digits
    step = max(10 ** digits // 128, 16)
    marks = []
    t0 = time.perf_counter()
    pi = get_pi(tol, step, marks)
    t1 = time.perf_counter()
    report("pi", t0, marks)
    print(f"pi = {pi!r}")
    print(f"pi: {t1 - t0:.4f} secs")


main()
