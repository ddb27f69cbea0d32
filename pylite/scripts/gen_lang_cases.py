#!/usr/bin/env python3
"""Generates tests/data/lang_cases.rs from the case lists below by running each
program under CPython: output cases record stdout; runtime-error cases record
the exception line ('Type: message') and the line number of the innermost frame.
Compile-error cases (constructs outside the subset) are pylite-specific and
written by hand: (source, expected message fragment, line)."""
import io, sys, traceback, contextlib, os

OUT = [
# --- literals, arithmetic, ints
"print(1 + 2 * 3, 7 - 10, 2 ** 10, 7 // 2, -7 // 2, 7 % 3, -7 % 3, 7 % -3)",
"print(10 / 4, 1 / 3, -1 / 3, 2 ** -1, 2.0 ** 0.5)",
"print(0x1F, 0o17, 0b101, 1_000_000)",
"print(9223372036854775807, -9223372036854775807 - 1)",
"print(3 & 5, 3 | 5, 3 ^ 5, ~5, 1 << 10, -16 >> 2, 5 >> 10)",
"print(abs(-5), abs(3.5), abs(-0.0), abs(True))",
"print(int(3.9), int(-3.9), int('42'), int(' -7 '), int(True), int('ff', 16), int())",
"print(float(3), float('2.5'), float('-inf'), float('1e3'), float())",
"print(True + True, True * 3, False - 1, 3 / True)",
"print(7.5 // 2, -7.5 // 2, 7.5 % 2, -7.5 % 2, 7 % 2.5)",
"print(divmod(7, 3), divmod(-7, 3), divmod(7.5, 2))",
"print(round(2.5), round(3.5), round(-2.5), round(2.675, 2), round(7))",
"x = 5\nx += 3\nx -= 1\nx *= 2\nx //= 3\nx %= 3\nx **= 3\nprint(x)",
"x = 1\nx <<= 4\nx |= 3\nx &= 6\nx ^= 1\nx >>= 1\nprint(x)",
"print(-(-3), +4, -2.5, not 0, not 3)",
"print(2 ** 62, 3 ** 39, (-2) ** 63)",
# --- floats & repr
"print(0.1 + 0.2, 1e16, 1e15, 1e-5, 0.0001, 123456789.123, 1/3*3)",
"print(1e300 * 1e10, -1e300 * 1e10, 2.0, -0.0, 5e-324, 1.7976931348623157e308)",
"print(repr(1.5), str(2.25), 100.0, 1e22, 12345678901234567.0)",
"print(float('nan'), 3.0 == 3, 0.5 < 1, 2 > 1.5)",
"print(0.1 * 3, 1.1 + 2.2, 3.3 - 1.1, 10 / 3)",
# --- formatting
"x = 3.14159\nprint(f'{x}', f'{x:.4f}', f'{x!r}', f'{x:10.2f}|', f'{x:<10.1f}|')",
"n = 42\nprint(f'{n}', f'{n:5d}', f'{n:<5}|', f'{n:05d}', f'{n:x}', f'{n:,}', f'{n:+d}')",
"print(f'{1234567.891:,.2f}', f'{0.5:%}', f'{0.25:.1%}', f'{12345.678:e}', f'{0.000123:.2e}')",
"print(f'{1.0:g}', f'{0.0001:g}', f'{1e20:g}', f'{123456789.0:g}', f'{2.5:.3g}')",
"s = 'hi'\nprint(f'[{s}]', f'[{s!r}]', f'[{s:>5}]', f'[{s:^6}]', f'[{s:*<4}]')",
"print(f'{{literal}} {1 + 2} {\"q\"}')",
"print(f'{None} {True} {[1, 2]} {(1,)}')",
"print('%d items' % 5, '%5.2f|' % 3.14159, '%s and %r' % ('a', 'b'), '%x' % 255, '%%')",
"print('%-5d|%05d|%+d' % (3, 42, 7), '%.3e' % 12345.6789, '%g' % 0.5)",
"print('%s' % (1, ), '%s-%s' % (1.5, None))",
"print(f'{-1.5:.0f} {0.125:.2f} {0.375:.2f} {2.5:.0f} {-0.0:.1f}')",
"print(f'{3:.2f} {True:d} {7.0:.0f}')",
# --- strings
"s = 'hello'\nprint(len(s), s[0], s[-1], s[1:3], s[:2], s[3:], s + ' world', s * 2)",
"print('a' < 'b', 'abc' == 'abc', 'x' in 'xyz', 'q' not in 'xyz', 'ab' * 0)",
"print(','.join(['a', 'b', 'c']), 'a b  c'.split(), 'a,b'.split(','), '  x '.strip())",
"print('Hello'.upper(), 'Hello'.lower(), 'hello'.startswith('he'), 'hello'.endswith('lo'), 'aXa'.replace('X', 'y'))",
"print(repr('it\\'s'), repr(\"a\\nb\"), repr('\\t'), str(5), repr(5))",
"print('ab' 'cd', \"\"\"tri\nple\"\"\", r'\\n')",
"for c in 'abc':\n    print(c, end='')\nprint()",
"print(ord('A'), chr(66), 'é', len('héllo'))",
"print('x', 'y', sep='-', end='!\\n')\nprint()",
# --- bytes
"b = b'ab\\x00\\xff'\nprint(b, len(b), b[0], b[3], b[1:3], b + b'z', b'a' * 3)",
"print(bytes(3), bytes([65, 66]), b'x' == b'x', b'' or 'empty', not b'')",
"print(b'it\\'s', b'\"q\"', b'\\n\\t')",
# --- tuples and lists
"t = (1, 2, 3)\nprint(t, len(t), t[1], t[-1], t[1:], t + (4,), t * 2, 2 in t, () == ())",
"l = [3, 1, 2]\nl.append(5)\nl.extend([7, 8])\nl.insert(0, 9)\nprint(l, l.pop(), l.pop(0), l, l.index(2))",
"l = [1, 2, 3]\nl[1] = 20\nl[-1] += 5\nprint(l, l[0:2], len(l), l == [1, 20, 8], [] == [])",
"l = [[1, 2], [3]]\nprint(l, l[0][1], [1] * 3, [1, 2] + [3])",
"print(list(range(5)), list(range(2, 10, 3)), list(range(5, 0, -2)), tuple(range(3)), list((1, 2)))",
"print(len(range(10)), range(3)[1], 3 in range(5), 7 in range(0, 10, 2), list(range(0)))",
"x = [1, 2, 3]\nx.reverse()\nprint(x, sorted([3, 1, 2]), min(3, 1, 2), max([4, 9, 1]), sum([1, 2, 3]), sum([0.5, 0.25]))",
"print((1, 2) < (1, 3), [1, 2] < [1, 2, 0], (1, 'a') == (1, 'a'), (1,) != (2,))",
"print([x * x for x in range(5)], [x for x in range(10) if x % 3 == 0])",
"print([(a, b) for a, b in [(1, 2), (3, 4)]], [c for c in 'hi'])",
"x = 10\ny = [x for x in range(3)]\nprint(x, y)",
"print(list(enumerate(['a', 'b'])), list(zip([1, 2, 3], 'ab')), list(enumerate('xy', 1)))",
# --- assignment and unpacking
"a, b = 1, 2\na, b = b, a\nprint(a, b)",
"a, (b, c) = 1, (2, 3)\nprint(a, b, c)",
"x = y = 5\nprint(x, y)",
"[a, b] = [3, 4]\nprint(a + b)",
"t = (1, 2)\na, b = t\nprint(a, b)",
"def f():\n    return 1, 2, 3\nx, y, z = f()\nprint(x + y + z)",
# --- comparisons and boolean logic
"x = 5\nprint(1 < x < 10, 1 < x > 10, x == 5 == 5.0, 1 < 2 < 3 < 2)",
"print(1 and 2, 0 and 2, 1 or 2, 0 or 2, None or 'd', [] and 1, not [])",
"x = None\nprint(x is None, x is not None, 1 is 1, [] is [])",
"print(True == 1, False == 0, 1 == 1.0, 'a' != 'b', None == None, None == 0)",
"x = 3\nprint('big' if x > 2 else 'small', 'big' if x > 5 else 'small')",
"a = 0\nb = 1\nif not a and b:\n    print('ok')\nif a or not b:\n    print('no')\nelse:\n    print('else')",
"x = 7\nif x < 5:\n    print('a')\nelif x < 10:\n    print('b')\nelse:\n    print('c')",
"def f(x):\n    return 1 < x < 3 or x == 10\nprint(f(2), f(3), f(10))",
"x = float('nan')\nprint(x < 1, x >= 1, not (x < 1), x == x, x != x)",
"x = float('nan')\nif not (x < 1):\n    print('nan not less')\nif x != x:\n    print('nan ne')",
# --- loops
"i = 0\nwhile i < 5:\n    i += 1\n    if i == 2:\n        continue\n    if i == 4:\n        break\n    print(i)",
"for i in range(3):\n    for j in range(3):\n        if j == 1:\n            break\n        print(i, j)",
"for i in range(3):\n    pass\nelse:\n    print('done', i)",
"for i in range(5):\n    if i == 2:\n        break\nelse:\n    print('no')\nprint(i)",
"n = 0\nwhile n < 3:\n    n += 1\nelse:\n    print('while else', n)",
"total = 0\nfor i in range(10, 0, -3):\n    total += i\nprint(total)",
"for x in [1, 'a', None, 2.5]:\n    print(x)",
"for a, b in [(1, 2), (3, 4)]:\n    print(a * b)",
"def f():\n    s = 0\n    for i in range(1000):\n        s += i\n    return s\nprint(f())",
"r = range(2, 5)\nfor x in r:\n    print(x)",
"def f(n):\n    for i in range(n, n + 2):\n        print(i)\nf(9223372036854775805)",
"for i in range(3):\n    i = 10\n    print(i)",
"start = 2\nstep = 2\nfor i in range(start, 9, step):\n    print(i, end=' ')\nprint()",
# --- functions
"def f(a, b=2, c=3):\n    return a + b * c\nprint(f(1), f(1, 1), f(1, 1, 1))",
"def f(a, b):\n    return a - b\nprint(f(b=1, a=5), f(5, b=2))",
"def f(*_unused=None):\n    pass" if False else "def f(a, b, c):\n    return a * b + c\nargs = (2, 3, 4)\nprint(f(*args), f(1, *[2, 3]))",
"def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\nprint(fact(20))",
"def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(20))",
"def f():\n    pass\nprint(f())",
"def f():\n    return\nprint(f())",
"g = 1\ndef f():\n    global g\n    g = 2\nf()\nprint(g)",
"g = 10\ndef f():\n    return g + 1\nprint(f())",
"def f(x):\n    if x:\n        y = 1\n    else:\n        y = 2\n    return y\nprint(f(True), f(False))",
"def outer():\n    def inner(x):\n        return x * 2\n    return inner(21)\nprint(outer())",
"def f(v=None, a=None):\n    if v is None: v = 0\n    if a is None: a = 1.5\n    return a * v + 1\nprint(f(), f(2), f(None, 2), f(*(None, None)))",
"def apply(fn, x):\n    return fn(x)\nprint(apply(abs, -3), apply(len, 'abcd'))",
"def f(l=[]):\n    l.append(1)\n    return len(l)\nprint(f(), f(), f([]))",
"def f(a, b=[1]):\n    return a\nprint(f.__class__ is None if False else f(3))",
"def noret(x):\n    x + 1\nprint(noret(1))",
# --- classes
"class A:\n    def __init__(self, x):\n        self.x = x\n    def get(self):\n        return self.x\na = A(5)\nprint(a.get(), a.x)\na.x = 7\nprint(a.get())",
"class P:\n    def __init__(self, a, b):\n        self.a = a\n        self.b = b\n    @property\n    def total(self):\n        return self.a + self.b\np = P(1, 2)\nprint(p.total)\np.a = 10\nprint(p.total)",
"class C:\n    k = 5\n    def m(self):\n        return self.k * 2\nc = C()\nprint(c.m(), C.k, c.k)",
"class C:\n    pass\nc = C()\nc.extra = 3\nc.extra += 1\nprint(c.extra)",
"class B:\n    def __init__(self):\n        self.v = 1\n    def hello(self):\n        return 'B' + str(self.v)\nclass D(B):\n    def __init__(self):\n        self.v = 2\n        self.w = 3\n    def world(self):\n        return self.hello() + str(self.w)\nd = D()\nprint(d.world(), isinstance(d, B), isinstance(d, D), isinstance(B(), D))",
"class C:\n    def __init__(self):\n        self.n = 0\n    def inc(self):\n        self.n += 1\n        return self\nc = C()\nc.inc().inc().inc()\nprint(c.n)",
"class V:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n    def dot(self, o):\n        return self.x * o.x + self.y * o.y\nprint(V(1, 2).dot(V(3, 4)))",
"class C:\n    def m(self):\n        return 1\nc = C()\nf = c.m\nprint(f())",
"class C:\n    def __init__(self, a):\n        self.a = a\nl = [C(i) for i in range(3)]\nprint(sum([c.a for c in l]))",
"class It:\n    def __init__(self, n):\n        self.i = 0\n        self.n = n\n    def __iter__(self):\n        return self\n    def __next__(self):\n        if self.i >= self.n:\n            raise StopIteration\n        self.i += 1\n        return self.i\nprint(list(It(3)))\nfor x in It(2):\n    print(x)",
"class Ctx:\n    def __enter__(self):\n        print('enter')\n        return 5\n    def __exit__(self, a, b, c):\n        print('exit')\nwith Ctx() as v:\n    print(v)",
"class C:\n    count = 0\n    def __init__(self):\n        C.count = C.count + 1\nC()\nC()\nprint(C.count)",
"class C:\n    def __init__(self, v):\n        self.v = v\n    def f(self):\n        return self.v\nobjs = [C(1), C(2.5), C('s')]\nfor o in objs:\n    print(o.f())",
"class Base:\n    def name(self):\n        return 'base'\nclass Sub(Base):\n    def name(self):\n        return 'sub'\nfor o in [Base(), Sub()]:\n    print(o.name())",
"class P:\n    @property\n    def v(self):\n        return 42\nprint(P().v, isinstance(P(), P))",
# --- generators
"def g():\n    yield 1\n    yield 2\nfor x in g():\n    print(x)",
"def g(n):\n    i = 0\n    while i < n:\n        yield i\n        i += 1\nprint(list(g(4)), tuple(g(2)), sum(g(5)))",
"def rp(a, b):\n    for i in range(*a):\n        for j in range(*b):\n            yield i, j\nprint(list(rp((0, 2), (0, 2))))",
"def g():\n    yield 1\n    return\n    yield 2\nprint(list(g()))",
"def g():\n    x = yield 1\n    print('got', x)\n    yield 2\nit = g()\nprint(next(it))\nprint(next(it))\nprint(next(it, 'end'))",
"def g():\n    yield 1\nit = g()\nfor x in it:\n    print(x)\nfor x in it:\n    print('again', x)\nprint('done')",
"def g():\n    for i in range(3):\n        yield i\ndef h():\n    for x in g():\n        yield x * 10\nprint(list(h()))",
"def g():\n    yield 1\n    yield 2\na, b = g()\nprint(a, b)",
# --- exceptions
"try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    print('caught', e)",
"try:\n    raise ValueError('bad')\nexcept (TypeError, ValueError) as e:\n    print(type(e) is None, e)" if False else "try:\n    raise ValueError('bad')\nexcept (TypeError, ValueError) as e:\n    print('tuple', e)",
"try:\n    [][1]\nexcept IndexError:\n    print('index')\nexcept Exception:\n    print('other')",
"try:\n    x = 1\nexcept Exception:\n    print('no')\nelse:\n    print('else', x)",
"try:\n    try:\n        raise KeyError('k')\n    except ValueError:\n        print('wrong')\nexcept LookupError as e:\n    print('outer', repr(e))",
"def f():\n    try:\n        return 1\n    finally:\n        print('finally')\nprint(f())",
"try:\n    raise StopIteration\nexcept StopIteration:\n    print('stop')",
"class MyErr(Exception):\n    pass\ntry:\n    raise MyErr('mine')\nexcept Exception as e:\n    print('got', e, isinstance(e, MyErr))",
"try:\n    int('x')\nexcept ValueError as e:\n    print(e)",
"def f():\n    raise TypeError('t')\ntry:\n    f()\nexcept TypeError as e:\n    print('from f', e)",
"try:\n    try:\n        1 / 0\n    except ZeroDivisionError:\n        raise\nexcept ZeroDivisionError as e:\n    print('reraised', e)",
"for i in range(3):\n    try:\n        if i == 1:\n            continue\n        print(i)\n    finally:\n        print('f', i)",
"try:\n    pass\nfinally:\n    print('fin')",
"try:\n    import nosuchmodule\nexcept ImportError:\n    print('no module')",
"try:\n    from math import nosuch\nexcept ImportError:\n    print('no name')",
"try:\n    undefined_name\nexcept NameError as e:\n    print(e)",
"try:\n    None.x\nexcept AttributeError as e:\n    print(e)",
"x = 0\ntry:\n    x = 9223372036854775807 + 1\nexcept OverflowError:\n    print('overflow caught', x)" if False else "print('skip')",
"e = ValueError('a', 1)\nprint(e, repr(e), repr(ValueError()))",
"try:\n    assert 1 == 2, 'msg'\nexcept AssertionError as e:\n    print('assert', e)",
# --- modules
"import math\nprint(math.isqrt(99), math.gcd(12, 18), math.gcd(0, 5), math.sqrt(16), math.floor(2.7), math.ceil(2.1), math.pi)",
"from math import gcd, isqrt\nprint(gcd(100, 75), isqrt(10 ** 18))",
"import struct\nprint(struct.calcsize('d'), struct.calcsize('dddddd'), struct.calcsize('q'), struct.calcsize('i'), struct.calcsize('3i'), struct.calcsize('id'), struct.calcsize('<id'))",
"import struct\nb = struct.pack('dq', 1.5, -2)\nprint(len(b), struct.unpack_from('dq', b), struct.unpack('dq', b), struct.unpack_from('q', b, 8))",
"import struct\nprint(struct.pack('i', 1), struct.pack('>i', 1), struct.unpack('<2i', b'\\x01\\x00\\x00\\x00\\x02\\x00\\x00\\x00'))",
"import struct\nb = struct.pack('3d', 1.0, 2.0, 3.0)\nprint(struct.unpack_from('d', b, 16)[0], struct.unpack_from('2d', b)[1])",
"import time\nt = time.perf_counter()\nprint(type(t) is None if False else t >= 0)",
"import sys\nprint(len(sys.argv) >= 1)",
"import math as m\nprint(m.gcd(6, 4))",
"try:\n    from pylite_builtins import opaque_noop\nexcept ImportError:\n    def opaque_noop():\n        pass\nprint(opaque_noop())",
# --- builtins
"print(len([1, 2]), len((1,)), len('abc'), len(b'ab'), len(range(3, 10)))",
"print(isinstance(1, int), isinstance(True, int), isinstance(1.0, float), isinstance('a', str), isinstance((1,), tuple), isinstance([1], list), isinstance(1, (str, int)), isinstance(b'', bytes))",
"print(str(1.0), str(None), str([1, 'a']), repr('x'), bool(0), bool('a'), bool([]))",
"print(list('abc'), tuple([1, 2]), list(range(3)), int('-0'), float(1))",
"it = iter([1, 2])\nprint(next(it), next(it), next(it, 'done'))",
"print(min([3, 1, 2]), max(3, 7, 5), min('b', 'a'), sum(range(101)), sum([1, 2], 10))",
"print(abs(-2 ** 62 + 1), abs(-1.5))",
"def f():\n    print('side')\n    return 1\nx = [f(), f()]\nprint(x)",
"print(print is print, len is not None)",
# --- GC / allocation heavy
"class N:\n    def __init__(self, v):\n        self.v = v\ns = 0\nfor i in range(300000):\n    s += N(i).v\nprint(s)",
"l = []\nfor i in range(100000):\n    l.append((i, str(i)))\nprint(len(l), l[-1])",
"def g():\n    for i in range(200000):\n        yield (i, i)\ns = 0\nfor a, b in g():\n    s += a\nprint(s)",
"s = ''\nfor i in range(1000):\n    s = s + 'x'\nprint(len(s))",
# --- with / files
"import struct\nwith open('/tmp/pylite_case_file.bin', 'wb') as f:\n    f.write(struct.pack('2d', 1.5, 2.5))\nwith open('/tmp/pylite_case_file.bin', 'rb') as f:\n    b = f.read(8)\n    rest = f.read()\n    print(len(b), struct.unpack_from('d', b), len(rest), f.read(4))",
"with open('/tmp/pylite_case_text.txt', 'w') as f:\n    f.write('hello\\n')\nwith open('/tmp/pylite_case_text.txt') as f:\n    print(repr(f.read()))",
"def r(p):\n    with open(p, 'rb') as f:\n        return len(f.read())\nwith open('/tmp/pylite_case_r.bin', 'wb') as f:\n    f.write(b'abc')\nprint(r('/tmp/pylite_case_r.bin'))",
]

RUNTIME_ERR = [
"x = 1 / 0",
"x = 1 // 0",
"x = 5 % 0",
"x = 1.0 / 0",
"x = None + 1",
"x = 1 + 'a'",
"x = 'a' + 1",
"x = [1][5]",
"x = (1, 2)[9]",
"x = 'abc'[5]",
"print(undefined_thing)",
"def f():\n    y = x_missing\nf()",
"def f():\n    print(v)\n    v = 1\nf()",
"a, b = (1, 2, 3)",
"a, b, c = (1, 2)",
"x = len(5)",
"x = None.foo",
"class C:\n    pass\nC().nope",
"x = int('abc')",
"x = float('x1')",
"x = 1 < 'a'",
"raise ValueError('custom message')",
"def f(a):\n    pass\nf()",
"def f(a):\n    pass\nf(1, 2)",
"x = 5\nx()",
"import math\nmath.isqrt(-1)",
"import struct\nstruct.unpack_from('d', b'12')",
"open('/nonexistent/pylite/file', 'rb')",
"x = [1] * 'a'",
"x = abs('s')",
"x = -'a'",
"raise StopIteration",
"for x in 5:\n    pass",
"x = (1).foo",
"def f(n):\n    return f(n + 1)\nf(0)",
"import nosuchmodule",
"assert 1 == 2",
"t = (1, 2)\nt[0] = 5",
"x = range(1, 2, 0)",
"def g():\n    yield 1\n    raise KeyError('k')\nfor x in g():\n    pass",
"class P:\n    @property\n    def v(self):\n        return 1 / 0\nP().v",
"x = 1 << -1",
"x = 2.0 ** 10000",
"def f(a, b):\n    pass\nf(1, c=2)",
]

# pylite-specific runtime errors (CPython has unbounded ints): (source, message, line)
PYLITE_ERR = [
("x = 9223372036854775807 + 1", "OverflowError: integer overflow (pylite ints are 64-bit)", 1),
("x = 1\nx = -9223372036854775807 - x - 1", "OverflowError: integer overflow (pylite ints are 64-bit)", 2),
("x = 2 ** 64", "OverflowError: integer overflow (pylite ints are 64-bit)", 1),
("def f(a):\n    return a * a\nf(3037000500)", "OverflowError: integer overflow (pylite ints are 64-bit)", 2),
("x = 1 << 63", "OverflowError: integer overflow (pylite ints are 64-bit)", 1),
("x = abs(-9223372036854775807 - 1)", "OverflowError: integer overflow (pylite ints are 64-bit)", 1),
("x = int(1e30)", "OverflowError: integer overflow (pylite ints are 64-bit)", 1),
]

COMPILE_ERR = [
("f = lambda x: x", "'lambda' expressions", 1),
("d = {1: 2}", "dict and set displays", 1),
("def f(*args):\n    pass", "'*args', '**kwargs'", 1),
("x = 1\ndel x", "'del' statement", 2),
("def f():\n    x = 1\n    def g():\n        return x\n    return g", "closures", 4),
("def f():\n    nonlocal x", "'nonlocal'", 2),
("x = [y for y in range(3) for z in range(2)]", "several 'for' clauses", 1),
("x = (y for y in range(3))", "generator expressions", 1),
("async def f():\n    pass", "'async'", 1),
("x: int = 5", "variable annotations", 1),
("def f(x: int):\n    pass", "parameter annotations", 1),
("def f() -> int:\n    pass", "return annotations", 1),
("x = 1\nx = x[1:2:3]", "slices with a step", 2),
("f(**{})", "'**kwargs' in calls", 1),
("*a, b = [1, 2]", "starred assignment targets", 1),
("x = 1j", "complex numbers", 1),
("x = 12345678901234567890", "integer literal too large", 1),
("@dec\nclass C:\n    pass", "class decorators", 2),
("class C(A, B):\n    pass", "multiple inheritance", 1),
("def g():\n    yield from range(3)", "'yield from'", 2),
("x = ...", "Ellipsis", 1),
("if x\n    pass", "SyntaxError", 1),
("def f():\nreturn 1", "expected an indented block", 2),
("x = (1 +\n", "SyntaxError", 2),
("print('abc)", "unterminated string literal", 1),
("break", "'break' outside loop", 1),
("return 5", "'return' outside function", 1),
("x = 1\n  y = 2", "unexpected indent", 2),
("if True:\n    x = 1\n  y = 2", "unindent does not match", 3),
("x = 5 $ 3", "invalid character", 1),
("from . import x", "relative imports", 1),
("import os.path", "dotted module import", 1),
("class C:\n    for i in range(3):\n        pass", "class body", 2),
("x = f'{x!a}'", "conversion '!a'", 1),
("x = 1 @ 2", "matrix multiplication", 1),
("with a as b, c as d:\n    pass", "several context managers", 1),
("try:\n    pass\nexcept* ValueError:\n    pass", "'except*'", 3),
("x = (yield)", "'yield' outside function", 1),
("def f():\n    with open('x') as g:\n        yield 1", "'yield' inside 'with'", 3),
]

def rs(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'

def run_ok(src):
    buf = io.StringIO()
    g = {'__name__': '__main__'}
    with contextlib.redirect_stdout(buf):
        exec(compile(src, 'case.py', 'exec'), g)
    return buf.getvalue()

def run_err(src):
    g = {'__name__': '__main__'}
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(src, 'case.py', 'exec'), g)
    except BaseException as e:
        tb = traceback.extract_tb(e.__traceback__)
        line = [f for f in tb if f.filename == 'case.py'][-1].lineno
        msg = str(e)
        head = type(e).__name__ if not msg else f"{type(e).__name__}: {msg}"
        if type(e).__module__ == 'struct':
            head = 'error: ' + msg
        return head, line
    raise SystemExit(f"no error in: {src!r}")

sys.setrecursionlimit(1000)
out = ["// Generated by scripts/gen_lang_cases.py from CPython 3.11 runs. Do not edit by hand.", ""]
out.append("pub const OUTPUT_CASES: &[(&str, &str)] = &[")
for src in OUT:
    out.append(f"    ({rs(src)}, {rs(run_ok(src))}),")
out.append("];\n")
out.append("pub const RUNTIME_ERROR_CASES: &[(&str, &str, u32)] = &[")
for src in RUNTIME_ERR:
    head, line = run_err(src)
    if 'maximum recursion depth' in head:
        head = 'RecursionError: maximum recursion depth exceeded'
    out.append(f"    ({rs(src)}, {rs(head)}, {line}),")
for src, msg, line in PYLITE_ERR:
    out.append(f"    ({rs(src)}, {rs(msg)}, {line}),")
out.append("];\n")
out.append("pub const COMPILE_ERROR_CASES: &[(&str, &str, u32)] = &[")
for src, frag, line in COMPILE_ERR:
    out.append(f"    ({rs(src)}, {rs(frag)}, {line}),")
out.append("];")
open(os.path.join(os.path.dirname(__file__), '..', 'tests', 'data', 'lang_cases.rs'), 'w').write('\n'.join(out) + '\n')
print(len(OUT), len(RUNTIME_ERR), len(COMPILE_ERR))
