//! # `opt_diff`: the optimizer never changes what a trace computes
//!
//! A generated trace (valid, terminating, fault-free on its inputs) is run by the
//! reference interpreter, then optimized and run again, and the two
//! [`observe`](crate::opt_oracle::observe) texts must be equal: finish values or jump
//! arguments, exit frames and pcs (not guard ids, which passes renumber), the rebuilt
//! host state with virtual objects materialized, and the heap reachable from all of
//! it and from the inputs. The pass lists tried on every input: each pass alone, the
//! default pipeline, and a sequence of up to seven passes in an order the input's
//! control bytes choose (every pass must be correct on any valid trace, whatever ran
//! before it). `verify_each_pass` is on, so a pass that breaks the IR is reported by
//! name.

use crate::input::{test_case, Input};
use crate::opt_oracle::{observe, TestHostEval};
use leones_ir::gen::TestCase;
use leones_opt::pipeline::ALL_PASSES;
use leones_opt::{default_pipeline, optimize, OptContext, PassList};

/// Most passes in the byte-chosen sequence.
const MAX_SEQUENCE: usize = 7;

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let len = usize::from(input.byte()) % (MAX_SEQUENCE + 1);
    let sequence: PassList = (0..len)
        .map(|_| ALL_PASSES[usize::from(input.byte()) % ALL_PASSES.len()])
        .collect();
    let Some((_, case)) = test_case(&mut input) else {
        return;
    };
    let Ok(before) = observe(&case, &case.trace) else {
        return; // generated traces do not fault; nothing to compare if one does
    };
    for pass in ALL_PASSES {
        compare(&case, &before, &vec![pass]);
    }
    compare(&case, &before, &default_pipeline());
    compare(&case, &before, &sequence);
}

/// Optimizes with `passes` and compares the run with `before`; panics with the case,
/// the pass names and the optimized trace on any difference.
fn compare(case: &TestCase, before: &str, passes: &PassList) {
    let names: Vec<&str> = passes.iter().map(|p| p.name()).collect();
    let eval = TestHostEval;
    let ctx = OptContext {
        pure_calls: Some(&eval),
        verify_each_pass: true,
        entry_facts: &[],
        ..OptContext::default()
    };
    let (opt, _) = optimize(&case.trace, passes, &ctx).unwrap_or_else(|e| panic!("{names:?}: {e}\n{case:?}"));
    let after = observe(case, &opt).unwrap_or_else(|e| {
        panic!(
            "{names:?}: the optimized trace faults: {e}\n{case:?}\n--- optimized:\n{}",
            leones_ir::print(&opt)
        )
    });
    assert!(
        before == after,
        "{names:?} changed the outcome\n--- before:\n{before}\n--- after:\n{after}\n{case:?}\n--- optimized:\n{}",
        leones_ir::print(&opt)
    );
}
