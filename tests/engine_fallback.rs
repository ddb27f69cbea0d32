//! A trace that fails verification, an optimizer error and a backend error each make
//! the engine count the failure and keep interpreting: the program's result is the
//! interpreter's, and nothing runs natively. Besides the injected failures, a real
//! refusal by LLVM: a host function registered without a native address (only the
//! interpreter can call it) cannot be compiled, and the loop calling it stays
//! interpreted.

#[path = "support/regvm_programs.rs"]
mod programs;
#[path = "../examples/regvm/vm.rs"]
mod regvm;

use leones::engine::{Engine, EngineConfig, Entered, HeaderAction, InjectFailure};
use leones_ir::interp::{Heap, Val};
use leones_ir::{BinaryOp, EffectInfo, Type};
use leones_tracer::{CallRef, HeapMaterializer, Location, LogConfig, Params, Registry};
use programs::bridge_program;
use regvm::*;

/// The example's loop with a bridge (`regvm::bridge_program`).
fn program() -> Vec<Ins> {
    bridge_program(3000)
}

fn check(inject: InjectFailure) {
    let params = Params::parse("background=off,threshold=2,bridge_threshold=2,blacklist_after=3").unwrap();
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
            // Not among the kinds this test injects (see `engine_regvm.rs`).
            InjectFailure::TierUp => unreachable!("not injected here"),
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

/// Runs the test program with `LEONES_LOG`-style `items` logged to a file and
/// `params`; returns the log text, the engine's summary and stats at the end.
fn logged_run(items: &str, params: &str) -> (String, String, leones::engine::EngineStats) {
    let log = std::env::temp_dir().join(format!("leones-engine-{items}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let config = EngineConfig {
        log: LogConfig::parse(&format!("{items}:{}", log.display())).unwrap(),
        ..EngineConfig::new(Params::parse(params).unwrap())
    };
    let mut vm = Vm::new(config);
    vm.run(&program(), vec![0; NREGS]);
    let (summary, stats) = (vm.engine.summary(), vm.engine.stats());
    drop(vm);
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    (text, summary, stats)
}

#[test]
fn the_summary_is_written_to_the_log_file_at_drop() {
    let (text, want, _) = logged_run("summary", "background=off,threshold=2,bridge_threshold=2,merge=off");
    assert_eq!(text.trim_end(), want.trim_end());
    assert!(text.contains("units           1 loops, 1 bridges"), "{text}");
}

#[test]
fn the_compile_log_has_one_line_per_installed_unit() {
    let params = "background=off,threshold=2,bridge_threshold=2,merge=off,tier_up=0";
    let (text, _, units) = logged_run("compile", params);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("; compiled ")).collect();
    assert_eq!(
        lines.len() as u64,
        units.loops_compiled + units.bridges_attached,
        "{text}"
    );
    assert!(!lines.is_empty(), "{text}");
    for l in &lines {
        for part in [
            " insts, ",
            " guards; optimize ",
            " us, lower ",
            " us, passes ",
            " us, codegen ",
            " us, link ",
            " code bytes",
        ] {
            assert!(l.contains(part), "{l}");
        }
    }
}

/// The host function of [`sum_of_mixes`]: `s * 31 + i`, wrapping.
fn mix(s: i64, i: i64) -> i64 {
    s.wrapping_mul(31).wrapping_add(i)
}

extern "C" fn mix_native(s: i64, i: i64) -> i64 {
    mix(s, i)
}

/// A one-frame host running `while i < n { s = mix(s, i); i += 1 }` with `mix` a
/// host call registered at `addr` (0: the interpreter's only); returns `s` and the
/// engine's (loops compiled, native entries, backend failures).
fn sum_of_mixes(addr: u64, n: i64) -> (i64, (u64, u64, u64)) {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 3).unwrap();
    let f: CallRef = reg
        .call(
            "mix",
            addr,
            &[Type::I64, Type::I64],
            Some(Type::I64),
            EffectInfo::none(),
        )
        .unwrap();
    let params = Params::parse("background=off,threshold=2,bridge_threshold=2,blacklist_after=3").unwrap();
    let mut engine = Engine::with_config(reg.clone(), EngineConfig::new(params)).unwrap();
    let mut heap = Heap::new();
    let (mut i, mut s) = (0i64, 1i64);
    let mut pc = 0;
    let mut resumed = false;
    loop {
        if pc == 0 && !std::mem::take(&mut resumed) {
            let slots = [Some(Val::I64(i)), Some(Val::I64(n)), Some(Val::I64(s))];
            if engine.on_loop_header(Location(0), main, 0, &slots) == HeaderAction::Enter {
                let mut mem = HeapMaterializer {
                    registry: &reg,
                    heap: &mut heap,
                };
                if let Entered::Exit(exit) = engine.enter(Location(0), &slots, &mut mem).unwrap() {
                    let fr = &exit.frames[0];
                    let int = |k: usize| fr.slots[k].unwrap().as_i64().unwrap();
                    (i, s, pc, resumed) = (int(0), int(2), fr.pc, true);
                    continue;
                }
            }
        }
        match pc {
            // header: if i < n goto 1 else halt
            0 => {
                let taken = i < n;
                if let Some(r) = engine.recorder() {
                    let step = (|| {
                        r.set_pc(0)?;
                        let (a, b) = (r.slot(0)?, r.slot(1)?);
                        let c = r.binary(BinaryOp::ILt, a, b)?;
                        r.guard(c, taken)
                    })();
                    if let Err(why) = step {
                        engine.abort_recording(why)
                    }
                }
                if !taken {
                    break;
                }
                pc = 1;
            }
            // s = mix(s, i); i += 1; goto 0
            _ => {
                if let Some(r) = engine.recorder() {
                    let step = (|| {
                        r.set_pc(1)?;
                        let (a, b) = (r.slot(2)?, r.slot(0)?);
                        let v = r.call(f, &[a, b], false)?.expect("a result");
                        r.set_slot(2, v)?;
                        let one = r.constant(1i64);
                        let j = r.binary(BinaryOp::IAdd, b, one)?;
                        r.set_slot(0, j)
                    })();
                    if let Err(why) = step {
                        engine.abort_recording(why)
                    }
                }
                s = mix(s, i);
                i += 1;
                pc = 0;
            }
        }
    }
    let st = engine.stats();
    (s, (st.loops_compiled, st.loop_entries, st.backend_failures))
}

#[test]
fn a_call_llvm_cannot_compile_falls_back_to_interpreting() {
    let want = (0..500).fold(1i64, mix);
    // The control: with a native address the loop compiles and runs natively.
    let (s, (compiled, entries, failures)) = sum_of_mixes(mix_native as *const () as usize as u64, 500);
    assert_eq!(s, want);
    assert_eq!((compiled, failures), (1, 0));
    assert!(entries >= 1);
    // Without one, the backend refuses the trace; every attempt is counted and the
    // loop is interpreted to the same result.
    let (s, (compiled, entries, failures)) = sum_of_mixes(0, 500);
    assert_eq!(s, want);
    assert_eq!((compiled, entries), (0, 0));
    assert!(failures >= 1, "{failures} backend failures");
}
