# Warm-up variant of ../pi_blocker.py: the same two loops, timed in chunks.
# After iteration 16, 32, 64, ... (doubling until the chunk reaches STEP, then every
# STEP iterations) each loop records time.perf_counter(); at the end the program
# prints one line per mark, `chunk NAME ITERATIONS SECONDS` (cumulative since that
# loop started), then the same result and timing lines as ../pi_blocker.py.
# Usage: pi_blocker.py [DIGITS]   -- tolerance is 10**-DIGITS (default 7)
import sys
import time

try:
    from pylite_builtins import opaque_noop, opaque_call
except ImportError:
    try:
        from pypyjit import residual_call

        def opaque_call(f):
            return residual_call(f)
    except ImportError:
        def opaque_call(f):
            return f()

    def opaque_noop():
        pass


def report(name, t0, marks):
    for n, t in marks:
        print(f"chunk {name} {n} {t - t0:.9f}")


def empty():
    pass


def get_pi_native(tol, step, marks):
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
        opaque_noop()
        if k == mark:
            marks.append((k, time.perf_counter()))
            mark += min(mark, step)
    marks.append((k, time.perf_counter()))
    return 4 * pi_approx


def get_pi_python(tol, step, marks):
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
        opaque_call(empty)
        if k == mark:
            marks.append((k, time.perf_counter()))
            mark += min(mark, step)
    marks.append((k, time.perf_counter()))
    return 4 * pi_approx


def main():
    digits = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tol = 1.0 / 10 ** digits
    step = max(10 ** digits // 128, 16)
    native = []
    python = []
    t0 = time.perf_counter()
    a = get_pi_native(tol, step, native)
    t1 = time.perf_counter()
    b = get_pi_python(tol, step, python)
    t2 = time.perf_counter()
    report("pi_native_call", t0, native)
    report("pi_python_call", t1, python)
    print(f"pi = {a!r}, {b!r}")
    print(f"pi_native_call: {t1 - t0:.4f} secs")
    print(f"pi_python_call: {t2 - t1:.4f} secs")


main()
