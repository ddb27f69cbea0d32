//! The talk's programs at small sizes: pylite's output (timing lines dropped)
//! must equal the checked-in CPython output in `programs/expected/`, and, when
//! `python3` is installed, a live CPython run.

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

fn timing_names(name: &str, args: &[&str]) -> Vec<String> {
    let path = programs_dir().join(format!("{}.py", name));
    let src = std::fs::read_to_string(&path).unwrap();
    let (out, _) = pylite::run_capture(&src, path.to_str().unwrap(), args);
    pylite::bench::parse_timings(&out).into_iter().map(|t| t.0).collect()
}

#[test]
fn pi() {
    check("pi", &["5"]);
    assert_eq!(timing_names("pi", &["3"]), ["pi"]);
}

#[test]
fn pi_blocker() {
    check("pi_blocker", &["5"]);
    assert_eq!(timing_names("pi_blocker", &["3"]), ["pi_native_call", "pi_python_call"]);
}

#[test]
fn data_driven() {
    check("data_driven", &["2000", "2"]);
    assert_eq!(timing_names("data_driven", &["10", "1"]), ["data_driven"]);
}

#[test]
fn pythagorean() {
    check("pythagorean", &["20000"]);
    assert_eq!(timing_names("pythagorean", &["100"]), ["loop", "gen", "iter"]);
}

#[test]
fn readpoly() {
    let dir = std::env::temp_dir().join(format!("pylite-readpoly-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("poly.bin");
    let data = data.to_str().unwrap();
    check("readpoly", &["3000", data]);
    assert_eq!(
        timing_names("readpoly", &["10", &format!("{}.small", data)]),
        ["read_loop", "read_proto"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
