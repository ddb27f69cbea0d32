//! # Operators
//!
//! Python's operators on traced values, specialized to the operand types seen while
//! recording: truthiness, comparisons and `is`, `+ - *` (overflow-checked on ints,
//! floats mixed in via `i2f`), and `//` / `%` with Python's floor semantics. Value
//! computations and their guards only; object layouts are [`super::objects`]'s job.

use super::{unsupported, Rec};
use crate::object::*;
use crate::value::*;
use leones_ir::{BinaryOp, Type, UnaryOp};
use leones_tracer::{Abort, Tv};

impl Rec<'_> {
    /// A traced operand as f64 (ints converted).
    pub(super) fn as_float(&mut self, tv: Tv, v: Value) -> Result<Tv, Abort> {
        match v.tag {
            TAG_FLOAT => Ok(tv),
            TAG_INT => self.r.unary(UnaryOp::I2F, tv),
            _ => Err(unsupported("float operand of another type")),
        }
    }

    /// Python truthiness of `tv` (seen as `v`).
    pub(super) fn truth(&mut self, tv: Tv, v: Value) -> Result<Tv, Abort> {
        match v.tag {
            TAG_BOOL => Ok(tv),
            TAG_INT => {
                let z = self.int(0);
                self.bin(BinaryOp::INe, tv, z)
            }
            TAG_FLOAT => {
                let z = self.r.constant(0.0f64);
                self.bin(BinaryOp::FNe, tv, z)
            }
            TAG_NONE => {
                self.r.guard_null(tv, true)?;
                Ok(Tv::constant(false))
            }
            _ => match v.kind() {
                Some(Kind::Instance) => {
                    self.guard_instance(tv, v)?;
                    Ok(Tv::constant(true))
                }
                Some(Kind::Tuple | Kind::List | Kind::Bytes) => {
                    let n = self.seq_len(tv, v)?.ok_or_else(|| unsupported("length"))?;
                    let z = self.int(0);
                    self.bin(BinaryOp::INe, n, z)
                }
                _ => Err(unsupported("truth of this kind of object")),
            },
        }
    }

    /// `a <op> b` for a comparison; `None` when the operand types are not traced.
    pub(super) fn compare(&mut self, op: CmpKind, a: u16, b: u16) -> Result<Tv, Abort> {
        let (x, y) = (self.reg(a), self.reg(b));
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        let ops = match (x.tag, y.tag) {
            (TAG_INT, TAG_INT) => [
                BinaryOp::ILt,
                BinaryOp::ILe,
                BinaryOp::IGt,
                BinaryOp::IGe,
                BinaryOp::IEq,
                BinaryOp::INe,
            ],
            (TAG_FLOAT, TAG_FLOAT) => [
                BinaryOp::FLt,
                BinaryOp::FLe,
                BinaryOp::FGt,
                BinaryOp::FGe,
                BinaryOp::FEq,
                BinaryOp::FNe,
            ],
            _ => return Err(unsupported("comparison of mixed types")),
        };
        self.bin(ops[op as usize], ta, tb)
    }

    /// `a is b`.
    pub(super) fn is(&mut self, a: u16, b: u16) -> Result<Tv, Abort> {
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        if ta.ty() != tb.ty() {
            return Ok(Tv::constant(false));
        }
        match ta.ty() {
            Type::I64 => self.bin(BinaryOp::IEq, ta, tb),
            Type::Ref => self.bin(BinaryOp::REq, ta, tb),
            Type::Bool => {
                let x = self.bin(BinaryOp::BXor, ta, tb)?;
                self.r.unary(UnaryOp::BNot, x)
            }
            Type::F64 => {
                let x = self.r.unary(UnaryOp::F2Bits, ta)?;
                let y = self.r.unary(UnaryOp::F2Bits, tb)?;
                self.bin(BinaryOp::IEq, x, y)
            }
            Type::Ptr => Err(Abort::Invalid("a raw pointer in a frame slot".into())),
        }
    }

    /// `+ - *` on the operands of `dst = a op b`.
    pub(super) fn arith(
        &mut self,
        dst: u16,
        a: u16,
        b: u16,
        int_op: BinaryOp,
        float_op: BinaryOp,
    ) -> Result<(), Abort> {
        let (x, y) = (self.reg(a), self.reg(b));
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        let r = if x.is_int() && y.is_int() {
            let (p, q) = (x.as_int(), y.as_int());
            let overflowed = match int_op {
                BinaryOp::IAddOvf => p.checked_add(q).is_none(),
                BinaryOp::ISubOvf => p.checked_sub(q).is_none(),
                _ => p.checked_mul(q).is_none(),
            };
            self.r.binary_ovf(int_op, ta, tb, overflowed)?
        } else if (x.is_float() || y.is_float()) && (x.is_int() || x.is_float()) && (y.is_int() || y.is_float()) {
            let (fa, fb) = (self.as_float(ta, x)?, self.as_float(tb, y)?);
            self.bin(float_op, fa, fb)?
        } else {
            return Err(unsupported("arithmetic on these types"));
        };
        self.set(dst, r)
    }

    /// `//` and `%` on ints with a positive divisor (Python's floor semantics).
    pub(super) fn floor_divmod(&mut self, dst: u16, a: u16, b: u16, want_mod: bool) -> Result<(), Abort> {
        let (x, y) = (self.reg(a), self.reg(b));
        if !(x.is_int() && y.is_int() && y.as_int() > 0) {
            return Err(unsupported("// or % outside ints with a positive divisor"));
        }
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        let z = self.int(0);
        let pos = self.bin(BinaryOp::IGt, tb, z)?;
        self.r.guard(pos, true)?;
        let rem = self.bin(BinaryOp::IRem, ta, tb)?;
        let neg = self.bin(BinaryOp::ILt, rem, z)?;
        let r = if want_mod {
            let fixed = self.bin(BinaryOp::IAdd, rem, tb)?;
            self.r.select(neg, fixed, rem)?
        } else {
            let q = self.bin(BinaryOp::IDiv, ta, tb)?;
            let one = self.int(1);
            let fixed = self.bin(BinaryOp::ISub, q, one)?;
            self.r.select(neg, fixed, q)?
        };
        self.set(dst, r)
    }
}

/// Comparison kinds, in the order of the op tables in [`Rec::compare`].
#[derive(Copy, Clone)]
pub(super) enum CmpKind {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}
