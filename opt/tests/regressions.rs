//! Regression tests: cases the differential tests found, pinned with their inputs so
//! they run on every `make test`, not only when a random seed finds them again.

mod common;

use common::{observe, TestHostEval};
use leones_ir::gen::{FieldInit, InputSpec, Shape, TestCase};
use leones_ir::{FieldId, LayoutId};
use leones_opt::{default_pipeline, optimize, OptContext};

fn case(file: &str, inputs: Vec<InputSpec>) -> TestCase {
    let path = format!("{}/tests/regressions/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    TestCase {
        trace,
        inputs,
        shape: Shape::PeeledLoop,
    }
}

fn assert_pipeline_preserves(case: &TestCase) {
    let before = observe(case, &case.trace).expect("the original runs");
    let eval = TestHostEval;
    let ctx = OptContext {
        pure_calls: Some(&eval),
        verify_each_pass: true,
        entry_facts: &[],
        ..OptContext::default()
    };
    let (opt, _) = optimize(&case.trace, &default_pipeline(), &ctx).expect("optimizes");
    let after = observe(case, &opt).expect("the optimized trace runs");
    assert_eq!(before, after, "optimized:\n{}", leones_ir::print(&opt));
}

#[test]
fn a_loop_carried_object_also_stored_in_another_keeps_its_identity() {
    let field = |i: usize, v: FieldInit| (FieldId::new(i), v);
    let obj = InputSpec::Object {
        layout: LayoutId::new(0),
        fields: vec![
            field(0, FieldInit::I64(0)),
            field(1, FieldInit::F64(f64::NAN)),
            field(2, FieldInit::Bool(true)),
            field(3, FieldInit::I64(-1)),
            field(4, FieldInit::Null),
        ],
        nullable: true,
    };
    let inputs = vec![
        InputSpec::I64(1),
        InputSpec::I64(5),
        InputSpec::F64(0.0),
        InputSpec::Bool(false),
        obj,
        InputSpec::Null,
    ];
    assert_pipeline_preserves(&case("escape_identity.ir", inputs));
}

#[test]
fn float_operands_keep_their_order_so_nan_payloads_do_not_change() {
    let nan_123 = InputSpec::F64(f64::from_bits(0x7ff8_0000_0000_0123));
    let obj = InputSpec::Object {
        layout: LayoutId::new(0),
        fields: Vec::new(),
        nullable: false,
    };
    assert_pipeline_preserves(&case("nan_operand_order.ir", vec![nan_123, obj]));
}
