//! A trace that fails verification, an optimizer error and a backend error each make
//! the engine count the failure and keep interpreting: the program's result is the
//! interpreter's, and nothing runs natively.

#[path = "../examples/regvm/vm.rs"]
mod regvm;

use leones::engine::{EngineConfig, InjectFailure};
use leones_tracer::{LogConfig, Params};
use regvm::*;

fn program() -> Vec<Ins> {
    vec![
        Ins::Const(1, 0),
        Ins::Const(2, 3000),
        Ins::Const(3, 10),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1),  // 4: header
        Ins::BrLt(1, 3, 7), // 5
        Ins::Mul(0, 0, 6),  // 6
        Ins::Add(1, 1, 6),  // 7
        Ins::BrLt(1, 2, 4), // 8
        Ins::Halt,
    ]
}

fn check(inject: InjectFailure) {
    let params = Params::parse("threshold=2,bridge_threshold=2,blacklist_after=3").unwrap();
    let mut seeds: Vec<(Vec<Ins>, Vec<i64>)> = vec![(program(), vec![0; NREGS])];
    seeds.extend((1..=20u64).map(gen_program));
    let mut failures = 0;
    for (code, regs) in seeds {
        let want = interpret(&code, regs.clone());
        let mut vm = Vm::new(EngineConfig {
            inject: Some(inject),
            ..EngineConfig::new(params.clone())
        });
        let got = vm.run(&code, regs);
        assert_eq!(got, want, "{inject:?}: {code:?}");
        let s = vm.engine.stats();
        assert_eq!(
            (s.loops_compiled, s.loop_entries, s.native_faults),
            (0, 0, 0),
            "{inject:?}: {s:?}"
        );
        failures += match inject {
            InjectFailure::Verify => s.verify_failures,
            InjectFailure::Optimize => s.opt_failures,
            InjectFailure::Backend => s.backend_failures,
        };
        if code == program() {
            // Repeated failures back the loop off and finally blacklist it.
            assert_eq!(
                vm.engine.tracer_stats().blacklisted,
                1,
                "{inject:?}: {}",
                vm.engine.summary()
            );
            let summary = vm.engine.summary();
            assert!(summary.contains("units           0 loops, 0 bridges"), "{summary}");
        }
    }
    assert!(failures >= 3, "{inject:?}: {failures} failures counted");
}

#[test]
fn a_trace_that_fails_verification_is_interpreted() {
    check(InjectFailure::Verify);
}

#[test]
fn an_optimizer_error_falls_back_to_interpreting() {
    check(InjectFailure::Optimize);
}

#[test]
fn a_backend_error_falls_back_to_interpreting() {
    check(InjectFailure::Backend);
}

#[test]
fn the_summary_is_written_to_the_log_file_at_drop() {
    let log = std::env::temp_dir().join(format!("leones-engine-summary-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let config = EngineConfig {
        log: LogConfig::parse(&format!("summary:{}", log.display())).unwrap(),
        ..EngineConfig::new(Params::parse("threshold=2,bridge_threshold=2").unwrap())
    };
    let mut vm = Vm::new(config);
    vm.run(&program(), vec![0; NREGS]);
    let want = vm.engine.summary();
    drop(vm);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.trim_end(), want.trim_end());
    assert!(text.contains("units           1 loops, 1 bridges"), "{text}");
    let _ = std::fs::remove_file(&log);
}
