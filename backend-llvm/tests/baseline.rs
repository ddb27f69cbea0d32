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
            &UnitOptions::default(),
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

/// Runs `interp` on the reference interpreter and `native` compiled by `backend`, on
/// `args`, and compares them.
fn run_both(
    backend: &mut Backend,
    interp: &leones_ir::Trace,
    native: &leones_ir::Trace,
    args: Vec<Val>,
    host: FnTable,
) -> Result<Verdict, String> {
    let inputs = move |_: &mut leones_ir::interp::Heap| args.clone();
    differential(
        backend,
        &UnitOptions::default(),
        interp,
        native,
        &inputs,
        host,
        &HostHooks::default(),
        1000,
    )
}

/// Runs `trace` on `args` at `backend`'s level and on the reference interpreter, and
/// fails naming `what` (the inputs) and the trace unless they agree.
fn assert_agree(backend: &mut Backend, trace: &leones_ir::Trace, args: Vec<Val>, what: &str) {
    let verdict = run_both(backend, trace, trace, args, FnTable::new());
    assert!(
        matches!(verdict, Ok(Verdict::Same(_))),
        "{:?} on {what}: {verdict:?}\n{}",
        backend.level(),
        leones_ir::print(trace)
    );
}

/// A compare whose only use is the next guard or `br` is not materialized at the
/// baseline level: the consumer jumps on the compare's flags (`cc` or its negation).
/// Every fusable compare, under each consumer, on operands that are equal, ordered
/// both ways, at the signed/unsigned extremes and unordered (NaN) — against the
/// reference interpreter, at every level.
#[test]
fn compares_fused_into_guards_and_branches_agree_at_every_level() {
    let ints = ["ieq", "ine", "ilt", "ile", "igt", "ige", "iult", "iule", "iugt", "iuge"];
    let floats = ["flt", "fle", "fgt", "fge", "feq", "fne"];
    let int_pairs = [(1i64, 1i64), (1, 2), (2, 1), (-1, 1), (i64::MIN, i64::MAX), (0, -1)];
    let float_pairs = [
        (1.0f64, 1.0f64),
        (1.0, 2.0),
        (2.0, 1.0),
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
        (-0.0, 0.0),
    ];
    let consumers = [
        "    guard_true v2 [main@1(v0, v1)]\n    finish v0\n",
        "    guard_false v2 [main@1(v0, v1)]\n    finish v0\n",
        "    br v2, block1(), block2()\n\nblock1():\n    finish v0\n\nblock2():\n    finish v1\n",
    ];
    let mut backends = backends();
    let mut runs = 0;
    for (ops, ty) in [(&ints[..], "i64"), (&floats[..], "f64")] {
        for op in ops {
            for consumer in consumers {
                let text = format!(
                    "trace fused\nframe main code 0x1 slots 2\n\nblock0(v0: {ty}, v1: {ty}):\n    v2 = {op} v0, v1\n{consumer}"
                );
                let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                let inputs: Vec<(Val, Val)> = if ty == "i64" {
                    int_pairs.iter().map(|(a, b)| (Val::I64(*a), Val::I64(*b))).collect()
                } else {
                    float_pairs.iter().map(|(a, b)| (Val::F64(*a), Val::F64(*b))).collect()
                };
                for (a, b) in inputs {
                    for backend in backends.iter_mut() {
                        assert_agree(backend, &trace, vec![a, b], &format!("({a:?}, {b:?})"));
                        runs += 1;
                    }
                }
            }
        }
    }
    assert_eq!(runs, 16 * 3 * 6 * Level::ALL.len());
}

/// A host function that writes the caller-saved registers the baseline's register
/// cache also uses (`r10`, `r11`): as any host function may.
#[cfg(target_arch = "x86_64")]
extern "C" fn clobber_scratch() -> i64 {
    // SAFETY: writes two caller-saved registers, declared as clobbered.
    unsafe { std::arch::asm!("mov r10, -1", "mov r11, -1", out("r10") _, out("r11") _) };
    0
}

/// Values cached in caller-saved registers are read from their homes after a host
/// call: seven results fill the cache (the last two in `r10`/`r11`), a call that
/// overwrites those registers follows, then every result is read again.
#[cfg(target_arch = "x86_64")]
#[test]
fn cached_values_survive_host_calls_that_clobber_scratch_registers() {
    let text = |addr: u64| {
        let mut s = format!("trace clobber\ncall clobber() -> i64 addr {addr:#x} effects(pure)\n\nblock0(v0: i64):\n");
        for k in 1..=7 {
            s += &format!("    v{k} = iadd v{}, v0\n", k - 1);
        }
        s += "    v8 = call clobber()\n    v9 = iadd v6, v7\n    v10 = iadd v9, v5\n    v11 = iadd v10, v8\n    finish v11\n";
        leones_ir::parse(&s).unwrap_or_else(|e| panic!("{e}\n{s}"))
    };
    let native = text(clobber_scratch as *const () as usize as u64);
    let interp = text(0);
    for mut backend in backends() {
        let mut host = FnTable::new();
        host.insert("clobber", |_, _: &[Val]| Ok(CallResult::ret(Val::I64(0))));
        let verdict = run_both(&mut backend, &interp, &native, vec![Val::I64(3)], host);
        assert!(
            matches!(verdict, Ok(Verdict::Same(_))),
            "{:?}: {verdict:?}",
            backend.level()
        );
    }
}

/// Counters as the engine's instrumentation writes them (`load`, `iadd` of a
/// constant, `store` back, through a constant address) are one memory `add` at the
/// baseline level when nothing else reads the loaded or added value; each shape that
/// must not be fused (the sum also returned, a step that is not a constant) sits
/// beside one that is. Three runs at every level must leave each word where the IR
/// says, and return what it says.
#[test]
fn counter_increments_agree_at_every_level() {
    for backend in backends() {
        let mut words = vec![0i64; 4];
        let base = words.as_mut_ptr() as u64;
        let text = format!(
            "trace counters\n\nblock0(v0: i64):
    v1 = const ptr({a:#x})
    v2 = load.i64 v1, 8
    v3 = const 5
    v4 = iadd v2, v3
    v5 = const ptr({a:#x})
    store.i64 v5, 8, v4
    v6 = const ptr({b:#x})
    v7 = load.i64 v6, 0
    v8 = const 1
    v9 = iadd v8, v7
    store.i64 v6, 0, v9
    v10 = const ptr({c:#x})
    v11 = load.i64 v10, 0
    v12 = iadd v11, v0
    store.i64 v10, 0, v12
    v13 = const -2
    v14 = load.i64 v1, 24
    v15 = iadd v14, v13
    store.i64 v1, 24, v15
    finish v9\n",
            a = base,
            b = base,
            c = base + 16,
        );
        let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut backend = backend;
        let unit = backend.compile(&trace, &UnitOptions::default()).unwrap();
        for run in 1..=3i64 {
            let mut heap = leones_ir::interp::Heap::new();
            // SAFETY: every address the trace uses is a word of `words`, alive here.
            let out = unsafe { backend.run(unit.id, &[Val::I64(10)], &mut heap, &HostHooks::default()) };
            let level = backend.level();
            match out.map(|o| o.outcome) {
                Ok(leones_ir::interp::Outcome::Finish(vals)) => assert_eq!(vals, vec![Val::I64(run)], "{level:?}"),
                other => panic!("{level:?}: {other:?}"),
            }
            assert_eq!(
                words,
                vec![run, 5 * run, 10 * run, -2 * run],
                "{level:?} after run {run}"
            );
        }
    }
}

/// An `*_ovf` op leaves its overflow in the flags at the baseline level and the
/// `guard_no_overflow` after it (where the verifier requires it) jumps on them: each
/// op, on results that overflow and that do not, at every level.
#[test]
fn overflow_checks_on_the_flags_agree_at_every_level() {
    let pairs = [
        (1i64, 2i64),
        (i64::MAX, 1),
        (i64::MIN, 1),
        (i64::MIN, -1),
        (1 << 32, 1 << 32),
        (-3, 7),
    ];
    let mut backends = backends();
    for op in ["iadd_ovf", "isub_ovf", "imul_ovf"] {
        let text = format!(
            "trace ovf\nframe main code 0x1 slots 2\n\nblock0(v0: i64, v1: i64):
    v2 = {op} v0, v1
    guard_no_overflow v2 [main@1(v0, v1)]
    v3 = iadd v2, v0
    finish v3\n"
        );
        let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for (a, b) in pairs {
            for backend in backends.iter_mut() {
                assert_agree(backend, &trace, vec![Val::I64(a), Val::I64(b)], &format!("({a}, {b})"));
            }
        }
    }
}

/// A constant operand is an immediate at the baseline level where it fits a
/// sign-extended 32 bits, and a constant divisor other than 0 and -1 skips the
/// division's checks: every integer op with a constant right operand, for constants
/// at and beyond the 32-bit edges, on inputs at the 64-bit ones — at every level.
#[test]
fn constant_operands_agree_at_every_level() {
    let ops = [
        "iadd", "isub", "imul", "iand", "ior", "ixor", "idiv", "irem", "ieq", "ilt", "iult", "igt",
    ];
    let ovf_ops = ["iadd_ovf", "isub_ovf", "imul_ovf"];
    let constants = [
        0i64,
        1,
        -1,
        2,
        7,
        i32::MAX as i64,
        i32::MIN as i64,
        1 << 31,
        -(1 << 31) - 1,
        i64::MIN,
    ];
    let inputs = [0i64, 5, -9, i64::MAX, i64::MIN];
    let mut backends = backends();
    for k in constants {
        for op in ops.iter().chain(&ovf_ops) {
            let check = if ovf_ops.contains(op) {
                "    guard_no_overflow v2 [main@1(v0)]\n"
            } else {
                ""
            };
            let text = format!(
                "trace imm\nframe main code 0x1 slots 1\n\nblock0(v0: i64):\n    v1 = const {k}\n    v2 = {op} v0, v1\n{check}    finish v2\n"
            );
            let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            for x in inputs {
                for backend in backends.iter_mut() {
                    assert_agree(backend, &trace, vec![Val::I64(x)], &x.to_string());
                }
            }
        }
    }
}
