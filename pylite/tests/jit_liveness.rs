//! # Dead locals at merge points, loop headers and generator resumes
//!
//! The JIT hands Leones only the locals live where paths join (`pylite::liveness`), so
//! paths that differ only in dead locals rejoin. These programs put a local dead on one
//! path and live on another, reassign loop variables and read them after the loop, read
//! a local only in an `except` handler, keep generator locals across `yield`, leave an
//! `__init__`'s `self` dead before a rare exit, and give a local an int on some paths and
//! a float on others. Each must print what the interpreter prints, with the JIT at
//! several settings and with dead locals poisoned; the first one must also merge.

use pylite::jit::{JitConfig, JitReport, Params};

/// Runs `src` under `config`; panics with the source on an error.
fn run(src: &str, config: &JitConfig) -> (String, JitReport) {
    let (out, res, report) = pylite::run_capture_with(src, "liveness.py", &[], config);
    if let Err(e) = res {
        panic!("failed ({config:?}): {e}\n{src}");
    }
    (out, report)
}

/// The interpreter's output equals every JIT setting's and the poisoned run's; returns
/// the report of the run with default parameters.
fn same_everywhere(src: &str) -> JitReport {
    let (want, _) = run(src, &JitConfig::off());
    assert_eq!(
        run(src, &JitConfig::poisoning_dead_locals()).0,
        want,
        "poisoned:\n{src}"
    );
    // Built on the host's thread: the report says what the JIT did.
    let deterministic = Params {
        background: 0,
        ..Params::default()
    };
    let (got, report) = run(src, &JitConfig::with_params(deterministic));
    assert_eq!(got, want, "JIT (defaults):\n{src}");
    for spec in [
        "merge=off",
        "threshold=2,bridge_threshold=2,merge_samples=1",
        "threshold=5,bridge_threshold=1,merge_samples=8,merge_bridges=1",
        "threshold=3,bridge_threshold=3,region_cap=2,branchless=off",
    ] {
        let config = JitConfig::with_params(Params::parse(spec).expect("params"));
        assert_eq!(run(src, &config).0, want, "JIT ({spec}):\n{src}");
    }
    report
}

#[test]
fn a_local_dead_at_the_join_on_one_path_and_live_on_the_other() {
    // `t` is an int on one path and a float on the other, dead after the join.
    let report = same_everywhere(
        "\
def f(a, b):
    t = a * 2
    if b is None:
        t = 1.5
        r = t + a
    else:
        r = b + t
    if r > 100.0:
        r = 100.0
    return r

def main():
    acc = 0.0
    for i in range(4000):
        b = None if (i * 7919) % 10 < 5 else (i % 7) * 0.5
        acc += f(i, b)
    print(acc)

main()
",
    );
    assert!(report.regions >= 1, "the paths merge: {report:?}");
}

#[test]
fn loop_variables_reassigned_and_read_after_the_loop() {
    same_everywhere(
        "\
def g(rows):
    total = 0
    x = -1
    for x in rows:
        if x is None:
            total += 1
            x = 0
        total += x
    return total * 1000 + x

def main():
    s = 0
    rows = [[1, None, 3], [None, None], [4, 5, None, 6], []]
    for i in range(2000):
        s += g(rows[i % 4])
    print(s)

main()
",
    );
}

#[test]
fn a_local_read_only_in_an_except_handler() {
    same_everywhere(
        "\
def h(vals):
    out = 0
    for v in vals:
        saved = v * 3
        try:
            out += 100 // v
        except ZeroDivisionError:
            out += saved + 1
    return out

def main():
    s = 0
    vals = [(i * 37) % 11 for i in range(300)]
    for r in range(20):
        s += h(vals)
    print(s)

main()
",
    );
}

#[test]
fn generator_locals_live_across_yield() {
    same_everywhere(
        "\
def gen(rows):
    for x in rows:
        k = x
        if x is None:
            k = 0.5
        yield k
        m = k * 2
        if m > 5:
            yield m

def main():
    rows = [None if (i * 31) % 5 == 0 else i % 9 for i in range(500)]
    acc = 0.0
    for r in range(10):
        for v in gen(rows):
            acc += v
    print(acc)

main()
",
    );
}

#[test]
fn an_init_whose_self_is_dead_before_a_rare_exit() {
    // After `self.s = ...` nothing reads `self`, but an exit from the rare branch
    // rebuilds the `__init__` frame, whose slot 0 is the call's result, and recording
    // the `return` reads it: without `self` kept, every recording would abort.
    let report = same_everywhere(
        "\
log = []

class P:
    def __init__(self, a, b):
        if b is None:
            b = 0
        self.s = a + b
        if a % 5 == 0:
            a = a * 3
        if a % 97 == 0:
            log.append(a)

def main():
    t = 0
    for i in range(3000):
        p = P(i, None if i % 2 else i)
        t += p.s
    print(t, len(log), sum(log))

main()
",
    );
    assert!(report.loops >= 1 && report.aborts == 0, "{report:?}");
}

#[test]
fn a_local_holding_ints_on_some_rows_and_floats_on_others() {
    same_everywhere(
        "\
def f(p, q):
    if p is None:
        p = 0.25
    if q is None:
        q = 1.25
    y = p + q
    if y < 2.0:
        y = 2.0
    return y

def main():
    rows = []
    s = 12345
    for i in range(1000):
        s = (s * 1103515245 + 12345) & 0x7FFFFFFF
        k = s % 6
        p = None if k == 0 else (k if k < 3 else k * 0.5)
        q = None if k == 5 else (s % 4) * 0.75
        rows.append((p, q))
    acc = 0.0
    for r in range(4):
        for row in rows:
            acc += f(*row)
    print(acc)

main()
",
    );
}
