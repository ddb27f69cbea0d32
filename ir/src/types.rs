//! Value types and the narrow memory types used by raw `load`/`store`.
//!
//! The IR has five value types. `i64`, `f64` and `bool` are plain machine values; `ref`
//! is a pointer to a host object whose shape a [`Layout`](crate::Layout) or
//! [`ArrayDescr`](crate::ArrayDescr) describes; `ptr` is a raw address into memory the
//! trace may only touch with `load`/`store`. Keeping `ref` and `ptr` apart lets the
//! optimizer reason about objects (escape analysis, the heap cache) without having to
//! prove anything about raw pointer arithmetic.
//!
//! Narrow widths (i8/i16/i32/f32) exist only in memory: a `load.i8s` sign-extends to
//! `i64`, a `store.f32` rounds an `f64`. Registers are always one of the five types.

use std::fmt;

/// The type of an SSA value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// 64-bit two's-complement integer.
    I64,
    /// IEEE-754 double.
    F64,
    /// A truth value (one byte in memory, `i1` in registers).
    Bool,
    /// A host object reference (may be null).
    Ref,
    /// A raw memory address.
    Ptr,
}

impl Type {
    /// All types, in a fixed order (useful for generators and tables).
    pub const ALL: [Type; 5] = [Type::I64, Type::F64, Type::Bool, Type::Ref, Type::Ptr];

    /// The text-format name (`i64`, `f64`, `bool`, `ref`, `ptr`).
    pub fn name(self) -> &'static str {
        match self {
            Type::I64 => "i64",
            Type::F64 => "f64",
            Type::Bool => "bool",
            Type::Ref => "ref",
            Type::Ptr => "ptr",
        }
    }

    /// Parses a text-format type name.
    pub fn from_name(s: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Bytes this type occupies in an object field or array item.
    pub fn mem_size(self) -> u32 {
        match self {
            Type::Bool => 1,
            _ => 8,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The memory type of a raw `load`/`store`: its width, and for integers how a load
/// extends to `i64`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MemType {
    I8S,
    I8U,
    I16S,
    I16U,
    I32S,
    I32U,
    I64,
    F32,
    F64,
    Ref,
    Ptr,
    Bool,
}

impl MemType {
    /// All memory types, in a fixed order.
    pub const ALL: [MemType; 12] = [
        MemType::I8S,
        MemType::I8U,
        MemType::I16S,
        MemType::I16U,
        MemType::I32S,
        MemType::I32U,
        MemType::I64,
        MemType::F32,
        MemType::F64,
        MemType::Ref,
        MemType::Ptr,
        MemType::Bool,
    ];

    /// The suffix used in the text format (`load.i32s`, `store.f32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            MemType::I8S => "i8s",
            MemType::I8U => "i8u",
            MemType::I16S => "i16s",
            MemType::I16U => "i16u",
            MemType::I32S => "i32s",
            MemType::I32U => "i32u",
            MemType::I64 => "i64",
            MemType::F32 => "f32",
            MemType::F64 => "f64",
            MemType::Ref => "ref",
            MemType::Ptr => "ptr",
            MemType::Bool => "bool",
        }
    }

    /// The full-width memory type a value of type `ty` is stored with in an object
    /// field or array item.
    pub fn of(ty: Type) -> MemType {
        match ty {
            Type::I64 => MemType::I64,
            Type::F64 => MemType::F64,
            Type::Bool => MemType::Bool,
            Type::Ref => MemType::Ref,
            Type::Ptr => MemType::Ptr,
        }
    }

    /// Parses a memory type suffix.
    pub fn from_name(s: &str) -> Option<MemType> {
        MemType::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The suffix of a `store`: a store truncates, so signedness does not exist there
    /// (`store.i8`, `store.i16`, `store.i32`).
    pub fn store_name(self) -> &'static str {
        match self {
            MemType::I8S | MemType::I8U => "i8",
            MemType::I16S | MemType::I16U => "i16",
            MemType::I32S | MemType::I32U => "i32",
            other => other.name(),
        }
    }

    /// Parses a `store` suffix (`i8`, `i16`, `i32` or a full-width type).
    pub fn from_store_name(s: &str) -> Option<MemType> {
        match s {
            "i8" => Some(MemType::I8U),
            "i16" => Some(MemType::I16U),
            "i32" => Some(MemType::I32U),
            _ => MemType::from_name(s).filter(|m| m.store_name() == m.name()),
        }
    }

    /// Width in bytes.
    pub fn size(self) -> u32 {
        match self {
            MemType::I8S | MemType::I8U | MemType::Bool => 1,
            MemType::I16S | MemType::I16U => 2,
            MemType::I32S | MemType::I32U | MemType::F32 => 4,
            MemType::I64 | MemType::F64 | MemType::Ref | MemType::Ptr => 8,
        }
    }

    /// The register type a load produces and a store consumes.
    pub fn value_type(self) -> Type {
        match self {
            MemType::F32 | MemType::F64 => Type::F64,
            MemType::Ref => Type::Ref,
            MemType::Ptr => Type::Ptr,
            MemType::Bool => Type::Bool,
            _ => Type::I64,
        }
    }
}
