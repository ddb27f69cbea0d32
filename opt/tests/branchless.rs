//! Branchless rewriting must never speculate what may fault on the path not taken.
//! Generated traces cannot show it (their divisors are never zero and they dereference
//! only objects known valid), so these run hand-written traces on inputs where the arm
//! that is *not* taken would fault, before and after the pass.

use leones_ir::interp::{describe_outcome, Interpreter, Val};
use leones_opt::{optimize, passes_named, BranchlessParams, OptContext};

/// How the trace ends on `inputs`, as text.
fn run(text: &str, inputs: &[Val]) -> String {
    let trace = leones_ir::parse(text).unwrap();
    let mut interp = Interpreter::new(&trace);
    let outcome = interp.run(inputs).expect("the trace runs");
    describe_outcome(&trace, interp.heap(), &outcome)
}

fn branchless(text: &str, params: BranchlessParams) -> String {
    let trace = leones_ir::parse(text).unwrap();
    let ctx = OptContext {
        verify_each_pass: true,
        branchless: params,
        ..OptContext::default()
    };
    let (out, _) = optimize(&trace, &passes_named(&["branchless"]).unwrap(), &ctx).unwrap();
    leones_ir::print(&out)
}

fn assert_same_run(text: &str, inputs: &[Val]) {
    let after = branchless(text, BranchlessParams::default());
    assert_eq!(run(text, inputs), run(&after, inputs), "after:\n{after}");
}

const DIVISION: &str = "trace t
block0(v0: i64, v1: i64, v2: bool):
    br v2, block1(), block2(v0) weights(50, 50)
block1():
    v3 = idiv v0, v1
    goto block2(v3)
block2(v4: i64):
    finish v4
";

const NULL_LOAD: &str = "trace t
layout P size 16 class 0x10
field P.x: i64 @8
block0(v0: ref, v1: bool):
    v2 = const 7
    br v1, block1(), block2(v2) weights(50, 50)
block1():
    v3 = getfield v0, P.x
    goto block2(v3)
block2(v4: i64):
    finish v4
";

#[test]
fn a_division_by_a_value_that_may_be_zero_stays_on_its_path() {
    assert_same_run(DIVISION, &[Val::I64(5), Val::I64(0), Val::Bool(false)]);
    assert!(branchless(DIVISION, BranchlessParams::default()).contains("br v2"));
}

#[test]
fn a_load_from_a_possibly_null_object_stays_on_its_path() {
    assert_same_run(NULL_LOAD, &[Val::Ref(0), Val::Bool(false)]);
    assert!(branchless(NULL_LOAD, BranchlessParams::default()).contains("br v1"));
}

#[test]
fn the_thresholds_come_from_the_context() {
    let text = "trace t
block0(v0: i64, v1: bool):
    br v1, block1(), block2(v0) weights(95, 5)
block1():
    v2 = ineg v0
    goto block2(v2)
block2(v3: i64):
    finish v3
";
    let default = branchless(text, BranchlessParams::default());
    assert!(default.contains("br v1"), "5% is biased by default:\n{default}");
    let eager = BranchlessParams {
        min_minority_percent: 5,
        ..BranchlessParams::default()
    };
    let converted = branchless(text, eager);
    assert!(converted.contains("select.unpredictable"), "{converted}");
    let no_budget = BranchlessParams {
        min_minority_percent: 5,
        max_arm_cost: 0,
        ..BranchlessParams::default()
    };
    assert!(branchless(text, no_budget).contains("br v1"));
    let off = BranchlessParams {
        enabled: false,
        min_minority_percent: 0,
        ..BranchlessParams::default()
    };
    assert!(branchless(text, off).contains("br v1"));
    for v1 in [true, false] {
        let inputs = [Val::I64(-4), Val::Bool(v1)];
        assert_eq!(run(text, &inputs), run(&converted, &inputs));
    }
}

/// A widened guard exits exactly when the arm was taken and its condition failed:
/// run the guard-in-arm shape on every combination of "arm taken" and "guard holds".
#[test]
fn a_widened_guard_exits_only_on_its_own_path() {
    let text = "trace t
frame main code 0x1 slots 2
block0(v0: i64, v1: i64):
    v2 = ilt v0, v1
    br v2, block1(), block2(v1) weights(50, 50)
block1():
    v3 = const 0
    v4 = igt v0, v3
    guard_true v4 [main@1(v0, v1)]
    goto block2(v0)
block2(v5: i64):
    finish v5
";
    let after = branchless(text, BranchlessParams::default());
    assert!(!after.contains("br v2"), "widened and converted:\n{after}");
    for (a, b) in [(-5, 3), (5, 3), (2, 9), (-2, -9), (0, 1)] {
        assert_same_run(text, &[Val::I64(a), Val::I64(b)]);
    }
}
