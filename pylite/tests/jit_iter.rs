//! `for` over lists and tuples, `f(*t)`, generators and iterator classes with the JIT:
//! each program's output and outcome (including an uncaught exception's traceback
//! line) must be identical with the JIT off, on at default thresholds and on at low
//! thresholds (traces, bridges and guard failures everywhere); and where a program is
//! built to be hot, the JIT must really have run it (a loop compiled, most iterations
//! out of the interpreter), so a recorder that silently aborts fails the test.

mod support;

use pylite::jit::{JitConfig, JitReport, Level, Params};

fn low(threshold: u32, bridge_threshold: u32, level: Level) -> JitConfig {
    let mut c = JitConfig::with_params(Params {
        threshold,
        bridge_threshold,
        background: 0,
        ..Params::default()
    });
    c.level = level;
    c
}

fn run(src: &str, config: &JitConfig) -> (String, JitReport) {
    let (out, res, report) = pylite::run_capture_with(src, "t.py", &[], config);
    let outcome = match res {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("error: {e}"),
    };
    (format!("{out}--- {outcome}\n"), report)
}

/// Same output and outcome at every setting; the interpreter-only and default-JIT
/// reports.
fn same_output(src: &str) -> (JitReport, JitReport) {
    let (want, off) = run(src, &JitConfig::off());
    let (got, on) = run(
        src,
        &JitConfig::with_params(Params {
            background: 0,
            ..Params::default()
        }),
    );
    assert_eq!(got, want, "default thresholds differ from the interpreter\n{src}");
    for (t, b, level) in [
        (2, 2, Level::Optimized),
        (5, 1, Level::Quick),
        (13, 4, Level::Optimized),
    ] {
        let (got, _) = run(src, &low(t, b, level));
        assert_eq!(
            got, want,
            "threshold {t}, bridge {b}, {level:?} differs from the interpreter\n{src}"
        );
    }
    (off, on)
}

/// A loop compiled and the interpreter ran less than a quarter of the iterations.
fn jit_ran(off: &JitReport, on: &JitReport) {
    support::jit_ran("the program", off, on, 4);
}

#[test]
fn for_over_lists_and_tuples_runs_compiled() {
    let src = r#"
def main():
    xs = []
    for i in range(5000):
        xs.append(i * 0.5)
    s = 0.0
    for x in xs:
        s = s + x
    t = (1, 2, 3, 4, 5, 6, 7)
    n = 0
    for k in range(3000):
        for y in t:
            n += y * k
    print(s, n)
main()
"#;
    let (off, on) = same_output(src);
    jit_ran(&off, &on);
}

#[test]
fn for_sees_items_of_changing_types() {
    same_output(
        r#"
def main():
    xs = []
    for i in range(300):
        xs.append(i)
    xs.append(2.5)
    xs.append(None)
    xs.append(7)
    n = 0
    for x in xs:
        if x is None:
            n += 1000
        else:
            n += x
    print(n)
main()
"#,
    );
}

#[test]
fn list_mutated_during_iteration() {
    let (off, on) = same_output(
        r#"
def main():
    xs = [1, 2, 3]
    n = 0
    for x in xs:
        n += x
        if len(xs) < 3000:
            xs.append(x + 1)
    print(n, len(xs))
    ys = []
    for i in range(2000):
        ys.append(i)
    m = 0
    for y in ys:
        m += y
        if y % 3 == 0:
            ys.pop()
        if y % 7 == 0:
            ys[len(ys) - 1] = -1
    print(m, len(ys))
main()
"#,
    );
    jit_ran(&off, &on);
}

#[test]
fn exhausted_and_shared_iterators() {
    same_output(
        r#"
def main():
    xs = []
    for i in range(1000):
        xs.append(i)
    it = iter(xs)
    a = 0
    for x in it:
        a += x
        if x == 600:
            break
    b = 0
    for x in it:
        b += x
    c = 0
    for r in range(100):
        for x in it:
            c += x
    e = iter((1, 2, 3))
    for x in e:
        c += x
    print(a, b, c, next(e, -1))
main()
"#,
    );
}

#[test]
fn star_calls() {
    let (off, on) = same_output(
        r#"
import math

class P:
    def __init__(self, x, y):
        self.x = x
        self.y = y

def f(a, b, c):
    return a + b * c

def g(a, b=10):
    return a - b

def main():
    t = (3, 4, 5)
    s = 0
    for k in range(3000):
        s += f(*t)
        s += f(k, *(2, 3))
        s += g(*(k,)) + g(*(k, 1))
        p = P(*(k, 2))
        s += p.x + p.y
        s += math.gcd(*(k, 12))
    print(s)
main()
"#,
    );
    jit_ran(&off, &on);
}

#[test]
fn star_call_with_the_wrong_arity_raises_the_interpreters_error() {
    // Caught: the loop goes on after it.
    same_output(
        r#"
def f(a, b, c):
    return a + b + c

def main():
    args = (1, 2, 3)
    c = 0
    for i in range(400):
        if i == 300:
            args = (1, 2)
        try:
            c += f(*args)
        except TypeError as e:
            print("TypeError", e)
            args = (1, 2, 3, 4)
    print(c)
main()
"#,
    );
    // Uncaught: the traceback's last line is the same.
    same_output(
        r#"
def f(a, b):
    return a * b

def main():
    rows = []
    for i in range(500):
        rows.append((i, 2))
    rows.append((1, 2, 3))
    s = 0
    for r in rows:
        s += f(*r)
    print(s)
main()
"#,
    );
    // Not a tuple: the interpreter's error for a non-iterable, and a list that works.
    same_output(
        r#"
def f(a, b):
    return a * b

def main():
    s = 0
    for i in range(300):
        s += f(*[i, 2])
    print(s)
    x = 5
    for i in range(300):
        if i == 250:
            x = None
        s += f(*(i, x))
    print(s)
main()
"#,
    );
}

#[test]
fn generator_loop_runs_compiled() {
    let (off, on) = same_output(
        r#"
def range_product(a, b):
    for i in range(*a):
        for j in range(*b):
            yield i, j

def count(n):
    c = 0
    for m, k in range_product((1, n), (1, n)):
        if (m - k) & 1:
            c += m * k
    return c

print(count(150))
"#,
    );
    jit_ran(&off, &on);
}

#[test]
fn generators_created_and_finished_inside_the_loop() {
    let (off, on) = same_output(
        r#"
def upto(n, step=1):
    i = 0
    while i < n:
        yield i
        i += step
    return

def main():
    s = 0
    for k in range(3000):
        for x in upto(k % 5):
            s += x * k
        g = upto(3)
        for y in g:
            s -= y
        for y in g:
            s += 1000
    print(s)
main()
"#,
    );
    jit_ran(&off, &on);
}

#[test]
fn generator_escapes_into_a_list_and_is_resumed_from_two_loops() {
    same_output(
        r#"
def counter(start, kind):
    n = start
    while True:
        if kind == 1:
            yield n * 0.5
        else:
            yield n
        n += 1

def main():
    gens = [counter(0, 0), counter(100, 1), counter(7, 0)]
    total = 0
    for rnd in range(40):
        for g in gens:
            i = 0
            for v in g:
                total += v
                i += 1
                if i == rnd % 7 + 1:
                    break
        k = 0
        for v in gens[rnd % 3]:
            total -= v
            k += 1
            if k > 20:
                break
    print(total)
main()
"#,
    );
}

#[test]
fn generator_abandoned_halfway() {
    same_output(
        r#"
def squares(n):
    for i in range(n):
        yield i * i
    print("finished", n)

def main():
    s = 0
    for k in range(200):
        for v in squares(1000):
            s += v
            if v > k * 40:
                break
    g = squares(5000)
    for v in g:
        if v > 1000000:
            break
    left = 0
    for v in g:
        left += 1
    print(s, left)
main()
"#,
    );
}

#[test]
fn generator_slots_change_type_and_generators_misbehave() {
    same_output(
        r#"
def mixed(n):
    x = 0
    for i in range(n):
        if i == n - 3:
            x = 1.5
        if i == n - 2:
            x = None
        yield x
        if x is not None:
            x = x + 1

def selfish():
    yield 1
    yield next(me)

def main():
    t = 0
    for v in mixed(500):
        if v is not None:
            t += v
    print(t)
    global me
    me = selfish()
    for v in me:
        print(v)
main()
"#,
    );
}

#[test]
fn iterator_class_runs_compiled() {
    let (off, on) = same_output(
        r#"
class Countdown:
    def __init__(self, start, step):
        self.left = start
        self.step = step
        self.seen = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.left <= 0:
            raise StopIteration
        self.seen += 1
        v = self.left
        self.left -= self.step
        return v * 0.5

def main():
    t = 0.0
    for x in Countdown(30000, 1):
        t += x
    it = Countdown(900, 3)
    for x in it:
        t -= x
        if x < 200:
            break
    for x in it:
        t += x * 2
    print(t, it.seen)
main()
"#,
    );
    jit_ran(&off, &on);
}
