//! Building one recipe step: the op families, each emitted so that it cannot fault.

use super::build::{Builder, Kind};
use super::recipe::{SnapSel, Step};
use super::world::{self, ARRAYS, CLASSED, HOST_FNS};
use crate::entity::{ArrayId, CallId, FieldId, LayoutId, Value};
use crate::op::{BinaryOp, Const, GuardKind, Op, UnaryOp};
use crate::types::{MemType, Type};

const INTS: [i64; 16] = [
    0,
    1,
    -1,
    2,
    3,
    7,
    64,
    255,
    -128,
    1 << 31,
    1 << 32,
    i64::MAX,
    i64::MIN,
    0x5555_5555_5555_5555,
    -0x7fff,
    1000,
];
const FLOATS: [f64; 14] = [
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.1,
    2.5,
    1e300,
    -1e-300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    5e-324,
    f64::MAX,
    3.0,
];

/// A constant of scalar type `ty` from the pool of interesting values.
pub(crate) fn pool_const(ty: Type, pick: u8) -> Const {
    match ty {
        Type::F64 if pick as usize % 16 == 15 => Const::F64(f64::from_bits(0x7ff8_0000_0000_0123)),
        Type::F64 => Const::F64(FLOATS[pick as usize % FLOATS.len()]),
        Type::Bool => Const::Bool(pick % 2 == 1),
        _ => Const::I64(INTS[pick as usize % INTS.len()]),
    }
}

const UNARY: [UnaryOp; 10] = {
    use UnaryOp::*;
    [INeg, INot, FNeg, FAbs, BNot, I2F, F2I, B2I, F2Bits, Bits2F]
};
const BINARY: [BinaryOp; 34] = {
    use BinaryOp::*;
    [
        IAdd, ISub, IMul, IAnd, IOr, IXor, IShl, IShr, IUShr, IEq, INe, ILt, ILe, IGt, IGe, IULt, IULe, IUGt, IUGe,
        FAdd, FSub, FMul, FDiv, FEq, FNe, FLt, FLe, FGt, FGe, BAnd, BOr, BXor, REq, RNe,
    ]
};
const OVF: [BinaryOp; 3] = [BinaryOp::IAddOvf, BinaryOp::ISubOvf, BinaryOp::IMulOvf];
/// Memory types plain raw loads/stores use (`ref`/`ptr`/`bool` only in store-load pairs).
/// (The numeric memory types: the first nine of `MemType::ALL`.)
const RAW_MT: &[MemType] = MemType::ALL.split_at(9).0;

fn bump(s: SnapSel, by: u32) -> SnapSel {
    SnapSel {
        richness: s.richness,
        seed: s.seed.wrapping_add(by),
    }
}

/// A `bool` to branch or guard on: one from the environment, or a fresh comparison.
pub(crate) fn condition(b: &mut Builder, sel: u8) -> Value {
    if !sel.is_multiple_of(3) {
        if let Some((v, _)) = b.pick(sel / 3, |k| k == Kind::Bool) {
            return v;
        }
    }
    let x = b.scalar(Type::I64, sel);
    let y = b.scalar(Type::I64, sel / 7);
    let op = [BinaryOp::ILt, BinaryOp::IEq, BinaryOp::IUGe, BinaryOp::INe][sel as usize % 4];
    b.def(Op::Binary(op, x, y), Kind::Bool)
}

fn fields_of(b: &Builder, l: LayoutId) -> Vec<FieldId> {
    (0..b.t.fields.len())
        .map(FieldId::new)
        .filter(|&f| b.t.field(f).layout == l)
        .collect()
}

/// A value to store into a field or item of type `ty`.
fn store_value(b: &mut Builder, ty: Type, sel: u8) -> Value {
    if ty == Type::Ref {
        b.classed_ref(sel)
    } else {
        b.scalar(ty, sel)
    }
}

/// The kind of a value loaded from a field or item of type `ty`.
fn loaded_kind(ty: Type) -> Kind {
    if ty == Type::Ref {
        Kind::MaybeObj
    } else {
        Kind::scalar(ty)
    }
}

impl Builder<'_> {
    pub(crate) fn step(&mut self, step: &Step) {
        match *step {
            Step::Const { ty, pick } => {
                let k = pool_const([Type::I64, Type::F64, Type::Bool][ty as usize % 3], pick);
                let v = self.konst(k);
                self.env.vals.push((v, Kind::scalar(k.ty())));
            }
            Step::Unary { op, a } => {
                let op = UNARY[op as usize % UNARY.len()];
                let (at, rt) = op.signature();
                let x = self.scalar(at, a);
                self.def(Op::Unary(op, x), Kind::scalar(rt));
            }
            Step::Binary { op, a, b } => self.binary(BINARY[op as usize % BINARY.len()], a, b),
            Step::Div { rem, a, b } => {
                let x = self.scalar(Type::I64, a);
                let d = self.scalar(Type::I64, b);
                let one = self.konst(Const::I64(1));
                let nz = self.def(Op::Binary(BinaryOp::IOr, d, one), Kind::I64);
                let op = if rem { BinaryOp::IRem } else { BinaryOp::IDiv };
                self.def(Op::Binary(op, x, nz), Kind::I64);
            }
            Step::Ovf { op, a, b, snap } => {
                let x = self.scalar(Type::I64, a);
                let y = self.scalar(Type::I64, b);
                let r = self
                    .emit(Op::Binary(OVF[op as usize % 3], x, y), Some(Type::I64))
                    .expect("ovf");
                self.guard(GuardKind::NoOverflow(r), snap);
                self.env.vals.push((r, Kind::I64));
            }
            Step::Select {
                ty,
                c,
                a,
                b,
                unpredictable,
            } => self.select(ty, c, a, b, unpredictable),
            Step::Guard { kind, a, k, snap } => self.guard_step(kind, a, k, snap),
            Step::New {
                layout,
                init,
                snap_only,
            } => self.new_object(layout, init, snap_only),
            Step::GetField { obj, field } => {
                let Some((o, Kind::Obj(l))) = self.pick(obj, |k| matches!(k, Kind::Obj(_))) else {
                    return;
                };
                let fs = fields_of(self, l);
                let f = fs[field as usize % fs.len()];
                self.def(Op::GetField(o, f), loaded_kind(self.t.field(f).ty));
            }
            Step::SetField { obj, field, val } => {
                let Some((o, Kind::Obj(l))) = self.pick(obj, |k| matches!(k, Kind::Obj(_))) else {
                    return;
                };
                let fs: Vec<FieldId> = fields_of(self, l)
                    .into_iter()
                    .filter(|&f| !self.t.field(f).immutable)
                    .collect();
                let f = fs[field as usize % fs.len()];
                let v = store_value(self, self.t.field(f).ty, val);
                self.emit(Op::SetField(o, f, v), None);
            }
            Step::Refine { r, layout, snap } => {
                let Some((v, k)) = self.pick(r, |k| matches!(k, Kind::MaybeObj | Kind::AnyObj)) else {
                    return;
                };
                if k == Kind::MaybeObj {
                    self.guard(GuardKind::NonNull(v), snap);
                    self.env.vals.push((v, Kind::AnyObj));
                }
                let l = CLASSED[layout as usize % CLASSED.len()];
                self.guard(GuardKind::Class(v, l), bump(snap, 1));
                self.env.vals.push((v, Kind::Obj(l)));
                if layout % 4 == 1 {
                    // A reference stored in an untyped word and read back (`ref2i`,
                    // `i2ref`): the same object. The word itself is an address, which
                    // differs between runs, so only the round trip joins the environment.
                    let w = self.emit(Op::Unary(UnaryOp::Ref2I, v), Some(Type::I64)).expect("ref2i");
                    let back = self.emit(Op::Unary(UnaryOp::I2Ref, w), Some(Type::Ref)).expect("i2ref");
                    self.env.vals.push((back, Kind::Obj(l)));
                }
            }
            Step::Array {
                arr,
                mode,
                idx,
                val,
                store,
                snap,
            } => self.array(arr, mode, idx, val, store, snap),
            Step::Raw {
                buf,
                mode,
                mt,
                off,
                val,
            } => self.raw(buf, mode, mt, off, val),
            Step::Call { f, a, b, guard, snap } => self.call(f as usize % HOST_FNS.len(), a, b, guard, snap),
            Step::Open { kind, c, args, weights } => self.open(kind, c, args, weights),
            Step::Else { sel } => self.else_(sel),
            Step::Close { sel } => self.close_step(sel),
        }
    }

    fn binary(&mut self, op: BinaryOp, a: u8, b: u8) {
        if matches!(op, BinaryOp::REq | BinaryOp::RNe) {
            let ptr = a % 2 == 1;
            let want = move |k: Kind| (k.ty() == Type::Ptr) == ptr && matches!(k.ty(), Type::Ref | Type::Ptr);
            if let (Some((x, _)), Some((y, _))) = (self.pick(a / 2, want), self.pick(b, want)) {
                self.def(Op::Binary(op, x, y), Kind::Bool);
            }
            return;
        }
        let (at, bt, rt) = op.signature();
        let x = self.scalar(at, a);
        let y = self.scalar(bt, b);
        self.def(Op::Binary(op, x, y), Kind::scalar(rt));
    }

    fn select(&mut self, ty: u8, c: u8, a: u8, b: u8, unpredictable: bool) {
        let cond = condition(self, c);
        let (x, y, kind) = match ty % 4 {
            3 => {
                let Some((x, kx)) = self.pick(a, |k| k.ty() == Type::Ref) else {
                    return;
                };
                let same = move |k: Kind| k == kx || (k.is_classed_ref() && kx.is_classed_ref());
                let Some((y, ky)) = self.pick(b, same) else { return };
                (x, y, if kx == ky { kx } else { Kind::MaybeObj })
            }
            t => {
                let ty = [Type::I64, Type::F64, Type::Bool][t as usize];
                (self.scalar(ty, a), self.scalar(ty, b), Kind::scalar(ty))
            }
        };
        self.def(
            Op::Select {
                cond,
                if_true: x,
                if_false: y,
                unpredictable,
            },
            kind,
        );
    }

    fn guard_step(&mut self, kind: u8, a: u8, k: u8, snap: SnapSel) {
        let refs = |k: Kind| k.ty() == Type::Ref || k.ty() == Type::Ptr;
        match kind % 7 {
            0 | 1 => {
                let c = condition(self, a);
                self.guard(
                    if kind.is_multiple_of(7) {
                        GuardKind::True(c)
                    } else {
                        GuardKind::False(c)
                    },
                    snap,
                );
                let at = self.t.blocks[self.cur.index()].insts.len() - 1;
                self.steerable.push((self.cur, at));
            }
            2 => {
                let ty = [Type::I64, Type::I64, Type::F64, Type::Bool][k as usize % 4];
                let v = self.scalar(ty, a);
                let konst = match self.known.get(&v) {
                    Some(&x) if k % 8 != 7 => Const::I64(x),
                    _ => pool_const(ty, k / 4),
                };
                let konst = if konst.ty() == ty { konst } else { pool_const(ty, k / 4) };
                self.guard(GuardKind::Value(v, konst), snap);
                let at = self.t.blocks[self.cur.index()].insts.len() - 1;
                self.steerable.push((self.cur, at));
            }
            3 => {
                let Some((v, vk)) = self.pick(a, |k| {
                    k == Kind::AnyObj || matches!(k, Kind::Obj(l) if CLASSED.contains(&l))
                }) else {
                    return;
                };
                let l = match vk {
                    Kind::Obj(l) if k % 4 != 3 => l,
                    _ => CLASSED[k as usize % CLASSED.len()],
                };
                self.guard(GuardKind::Class(v, l), snap);
                if vk == Kind::AnyObj {
                    self.env.vals.push((v, Kind::Obj(l)));
                }
            }
            4 => {
                let Some((v, vk)) = self.pick(a, refs) else { return };
                self.guard(GuardKind::NonNull(v), snap);
                if vk == Kind::MaybeObj {
                    self.env.vals.push((v, Kind::AnyObj));
                }
            }
            5 => {
                let v = match self.pick(a, |k| matches!(k, Kind::MaybeObj | Kind::NullPtr)) {
                    Some((v, _)) if !k.is_multiple_of(4) => v,
                    _ => {
                        let n = if k.is_multiple_of(2) {
                            Const::Ref(0)
                        } else {
                            Const::Ptr(0)
                        };
                        let v = self.konst(n);
                        self.env.vals.push((
                            v,
                            if k.is_multiple_of(2) {
                                Kind::MaybeObj
                            } else {
                                Kind::NullPtr
                            },
                        ));
                        v
                    }
                };
                self.guard(GuardKind::IsNull(v), snap);
            }
            _ => self.guard(GuardKind::NoInterrupt, snap),
        }
    }

    pub(super) fn new_object(&mut self, layout: u8, init: u8, snap_only: bool) {
        let l = LayoutId::new(layout as usize % self.t.layouts.len());
        let o = self.emit(Op::New(l), Some(Type::Ref)).expect("new");
        for (i, f) in fields_of(self, l).into_iter().enumerate() {
            if init >> i & 1 == 1 || (f == world::F_A_ID && init.is_multiple_of(2)) {
                let v = store_value(self, self.t.field(f).ty, init.rotate_left(i as u32));
                self.emit(Op::SetField(o, f, v), None);
            }
        }
        if snap_only && self.cfg.virtuals {
            self.env.snap_only.push(o);
        } else {
            self.env.vals.push((o, Kind::Obj(l)));
        }
    }

    /// An in-range index into array `arr` of length `len`, or `None` for an empty array.
    fn index(&mut self, arr: Value, a: u32, len: u32, mode: u8, idx: u8, snap: SnapSel) -> Option<Value> {
        if len == 0 && mode % 3 != 2 {
            return None;
        }
        Some(match mode % 3 {
            0 => self.konst(Const::I64(i64::from(u32::from(idx) % len))),
            1 => {
                let mask = (len.next_power_of_two() >> u32::from(!len.is_power_of_two())) - 1;
                let x = self.scalar(Type::I64, idx);
                let m = self.konst(Const::I64(i64::from(mask)));
                self.def(Op::Binary(BinaryOp::IAnd, x, m), Kind::I64)
            }
            _ => {
                let mut x = self.scalar(Type::I64, idx);
                if !idx.is_multiple_of(4) {
                    let seven = self.konst(Const::I64(7));
                    x = self.def(Op::Binary(BinaryOp::IAnd, x, seven), Kind::I64);
                }
                let n = self.def(Op::ArrayLen(ArrayId(a), arr), Kind::I64);
                self.known.insert(n, i64::from(len));
                let c = self.def(Op::Binary(BinaryOp::IULt, x, n), Kind::Bool);
                self.guard(GuardKind::True(c), snap);
                x
            }
        })
    }

    fn array(&mut self, arr: u8, mode: u8, idx: u8, val: u8, store: bool, snap: SnapSel) {
        let Some((r, Kind::Arr(a, len))) = self.pick(arr, |k| matches!(k, Kind::Arr(..))) else {
            return;
        };
        let elem = ARRAYS[a as usize].1;
        let i = if mode % 4 == 3 {
            None
        } else {
            self.index(r, a, len, mode, idx, snap)
        };
        match i {
            None => {
                let n = self.def(Op::ArrayLen(ArrayId(a), r), Kind::I64);
                self.known.insert(n, i64::from(len));
            }
            Some(i) if store => {
                let v = store_value(self, elem, val);
                self.emit(Op::SetItem(ArrayId(a), r, i, v), None);
            }
            Some(i) => {
                self.def(Op::GetItem(ArrayId(a), r, i), loaded_kind(elem));
            }
        }
    }

    fn raw(&mut self, buf: u8, mode: u8, mt: u8, off: u8, val: u8) {
        let Some((p, Kind::Raw(b, at))) = self.pick(buf, |k| matches!(k, Kind::Raw(..))) else {
            return;
        };
        let size = self.raw_sizes.get(&b).copied().unwrap_or(0);
        // An aligned position for `width` bytes inside the buffer, relative to `p`.
        let place = |width: u32, sel: u8| -> Option<i64> {
            let slots = Some(size / width).filter(|s| *s > 0)?;
            Some(i64::from(u32::from(sel) % slots * width) - i64::from(at))
        };
        match mode % 5 {
            0 | 1 => {
                let m = RAW_MT[mt as usize % RAW_MT.len()];
                let Some(o) = place(m.size(), off) else { return };
                if mode.is_multiple_of(5) {
                    self.def(Op::Load(m, p, o), Kind::scalar(m.value_type()));
                } else {
                    let v = self.scalar(m.value_type(), val);
                    self.emit(Op::Store(m, p, o, v), None);
                }
            }
            2 => {
                let Some(o) = place(8, off) else { return };
                let d = self.konst(Const::I64(o));
                self.def(
                    Op::Binary(BinaryOp::PtrAdd, p, d),
                    Kind::Raw(b, (o + i64::from(at)) as u32),
                );
            }
            3 => {
                let Some(o) = place(8, off) else { return };
                let i = self.emit(Op::Unary(UnaryOp::Ptr2I, p), Some(Type::I64)).expect("ptr2i");
                let d = self.konst(Const::I64(o));
                let j = self
                    .emit(Op::Binary(BinaryOp::IAdd, i, d), Some(Type::I64))
                    .expect("iadd");
                let q = self.def(Op::Unary(UnaryOp::I2Ptr, j), Kind::Raw(b, (o + i64::from(at)) as u32));
                if val.is_multiple_of(2) {
                    let i2 = self.emit(Op::Unary(UnaryOp::Ptr2I, q), Some(Type::I64)).expect("ptr2i");
                    let diff = self.def(Op::Binary(BinaryOp::ISub, i2, i), Kind::I64);
                    self.known.insert(diff, o);
                }
            }
            _ => {
                let Some(o) = place(8, off) else { return };
                let m = [MemType::Ref, MemType::Ptr, MemType::Bool][mt as usize % 3];
                let want = m.value_type();
                let Some((v, vk)) = self.pick(val, |k| k.ty() == want) else {
                    return;
                };
                self.emit(Op::Store(m, p, o, v), None);
                self.def(Op::Load(m, p, o), vk);
                if m != MemType::Bool {
                    // Wipe the address again: later narrow loads must not see its bits.
                    let z = self.konst(Const::I64(0));
                    self.emit(Op::Store(MemType::I64, p, o, z), None);
                }
            }
        }
    }

    fn call(&mut self, f: usize, a: u8, b: u8, guard: bool, snap: SnapSel) {
        let (_, params, ret) = HOST_FNS[f];
        let mut args = Vec::new();
        for (i, &ty) in params.iter().enumerate() {
            let sel = if i == 0 { a } else { b.wrapping_add(i as u8) };
            let v = match (ty, f) {
                (Type::Ref, world::FN_GET_A | world::FN_SET_A) => self.pick(sel, |k| k == Kind::Obj(world::L_A)),
                (Type::Ref, world::FN_PEEK) => self.pick(sel, |k| k == Kind::Obj(world::L_B)),
                (Type::Ref, _) => self.pick(sel, |k| matches!(k, Kind::Arr(0, _))),
                (ty, _) => Some((self.scalar(ty, sel), Kind::scalar(ty))),
            };
            let Some((v, _)) = v else { return };
            args.push(v);
        }
        let c = CallId::new(f);
        let result = self.emit(Op::Call(c, args), ret);
        if self.t.call(c).effects.may_raise || guard {
            self.guard(GuardKind::NoException, snap);
        }
        if let (Some(r), Some(ty)) = (result, ret) {
            self.env.vals.push((r, Kind::scalar(ty)));
        }
    }
}
