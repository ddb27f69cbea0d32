//! Register-VM programs shared by the engine tests (`tests/engine_regvm.rs`,
//! `tests/engine_graph.rs`, `tests/engine_fallback.rs`): one with a branch that turns
//! into a bridge, one with a data-driven branch that trace merging turns into a region.

// Each test file uses some of them.
#![allow(dead_code)]

use crate::regvm::Ins;

/// The example's loop whose branch gets a bridge.
pub use crate::regvm::bridge_program;

/// The set-up of the data-driven loops below: `i = 0`, `n`, `zero`, `x = 1`, the
/// multiplier `K`, `one` in registers 1-6 (instructions 0-5).
fn data_driven_setup(n: i64) -> Vec<Ins> {
    vec![
        Ins::Const(1, 0),           // i
        Ins::Const(2, n),           // n
        Ins::Const(3, 0),           // zero
        Ins::Const(4, 1),           // x
        Ins::Const(5, 0x5DEECE66D), // K
        Ins::Const(6, 1),           // one
    ]
}

/// `x = x * K` (wrapping) each iteration and `if x < 0` skips an add: a branch taken
/// about half the time in no pattern, the data-driven control flow trace merging is for.
pub fn data_driven_program(n: i64) -> Vec<Ins> {
    let mut code = data_driven_setup(n);
    code.extend([
        Ins::Mul(4, 4, 5),  // 6: header: x *= K
        Ins::BrLt(4, 3, 9), // 7: if x < 0 skip
        Ins::Add(0, 0, 6),  // 8: count += 1
        Ins::Add(1, 1, 6),  // 9: join: i += 1
        Ins::BrLt(1, 2, 6), // 10
        Ins::Halt,
    ]);
    code
}

/// Two data-driven branches (`x *= K; if x < 0 ...` and the same on `y`, started
/// elsewhere), then a third path that `skip` guards: the loop's `i` (register 1) and
/// `y` (register 8) against `c` (register 7). See [`late_path_program`] and
/// [`rare_path_program`].
fn two_arms_and_a_third(n: i64, c: i64, skip: Ins) -> Vec<Ins> {
    let mut code = data_driven_setup(n);
    code.extend([
        Ins::Const(7, c),    // c
        Ins::Const(8, 7),    // y
        Ins::Mul(4, 4, 5),   // 8: header: x *= K
        Ins::BrLt(4, 3, 11), // 9: if x < 0 skip
        Ins::Add(0, 0, 6),   // 10: count += 1
        Ins::Mul(8, 8, 5),   // 11: y *= K
        Ins::BrLt(8, 3, 14), // 12: if y < 0 skip
        Ins::Add(0, 0, 6),   // 13: count += 1
        skip,                // 14: skip the third path to 16?
        Ins::Add(0, 0, 6),   // 15: count += 1
        Ins::Add(1, 1, 6),   // 16: join: i += 1
        Ins::BrLt(1, 2, 8),  // 17
        Ins::Halt,
    ]);
    code
}

/// Two data-driven branches, and from iteration `late` on a third path whose guard
/// (`i < late`) held until then and fails from then on: before its loop tiers up
/// that path is one more arm; after, a rare exit.
pub fn late_path_program(n: i64, late: i64) -> Vec<Ins> {
    two_arms_and_a_third(n, late, Ins::BrLt(1, 7, 16))
}

/// Two data-driven branches, and a third path taken about once in 128 iterations
/// (`y <= i64::MIN + 2^57`): a rare exit from the start.
pub fn rare_path_program(n: i64) -> Vec<Ins> {
    two_arms_and_a_third(n, i64::MIN + (1 << 57), Ins::BrLt(7, 8, 16))
}
