//! The baseline level beyond what the generated and file differential tests cover
//! (they run every level, baseline included): host calls with more arguments than
//! registers, which level a unit really gets, and bad input.

mod common;

use common::{backends, differential, Verdict};
use leones_backend_llvm::{Backend, BackendError, HostHooks, Level, UnitOptions};
use leones_ir::interp::{CallResult, FnTable, Val};

/// 8 integers and 9 floats, interleaved: two integers and one float go on the stack
/// (SysV has 6 integer and 8 float argument registers). Each argument gets its own
/// weight, so a swapped or dropped argument changes the result.
extern "C" fn weigh17(
    a0: i64,
    f0: f64,
    a1: i64,
    f1: f64,
    a2: i64,
    f2: f64,
    a3: i64,
    f3: f64,
    a4: i64,
    f4: f64,
    a5: i64,
    f5: f64,
    a6: i64,
    f6: f64,
    a7: i64,
    f7: f64,
    f8: f64,
) -> f64 {
    let ints = [a0, a1, a2, a3, a4, a5, a6, a7];
    let floats = [f0, f1, f2, f3, f4, f5, f6, f7, f8];
    weigh(&ints, &floats)
}

fn weigh(ints: &[i64], floats: &[f64]) -> f64 {
    let mut s = 0.0;
    for (k, a) in ints.iter().enumerate() {
        s += (k as f64 + 1.0) * *a as f64;
    }
    for (k, f) in floats.iter().enumerate() {
        s += (k as f64 + 100.0) * f;
    }
    s
}

fn call_trace(addr: u64) -> leones_ir::Trace {
    let mut params = Vec::new();
    for _ in 0..8 {
        params.push("i64, f64");
    }
    let text = format!(
        "trace many_args
call weigh17({}, f64) -> f64 addr {addr:#x} effects(pure)

block0(v0: i64, v1: f64):
    v2 = const 3
    v3 = imul v0, v2
    v4 = const 0.5
    v5 = fadd v1, v4
    v6 = call weigh17(v0, v1, v3, v5, v0, v1, v3, v5, v0, v1, v3, v5, v0, v1, v3, v5, v1)
    finish v6
",
        params.join(", ")
    );
    leones_ir::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn host_calls_with_stack_arguments_agree_at_every_level() {
    let native = call_trace(weigh17 as *const () as usize as u64);
    let interp = call_trace(0);
    for mut backend in backends() {
        let mut host = FnTable::new();
        host.insert("weigh17", |_, args: &[Val]| {
            let (mut ints, mut floats) = (Vec::new(), Vec::new());
            for a in args {
                match a {
                    Val::I64(i) => ints.push(*i),
                    Val::F64(f) => floats.push(*f),
                    other => panic!("unexpected argument {other:?}"),
                }
            }
            Ok(CallResult::ret(Val::F64(weigh(&ints, &floats))))
        });
        let inputs = |_: &mut leones_ir::interp::Heap| vec![Val::I64(-7), Val::F64(2.25)];
        let verdict = differential(
            &mut backend,
            &interp,
            &native,
            &inputs,
            host,
            &HostHooks::default(),
            1000,
        );
        match verdict {
            Ok(Verdict::Same(s)) => assert!(s.contains("finish"), "{:?}: {s}", backend.level()),
            other => panic!("{:?}: {other:?}", backend.level()),
        }
    }
}

#[test]
fn baseline_units_are_generated_without_llvm() {
    let trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    v1 = iadd v0, v0\n    finish v1\n").unwrap();
    let mut backend = Backend::new(Level::Baseline).unwrap();
    let unit = backend.compile(&trace, &UnitOptions::default()).unwrap();
    assert_eq!(unit.level, Level::Baseline);
    // No LLVM phases: lowering to LLVM IR and its passes take no time at all.
    assert_eq!((unit.timings.lower_us, unit.timings.passes_us), (0, 0));
    assert!(unit.code_bytes > 0 && unit.entry_bytes > 0 && unit.entry_bytes <= unit.code_bytes);
    // Any level can be asked for per unit.
    let quick = backend
        .compile(
            &trace,
            &UnitOptions {
                level: Some(Level::Quick),
                ..UnitOptions::default()
            },
        )
        .unwrap();
    assert_eq!(quick.level, Level::Quick);
}

#[test]
fn a_debugger_gets_quick_units_instead_of_baseline_ones() {
    // Baseline code has no unwind table for gdb to walk.
    let trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    finish v0\n").unwrap();
    let mut backend = Backend::new(Level::Baseline).unwrap();
    backend.enable_debugger_support().unwrap();
    let unit = backend.compile(&trace, &UnitOptions::default()).unwrap();
    assert_eq!(unit.level, Level::Quick);
}

#[test]
fn bad_traces_are_errors_at_the_baseline_level() {
    let mut backend = Backend::new(Level::Baseline).unwrap();
    // Uses a value that is never defined: the verifier refuses it.
    let mut trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    v1 = iadd v0, v0\n    finish v1\n").unwrap();
    trace.blocks[0].insts[0].result = None;
    let err = backend.compile(&trace, &UnitOptions::default()).unwrap_err();
    assert!(matches!(err, BackendError::InvalidTrace(_)), "{err}");
    // A call without an address cannot be made natively.
    let no_addr = call_trace(0);
    let err = backend.compile(&no_addr, &UnitOptions::default()).unwrap_err();
    assert!(matches!(err, BackendError::NoCallAddress { .. }), "{err}");
    assert_eq!(backend.unit_count(), 0);
}

#[test]
fn there_is_no_llvm_ir_to_emit_at_the_baseline_level() {
    let trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    finish v0\n").unwrap();
    let mut backend = Backend::new(Level::Baseline).unwrap();
    let err = backend.emit_llvm(&trace, &UnitOptions::default()).unwrap_err();
    assert_eq!(err, BackendError::NoLlvmIr("baseline"));
    assert!(backend
        .emit_llvm(
            &trace,
            &UnitOptions {
                level: Some(Level::Quick),
                ..UnitOptions::default()
            }
        )
        .is_ok());
}
