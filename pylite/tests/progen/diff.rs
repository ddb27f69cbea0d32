//! # The differential check: one program, the interpreter against the JIT
//!
//! A generated program is run in-process by pylite's interpreter alone and then under
//! each JIT setting it is given; standard output must be byte-identical and the
//! outcome identical (the same `Ok`, or the same exception with the same traceback).
//! The interpreter run also checks the generator: the program must finish, or raise
//! exactly the error it was built to raise ([`Expect`]).
//!
//! Both users of the generator share this check: the `jit_diff` test (fixed seeds, on
//! every `make test`) and the `pylite_diff` fuzz target (programs the fuzzer's bytes
//! steer). A failure is a text holding the whole case: the program with line numbers,
//! the first differing output lines, both outcomes and the start of both outputs.

use super::program::{Expect, Program};
use pylite::jit::{JitConfig, JitReport};
use pylite::PyliteError;

/// What a run did: its stdout, its outcome, and what the JIT did.
pub struct Run {
    pub out: String,
    pub result: Result<(), PyliteError>,
    pub report: JitReport,
}

/// Runs `p` with the JIT as `config` says, capturing its output.
pub fn run(p: &Program, config: &JitConfig) -> Run {
    let (out, result, report) = pylite::run_capture_with(&p.source, "gen.py", &[], config);
    Run { out, result, report }
}

/// The source with line numbers, for failure messages.
pub fn numbered(src: &str) -> String {
    src.lines()
        .enumerate()
        .map(|(i, l)| format!("{:4} {}\n", i + 1, l))
        .collect()
}

/// At most the first 60 lines of an output.
pub fn clip(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let mut text: String = lines.iter().take(60).map(|l| format!("{}\n", l)).collect();
    if lines.len() > 60 {
        text += &format!("... ({} more lines)\n", lines.len() - 60);
    }
    text
}

/// Where two outputs first differ, with a few lines of context from each.
pub fn first_difference((name_a, a): (&str, &str), (name_b, b): (&str, &str)) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
    let window = |v: &[&str]| {
        v.iter()
            .skip(i.saturating_sub(2))
            .take(6)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at output line {} ({} vs {} lines)\n--- {}\n{}\n--- {}\n{}",
        i + 1,
        la.len(),
        lb.len(),
        name_a,
        window(&la),
        name_b,
        window(&lb)
    )
}

/// Whether the interpreter's outcome is what the generator planned.
pub fn as_planned(p: &Program, r: &Result<(), PyliteError>) -> bool {
    match (p.expect, r) {
        (Expect::Ok, Ok(())) => true,
        (Expect::Raises(t), Err(PyliteError::Runtime { exc_type, .. })) => exc_type == t,
        _ => false,
    }
}

/// What [`compare`] found for one program.
pub struct Comparison {
    /// One text per failure (empty: the JIT agreed with the interpreter everywhere).
    pub failures: Vec<String>,
    /// What the JIT did under each setting, in the order given.
    pub reports: Vec<JitReport>,
}

/// Runs `p` on the interpreter and under every labelled JIT setting, and describes
/// every way a JIT run differs from the interpreter's (or the interpreter from the
/// plan; then the JIT runs are skipped).
pub fn compare(p: &Program, configs: &[(String, JitConfig)]) -> Comparison {
    let mut found = Comparison {
        failures: Vec::new(),
        reports: Vec::new(),
    };
    let base = run(p, &JitConfig::off());
    if !as_planned(p, &base.result) {
        found.failures.push(format!(
            "{}: the interpreter did not do what the generator planned ({:?}):\n{:?}\n--- source\n{}",
            p.origin,
            p.expect,
            base.result,
            numbered(&p.source)
        ));
        return found;
    }
    let want = format!("{:?}", base.result);
    for (label, config) in configs {
        let jit = run(p, config);
        let got = format!("{:?}", jit.result);
        if jit.out != base.out || want != got {
            found.failures.push(format!(
                "{} under {}: differs from the interpreter\n{}\n--- interpreter outcome\n{}\n--- jit outcome\n{}\n--- source\n{}--- interpreter output\n{}--- jit output\n{}",
                p.origin,
                label,
                first_difference(("interpreter", &base.out), ("jit", &jit.out)),
                want,
                got,
                numbered(&p.source),
                clip(&base.out),
                clip(&jit.out)
            ));
        }
        found.reports.push(jit.report);
    }
    found
}
