//! The meaning of the pure ops, in one place.
//!
//! The reference interpreter executes with these functions, the recorder folds
//! constants with them while recording, and the optimizer's constant folding calls
//! them too — so "what `iadd` means" is written once and every consumer agrees with
//! the oracle by construction.
//!
//! Values are register bit patterns (`u64`): an `i64` as two's complement, an `f64` by
//! its bits, a `bool` as 0 or 1, a `ref`/`ptr` as its address.
//!
//! ```
//! use leones_ir::{fold, BinaryOp, Const};
//! assert_eq!(fold::binary_const(BinaryOp::IAdd, Const::I64(2), Const::I64(3)), Ok(Const::I64(5)));
//! assert_eq!(fold::binary_const(BinaryOp::IDiv, Const::I64(1), Const::I64(0)), Err(fold::FoldError::DivisionByZero));
//! assert_eq!(fold::binary_bits(BinaryOp::IAddOvf, i64::MAX as u64, 1).map(|r| r.overflow), Ok(true));
//! ```

use crate::op::{BinaryOp, Const, UnaryOp};

/// Why a pure op has no result.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("division by zero")]
    DivisionByZero,
}

/// The result of a binary op: its bits, and whether an `*_ovf` op overflowed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BinaryResult {
    pub bits: u64,
    pub overflow: bool,
}

/// A unary op on register bits.
#[inline]
pub fn unary_bits(op: UnaryOp, x: u64) -> u64 {
    const SIGN: u64 = 1 << 63;
    match op {
        UnaryOp::INeg => (x as i64).wrapping_neg() as u64,
        UnaryOp::INot => !x,
        UnaryOp::FNeg => x ^ SIGN,
        UnaryOp::FAbs => x & !SIGN,
        UnaryOp::BNot => x ^ 1,
        UnaryOp::I2F => (x as i64 as f64).to_bits(),
        // Rust's `as` truncates and saturates, NaN becoming 0.
        UnaryOp::F2I => f64::from_bits(x) as i64 as u64,
        // Bit-preserving: bools are already 0/1, the rest reinterpret.
        UnaryOp::B2I
        | UnaryOp::F2Bits
        | UnaryOp::Bits2F
        | UnaryOp::Ptr2I
        | UnaryOp::I2Ptr
        | UnaryOp::Ref2I
        | UnaryOp::I2Ref => x,
    }
}

/// The one NaN float arithmetic (`fadd fsub fmul fdiv`) produces.
pub const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// The bits of a float arithmetic result: a NaN result is [`CANONICAL_NAN`]. Which NaN
/// the hardware returns depends on operand order when both operands are NaN, and
/// compilers (LLVM's x86 backend among them) commute `fadd`/`fmul` freely; a canonical
/// NaN makes the result independent of that, so compiled code and the interpreter agree
/// bit for bit. Sign ops (`fneg`, `fabs`) and bit casts keep payloads.
#[inline]
pub fn arith_bits(r: f64) -> u64 {
    if r.is_nan() {
        CANONICAL_NAN
    } else {
        r.to_bits()
    }
}

/// A binary op on register bits.
#[inline]
pub fn binary_bits(op: BinaryOp, x: u64, y: u64) -> Result<BinaryResult, FoldError> {
    use BinaryOp::*;
    let (a, b) = (x as i64, y as i64);
    let (f, g) = (f64::from_bits(x), f64::from_bits(y));
    let plain = |bits: u64| Ok(BinaryResult { bits, overflow: false });
    let checked = |(r, overflow): (i64, bool)| {
        Ok(BinaryResult {
            bits: r as u64,
            overflow,
        })
    };
    match op {
        IAdd => plain(a.wrapping_add(b) as u64),
        ISub => plain(a.wrapping_sub(b) as u64),
        IMul => plain(a.wrapping_mul(b) as u64),
        IDiv | IRem if b == 0 => Err(FoldError::DivisionByZero),
        // `wrapping_div`: i64::MIN / -1 == i64::MIN, and the remainder 0.
        IDiv => plain(a.wrapping_div(b) as u64),
        IRem => plain(a.wrapping_rem(b) as u64),
        IAddOvf => checked(a.overflowing_add(b)),
        ISubOvf => checked(a.overflowing_sub(b)),
        IMulOvf => checked(a.overflowing_mul(b)),
        IAnd | BAnd => plain(x & y),
        IOr | BOr => plain(x | y),
        IXor | BXor => plain(x ^ y),
        // `wrapping_sh*` take the amount mod 64; `as u32` keeps its low bits.
        IShl => plain(x.wrapping_shl(y as u32)),
        IShr => plain(a.wrapping_shr(y as u32) as u64),
        IUShr => plain(x.wrapping_shr(y as u32)),
        IEq | REq => plain((x == y) as u64),
        INe | RNe => plain((x != y) as u64),
        ILt => plain((a < b) as u64),
        ILe => plain((a <= b) as u64),
        IGt => plain((a > b) as u64),
        IGe => plain((a >= b) as u64),
        IULt => plain((x < y) as u64),
        IULe => plain((x <= y) as u64),
        IUGt => plain((x > y) as u64),
        IUGe => plain((x >= y) as u64),
        FAdd => plain(arith_bits(f + g)),
        FSub => plain(arith_bits(f - g)),
        FMul => plain(arith_bits(f * g)),
        FDiv => plain(arith_bits(f / g)),
        FEq => plain((f == g) as u64),
        FNe => plain((f != g) as u64),
        FLt => plain((f < g) as u64),
        FLe => plain((f <= g) as u64),
        FGt => plain((f > g) as u64),
        FGe => plain((f >= g) as u64),
        PtrAdd => plain(x.wrapping_add(y)),
    }
}

/// Rebuilds a constant of type `ty` from register bits.
pub fn const_from_bits(ty: crate::Type, bits: u64) -> Const {
    match ty {
        crate::Type::I64 => Const::I64(bits as i64),
        crate::Type::F64 => Const::F64(f64::from_bits(bits)),
        crate::Type::Bool => Const::Bool(bits != 0),
        crate::Type::Ref => Const::Ref(bits),
        crate::Type::Ptr => Const::Ptr(bits),
    }
}

/// Folds a unary op on a constant.
pub fn unary_const(op: UnaryOp, x: Const) -> Const {
    const_from_bits(op.signature().1, unary_bits(op, x.bits()))
}

/// Folds a binary op on constants. For `*_ovf` ops this gives the wrapped result; use
/// [`binary_bits`] to learn whether it overflowed.
pub fn binary_const(op: BinaryOp, x: Const, y: Const) -> Result<Const, FoldError> {
    let r = binary_bits(op, x.bits(), y.bits())?;
    Ok(const_from_bits(op.signature().2, r.bits))
}
