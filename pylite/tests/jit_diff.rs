//! # Differential test: the JIT must not change what a program does
//!
//! Generates `PROGRAMS` small random programs (`progen`, seeds `0..PROGRAMS`) and runs
//! each three times in-process: interpreter only, and with the JIT at two settings —
//! `threshold=2, bridge_threshold=2` (everything hot at once: traces, bridges and
//! guard failures everywhere) and `threshold=7, bridge_threshold=3` at LLVM's quick
//! level (later compilation, partly warmed-up state). Standard output must be
//! byte-identical and the outcome identical — the same `Ok`, or the same exception
//! with the same traceback.
//!
//! The interpreter run is also a check of the generator: every program must finish,
//! or raise exactly the error it was built to raise (`Expect`). That the programs
//! mean the same in CPython is checked once by the ignored test
//! `generator_matches_cpython` (`cargo test --release -p pylite --test jit_diff --
//! --ignored`), because it needs `python3` and runs a process per program.
//!
//! The seeds are split into shards (one `#[test]` each) so the test harness runs them
//! on all cores. When the JIT compiles anything at all, the low-threshold runs must
//! also show bridges and exits, or the programs no longer exercise what they are for.

mod progen;

use progen::{generate, Expect, Program};
use pylite::jit::{JitConfig, JitReport, Level, Params};
use pylite::PyliteError;

/// How many programs the test generates.
const PROGRAMS: u64 = 240;
/// How many `#[test]` functions share them.
const SHARDS: u64 = 4;

/// The JIT settings every program is run with, besides the interpreter.
fn jit_configs() -> Vec<(&'static str, JitConfig)> {
    let eager = JitConfig::with_params(Params {
        threshold: 2,
        bridge_threshold: 2,
        ..Default::default()
    });
    let mut later = JitConfig::with_params(Params {
        threshold: 7,
        bridge_threshold: 3,
        ..Default::default()
    });
    later.level = Level::Quick;
    vec![
        ("jit threshold=2 bridge_threshold=2", eager),
        ("jit threshold=7 bridge_threshold=3 level=quick", later),
    ]
}

/// What a run did: its stdout and its outcome.
struct Run {
    out: String,
    result: Result<(), PyliteError>,
    report: JitReport,
}

fn run(p: &Program, config: &JitConfig) -> Run {
    let (out, result, report) = pylite::run_capture_with(&p.source, "gen.py", &[], config);
    Run { out, result, report }
}

/// The source with line numbers, for failure messages.
fn numbered(src: &str) -> String {
    src.lines()
        .enumerate()
        .map(|(i, l)| format!("{:4} {}\n", i + 1, l))
        .collect()
}

/// At most the first 60 lines of an output.
fn clip(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let mut text: String = lines.iter().take(60).map(|l| format!("{}\n", l)).collect();
    if lines.len() > 60 {
        text += &format!("... ({} more lines)\n", lines.len() - 60);
    }
    text
}

/// Where two outputs first differ, with a few lines of context from each.
fn first_difference((name_a, a): (&str, &str), (name_b, b): (&str, &str)) -> String {
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
fn as_planned(p: &Program, r: &Result<(), PyliteError>) -> bool {
    match (p.expect, r) {
        (Expect::Ok, Ok(())) => true,
        (Expect::Raises(t), Err(PyliteError::Runtime { exc_type, .. })) => exc_type == t,
        _ => false,
    }
}

/// Runs the programs of one shard; returns the failures and the JIT's totals.
fn check_shard(shard: u64) {
    let configs = jit_configs();
    let mut failures = Vec::new();
    let mut totals = JitReport::default();
    let mut count = 0;
    for seed in (shard..PROGRAMS).step_by(SHARDS as usize) {
        let p = generate(seed);
        count += 1;
        let base = run(&p, &JitConfig::off());
        if !as_planned(&p, &base.result) {
            failures.push(format!(
                "seed {}: the interpreter did not do what the generator planned ({:?}):\n{:?}\n--- source\n{}",
                p.seed,
                p.expect,
                base.result,
                numbered(&p.source)
            ));
            continue;
        }
        for (i, (label, config)) in configs.iter().enumerate() {
            let jit = run(&p, config);
            if i == 0 {
                add_report(&mut totals, &jit.report);
            }
            let (want, got) = (format!("{:?}", base.result), format!("{:?}", jit.result));
            if jit.out != base.out || want != got {
                failures.push(format!(
                    "seed {} under {}: differs from the interpreter\n{}\n--- interpreter outcome\n{}\n--- jit outcome\n{}\n--- source\n{}--- interpreter output\n{}--- jit output\n{}",
                    p.seed,
                    label,
                    first_difference(("interpreter", &base.out), ("jit", &jit.out)),
                    want,
                    got,
                    numbered(&p.source),
                    clip(&base.out),
                    clip(&jit.out)
                ));
            }
        }
    }
    eprintln!(
        "jit_diff shard {}: {} programs; threshold=2 runs compiled {} loops, {} bridges, {} aborts, {} exits",
        shard, count, totals.loops, totals.bridges, totals.aborts, totals.exits
    );
    let shown: Vec<&String> = failures.iter().take(3).collect();
    assert!(
        failures.is_empty(),
        "{} failures in {} programs (first {} shown):\n{}",
        failures.len(),
        count,
        shown.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n\n")
    );
    if totals.loops > 0 {
        assert!(
            totals.bridges > 0 && totals.exits > 0,
            "the JIT compiled {} loops but attached {} bridges and took {} exits: the generated programs no longer exercise bridges",
            totals.loops,
            totals.bridges,
            totals.exits
        );
    }
}

fn add_report(total: &mut JitReport, r: &JitReport) {
    total.loops += r.loops;
    total.bridges += r.bridges;
    total.aborts += r.aborts;
    total.exits += r.exits;
}

#[test]
fn jit_matches_interpreter_shard0() {
    check_shard(0);
}

#[test]
fn jit_matches_interpreter_shard1() {
    check_shard(1);
}

#[test]
fn jit_matches_interpreter_shard2() {
    check_shard(2);
}

#[test]
fn jit_matches_interpreter_shard3() {
    check_shard(3);
}

/// The last line of a CPython traceback (`ZeroDivisionError: ...`).
fn last_line(stderr: &str) -> String {
    stderr.lines().last().unwrap_or("").to_string()
}

/// The generator's programs mean the same under CPython as under pylite's
/// interpreter. Planned overflows are the exception that proves the rule: CPython's
/// ints do not overflow, so there pylite's output must be a prefix of CPython's.
#[test]
#[ignore = "runs python3 once per program; run by hand after changing the generator"]
fn generator_matches_cpython() {
    let dir = std::env::temp_dir().join(format!("pylite-jit-diff-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {}", dir.display(), e);
    }
    // PROGEN_PROGRAMS=N checks more seeds than the differential test uses.
    let programs = std::env::var("PROGEN_PROGRAMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PROGRAMS);
    let mut failures = Vec::new();
    for seed in 0..programs {
        let p = generate(seed);
        let ours = run(&p, &JitConfig::off());
        let path = dir.join(format!("gen{}.py", seed));
        std::fs::write(&path, &p.source).expect("write program");
        let py = match std::process::Command::new("python3").arg(&path).output() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("python3 not runnable ({}): skipped", e);
                return;
            }
        };
        let theirs = String::from_utf8_lossy(&py.stdout).into_owned();
        let their_err = last_line(&String::from_utf8_lossy(&py.stderr));
        let problem = match (&ours.result, p.expect) {
            (Ok(()), _) if !py.status.success() => Some(format!("CPython failed: {}", their_err)),
            (Ok(()), _) if theirs != ours.out => Some(first_difference(("CPython", &theirs), ("pylite", &ours.out))),
            (Ok(()), _) => None,
            (Err(PyliteError::Runtime { message, .. }), Expect::Raises("OverflowError")) => {
                if !py.status.success() {
                    Some(format!("pylite: {}; CPython: {}", message, their_err))
                } else if !theirs.starts_with(&ours.out) {
                    Some(first_difference(("CPython", &theirs), ("pylite", &ours.out)))
                } else {
                    None
                }
            }
            (Err(PyliteError::Runtime { message, .. }), _) => {
                if theirs != ours.out {
                    Some(first_difference(("CPython", &theirs), ("pylite", &ours.out)))
                } else if *message != their_err {
                    Some(format!("pylite raised {:?}, CPython {:?}", message, their_err))
                } else {
                    None
                }
            }
            (Err(e), _) => Some(format!("pylite failed: {}", e)),
        };
        if let Some(why) = problem {
            failures.push(format!("seed {} ({}): {}", seed, path.display(), why));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} programs differ from CPython:\n{}",
        failures.len(),
        programs,
        failures.join("\n\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Prints one program and its interpreter output: `SEED=n cargo test --release -p
/// pylite --test jit_diff print_program -- --ignored --nocapture`.
#[test]
#[ignore = "a debugging aid"]
fn print_program() {
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let p = generate(seed);
    println!("{}", p.source);
    let r = run(&p, &JitConfig::off());
    println!("--- out\n{}\n{:?}", r.out, r.result);
}

/// The generator is deterministic and its programs, together, use every feature
/// the differential test is meant to cover.
#[test]
fn generator_covers_the_subset() {
    assert_eq!(generate(17).source, generate(17).source);
    assert_ne!(generate(17).source, generate(18).source);
    let programs: Vec<Program> = (0..PROGRAMS).map(generate).collect();
    let features = [
        "while ",
        "for ",
        "elif ",
        "else:",
        "break",
        "continue",
        "def ",
        "=None",
        "return (",
        "class ",
        "def __init__",
        "@property",
        "self.",
        ".step(",
        ".scale(",
        ".total",
        "isinstance(",
        "is None",
        "is not None",
        ".append(",
        "enumerate(",
        "len(",
        "try:",
        "global ",
        " // ",
        " % ",
        " & ",
        " | ",
        " ^ ",
        " << ",
        " >> ",
        " / ",
        "abs(",
        "min(",
        "max(",
        "round(",
        "int(",
        "float(",
        "math.sqrt(",
        " if ",
        " and ",
        " or ",
        "not ",
    ];
    let mut missing = Vec::new();
    for f in features {
        let n = programs.iter().filter(|p| p.source.contains(f)).count();
        if n < 5 {
            missing.push(format!("{:?} in {} programs", f, n));
        }
    }
    let nested = programs
        .iter()
        .filter(|p| {
            p.source.lines().any(|l| {
                l.starts_with("        ")
                    && (l.trim_start().starts_with("for ") || l.trim_start().starts_with("while "))
            })
        })
        .count();
    let count = |e: Expect| programs.iter().filter(|p| p.expect == e).count();
    assert!(missing.is_empty(), "features too rare: {}", missing.join(", "));
    assert!(nested >= PROGRAMS as usize / 2, "only {} programs nest loops", nested);
    assert!(count(Expect::Raises("ZeroDivisionError")) >= 15);
    assert!(count(Expect::Raises("OverflowError")) >= 15);
    assert!(count(Expect::Ok) >= PROGRAMS as usize / 2);
}
