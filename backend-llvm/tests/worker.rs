//! The compiler thread's warm-up: jobs submitted while LLVM is being warmed up wait
//! for it and build into code that computes what the interpreter computes, and the
//! warm-up reports its time once done.

use leones_backend_llvm::{Backend, Compiler, HostHooks, Level, UnitOptions};
use leones_ir::interp::{Heap, Interpreter, Val};

/// Sums 0..n into a float with an overflow guard; leaves through the loop guard.
const SUM: &str = "\
trace sum
frame main code 0x1 slots 3

block0(v0: i64, v1: i64, v2: f64):
    v3 = ilt v0, v1
    guard_true v3 [main@9(v0, v1, v2)]
    v4 = const 1
    v5 = iadd_ovf v0, v4
    guard_no_overflow v5 [main@2(v0, v1, v2)]
    v6 = i2f v0
    v7 = fadd v2, v6
    jump block0(v5, v1, v7)
";

#[test]
fn jobs_submitted_during_warm_up_wait_for_it_and_run_correctly() {
    let trace = leones_ir::parse(SUM).unwrap();
    let inputs = [Val::I64(0), Val::I64(1000), Val::F64(0.0)];
    let expected = Interpreter::new(&trace).run(&inputs).unwrap();
    for warmed_level in [Some(Level::Quick), Some(Level::Optimized), None] {
        let mut backend = Backend::new(Level::Optimized).unwrap();
        let compiler = Compiler::start_warmed(warmed_level).unwrap();
        // Submitted at once: the thread is still warming up.
        for level in Level::ALL {
            let opts = UnitOptions {
                level: Some(level),
                ..UnitOptions::default()
            };
            compiler.submit(backend.prepare(&trace, &opts));
        }
        for _ in Level::ALL {
            let unit = backend.install(compiler.wait_finished().unwrap()).unwrap();
            let mut heap = Heap::new();
            // SAFETY: the trace touches no memory.
            let got = unsafe { backend.run(unit.id, &inputs, &mut heap, &HostHooks::default()) }.unwrap();
            assert_eq!(
                got.outcome, expected,
                "warmed {warmed_level:?}, unit at {:?}",
                unit.level
            );
        }
        // The level is warm before the first job is built.
        let warmed = compiler.warm_up_time();
        assert_eq!(warmed.is_some(), warmed_level.is_some(), "{warmed_level:?}: {warmed:?}");
        assert!(warmed.is_none_or(|d| d.as_micros() > 0));
    }
}
