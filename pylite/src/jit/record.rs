//! # Recording pylite bytecode
//!
//! While the engine records, the interpreter calls [`record`] *before* it executes
//! each instruction, with the frame's registers as they are. The recorder mirrors the
//! frame (slot → traced value), so each instruction becomes the IR of what the
//! interpreter is about to do *on these operand types*, with guards for every
//! assumption: the tags it sees (a slot's type), the way a branch goes, no overflow,
//! an object's class, a global's value. A guard resumes at the instruction itself with
//! the state before it, so the interpreter simply executes it again.
//!
//! What is traced, instruction by instruction:
//!
//! | bytecode | trace |
//! |---|---|
//! | int `+ - *` | `iadd_ovf`… + `guard_no_overflow` |
//! | float / mixed arithmetic, `/` | `fadd`…, `i2f` for the int side, a zero-divisor guard |
//! | `//`, `%` on ints (divisor > 0) | `idiv`/`irem` + a floor correction with `select` |
//! | comparisons, branches, `is`, `not` | the compare + `guard_true`/`guard_false` |
//! | `for i in range` | compare with stop, `iadd_ovf` on the counter |
//! | globals, module attributes | a load of the value's words; objects promoted to constants |
//! | `obj.attr` on an instance | `guard_class`, `getfield` tag + word |
//! | calls of Python functions, methods, classes, property getters | inlined: one more frame (`__init__` on a `new` instance) |
//! | `abs`, `len` | inline ops |
//! | other builtins | a residual call ([`super::natives`]) with the builtin's effects |
//! | tuples, unpacking | `new tuple<n>` + `setfield`s; `getfield`s |
//! | a comprehension's append | a call of [`super::natives::list_append`] |
//! | list items | bounds guards and raw loads/stores |
//! | `for x in` a list, tuple or range iterator; `f(*t)` | [`super::iter`] |
//! | `for x in` a generator or an iterator class; `yield` | the body inlined: [`super::generators`] |
//!
//! Anything else aborts the recording (the interpreter keeps going; the location backs
//! off and is eventually blacklisted). Recording never changes what the interpreter
//! does.

mod calls;
mod objects;
mod ops;

use super::values::const_tv;
use super::world::{kind_word, World};
use crate::bytecode::*;
use crate::object::*;
use crate::value::*;
use crate::vm::{FrameKind, Vm};
use leones_ir::descr::EffectInfo;
use leones_ir::interp::Val;
use leones_ir::{BinaryOp, MemType, Type, UnaryOp};
use leones_tracer::{Abort, Recorder, Tv};
use ops::CmpKind;

/// A residual call whose result tag is only known once the interpreter has run it:
/// emitted just before the next instruction is recorded.
pub(crate) struct PostCall {
    pub dst: u16,
    pub callee: u64,
    pub tags: u64,
    pub words: Vec<Tv>,
    pub name: String,
    pub effects: EffectInfo,
}

/// The recording context for one instruction.
pub(crate) struct Rec<'a> {
    pub r: &'a mut Recorder,
    pub w: &'a mut World,
    pub roots: &'a mut Vec<Value>,
    pub vm: &'a Vm,
    pub code: &'a Code,
    pub regs: *const Value,
    pub post: &'a mut Option<PostCall>,
    /// The generator frames inlined so far in this recording ([`super::generators`]).
    pub gens: &'a mut Vec<super::generators::GenResume>,
    /// The lazy values of this recording ([`super::lazy`]).
    pub lazy: &'a mut Vec<Tv>,
}

fn unsupported(what: impl Into<String>) -> Abort {
    Abort::Unsupported(what.into())
}

impl Rec<'_> {
    pub(super) fn reg(&self, i: u16) -> Value {
        // SAFETY: register operands are < nslots (compiler invariant).
        unsafe { *self.regs.add(i as usize) }
    }
    /// The traced value of slot `i`; a lazy value is forced (its tag guarded) first.
    pub(super) fn slot(&mut self, i: u16) -> Result<Tv, Abort> {
        let tv = self.r.slot(i as usize)?;
        if self.is_lazy(tv) {
            return self.force_lazy(i, tv);
        }
        Ok(tv)
    }
    pub(super) fn set(&mut self, i: u16, tv: Tv) -> Result<(), Abort> {
        self.r.set_slot(i as usize, tv)
    }
    pub(super) fn int(&self, k: i64) -> Tv {
        self.r.constant(k)
    }
    pub(super) fn bin(&mut self, op: BinaryOp, a: Tv, b: Tv) -> Result<Tv, Abort> {
        self.r.binary(op, a, b)
    }
    /// Keeps `v` alive as long as the JIT (compiled code may embed its address).
    pub(super) fn keep(&mut self, v: Value) {
        if v.is_obj() && !self.roots.iter().any(|r| r.is(v)) {
            self.roots.push(v);
        }
    }
    /// Specializes on object `v` held by `tv`: a constant from here on.
    pub(super) fn promote_obj(&mut self, tv: Tv, v: Value) -> Result<Tv, Abort> {
        self.keep(v);
        self.r.promote(tv, Val::Ref(v.payload))
    }
}

/// Records instruction `pc` of the current frame; see the [module docs](self).
pub(crate) fn record(x: &mut Rec, pc: usize) -> Result<(), Abort> {
    x.r.set_pc(pc as u32)?;
    let ins = x.code.instrs[pc];
    use Instr::*;
    match ins {
        Nop | Jump { .. } | Loop { .. } | CheckBound { .. } => {}
        Move { dst, src } => {
            let v = x.slot(src)?;
            x.set(dst, v)?;
        }
        LoadConst { dst, k } => {
            let v = x.code.consts[k as usize];
            x.keep(v);
            let tv = const_tv(v).ok_or_else(|| unsupported("an unbound constant"))?;
            x.set(dst, tv)?;
        }
        LoadGlobal { dst, g } => {
            let addr = &x.vm.globals[g as usize] as *const Value;
            let seen = x.vm.globals[g as usize];
            let tv = x.load_value(addr, seen)?;
            x.set(dst, tv)?;
        }
        StoreGlobal { g, src } => {
            let addr = &x.vm.globals[g as usize] as *const Value as u64;
            let (tv, seen) = (x.slot(src)?, x.reg(src));
            let (tag, word) = x.value_words(tv, seen)?;
            let p = Tv::constant(Val::Ptr(addr));
            let t = x.int(tag as i64);
            x.r.store(MemType::I64, p, 0, t)?;
            x.r.store(MemType::I64, p, 8, word)?;
        }
        Add { dst, a, b } => x.arith(dst, a, b, BinaryOp::IAddOvf, BinaryOp::FAdd)?,
        Sub { dst, a, b } => x.arith(dst, a, b, BinaryOp::ISubOvf, BinaryOp::FSub)?,
        Mul { dst, a, b } => x.arith(dst, a, b, BinaryOp::IMulOvf, BinaryOp::FMul)?,
        Div { dst, a, b } => {
            let (p, q) = (x.reg(a), x.reg(b));
            let (ta, tb) = (x.slot(a)?, x.slot(b)?);
            let (fa, fb) = (x.as_float(ta, p)?, x.as_float(tb, q)?);
            if q.as_number() == Some(0.0) {
                return Err(unsupported("division by zero"));
            }
            let z = x.r.constant(0.0f64);
            let nz = x.bin(BinaryOp::FNe, fb, z)?;
            x.r.guard(nz, true)?;
            let r = x.bin(BinaryOp::FDiv, fa, fb)?;
            x.set(dst, r)?;
        }
        FloorDiv { dst, a, b } => x.floor_divmod(dst, a, b, false)?,
        Mod { dst, a, b } => x.floor_divmod(dst, a, b, true)?,
        BitAnd { dst, a, b } | BitOr { dst, a, b } | BitXor { dst, a, b } => {
            if !(x.reg(a).is_int() && x.reg(b).is_int()) {
                return Err(unsupported("bit operations outside ints"));
            }
            let op = match ins {
                BitAnd { .. } => BinaryOp::IAnd,
                BitOr { .. } => BinaryOp::IOr,
                _ => BinaryOp::IXor,
            };
            let (ta, tb) = (x.slot(a)?, x.slot(b)?);
            let r = x.bin(op, ta, tb)?;
            x.set(dst, r)?;
        }
        Shr { dst, a, b } => {
            // Python's `>>` on ints: a negative count raises (left to the
            // interpreter), a count of 64 or more gives the sign (0 or -1), which is
            // `ishr a, 63`. The IR's `ishr` takes the count mod 64, so the trace
            // guards which of the two ranges the recorded count was in.
            let count = x.reg(b);
            if !(x.reg(a).is_int() && count.is_int()) {
                return Err(unsupported("shifts outside ints"));
            }
            if count.as_int() < 0 {
                return Err(unsupported("a negative shift count"));
            }
            let (ta, tb) = (x.slot(a)?, x.slot(b)?);
            let limit = x.int(64);
            let below = x.bin(BinaryOp::ILt, tb, limit)?;
            let r = if count.as_int() < 64 {
                x.r.guard(below, true)?;
                let zero = x.int(0);
                let not_negative = x.bin(BinaryOp::IGe, tb, zero)?;
                x.r.guard(not_negative, true)?;
                x.bin(BinaryOp::IShr, ta, tb)?
            } else {
                x.r.guard(below, false)?;
                let sign = x.int(63);
                x.bin(BinaryOp::IShr, ta, sign)?
            };
            x.set(dst, r)?;
        }
        Neg { dst, src } => {
            let (v, tv) = (x.reg(src), x.slot(src)?);
            let r = match v.tag {
                TAG_FLOAT => x.r.unary(UnaryOp::FNeg, tv)?,
                TAG_INT => {
                    let z = x.int(0);
                    x.r.binary_ovf(BinaryOp::ISubOvf, z, tv, v.as_int() == i64::MIN)?
                }
                _ => return Err(unsupported("negating this type")),
            };
            x.set(dst, r)?;
        }
        Not { dst, src } => {
            let (v, tv) = (x.reg(src), x.slot(src)?);
            let t = x.truth(tv, v)?;
            let r = x.r.unary(UnaryOp::BNot, t)?;
            x.set(dst, r)?;
        }
        Lt { dst, a, b }
        | Le { dst, a, b }
        | Gt { dst, a, b }
        | Ge { dst, a, b }
        | Eq { dst, a, b }
        | Ne { dst, a, b } => {
            let k = match ins {
                Lt { .. } => CmpKind::Lt,
                Le { .. } => CmpKind::Le,
                Gt { .. } => CmpKind::Gt,
                Ge { .. } => CmpKind::Ge,
                Eq { .. } => CmpKind::Eq,
                _ => CmpKind::Ne,
            };
            let c = x.compare(k, a, b)?;
            x.set(dst, c)?;
        }
        Is { dst, a, b } | IsNot { dst, a, b } => {
            let mut c = x.is(a, b)?;
            if matches!(ins, IsNot { .. }) {
                c = x.r.unary(UnaryOp::BNot, c)?;
            }
            x.set(dst, c)?;
        }
        BrTrue { a, .. } | BrFalse { a, .. } => {
            let (v, tv) = (x.reg(a), x.slot(a)?);
            let c = x.truth(tv, v)?;
            let holds = x.vm.truthy(v);
            x.r.guard(c, holds)?;
        }
        BrNone { a, .. } | BrNotNone { a, .. } => {
            let tv = x.slot(a)?;
            if tv.ty() == Type::Ref {
                x.r.guard_null(tv, x.reg(a).is_none())?;
            }
        }
        BrLt { a, b, .. }
        | BrLe { a, b, .. }
        | BrGt { a, b, .. }
        | BrGe { a, b, .. }
        | BrEq { a, b, .. }
        | BrNe { a, b, .. }
        | BrNLt { a, b, .. }
        | BrNLe { a, b, .. }
        | BrNGt { a, b, .. }
        | BrNGe { a, b, .. } => {
            let k = match ins {
                BrLt { .. } | BrNLt { .. } => CmpKind::Lt,
                BrLe { .. } | BrNLe { .. } => CmpKind::Le,
                BrGt { .. } | BrNGt { .. } => CmpKind::Gt,
                BrGe { .. } | BrNGe { .. } => CmpKind::Ge,
                BrEq { .. } => CmpKind::Eq,
                _ => CmpKind::Ne,
            };
            let c = x.compare(k, a, b)?;
            let (p, q) = (x.reg(a), x.reg(b));
            let holds = match (p.tag, k) {
                (TAG_INT, CmpKind::Lt) => p.as_int() < q.as_int(),
                (TAG_INT, CmpKind::Le) => p.as_int() <= q.as_int(),
                (TAG_INT, CmpKind::Gt) => p.as_int() > q.as_int(),
                (TAG_INT, CmpKind::Ge) => p.as_int() >= q.as_int(),
                (TAG_INT, CmpKind::Eq) => p.as_int() == q.as_int(),
                (TAG_INT, CmpKind::Ne) => p.as_int() != q.as_int(),
                (_, CmpKind::Lt) => p.as_float() < q.as_float(),
                (_, CmpKind::Le) => p.as_float() <= q.as_float(),
                (_, CmpKind::Gt) => p.as_float() > q.as_float(),
                (_, CmpKind::Ge) => p.as_float() >= q.as_float(),
                (_, CmpKind::Eq) => p.as_float() == q.as_float(),
                (_, CmpKind::Ne) => p.as_float() != q.as_float(),
            };
            x.r.guard(c, holds)?;
        }
        BrIs { a, b, .. } | BrIsNot { a, b, .. } => {
            let c = x.is(a, b)?;
            x.r.guard(c, x.reg(a).is(x.reg(b)))?;
        }
        RangeInit { base } => {
            for i in 0..3 {
                if !x.reg(base + i).is_int() {
                    return Err(unsupported("range() of non-ints"));
                }
            }
            let step = x.slot(base + 2)?;
            let z = x.int(0);
            let nz = x.bin(BinaryOp::INe, step, z)?;
            x.r.guard(nz, x.reg(base + 2).as_int() != 0)?;
        }
        ForRange { base, dst, .. } => {
            let (cur, stop, step) = (x.slot(base)?, x.slot(base + 1)?, x.slot(base + 2)?);
            let (c, s, st) = (x.reg(base).as_int(), x.reg(base + 1).as_int(), x.reg(base + 2).as_int());
            let z = x.int(0);
            let up = x.bin(BinaryOp::IGt, step, z)?;
            x.r.guard(up, st > 0)?;
            let more = if st > 0 {
                x.bin(BinaryOp::ILt, cur, stop)?
            } else {
                x.bin(BinaryOp::IGt, cur, stop)?
            };
            let taken = if st > 0 { c < s } else { c > s };
            x.r.guard(more, taken)?;
            if taken {
                let next =
                    x.r.binary_ovf(BinaryOp::IAddOvf, cur, step, c.checked_add(st).is_none())?;
                x.set(dst, cur)?;
                x.set(base, next)?;
            }
        }
        GetIter { dst, src } => x.record_get_iter(dst, src)?,
        ForIter { it, dst, .. } => x.record_for_iter(pc, it, dst)?,
        Yield { dst, src } => x.record_yield(pc, dst, src)?,
        CallStar { dst, base, n } => x.record_call_star(pc, dst, base, n)?,
        Call { dst, base, n } => {
            let callee = (x.slot(base)?, x.reg(base));
            let args = (1..=n)
                .map(|i| Ok((x.slot(base + i)?, x.reg(base + i))))
                .collect::<Result<Vec<_>, Abort>>()?;
            x.call(pc, dst, callee.0, callee.1, &args)?;
        }
        CallMethod { dst, base, n } => {
            let callee = (x.slot(base)?, x.reg(base));
            let first = if x.reg(base + 1).is_undef() { base + 2 } else { base + 1 };
            let args = (first..base + 2 + n)
                .map(|i| Ok((x.slot(i)?, x.reg(i))))
                .collect::<Result<Vec<_>, Abort>>()?;
            x.call(pc, dst, callee.0, callee.1, &args)?;
        }
        Return { src } => {
            if x.r.depth() <= 1 {
                return Err(unsupported("return from the loop's own frame"));
            }
            let top =
                x.vm.frames
                    .last()
                    .copied()
                    .ok_or_else(|| Abort::Invalid("no frame".into()))?;
            let mut v = x.slot(src)?;
            if top.kind == FrameKind::Init {
                if !x.reg(src).is_none() || !x.reg(0).is(top.init_self) {
                    return Err(unsupported("__init__ returning a value or rebinding self"));
                }
                v = x.slot(0)?;
            } else if top.kind == FrameKind::Gen {
                return x.record_generator_return();
            }
            x.r.pop_frame()?;
            x.set(top.ret_dst, v)?;
        }
        BuildTuple { dst, base, n } => {
            let l = x.w.tuple(n as usize).map_err(Abort::Invalid)?;
            let t = x.r.new_object(l.layout)?;
            let k = x.int(kind_word(Kind::Tuple));
            x.r.setfield(t, l.kind, k)?;
            let c = x.int(n as i64);
            x.r.setfield(t, l.count, c)?;
            for i in 0..n {
                let (tv, v) = (x.slot(base + i)?, x.reg(base + i));
                x.set_inline(t, &l, i as usize, tv, v)?;
            }
            x.set(dst, t)?;
        }
        ListAppend { list, src } => {
            if !x.reg(list).is_kind(Kind::List) {
                return Err(unsupported("appending to something other than a list"));
            }
            let tl = x.slot(list)?;
            x.guard_kind(tl, Kind::List)?;
            let lw = x.r.unary(UnaryOp::Ref2I, tl)?;
            let tv = x.slot(src)?;
            let (tag, word) = x.value_words(tv, x.reg(src))?;
            let tag = x.int(tag as i64);
            // It writes the list's header and raw items (read by raw loads): any
            // memory, but it never raises and looks at no frame.
            let effects = EffectInfo {
                may_raise: false,
                may_force: false,
                ..EffectInfo::opaque()
            };
            let entry = super::natives::list_append as *const () as usize as u64;
            let c =
                x.w.call("list_append", entry, &[Type::I64; 3], None, effects)
                    .map_err(Abort::Invalid)?;
            x.r.call(c, &[lw, tag, word], false)?;
        }
        Unpack { base, src, n } => {
            let (tv, v) = (x.slot(src)?, x.reg(src));
            if !v.is_kind(Kind::Tuple) || as_seq(v).map(|s| s.len()) != Some(n as usize) {
                return Err(unsupported(
                    "unpacking something other than a tuple of the right length",
                ));
            }
            let l = x.guard_tuple(tv, v)?;
            let items = as_seq(v).unwrap_or(&[]).to_vec();
            let vals = (0..n as usize)
                .map(|i| x.get_inline(tv, &l, i, items[i]))
                .collect::<Result<Vec<_>, Abort>>()?;
            for (i, t) in vals.into_iter().enumerate() {
                x.set(base + i as u16, t)?;
            }
        }
        GetItem { dst, obj, idx } => {
            let (o, i) = (x.reg(obj), x.reg(idx));
            let (to, ti) = (x.slot(obj)?, x.slot(idx)?);
            if !i.is_int() {
                return Err(unsupported("a non-int index"));
            }
            let r = match o.kind() {
                Some(Kind::Tuple) if ti.as_const().is_some() => {
                    let items = as_seq(o).unwrap_or(&[]);
                    let k = i.as_int();
                    if k < 0 || k as usize >= items.len() {
                        return Err(unsupported("a tuple index out of range"));
                    }
                    let l = x.guard_tuple(to, o)?;
                    x.get_inline(to, &l, k as usize, items[k as usize])?
                }
                Some(Kind::List) => {
                    let items = as_seq(o).unwrap_or(&[]);
                    let p = x.list_item_addr(to, ti, i.as_int(), items.len())?;
                    let seen = items[i.as_int() as usize];
                    let tag = x.r.load(MemType::I64, p, 0)?;
                    x.read_value(tag, |s| s.r.load(MemType::I64, p, 8), seen)?
                }
                _ => return Err(unsupported("indexing this kind of object")),
            };
            x.set(dst, r)?;
        }
        SetItem { obj, idx, src } => {
            let (o, i) = (x.reg(obj), x.reg(idx));
            if !(o.is_kind(Kind::List) && i.is_int()) {
                return Err(unsupported("item assignment outside lists"));
            }
            let (to, ti, tv) = (x.slot(obj)?, x.slot(idx)?, x.slot(src)?);
            let len = as_seq(o).map_or(0, |s| s.len());
            let p = x.list_item_addr(to, ti, i.as_int(), len)?;
            let (tag, word) = x.value_words(tv, x.reg(src))?;
            let t = x.int(tag as i64);
            x.r.store(MemType::I64, p, 0, t)?;
            x.r.store(MemType::I64, p, 8, word)?;
        }
        GetAttr { dst, obj, ic } => {
            let (o, to) = (x.reg(obj), x.slot(obj)?);
            let c = x.code.ics[ic as usize].get();
            let r = match o.kind() {
                Some(Kind::Instance) if class_of(o) == Some(c.class) && c.kind == IC_SLOT => {
                    let seen = unsafe { *Instance::slot_ptr(o.as_ptr(), c.index as usize) };
                    let l = x.guard_instance(to, o)?;
                    x.get_inline(to, &l, c.index as usize, seen)?
                }
                Some(Kind::Instance)
                    if class_of(o) == Some(c.class) && c.kind == IC_PROPERTY && c.epoch == *x.vm.class_epoch =>
                {
                    x.guard_instance(to, o)?;
                    x.guard_epoch()?;
                    if !c.value.is_kind(Kind::Function) {
                        return Err(unsupported("a property getter that is not a Python function"));
                    }
                    x.keep(c.value);
                    return x.inline_call(pc, c.value.as_ptr(), &[to]);
                }
                Some(Kind::Module) if c.kind == crate::attr::IC_MODVAL && c.class as u64 == o.payload => {
                    x.module_attr(to, o, c.name)?
                }
                _ => return Err(unsupported("this attribute read")),
            };
            x.set(dst, r)?;
        }
        SetAttr { obj, ic, src } => {
            let (o, to) = (x.reg(obj), x.slot(obj)?);
            let c = x.code.ics[ic as usize].get();
            let v = x.reg(src);
            if !(o.is_kind(Kind::Instance) && class_of(o) == Some(c.class) && c.kind == IC_SLOT && !v.is_undef()) {
                return Err(unsupported("this attribute write"));
            }
            let l = x.guard_instance(to, o)?;
            let tv = x.slot(src)?;
            x.set_inline(to, &l, c.index as usize, tv, v)?;
        }
        LoadMethod { base, obj, ic } => {
            let (o, to) = (x.reg(obj), x.slot(obj)?);
            let c = x.code.ics[ic as usize].get();
            match o.kind() {
                Some(Kind::Instance)
                    if class_of(o) == Some(c.class) && c.kind == IC_METHOD && c.epoch == *x.vm.class_epoch =>
                {
                    x.guard_instance(to, o)?;
                    x.guard_epoch()?;
                    x.keep(c.value);
                    let m = const_tv(c.value).ok_or_else(|| unsupported("unbound method"))?;
                    x.set(base, m)?;
                    x.set(base + 1, to)?;
                }
                Some(Kind::Module) if c.kind == crate::attr::IC_MODVAL && c.class as u64 == o.payload => {
                    let m = x.module_attr(to, o, c.name)?;
                    x.set(base, m)?;
                    x.r.set_slot(base as usize + 1, None)?;
                }
                Some(k @ (Kind::List | Kind::File | Kind::Bytes | Kind::Str)) => {
                    let Some(m) = x.vm.type_methods.get(&(k, c.name)).copied() else {
                        return Err(unsupported("an unknown method"));
                    };
                    x.guard_kind(to, k)?;
                    x.keep(m);
                    let mt = const_tv(m).ok_or_else(|| unsupported("unbound method"))?;
                    x.set(base, mt)?;
                    x.set(base + 1, to)?;
                }
                _ => return Err(unsupported("this method lookup")),
            }
        }
        _ => return Err(unsupported(format!("instruction {:?}", ins))),
    }
    Ok(())
}
