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
//! - **NaN bit patterns**: which NaN `fadd fsub fmul fdiv` return is not something
//!   LLVM preserves — APFloat folds `0.0 / 0.0` to `0x7ff8…` where x86 gives `0xfff8…`,
//!   and x86 codegen commutes `addsd`/`mulsd`, which changes the result when both
//!   operands are NaN. The IR therefore defines a NaN arithmetic result as the
//!   canonical NaN (`leones_ir::fold::CANONICAL_NAN`); each such op is followed by
//!   `fcmp uno` + `select` (two cheap instructions) and LLVM may fold and commute
//!   freely. (Comparisons, sign ops and conversions keep bits exactly.)

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

    /// `r`, with a NaN replaced by the canonical NaN (see the module docs on NaN bit
    /// patterns and `leones_ir::fold::arith_bits`).
    fn canonical_nan(&self, r: FloatValue<'ctx>) -> Result<BasicValueEnum<'ctx>, BackendError> {
        // `uno r, 0.0`, LLVM's canonical form of the NaN test (`uno r, r` means the same).
        let is_nan = self
            .b
            .build_float_compare(FloatPredicate::UNO, r, self.tys.f64.const_zero(), "")?;
        let canon = self.tys.f64.const_float(f64::from_bits(leones_ir::fold::CANONICAL_NAN));
        Ok(self.b.build_select(is_nan, canon, r, "")?.as_basic_value_enum())
    }

    pub(super) fn unary(&self, op: UnaryOp, a: Value) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let t = self.tys;
        let b = &self.b;
        Ok(match op {
            UnaryOp::INeg => b.build_int_neg(self.int(a)?, "")?.into(),
            UnaryOp::INot | UnaryOp::BNot => b.build_not(self.int(a)?, "")?.into(),
            UnaryOp::FNeg => b.build_float_neg(self.float(a)?, "")?.into(),
            // Clearing the sign bit rather than `llvm.fabs`: O0's FastISel cannot
            // select the intrinsic, and one unselectable instruction sends its whole
            // block through SelectionDAG; `instcombine` turns this back into `fabs`.
            UnaryOp::FAbs => {
                let bits = b.build_bit_cast(self.v(a)?, t.i64, "")?.into_int_value();
                let cleared = b.build_and(bits, t.i64.const_int(i64::MAX as u64, false), "")?;
                b.build_bit_cast(cleared, t.f64, "")?
            }
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
            FAdd => self.canonical_nan(b.build_float_add(self.float(x)?, self.float(y)?, "")?)?,
            FSub => self.canonical_nan(b.build_float_sub(self.float(x)?, self.float(y)?, "")?)?,
            FMul => self.canonical_nan(b.build_float_mul(self.float(x)?, self.float(y)?, "")?)?,
            FDiv => self.canonical_nan(b.build_float_div(self.float(x)?, self.float(y)?, "")?)?,
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
    /// -1 becomes a negation (quotient) or zero (remainder); a constant divisor that is
    /// neither needs no check (baseline code leaves them out the same way).
    fn division(&mut self, rem: bool, x: Value, y: Value) -> Result<IntValue<'ctx>, BackendError> {
        let (a, d) = (self.int(x)?, self.int(y)?);
        if matches!(self.constant_of(y), Some(Const::I64(k)) if k != 0 && k != -1) {
            // Neither check can fail: the plain instruction.
            return Ok(if rem {
                self.b.build_int_signed_rem(a, d, "")?
            } else {
                self.b.build_int_signed_div(a, d, "")?
            });
        }
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
