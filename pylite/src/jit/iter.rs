//! # Recording `for` over built-in iterators, and `f(*t)`
//!
//! `for x in seq` compiles to `GetIter` (before the loop) and `ForIter` (the loop's
//! head). For a list or tuple the interpreter allocates a [`SeqIterObj`] — the
//! sequence and an index — and every `ForIter` reads the item at the index and bumps
//! it. The trace does exactly that on the `seqiter` layout ([`IterLayouts`]):
//!
//! ```text
//! GetIter  it = seq         new seqiter; setfield kind, seq (tag, word), idx = 0
//! ForIter  x = next(it)     guard kind(it) == SeqIter; seq = i2ref(getfield it.seq_w)
//!                           guard kind/shape of seq; len = count (tuple) or list.len
//!                           idx = getfield it.idx; guard_true idx < len   <- exhausted: exit
//!                           item = tag/word loads at items + 16*idx; setfield it.idx, idx+1
//! ```
//!
//! The exhausted path is a guard exit: the snapshot is the state before `ForIter`, so
//! the interpreter re-executes it, finds the iterator exhausted and leaves the loop.
//! The length is re-read on every iteration (a list may grow or shrink inside its own
//! loop), and so is the list's item buffer (an append may move it): they are mutable
//! fields, so the heap cache keeps them only as long as nothing may write them. The
//! iterator's `seq` never changes after `GetIter`, so it is an immutable field, and a
//! virtual iterator (one made by a `GetIter` inside the trace that does not escape) is
//! just its index in a register.
//!
//! `for i in range(...)` written directly compiles to `ForRange` (registers, no
//! object); a range reached another way (`range(*t)`, a range stored in a variable)
//! iterates a [`RangeIterObj`], traced the same way on the `rangeiter` layout.
//!
//! `f(*t)` (`CallStar`) with a tuple `t` guards `t`'s shape (kind and length: the
//! length decides the arity of the call), reads its items and is then an ordinary
//! call ([`Rec::call`]: inlined for Python functions and classes, a residual call for
//! builtins). A tuple of another length fails the shape guard and the interpreter makes
//! the call — and raises the arity error itself when there is one.

use super::record::Rec;
use super::world::kind_word;
use crate::bytecode::Instr;
use crate::object::*;
use crate::value::*;
use leones_ir::{BinaryOp, MemType, UnaryOp};
use leones_tracer::{Abort, Tv};

fn unsupported(what: impl Into<String>) -> Abort {
    Abort::Unsupported(what.into())
}

impl Rec<'_> {
    /// Guards that the iterator-kind word of `tv` (read through `kind_field`, the
    /// layout's own kind field, so a virtual iterator answers it) is `kind`.
    fn guard_iter_kind(&mut self, tv: Tv, kind_field: leones_tracer::FieldRef, kind: Kind) -> Result<(), Abort> {
        self.r.guard_null(tv, false)?;
        let k = self.r.getfield(tv, kind_field)?;
        self.guard_eq(k, kind_word(kind))
    }

    /// `GetIter { dst, src }`.
    pub(super) fn record_get_iter(&mut self, dst: u16, src: u16) -> Result<(), Abort> {
        let (v, tv) = (self.reg(src), self.slot(src)?);
        let il = self.w.iters;
        match v.kind() {
            Some(k @ (Kind::List | Kind::Tuple)) => {
                if k == Kind::Tuple {
                    self.guard_tuple(tv, v)?;
                } else {
                    self.guard_kind(tv, Kind::List)?;
                }
                let it = self.r.new_object(il.seq)?;
                let kw = self.int(kind_word(Kind::SeqIter));
                self.r.setfield(it, il.seq_kind, kw)?;
                let tag = self.int(TAG_OBJ as i64);
                self.r.setfield(it, il.seq_obj.tag, tag)?;
                let word = self.r.unary(UnaryOp::Ref2I, tv)?;
                self.r.setfield(it, il.seq_obj.word, word)?;
                let zero = self.int(0);
                self.r.setfield(it, il.seq_idx, zero)?;
                self.set(dst, it)
            }
            // Already iterators: `iter(it)` is `it`.
            Some(Kind::SeqIter) => {
                self.guard_iter_kind(tv, il.seq_kind, Kind::SeqIter)?;
                self.set(dst, tv)
            }
            Some(Kind::RangeIter) => {
                self.guard_iter_kind(tv, il.range_kind, Kind::RangeIter)?;
                self.set(dst, tv)
            }
            Some(Kind::Generator) => {
                self.guard_generator(tv, v.as_ptr())?;
                self.set(dst, tv)
            }
            Some(Kind::Range) => {
                self.guard_iter_kind(tv, il.range_obj_kind, Kind::Range)?;
                let it = self.r.new_object(il.range)?;
                let kw = self.int(kind_word(Kind::RangeIter));
                self.r.setfield(it, il.range_kind, kw)?;
                let [start, stop, step] = il.range_obj_fields;
                for (from, to) in [(start, il.range_cur), (stop, il.range_stop), (step, il.range_step)] {
                    let x = self.r.getfield(tv, from)?;
                    self.r.setfield(it, to, x)?;
                }
                self.set(dst, it)
            }
            _ => Err(unsupported("iter() of this kind of object")),
        }
    }

    /// `ForIter { it, dst, .. }` on a built-in iterator.
    pub(super) fn record_for_iter(&mut self, pc: usize, it: u16, dst: u16) -> Result<(), Abort> {
        let (v, tv) = (self.reg(it), self.slot(it)?);
        match v.kind() {
            Some(Kind::SeqIter) => self.next_seq_item(dst, tv, v),
            Some(Kind::RangeIter) => self.next_range_item(dst, tv, v),
            Some(Kind::Generator) => self.resume_generator(pc, tv, v),
            Some(Kind::Instance) => self.iter_next_call(pc, tv, v),
            _ => Err(unsupported("a for loop over this kind of iterator")),
        }
    }

    fn next_seq_item(&mut self, dst: u16, it: Tv, v: Value) -> Result<(), Abort> {
        let il = self.w.iters;
        self.guard_iter_kind(it, il.seq_kind, Kind::SeqIter)?;
        // SAFETY: kind checked.
        let (seq_v, idx_v) = unsafe {
            let s = &*v.as_ptr::<SeqIterObj>();
            (s.seq, s.idx)
        };
        // The sequence of a SeqIter is always an object (GetIter made it from one).
        let word = self.r.getfield(it, il.seq_obj.word)?;
        let seq = self.r.unary(UnaryOp::I2Ref, word)?;
        let (len, items) = match seq_v.kind() {
            Some(Kind::Tuple) => {
                self.guard_tuple(seq, seq_v)?;
                // SAFETY: kind checked.
                let n = unsafe { (*seq_v.as_ptr::<TupleObj>()).len };
                let addr = self.r.unary(UnaryOp::Ref2I, seq)?;
                let p = self.r.unary(UnaryOp::I2Ptr, addr)?;
                let off = self.int(TUPLE_ITEMS_OFFSET as i64);
                (Tv::constant(n as i64), self.bin(BinaryOp::PtrAdd, p, off)?)
            }
            Some(Kind::List) => {
                self.guard_kind(seq, Kind::List)?;
                let n = self.r.getfield(seq, self.w.list_len)?;
                (n, self.r.getfield(seq, self.w.list_ptr)?)
            }
            _ => return Err(unsupported("a for loop over a str or bytes")),
        };
        let seen = as_seq(seq_v).and_then(|s| s.get(idx_v).copied());
        let idx = self.r.getfield(it, il.seq_idx)?;
        let more = self.bin(BinaryOp::ILt, idx, len)?;
        self.r.guard(more, seen.is_some())?;
        let Some(seen) = seen else { return Ok(()) };
        let sixteen = self.int(16);
        let off = self.bin(BinaryOp::IMul, idx, sixteen)?;
        let at = self.bin(BinaryOp::PtrAdd, items, off)?;
        let tag = self.r.load(MemType::I64, at, 0)?;
        let item = self.read_value(tag, |s| s.r.load(MemType::I64, at, 8), seen)?;
        let one = self.int(1);
        let next = self.bin(BinaryOp::IAdd, idx, one)?;
        self.r.setfield(it, il.seq_idx, next)?;
        self.set(dst, item)
    }

    fn next_range_item(&mut self, dst: u16, it: Tv, v: Value) -> Result<(), Abort> {
        let il = self.w.iters;
        self.guard_iter_kind(it, il.range_kind, Kind::RangeIter)?;
        // SAFETY: kind checked.
        let (c, s, st) = unsafe {
            let r = &*v.as_ptr::<RangeIterObj>();
            (r.cur, r.stop, r.step)
        };
        let cur = self.r.getfield(it, il.range_cur)?;
        let stop = self.r.getfield(it, il.range_stop)?;
        let step = self.r.getfield(it, il.range_step)?;
        let z = self.int(0);
        let up = self.bin(BinaryOp::IGt, step, z)?;
        self.r.guard(up, st > 0)?;
        let (more, taken) = if st > 0 {
            (self.bin(BinaryOp::ILt, cur, stop)?, c < s)
        } else {
            (self.bin(BinaryOp::IGt, cur, stop)?, c > s)
        };
        self.r.guard(more, taken)?;
        if !taken {
            return Ok(());
        }
        // The interpreter clamps an overflowing counter to `stop`; the trace leaves
        // through the overflow guard instead and lets it.
        let next = self
            .r
            .binary_ovf(BinaryOp::IAddOvf, cur, step, c.checked_add(st).is_none())?;
        self.r.setfield(it, il.range_cur, next)?;
        self.set(dst, cur)
    }

    /// `range(...)` of ints: a new `range` object (virtual unless it escapes); `None`
    /// for other arguments (the residual call raises the interpreter's errors).
    pub(super) fn range_object(&mut self, args: &[(Tv, Value)]) -> Result<Option<Tv>, Abort> {
        if args.is_empty() || args.len() > 3 || !args.iter().all(|a| a.1.is_int()) {
            return Ok(None);
        }
        let (start, stop, step) = match args {
            [stop] => (self.int(0), stop.0, self.int(1)),
            [start, stop] => (start.0, stop.0, self.int(1)),
            [start, stop, step] => {
                if step.1.as_int() == 0 {
                    return Ok(None);
                }
                let z = self.int(0);
                let nz = self.bin(BinaryOp::INe, step.0, z)?;
                self.r.guard(nz, true)?;
                (start.0, stop.0, step.0)
            }
            _ => return Ok(None),
        };
        let il = self.w.iters;
        let r = self.r.new_object(il.range_obj)?;
        let kw = self.int(kind_word(Kind::Range));
        self.r.setfield(r, il.range_obj_kind, kw)?;
        for (f, v) in il.range_obj_fields.into_iter().zip([start, stop, step]) {
            self.r.setfield(r, f, v)?;
        }
        Ok(Some(r))
    }

    /// `CallStar { dst, base, n }`: `base(base+1 .. base+n, *t)` with `t` a tuple.
    pub(super) fn record_call_star(&mut self, pc: usize, dst: u16, base: u16, n: u16) -> Result<(), Abort> {
        let callee = (self.slot(base)?, self.reg(base));
        let mut args = (1..=n)
            .map(|i| Ok((self.slot(base + i)?, self.reg(base + i))))
            .collect::<Result<Vec<_>, Abort>>()?;
        let star = base + 1 + n;
        let (sv, stv) = (self.reg(star), self.slot(star)?);
        if !sv.is_kind(Kind::Tuple) {
            return Err(unsupported("f(*x) where x is not a tuple"));
        }
        let l = self.guard_tuple(stv, sv)?;
        let items = as_seq(sv).unwrap_or(&[]).to_vec();
        // Into a Python function the items go lazily: their types are checked where
        // the body asks (super::lazy), not all at the call.
        let lazy = callee.1.is_kind(Kind::Function);
        for (i, &item) in items.iter().enumerate() {
            let tv = if lazy {
                self.lazy_item(stv, &l, i)?
            } else {
                self.get_inline(stv, &l, i, item)?
            };
            args.push((tv, item));
        }
        self.call(pc, dst, callee.0, callee.1, &args)
    }
}

/// The result register of a call instruction (`Call`, `CallMethod`, `CallStar`), for
/// an exit that resumes a frame at it.
pub(crate) fn call_dst(ins: Instr) -> Option<u16> {
    match ins {
        Instr::Call { dst, .. } | Instr::CallMethod { dst, .. } | Instr::CallStar { dst, .. } => Some(dst),
        _ => None,
    }
}
