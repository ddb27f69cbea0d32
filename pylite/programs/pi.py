# Leibniz series for pi: a purely numerical loop (the talk's "Problem 1" baseline).
# Usage: pi.py [DIGITS]   -- tolerance is 10**-DIGITS (default 7)
import sys
import time


def get_pi(tol):
    """Compute an approximation of PI using the Leibniz series."""
    pi_approx = 0.0
    k = 0
    term = 1.0  # initial term to enter the loop
    while abs(term) > tol:
        if k % 2 == 0:
            term = 1.0 / (2 * k + 1)
        else:
            term = -1 * 1.0 / (2 * k + 1)
        pi_approx = pi_approx + term
        k = k + 1
    return 4 * pi_approx


def main():
    digits = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tol = 1.0 / 10 ** digits
    t0 = time.perf_counter()
    pi = get_pi(tol)
    t1 = time.perf_counter()
    print(f"pi = {pi!r}")
    print(f"pi: {t1 - t0:.4f} secs")


main()
