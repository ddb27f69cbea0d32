//! # Lazy values: a slot whose type is decided where the program asks
//!
//! A trace gives every frame slot one IR type, so reading a tagged value from memory
//! (a tuple item, say) guards its tag right there. For `fn(*row)` that puts all of
//! the row's type checks at the call: nine `None`-or-float arguments become nine tag
//! guards *before* the body, and the nine `if x is None` later are constants. Every
//! mix of types is then a different path from the call to the end of the function —
//! the 2^9 paths of the talk's "Problem 2" — and no merge point can join them, since
//! the paths' slots have different types all the way through.
//!
//! So a star call into a Python function passes its items **lazily**: each argument
//! slot holds a *lazy value*, a small object with the item's tag and payload words
//! (`lazyvalue`: the layout of a 1-tuple with a sentinel class word). Nothing is
//! guarded at the call. The first time the body reads the slot ([`Rec::slot`]), the
//! tag is guarded *there* (`if x is None` is where the path splits) and the slot
//! becomes the typed value; the split rejoins right after the `if`, where both paths
//! hold an `f64`. Escape analysis removes the lazy objects (they never escape: every
//! read forces them); an exit that sees one materializes it, and
//! [`decode_lazy`] turns it back into the value it stands for when the host rebuilds
//! its frames. A bridge or arm recorded from such an exit finds a lazy object in the
//! slot and keeps it lazy ([`Rec::slot`] forces it on first read, as in the parent).
//!
//! Invariant: a lazy value lives only in frame slots (never in a field, a list, a
//! call argument of a residual call or a return value): every use of a slot other
//! than passing it into an inlined frame goes through [`Rec::slot`], which forces it.

use super::record::Rec;
use super::world::InlineLayout;
use crate::object::{ClassObj, Header, Kind, TupleObj, TUPLE_ITEMS_OFFSET};
use crate::value::Value;
use leones_tracer::{Abort, Tv};

/// The class word of lazy values: the address of this byte, which no class has.
static LAZY_VALUE_CLASS: u8 = 0;

/// The sentinel class pointer of lazy values.
pub(crate) fn lazy_class() -> *mut ClassObj {
    &LAZY_VALUE_CLASS as *const u8 as *mut ClassObj
}

/// The value a materialized lazy value at `p` stands for; `None` if `p` is not one.
pub(crate) fn decode_lazy(p: u64) -> Option<Value> {
    if p == 0 {
        return None;
    }
    // SAFETY: `p` is a pylite object (a frame slot's reference); every object starts
    // with a `Header`, and a lazy value is a 1-tuple whose header carries the sentinel.
    unsafe {
        let h = p as *const Header;
        if (*h).class != lazy_class() || (*h).kind != Kind::Tuple {
            return None;
        }
        let item = (p as *const u8).add(TUPLE_ITEMS_OFFSET) as *const Value;
        Some(*item)
    }
}

/// Marks a freshly allocated 1-tuple as a lazy value.
pub(crate) fn mark_lazy(t: *mut TupleObj) {
    // SAFETY: `t` is a live tuple just allocated by the caller.
    unsafe { (*t).h.class = lazy_class() }
}

impl Rec<'_> {
    /// Item `i` of the object `obj` (an instance or tuple of layout `l`) as a lazy
    /// value: its words are loaded, its tag is not guarded.
    pub(super) fn lazy_item(&mut self, obj: Tv, l: &InlineLayout, i: usize) -> Result<Tv, Abort> {
        let f = l.values[i];
        let tag = self.r.getfield(obj, f.tag)?;
        let word = self.r.getfield(obj, f.word)?;
        let lz = self.w.lazy.clone();
        let b = self.r.new_object(lz.layout)?;
        let kind = self.int(super::world::kind_word(Kind::Tuple));
        self.r.setfield(b, lz.kind, kind)?;
        let one = self.int(1);
        self.r.setfield(b, lz.count, one)?;
        self.r.setfield(b, lz.values[0].tag, tag)?;
        self.r.setfield(b, lz.values[0].word, word)?;
        self.lazy.push(b);
        Ok(b)
    }

    /// Whether `tv` is a lazy value.
    pub(super) fn is_lazy(&self, tv: Tv) -> bool {
        self.lazy.contains(&tv)
    }

    /// Forces lazy value `tv` in slot `i` (seen as the value the slot holds): guards
    /// its tag and makes the slot the typed value.
    pub(super) fn force_lazy(&mut self, i: u16, tv: Tv) -> Result<Tv, Abort> {
        let seen = self.reg(i);
        let f = self.w.lazy.values[0];
        let tag = self.r.getfield(tv, f.tag)?;
        let v = self.read_value(tag, |s| s.r.getfield(tv, f.word), seen)?;
        self.set(i, v)?;
        Ok(v)
    }
}
