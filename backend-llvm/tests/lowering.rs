//! What LLVM lowering emits, read from the lowered IR (`Backend::emit_llvm`): checks
//! are behaviour and have differential filetests; these tests pin what is left out.

use leones_backend_llvm::{Backend, Level, UnitOptions};

/// LLVM lowering leaves out the checks a constant cannot fail, as baseline code does:
/// no zero/-1 handling for a divisor of 3, no null check of a non-null constant; a
/// variable divisor and the null constant keep theirs. (Behaviour at every level is
/// the filetests' `int_div_const*.ir` and `null_const_access.ir`.)
#[test]
fn lowering_leaves_out_checks_a_constant_cannot_fail() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    let lowered = |backend: &mut Backend, body: &str| {
        let text =
            format!("trace t\nlayout P size 16 class 0x51\nfield P.x: i64 @8\n\nblock0(v0: i64, v1: i64):\n{body}");
        backend
            .emit_llvm(&leones_ir::parse(&text).unwrap(), &UnitOptions::default())
            .unwrap()
    };
    let by_constant = lowered(&mut backend, "    v2 = const 3\n    v3 = irem v0, v2\n    finish v3\n");
    assert!(
        !by_constant.contains("select") && !by_constant.contains("fault"),
        "{by_constant}"
    );
    let by_variable = lowered(&mut backend, "    v3 = irem v0, v1\n    finish v3\n");
    assert!(
        by_variable.contains("select") && by_variable.contains("fault"),
        "{by_variable}"
    );
    let at_constant = lowered(
        &mut backend,
        "    v2 = const ref(0x1000)\n    v3 = getfield v2, P.x\n    finish v3\n",
    );
    assert!(!at_constant.contains("fault"), "{at_constant}");
    let at_null = lowered(
        &mut backend,
        "    v2 = const ref(0x0)\n    v3 = getfield v2, P.x\n    finish v3\n",
    );
    assert!(at_null.contains("fault"), "{at_null}");
}
