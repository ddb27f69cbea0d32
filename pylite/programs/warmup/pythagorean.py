# Warm-up variant of ../pythagorean.py: the same three loops, timed in chunks of
# inner iterations (one (m, n) pair each). After pair 16, 32, 64, ... (doubling
# until the chunk reaches STEP, then every STEP pairs) each loop records
# time.perf_counter(); at the end the program prints one line per mark,
# `chunk NAME ITERATIONS SECONDS` (cumulative since that loop started), then the
# same result and timing lines as ../pythagorean.py.
# Usage: pythagorean.py [P]
import math
import sys
import time


def report(name, t0, marks):
    for n, t in marks:
        print(f"chunk {name} {n} {t - t0:.9f}")


def count_triples_loop(P, step, marks):
    m_max = int(math.isqrt(2 * P))
    count = 0
    k = 0
    mark = 16
    for m in range(1, m_max + 1):
        for n in range(1, m_max + 1):
            k += 1
            if k == mark:
                marks.append((k, time.perf_counter()))
                mark += min(mark, step)
            if ((m - n) & 1) and math.gcd(m, n) == 1:
                p0 = 2 * m * (m + n)
                if p0 > P:
                    continue
                count += P // p0
    marks.append((k, time.perf_counter()))
    return count


def range_product(a, b):
    for i in range(*a):
        for j in range(*b):
            yield i, j


def count_triples_gen(P, step, marks):
    m_max = int(math.isqrt(2 * P))
    count = 0
    k = 0
    mark = 16
    for m, n in range_product((1, m_max + 1), (1, m_max + 1)):
        k += 1
        if k == mark:
            marks.append((k, time.perf_counter()))
            mark += min(mark, step)
        if ((m - n) & 1) and math.gcd(m, n) == 1:
            p0 = 2 * m * (m + n)
            if p0 > P:
                continue
            count += P // p0
    marks.append((k, time.perf_counter()))
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


def count_triples_iter(P, step, marks):
    m_max = int(math.isqrt(2 * P))
    count = 0
    k = 0
    mark = 16
    for m, n in RangeProductIter((1, m_max + 1), (1, m_max + 1)):
        k += 1
        if k == mark:
            marks.append((k, time.perf_counter()))
            mark += min(mark, step)
        if ((m - n) & 1) and math.gcd(m, n) == 1:
            p0 = 2 * m * (m + n)
            if p0 > P:
                continue
            count += P // p0
    marks.append((k, time.perf_counter()))
    return count


def main():
    P = int(sys.argv[1]) if len(sys.argv) > 1 else 2000000
    m_max = int(math.isqrt(2 * P))
    step = max(m_max * m_max // 128, 16)
    loop = []
    gen = []
    it = []
    t0 = time.perf_counter()
    a = count_triples_loop(P, step, loop)
    t1 = time.perf_counter()
    b = count_triples_gen(P, step, gen)
    t2 = time.perf_counter()
    c = count_triples_iter(P, step, it)
    t3 = time.perf_counter()
    report("loop", t0, loop)
    report("gen", t1, gen)
    report("iter", t2, it)
    print(f"P = {P}: {a} {b} {c}")
    print(f"loop: {t1 - t0:.4f} secs")
    print(f"gen: {t2 - t1:.4f} secs")
    print(f"iter: {t3 - t2:.4f} secs")


main()
