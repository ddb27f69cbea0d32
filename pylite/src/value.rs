//! # Values: the 16-byte tagged cell
//!
//! Every slot the interpreter touches — frame registers, instance fields, list and
//! tuple storage, globals, constants — holds a [`Value`]: a `#[repr(C)]` pair of
//! `u64`s, `tag` at offset 0 and `payload` at offset 8. This is the contract with
//! compiled code: a JIT reads the tag, guards on it, and uses the payload unboxed.
//!
//! | tag | meaning            | payload                                  |
//! |-----|--------------------|------------------------------------------|
//! | 0   | `UNDEF` (unbound)  | 0                                        |
//! | 1   | `None`             | 0                                        |
//! | 2   | `bool`             | 0 or 1                                   |
//! | 3   | `int`              | the `i64`, two's complement              |
//! | 4   | `float`            | the IEEE-754 bits of the `f64`           |
//! | 5   | heap object        | address of a [`crate::object::Header`]   |
//!
//! Invariants: `UNDEF` is all-zero, so zeroed memory is a valid (unbound) value;
//! it never escapes into a user-visible place (the interpreter raises
//! `NameError`/`UnboundLocalError` when it would). An `OBJ` payload always points
//! at a live object registered with the [`crate::gc::Heap`].

use crate::object::{Header, Kind};

/// Tag of an unbound slot (all-zero bits).
pub const TAG_UNDEF: u64 = 0;
/// Tag of `None`.
pub const TAG_NONE: u64 = 1;
/// Tag of `True`/`False` (payload 1/0).
pub const TAG_BOOL: u64 = 2;
/// Tag of a 64-bit int stored unboxed.
pub const TAG_INT: u64 = 3;
/// Tag of a float stored unboxed (payload = `f64::to_bits`).
pub const TAG_FLOAT: u64 = 4;
/// Tag of a heap object (payload = address of its header).
pub const TAG_OBJ: u64 = 5;

/// A Python value: a tag and an unboxed payload (see the module docs for the table).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Value {
    /// One of the `TAG_*` constants.
    pub tag: u64,
    /// Tag-dependent payload.
    pub payload: u64,
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.tag {
            TAG_UNDEF => write!(f, "<undef>"),
            TAG_NONE => write!(f, "None"),
            TAG_BOOL => write!(f, "{}", self.payload != 0),
            TAG_INT => write!(f, "{}", self.as_int()),
            TAG_FLOAT => write!(f, "{}", self.as_float()),
            _ => write!(f, "<obj {:#x}>", self.payload),
        }
    }
}

impl Value {
    /// The unbound marker.
    pub const UNDEF: Value = Value {
        tag: TAG_UNDEF,
        payload: 0,
    };
    /// `None`.
    pub const NONE: Value = Value {
        tag: TAG_NONE,
        payload: 0,
    };
    /// `True`.
    pub const TRUE: Value = Value {
        tag: TAG_BOOL,
        payload: 1,
    };
    /// `False`.
    pub const FALSE: Value = Value {
        tag: TAG_BOOL,
        payload: 0,
    };

    /// An int.
    #[inline(always)]
    pub fn int(i: i64) -> Value {
        Value {
            tag: TAG_INT,
            payload: i as u64,
        }
    }
    /// A float.
    #[inline(always)]
    pub fn float(f: f64) -> Value {
        Value {
            tag: TAG_FLOAT,
            payload: f.to_bits(),
        }
    }
    /// A bool.
    #[inline(always)]
    pub fn bool(b: bool) -> Value {
        Value {
            tag: TAG_BOOL,
            payload: b as u64,
        }
    }
    /// A reference to a heap object.
    #[inline(always)]
    pub fn obj<T>(p: *mut T) -> Value {
        Value {
            tag: TAG_OBJ,
            payload: p as u64,
        }
    }
    /// The int payload (caller checked the tag).
    #[inline(always)]
    pub fn as_int(self) -> i64 {
        self.payload as i64
    }
    /// The float payload (caller checked the tag).
    #[inline(always)]
    pub fn as_float(self) -> f64 {
        f64::from_bits(self.payload)
    }
    /// The object address (caller checked the tag).
    #[inline(always)]
    pub fn as_ptr<T>(self) -> *mut T {
        self.payload as *mut T
    }
    #[inline(always)]
    pub fn is_int(self) -> bool {
        self.tag == TAG_INT
    }
    #[inline(always)]
    pub fn is_float(self) -> bool {
        self.tag == TAG_FLOAT
    }
    #[inline(always)]
    pub fn is_obj(self) -> bool {
        self.tag == TAG_OBJ
    }
    #[inline(always)]
    pub fn is_none(self) -> bool {
        self.tag == TAG_NONE
    }
    #[inline(always)]
    pub fn is_undef(self) -> bool {
        self.tag == TAG_UNDEF
    }
    /// Int-like view: ints and bools (bool is an int subtype in Python).
    #[inline]
    pub fn as_intlike(self) -> Option<i64> {
        match self.tag {
            TAG_INT => Some(self.as_int()),
            TAG_BOOL => Some(self.payload as i64),
            _ => None,
        }
    }
    /// Number view: ints, bools and floats as `f64`.
    #[inline]
    pub fn as_number(self) -> Option<f64> {
        match self.tag {
            TAG_INT => Some(self.as_int() as f64),
            TAG_BOOL => Some(self.payload as f64),
            TAG_FLOAT => Some(self.as_float()),
            _ => None,
        }
    }
    /// The heap kind, if this is an object.
    #[inline(always)]
    pub fn kind(self) -> Option<Kind> {
        if self.tag == TAG_OBJ {
            // SAFETY: OBJ payloads always point at a live header (module invariant).
            Some(unsafe { (*(self.payload as *const Header)).kind })
        } else {
            None
        }
    }
    /// Whether this is an object of kind `k`.
    #[inline(always)]
    pub fn is_kind(self, k: Kind) -> bool {
        self.kind() == Some(k)
    }
    /// Python `is`: same tag and same payload.
    #[inline(always)]
    pub fn is(self, other: Value) -> bool {
        self.tag == other.tag && self.payload == other.payload
    }
}
