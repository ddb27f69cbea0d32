//! # The object model
//!
//! Heap objects are `#[repr(C)]` structs that begin with a 16-byte [`Header`]:
//! `class` (offset 0: the user class of an instance, null for built-in kinds),
//! `kind` (offset 8: which struct this is) and the GC `mark` byte (offset 9).
//! Objects are allocated individually, registered with the [`crate::gc::Heap`],
//! and never move, so a `Value` holding an address stays valid for as long as the
//! object is reachable.
//!
//! Layouts a JIT relies on (all offsets in bytes, checked by tests):
//! * [`Instance`]: header, `nslots: u32` at 16, `extra` at 24, then `nslots`
//!   inline [`Value`]s starting at offset 32. The slot of an attribute is fixed
//!   per class (its *shape*, computed at compile time from `self.x = ...`
//!   assignments in the class's methods, base-class slots first); attributes
//!   outside the shape live in the `extra` side table.
//! * [`TupleObj`]: header, `len` at 16, then `len` inline [`Value`]s from offset 32
//!   (the same shape as an instance, so a JIT can treat a small tuple as a layout).
//! * [`ListObj`]: header, then a [`RawBuf`] `{ptr, len, cap}` at 16:
//!   item `i` is at `*(ptr + 16*i)`.
//! * [`StrObj`]/[`BytesObj`]: header, then a `RawBuf<u8>` at 16 (UTF-8 for str).
//! * [`GeneratorObj`]: header, `code` at 16, `pc: u32` at 24, `state` at 28,
//!   `nslots: u16` at 30, then its frame's `nslots` slots inline from offset 32 (like
//!   an instance's): a generator *is* its frame, and a JIT can describe it as one
//!   fixed layout per code object.
//!
//! Invariant for every accessor here: a reference derived from a `Value` is only
//! used until the next GC safepoint (the collector runs nowhere else), and the
//! caller has checked the kind (the `as_*` helpers below do).

use crate::bytecode::Code;
use crate::rawbuf::RawBuf;
use crate::value::Value;
use crate::vm::Vm;
use std::collections::HashMap;

/// An interned identifier (attribute or global name).
pub type Sym = u32;

/// The interner mapping identifier strings to [`Sym`]s.
#[derive(Default)]
pub struct Interner {
    map: HashMap<String, Sym>,
    names: Vec<String>,
}

impl Interner {
    /// Interns `s`.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&k) = self.map.get(s) {
            return k;
        }
        let k = self.names.len() as Sym;
        self.names.push(s.to_string());
        self.map.insert(s.to_string(), k);
        k
    }
    /// Looks up an already interned name.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.map.get(s).copied()
    }
    /// The text of a symbol.
    pub fn name(&self, k: Sym) -> &str {
        &self.names[k as usize]
    }
}

/// Which struct a heap object is.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Str,
    Bytes,
    Tuple,
    List,
    Instance,
    Class,
    Function,
    Builtin,
    Generator,
    Module,
    File,
    Property,
    BoundMethod,
    Range,
    RangeIter,
    SeqIter,
}

/// The common object header (16 bytes).
#[repr(C)]
pub struct Header {
    /// The class of an [`Instance`]; null for built-in kinds.
    pub class: *mut ClassObj,
    /// The object's kind.
    pub kind: Kind,
    /// GC mark bit (0/1).
    pub mark: u8,
    _pad: [u8; 6],
}

impl Header {
    /// A header for a built-in kind.
    pub fn new(kind: Kind) -> Header {
        Header {
            class: std::ptr::null_mut(),
            kind,
            mark: 0,
            _pad: [0; 6],
        }
    }
    /// A header for an instance of `class`.
    pub fn with_class(kind: Kind, class: *mut ClassObj) -> Header {
        Header {
            class,
            kind,
            mark: 0,
            _pad: [0; 6],
        }
    }
}

/// Marker for `#[repr(C)]` structs that start with a [`Header`].
///
/// # Safety
/// Implementors must be `#[repr(C)]` with a `Header` as their first field, and
/// their `KIND` must match the kind they are allocated with.
pub unsafe trait HeapObj {
    const KIND: Kind;
}

macro_rules! heap_obj {
    ($t:ty, $k:ident) => {
        // SAFETY: every struct listed is #[repr(C)] with `h: Header` first.
        unsafe impl HeapObj for $t {
            const KIND: Kind = Kind::$k;
        }
    };
}

/// A `str` (UTF-8 bytes).
#[repr(C)]
pub struct StrObj {
    pub h: Header,
    pub data: RawBuf<u8>,
}
/// A `bytes` object.
#[repr(C)]
pub struct BytesObj {
    pub h: Header,
    pub data: RawBuf<u8>,
}
/// A tuple: `len` items stored inline right after the struct (offset 32, like an
/// instance's slots), so a JIT can describe a tuple of `n` items as a fixed layout.
#[repr(C)]
pub struct TupleObj {
    pub h: Header,
    pub len: usize,
    _pad: usize,
}
/// Byte offset of a tuple's first item.
pub const TUPLE_ITEMS_OFFSET: usize = std::mem::size_of::<TupleObj>();

impl TupleObj {
    /// The fixed part of a tuple of `len` items (the caller allocates room for them).
    pub fn header(len: usize) -> TupleObj {
        TupleObj {
            h: Header::new(Kind::Tuple),
            len,
            _pad: 0,
        }
    }
    /// The items of the tuple at `this`.
    ///
    /// # Safety
    /// `this` is a live tuple (allocated with room for `len` items).
    #[inline(always)]
    pub unsafe fn items<'a>(this: *const TupleObj) -> &'a [Value] {
        std::slice::from_raw_parts((this as *const u8).add(TUPLE_ITEMS_OFFSET) as *const Value, (*this).len)
    }
}
/// A list.
#[repr(C)]
pub struct ListObj {
    pub h: Header,
    pub items: RawBuf<Value>,
}
/// An instance of a user class; `nslots` inline values follow the struct.
#[repr(C)]
pub struct Instance {
    pub h: Header,
    pub nslots: u32,
    _pad: u32,
    /// Attributes outside the class shape (null when there are none).
    pub extra: *mut Vec<(Sym, Value)>,
}
/// Byte offset of the first inline slot of an [`Instance`].
pub const INSTANCE_SLOTS_OFFSET: usize = std::mem::size_of::<Instance>();

impl Instance {
    /// Initializes the fixed part (the caller allocates room for the slots).
    pub fn header(class: *mut ClassObj, nslots: u32) -> Instance {
        Instance {
            h: Header::with_class(Kind::Instance, class),
            nslots,
            _pad: 0,
            extra: std::ptr::null_mut(),
        }
    }
    /// Pointer to inline slot `i` (caller ensures `i < nslots`).
    #[inline(always)]
    pub fn slot_ptr(this: *mut Instance, i: usize) -> *mut Value {
        // SAFETY: instances are allocated with nslots values right after the struct.
        unsafe { ((this as *mut u8).add(INSTANCE_SLOTS_OFFSET) as *mut Value).add(i) }
    }
}

/// Class flag: the class derives from `BaseException`.
pub const CLASS_EXCEPTION: u32 = 1;

/// A class: its shape (slot names), attributes (methods, properties, class values).
#[repr(C)]
pub struct ClassObj {
    pub h: Header,
    /// Number of inline slots of its instances.
    pub nslots: u32,
    /// `CLASS_*` flags.
    pub flags: u32,
    /// The base class (null for none).
    pub base: *mut ClassObj,
    /// Slot index → attribute name.
    pub slot_names: Vec<Sym>,
    /// Attribute name → slot index.
    pub slot_index: HashMap<Sym, u32>,
    /// Class attributes, including inherited ones (flattened at creation).
    pub attrs: HashMap<Sym, Value>,
    /// The class name.
    pub name: String,
}
/// A user function: code plus default values.
#[repr(C)]
pub struct FunctionObj {
    pub h: Header,
    pub code: *const Code,
    pub defaults: RawBuf<Value>,
}
/// Result type of native code: `Err` holds an exception instance.
pub type PyResult<T> = Result<T, Value>;
/// A native function: receives the VM and its positional arguments.
pub type NativeFn = fn(&mut Vm, &[Value]) -> PyResult<Value>;
/// A native (built-in) function or type-like callable.
#[repr(C)]
pub struct BuiltinObj {
    pub h: Header,
    pub f: NativeFn,
    pub name: &'static str,
    /// Identifies special builtins (`range`, `int`, ...); see [`crate::builtins::BuiltinId`].
    pub id: u16,
}
/// Generator states.
pub const GEN_SUSPENDED: u8 = 0;
pub const GEN_RUNNING: u8 = 1;
pub const GEN_DONE: u8 = 2;
/// A generator: its code, resume pc, state, and its own frame's `nslots` slots, stored
/// inline after the struct (offset [`GEN_SLOTS_OFFSET`]).
#[repr(C)]
pub struct GeneratorObj {
    pub h: Header,
    pub code: *const Code,
    pub pc: u32,
    pub state: u8,
    _pad: u8,
    pub nslots: u16,
}
/// Byte offset of a generator's first frame slot.
pub const GEN_SLOTS_OFFSET: usize = std::mem::size_of::<GeneratorObj>();

impl GeneratorObj {
    /// The fixed part of a suspended generator at pc 0 (the caller allocates room for
    /// `nslots` slots and writes them).
    pub fn header(code: *const Code, nslots: u16) -> Self {
        GeneratorObj {
            h: Header::new(Kind::Generator),
            code,
            pc: 0,
            state: GEN_SUSPENDED,
            _pad: 0,
            nslots,
        }
    }
    /// The frame slots of the generator at `this` (the base of its frame when it runs).
    ///
    /// # Safety
    /// `this` is a live generator.
    #[inline(always)]
    pub unsafe fn slots_ptr(this: *mut GeneratorObj) -> *mut Value {
        (this as *mut u8).add(GEN_SLOTS_OFFSET) as *mut Value
    }
    /// The frame slots of the generator at `this`.
    ///
    /// # Safety
    /// `this` is a live generator.
    pub unsafe fn slots<'a>(this: *mut GeneratorObj) -> &'a [Value] {
        std::slice::from_raw_parts(Self::slots_ptr(this), (*this).nslots as usize)
    }
}
/// A built-in module.
#[repr(C)]
pub struct ModuleObj {
    pub h: Header,
    pub name: String,
    pub attrs: Vec<(Sym, Value)>,
}
/// The state of an open file.
pub enum FileInner {
    Reader(std::io::BufReader<std::fs::File>),
    Writer(std::io::BufWriter<std::fs::File>),
    Closed,
}
/// A file object from `open()`.
#[repr(C)]
pub struct FileObj {
    pub h: Header,
    pub inner: FileInner,
    /// Opened in binary mode (`read` returns bytes).
    pub binary: bool,
}
/// A `property` wrapping a getter.
#[repr(C)]
pub struct PropertyObj {
    pub h: Header,
    pub getter: Value,
}
/// A method bound to its receiver (only allocated when a method is read as a value).
#[repr(C)]
pub struct BoundMethodObj {
    pub h: Header,
    pub func: Value,
    pub recv: Value,
}
/// A `range` object.
#[repr(C)]
pub struct RangeObj {
    pub h: Header,
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}
/// An iterator over a range.
#[repr(C)]
pub struct RangeIterObj {
    pub h: Header,
    pub cur: i64,
    pub stop: i64,
    pub step: i64,
}
/// An iterator over a tuple, list, str or bytes.
#[repr(C)]
pub struct SeqIterObj {
    pub h: Header,
    pub seq: Value,
    pub idx: usize,
}

heap_obj!(StrObj, Str);
heap_obj!(Instance, Instance);
heap_obj!(BytesObj, Bytes);
heap_obj!(TupleObj, Tuple);
heap_obj!(ListObj, List);
heap_obj!(ClassObj, Class);
heap_obj!(FunctionObj, Function);
heap_obj!(BuiltinObj, Builtin);
heap_obj!(GeneratorObj, Generator);
heap_obj!(ModuleObj, Module);
heap_obj!(FileObj, File);
heap_obj!(PropertyObj, Property);
heap_obj!(BoundMethodObj, BoundMethod);
heap_obj!(RangeObj, Range);
heap_obj!(RangeIterObj, RangeIter);
heap_obj!(SeqIterObj, SeqIter);

/// Reinterprets an object value as `&mut T` when its kind matches.
#[inline(always)]
pub fn cast<'a, T: HeapObj>(v: Value) -> Option<&'a mut T> {
    if v.kind() == Some(T::KIND) {
        // SAFETY: kind matches, HeapObj layout contract, module-level lifetime rule.
        Some(unsafe { &mut *(v.payload as *mut T) })
    } else {
        None
    }
}

/// Reinterprets an object value as `&mut T` without checking (caller checked the kind).
///
/// # Safety
/// `v` must be an object of kind `T::KIND`.
#[inline(always)]
pub unsafe fn cast_unchecked<'a, T: HeapObj>(v: Value) -> &'a mut T {
    &mut *(v.payload as *mut T)
}

/// The text of a `str` value.
#[inline]
pub fn as_str<'a>(v: Value) -> Option<&'a str> {
    // SAFETY: str data is always valid UTF-8 (constructed only from &str/String).
    cast::<StrObj>(v).map(|s| unsafe { std::str::from_utf8_unchecked(s.data.as_slice()) })
}
/// The bytes of a `bytes` value.
#[inline]
pub fn as_bytes<'a>(v: Value) -> Option<&'a [u8]> {
    cast::<BytesObj>(v).map(|s| s.data.as_slice())
}
/// The items of a tuple or list.
#[inline]
pub fn as_seq<'a>(v: Value) -> Option<&'a [Value]> {
    match v.kind() {
        // SAFETY: kinds checked; tuples hold their items inline, lists in a RawBuf.
        Some(Kind::Tuple) => Some(unsafe { TupleObj::items(v.as_ptr()) }),
        Some(Kind::List) => Some(unsafe { cast_unchecked::<ListObj>(v) }.items.as_slice()),
        _ => None,
    }
}
/// The class of an instance.
#[inline]
pub fn class_of(v: Value) -> Option<*mut ClassObj> {
    if v.kind() == Some(Kind::Instance) {
        // SAFETY: kind checked.
        Some(unsafe { (*(v.payload as *const Header)).class })
    } else {
        None
    }
}
