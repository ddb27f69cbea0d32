//! Register-VM programs shared by the engine tests (`tests/engine_regvm.rs`,
//! `tests/engine_graph.rs`, `tests/engine_fallback.rs`): one with a branch that turns
//! into a bridge, one with a data-driven branch that trace merging turns into a region.

// Each test file uses some of them.
#![allow(dead_code)]

use crate::regvm::Ins;

/// The example's loop whose branch gets a bridge.
pub use crate::regvm::bridge_program;

/// `x = x * K` (wrapping) each iteration and `if x < 0` skips an add: a branch taken
/// about half the time in no pattern, the data-driven control flow trace merging is for.
pub fn data_driven_program(n: i64) -> Vec<Ins> {
    vec![
        Ins::Const(1, 0),           // i
        Ins::Const(2, n),           // n
        Ins::Const(3, 0),           // zero
        Ins::Const(4, 1),           // x
        Ins::Const(5, 0x5DEECE66D), // K
        Ins::Const(6, 1),           // one
        Ins::Mul(4, 4, 5),          // 6: header: x *= K
        Ins::BrLt(4, 3, 9),         // 7: if x < 0 skip
        Ins::Add(0, 0, 6),          // 8: count += 1
        Ins::Add(1, 1, 6),          // 9: join: i += 1
        Ins::BrLt(1, 2, 6),         // 10
        Ins::Halt,
    ]
}
