//! Register-VM programs shared by the engine tests (`tests/engine_regvm.rs`,
//! `tests/engine_graph.rs`, `tests/engine_fallback.rs`): one with a branch that turns
//! into a bridge, one with a data-driven branch that trace merging turns into a region.

// Each test file uses some of them.
#![allow(dead_code)]

use crate::regvm::Ins;

/// `sum += i` for i in 0..n, with a branch at pc 5 taken while i < 10 (recorded taken),
/// then never: its guard fails, gets hot and gets a bridge back into the loop.
pub fn bridge_program(n: i64) -> Vec<Ins> {
    vec![
        Ins::Const(1, 0),
        Ins::Const(2, n),
        Ins::Const(3, 10),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1),  // 4: header
        Ins::BrLt(1, 3, 7), // 5
        Ins::Mul(0, 0, 6),  // 6
        Ins::Add(1, 1, 6),  // 7
        Ins::BrLt(1, 2, 4), // 8
        Ins::Halt,
    ]
}

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
