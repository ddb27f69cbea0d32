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

/// The lowering emits what `instcombine` would otherwise have to tidy (its cost grows
/// with what it rewrites; session 22: -10-16% of the optimized level's IR passes):
/// slots are loaded and stored in their own types, a block0 nothing branches back to
/// is the entry block (no one-input phis), a negated guard branches on its condition
/// with its edges swapped (no `xor`), an exit list only one guard ends at stores the
/// guard id as a constant (no one-input phi), a `ref` made from bits is compared as
/// those bits (no `ptrtoint`), and a `guard_nonnull`'s value is not null-checked again.
#[test]
fn lowering_leaves_instcombine_little_to_tidy() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    let text = "trace t\nlayout P size 16 class 0x51\nfield P.x: f64 @8\nframe main code 0x1 slots 3\n\n\
                block0(v0: f64, v1: ref, v2: i64):\n    \
                v3 = const 1\n    v4 = iadd_ovf v2, v3\n    guard_no_overflow v4 [main@1(v0, v1, v2)]\n    \
                guard_nonnull v1 [main@2(v0, v1, v4)]\n    v5 = getfield v1, P.x\n    \
                v6 = i2ref v4\n    guard_value v6, ref(0x1000) [main@3(v5, v1, v4)]\n    \
                v7 = fadd v0, v5\n    finish v7, v1\n";
    let ir = backend
        .emit_llvm(&leones_ir::parse(text).unwrap(), &UnitOptions::default())
        .unwrap();
    let function = &ir[ir.find("define").unwrap()..];
    assert!(
        function.contains("load double") && function.contains("store double"),
        "{ir}"
    );
    assert!(function.contains("load ptr") && function.contains("store ptr"), "{ir}");
    for absent in ["bitcast", "phi", "xor", "ptrtoint", "block0:"] {
        assert!(!function.contains(absent), "`{absent}` in:\n{ir}");
    }
    assert_eq!(function.matches("icmp ne ptr").count(), 1, "one null check:\n{ir}");
    assert!(
        function.contains("store i64 0, ") && function.contains("store i64 2, "),
        "{ir}"
    );
}

#[test]
fn an_exit_does_not_store_back_what_its_slot_holds_since_the_entry() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    // g0's list is the inputs as they came (v0 v1 v2 in slots 0 1 2): nothing to
    // store. g1's keeps v0 and v1 in place and has v4 in slot 2: one store. A loop on
    // block0 reloads nothing from the slots, so there every value is stored.
    let bridge = "trace t\nframe main code 0x1 slots 3\n\n\
                  block0(v0: f64, v1: ref, v2: i64):\n    \
                  v3 = const 10\n    v5 = ilt v2, v3\n    guard_true v5 [main@1(v0, v1, v2)]\n    \
                  v4 = iadd v2, v3\n    v6 = ilt v4, v3\n    guard_false v6 [main@2(v0, v1, v4)]\n    \
                  finish v4\n";
    let ir = backend
        .emit_llvm(&leones_ir::parse(bridge).unwrap(), &UnitOptions::default())
        .unwrap();
    let function = &ir[ir.find("define").unwrap()..];
    assert!(
        !function.contains("store double") && !function.contains("store ptr"),
        "{ir}"
    );
    // v2 came in as a loaded i64 and goes back nowhere; v4 (the only `add`) is stored
    // twice: by g1's exit list into slot 2 and by `finish` into slot 0.
    let loaded = function
        .lines()
        .find(|l| l.contains("= load i64, ptr %"))
        .expect("v2's load");
    let v2 = loaded.split('=').next().unwrap().trim();
    assert!(!function.contains(&format!("store i64 {v2},")), "{ir}");
    let add = function.lines().find(|l| l.contains("= add i64")).expect("v4");
    let v4 = add.split('=').next().unwrap().trim();
    assert_eq!(function.matches(&format!("store i64 {v4},")).count(), 2, "{ir}");

    let looping = "trace t\nframe main code 0x1 slots 3\n\n\
                   block0(v0: f64, v1: ref, v2: i64):\n    \
                   v3 = const 10\n    v5 = ilt v2, v3\n    guard_true v5 [main@1(v0, v1, v2)]\n    \
                   v4 = iadd v2, v3\n    jump block0(v0, v1, v4)\n";
    let ir = backend
        .emit_llvm(&leones_ir::parse(looping).unwrap(), &UnitOptions::default())
        .unwrap();
    let function = &ir[ir.find("define").unwrap()..];
    assert!(
        function.contains("store double") && function.contains("store ptr"),
        "{ir}"
    );
}

#[test]
fn an_object_checked_in_a_dominating_block_is_not_checked_again() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    // v0 is null-checked by its guard in block0; both arms load from it.
    let text = "trace t\nlayout P size 16 class 0x51\nfield P.x: f64 @8\nframe main code 0x1 slots 2\n\n\
                block0(v0: ref, v1: i64):\n    \
                guard_nonnull v0 [main@1(v0, v1)]\n    v2 = const 10\n    v3 = ilt v1, v2\n    \
                br v3, block1(), block2() weights(50, 50)\n\n\
                block1():\n    v4 = getfield v0, P.x\n    finish v4\n\n\
                block2():\n    v5 = getfield v0, P.x\n    v6 = fadd v5, v5\n    finish v6\n";
    let ir = backend
        .emit_llvm(&leones_ir::parse(text).unwrap(), &UnitOptions::default())
        .unwrap();
    let function = &ir[ir.find("define").unwrap()..];
    let null_checks = function.matches("icmp eq ptr").count() + function.matches("icmp ne ptr").count();
    assert_eq!(null_checks, 1, "the guard's only:\n{ir}");
}
