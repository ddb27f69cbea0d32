//! Differential test over random traces from `leones_ir::gen`: 2000 generated cases
//! (split over the generator's presets), each run by the reference interpreter and
//! natively at every level (a peeled loop also with its preamble split off at the
//! optimized level), must agree on the full `describe_outcome` text: finish
//! values, the exit guard, exit frames and virtuals' fields, the exception flag,
//! `jump @target` arguments, and the reachable heap.

mod common;

use common::{backends, differential, Verdict};
use leones_backend_llvm::{Backend, HostHooks, Level, UnitOptions};
use leones_ir::gen::world::leones_gen_take_exception;
use leones_ir::gen::{arb_case, take_native_exception, test_host, GenConfig};
use leones_ir::interp::Heap;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;

fn check_config(name: &str, cfg: GenConfig, cases: u32) {
    let backends: RefCell<Vec<Backend>> = RefCell::new(backends());
    let hooks = HostHooks {
        take_exception: Some(leones_gen_take_exception),
        interrupt: None,
    };
    let counts = RefCell::new((0u32, 0u32, 0u32));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&arb_case(cfg), |case| {
        let inputs = |h: &mut Heap| case.build_inputs(h);
        // A peeled loop is also built split at the optimized level (preamble as
        // baseline code, the loop apart: `UnitOptions::split_preamble`).
        let split = leones_ir::cfg::loop_start(&case.trace).is_some();
        for b in backends.borrow_mut().iter_mut() {
            let mut options = vec![UnitOptions::default()];
            if split && b.level() == Level::Optimized {
                options.push(UnitOptions {
                    split_preamble: true,
                    ..UnitOptions::default()
                });
                counts.borrow_mut().2 += 1;
            }
            for opts in &options {
                take_native_exception();
                match differential(
                    b,
                    opts,
                    &case.trace,
                    &case.trace,
                    &inputs,
                    test_host(),
                    &hooks,
                    10_000_000,
                ) {
                    Ok(Verdict::Same(_)) => counts.borrow_mut().0 += 1,
                    Ok(Verdict::Skipped(_)) => counts.borrow_mut().1 += 1,
                    Err(e) => return Err(TestCaseError::fail(e)),
                }
            }
        }
        Ok(())
    });
    let (same, skipped, split) = *counts.borrow();
    eprintln!("{name}: {same} native runs agreed ({split} with a split preamble), {skipped} skipped");
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert!(skipped * 20 <= same, "too many skipped runs");
    if name == "loops" || name == "everything" {
        assert!(
            split * 10 >= cases,
            "{name}: only {split} of {cases} cases built with a split preamble"
        );
    }
}

#[test]
fn straight_line_traces_agree() {
    check_config("straight_line", GenConfig::straight_line(), 500);
}

#[test]
fn loop_traces_agree() {
    check_config("loops", GenConfig::loops(), 400);
}

#[test]
fn region_traces_agree() {
    check_config("regions", GenConfig::regions(), 400);
}

#[test]
fn scalar_traces_agree() {
    check_config("scalars", GenConfig::scalars(), 300);
}

#[test]
fn everything_traces_agree() {
    check_config("everything", GenConfig::everything(), 400);
}
