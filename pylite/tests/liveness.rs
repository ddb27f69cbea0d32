//! # The liveness analysis, checked by poisoning
//!
//! The JIT drops locals that `pylite::liveness` calls dead from loop headers, merge
//! points, generator resumes and snapshots; an exit writes them back unbound. That is
//! sound only if no path reads a dead local before writing it. These tests check the
//! claim dynamically: with `JitConfig::poisoning_dead_locals()` the interpreter
//! overwrites every dead local with a poison int before each instruction, and the
//! program must print exactly what it prints without poisoning — over the language
//! cases (with CPython's expected output and errors), the generated differential
//! programs, and the talk's programs.

#[allow(dead_code)] // the compile-error table is not used here
#[path = "data/lang_cases.rs"]
mod lang_cases;
#[allow(dead_code, unused_imports)] // the generator's fuzzing entry points are not used here
mod progen;

use pylite::jit::JitConfig;
use pylite::PyliteError;

fn poisoned(src: &str, argv: &[&str]) -> (String, Result<(), PyliteError>) {
    let (out, res, _) = pylite::run_capture_with(src, "case.py", argv, &JitConfig::poisoning_dead_locals());
    (out, res)
}

/// The outcome as text (runtime errors with message, line and traceback).
fn outcome(r: &Result<(), PyliteError>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn language_cases_print_what_cpython_prints_with_dead_locals_poisoned() {
    let mut failures = Vec::new();
    for (i, (src, want)) in lang_cases::OUTPUT_CASES.iter().enumerate() {
        let (out, res) = poisoned(src, &[]);
        if res.is_err() || out != *want {
            failures.push(format!(
                "case {i}:\n{src}\n--- want\n{want}--- got\n{out}{}",
                outcome(&res)
            ));
        }
    }
    for (i, (src, msg, line)) in lang_cases::RUNTIME_ERROR_CASES.iter().enumerate() {
        match poisoned(src, &[]).1 {
            Err(PyliteError::Runtime { message, line: l, .. }) if message == *msg && l == *line => {}
            other => failures.push(format!(
                "error case {i}:\n{src}\n--- want {msg} at {line}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn generated_programs_compute_the_same_with_dead_locals_poisoned() {
    let mut failures = Vec::new();
    for seed in 0..240 {
        let p = progen::generate(seed);
        let (want, want_res) = pylite::run_capture(&p.source, "case.py", &[]);
        let (got, got_res) = poisoned(&p.source, &[]);
        if got != want || outcome(&got_res) != outcome(&want_res) {
            failures.push(format!(
                "seed {seed}: {}\n{}",
                progen::diff::first_difference(("plain", &want), ("poisoned", &got)),
                progen::diff::numbered(&p.source)
            ));
        }
    }
    let shown: Vec<&String> = failures.iter().take(2).collect();
    assert!(failures.is_empty(), "{} programs differ:\n{:?}", failures.len(), shown);
}

#[test]
fn the_talks_programs_compute_the_same_with_dead_locals_poisoned() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("programs");
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.ends_with(" secs"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (name, args) in [
        ("data_driven", &["2000", "2"][..]),
        ("pi", &["5"]),
        ("pi_blocker", &["5"]),
        ("pythagorean", &["20000"]),
    ] {
        let src = std::fs::read_to_string(dir.join(format!("{name}.py"))).expect("source");
        let (want, want_res) = pylite::run_capture(&src, "case.py", args);
        let (got, got_res) = poisoned(&src, args);
        assert_eq!(outcome(&got_res), outcome(&want_res), "{name}");
        assert_eq!(strip(&got), strip(&want), "{name}");
    }
}

/// A generator whose locals live across `yield`s, a `try` whose handler reads a local
/// written before it, and a loop variable read after its loop, with dead locals
/// poisoned (expected output from CPython 3).
#[test]
fn live_locals_survive_poisoning_across_yield_try_and_loops() {
    let src = "\
def gen(rows):
    k = 0
    for x in rows:
        k = k + 1
        if x is None:
            x = -1
        yield x * k
        try:
            q = 10 // (x + 1)
        except ZeroDivisionError:
            q = k
        yield q
def main():
    out = []
    last = None
    for v in gen([1, None, 3, None, 0]):
        out.append(v)
        last = v
    print(out, last)
main()
";
    let (want, _) = pylite::run_capture(src, "case.py", &[]);
    assert_eq!(want, "[1, 5, -2, 2, 9, 2, -4, 4, 0, 10] 10\n");
    assert_eq!(poisoned(src, &[]).0, want);
}
