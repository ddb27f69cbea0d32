//! # pylite values in traces
//!
//! A frame slot holds a 16-byte tagged [`Value`]; in a trace it is *one* typed value,
//! its type standing for the tag: `i64` an int, `f64` a float, `bool` a bool, `ref` an
//! object or None (None is the null reference — object addresses are never 0). An
//! unbound slot (`UNDEF`) is dead. So a float local lives unboxed in a register, and a
//! frame's *shape* (which slot has which type) is what a loop specializes on.
//!
//! In memory (instance slots, tuple items, list items, globals) a value is two words,
//! tag and payload; [`Rec::read_value`] guards the tag it saw while recording and
//! converts the payload word, [`Rec::value_words`] does the reverse for stores.

use super::record::Rec;
use crate::value::*;
use leones_ir::interp::Val;
use leones_ir::{BinaryOp, UnaryOp};
use leones_tracer::{Abort, Tv};

/// A slot value as the engine sees it (`None` for an unbound slot).
pub(crate) fn to_val(v: Value) -> Option<Val> {
    match v.tag {
        TAG_INT => Some(Val::I64(v.as_int())),
        TAG_FLOAT => Some(Val::F64(v.as_float())),
        TAG_BOOL => Some(Val::Bool(v.payload != 0)),
        TAG_NONE => Some(Val::Ref(0)),
        TAG_OBJ => Some(Val::Ref(v.payload)),
        _ => None,
    }
}

/// The slot value an exit hands back (`None`, dead, is unbound).
pub(crate) fn from_val(v: Option<Val>) -> Value {
    match v {
        Some(Val::I64(i)) => Value::int(i),
        Some(Val::F64(f)) => Value::float(f),
        Some(Val::Bool(b)) => Value::bool(b),
        Some(Val::Ref(0)) => Value::NONE,
        // A materialized lazy value stands for the value it holds.
        Some(Val::Ref(p)) => super::lazy::decode_lazy(p).unwrap_or(Value {
            tag: TAG_OBJ,
            payload: p,
        }),
        Some(Val::Ptr(_)) | None => Value::UNDEF,
    }
}

/// The constant traced value of `v`, if it has one.
pub(crate) fn const_tv(v: Value) -> Option<Tv> {
    to_val(v).map(Tv::constant)
}

impl Rec<'_> {
    /// `a == k` for an i64 constant.
    pub fn eq_const(&mut self, a: Tv, k: i64) -> Result<Tv, Abort> {
        let k = self.r.constant(k);
        self.r.binary(BinaryOp::IEq, a, k)
    }

    /// Guards that `a == k` (it was while recording).
    pub fn guard_eq(&mut self, a: Tv, k: i64) -> Result<(), Abort> {
        let c = self.eq_const(a, k)?;
        self.r.guard(c, true)
    }

    /// The traced value of a stored value whose tag word is `tag` and payload word
    /// `word`, given the value seen while recording: guards the tag, converts the word.
    pub fn read_value(
        &mut self,
        tag: Tv,
        word: impl FnOnce(&mut Self) -> Result<Tv, Abort>,
        seen: Value,
    ) -> Result<Tv, Abort> {
        if seen.tag == TAG_UNDEF {
            return Err(Abort::Unsupported("reading an unbound value".into()));
        }
        self.guard_eq(tag, seen.tag as i64)?;
        self.typed_word(word, seen)
    }

    /// The traced value of a stored value of `seen`'s tag (already guarded) whose
    /// payload word is `word`: the word converted to the slot type the tag stands for.
    pub fn typed_word(&mut self, word: impl FnOnce(&mut Self) -> Result<Tv, Abort>, seen: Value) -> Result<Tv, Abort> {
        match seen.tag {
            TAG_NONE => Ok(Tv::constant(Val::Ref(0))),
            TAG_INT => word(self),
            TAG_FLOAT => {
                let w = word(self)?;
                self.r.unary(UnaryOp::Bits2F, w)
            }
            TAG_BOOL => {
                let w = word(self)?;
                let zero = self.r.constant(0i64);
                self.r.binary(BinaryOp::INe, w, zero)
            }
            _ => {
                let w = word(self)?;
                self.r.unary(UnaryOp::I2Ref, w)
            }
        }
    }

    /// The tag (a constant: the type says it, or a null test) and payload word of `tv`,
    /// whose value while recording is `seen`.
    pub fn value_words(&mut self, tv: Tv, seen: Value) -> Result<(u64, Tv), Abort> {
        use leones_ir::Type;
        match tv.ty() {
            Type::I64 => Ok((TAG_INT, tv)),
            Type::F64 => Ok((TAG_FLOAT, self.r.unary(UnaryOp::F2Bits, tv)?)),
            Type::Bool => Ok((TAG_BOOL, self.r.unary(UnaryOp::B2I, tv)?)),
            Type::Ref if seen.is_none() => {
                self.r.guard_null(tv, true)?;
                Ok((TAG_NONE, self.r.constant(0i64)))
            }
            Type::Ref => {
                self.r.guard_null(tv, false)?;
                Ok((TAG_OBJ, self.r.unary(UnaryOp::Ref2I, tv)?))
            }
            Type::Ptr => Err(Abort::Invalid("a raw pointer in a frame slot".into())),
        }
    }
}
