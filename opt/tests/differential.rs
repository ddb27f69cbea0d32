//! Semantics preservation: every pass alone, and the whole pipeline, on generated
//! traces. Each case runs the reference interpreter before and after optimization and
//! compares [`common::observe`] texts (finish values, exit frames and pcs, rebuilt
//! host state with virtuals materialized, reachable heap).
//!
//! `PROPTEST_CASES` overrides the number of cases per test (default 1000).

mod common;

use common::{differential_config as config, observe, TestHostEval};
use leones_ir::gen::{arb_case, GenConfig, Shape, TestCase};
use leones_opt::{default_pipeline, optimize, passes_named, OptContext, PassList, PeelPolicy};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

fn check_case(case: &TestCase, passes: &PassList, peel: PeelPolicy) -> Result<(), TestCaseError> {
    let Ok(before) = observe(case, &case.trace) else {
        return Ok(()); // generated traces do not fault; nothing to compare if one does
    };
    let eval = TestHostEval;
    let ctx = OptContext {
        pure_calls: Some(&eval),
        verify_each_pass: true,
        entry_facts: &[],
        peel,
        ..OptContext::default()
    };
    let (opt, _) = optimize(&case.trace, passes, &ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let after = observe(case, &opt)
        .map_err(|e| TestCaseError::fail(format!("optimized trace faults: {e}\n{}", leones_ir::print(&opt))))?;
    prop_assert_eq!(before, after, "optimized:\n{}", leones_ir::print(&opt));
    // `optimize` drops the snapshots passes leave behind: every one left is in use.
    let used: std::collections::HashSet<usize> = opt
        .blocks
        .iter()
        .flat_map(|b| &b.insts)
        .filter_map(|i| i.op.snapshot())
        .map(|s| s.index())
        .collect();
    prop_assert_eq!(used.len(), opt.snapshots.len(), "unused snapshots left");
    Ok(())
}

/// Loop traces whose body is a region: diamonds, arms that exit or end the iteration
/// (several back edges), no inner loops. What `peel` sees after region formation.
fn region_loops() -> GenConfig {
    GenConfig {
        max_steps: 40,
        shapes: vec![Shape::Loop],
        ..GenConfig::regions()
    }
}

fn run(passes: PassList) {
    run_on(config(), passes);
}

fn run_on(gen: GenConfig, passes: PassList) {
    run_with(gen, passes, PeelPolicy::Always);
}

fn run_with(gen: GenConfig, passes: PassList, peel: PeelPolicy) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&arb_case(gen), |case| check_case(&case, &passes, peel));
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
fn branchless_preserves_semantics() {
    run_named(&["branchless"]);
}
#[test]
fn branchless_preserves_semantics_of_regions() {
    run_on(
        GenConfig {
            max_steps: 40,
            ..GenConfig::regions()
        },
        passes_named(&["branchless"]).unwrap(),
    );
}
#[test]
fn peel_preserves_semantics() {
    run_named(&["peel"]);
}
#[test]
fn pipeline_preserves_semantics() {
    run(default_pipeline());
}
#[test]
fn peel_preserves_semantics_of_region_loops() {
    run_on(region_loops(), passes_named(&["peel"]).unwrap());
}
#[test]
fn pipeline_preserves_semantics_of_region_loops() {
    run_on(region_loops(), default_pipeline());
}
#[test]
fn pipeline_preserves_semantics_when_peeling_must_pay() {
    run_with(config(), default_pipeline(), PeelPolicy::WhenItPays);
    run_with(region_loops(), default_pipeline(), PeelPolicy::WhenItPays);
}

/// The test above is only worth something if both outcomes happen: on a fixed seed,
/// some generated loops keep their peeled loop and some are optimized again unpeeled,
/// and the unpeeled result is never more work than the peeled loop it replaced.
#[test]
fn peeling_that_pays_is_kept_and_the_rest_undone() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_case(region_loops());
    let pipeline = default_pipeline();
    let ctx = |peel| OptContext {
        peel,
        ..OptContext::default()
    };
    let (mut kept, mut undone) = (0, 0);
    for _ in 0..300 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let (always, _) = optimize(&case.trace, &pipeline, &ctx(PeelPolicy::Always)).unwrap();
        let (pays, _) = optimize(&case.trace, &pipeline, &ctx(PeelPolicy::WhenItPays)).unwrap();
        let Some(start) = leones_opt::passes::peel::loop_start(&always) else {
            continue;
        };
        if leones_ir::print(&pays) == leones_ir::print(&always) {
            kept += 1;
        } else {
            undone += 1;
            assert_eq!(
                leones_opt::passes::peel::loop_start(&pays),
                None,
                "undone means unpeeled"
            );
            let work = leones_opt::passes::peel::work;
            assert!(work(&pays.blocks) <= work(&always.blocks[start..]));
        }
    }
    assert!(
        kept >= 10 && undone >= 10,
        "kept {kept}, undone {undone} of 300 region loops"
    );
}

/// The region-loop tests are only worth something if the generator makes multi-block
/// loops with several back edges and `peel` peels them: count both on a fixed seed.
#[test]
fn region_loops_have_several_back_edges_and_get_peeled() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_case(region_loops());
    let peel = passes_named(&["peel"]).unwrap();
    let (mut multi_block, mut two_back_edges, mut peeled) = (0, 0, 0);
    for _ in 0..300 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let back_edges = |t: &leones_ir::Trace| {
            t.blocks
                .iter()
                .filter(|b| {
                    matches!(
                        b.insts.last().map(|i| &i.op),
                        Some(leones_ir::Op::Jump(leones_ir::JumpTarget::Block(_), _))
                    )
                })
                .count()
        };
        if case.trace.blocks.len() > 1 {
            multi_block += 1;
        }
        if back_edges(&case.trace) >= 2 {
            two_back_edges += 1;
            let (opt, _) = optimize(&case.trace, &peel, &OptContext::default()).unwrap();
            // The preamble's back edges became gotos; the loop copy has them all.
            if opt.blocks.len() == 2 * case.trace.blocks.len() && back_edges(&opt) == back_edges(&case.trace) {
                peeled += 1;
            }
        }
    }
    assert!(
        multi_block >= 150,
        "only {multi_block} of 300 region loops have several blocks"
    );
    assert!(
        two_back_edges >= 20,
        "only {two_back_edges} of 300 region loops have two back edges"
    );
    assert_eq!(peeled, two_back_edges, "peel left some multi-block loops alone");
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

/// The branchless tests are only worth something if generated regions have diamonds
/// the pass converts: count them on a fixed seed.
#[test]
fn branchless_fires_on_generated_regions() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_case(GenConfig {
        max_steps: 40,
        ..GenConfig::regions()
    });
    let branchless = passes_named(&["branchless"]).unwrap();
    let brs = |t: &leones_ir::Trace| {
        t.blocks
            .iter()
            .filter(|b| matches!(b.insts.last().map(|i| &i.op), Some(leones_ir::Op::Br { .. })))
            .count()
    };
    let (mut with_br, mut converted) = (0, 0);
    for _ in 0..300 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        if brs(&case.trace) == 0 {
            continue;
        }
        with_br += 1;
        let (opt, _) = optimize(&case.trace, &branchless, &OptContext::default()).unwrap();
        if brs(&opt) < brs(&case.trace) {
            converted += 1;
        }
    }
    eprintln!("branchless converted a diamond in {converted} of {with_br} traces with branches");
    assert!(
        converted >= 20,
        "branchless converted a diamond in only {converted} of {with_br} traces"
    );
}
