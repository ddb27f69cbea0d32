//! Compile-time evaluation of ops on constants. The semantics live in
//! [`leones_ir::fold`], which the reference interpreter executes with, so folding
//! agrees with the oracle by construction; this module only adapts it to the
//! optimizer's needs.

use leones_ir::{fold, BinaryOp, Const, UnaryOp};

/// `op k`.
pub fn unary(op: UnaryOp, k: Const) -> Const {
    fold::unary_const(op, k)
}

/// `a op b`, with whether an `*_ovf` op overflowed; `None` for a zero divisor (a fault
/// is never folded).
pub fn binary(op: BinaryOp, ka: Const, kb: Const) -> Option<(Const, bool)> {
    let r = fold::binary_bits(op, ka.bits(), kb.bits()).ok()?;
    Some((fold::const_from_bits(op.signature().2, r.bits), r.overflow))
}
