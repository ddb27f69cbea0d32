//! Semantics preservation: every pass alone, and the whole pipeline, on generated
//! traces. Each case runs the reference interpreter before and after optimization and
//! compares [`common::observe`] texts (finish values, exit frames and pcs, rebuilt
//! host state with virtuals materialized, reachable heap).
//!
//! `PROPTEST_CASES` overrides the number of cases per test (default 1000).

mod common;

use common::{differential_config as config, observe, TestHostEval};
use leones_ir::gen::{arb_case, GenConfig, TestCase};
use leones_opt::{default_pipeline, optimize, passes_named, OptContext, PassList};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

fn check_case(case: &TestCase, passes: &PassList) -> Result<(), TestCaseError> {
    let Ok(before) = observe(case, &case.trace) else {
        return Ok(()); // generated traces do not fault; nothing to compare if one does
    };
    let eval = TestHostEval;
    let ctx = OptContext {
        pure_calls: Some(&eval),
        verify_each_pass: true,
        entry_facts: &[],
    };
    let (opt, _) = optimize(&case.trace, passes, &ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let after = observe(case, &opt)
        .map_err(|e| TestCaseError::fail(format!("optimized trace faults: {e}\n{}", leones_ir::print(&opt))))?;
    prop_assert_eq!(before, after, "optimized:\n{}", leones_ir::print(&opt));
    Ok(())
}

fn run(passes: PassList) {
    run_on(config(), passes);
}

fn run_on(gen: GenConfig, passes: PassList) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&arb_case(gen), |case| check_case(&case, &passes));
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn run_named(names: &[&str]) {
    run(passes_named(names).unwrap());
}

#[test]
fn fold_preserves_semantics() {
    run_named(&["fold"]);
}
#[test]
fn cse_preserves_semantics() {
    run_named(&["cse"]);
}
#[test]
fn dce_preserves_semantics() {
    run_named(&["dce"]);
}
#[test]
fn guards_preserves_semantics() {
    run_named(&["guards"]);
}
#[test]
fn heap_preserves_semantics() {
    run_named(&["heap"]);
}
#[test]
fn escape_preserves_semantics() {
    run_named(&["escape"]);
}
#[test]
fn peel_preserves_semantics() {
    run_named(&["peel"]);
}
#[test]
fn pipeline_preserves_semantics() {
    run(default_pipeline());
}

/// Diamonds only (no inner loops), longer recipes: more joins per trace, with objects
/// and loads crossing them, for the passes that merge state at joins.
fn regions_config() -> GenConfig {
    GenConfig {
        max_steps: 60,
        ..GenConfig::regions()
    }
}
#[test]
fn escape_preserves_semantics_on_regions() {
    run_on(regions_config(), passes_named(&["escape"]).unwrap());
}
#[test]
fn heap_preserves_semantics_on_regions() {
    run_on(regions_config(), passes_named(&["heap"]).unwrap());
}
#[test]
fn pipeline_preserves_semantics_on_regions() {
    run_on(regions_config(), default_pipeline());
}

/// The oracle must actually run most cases (generated traces never fault).
#[test]
fn oracle_runs_generated_cases() {
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let ok = std::cell::Cell::new(0u32);
    let errs = std::cell::RefCell::new(Vec::new());
    runner
        .run(&arb_case(config()), |case| {
            match observe(&case, &case.trace) {
                Ok(_) => ok.set(ok.get() + 1),
                Err(e) => errs.borrow_mut().push(e.to_string()),
            }
            Ok(())
        })
        .unwrap();
    assert!(
        ok.get() >= 190,
        "only {} of 200 generated cases ran: {:?}",
        ok.get(),
        &errs.borrow()[..3.min(errs.borrow().len())]
    );
}
