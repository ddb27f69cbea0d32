//! # What the `pylite_diff` fuzzer found, pinned
//!
//! Each test is a program (minimized by hand from a fuzz finding) run on the
//! interpreter and with the JIT at its most eager (`threshold=2, bridge_threshold=2`,
//! both LLVM levels): the output and the outcome must be the same, and where the
//! finding was about what the JIT did rather than what it computed, the JIT report
//! must show it no longer happens. `fuzz/README.md` says how a finding gets here.
//! Instructions the recorder learned later are pinned the same way (at the end).

use pylite::jit::{JitConfig, JitReport, Level, Params};

/// Runs `src` on the interpreter and with the eager JIT at both levels; asserts the
/// outputs and outcomes agree and returns the interpreter's output and the JIT's
/// reports (optimized, quick).
fn same_with_jit(src: &str) -> (String, Vec<JitReport>) {
    let (want, want_res, _) = pylite::run_capture_with(src, "regression.py", &[], &JitConfig::off());
    let mut reports = Vec::new();
    for level in [Level::Optimized, Level::Quick] {
        let mut config = JitConfig::with_params(Params {
            threshold: 2,
            bridge_threshold: 2,
            background: u32::from(level == Level::Quick),
            ..Default::default()
        });
        config.level = level;
        let (got, got_res, report) = pylite::run_capture_with(src, "regression.py", &[], &config);
        assert_eq!(got, want, "output differs with the JIT at {level:?}\n{src}");
        assert_eq!(
            format!("{got_res:?}"),
            format!("{want_res:?}"),
            "outcome differs with the JIT at {level:?}\n{src}"
        );
        reports.push(report);
    }
    (want, reports)
}

/// A loop at module level rebinds globals to new objects on every iteration. The
/// recorder used to promote every object read from a global to a constant, so each
/// new object failed a `guard_value` and grew one more bridge specialized to it: 449
/// bridges for this program, and for the fuzzer's original 2239 bridges and 67 s of
/// compiling (0.09 s interpreted). Only definitions (functions, classes, builtins,
/// modules) are promoted now.
#[test]
fn globals_rebound_to_new_objects_do_not_grow_a_bridge_each() {
    let src = "class K:
    def __init__(self, a):
        self.a = a
total = 0
for i in range(300):
    for j in range(4):
        o = K(i + j)
        total = total + o.a
    xs = [i, total]
    total = total + xs[0]
print(total, o.a, xs)
";
    let (out, reports) = same_with_jit(src);
    assert_eq!(out, "226050 302 [299, 225751]\n");
    // The optimized-level run is built on the host's thread (deterministic counts).
    for r in &reports[..1] {
        assert!(r.loops >= 1, "the loop was not compiled: {r:?}");
        assert!(r.bridges <= 10, "{} bridges for one loop: {r:?}", r.bridges);
    }
}

/// `>>` on ints is traced (it used to abort the recording, which blacklisted loops
/// that generate data with it, like the merge variants' row generator): counts
/// 0..64 shift, counts of 64 and more give the sign, a negative count raises in the
/// interpreter — every case against the interpreter, with the JIT compiling the loop.
#[test]
fn right_shifts_are_traced_with_python_semantics() {
    let src = "\
def main():
    s = 12345
    acc = 0
    for i in range(400):
        s = (s * 1103515245 + 12345) & 0x7FFFFFFF
        k = i % 70
        acc += (s >> 8) % 1000 + (s >> k) + ((-s) >> (k % 9)) + ((-s) >> k)
    print(acc)
    n = 0
    for i in range(50):
        try:
            n += 5 >> (i - 40)
        except ValueError as e:
            n += 1
    print(n)

main()
";
    let (want, reports) = same_with_jit(src);
    assert!(want.lines().count() == 2, "{want}");
    // The synchronous run (optimized, no background thread) must have compiled it.
    assert!(reports[0].loops >= 1, "the shifting loop compiles: {:?}", reports[0]);
}

/// A comprehension's append (`ListAppend`) is traced as a call of a native that
/// pushes onto the list: it used to abort every recording of a comprehension's loop.
/// (`[]` itself is still not traced — see the closing note of session 7: tracing it
/// compiled the merge variants' row-building outer loops, whose unrolled,
/// data-driven inner loops then re-formed regions dozens of times.)
#[test]
fn comprehension_appends_are_traced() {
    let src = "\
def main():
    sq = 0
    rows = []
    for r in range(300):
        xs = [x * x + r for x in range(r % 7 + 3)]
        sq += len(xs) + xs[-1]
        rows = [y for y in xs if y % 2 == 0]
    print(sq, rows)

main()
";
    let (want, reports) = same_with_jit(src);
    assert_eq!(want.lines().count(), 1, "{want}");
    // Synchronous run (deterministic): the comprehensions' loops compile.
    let r = &reports[0];
    assert!(r.loops >= 1, "the comprehension loops compile: {r:?}");
}

/// An inner loop of nine iterations, entered once per row by an outer loop that is
/// not compiled (it builds a new list per row): every entry is a round trip into
/// native code that costs more than interpreting the nine iterations (7x slower on
/// `data_driven.py`'s row counting). After `short_loop_entries` entries with fewer
/// than `short_loop` iterations each, the loop is given up to the interpreter; the
/// output stays exact either way, and with `short_loop=0` it is never given up.
#[test]
fn a_loop_entered_for_a_few_iterations_at_a_time_is_given_up() {
    let src = "\
rows = []
total = 0
for i in range(3000):
    row = []
    for j in range(9):
        total += j * i
    rows.append(total)
print(len(rows), total)
";
    let (want, _, _) = pylite::run_capture_with(src, "short.py", &[], &JitConfig::off());
    let judged = |spec: &str| {
        let config = JitConfig::with_params(Params::parse(spec).expect("params"));
        let (got, _, report) = pylite::run_capture_with(src, "short.py", &[], &config);
        assert_eq!(got, want, "JIT ({spec}) differs from the interpreter");
        report
    };
    let short = judged("background=off,short_loop_entries=64");
    assert!(short.given_up >= 1 && short.loops >= 1, "{short:?}");
    // Given up after 64 entries: far fewer round trips than the 3000 rows.
    assert!(short.loop_entries < 200, "{short:?}");
    let kept = judged("background=off,short_loop=0");
    assert_eq!(kept.given_up, 0, "{kept:?}");
    assert!(kept.loop_entries > 2000, "{kept:?}");
}

/// Rows of nine values, each `None` or a float by a fixed bit pattern of the row
/// number, built by a loop that is not compiled (it makes a new list per row).
const NINE_COLUMN_ROWS: &str = "\
rows = []
for i in range(4000):
    k = i * 7919
    unused = []
    rows.append((None if k & 1 else 0.5, None if k & 2 else 1.0, None if k & 4 else 1.5,
                 None if k & 8 else 2.0, None if k & 16 else 2.5, None if k & 32 else 3.0,
                 None if k & 64 else 3.5, None if k & 128 else 4.0, None if k & 256 else 4.5))
";

/// The talk's `fn` (nine `is None` checks), as `data_driven.py` defines it.
fn talk_fn() -> &'static str {
    let program = include_str!("../programs/data_driven.py");
    program
        .find("def fn(")
        .and_then(|start| Some(&program[start..start + program[start..].find("\n\n\ndef ")?]))
        .expect("data_driven.py defines fn")
}

/// A program calling the talk's `fn(*row)` over nine-column rows, and its output on
/// the interpreter.
fn talk_fn_over_rows() -> (String, String) {
    let talk_fn = talk_fn();
    let src = format!(
        "{NINE_COLUMN_ROWS}{talk_fn}
acc = 0.0
for r in range(5):
    for row in rows:
        acc += fn(*row)
print(acc)
"
    );
    let (want, _, _) = pylite::run_capture_with(&src, "fn.py", &[], &JitConfig::off());
    (src, want)
}

/// Runs `src` through the `pylite` binary with the JIT on and `params`, returning its
/// output and the engine's `compile` log.
fn run_logged(src: &str, params: &str) -> (String, String) {
    run_logging(src, params, "compile")
}

/// Runs `src` through the `pylite` binary with the JIT on and `params`, returning its
/// output and what `LEONES_LOG=items` logged.
fn run_logging(src: &str, params: &str, items: &str) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("leones-left-{}-{}-{items}", std::process::id(), params.len()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (program, log) = (dir.join("p.py"), dir.join("compile.log"));
    std::fs::write(&program, src).expect("program");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pylite"))
        .args(["run", "--jit", "on"])
        .arg(&program)
        .env("LEONES_PARAMS", params)
        .env("LEONES_LOG", format!("{items}:{}", log.display()))
        .output()
        .expect("pylite runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (String::from_utf8_lossy(&out.stdout).into_owned(), text)
}

/// The row-counting loop of `data_driven.py`: an inner loop over a 9-item row whose
/// `is None` check forms a region, entered once per row by an outer loop that is not
/// compiled (it builds a list per row). Each entry runs the loop to its end and the
/// interpreter then reaches the *outer* loop's header — the entry left the loop — so
/// after `short_loop_entries` such entries with fewer than `short_loop` iterations
/// each it is given up by that count, which no landing unit restarts and no pending
/// arm defers (the other window never judged this loop on `data_driven.py` at a tenth
/// of its size while it mattered: 14 ms for a phase interpreted in 2.6 ms).
#[test]
fn an_inner_loop_whose_entries_leave_it_after_a_few_iterations_is_given_up() {
    let src = format!(
        "{NINE_COLUMN_ROWS}nones = 0
for row in rows:
    seen = []
    for x in row:
        if x is None:
            nones += 1
print(nones)
"
    );
    let (want, _, _) = pylite::run_capture_with(&src, "count.py", &[], &JitConfig::off());
    let (got, log) = run_logged(&src, "background=off,short_loop_entries=64");
    assert_eq!(got, want, "JIT differs from the interpreter");
    assert!(log.contains("entries that left it (short_loop=16)"), "{log}");
    let (got, log) = run_logged(&src, "background=off,short_loop=0");
    assert_eq!(got, want, "JIT differs from the interpreter");
    assert!(!log.contains("gave up"), "{log}");
}

/// The other side of that rule: a loop whose early exits come from arms not merged
/// yet — `fn(*row)` with nine `is None` checks — finishes each exited iteration in the
/// interpreter and comes back to its *own* header, so its entries did not leave it and
/// it is not given up, although until its region forms it exits on almost every row.
#[test]
fn a_loop_exiting_early_while_its_region_forms_is_not_given_up() {
    let (src, want) = talk_fn_over_rows();
    let config = JitConfig::with_params(Params::parse("background=off").expect("params"));
    let (got, _, report) = pylite::run_capture_with(&src, "fn.py", &[], &config);
    assert_eq!(got, want, "JIT differs from the interpreter");
    assert_eq!(report.given_up, 0, "{report:?}");
    assert!(report.regions >= 1, "{report:?}");
}

/// The summary's `recordings` counts recordings started. It used to count every time
/// the hotness counters said "record", and the engine declines most of those on a
/// merging tree (an arm's guard hot again while its region forms: wait) — the talk's
/// pythagorean program reported 4838 recordings where a few dozen started. Every recording
/// started ends as a loop, a bridge or arm, or an abort (one may still be under way
/// when the program ends).
#[test]
fn the_summary_counts_recordings_started() {
    let (src, want) = talk_fn_over_rows();
    let (got, summary) = run_logging(&src, "background=off", "summary");
    assert_eq!(got, want, "JIT differs from the interpreter");
    let count = |name: &str| -> u64 {
        let line = summary
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no `{name}` in the summary:\n{summary}"));
        line.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("a count")
    };
    let ended = count("loops") + count("bridges") + count("aborts");
    let started = count("recordings");
    assert!(ended >= 2, "{summary}");
    assert!(started == ended || started == ended + 1, "{summary}");
}
