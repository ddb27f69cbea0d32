# Reading triangles from a binary protocol (the talk's bonus slides): a bare
# struct.unpack_from('dddddd') loop vs Triangle/Point accessor classes.
# Usage: readpoly.py [TRIANGLES] [DATA-FILE]
# The data file (48 bytes per triangle, deterministic content) is written if missing.
import struct
import sys
import time


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next_float(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state / 2147483648.0


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


def read_loop(path):
    fmt = 'dddddd'
    size = struct.calcsize(fmt)
    tot_x = 0
    tot_y = 0
    n = 0
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


def read_proto(path):
    size = 48
    tot_x = 0
    tot_y = 0
    n = 0
    with open(path, 'rb') as f:
        while True:
            buf = f.read(size)
            if not buf:
                break
            t = Triangle(buf, 0)
            tot_x += t.a.x + t.b.x + t.c.x
            tot_y += t.a.y + t.b.y + t.c.y
            n += 1
    print(n)
    x = tot_x / n
    y = tot_y / n
    return x, y


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
    path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/pylite_readpoly_" + str(n) + ".bin"
    ensure_data(path, n)
    t0 = time.perf_counter()
    r1 = read_loop(path)
    t1 = time.perf_counter()
    r2 = read_proto(path)
    t2 = time.perf_counter()
    print(f"center = ({r1[0]!r}, {r1[1]!r})")
    print(f"center = ({r2[0]:.6f}, {r2[1]:.6f})")
    print(f"read_loop: {t1 - t0:.4f} secs")
    print(f"read_proto: {t2 - t1:.4f} secs")


main()
