//! The text format round-trips every generated trace: `print(parse(print(t))) ==
//! print(t)`, the re-parsed trace verifies, and it behaves exactly like the original
//! in the reference interpreter.

use leones_ir::gen::{arb_case, GenConfig, TestCase};
use leones_ir::{parse, print, verify};
use proptest::prelude::*;

fn configs() -> impl Strategy<Value = GenConfig> {
    prop::sample::select(vec![
        GenConfig::everything(),
        GenConfig::straight_line(),
        GenConfig::loops(),
        GenConfig::regions(),
        GenConfig::scalars(),
    ])
}

fn check(case: &TestCase) -> Result<(), TestCaseError> {
    let text = print(&case.trace);
    let reparsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    prop_assert_eq!(print(&reparsed), text.clone());
    verify(&reparsed).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    let a = case
        .describe_run(&case.trace)
        .map_err(|e| TestCaseError::fail(format!("original faults: {e}\n{text}")))?;
    let b = case
        .describe_run(&reparsed)
        .map_err(|e| TestCaseError::fail(format!("reparsed faults: {e}\n{text}")))?;
    prop_assert_eq!(a, b, "{}", text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1200))]
    #[test]
    fn text_round_trips(case in configs().prop_flat_map(arb_case)) {
        check(&case)?;
    }
}

// Two runs on two fresh heaps describe the same outcome (determinism of
// `build_inputs` and of the generated traces).
proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn runs_are_deterministic(case in arb_case(GenConfig::everything())) {
        let a = case.describe_run(&case.trace).unwrap();
        let b = case.describe_run(&case.trace).unwrap();
        prop_assert_eq!(a, b);
    }
}
