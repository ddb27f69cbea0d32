//! The talk's programs at small sizes: pylite's output (timing lines dropped)
//! must equal the checked-in CPython output in `programs/expected/`, and, when
//! `python3` is installed, a live CPython run. Their warm-up variants
//! (`programs/warmup/`) must print the same with and without the JIT (chunk lines
//! dropped) and mark every timed loop.

use pylite::bench::warmup::{parse_chunks, strip_chunks};

use std::path::PathBuf;

fn programs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("programs")
}

fn strip_timings(s: &str) -> String {
    s.lines()
        .filter(|l| !l.ends_with(" secs"))
        .map(|l| format!("{}\n", l))
        .collect()
}

fn check(name: &str, args: &[&str]) {
    let path = programs_dir().join(format!("{}.py", name));
    let src = std::fs::read_to_string(&path).unwrap();
    let file = path.to_str().unwrap();
    let (out, res) = pylite::run_capture(&src, file, args);
    if let Err(e) = res {
        panic!("{} failed: {}", name, e);
    }
    let ours = strip_timings(&out);
    let expected = std::fs::read_to_string(programs_dir().join("expected").join(format!("{}.txt", name))).unwrap();
    assert_eq!(ours, expected, "{}: differs from checked-in CPython output", name);
    // Every timing name the tools read is present.
    if let Ok(py) = std::process::Command::new("python3").arg(&path).args(args).output() {
        if py.status.success() {
            let theirs = strip_timings(&String::from_utf8_lossy(&py.stdout));
            assert_eq!(ours, theirs, "{}: differs from a live CPython run", name);
        }
    }
}

/// Runs the warm-up variant of `name` with and without the JIT and checks it.
fn check_warmup_variant(name: &str, args: &[&str]) {
    let path = programs_dir().join("warmup").join(format!("{}.py", name));
    let src = std::fs::read_to_string(&path).unwrap();
    let file = path.to_str().unwrap();
    let expected = std::fs::read_to_string(programs_dir().join("expected").join(format!("{}.txt", name))).unwrap();
    let configs = [
        pylite::jit::JitConfig::off(),
        // Built on the host's thread, so the small test sizes surely compile.
        pylite::jit::JitConfig::with_params(pylite::jit::Params {
            background: 0,
            ..pylite::jit::Params::default()
        }),
    ];
    for config in configs {
        let (out, res, report) = pylite::run_capture_with(&src, file, args, &config);
        if let Err(e) = res {
            panic!("{} (jit {}) failed: {}", name, config.enabled, e);
        }
        assert_eq!(
            strip_timings(&strip_chunks(&out)),
            expected,
            "{} (jit {})",
            name,
            config.enabled
        );
        // One curve per timing line, in the same order, each ending at the loop's end.
        let timings: Vec<String> = pylite::bench::parse_timings(&out).into_iter().map(|t| t.0).collect();
        let curves = parse_chunks(&out).unwrap();
        let names: Vec<&String> = curves.iter().map(|c| &c.0).collect();
        assert_eq!(names, timings.iter().collect::<Vec<_>>(), "{}", name);
        for (timing, chunks) in &curves {
            assert!(chunks.len() >= 3, "{} {}: {:?}", name, timing, chunks);
            assert_eq!(chunks[0].end, 16, "{} {}", name, timing);
        }
        if config.enabled {
            assert!(report.loops > 0, "{}: nothing compiled", name);
            assert!(report.first_compiled_secs.is_some_and(|s| s > 0.0), "{}", name);
        } else {
            assert_eq!(report.first_compiled_secs, None);
        }
    }
}

fn timing_names(name: &str, args: &[&str]) -> Vec<String> {
    let path = programs_dir().join(format!("{}.py", name));
    let src = std::fs::read_to_string(&path).unwrap();
    let (out, _) = pylite::run_capture(&src, path.to_str().unwrap(), args);
    pylite::bench::parse_timings(&out).into_iter().map(|t| t.0).collect()
}

#[test]
fn pi() {
    check("pi", &["5"]);
    check_warmup_variant("pi", &["5"]);
    assert_eq!(timing_names("pi", &["3"]), ["pi"]);
}

#[test]
fn pi_blocker() {
    check("pi_blocker", &["5"]);
    check_warmup_variant("pi_blocker", &["5"]);
    assert_eq!(timing_names("pi_blocker", &["3"]), ["pi_native_call", "pi_python_call"]);
}

#[test]
fn data_driven() {
    check("data_driven", &["2000", "2"]);
    check_warmup_variant("data_driven", &["2000", "2"]);
    assert_eq!(timing_names("data_driven", &["10", "1"]), ["data_driven"]);
}

#[test]
fn pythagorean() {
    check("pythagorean", &["20000"]);
    check_warmup_variant("pythagorean", &["20000"]);
    assert_eq!(timing_names("pythagorean", &["100"]), ["loop", "gen", "iter"]);
}

#[test]
fn readpoly() {
    let dir = std::env::temp_dir().join(format!("pylite-readpoly-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("poly.bin");
    let data = data.to_str().unwrap();
    check("readpoly", &["3000", data]);
    check_warmup_variant("readpoly", &["3000", data]);
    assert_eq!(
        timing_names("readpoly", &["10", &format!("{}.small", data)]),
        ["read_loop", "read_proto"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
