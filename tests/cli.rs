//! The `leones` binary as a user runs it: exit codes, positioned errors, outcomes, and
//! hostile input that must produce an error message, never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn leones(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leones"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run leones")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn scratch(name: &str, contents: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("leones-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn check_accepts_a_valid_trace() {
    let o = leones(&["check", "tests/filetests/leibniz.ir"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("ok: trace leibniz with 1 block(s), 17 instruction(s), 1 guard(s)"),
        "{out}"
    );
}

#[test]
fn check_reports_verify_errors_with_position() {
    let o = leones(&["check", "tests/filetests/invalid/not_dominated.ir"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("not_dominated.ir:16:5: verify error (UseNotDominated)"),
        "{err}"
    );
}

#[test]
fn check_reports_parse_errors_with_position() {
    let o = leones(&["check", "tests/filetests/invalid/unexpected_token.ir"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("unexpected_token.ir:5:18: parse error (UnexpectedToken): expected `,`"),
        "{err}"
    );
}

#[test]
fn print_is_canonical() {
    let src = "trace t\n\nblock0(v7: i64):\n    v9 = iadd v7, v7\n    finish v9\n";
    let path = scratch("canon.ir", src.as_bytes());
    let o = leones(&["print", &path]);
    assert!(o.status.success());
    assert_eq!(
        text(&o).0,
        "trace t\n\nblock0(v0: i64):\n    v1 = iadd v0, v0\n    finish v1\n"
    );
}

#[test]
fn run_prints_the_exit_and_its_frames() {
    let o = leones(&[
        "run",
        "tests/filetests/sum_loop.ir",
        "--input",
        "i64:0",
        "--input",
        "i64:5",
        "--input",
        "0",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.starts_with("exit g0"), "{out}");
    assert!(out.contains("main@2(5, 5, 10)"), "{out}");
}

#[test]
fn run_prints_finish_values() {
    let o = leones(&["run", "tests/filetests/int_arith.ir", "-i", "7", "-i", "-2"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.starts_with("finish"), "{out}");
    assert!(out.contains("5, 9, -14, -3, 1, -7"), "{out}");
}

#[test]
fn run_faults_are_errors() {
    let o = leones(&["run", "tests/filetests/int_div_edge.ir", "-i", "5", "-i", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("division by zero"), "{}", text(&o).1);
}

#[test]
fn bad_inputs_are_errors() {
    for args in [
        vec!["run", "tests/filetests/int_arith.ir", "-i", "i64:x", "-i", "1"],
        vec!["run", "tests/filetests/int_arith.ir", "-i", "bool:5", "-i", "1"],
        vec!["run", "tests/filetests/int_arith.ir", "-i", "1"],
        vec!["run", "tests/filetests/int_arith.ir", "-i", "1.5", "-i", "1"],
    ] {
        let o = leones(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(!text(&o).1.is_empty(), "{args:?}: no message");
        assert!(!text(&o).1.contains("panicked"), "{args:?}: {}", text(&o).1);
    }
}

#[test]
fn hostile_files_are_errors_not_panics() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("missing.ir", Vec::new()),
        ("binary.ir", vec![0, 159, 146, 150, 255, 10, 3]),
        ("empty.ir", Vec::new()),
        (
            "deep.ir",
            format!("trace t\n\nblock0():\n    v0 = const {}\n", "9".repeat(10_000)).into_bytes(),
        ),
        ("unterminated.ir", b"trace t\nlayout P size".to_vec()),
        (
            "huge_block.ir",
            b"trace t\n\nblock99999999999(v0: i64):\n    finish v0\n".to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        let path = if name == "missing.ir" {
            "/nonexistent/leones/missing.ir".to_string()
        } else {
            scratch(name, &bytes)
        };
        let o = leones(&["check", &path]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(err.contains(&path), "{name}: the message names the file: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = leones(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(Path::new(env!("CARGO_BIN_EXE_leones")).exists());
}

#[test]
fn opt_peels_a_loop_and_reports_stats() {
    let o = leones(&["opt", "tests/filetests/leibniz.ir", "--stats"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    // The peeled form: a preamble entering the loop block by a forward edge.
    assert!(out.contains("goto block1("), "{out}");
    assert!(out.contains("jump block1("), "{out}");
    assert!(out.contains("; pass") && out.contains("; total"), "{out}");
}

#[test]
fn opt_rejects_unknown_passes() {
    let o = leones(&["opt", "tests/filetests/leibniz.ir", "--passes", "fold,bogus"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("unknown pass `bogus`"), "{}", text(&o).1);
}

#[test]
fn llvm_backend_runs_and_agrees_with_the_interpreter() {
    for level in ["quick", "optimized"] {
        let args = [
            "run",
            "tests/filetests/sum_loop.ir",
            "--backend",
            "llvm",
            "--level",
            level,
            "-i",
            "0",
            "-i",
            "5",
            "-i",
            "0",
        ];
        let o = leones(&args);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{level}: {err}");
        assert!(
            out.starts_with("exit g0") && out.contains("main@2(5, 5, 10)"),
            "{level}: {out}"
        );
    }
}

#[test]
fn llvm_backend_never_runs_an_ill_defined_trace() {
    // A load from an address nobody allocated: the checked interpreter reports it and
    // the native code is never run (it would crash the process).
    let src = "trace wild\n\nblock0():\n    v0 = const ptr(0x10)\n    v1 = load.i64 v0, 0\n    finish v1\n";
    let path = scratch("wild.ir", src.as_bytes());
    let o = leones(&["run", &path, "--backend", "llvm"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!text(&o).1.contains("panicked"), "{}", text(&o).1);
    let o = leones(&[
        "run",
        "tests/filetests/sum_loop.ir",
        "--backend",
        "llvm",
        "--level",
        "turbo",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("unknown level `turbo`"), "{}", text(&o).1);
}

#[test]
fn emit_llvm_prints_the_module() {
    let o = leones(&["emit-llvm", "tests/filetests/select.ir", "--after-passes"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("define i64 @"), "{out}");
    assert!(
        out.contains("!unpredictable"),
        "select.unpredictable keeps its metadata: {out}"
    );
}
