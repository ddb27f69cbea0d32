//! [`Val`]: a typed run-time value, the interpreter's currency at its boundaries.
//!
//! Inside the hot loop values are raw 64-bit patterns (the types are static, the
//! verifier checked them); a `Val` is what crosses the API: inputs, `finish` values,
//! snapshot slots, host-call arguments and results.

use crate::op::Const;
use crate::types::Type;
use std::fmt;

/// A run-time value of one of the five IR types.
///
/// Equality is by type and bit pattern, like [`Const`]'s: `NaN == NaN` (same payload)
/// and `0.0 != -0.0`. That is the equality differential tests need: an optimizer that
/// turns `x * 0.0` into `0.0` is wrong for `x = -1.0`, and this equality says so.
#[derive(Copy, Clone, Debug)]
pub enum Val {
    I64(i64),
    F64(f64),
    Bool(bool),
    /// A host object address (0 is null).
    Ref(u64),
    /// A raw address.
    Ptr(u64),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> Type {
        match self {
            Val::I64(_) => Type::I64,
            Val::F64(_) => Type::F64,
            Val::Bool(_) => Type::Bool,
            Val::Ref(_) => Type::Ref,
            Val::Ptr(_) => Type::Ptr,
        }
    }

    /// The raw 64-bit pattern: floats by their bits, bools as 0/1.
    pub fn to_bits(&self) -> u64 {
        match *self {
            Val::I64(v) => v as u64,
            Val::F64(v) => v.to_bits(),
            Val::Bool(b) => b as u64,
            Val::Ref(a) | Val::Ptr(a) => a,
        }
    }

    /// The value of type `ty` with bit pattern `bits` (a bool is true iff `bits != 0`).
    pub fn from_bits(ty: Type, bits: u64) -> Val {
        match ty {
            Type::I64 => Val::I64(bits as i64),
            Type::F64 => Val::F64(f64::from_bits(bits)),
            Type::Bool => Val::Bool(bits != 0),
            Type::Ref => Val::Ref(bits),
            Type::Ptr => Val::Ptr(bits),
        }
    }

    /// The zero of a type (`0`, `0.0`, `false`, `null`, `ptr(0x0)`).
    pub fn zero(ty: Type) -> Val {
        Val::from_bits(ty, 0)
    }

    /// The value of a constant.
    pub fn from_const(k: Const) -> Val {
        match k {
            Const::I64(v) => Val::I64(v),
            Const::F64(v) => Val::F64(v),
            Const::Bool(b) => Val::Bool(b),
            Const::Ref(a) => Val::Ref(a),
            Const::Ptr(a) => Val::Ptr(a),
        }
    }

    /// The constant with this value.
    pub fn to_const(&self) -> Const {
        match *self {
            Val::I64(v) => Const::I64(v),
            Val::F64(v) => Const::F64(v),
            Val::Bool(b) => Const::Bool(b),
            Val::Ref(a) => Const::Ref(a),
            Val::Ptr(a) => Const::Ptr(a),
        }
    }

    /// The integer, if this is an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Val::I64(v) => Some(v),
            _ => None,
        }
    }
    /// The float, if this is an `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Val::F64(v) => Some(v),
            _ => None,
        }
    }
    /// The truth value, if this is a `bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }
    /// The address, if this is a `ref` or a `ptr`.
    pub fn as_addr(&self) -> Option<u64> {
        match *self {
            Val::Ref(a) | Val::Ptr(a) => Some(a),
            _ => None,
        }
    }
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        self.ty() == other.ty() && self.to_bits() == other.to_bits()
    }
}
impl Eq for Val {}
impl std::hash::Hash for Val {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ty().hash(state);
        self.to_bits().hash(state);
    }
}

/// Prints like a text-format constant: `5`, `-2.5`, `nan(0x7ff8000000000000)`, `true`,
/// `null`, `ref(0x10)`, `ptr(0x10)`.
impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_const(), f)
    }
}

impl From<Const> for Val {
    fn from(k: Const) -> Val {
        Val::from_const(k)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}
