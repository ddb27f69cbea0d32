//! Profiling and debugging pylite's JIT code with the real tools (`docs/profiling.md`).
//!
//! - `perf`: `perf record` of a hot loop run with `LEONES_LOG=perf`; `perf report` must
//!   name the samples in JIT code after the unit's label (`leones loop.optimized
//!   spin:4 (...)`, read from the perf map pylite wrote).
//! - `gdb`: a breakpoint in the host function compiled code calls for a residual
//!   call; with `LEONES_LOG=gdb` the caller's frame is the unit's symbol
//!   (`leones_unitN`), the backtrace goes on through it into the engine, and the log
//!   says which label the symbol stands for; without it gdb cannot name it (`??`).
//!
//! Each test first checks that its tool works here (installed, and allowed to sample
//! or trace a trivial process); when it does not, the test prints why and passes —
//! these tests check Leones, not the machine. When the tool works, the test must see
//! the names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A hot loop summing `i % 7` for `i < n` in a function `spin`; with `native_call`,
/// its body also calls a native builtin (compiled code then calls pylite's `call0`).
/// The loop's `while` is on line 4, or 7 with the call (its import comes first).
fn spin_program(n: u64, native_call: bool) -> String {
    let (import, call) = if native_call {
        (
            "from pylite_builtins import opaque_noop\n\n\n",
            "        opaque_noop()\n",
        )
    } else {
        ("", "")
    };
    format!(
        "{import}def spin(n):\n    total = 0\n    i = 0\n    while i < n:\n        total = total + i % 7\n\
         {call}        i = i + 1\n    return total\n\n\nprint(spin({n}))\n"
    )
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pylite-profiling-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pylite() -> &'static str {
    env!("CARGO_BIN_EXE_pylite")
}

/// Runs `cmd`; `None` if it cannot be started at all.
fn output(cmd: &mut Command) -> Option<Output> {
    cmd.output().ok()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Why `perf record` cannot sample here, or `None` if it can.
fn perf_unusable(dir: &Path) -> Option<String> {
    let data = dir.join("probe.data");
    let probe = output(
        Command::new("perf")
            .args(["record", "-q", "-e", "cpu-clock", "-o"])
            .arg(&data)
            .arg("true"),
    );
    match probe {
        None => Some("perf is not installed".into()),
        Some(out) if !out.status.success() => Some(format!("`perf record` fails here: {}", text(&out).trim())),
        Some(_) => None,
    }
}

#[test]
fn perf_report_names_jit_code_after_the_units_label() {
    let dir = scratch("perf");
    if let Some(why) = perf_unusable(&dir) {
        eprintln!("skipped: {why}");
        return;
    }
    let program = dir.join("spin.py");
    std::fs::write(&program, spin_program(100_000_000, false)).unwrap();
    let data = dir.join("perf.data");
    let run = output(
        Command::new("perf")
            .args(["record", "-q", "-e", "cpu-clock", "-o"])
            .arg(&data)
            .arg(pylite())
            .arg("run")
            .arg(&program)
            .env("LEONES_LOG", "perf"),
    )
    .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("299999995"),
        "{}",
        text(&run)
    );
    let report = output(
        Command::new("perf")
            .args(["report", "--stdio", "--sort", "dso,sym", "-i"])
            .arg(&data),
    )
    .unwrap();
    let report = text(&report);
    // `[JIT] tid <pid>`: the map perf read is /tmp/perf-<pid>.map, ours to remove.
    if let Some(pid) = report
        .split("[JIT] tid ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
    {
        let _ = std::fs::remove_file(format!("/tmp/perf-{pid}.map"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let jit_line = report.lines().find(|l| l.contains("[JIT]") && l.contains("leones "));
    let jit_line = jit_line.unwrap_or_else(|| panic!("no named JIT code in the report:\n{report}"));
    assert!(jit_line.contains(" spin:4 ("), "{jit_line}");
    // The hot loop is where the time goes.
    let share: f64 = jit_line.trim().split('%').next().unwrap().parse().unwrap();
    assert!(share > 20.0, "{jit_line}");
}

/// gdb's backtrace at the residual call's host function, with `LEONES_LOG` = `log`:
/// `Err(why)` if gdb cannot debug a process here.
fn backtrace_at_call0(dir: &Path, log: &str) -> Result<String, String> {
    let program = dir.join("blocker.py");
    std::fs::write(&program, spin_program(3000, true)).unwrap();
    let gdb = |args: &[&str], target: &[&std::ffi::OsStr], log: &str| {
        let mut cmd = Command::new("gdb");
        cmd.args(["-batch", "-nx"]).args(args).arg("--args").args(target);
        // Built on this thread at the optimized level: the first unit is the loop.
        output(
            cmd.env("LEONES_LOG", log)
                .env("LEONES_PARAMS", "background=off,tier_up=0"),
        )
    };
    let probe = gdb(&["-ex", "run"], &["true".as_ref()], "").ok_or("gdb is not installed")?;
    if !text(&probe).contains("exited normally") {
        return Err(format!("gdb cannot run a process here: {}", text(&probe).trim()));
    }
    let commands = ["-ex", "break pylite::jit::natives::call0", "-ex", "run", "-ex", "bt 3"];
    let target = [pylite().as_ref(), "run".as_ref(), program.as_os_str()];
    Ok(text(&gdb(&commands, &target, log).expect("gdb ran before")))
}

#[test]
fn gdb_names_jit_frames_when_the_gdb_interface_is_on() {
    let dir = scratch("gdb");
    let with = backtrace_at_call0(&dir, "gdb");
    let without = backtrace_at_call0(&dir, "");
    let _ = std::fs::remove_dir_all(&dir);
    let (with, without) = match (with, without) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(why), _) | (_, Err(why)) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let frame = |bt: &str, n: usize| {
        let prefix = format!("#{n} ");
        let line = bt.lines().find(|l| l.starts_with(&prefix)).map(str::to_string);
        line.unwrap_or_else(|| panic!("no frame {n} in the backtrace:\n{bt}"))
    };
    assert!(frame(&with, 1).contains(" in leones_unit"), "{with}");
    // The unit's unwind table lets gdb walk on into the engine that entered it.
    assert!(frame(&with, 2).contains("Engine::run_native"), "{with}");
    // The log names the unit (stderr, where gdb's output goes too).
    assert!(
        with.contains("; gdb: leones_unit0 is leones loop.optimized spin:7 ("),
        "{with}"
    );
    assert!(frame(&without, 1).contains(" in ?? ("), "{without}");
}
