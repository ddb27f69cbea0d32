# Counting Pythagorean triples three ways (the talk's "Problem 3"): nested loops,
# a generator, and an iterator class. All three must agree.
# Usage: pythagorean.py [P]
import math
import sys
import time


def count_triples_loop(P):
    """Counts how many integer right triangles have perimeter <= P."""
    m_max = int(math.isqrt(2 * P))  # loose but safe upper bound for m
    count = 0
    for m in range(1, m_max + 1):
        for n in range(1, m_max + 1):
            if ((m - n) & 1) and math.gcd(m, n) == 1:
                p0 = 2 * m * (m + n)  # a+b+c
                if p0 > P:
                    continue
                count += P // p0
    return count


def range_product(a, b):
    for i in range(*a):
        for j in range(*b):
            yield i, j


def count_triples_gen(P):
    m_max = int(math.isqrt(2 * P))
    count = 0
    for m, n in range_product((1, m_max + 1), (1, m_max + 1)):
        if ((m - n) & 1) and math.gcd(m, n) == 1:
            p0 = 2 * m * (m + n)
            if p0 > P:
                continue
            count += P // p0
    return count


class RangeProductIter:

    def __init__(self, a, b):
        self.i, self.n = a
        self.j, self.m = b
        self.j0 = self.j

    def __iter__(self):
        return self

    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        value = (self.i, self.j)
        self.j += 1
        if self.j >= self.m:
            self.j = self.j0
            self.i += 1
        return value


def count_triples_iter(P):
    m_max = int(math.isqrt(2 * P))
    count = 0
    for m, n in RangeProductIter((1, m_max + 1), (1, m_max + 1)):
        if ((m - n) & 1) and math.gcd(m, n) == 1:
            p0 = 2 * m * (m + n)
            if p0 > P:
                continue
            count += P // p0
    return count


def main():
    P = int(sys.argv[1]) if len(sys.argv) > 1 else 2000000
    t0 = time.perf_counter()
    a = count_triples_loop(P)
    t1 = time.perf_counter()
    b = count_triples_gen(P)
    t2 = time.perf_counter()
    c = count_triples_iter(P)
    t3 = time.perf_counter()
    print(f"P = {P}: {a} {b} {c}")
    print(f"loop: {t1 - t0:.4f} secs")
    print(f"gen: {t2 - t1:.4f} secs")
    print(f"iter: {t3 - t2:.4f} secs")


main()
