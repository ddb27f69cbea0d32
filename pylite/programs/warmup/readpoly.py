# Warm-up variant of ../readpoly.py: the same two reading loops, timed in chunks.
# After triangle 16, 32, 64, ... (doubling until the chunk reaches STEP, then every
# STEP triangles) each loop records time.perf_counter(); at the end the program
# prints one line per mark, `chunk NAME ITERATIONS SECONDS` (cumulative since that
# loop started), then the same result and timing lines as ../readpoly.py.
# Usage: readpoly.py [TRIANGLES] [DATA-FILE]
# The data file (48 bytes per triangle, deterministic content) is written if missing;
# it is the same file ../readpoly.py writes.
import struct
import sys
import time


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next_float(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state / 2147483648.0


def report(name, t0, marks):
    for n, t in marks:
        print(f"chunk {name} {n} {t - t0:.9f}")


def ensure_data(path, n):
    try:
        with open(path, 'rb') as f:
            if len(f.read()) == n * 48:
                return
    except OSError:
        pass
    rng = Lcg(7)
    with open(path, 'wb') as f:
        for i in range(n):
            vals = []
            for j in range(6):
                vals.append(rng.next_float() * 200.0 - 100.0)
            f.write(struct.pack('dddddd', vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]))


def read_loop(path, step, marks):
    fmt = 'dddddd'
    size = struct.calcsize(fmt)
    tot_x = 0
    tot_y = 0
    n = 0
    mark = 16
    with open(path, 'rb') as f:
        while True:
            buf = f.read(size)
            if not buf:
                break
            points = struct.unpack_from(fmt, buf)
            ax, ay, bx, by, cx, cy = points
            tot_x += (ax + bx + cx)
            tot_y += (ay + by + cy)
            n += 1
            if n == mark:
                marks.append((n, time.perf_counter()))
                mark += min(mark, step)
    marks.append((n, time.perf_counter()))
    print(n)
    x = tot_x / n
    y = tot_y / n
    return x, y


class Triangle:
    def __init__(self, buf, offset):
        self.buf = buf
        self.offset = offset

    @property
    def a(self):
        return Point(self.buf, self.offset)

    @property
    def b(self):
        return Point(self.buf, self.offset + 16)

    @property
    def c(self):
        return Point(self.buf, self.offset + 32)


class Point:
    def __init__(self, buf, offset):
        self.buf = buf
        self.offset = offset

    @property
    def x(self):
        return struct.unpack_from('d', self.buf, self.offset)[0]

    @property
    def y(self):
        return struct.unpack_from('d', self.buf, self.offset + 8)[0]


def read_proto(path, step, marks):
    size = 48
    tot_x = 0
    tot_y = 0
    n = 0
    mark = 16
    with open(path, 'rb') as f:
        while True:
            buf = f.read(size)
            if not buf:
                break
            t = Triangle(buf, 0)
            tot_x += t.a.x + t.b.x + t.c.x
            tot_y += t.a.y + t.b.y + t.c.y
            n += 1
            if n == mark:
                marks.append((n, time.perf_counter()))
                mark += min(mark, step)
    marks.append((n, time.perf_counter()))
    print(n)
    x = tot_x / n
    y = tot_y / n
    return x, y


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
    path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/pylite_readpoly_" + str(n) + ".bin"
    ensure_data(path, n)
    step = max(n // 128, 16)
    loop = []
    proto = []
    t0 = time.perf_counter()
    r1 = read_loop(path, step, loop)
    t1 = time.perf_counter()
    r2 = read_proto(path, step, proto)
    t2 = time.perf_counter()
    report("read_loop", t0, loop)
    report("read_proto", t1, proto)
    print(f"center = ({r1[0]!r}, {r1[1]!r})")
    print(f"center = ({r2[0]:.6f}, {r2[1]:.6f})")
    print(f"read_loop: {t1 - t0:.4f} secs")
    print(f"read_proto: {t2 - t1:.4f} secs")


main()
