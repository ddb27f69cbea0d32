//! The talk's programs with the JIT: output identical to the interpreter's (timing lines
//! dropped) at several sizes and with thresholds forced low, so that bridges and exits
//! happen; and the JIT really runs — each program compiles a loop, and most loop
//! iterations of the interpreter-only run are not executed by the interpreter any more.

mod support;

use pylite::jit::{JitConfig, JitReport, Params};
use std::path::PathBuf;

fn program(name: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("programs")
        .join(format!("{name}.py"));
    let src = std::fs::read_to_string(&path).expect("program source");
    (src, path.to_str().expect("utf-8 path").to_string())
}

fn strip_timings(s: &str) -> String {
    s.lines()
        .filter(|l| !l.ends_with(" secs"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run(name: &str, args: &[&str], config: &JitConfig) -> (String, JitReport) {
    let (src, file) = program(name);
    let (out, res, report) = pylite::run_capture_with(&src, &file, args, config);
    if let Err(e) = res {
        panic!("{name} {args:?} failed ({config:?}): {e}");
    }
    (strip_timings(&out), report)
}

fn low(threshold: u32, bridge_threshold: u32) -> JitConfig {
    JitConfig::with_params(Params {
        threshold,
        bridge_threshold,
        ..Params::default()
    })
}

/// Same output with the JIT off, on (defaults) and on with low thresholds; returns the
/// interpreter-only and default-JIT reports.
fn same_output(name: &str, args: &[&str]) -> (JitReport, JitReport) {
    let (want, off) = run(name, args, &JitConfig::off());
    // Built on the host's thread: `jit_ran` checks what the JIT did. The low-threshold
    // runs below build in the background (the default).
    let deterministic = Params {
        background: 0,
        ..Params::default()
    };
    let (got, on) = run(name, args, &JitConfig::with_params(deterministic));
    assert_eq!(
        got, want,
        "{name} {args:?}: JIT (default thresholds) differs from the interpreter"
    );
    for (t, b) in [(2, 2), (5, 1), (13, 4)] {
        let (got, _) = run(name, args, &low(t, b));
        assert_eq!(
            got, want,
            "{name} {args:?}: JIT (threshold {t}, bridge {b}) differs from the interpreter"
        );
    }
    (off, on)
}

/// The JIT compiled a loop, and the interpreter ran less than half of the iterations.
fn jit_ran(name: &str, off: &JitReport, on: &JitReport) {
    support::jit_ran(name, off, on, 2);
}

#[test]
fn pi() {
    same_output("pi", &["3"]);
    let (off, on) = same_output("pi", &["5"]);
    jit_ran("pi", &off, &on);
}

#[test]
fn pi_blocker() {
    same_output("pi_blocker", &["3"]);
    let (off, on) = same_output("pi_blocker", &["5"]);
    jit_ran("pi_blocker", &off, &on);
}

#[test]
fn data_driven() {
    same_output("data_driven", &["300", "2"]);
    let (off, on) = same_output("data_driven", &["3000", "3"]);
    assert!(on.loops >= 1, "data_driven: no loop compiled: {on:?}");
    let _ = off;
}

#[test]
fn pythagorean() {
    same_output("pythagorean", &["2000"]);
    let (off, on) = same_output("pythagorean", &["50000"]);
    // All three phases run compiled: the nested loops, the generator (its body inlined
    // into the `for`) and the iterator class (its `__next__` inlined).
    jit_ran("pythagorean", &off, &on);
    assert!(
        on.interp_loop_iterations * 10 < off.interp_loop_iterations,
        "pythagorean: the interpreter still ran {} of {} iterations",
        on.interp_loop_iterations,
        off.interp_loop_iterations
    );
}

#[test]
fn readpoly() {
    let dir = std::env::temp_dir().join(format!("pylite_jit_readpoly_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for n in ["300", "4000"] {
        let data = dir.join(format!("poly_{n}.bin"));
        let data = data.to_str().expect("utf-8 path");
        let (off, on) = same_output("readpoly", &[n, data]);
        if n == "4000" {
            jit_ran("readpoly", &off, &on);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
