//! Compile-latency benchmark: median microseconds per unit for 50-, 100- and 500-op
//! loop traces at each level, split into lowering / LLVM passes / codegen / link.
//!
//! `cargo bench -p leones-backend-llvm --bench compile_latency` (prints a Markdown
//! table; the README keeps the last measured one). A second table times the *first*
//! 100-op unit of each level in fresh processes, after one quick unit as the engine's
//! warm-up builds: what a level's one-time LLVM set-up adds to its first unit. A
//! third table compiles units the engine built for the talk's programs
//! (`benches/traces/*.trace`, see [`talk_units`]): real units are denser in guards
//! than the generated ones and cost LLVM 2-3x more per instruction.

use leones_backend_llvm::{Backend, Level, Timings, UnitOptions};
use leones_ir::Trace;
use std::fmt::Write;

/// A loop trace of about `ops` instructions: integer and float arithmetic, field
/// loads and stores on an object, a guard with a two-frame snapshot every ~12 ops.
fn trace_of(ops: usize) -> Trace {
    let mut s = String::from(
        "trace bench\nlayout P size 24 class 0x51\nfield P.x: f64 @8\nfield P.n: i64 @16\n\
         frame main code 0x1 slots 4\nframe inner code 0x2 slots 2\n\n\
         block0(v0: i64, v1: i64, v2: i64, v3: f64, v4: ref):\n",
    );
    let mut n = 5; // next value number
    let mut count = 0;
    let (mut acc, mut facc) = (2usize, 3usize);
    let mut pc = 0;
    let mut v = |s: &mut String, text: String| -> usize {
        let _ = writeln!(s, "    v{n} = {text}");
        n += 1;
        n - 1
    };
    while count + 13 + 3 <= ops {
        let c = v(&mut s, format!("const {}", 3 + pc));
        let a = v(&mut s, format!("iadd v{acc}, v0"));
        let b = v(&mut s, format!("imul v{a}, v{c}"));
        let x = v(&mut s, format!("ixor v{b}, v1"));
        let cmp = v(&mut s, "ilt v0, v1".into());
        let _ = writeln!(
            s,
            "    guard_true v{cmp} [main@{pc}(v0, v1, v{x}, v{facc}), inner@{pc}(v4, 7)]"
        );
        let fx = v(&mut s, format!("i2f v{x}"));
        let half = v(&mut s, "const 0.5".into());
        let f1 = v(&mut s, format!("fmul v{fx}, v{half}"));
        let old = v(&mut s, "getfield v4, P.x".into());
        let f2 = v(&mut s, format!("fadd v{old}, v{f1}"));
        let _ = writeln!(s, "    setfield v4, P.x, v{f2}");
        let sh = v(&mut s, format!("ishr v{x}, v{c}"));
        acc = sh;
        facc = f2;
        count += 13;
        pc += 1;
    }
    // Pad with cheap integer ops so the trace has exactly `ops` instructions
    // (the last three are `const 1`, the increment and the `jump`).
    while count + 3 < ops {
        acc = v(&mut s, format!("iadd v{acc}, v1"));
        count += 1;
    }
    let one = v(&mut s, "const 1".into());
    let next = v(&mut s, format!("iadd v0, v{one}"));
    let _ = writeln!(s, "    jump block0(v{next}, v1, v{acc}, v{facc}, v4)");
    leones_ir::parse(&s).expect("benchmark trace parses")
}

/// Compiles `trace` `warm + reps` times with `backend` (removing each unit again) and
/// returns the last `reps` units' timings and the code bytes: the first `warm` warm up
/// caches and the JIT.
fn warm_compiles(backend: &mut Backend, trace: &Trace, warm: usize, reps: usize) -> (Vec<Timings>, u64) {
    let mut runs = Vec::with_capacity(reps);
    let mut code_bytes = 0;
    for i in 0..warm + reps {
        let u = backend.compile(trace, &UnitOptions::default()).expect("compiles");
        backend.remove(u.id).expect("removes");
        code_bytes = u.code_bytes;
        if i >= warm {
            runs.push(u.timings);
        }
    }
    (runs, code_bytes)
}

fn median(mut xs: Vec<u64>) -> u64 {
    xs.sort_unstable();
    xs[xs.len() / 2]
}

/// Set in the child processes [`first_unit_us`] starts: the level whose first unit
/// they time.
const FIRST_ENV: &str = "LEONES_BENCH_FIRST_UNIT";

/// In a fresh process: one 50-op unit at the quick level (what the engine's compiler
/// thread does to warm up, `llvm_warm_up`), then the first 100-op unit at `level`;
/// prints that unit's total microseconds.
fn time_first_unit(level: Level) {
    let mut backend = Backend::new(Level::Optimized).expect("backend");
    let quick = UnitOptions {
        level: Some(Level::Quick),
        ..UnitOptions::default()
    };
    backend.compile(&trace_of(50), &quick).expect("warm-up compiles");
    let opts = UnitOptions {
        level: Some(level),
        ..UnitOptions::default()
    };
    let u = backend.compile(&trace_of(100), &opts).expect("compiles");
    println!("{}", u.timings.total_us());
}

/// Median over `runs` fresh processes of [`time_first_unit`] at `level`: what the
/// first unit of a level costs once LLVM is warm at the quick level only (the
/// one-time set-up of the level's passes and code generator falls on it).
fn first_unit_us(level: Level, runs: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let mut xs = Vec::new();
    for _ in 0..runs {
        let out = std::process::Command::new(&exe)
            .env(FIRST_ENV, level.name())
            .output()
            .ok()?;
        xs.push(String::from_utf8_lossy(&out.stdout).trim().parse().ok()?);
    }
    Some(median(xs))
}

/// The talk programs' units in `benches/traces/`: for each, its guards and the warm
/// median of `reps` compiles at each level (total µs, code bytes). They were written
/// by `LEONES_LOG=opt` (the trace as the optimizer hands it to the backend) from
/// `pylite run --jit on pylite/programs/<program>.py`, so they embed that process's
/// host addresses: fine for compiling, never to be run.
fn talk_units(reps: usize) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/traces");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("benches/traces is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "trace"));
    files.sort();
    let mut table = String::from("\n| unit | IR insts | guards |");
    for level in Level::ALL {
        let _ = write!(table, " {0} µs | {0} code bytes |", level.name());
    }
    table.push_str("\n|---|---:|---:|");
    table.push_str(&"---:|---:|".repeat(Level::ALL.len()));
    table.push('\n');
    let mut backends: Vec<Backend> = Level::ALL.iter().map(|&l| Backend::new(l).expect("backend")).collect();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("trace file reads");
        let trace = leones_ir::parse(&text).expect("trace file parses");
        let name = file
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned());
        let mut cells = Vec::new();
        for backend in backends.iter_mut() {
            let (runs, code) = warm_compiles(backend, &trace, 3, reps);
            cells.push(format!(
                "{} | {code}",
                median(runs.iter().map(Timings::total_us).collect())
            ));
        }
        let _ = writeln!(
            table,
            "| {name} | {} | {} | {} |",
            trace.inst_count(),
            trace.guards().len(),
            cells.join(" | ")
        );
    }
    table
}

fn main() {
    if let Some(level) = std::env::var(FIRST_ENV).ok().and_then(|l| Level::from_name(&l)) {
        return time_first_unit(level);
    }
    let mut table = String::from(
        "| level | ops | lower µs | passes µs | codegen µs | link µs | total µs (median) |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for level in Level::ALL {
        let mut backend = Backend::new(level).expect("backend");
        for target in [50usize, 100, 500] {
            let trace = trace_of(target);
            let reps = if target >= 500 { 60 } else { 200 };
            let (runs, _) = warm_compiles(&mut backend, &trace, 10, reps);
            let m = |f: fn(&Timings) -> u64| median(runs.iter().map(f).collect());
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} | {} |",
                level.name(),
                trace.inst_count(),
                m(|t| t.lower_us),
                m(|t| t.passes_us),
                m(|t| t.codegen_us),
                m(|t| t.link_us),
                m(|t| t.total_us()),
            );
        }
    }
    print!("{table}");
    let mut first = String::from(
        "\n| level | ops | first unit after a quick warm-up, µs (median of 7 processes) |\n|---|---:|---:|\n",
    );
    for level in Level::ALL {
        let us = first_unit_us(level, 7).map_or("n/a".to_string(), |us| us.to_string());
        let _ = writeln!(first, "| {} | {} | {us} |", level.name(), trace_of(100).inst_count());
    }
    print!("{first}");
    print!("{}", talk_units(30));
}
