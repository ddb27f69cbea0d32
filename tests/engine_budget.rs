//! The long tail on the example host (`examples/regvm`): a generated program with
//! thousands of distinct hot loops keeps the installed machine code under
//! `code_budget` by evicting cold units, counts the evictions, and computes exactly
//! what the interpreter computes — with units built on the host's thread and on the
//! compiler thread. The compile policy (`stop_after_units`, the host hook) stops new
//! recordings without changing results.

#[path = "../examples/regvm/vm.rs"]
mod regvm;

use leones::engine::{EngineConfig, EngineStats};
use leones_tracer::Params;
use regvm::*;

/// `loops` distinct loops one after the other, each `iterations` long, each adding
/// its own step (so every loop is its own trace): r0 is the checksum.
fn many_loops(loops: i64, iterations: i64) -> Vec<Ins> {
    let mut code = vec![Ins::Const(0, 0), Ins::Const(2, iterations), Ins::Const(6, 1)];
    for k in 0..loops {
        let header = code.len() as u32 + 2;
        code.extend([
            Ins::Const(1, 0),
            Ins::Const(3, k + 1),
            Ins::Add(0, 0, 3), // header
            Ins::Mul(4, 1, 3),
            Ins::Add(0, 0, 4),
            Ins::Add(1, 1, 6),
            Ins::BrLt(1, 2, header),
        ]);
    }
    code.push(Ins::Halt);
    code
}

fn run_with(spec: &str, code: &[Ins]) -> ((Vec<i64>, Stop), EngineStats) {
    let mut vm = Vm::new(EngineConfig::new(Params::parse(spec).unwrap()));
    let got = vm.run(code, vec![0; NREGS]);
    vm.engine.finish_compiles();
    (got, vm.engine.stats())
}

#[test]
fn two_thousand_hot_loops_stay_under_the_code_budget() {
    let code = many_loops(2000, 60);
    let want = interpret(&code, vec![0; NREGS]);
    let budget_kib = 256;
    for background in ["off", "on"] {
        let spec = format!("background={background},threshold=2,code_budget={budget_kib},tier_up=0");
        let (got, s) = run_with(&spec, &code);
        eprintln!("background={background}: {s:?}");
        assert_eq!(got, want, "background={background}: {s:?}");
        assert!(
            s.peak_live_code_bytes <= budget_kib * 1024,
            "background={background}: {s:?}"
        );
        assert!(s.live_code_bytes <= budget_kib * 1024, "background={background}: {s:?}");
        assert_eq!((s.backend_failures, s.native_faults), (0, 0), "{s:?}");
        if background == "off" {
            // Every loop was compiled and entered; together they need far more code
            // than the budget, so many were evicted.
            assert!(s.loops_compiled >= 2000, "{s:?}");
            assert!(s.code_bytes > 4 * budget_kib * 1024, "{s:?}");
            assert!(s.evictions > 1000, "{s:?}");
            assert!(s.loop_entries >= 2000, "{s:?}");
        }
    }
    // Without a budget nothing is evicted and the code simply adds up.
    let code = many_loops(400, 60);
    let (got, s) = run_with("background=off,threshold=2,code_budget=0,tier_up=0", &code);
    assert_eq!(got, interpret(&code, vec![0; NREGS]));
    assert_eq!(s.evictions, 0, "{s:?}");
    assert!(s.peak_live_code_bytes > budget_kib * 1024, "{s:?}");
}

#[test]
fn an_evicted_loop_that_gets_hot_again_is_compiled_again() {
    // The same loop body run 30 times from an outer loop, with a budget so small that
    // every install evicts the other units: results stay exact.
    let mut code = many_loops(3, 50);
    let halt = code.len() - 1;
    code.splice(halt..halt, [Ins::Add(5, 5, 6), Ins::Const(7, 30), Ins::BrLt(5, 7, 3)]);
    let want = interpret(&code, vec![0; NREGS]);
    let (got, s) = run_with("background=off,threshold=2,code_budget=1,tier_up=0", &code);
    assert_eq!(got, want, "{s:?}");
    assert!(s.evictions > 0, "{s:?}");
}

#[test]
fn the_compile_policy_stops_new_recordings_but_not_compiled_code() {
    let code = many_loops(50, 60);
    let want = interpret(&code, vec![0; NREGS]);
    let (got, s) = run_with("background=off,threshold=2,stop_after_units=10", &code);
    assert_eq!(got, want);
    assert_eq!(s.loops_compiled, 10, "{s:?}");

    // The host's hook sees the same numbers and decides.
    let mut vm = Vm::new(EngineConfig::new(Params::parse("background=off,threshold=2").unwrap()));
    vm.engine.set_compile_policy(Some(Box::new(|v| v.units < 3)));
    assert_eq!(vm.run(&code, vec![0; NREGS]), want);
    assert_eq!(vm.engine.stats().loops_compiled, 3);

    let mut vm = Vm::new(EngineConfig::new(Params::parse("background=off,threshold=2").unwrap()));
    vm.engine.disable_compilation();
    assert_eq!(vm.run(&code, vec![0; NREGS]), want);
    assert_eq!(vm.engine.stats().loops_compiled, 0);
}
