//! # Bytecode: register instructions and code objects
//!
//! pylite compiles to a *register* bytecode: every instruction names its operand
//! slots directly (`Add { dst, a, b }`), so `x = a + b` is one dispatch instead of
//! four stack operations. A frame is a flat array of 16-byte [`Value`] slots:
//!
//! ```text
//! [ params | other locals | register constants | temporaries ]
//!   0 ..     .. nlocals      .. nlocals+nregconsts .. nslots
//! ```
//!
//! Locals are resolved to slot numbers at compile time; the first
//! `nregconsts` constants are copied into their slots at frame entry so
//! instructions can use constants as ordinary operands. Every [`Instr`] is 8
//! bytes (a one-byte opcode plus up to three `u16` operands, checked by a test).
//!
//! Control flow: jump targets are absolute instruction indices (`u16`, so a code
//! object holds at most 65535 instructions). `Loop` is the *only* backward jump
//! and marks a loop back-edge: it is a GC safepoint and the natural place for a
//! JIT's hot-loop counter and frame hand-off. `Br*` instructions fuse a
//! comparison with the branch. Exceptions use a side table of
//! `[start, end) -> handler` ranges, innermost first.
//!
//! Attribute instructions carry an index into the code's inline caches
//! ([`AttrIc`]), keyed by the receiver's class.

use crate::object::{ClassObj, Sym};
use crate::value::Value;
use std::cell::Cell;
use std::rc::Rc;

/// A register (frame slot) number.
pub type R = u16;
/// "No register" marker for optional operands.
pub const NO_REG: R = u16::MAX;

/// One instruction. See the module docs for the frame layout.
#[derive(Clone, Copy, Debug)]
pub enum Instr {
    Nop,
    Move {
        dst: R,
        src: R,
    },
    LoadConst {
        dst: R,
        k: u16,
    },
    LoadGlobal {
        dst: R,
        g: u16,
    },
    StoreGlobal {
        g: u16,
        src: R,
    },
    /// Raises `UnboundLocalError` if slot `r` is unbound.
    CheckBound {
        r: R,
    },
    Add {
        dst: R,
        a: R,
        b: R,
    },
    Sub {
        dst: R,
        a: R,
        b: R,
    },
    Mul {
        dst: R,
        a: R,
        b: R,
    },
    Div {
        dst: R,
        a: R,
        b: R,
    },
    FloorDiv {
        dst: R,
        a: R,
        b: R,
    },
    Mod {
        dst: R,
        a: R,
        b: R,
    },
    Pow {
        dst: R,
        a: R,
        b: R,
    },
    Shl {
        dst: R,
        a: R,
        b: R,
    },
    Shr {
        dst: R,
        a: R,
        b: R,
    },
    BitAnd {
        dst: R,
        a: R,
        b: R,
    },
    BitOr {
        dst: R,
        a: R,
        b: R,
    },
    BitXor {
        dst: R,
        a: R,
        b: R,
    },
    Neg {
        dst: R,
        src: R,
    },
    Pos {
        dst: R,
        src: R,
    },
    Invert {
        dst: R,
        src: R,
    },
    Not {
        dst: R,
        src: R,
    },
    Lt {
        dst: R,
        a: R,
        b: R,
    },
    Le {
        dst: R,
        a: R,
        b: R,
    },
    Gt {
        dst: R,
        a: R,
        b: R,
    },
    Ge {
        dst: R,
        a: R,
        b: R,
    },
    Eq {
        dst: R,
        a: R,
        b: R,
    },
    Ne {
        dst: R,
        a: R,
        b: R,
    },
    Is {
        dst: R,
        a: R,
        b: R,
    },
    IsNot {
        dst: R,
        a: R,
        b: R,
    },
    In {
        dst: R,
        a: R,
        b: R,
    },
    NotIn {
        dst: R,
        a: R,
        b: R,
    },
    Jump {
        t: u16,
    },
    /// Loop back-edge to `t` (safepoint; JIT hook site).
    Loop {
        t: u16,
    },
    BrTrue {
        a: R,
        t: u16,
    },
    BrFalse {
        a: R,
        t: u16,
    },
    BrNone {
        a: R,
        t: u16,
    },
    BrNotNone {
        a: R,
        t: u16,
    },
    BrLt {
        a: R,
        b: R,
        t: u16,
    },
    BrLe {
        a: R,
        b: R,
        t: u16,
    },
    BrGt {
        a: R,
        b: R,
        t: u16,
    },
    BrGe {
        a: R,
        b: R,
        t: u16,
    },
    BrEq {
        a: R,
        b: R,
        t: u16,
    },
    BrNe {
        a: R,
        b: R,
        t: u16,
    },
    BrNLt {
        a: R,
        b: R,
        t: u16,
    },
    BrNLe {
        a: R,
        b: R,
        t: u16,
    },
    BrNGt {
        a: R,
        b: R,
        t: u16,
    },
    BrNGe {
        a: R,
        b: R,
        t: u16,
    },
    BrIs {
        a: R,
        b: R,
        t: u16,
    },
    BrIsNot {
        a: R,
        b: R,
        t: u16,
    },
    GetIter {
        dst: R,
        src: R,
    },
    /// `dst = next(it)`, or jump to `t` when exhausted.
    ForIter {
        it: R,
        dst: R,
        t: u16,
    },
    /// Checks `base..base+3` = (start, stop, step) are ints, step != 0.
    RangeInit {
        base: R,
    },
    /// Specialised `for x in range(...)`: counter in `base`, stop/step after it.
    ForRange {
        base: R,
        dst: R,
        t: u16,
    },
    /// Calls `base` with `n` args at `base+1..`.
    Call {
        dst: R,
        base: R,
        n: u16,
    },
    /// Calls `base` with receiver `base+1` (unless unbound) and `n` args at `base+2..`.
    CallMethod {
        dst: R,
        base: R,
        n: u16,
    },
    /// Like `Call`, plus a `*args` iterable after the `n` positional args.
    CallStar {
        dst: R,
        base: R,
        n: u16,
    },
    /// Like `Call`; the next instruction is `KwNames` naming the trailing args.
    CallKw {
        dst: R,
        base: R,
        n: u16,
    },
    KwNames {
        k: u16,
    },
    Return {
        src: R,
    },
    Yield {
        dst: R,
        src: R,
    },
    BuildTuple {
        dst: R,
        base: R,
        n: u16,
    },
    BuildList {
        dst: R,
        base: R,
        n: u16,
    },
    /// Unpacks the sequence in `src` into `base..base+n`.
    Unpack {
        base: R,
        src: R,
        n: u16,
    },
    ListAppend {
        list: R,
        src: R,
    },
    GetItem {
        dst: R,
        obj: R,
        idx: R,
    },
    SetItem {
        obj: R,
        idx: R,
        src: R,
    },
    /// `dst = obj[base:base+1]` (either bound may be None).
    GetSlice {
        dst: R,
        obj: R,
        base: R,
    },
    GetAttr {
        dst: R,
        obj: R,
        ic: u16,
    },
    SetAttr {
        obj: R,
        ic: u16,
        src: R,
    },
    /// `base = method or attribute; base+1 = receiver or UNDEF`.
    LoadMethod {
        base: R,
        obj: R,
        ic: u16,
    },
    /// Creates a function from code `code` with defaults at `defaults..`.
    MakeFunction {
        dst: R,
        code: u16,
        defaults: R,
    },
    MakeClass {
        dst: R,
        desc: u16,
        base: R,
    },
    ClassSet {
        cls: R,
        name: u16,
        src: R,
    },
    Import {
        dst: R,
        name: u16,
    },
    ImportFrom {
        dst: R,
        module: R,
        name: u16,
    },
    Raise {
        src: R,
    },
    Reraise {
        src: R,
    },
    GetExc {
        dst: R,
    },
    ExcMatch {
        dst: R,
        exc: R,
        cls: R,
    },
    WithEnter {
        dst: R,
        ctx: R,
    },
    WithExit {
        ctx: R,
    },
    /// `dst = format(src, consts[spec])` after conversion `conv` (0, b's', b'r').
    Format {
        dst: R,
        src: R,
        spec: u16,
        conv: u8,
    },
    BuildString {
        dst: R,
        base: R,
        n: u16,
    },
    AssertFail {
        msg: R,
    },
}

impl Instr {
    /// Rewrites the jump target of a branch instruction.
    pub fn set_target(&mut self, target: u16) {
        *self.target_mut().expect("set_target on a non-branch instruction") = target;
    }

    /// The jump target of a branch instruction.
    pub fn target(&self) -> Option<u16> {
        let mut i = *self;
        i.target_mut().copied()
    }

    fn target_mut(&mut self) -> Option<&mut u16> {
        use Instr::*;
        match self {
            Jump { t }
            | Loop { t }
            | BrTrue { t, .. }
            | BrFalse { t, .. }
            | BrNone { t, .. }
            | BrNotNone { t, .. }
            | BrLt { t, .. }
            | BrLe { t, .. }
            | BrGt { t, .. }
            | BrGe { t, .. }
            | BrEq { t, .. }
            | BrNe { t, .. }
            | BrNLt { t, .. }
            | BrNLe { t, .. }
            | BrNGt { t, .. }
            | BrNGe { t, .. }
            | BrIs { t, .. }
            | BrIsNot { t, .. }
            | ForIter { t, .. }
            | ForRange { t, .. } => Some(t),
            _ => None,
        }
    }
}

/// Inline-cache kinds.
pub const IC_EMPTY: u8 = 0;
/// Instance slot `index`.
pub const IC_SLOT: u8 = 1;
/// Plain function found on the class (`value`): call with the receiver.
pub const IC_METHOD: u8 = 2;
/// `property` with getter `value`.
pub const IC_PROPERTY: u8 = 3;
/// Any other class attribute (`value`).
pub const IC_CLASSVAL: u8 = 4;

/// A monomorphic inline cache for one attribute instruction.
#[derive(Clone, Copy, Debug)]
pub struct AttrIc {
    /// The attribute name.
    pub name: Sym,
    /// Class the entry is valid for (classes are never freed, so no ABA).
    pub class: *mut ClassObj,
    /// VM class epoch at fill time (bumped when a class attribute changes).
    pub epoch: u32,
    /// `IC_*`.
    pub kind: u8,
    /// Slot index for `IC_SLOT`.
    pub index: u32,
    /// Cached value for methods/properties/class values.
    pub value: Value,
}

impl AttrIc {
    /// An empty cache for `name`.
    pub fn new(name: Sym) -> AttrIc {
        AttrIc {
            name,
            class: std::ptr::null_mut(),
            epoch: 0,
            kind: IC_EMPTY,
            index: 0,
            value: Value::UNDEF,
        }
    }
}

/// An exception-table entry: instructions `[start, end)` are handled at `target`.
#[derive(Clone, Copy, Debug)]
pub struct Handler {
    pub start: u32,
    pub end: u32,
    pub target: u32,
}

/// A compiled function or module body.
pub struct Code {
    /// Function name (`<module>` for the top level).
    pub name: String,
    /// Source file name.
    pub file: Rc<str>,
    pub instrs: Vec<Instr>,
    /// Source line of each instruction.
    pub lines: Vec<u32>,
    pub nparams: u16,
    /// Number of trailing parameters with defaults.
    pub ndefaults: u16,
    pub nlocals: u16,
    /// Total frame size in slots.
    pub nslots: u16,
    /// Number of leading constants copied into slots `nlocals..` at entry.
    pub nregconsts: u16,
    pub consts: Vec<Value>,
    /// Names of the local slots (parameters first).
    pub local_names: Vec<String>,
    /// Symbols referenced by `ClassSet`/`Import`/`ImportFrom`.
    pub syms: Vec<Sym>,
    /// Parameter names as symbols (for keyword arguments).
    pub param_syms: Vec<Sym>,
    pub ics: Vec<Cell<AttrIc>>,
    pub kwnames: Vec<Vec<Sym>>,
    pub handlers: Vec<Handler>,
    /// The body contains `yield`.
    pub is_generator: bool,
    pub first_line: u32,
}

impl Code {
    /// Source line of instruction `pc`.
    pub fn line_at(&self, pc: usize) -> u32 {
        self.lines.get(pc).copied().unwrap_or(self.first_line)
    }
    /// The innermost handler covering instruction `pc`.
    pub fn find_handler(&self, pc: u32) -> Option<u32> {
        self.handlers
            .iter()
            .find(|h| h.start <= pc && pc < h.end)
            .map(|h| h.target)
    }
}

/// A class as the compiler describes it: name and the attributes assigned via `self`.
pub struct ClassDesc {
    pub name: String,
    pub slots: Vec<Sym>,
}
