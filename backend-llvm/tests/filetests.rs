//! Differential test over the repository's filetests: every valid
//! `tests/filetests/*.ir` with every `; run:` line gives the same outcome (finish
//! values, exit guard, exit frames, virtuals, exception flag, reachable heap) under
//! the reference interpreter and natively at every level (a peeled loop also with
//! its preamble split off at the optimized level). The filetest runner's host
//! functions (`add hypot check getx tick`) are mirrored as `extern "C"` functions.

mod common;

use common::{backends, differential, Verdict};
use leones_backend_llvm::{HostHooks, Level, UnitOptions};
use leones_ir::interp::{CallResult, Fault, FnTable, Heap, Val};
use leones_ir::{Const, MemType, Trace, Type};
use std::cell::Cell;
use std::path::Path;

thread_local! {
    static RAISED: Cell<bool> = const { Cell::new(false) };
}

extern "C" fn n_add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}
extern "C" fn n_hypot(a: f64, b: f64) -> f64 {
    (a * a + b * b).sqrt()
}
extern "C" fn n_check(x: i64) -> i64 {
    if x < 0 {
        RAISED.with(|r| r.set(true));
        0
    } else {
        x.wrapping_mul(2)
    }
}
extern "C" fn n_getx(p: u64) -> f64 {
    // SAFETY: filetests pass live objects with an f64 at offset 8.
    unsafe { ((p + 8) as *const f64).read_unaligned() }
}
extern "C" fn n_tick() {}
unsafe extern "C" fn n_take_exception() -> i64 {
    RAISED.with(|r| r.replace(false)) as i64
}

fn native_addr(name: &str) -> u64 {
    match name {
        "add" => n_add as extern "C" fn(i64, i64) -> i64 as usize as u64,
        "hypot" => n_hypot as extern "C" fn(f64, f64) -> f64 as usize as u64,
        "check" => n_check as extern "C" fn(i64) -> i64 as usize as u64,
        "getx" => n_getx as extern "C" fn(u64) -> f64 as usize as u64,
        "tick" => n_tick as extern "C" fn() as usize as u64,
        _ => 0,
    }
}

/// The filetest runner's interpreter host functions (same behaviour as above).
fn host() -> FnTable {
    let ok = |v: Val| Ok(CallResult::ret(v));
    FnTable::new()
        .add("add", move |_, a: &[Val]| match a {
            [Val::I64(x), Val::I64(y)] => ok(Val::I64(x.wrapping_add(*y))),
            _ => Err(Fault::Host("add".into())),
        })
        .add("hypot", move |_, a: &[Val]| match a {
            [Val::F64(x), Val::F64(y)] => ok(Val::F64((x * x + y * y).sqrt())),
            _ => Err(Fault::Host("hypot".into())),
        })
        .add("check", move |_, a: &[Val]| match a {
            [Val::I64(x)] if *x < 0 => Ok(CallResult {
                value: Some(Val::I64(0)),
                raised: true,
            }),
            [Val::I64(x)] => ok(Val::I64(x.wrapping_mul(2))),
            _ => Err(Fault::Host("check".into())),
        })
        .add("getx", move |heap: &mut Heap, a: &[Val]| match a {
            [Val::Ref(p)] => ok(heap.load(p.wrapping_add(8), MemType::F64)?),
            _ => Err(Fault::Host("getx".into())),
        })
        .add("tick", move |_, _: &[Val]| Ok(CallResult::unit()))
}

/// A literal input, as the CLI parses it (`5`, `-2.5`, `true`, `null`, `i64:5`, `f64:3`).
fn parse_literal(s: &str) -> Val {
    let (ty, lit) = match s.split_once(':') {
        Some((t, l)) => (Type::from_name(t), l),
        None => (None, s),
    };
    let probe = format!("trace input\n\nblock0():\n    v0 = const {lit}\n    finish v0\n");
    let parsed = leones_ir::parse(&probe).unwrap_or_else(|e| panic!("input `{s}`: {e}"));
    let leones_ir::Op::Const(k) = parsed.blocks[0].insts[0].op else {
        panic!("input `{s}`")
    };
    let k = match (ty, k) {
        (Some(Type::F64), Const::I64(i)) => Const::F64(i as f64),
        (Some(Type::Ref), Const::I64(a)) => Const::Ref(a as u64),
        (Some(Type::Ptr), Const::I64(a)) => Const::Ptr(a as u64),
        (Some(Type::Ptr), Const::Ref(a)) => Const::Ptr(a),
        (_, k) => k,
    };
    Val::from_const(k)
}

/// Builds a run line's inputs (`new:L`, `array:A:len`, `raw:size` or a literal).
fn build_inputs(trace: &Trace, heap: &mut Heap, inputs: &[String]) -> Vec<Val> {
    inputs
        .iter()
        .map(|s| match s.split(':').collect::<Vec<_>>().as_slice() {
            ["new", l] => Val::Ref(heap.alloc_object(trace.layout(trace.layout_named(l).expect("layout")))),
            ["array", a, n] => {
                Val::Ref(heap.alloc_array(trace.array(trace.array_named(a).expect("array")), n.parse().unwrap()))
            }
            ["raw", n] => Val::Ptr(heap.alloc_raw(n.parse().unwrap())),
            _ => parse_literal(s),
        })
        .collect()
}

fn run_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix(';')
                .map(str::trim)
                .and_then(|r| r.strip_prefix("run:"))
        })
        .map(|r| {
            r.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect()
}

#[test]
fn every_filetest_agrees_with_the_interpreter_at_both_levels() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/filetests");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "ir"));
    files.sort();
    assert!(files.len() >= 20, "filetests not found in {}", dir.display());
    let mut backends = backends();
    let hooks = HostHooks {
        take_exception: Some(n_take_exception),
        interrupt: None,
    };
    let (mut compared, mut skipped, mut split_runs) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut native = trace.clone();
        for c in &mut native.calls {
            c.addr = native_addr(&c.name);
        }
        // A peeled loop is also built split at the optimized level: preamble as
        // baseline code, loop apart (`UnitOptions::split_preamble`).
        let split = leones_ir::cfg::loop_start(&trace).is_some();
        for run in run_lines(&text) {
            for b in &mut backends {
                let mut options = vec![UnitOptions::default()];
                if split && b.level() == Level::Optimized {
                    options.push(UnitOptions {
                        split_preamble: true,
                        ..UnitOptions::default()
                    });
                    split_runs += 1;
                }
                for opts in &options {
                    let inputs = |h: &mut Heap| build_inputs(&trace, h, &run);
                    match differential(b, opts, &trace, &native, &inputs, host(), &hooks, 1_000_000) {
                        Ok(Verdict::Same(_)) => compared += 1,
                        Ok(Verdict::Skipped(_)) => skipped += 1,
                        Err(e) => failures.push(format!("{} {run:?}: {e}", path.display())),
                    }
                }
            }
        }
    }
    eprintln!(
        "filetests: {compared} runs compared ({split_runs} with a split preamble), {skipped} skipped (interpreter memory faults)"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(compared > 80);
    assert!(split_runs >= 3, "no filetest was built with a split preamble");
}
