//! # Differential test: the JIT must not change what a program does
//!
//! Generates `PROGRAMS` small random programs (`progen`, seeds `0..PROGRAMS`) and runs
//! each four times in-process: interpreter only, and with the JIT at three settings —
//! `threshold=2, bridge_threshold=2` (everything hot at once: traces, bridges and
//! guard failures everywhere), `threshold=7, bridge_threshold=3` at LLVM's quick
//! level (later compilation, partly warmed-up state), and the first setting straight
//! at the optimized level with peeled loops' preambles split off (`split_preamble`). Standard output must be
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
//! The check itself (`progen/diff.rs`) is shared with the `pylite_diff` fuzz target,
//! which steers the same generator with its input bytes.

mod progen;

use progen::diff::{as_planned, compare, first_difference, run};
use progen::{generate, generate_from_bytes, Expect, Program};
use pylite::jit::{JitConfig, JitReport, Level, Params};
use pylite::PyliteError;

/// How many programs the test generates.
const PROGRAMS: u64 = 240;
/// How many `#[test]` functions share them.
const SHARDS: u64 = 4;

/// The JIT settings every program is run with, besides the interpreter.
fn jit_configs() -> Vec<(String, JitConfig)> {
    // Built on the host's thread (counts below are checked); `later` in the background.
    let eager = JitConfig::with_params(Params {
        threshold: 2,
        bridge_threshold: 2,
        background: 0,
        ..Default::default()
    });
    let mut later = JitConfig::with_params(Params {
        threshold: 7,
        bridge_threshold: 3,
        ..Default::default()
    });
    later.level = Level::Quick;
    // Straight to the optimized level, peeled loops built with their preamble split
    // off (baseline preamble, optimized loop).
    let split = JitConfig::with_params(Params {
        threshold: 2,
        bridge_threshold: 2,
        tier_up: 0,
        split_preamble: 1,
        background: 0,
        ..Default::default()
    });
    vec![
        ("jit threshold=2 bridge_threshold=2 background=off".to_string(), eager),
        (
            "jit threshold=7 bridge_threshold=3 level=quick background=on".to_string(),
            later,
        ),
        (
            "jit threshold=2 bridge_threshold=2 tier_up=0 split_preamble=on background=off".to_string(),
            split,
        ),
    ]
}

/// Runs the programs of one shard; fails with the first few differences, and if the
/// low-threshold runs compiled loops but never bridged or exited.
fn check_shard(shard: u64) {
    let configs = jit_configs();
    let mut failures = Vec::new();
    let mut totals = JitReport::default();
    let mut count = 0;
    for seed in (shard..PROGRAMS).step_by(SHARDS as usize) {
        let found = compare(&generate(seed), &configs);
        count += 1;
        failures.extend(found.failures);
        if let Some(eager) = found.reports.first() {
            add_report(&mut totals, eager);
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
/// pylite --test jit_diff print_program -- --ignored --nocapture`. With
/// `FUZZ_INPUT=FILE` instead, the program a `pylite_diff` fuzz input builds (its first
/// byte, the JIT settings, skipped) — how a finding becomes a readable program.
#[test]
#[ignore = "a debugging aid"]
fn print_program() {
    let p = match std::env::var("FUZZ_INPUT") {
        Ok(path) => {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            generate_from_bytes(data.get(1..).unwrap_or(&[]))
        }
        Err(_) => generate(std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0)),
    };
    println!("{}", p.source);
    let r = run(&p, &JitConfig::off());
    println!("--- out\n{}\n{:?}", r.out, r.result);
}

/// A fuzzer's bytes steer the generator: the same bytes give the same program, other
/// bytes another one, and the steered programs keep the generator's plan.
#[test]
fn bytes_steer_the_generator() {
    let bytes: Vec<u8> = (0..600u32).map(|i| (i * 37 % 251) as u8).collect();
    let changed: Vec<u8> = bytes.iter().map(|b| b ^ 0x55).collect();
    assert_eq!(generate_from_bytes(&bytes).source, generate_from_bytes(&bytes).source);
    assert_ne!(generate_from_bytes(&bytes).source, generate_from_bytes(&changed).source);
    // No bytes: the stream of seed 0 (only the header comment says where it came from).
    let body = |p: Program| p.source.split_once('\n').map(|(_, b)| b.to_string());
    assert_eq!(body(generate_from_bytes(&[])), body(generate(0)));
    for input in [vec![], vec![0; 64], vec![0xff; 300], bytes, changed] {
        let p = generate_from_bytes(&input);
        let r = run(&p, &JitConfig::off());
        assert!(
            as_planned(&p, &r.result),
            "{:?}: {:?}\n{}",
            p.expect,
            r.result,
            p.source
        );
    }
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
