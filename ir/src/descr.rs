//! Descriptors: what the host tells the trace about its memory and its functions.
//!
//! A trace never guesses at the host's object model. The host registers a [`Layout`]
//! per object shape (size and, optionally, the class word stored at offset 0), a
//! [`FieldDescr`] per field (offset, type, immutability), an [`ArrayDescr`] per array
//! shape, a [`CallDescr`] per function it lets the trace call (address, signature,
//! [`EffectInfo`]), a [`FrameDescr`] per kind of host frame that snapshots rebuild, and
//! a [`TargetDescr`] per other compiled unit the trace may jump to. They are interned
//! in the trace's tables and referred to by index, so a trace is self-contained.
//!
//! ## The class word
//! Objects of a layout with a `class` have that word at offset 0 (PyPy's `typeptr`
//! convention). `new` writes it, `guard_class` reads it. Layouts without a class are
//! plain records: they can be allocated and accessed but not class-guarded.

use crate::entity::{ArrayId, FieldId, LayoutId};
use crate::types::Type;

/// The shape of a host object that `new` can allocate.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Unique name within the trace (text-format identifier).
    pub name: String,
    /// Size in bytes of one object.
    pub size: u32,
    /// The class word stored at offset 0, if objects of this layout carry one.
    pub class: Option<u64>,
}

impl Layout {
    /// The largest object size the verifier accepts (1 MiB). Host objects are small;
    /// without a bound, a hostile `layout P size 4000000000` made `new P` allocate,
    /// zero and (in `leones run`) print 4 GB.
    pub const MAX_SIZE: u32 = 1 << 20;
}

/// A field of a layout.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDescr {
    /// The layout this field belongs to.
    pub layout: LayoutId,
    /// Name, unique within its layout (printed as `Layout.field`).
    pub name: String,
    /// Byte offset from the start of the object.
    pub offset: u32,
    /// The value type stored.
    pub ty: Type,
    /// Never written after the object is initialized: loads of it may be CSE'd across
    /// any call.
    pub immutable: bool,
}

/// An array shape: a length word and inline items.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayDescr {
    /// Unique name within the trace.
    pub name: String,
    /// The item type (items take `elem.mem_size()` bytes each).
    pub elem: Type,
    /// Offset of the `i64` length word.
    pub len_offset: u32,
    /// Offset of item 0.
    pub items_offset: u32,
}

/// Which heap locations an effect may touch.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum HeapSet {
    /// Nothing at all.
    #[default]
    None,
    /// Exactly these fields and arrays (sorted, no duplicates).
    Some { fields: Vec<FieldId>, arrays: Vec<ArrayId> },
    /// Anything, including raw memory.
    Any,
}

impl HeapSet {
    /// Whether this set may include `field`.
    pub fn has_field(&self, field: FieldId) -> bool {
        match self {
            HeapSet::None => false,
            HeapSet::Some { fields, .. } => fields.contains(&field),
            HeapSet::Any => true,
        }
    }
    /// Whether this set may include items (or the length) of arrays `array`.
    pub fn has_array(&self, array: ArrayId) -> bool {
        match self {
            HeapSet::None => false,
            HeapSet::Some { arrays, .. } => arrays.contains(&array),
            HeapSet::Any => true,
        }
    }
    /// Whether this set may include raw memory (only `Any` does).
    pub fn has_raw(&self) -> bool {
        matches!(self, HeapSet::Any)
    }
    /// Builds a set, normalizing an empty list to `None`.
    pub fn of(mut fields: Vec<FieldId>, mut arrays: Vec<ArrayId>) -> HeapSet {
        fields.sort();
        fields.dedup();
        arrays.sort();
        arrays.dedup();
        if fields.is_empty() && arrays.is_empty() {
            HeapSet::None
        } else {
            HeapSet::Some { fields, arrays }
        }
    }
}

/// What a call may do. This is what keeps one opaque call from wiping out the
/// optimizer: a call that writes nothing keeps every heap fact, one that writes field F
/// forgets only F, and an unannotated call ([`EffectInfo::opaque`]) forgets everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectInfo {
    /// No side effects and a result that depends only on the arguments: equal calls
    /// may be CSE'd, and a call with all-constant arguments may be evaluated at
    /// compile time.
    pub pure: bool,
    /// Heap locations the call may read.
    pub reads: HeapSet,
    /// Heap locations the call may write.
    pub writes: HeapSet,
    /// The call may raise a host exception; a `guard_no_exception` follows it.
    pub may_raise: bool,
    /// The call may inspect the host frame, so virtual objects reachable from the
    /// current snapshot must be materialized before it.
    pub may_force: bool,
    /// The call may allocate host objects (and so run the host's collector).
    pub may_alloc: bool,
}

impl EffectInfo {
    /// The worst case, used for calls the host did not annotate.
    pub fn opaque() -> EffectInfo {
        EffectInfo {
            pure: false,
            reads: HeapSet::Any,
            writes: HeapSet::Any,
            may_raise: true,
            may_force: true,
            may_alloc: true,
        }
    }
    /// A pure function of its arguments.
    pub fn pure() -> EffectInfo {
        EffectInfo {
            pure: true,
            ..EffectInfo::none()
        }
    }
    /// Touches nothing the trace can see, but is not CSE-able (e.g. it does I/O).
    pub fn none() -> EffectInfo {
        EffectInfo {
            pure: false,
            reads: HeapSet::None,
            writes: HeapSet::None,
            may_raise: false,
            may_force: false,
            may_alloc: false,
        }
    }
    /// Whether this is the unannotated worst case.
    pub fn is_opaque(&self) -> bool {
        *self == EffectInfo::opaque()
    }
}

/// A host function the trace may call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallDescr {
    /// Unique name within the trace.
    pub name: String,
    /// The function's address (an `extern "C"` function taking and returning the
    /// IR types as `i64`/`f64`/`bool`/pointers). 0 in traces meant only for the
    /// reference interpreter, which finds host functions by name.
    pub addr: u64,
    /// Parameter types.
    pub params: Vec<Type>,
    /// Result type, if any.
    pub ret: Option<Type>,
    /// What the call may do.
    pub effects: EffectInfo,
}

/// A kind of host frame that a snapshot can rebuild (a function / code object).
#[derive(Clone, Debug, PartialEq)]
pub struct FrameDescr {
    /// Unique name within the trace.
    pub name: String,
    /// The host's identifier for the code (e.g. a code-object address).
    pub code: u64,
    /// How many slots (locals, stack entries) a frame of this kind has.
    pub slots: u32,
}

/// Another compiled unit this trace may transfer control to with `jump @target(...)`
/// (a bridge re-entering its loop, a loop exiting into another loop).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetDescr {
    /// Unique name within the trace.
    pub name: String,
    /// The types of the values passed on.
    pub params: Vec<Type>,
}
