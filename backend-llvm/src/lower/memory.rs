//! # Memory and calls: `new`, fields, arrays, raw `load`/`store`, host calls
//!
//! Objects are plain memory at the addresses the host gave out, so every access is a
//! load or store at `base + constant offset` (fields, the length word, raw memory) or
//! `base + items_offset + index * size` (array items). In memory a `bool` is one byte
//! (non-zero reads as true, stores write 0/1), narrow integers extend as their memory
//! type says, `f32` widens and rounds. Accesses use alignment 1: raw offsets are
//! arbitrary, and on x86-64 an unaligned scalar access costs nothing.
//!
//! With [`UnitOptions::checks`](crate::UnitOptions::checks) on (the default), a null
//! base leaves with [`RET_FAULT_NULL`] and an index outside `0..len` with
//! [`RET_FAULT_BOUNDS`], in the interpreter's order (null first, then the length).
//! A pointer constant other than null (a global the recorder saw) is not checked.
//! Wild addresses cannot be checked natively: traces must guard what they access.
//!
//! `new` calls the host allocator from the [`JitState`](crate::JitState) (zeroed memory)
//! and writes the class word. Host calls go through `CallDescr::addr` with the C
//! convention of the [`abi`](crate::abi) module; afterwards the exception flag is
//! `take_exception() != 0` for calls that may raise and false for the others — the
//! interpreter's "the next call resets it".

use super::Lowerer;
use crate::abi::{OFF_ALLOC, OFF_ALLOC_CTX, OFF_TAKE_EXC, RET_FAULT_BOUNDS, RET_FAULT_NULL};
use crate::BackendError;
use inkwell::types::BasicType;
use inkwell::types::{BasicMetadataTypeEnum, BasicTypeEnum};
use inkwell::values::{BasicMetadataValueEnum, BasicValue, BasicValueEnum, IntValue, PointerValue};
use inkwell::IntPredicate;
use leones_ir::{ArrayId, CallId, Const, FieldId, LayoutId, MemType, Type, Value};

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// `base + off` with a run-time offset.
    pub(super) fn offset_dyn(
        &self,
        base: PointerValue<'ctx>,
        off: IntValue<'ctx>,
    ) -> Result<PointerValue<'ctx>, BackendError> {
        // SAFETY (LLVM-level): a plain byte GEP; no inbounds assumption.
        Ok(unsafe { self.b.build_gep(self.tys.i8, base, &[off], "")? })
    }

    /// With checks on, leaves with a null fault unless `v` is non-null (once per
    /// value and IR block).
    fn null_check(&mut self, v: Value) -> Result<(), BackendError> {
        let nonnull_constant = matches!(self.constant_of(v), Some(Const::Ref(a) | Const::Ptr(a)) if a != 0);
        if self.info.checks && !nonnull_constant && self.nonnull.insert(v) {
            let ok = self.b.build_is_not_null(self.pointer(v)?, "")?;
            self.check_or_fault(ok, RET_FAULT_NULL)?;
        }
        Ok(())
    }

    /// Loads memory type `mt` at `p`, producing its register value.
    fn mem_load(&self, p: PointerValue<'ctx>, mt: MemType) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let t = self.tys;
        let b = &self.b;
        let raw = |ty: BasicTypeEnum<'ctx>| -> Result<BasicValueEnum<'ctx>, BackendError> {
            let v = self.b.build_load(ty, p, "")?;
            if let Some(i) = v.as_instruction_value() {
                let _ = i.set_alignment(1);
            }
            Ok(v)
        };
        Ok(match mt {
            MemType::I8S => b
                .build_int_s_extend(raw(t.i8.into())?.into_int_value(), t.i64, "")?
                .into(),
            MemType::I8U => b
                .build_int_z_extend(raw(t.i8.into())?.into_int_value(), t.i64, "")?
                .into(),
            MemType::I16S => b
                .build_int_s_extend(raw(t.i16.into())?.into_int_value(), t.i64, "")?
                .into(),
            MemType::I16U => b
                .build_int_z_extend(raw(t.i16.into())?.into_int_value(), t.i64, "")?
                .into(),
            MemType::I32S => b
                .build_int_s_extend(raw(t.i32.into())?.into_int_value(), t.i64, "")?
                .into(),
            MemType::I32U => b
                .build_int_z_extend(raw(t.i32.into())?.into_int_value(), t.i64, "")?
                .into(),
            MemType::Bool => {
                let byte = raw(t.i8.into())?.into_int_value();
                b.build_int_compare(IntPredicate::NE, byte, t.i8.const_zero(), "")?
                    .into()
            }
            MemType::F32 => b
                .build_float_ext(raw(t.f32.into())?.into_float_value(), t.f64, "")?
                .into(),
            MemType::I64 => raw(t.i64.into())?,
            MemType::F64 => raw(t.f64.into())?,
            MemType::Ref | MemType::Ptr => raw(t.ptr.into())?,
        })
    }

    /// Stores the register value `v` at `p` as memory type `mt`.
    fn mem_store(&self, p: PointerValue<'ctx>, mt: MemType, v: BasicValueEnum<'ctx>) -> Result<(), BackendError> {
        let t = self.tys;
        let b = &self.b;
        let stored: BasicValueEnum<'ctx> = match mt {
            MemType::I8S | MemType::I8U => b.build_int_truncate(v.into_int_value(), t.i8, "")?.into(),
            MemType::I16S | MemType::I16U => b.build_int_truncate(v.into_int_value(), t.i16, "")?.into(),
            MemType::I32S | MemType::I32U => b.build_int_truncate(v.into_int_value(), t.i32, "")?.into(),
            MemType::Bool => b.build_int_z_extend(v.into_int_value(), t.i8, "")?.into(),
            MemType::F32 => b.build_float_trunc(v.into_float_value(), t.f32, "")?.into(),
            MemType::I64 | MemType::F64 | MemType::Ref | MemType::Ptr => v,
        };
        let st = b.build_store(p, stored)?;
        let _ = st.set_alignment(1);
        Ok(())
    }

    pub(super) fn new_object(&mut self, l: LayoutId) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let layout = self.trace.layout(l);
        let t = self.tys;
        let alloc = self.load_state(OFF_ALLOC, t.ptr.into())?.into_pointer_value();
        let ctx_arg = self.load_state(OFF_ALLOC_CTX, t.ptr.into())?;
        let fn_ty = t.i64.fn_type(&[t.ptr.into(), t.i64.into()], false);
        let size = t.i64.const_int(layout.size.into(), false);
        let call = self
            .b
            .build_indirect_call(fn_ty, alloc, &[ctx_arg.into(), size.into()], "")?;
        let addr = call
            .try_as_basic_value()
            .basic()
            .expect("alloc returns i64")
            .into_int_value();
        let obj = self.b.build_int_to_ptr(addr, t.ptr, "obj")?;
        if let Some(class) = layout.class {
            self.mem_store(obj, MemType::I64, t.i64.const_int(class, false).into())?;
        }
        Ok(obj.into())
    }

    /// The checked address of field `f` of `obj`.
    fn field_addr(&mut self, obj: Value, f: FieldId) -> Result<(PointerValue<'ctx>, MemType), BackendError> {
        let fd = self.trace.field(f);
        self.null_check(obj)?;
        Ok((self.offset(self.pointer(obj)?, fd.offset.into())?, MemType::of(fd.ty)))
    }

    pub(super) fn get_field(&mut self, obj: Value, f: FieldId) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let (p, mt) = self.field_addr(obj, f)?;
        self.mem_load(p, mt)
    }

    pub(super) fn set_field(&mut self, obj: Value, f: FieldId, v: Value) -> Result<(), BackendError> {
        let (p, mt) = self.field_addr(obj, f)?;
        self.mem_store(p, mt, self.v(v)?)
    }

    /// The length word of `arr` (after its null check).
    pub(super) fn array_len(&mut self, a: ArrayId, arr: Value) -> Result<BasicValueEnum<'ctx>, BackendError> {
        self.null_check(arr)?;
        let p = self.offset(self.pointer(arr)?, self.trace.array(a).len_offset.into())?;
        self.mem_load(p, MemType::I64)
    }

    /// The checked address of item `idx` of `arr`.
    fn item_addr(&mut self, a: ArrayId, arr: Value, idx: Value) -> Result<(PointerValue<'ctx>, MemType), BackendError> {
        let ad = self.trace.array(a).clone();
        let base = self.pointer(arr)?;
        let index = self.int(idx)?;
        if self.info.checks {
            let len = self.array_len(a, arr)?.into_int_value();
            // Unsigned: a negative index is huge, so one compare checks both ends.
            let ok = self.b.build_int_compare(IntPredicate::ULT, index, len, "")?;
            self.check_or_fault(ok, RET_FAULT_BOUNDS)?;
        }
        let size = self.tys.i64.const_int(ad.elem.mem_size().into(), false);
        let scaled = self.b.build_int_mul(index, size, "")?;
        let off = self
            .b
            .build_int_add(scaled, self.tys.i64.const_int(ad.items_offset.into(), false), "")?;
        Ok((self.offset_dyn(base, off)?, MemType::of(ad.elem)))
    }

    pub(super) fn get_item(
        &mut self,
        a: ArrayId,
        arr: Value,
        idx: Value,
    ) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let (p, mt) = self.item_addr(a, arr, idx)?;
        self.mem_load(p, mt)
    }

    pub(super) fn set_item(&mut self, a: ArrayId, arr: Value, idx: Value, v: Value) -> Result<(), BackendError> {
        let (p, mt) = self.item_addr(a, arr, idx)?;
        self.mem_store(p, mt, self.v(v)?)
    }

    pub(super) fn load_raw(&mut self, mt: MemType, p: Value, off: i64) -> Result<BasicValueEnum<'ctx>, BackendError> {
        self.null_check(p)?;
        let addr = self.offset(self.pointer(p)?, off)?;
        self.mem_load(addr, mt)
    }

    pub(super) fn store_raw(&mut self, mt: MemType, p: Value, off: i64, v: Value) -> Result<(), BackendError> {
        self.null_check(p)?;
        let addr = self.offset(self.pointer(p)?, off)?;
        self.mem_store(addr, mt, self.v(v)?)
    }

    /// The C type a host function takes or returns for an IR type.
    fn c_type(&self, t: Type) -> BasicTypeEnum<'ctx> {
        match t {
            Type::Bool => self.tys.i64.into(),
            other => self.tys.of(other),
        }
    }

    pub(super) fn call(&mut self, c: CallId, args: &[Value]) -> Result<Option<BasicValueEnum<'ctx>>, BackendError> {
        let cd = self.trace.call(c).clone();
        let params: Vec<BasicMetadataTypeEnum> = cd.params.iter().map(|t| self.c_type(*t).into()).collect();
        let fn_ty = match cd.ret {
            Some(r) => self.c_type(r).fn_type(&params, false),
            None => self.ctx.void_type().fn_type(&params, false),
        };
        let mut actual: Vec<BasicMetadataValueEnum> = Vec::new();
        for (a, ty) in args.iter().zip(&cd.params) {
            let v = self.v(*a)?;
            actual.push(match ty {
                Type::Bool => self.b.build_int_z_extend(v.into_int_value(), self.tys.i64, "")?.into(),
                _ => v.into(),
            });
        }
        let call = self
            .b
            .build_indirect_call(fn_ty, self.const_ptr(cd.addr), &actual, "")?;
        let result = match cd.ret {
            None => None,
            Some(ty) => {
                let r = call.try_as_basic_value().basic().expect("non-void call");
                Some(match ty {
                    Type::Bool => self
                        .b
                        .build_int_compare(IntPredicate::NE, r.into_int_value(), self.tys.i64.const_zero(), "")?
                        .into(),
                    _ => r,
                })
            }
        };
        let raised = if cd.effects.may_raise {
            let take = self.load_state(OFF_TAKE_EXC, self.tys.ptr.into())?.into_pointer_value();
            let take_ty = self.tys.i64.fn_type(&[], false);
            let r = self.b.build_indirect_call(take_ty, take, &[], "")?;
            let r = r.try_as_basic_value().basic().expect("i64 result").into_int_value();
            self.b
                .build_int_compare(IntPredicate::NE, r, self.tys.i64.const_zero(), "raised")?
        } else {
            self.tys.i1.const_zero()
        };
        self.b.build_store(self.exc, raised)?;
        Ok(result)
    }
}
