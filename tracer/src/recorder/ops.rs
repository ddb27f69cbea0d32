//! # Recording operations
//!
//! One method per thing a host interpreter does. Each checks its operand types (a
//! mismatch is [`Abort::Invalid`]: a host bug, reported instead of producing a trace
//! that fails to verify), folds when every operand is a known constant, and otherwise
//! emits IR. Where the host chose a path, it passes what it observed:
//!
//! | host did | recorder call | emits |
//! |---|---|---|
//! | `c = a + b` | `binary(IAdd, a, b)` | `iadd` (or a constant) |
//! | checked add | `binary_ovf(IAddOvf, a, b, overflowed)` | `iadd_ovf` + `guard_no_overflow` (aborts if it overflowed) |
//! | branch on `c`, took `t` | `guard(c, t)` | `guard_true`/`guard_false` (nothing if `c` is constant) |
//! | specialised on a value | `promote(v, observed)` | `guard_value`; `v` is a constant from then on |
//! | class test | `guard_class(o, L)` | `guard_class` |
//! | null test | `guard_null(v, was_null)` | `guard_isnull`/`guard_nonnull` |
//! | object/array/raw access | `new_object`, `getfield`, `setfield`, `getitem`, `setitem`, `arraylen`, `load`, `store` | the op |
//! | called a host function | `call(f, args, raised)` | `call`, then `guard_no_exception` if it may raise |
//!
//! Division is emitted as is: a host whose division raises on zero records its own
//! zero test (a guard) before reporting the division.

use super::{Recorder, Repr, Tv};
use crate::abort::Abort;
use crate::registry::{ArrayRef, CallRef, FieldRef, LayoutRef};
use leones_ir::fold;
use leones_ir::interp::Val;
use leones_ir::{BinaryOp, GuardKind, MemType, Op, Type, UnaryOp};

fn want(tv: Tv, ty: Type, what: &str) -> Result<(), Abort> {
    if tv.ty() == ty {
        Ok(())
    } else {
        Err(Abort::Invalid(format!("{what}: expected {ty}, got {}", tv.ty())))
    }
}

fn want_addr(tv: Tv, what: &str) -> Result<(), Abort> {
    match tv.ty() {
        Type::Ref | Type::Ptr => Ok(()),
        t => Err(Abort::Invalid(format!("{what}: expected a ref or ptr, got {t}"))),
    }
}

impl Recorder {
    /// A known constant (no IR until it is used).
    pub fn constant(&self, v: impl Into<Val>) -> Tv {
        Tv::constant(v)
    }

    /// `op a`.
    pub fn unary(&mut self, op: UnaryOp, a: Tv) -> Result<Tv, Abort> {
        self.run(|r| {
            let (arg, res) = op.signature();
            want(a, arg, op.name())?;
            if let Some(k) = a.as_const() {
                return Ok(Tv(Repr::Const(fold::unary_const(op, k))));
            }
            let v = r.value_of(a)?;
            r.emit_value(Op::Unary(op, v), res)
        })
    }

    fn check_binary(op: BinaryOp, a: Tv, b: Tv) -> Result<Type, Abort> {
        let (x, y, res) = op.signature();
        if matches!(op, BinaryOp::REq | BinaryOp::RNe) {
            want_addr(a, op.name())?;
            want(b, a.ty(), op.name())?;
        } else {
            want(a, x, op.name())?;
            want(b, y, op.name())?;
        }
        Ok(res)
    }

    /// `op a, b` for a non-overflow-checked op.
    pub fn binary(&mut self, op: BinaryOp, a: Tv, b: Tv) -> Result<Tv, Abort> {
        self.run(|r| {
            if op.is_ovf() {
                return Err(Abort::Invalid(format!("{} needs binary_ovf", op.name())));
            }
            let res = Self::check_binary(op, a, b)?;
            if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
                return fold::binary_const(op, x, y)
                    .map(|k| Tv(Repr::Const(k)))
                    .map_err(|_| Abort::ExceptionPath);
            }
            let (x, y) = (r.value_of(a)?, r.value_of(b)?);
            r.emit_value(Op::Binary(op, x, y), res)
        })
    }

    /// An overflow-checked `op a, b` (`iadd_ovf`, `isub_ovf`, `imul_ovf`); `overflowed`
    /// is what the host observed. Emits the op and its `guard_no_overflow` (resuming at
    /// the current pc with the state before the op); aborts if it overflowed.
    pub fn binary_ovf(&mut self, op: BinaryOp, a: Tv, b: Tv, overflowed: bool) -> Result<Tv, Abort> {
        self.run(|r| {
            if !op.is_ovf() {
                return Err(Abort::Invalid(format!("{} is not overflow-checked", op.name())));
            }
            Self::check_binary(op, a, b)?;
            if overflowed {
                return Err(Abort::Overflow);
            }
            if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
                let res = fold::binary_bits(op, x.bits(), y.bits()).map_err(|_| Abort::ExceptionPath)?;
                if res.overflow {
                    return Err(Abort::GuardAlwaysFails);
                }
                return Ok(Tv(Repr::Const(fold::const_from_bits(Type::I64, res.bits))));
            }
            let (x, y) = (r.value_of(a)?, r.value_of(b)?);
            let tv = r.emit_value(Op::Binary(op, x, y), Type::I64)?;
            let v = r.value_of(tv)?;
            r.guard_kind(GuardKind::NoOverflow(v))?;
            Ok(tv)
        })
    }

    /// `select c, a, b`.
    pub fn select(&mut self, c: Tv, a: Tv, b: Tv) -> Result<Tv, Abort> {
        self.run(|r| {
            want(c, Type::Bool, "select")?;
            want(b, a.ty(), "select")?;
            if let Some(k) = c.as_const() {
                return Ok(if k.bits() != 0 { a } else { b });
            }
            let (cond, if_true, if_false) = (r.value_of(c)?, r.value_of(a)?, r.value_of(b)?);
            let op = Op::Select {
                cond,
                if_true,
                if_false,
                unpredictable: false,
            };
            r.emit_value(op, a.ty())
        })
    }

    /// The host branched on `cond` and saw it be `observed`.
    pub fn guard(&mut self, cond: Tv, observed: bool) -> Result<(), Abort> {
        self.run(|r| {
            want(cond, Type::Bool, "guard")?;
            if let Some(k) = cond.as_const() {
                return if (k.bits() != 0) == observed {
                    Ok(())
                } else {
                    Err(Abort::GuardAlwaysFails)
                };
            }
            let v = r.value_of(cond)?;
            r.guard_kind(if observed {
                GuardKind::True(v)
            } else {
                GuardKind::False(v)
            })
        })
    }

    /// The host tested `v` (a ref or ptr) for null and saw `was_null`.
    pub fn guard_null(&mut self, v: Tv, was_null: bool) -> Result<(), Abort> {
        self.run(|r| {
            want_addr(v, "guard_null")?;
            if let Some(k) = v.as_const() {
                return if (k.bits() == 0) == was_null {
                    Ok(())
                } else {
                    Err(Abort::GuardAlwaysFails)
                };
            }
            let x = r.value_of(v)?;
            r.guard_kind(if was_null {
                GuardKind::IsNull(x)
            } else {
                GuardKind::NonNull(x)
            })
        })
    }

    /// The host relied on `obj` having `layout`'s class (the layout must have one).
    pub fn guard_class(&mut self, obj: Tv, layout: LayoutRef) -> Result<(), Abort> {
        self.run(|r| {
            want(obj, Type::Ref, "guard_class")?;
            let l = r.layout(layout)?;
            if r.trace.layout(l).class.is_none() {
                return Err(Abort::Invalid(format!(
                    "layout {} has no class word",
                    r.trace.layout(l).name
                )));
            }
            let x = r.value_of(obj)?;
            r.guard_kind(GuardKind::Class(x, l))
        })
    }

    /// Specialises on the value the host observed: emits `guard_value v, observed` and
    /// returns the constant. Slots holding `v` hold the constant from then on.
    pub fn promote(&mut self, v: Tv, observed: Val) -> Result<Tv, Abort> {
        self.run(|r| {
            if observed.ty() != v.ty() {
                return Err(Abort::Invalid(format!(
                    "promote: a {} observed as {}",
                    v.ty(),
                    observed.ty()
                )));
            }
            let k = observed.to_const();
            if let Some(c) = v.as_const() {
                return if c == k { Ok(v) } else { Err(Abort::GuardAlwaysFails) };
            }
            let x = r.value_of(v)?;
            r.guard_kind(GuardKind::Value(x, k))?;
            let known = Tv(Repr::Const(k));
            for slot in r.frames.iter_mut().flat_map(|f| f.slots.iter_mut()) {
                if *slot == Some(v) {
                    *slot = Some(known);
                }
            }
            Ok(known)
        })
    }

    /// `new L`: the host allocated an object of `layout`.
    pub fn new_object(&mut self, layout: LayoutRef) -> Result<Tv, Abort> {
        self.run(|r| {
            let l = r.layout(layout)?;
            r.emit_value(Op::New(l), Type::Ref)
        })
    }

    /// `getfield obj, field`.
    pub fn getfield(&mut self, obj: Tv, field: FieldRef) -> Result<Tv, Abort> {
        self.run(|r| {
            want(obj, Type::Ref, "getfield")?;
            let (f, ty) = r.field(field)?;
            let o = r.value_of(obj)?;
            r.emit_value(Op::GetField(o, f), ty)
        })
    }

    /// `setfield obj, field, v`.
    pub fn setfield(&mut self, obj: Tv, field: FieldRef, v: Tv) -> Result<(), Abort> {
        self.run(|r| {
            want(obj, Type::Ref, "setfield")?;
            let (f, ty) = r.field(field)?;
            want(v, ty, "setfield")?;
            let (o, x) = (r.value_of(obj)?, r.value_of(v)?);
            r.emit(Op::SetField(o, f, x), None).map(drop)
        })
    }

    /// `getitem A, arr, i`.
    pub fn getitem(&mut self, array: ArrayRef, arr: Tv, i: Tv) -> Result<Tv, Abort> {
        self.run(|r| {
            want(arr, Type::Ref, "getitem")?;
            want(i, Type::I64, "getitem index")?;
            let (a, elem) = r.array(array)?;
            let (o, x) = (r.value_of(arr)?, r.value_of(i)?);
            r.emit_value(Op::GetItem(a, o, x), elem)
        })
    }

    /// `setitem A, arr, i, v`.
    pub fn setitem(&mut self, array: ArrayRef, arr: Tv, i: Tv, v: Tv) -> Result<(), Abort> {
        self.run(|r| {
            want(arr, Type::Ref, "setitem")?;
            want(i, Type::I64, "setitem index")?;
            let (a, elem) = r.array(array)?;
            want(v, elem, "setitem")?;
            let (o, x, y) = (r.value_of(arr)?, r.value_of(i)?, r.value_of(v)?);
            r.emit(Op::SetItem(a, o, x, y), None).map(drop)
        })
    }

    /// `arraylen A, arr`.
    pub fn arraylen(&mut self, array: ArrayRef, arr: Tv) -> Result<Tv, Abort> {
        self.run(|r| {
            want(arr, Type::Ref, "arraylen")?;
            let (a, _) = r.array(array)?;
            let o = r.value_of(arr)?;
            r.emit_value(Op::ArrayLen(a, o), Type::I64)
        })
    }

    /// `load.T p, offset` from raw memory.
    pub fn load(&mut self, mt: MemType, p: Tv, offset: i64) -> Result<Tv, Abort> {
        self.run(|r| {
            want(p, Type::Ptr, "load")?;
            let x = r.value_of(p)?;
            r.emit_value(Op::Load(mt, x, offset), mt.value_type())
        })
    }

    /// `store.T p, offset, v` to raw memory.
    pub fn store(&mut self, mt: MemType, p: Tv, offset: i64, v: Tv) -> Result<(), Abort> {
        self.run(|r| {
            want(p, Type::Ptr, "store")?;
            want(v, mt.value_type(), "store")?;
            let (x, y) = (r.value_of(p)?, r.value_of(v)?);
            r.emit(Op::Store(mt, x, offset, y), None).map(drop)
        })
    }

    /// A residual call of host function `f` (not inlined); `raised` is whether it
    /// raised while recording (an exception path aborts). A call that may raise is
    /// followed by `guard_no_exception`, resuming at the current pc with the exception
    /// pending. Returns the result, if the function has one.
    pub fn call(&mut self, f: CallRef, args: &[Tv], raised: bool) -> Result<Option<Tv>, Abort> {
        self.run(|r| {
            if raised {
                return Err(Abort::ExceptionPath);
            }
            let c = {
                let reg = r.reg.clone();
                let t = reg.read();
                r.interner.call(&t, &mut r.trace, f)?
            };
            let (params, ret, may_raise) = {
                let d = r.trace.call(c);
                (d.params.clone(), d.ret, d.effects.may_raise)
            };
            if params.len() != args.len() {
                return Err(Abort::Invalid(format!(
                    "call: {} arguments, expected {}",
                    args.len(),
                    params.len()
                )));
            }
            for (a, t) in args.iter().zip(&params) {
                want(*a, *t, "call argument")?;
            }
            let vs = args.iter().map(|a| r.value_of(*a)).collect::<Result<Vec<_>, _>>()?;
            let out = r.emit(Op::Call(c, vs), ret)?;
            if may_raise {
                r.guard_kind(GuardKind::NoException)?;
            }
            Ok(out.zip(ret).map(|(v, t)| Tv::value(v, t)))
        })
    }

    fn layout(&mut self, l: LayoutRef) -> Result<leones_ir::LayoutId, Abort> {
        let reg = self.reg.clone();
        let t = reg.read();
        self.interner.layout(&t, &mut self.trace, l)
    }

    fn field(&mut self, f: FieldRef) -> Result<(leones_ir::FieldId, Type), Abort> {
        let reg = self.reg.clone();
        let t = reg.read();
        let id = self.interner.field(&t, &mut self.trace, f)?;
        Ok((id, self.trace.field(id).ty))
    }

    fn array(&mut self, a: ArrayRef) -> Result<(leones_ir::ArrayId, Type), Abort> {
        let reg = self.reg.clone();
        let t = reg.read();
        let id = self.interner.array(&t, &mut self.trace, a)?;
        Ok((id, self.trace.array(id).elem))
    }
}
