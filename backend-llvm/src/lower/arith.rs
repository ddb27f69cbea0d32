//! # Scalars: constants, integer/float/bool ops, conversions, `select`, overflow
//!
//! Each IR op maps to the LLVM instruction with *exactly* the interpreter's meaning,
//! which is where the care goes:
//!
//! - integer ops wrap: no `nsw`/`nuw` flags anywhere;
//! - `idiv`/`irem` by zero leave with [`RET_FAULT_DIV_ZERO`] (never UB), and
//!   `i64::MIN / -1` (UB for `sdiv`) is computed as a wrapping negation (remainder 0)
//!   by dividing by a divisor of 1 in that case;
//! - shift amounts are masked with 63 (an over-wide LLVM shift is poison);
//! - `f2i` is `llvm.fptosi.sat` (saturating, NaN → 0, like Rust's `as`);
//! - float comparisons are ordered except `fne` (`une`: NaN compares unequal);
//! - `*_ovf` use `llvm.s{add,sub,mul}.with.overflow`; the overflow bit is remembered
//!   per result value for its `guard_no_overflow`;
//! - `select.unpredictable` carries `!unpredictable` metadata so codegen keeps a `cmov`;
//! - **NaN bit patterns**: LLVM constant-folds float arithmetic with APFloat, whose
//!   "default NaN" (`0x7ff8…`) is not x86's (`0xfff8…`), so a folded `0.0 / 0.0` would
//!   differ bitwise from the interpreter's (which the hardware computes). The operands
//!   of `fadd fsub fmul fdiv` therefore pass through `llvm.arithmetic.fence`, which no
//!   folder looks through and which emits no machine instruction: the arithmetic
//!   always runs on the hardware, like the interpreter's. (Comparisons, sign ops and
//!   conversions fold exactly and are left alone.)

use super::Lowerer;
use crate::abi::RET_FAULT_DIV_ZERO;
use crate::BackendError;
use inkwell::intrinsics::Intrinsic;
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicValue, BasicValueEnum, FloatValue, IntValue};
use inkwell::{FloatPredicate, IntPredicate};
use leones_ir::{BinaryOp, Const, UnaryOp, Value};

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    pub(super) fn constant(&self, k: Const) -> BasicValueEnum<'ctx> {
        match k {
            Const::I64(v) => self.tys.i64.const_int(v as u64, true).into(),
            // `const_float` builds the APFloat from the double's bits: NaN payloads survive.
            Const::F64(v) => self.tys.f64.const_float(v).into(),
            Const::Bool(b) => self.tys.i1.const_int(b as u64, false).into(),
            Const::Ref(a) | Const::Ptr(a) => self.const_ptr(a).into(),
        }
    }

    /// Calls an overloaded intrinsic.
    pub(super) fn intrinsic(
        &self,
        name: &str,
        overloads: &[BasicTypeEnum<'ctx>],
        args: &[BasicValueEnum<'ctx>],
    ) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let f = Intrinsic::find(name)
            .and_then(|i| i.get_declaration(&self.module, overloads))
            .ok_or_else(|| BackendError::Builder(format!("no intrinsic {name}")))?;
        let args: Vec<_> = args.iter().map(|a| (*a).into()).collect();
        let call = self.b.build_call(f, &args, "")?;
        call.try_as_basic_value()
            .basic()
            .ok_or_else(|| BackendError::Builder(format!("{name} has no result")))
    }

    /// `llvm.arithmetic.fence(v)`: `v`, but opaque to constant folding (see the module
    /// docs on NaN bit patterns).
    fn fenced(&self, v: Value) -> Result<FloatValue<'ctx>, BackendError> {
        let f = self.intrinsic("llvm.arithmetic.fence", &[self.tys.f64.into()], &[self.v(v)?])?;
        Ok(f.into_float_value())
    }

    pub(super) fn unary(&self, op: UnaryOp, a: Value) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let t = self.tys;
        let b = &self.b;
        Ok(match op {
            UnaryOp::INeg => b.build_int_neg(self.int(a)?, "")?.into(),
            UnaryOp::INot | UnaryOp::BNot => b.build_not(self.int(a)?, "")?.into(),
            UnaryOp::FNeg => b.build_float_neg(self.float(a)?, "")?.into(),
            UnaryOp::FAbs => self.intrinsic("llvm.fabs", &[t.f64.into()], &[self.v(a)?])?,
            UnaryOp::I2F => b.build_signed_int_to_float(self.int(a)?, t.f64, "")?.into(),
            UnaryOp::F2I => self.intrinsic("llvm.fptosi.sat", &[t.i64.into(), t.f64.into()], &[self.v(a)?])?,
            UnaryOp::B2I => b.build_int_z_extend(self.int(a)?, t.i64, "")?.into(),
            UnaryOp::F2Bits => b.build_bit_cast(self.v(a)?, t.i64, "")?,
            UnaryOp::Bits2F => b.build_bit_cast(self.v(a)?, t.f64, "")?,
            UnaryOp::Ptr2I => b.build_ptr_to_int(self.pointer(a)?, t.i64, "")?.into(),
            UnaryOp::I2Ptr => b.build_int_to_ptr(self.int(a)?, t.ptr, "")?.into(),
            UnaryOp::Ref2I => b.build_ptr_to_int(self.pointer(a)?, t.i64, "")?.into(),
            UnaryOp::I2Ref => b.build_int_to_ptr(self.int(a)?, t.ptr, "")?.into(),
        })
    }

    pub(super) fn binary(
        &mut self,
        op: BinaryOp,
        x: Value,
        y: Value,
        result: Option<Value>,
    ) -> Result<BasicValueEnum<'ctx>, BackendError> {
        use BinaryOp::*;
        let b = &self.b;
        let icmp = |p: IntPredicate| -> Result<BasicValueEnum<'ctx>, BackendError> {
            Ok(self.b.build_int_compare(p, self.int(x)?, self.int(y)?, "")?.into())
        };
        let fcmp = |p: FloatPredicate| -> Result<BasicValueEnum<'ctx>, BackendError> {
            Ok(self
                .b
                .build_float_compare(p, self.float(x)?, self.float(y)?, "")?
                .into())
        };
        Ok(match op {
            IAdd => b.build_int_add(self.int(x)?, self.int(y)?, "")?.into(),
            ISub => b.build_int_sub(self.int(x)?, self.int(y)?, "")?.into(),
            IMul => b.build_int_mul(self.int(x)?, self.int(y)?, "")?.into(),
            IDiv | IRem => self.division(op == IRem, x, y)?.into(),
            IAddOvf | ISubOvf | IMulOvf => {
                let name = match op {
                    IAddOvf => "llvm.sadd.with.overflow",
                    ISubOvf => "llvm.ssub.with.overflow",
                    _ => "llvm.smul.with.overflow",
                };
                let pair = self.intrinsic(name, &[self.tys.i64.into()], &[self.v(x)?, self.v(y)?])?;
                let pair = pair.into_struct_value();
                let value = self.b.build_extract_value(pair, 0, "")?;
                let overflow = self.b.build_extract_value(pair, 1, "")?.into_int_value();
                if let Some(r) = result {
                    self.ovf.insert(r, overflow);
                }
                value
            }
            IAnd | BAnd => b.build_and(self.int(x)?, self.int(y)?, "")?.into(),
            IOr | BOr => b.build_or(self.int(x)?, self.int(y)?, "")?.into(),
            IXor | BXor => b.build_xor(self.int(x)?, self.int(y)?, "")?.into(),
            IShl | IShr | IUShr => {
                let amount = b.build_and(self.int(y)?, self.tys.i64.const_int(63, false), "")?;
                let v = self.int(x)?;
                match op {
                    IShl => b.build_left_shift(v, amount, "")?,
                    IShr => b.build_right_shift(v, amount, true, "")?,
                    _ => b.build_right_shift(v, amount, false, "")?,
                }
                .into()
            }
            IEq => icmp(IntPredicate::EQ)?,
            INe => icmp(IntPredicate::NE)?,
            ILt => icmp(IntPredicate::SLT)?,
            ILe => icmp(IntPredicate::SLE)?,
            IGt => icmp(IntPredicate::SGT)?,
            IGe => icmp(IntPredicate::SGE)?,
            IULt => icmp(IntPredicate::ULT)?,
            IULe => icmp(IntPredicate::ULE)?,
            IUGt => icmp(IntPredicate::UGT)?,
            IUGe => icmp(IntPredicate::UGE)?,
            FAdd => b.build_float_add(self.fenced(x)?, self.fenced(y)?, "")?.into(),
            FSub => b.build_float_sub(self.fenced(x)?, self.fenced(y)?, "")?.into(),
            FMul => b.build_float_mul(self.fenced(x)?, self.fenced(y)?, "")?.into(),
            FDiv => b.build_float_div(self.fenced(x)?, self.fenced(y)?, "")?.into(),
            FEq => fcmp(FloatPredicate::OEQ)?,
            FNe => fcmp(FloatPredicate::UNE)?,
            FLt => fcmp(FloatPredicate::OLT)?,
            FLe => fcmp(FloatPredicate::OLE)?,
            FGt => fcmp(FloatPredicate::OGT)?,
            FGe => fcmp(FloatPredicate::OGE)?,
            REq | RNe => {
                let p = if op == REq { IntPredicate::EQ } else { IntPredicate::NE };
                b.build_int_compare(p, self.pointer(x)?, self.pointer(y)?, "")?.into()
            }
            PtrAdd => self.offset_dyn(self.pointer(x)?, self.int(y)?)?.into(),
        })
    }

    /// `idiv`/`irem` without undefined behaviour: a zero divisor faults, a divisor of
    /// -1 becomes a negation (quotient) or zero (remainder).
    fn division(&mut self, rem: bool, x: Value, y: Value) -> Result<IntValue<'ctx>, BackendError> {
        let (a, d) = (self.int(x)?, self.int(y)?);
        let i64t = self.tys.i64;
        let nonzero = self.b.build_int_compare(IntPredicate::NE, d, i64t.const_zero(), "")?;
        self.check_or_fault(nonzero, RET_FAULT_DIV_ZERO)?;
        let minus_one = self
            .b
            .build_int_compare(IntPredicate::EQ, d, i64t.const_all_ones(), "")?;
        let safe = self
            .b
            .build_select(minus_one, i64t.const_int(1, false), d, "")?
            .into_int_value();
        let (r, special) = if rem {
            (self.b.build_int_signed_rem(a, safe, "")?, i64t.const_zero())
        } else {
            (self.b.build_int_signed_div(a, safe, "")?, self.b.build_int_neg(a, "")?)
        };
        Ok(self.b.build_select(minus_one, special, r, "")?.into_int_value())
    }

    pub(super) fn select(
        &self,
        c: Value,
        t: Value,
        f: Value,
        unpredictable: bool,
    ) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let v = self.b.build_select(self.int(c)?, self.v(t)?, self.v(f)?, "")?;
        if unpredictable {
            if let Some(inst) = v.as_instruction_value() {
                let kind = self.ctx.get_kind_id("unpredictable");
                let _ = inst.set_metadata(self.ctx.metadata_node(&[]), kind);
            }
        }
        Ok(v)
    }
}
