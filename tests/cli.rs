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

/// Every sub-command that reads a trace file.
const FILE_COMMANDS: [&[&str]; 5] = [
    &["check"],
    &["print"],
    &["opt"],
    &["run", "--backend", "llvm"],
    &["emit-llvm"],
];

/// Runs `leones CMD FILE` for every command in [`FILE_COMMANDS`]; returns each exit
/// code with stderr, having checked that nothing panicked or crashed.
fn every_command(path: &str) -> Vec<(Option<i32>, String)> {
    FILE_COMMANDS
        .iter()
        .map(|cmd| {
            let mut args = cmd.to_vec();
            args.insert(1, path);
            let o = leones(&args);
            let (_, err) = text(&o);
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(o.status.code().is_some(), "{args:?}: killed by a signal: {err}");
            (o.status.code(), err)
        })
        .collect()
}

#[test]
fn hostile_files_are_rejected_by_every_command() {
    let huge_hex = "trace t\n\nblock0():\n    v0 = const 0x1ffffffffffffffff\n    finish v0\n";
    let huge_neg = "trace t\n\nblock0():\n    v0 = const -9223372036854775809\n    finish v0\n";
    let huge_offset = "trace t\n\nblock0(v0: ptr):\n    v1 = load.i64 v0, 99999999999999999999\n    finish v1\n";
    let huge_layout = "trace t\nlayout P size 4000000000\n\nblock0():\n    v0 = new P\n    finish v0\n";
    let huge_frame = "trace t\nframe main code 0x1 slots 4000000000\n\nblock0(v0: i64):\n    v1 = const true\n    guard_true v1 [main@0(v0)]\n    finish v0\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage.ir", vec![0, 159, 146, 150, 255, 10, 3], "cannot read"),
        ("nul.ir", b"trace t\n\nblock0():\n\0  finish\n".to_vec(), "parse error"),
        ("empty.ir", Vec::new(), "parse error (UnexpectedToken)"),
        ("huge_hex.ir", huge_hex.into(), "4:16: parse error (BadLiteral)"),
        ("huge_neg.ir", huge_neg.into(), "4:16: parse error (BadLiteral)"),
        ("huge_offset.ir", huge_offset.into(), "parse error (BadLiteral)"),
        (
            "huge_layout.ir",
            huge_layout.into(),
            "2:1: verify error (BadDescriptor)",
        ),
        ("huge_frame.ir", huge_frame.into(), "verify error (BadSnapshot)"),
        (
            "unbalanced.ir",
            format!("trace t\n\nblock0({}", "(".repeat(100_000)).into_bytes(),
            "parse error",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = scratch(name, &bytes);
        for (cmd, (code, err)) in FILE_COMMANDS.iter().zip(every_command(&path)) {
            assert_eq!(code, Some(1), "{name} {cmd:?}: {err}");
            assert!(err.contains(want), "{name} {cmd:?}: want {want:?} in: {err}");
            assert!(err.contains(&path), "{name} {cmd:?}: the message names the file: {err}");
        }
    }
    // The verifier's own invalid filetests: every command reports the same error.
    let invalid = "tests/filetests/invalid/not_dominated.ir";
    for (cmd, (code, err)) in FILE_COMMANDS.iter().zip(every_command(invalid)) {
        assert_eq!(code, Some(1), "{cmd:?}: {err}");
        assert!(err.contains("16:5: verify error (UseNotDominated)"), "{cmd:?}: {err}");
    }
}

/// A long chain of blocks and a deep nest of diamonds: everything still works (in
/// about linear time, without deep recursion).
#[test]
fn huge_and_deeply_nested_traces_work() {
    let n = 20_000;
    let mut chain = String::from("trace chain\n\nblock0(v0: i64):\n");
    let mut nest = String::from("trace nest\n\nblock0(v0: bool, v1: i64):\n");
    for i in 0..n {
        chain += &format!(
            "    v{} = iadd v{i}, v0\n    goto block{}(v{})\n\nblock{}(v{}: i64):\n",
            n + i + 1,
            i + 1,
            n + i + 1,
            i + 1,
            i + 1
        );
        nest += &format!(
            "    br v0, block{}(), block{}()\n\nblock{}():\n    goto block{}()\n\nblock{}():\n",
            2 * i + 1,
            2 * i + 2,
            2 * i + 1,
            2 * i + 2,
            2 * i + 2
        );
    }
    chain += &format!("    finish v{n}\n");
    nest += "    finish v1\n";
    for (name, src, inputs) in [
        ("chain.ir", chain, vec!["-i", "3"]),
        ("nest.ir", nest, vec!["-i", "true", "-i", "7"]),
    ] {
        let path = scratch(name, src.as_bytes());
        for cmd in [&["check"][..], &["print"], &["opt"]] {
            let mut args = cmd.to_vec();
            args.push(&path);
            let o = leones(&args);
            assert!(o.status.success(), "{name} {cmd:?}: {}", text(&o).1);
        }
        let mut args = vec!["run", &path];
        args.extend(&inputs);
        let o = leones(&args);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{name}: {err}");
        // chain: adds v0 = 3 once per block to 3; nest: finishes with v1.
        let want = if name == "chain.ir" {
            (0..n).fold(3i64, |x, _| x.wrapping_add(3)).to_string()
        } else {
            "7".into()
        };
        assert!(out.starts_with(&format!("finish {want}")), "{name}: {out}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = leones(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(Path::new(env!("CARGO_BIN_EXE_leones")).exists());
}

#[test]
fn opt_peels_a_loop_only_when_it_pays_and_reports_stats() {
    // Leibniz's loop uses nothing invariant: peeled, its loop would be as long as its
    // preamble, so the default pipeline leaves it one loop block, as the engine would.
    let o = leones(&["opt", "tests/filetests/leibniz.ir", "--stats"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("jump block0(") && !out.contains("block1("), "{out}");
    assert!(out.contains("; pass") && out.contains("; total"), "{out}");
    // Named passes run as named: the peeled form, a preamble entering the loop block by
    // a forward edge.
    let o = leones(&["opt", "tests/filetests/leibniz.ir", "--passes", "peel,fold,cse"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("goto block1("), "{out}");
    assert!(out.contains("jump block1("), "{out}");
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

/// `leones graph ARGS` in `dir`, with `PATH` set to `path` when given.
fn leones_graph(args: &[&str], path: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leones"));
    cmd.arg("graph").args(args).env_remove("LEONES_LOG");
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.output().expect("run leones")
}

/// A directory holding one small DOT graph, fresh for each test.
fn graph_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("leones-cli-graph-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("loop7.dot"),
        "digraph \"loop7\" {\n  root [label=\"loop7\"];\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn graph_without_graphviz_leaves_the_dot_files_and_says_so() {
    let dir = graph_dir("nogv");
    let empty = std::env::temp_dir().join(format!("leones-cli-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let o = leones_graph(&[dir.to_str().unwrap()], Some(empty.to_str().unwrap()));
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("loop7.dot") && out.contains("not on PATH"), "{out}");
    assert!(!dir.join("loop7.svg").exists());
}

#[test]
fn graph_renders_svg_when_graphviz_is_installed() {
    let dir = graph_dir("gv");
    if leones::engine::graph::Graphviz::find().is_none() {
        eprintln!("Graphviz is not installed: nothing to render with");
        return;
    }
    let dot = dir.join("loop7.dot");
    let o = leones_graph(&[dot.to_str().unwrap()], None);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("loop7.svg"), "{out}");
    let svg = std::fs::read_to_string(dir.join("loop7.svg")).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
}

#[test]
fn graph_rejects_missing_files_and_misuse() {
    let o = leones_graph(&["/no/such/graphs"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("/no/such/graphs: cannot read"), "{:?}", text(&o));
    let empty = std::env::temp_dir().join(format!("leones-cli-nodot-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let o = leones_graph(&[empty.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("no .dot files"), "{:?}", text(&o));
    // Neither paths nor a command, or both.
    assert_eq!(leones_graph(&[], None).status.code(), Some(2));
    assert_eq!(
        leones_graph(&["x.dot", "--out", "d", "--", "true"], None).status.code(),
        Some(2)
    );
}

#[test]
fn graph_runs_a_command_with_leones_log_set_and_passes_its_status() {
    let dir = std::env::temp_dir().join(format!("leones-cli-graph-run-{}", std::process::id()));
    let seen = dir.with_extension("env");
    let script = format!("echo \"$LEONES_LOG\" > {}; exit 3", seen.display());
    let o = leones_graph(&["--out", dir.to_str().unwrap(), "--", "sh", "-c", &script], None);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    let spec = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(spec.trim(), format!("graph:{}", dir.display()));
    assert!(text(&o).1.contains("no graphs in"), "{:?}", text(&o));
}

#[test]
fn graph_log_spec_joins_an_existing_leones_log() {
    use leones::cli::graph::graph_log_spec;
    let d = Path::new("/tmp/g");
    assert_eq!(graph_log_spec(None, d).unwrap(), "graph:/tmp/g");
    assert_eq!(graph_log_spec(Some(""), d).unwrap(), "graph:/tmp/g");
    assert_eq!(graph_log_spec(Some("summary"), d).unwrap(), "summary,graph=/tmp/g");
    assert_eq!(
        graph_log_spec(Some("summary:/tmp/l.log"), d).unwrap(),
        "summary,graph=/tmp/g:/tmp/l.log"
    );
    assert!(graph_log_spec(Some("summary"), Path::new("/tmp/a:b")).is_err());
    // An existing spec that already asks for graphs cannot ask twice.
    let e = graph_log_spec(Some("graph=/x"), d).unwrap_err().to_string();
    assert!(e.contains("a second graph directory"), "{e}");
}
