# Warm-up variant of ../data_driven.py: the same fn(*row) loop, timed in chunks.
# After call 16, 32, 64, ... (doubling until the chunk reaches STEP, then every STEP
# calls) the loop records time.perf_counter(); at the end the program prints one
# line per mark, `chunk NAME ITERATIONS SECONDS` (cumulative since the loop
# started), then the same result and timing lines as ../data_driven.py.
# Usage: data_driven.py [ROWS] [REPEAT]
import sys
import time


class Lcg:
    """A small deterministic generator, so every runtime sees the same data."""

    def __init__(self, seed):
        self.state = seed

    def next_int(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state

    def next_float(self):
        return self.next_int() / 2147483648.0


def report(name, t0, marks):
    for n, t in marks:
        print(f"chunk {name} {n} {t - t0:.9f}")


def fn(v=None, a=None, b=None, c=None, d=None, e=None, f=None, g=None, h=None):
    "Random nonsense computation"
    if v is None: v = 0
    if a is None: a = 1.25
    if b is None: b = -0.75
    if c is None: c = 0.5
    if d is None: d = 2.0
    if e is None: e = -1.5
    if f is None: f = -10.0
    if g is None: g = 10.0
    if h is None: h = 0.1
    y = a * v + b
    if y < f: y = f
    if y > g: y = g
    z = c * y * y + d * y + e
    if z < f: z = f
    if z > g: z = g
    return z * h + y


def make_data(n, rng):
    rows = []
    for i in range(n):
        row = []
        for j in range(9):
            if rng.next_int() & 1024:
                row.append(None)
            else:
                row.append(rng.next_float() * 10.0 - 5.0)
        rows.append(tuple(row))
    return rows


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    data = make_data(n, Lcg(42))
    nones = 0
    for row in data:
        for x in row:
            if x is None:
                nones += 1
    step = max(n * repeat // 128, 16)
    marks = []
    k = 0
    mark = 16
    t0 = time.perf_counter()
    acc = 0.0
    for r in range(repeat):
        for row in data:
            acc += fn(*row)
            k += 1
            if k == mark:
                marks.append((k, time.perf_counter()))
                mark += min(mark, step)
    marks.append((k, time.perf_counter()))
    t1 = time.perf_counter()
    report("data_driven", t0, marks)
    print(f"rows = {n}, nones = {nones}, acc = {acc!r}")
    print(f"data_driven: {t1 - t0:.4f} secs")


main()
