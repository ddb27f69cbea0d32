# The pi loop with a trace blocker in its body (the talk's hic_sunt_leones()).
#   pi_native_call: calls a native no-op (an opaque call into "C").
#   pi_python_call: calls an empty Python function through an opaque residual call.
# Under PyPy, opaque_call is pypyjit.residual_call (the talk's trace blocker); under
# CPython both blockers fall back to plain Python functions.
# Usage: pi_blocker.py [DIGITS]   -- tolerance is 10**-DIGITS (default 7)
import sys
import time

try:
    from pylite_builtins import opaque_noop, opaque_call
except ImportError:
    try:
        # PyPy: the talk's hic_sunt_leones() -- a call the JIT cannot enter.
        from pypyjit import residual_call

        def opaque_call(f):
            return residual_call(f)
    except ImportError:
        def opaque_call(f):
            return f()

    def opaque_noop():
        pass


def empty():
    pass


def get_pi_native(tol):
    pi_approx = 0.0
    k = 0
    term = 1.0
    while abs(term) > tol:
        if k % 2 == 0:
            term = 1.0 / (2 * k + 1)
        else:
            term = -1 * 1.0 / (2 * k + 1)
        pi_approx = pi_approx + term
        k = k + 1
        opaque_noop()  # the JIT cannot enter here
    return 4 * pi_approx


def get_pi_python(tol):
    pi_approx = 0.0
    k = 0
    term = 1.0
    while abs(term) > tol:
        if k % 2 == 0:
            term = 1.0 / (2 * k + 1)
        else:
            term = -1 * 1.0 / (2 * k + 1)
        pi_approx = pi_approx + term
        k = k + 1
        opaque_call(empty)  # hic sunt leones
    return 4 * pi_approx


def main():
    digits = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tol = 1.0 / 10 ** digits
    t0 = time.perf_counter()
    a = get_pi_native(tol)
    t1 = time.perf_counter()
    b = get_pi_python(tol)
    t2 = time.perf_counter()
    print(f"pi = {a!r}, {b!r}")
    print(f"pi_native_call: {t1 - t0:.4f} secs")
    print(f"pi_python_call: {t2 - t1:.4f} secs")


main()
