//! # Shape guards and object memory
//!
//! The recorder's reads and writes of VM memory: the guards that pin an operand's shape
//! (an instance's class, a tuple's length, a built-in kind, the class epoch), the loads
//! of globals and module attributes (definitions promoted to constants), and inline
//! values, sequence lengths and list items as fields and raw addresses. Kept apart from
//! the dispatch in [`super::record`] so that the layouts the trace relies on live in
//! one place.

use super::{unsupported, Rec};
use crate::jit::world::{kind_word, InlineLayout};
use crate::object::*;
use crate::value::*;
use leones_ir::interp::Val;
use leones_ir::{BinaryOp, MemType};
use leones_tracer::{Abort, Tv};

impl Rec<'_> {
    /// Guards that `tv` (seen as `v`) is an instance of its class; its layout.
    pub(in crate::jit) fn guard_instance(&mut self, tv: Tv, v: Value) -> Result<InlineLayout, Abort> {
        let cls = class_of(v).ok_or_else(|| unsupported("not an instance"))?;
        self.keep(Value::obj(cls));
        let l = self.w.class(cls).map_err(Abort::Invalid)?;
        self.r.guard_null(tv, false)?;
        self.r.guard_class(tv, l.layout)?;
        Ok(l)
    }

    /// Guards that `tv` is a tuple of exactly `v`'s length; its layout.
    pub(in crate::jit) fn guard_tuple(&mut self, tv: Tv, v: Value) -> Result<InlineLayout, Abort> {
        // SAFETY: the caller checked the kind.
        let n = unsafe { (*v.as_ptr::<TupleObj>()).len };
        let l = self.w.tuple(n).map_err(Abort::Invalid)?;
        self.r.guard_null(tv, false)?;
        let k = self.r.getfield(tv, l.kind)?;
        self.guard_eq(k, kind_word(Kind::Tuple))?;
        let c = self.r.getfield(tv, l.count)?;
        self.guard_eq(c, n as i64)?;
        Ok(l)
    }

    /// Guards that `tv` is an object of built-in kind `kind`.
    pub(in crate::jit) fn guard_kind(&mut self, tv: Tv, kind: Kind) -> Result<(), Abort> {
        self.r.guard_null(tv, false)?;
        let k = self.r.getfield(tv, self.w.object_kind)?;
        self.guard_eq(k, kind_word(kind))
    }

    /// Guards that no class attribute changed since recording (the class epoch).
    pub(in crate::jit) fn guard_epoch(&mut self) -> Result<(), Abort> {
        let p = Tv::constant(Val::Ptr(&*self.vm.class_epoch as *const u32 as u64));
        let e = self.r.load(MemType::I32U, p, 0)?;
        self.guard_eq(e, *self.vm.class_epoch as i64)
    }

    /// The value at raw address `addr` (a `Value` in memory), seen as `seen`.
    /// Definitions (functions, classes, builtins, modules: what globals and module
    /// attributes mostly hold, bound once) are promoted to constants. Other objects
    /// are not: a module-level loop rebinds its variables, which are globals, to new
    /// instances, lists and tuples on every iteration, and a promoted one failed its
    /// `guard_value` every time, each failure growing one more bridge specialized to
    /// an object that was already garbage (and kept alive for the trace's sake).
    pub(super) fn load_value(&mut self, addr: *const Value, seen: Value) -> Result<Tv, Abort> {
        let p = Tv::constant(Val::Ptr(addr as u64));
        let tag = self.r.load(MemType::I64, p, 0)?;
        let tv = self.read_value(tag, |s| s.r.load(MemType::I64, p, 8), seen)?;
        if matches!(
            seen.kind(),
            Some(Kind::Function | Kind::Class | Kind::Builtin | Kind::Module)
        ) {
            return self.promote_obj(tv, seen);
        }
        Ok(tv)
    }

    /// Attribute `name` of module `o` (traced as `to`), read from its entry.
    pub(super) fn module_attr(&mut self, to: Tv, o: Value, name: Sym) -> Result<Tv, Abort> {
        let to = self.promote_obj(to, o)?;
        let _ = to;
        // SAFETY: kind checked by the caller; module attribute vectors do not grow
        // after the module is created (built-in modules only).
        let m = unsafe { &*o.as_ptr::<ModuleObj>() };
        let Some(entry) = m.attrs.iter().find(|a| a.0 == name) else {
            return Err(unsupported("a missing module attribute"));
        };
        let (addr, seen) = (&entry.1 as *const Value, entry.1);
        self.load_value(addr, seen)
    }

    /// Reads inline value `i` of an instance or tuple.
    pub(in crate::jit) fn get_inline(&mut self, obj: Tv, l: &InlineLayout, i: usize, seen: Value) -> Result<Tv, Abort> {
        let f = l.values[i];
        let tag = self.r.getfield(obj, f.tag)?;
        self.read_value(tag, |s| s.r.getfield(obj, f.word), seen)
    }

    /// Writes inline value `i` of an instance or tuple.
    pub(in crate::jit) fn set_inline(
        &mut self,
        obj: Tv,
        l: &InlineLayout,
        i: usize,
        v: Tv,
        seen: Value,
    ) -> Result<(), Abort> {
        let (tag, word) = self.value_words(v, seen)?;
        let f = l.values[i];
        let t = self.int(tag as i64);
        self.r.setfield(obj, f.tag, t)?;
        self.r.setfield(obj, f.word, word)
    }

    /// The length of a tuple (a constant, after the shape guard), list or bytes;
    /// `None` for other kinds.
    pub(super) fn seq_len(&mut self, tv: Tv, v: Value) -> Result<Option<Tv>, Abort> {
        Ok(Some(match v.kind() {
            Some(Kind::Tuple) => {
                self.guard_tuple(tv, v)?;
                // SAFETY: kind checked.
                Tv::constant(unsafe { (*v.as_ptr::<TupleObj>()).len } as i64)
            }
            Some(k @ (Kind::List | Kind::Bytes)) => {
                self.guard_kind(tv, k)?;
                let f = if k == Kind::List {
                    self.w.list_len
                } else {
                    self.w.bytes_len
                };
                self.r.getfield(tv, f)?
            }
            _ => return Ok(None),
        }))
    }

    /// The address of the value list item `i` of a list (raw pointer arithmetic).
    pub(super) fn list_item_addr(&mut self, list: Tv, idx: Tv, i: i64, len: usize) -> Result<Tv, Abort> {
        if i < 0 || i as usize >= len {
            return Err(unsupported("a negative or out-of-range list index"));
        }
        self.guard_kind(list, Kind::List)?;
        let n = self.r.getfield(list, self.w.list_len)?;
        let z = self.int(0);
        let ge = self.bin(BinaryOp::IGe, idx, z)?;
        self.r.guard(ge, true)?;
        let lt = self.bin(BinaryOp::ILt, idx, n)?;
        self.r.guard(lt, true)?;
        let items = self.r.getfield(list, self.w.list_ptr)?;
        let sixteen = self.int(16);
        let off = self.bin(BinaryOp::IMul, idx, sixteen)?;
        self.bin(BinaryOp::PtrAdd, items, off)
    }
}
