//! # The reference interpreter
//!
//! This is the oracle. It *defines* what a trace means: every optimizer pass is
//! checked by running a trace here before and after the pass, and the LLVM backend by
//! running the same trace here and natively on the same inputs, then comparing
//! [`describe_outcome`] texts. So it is written to be obviously right first and fast
//! second, but fast enough for thousands of property-test cases per test: values live
//! in a flat register file indexed by value id, guard ids are precomputed, and the
//! trace is verified once per [`Interpreter`], not once per run.
//!
//! ## What a run is
//! [`Interpreter::run`] binds the inputs to `block0`'s parameters and executes
//! instructions until one leaves the trace:
//!
//! - `finish vs` gives [`Outcome::Finish`] with the values;
//! - `jump @unit(args)` gives [`Outcome::Jump`]: the other unit is not ours to run;
//! - a guard whose check fails gives [`Outcome::Exit`]: its snapshot evaluated into an
//!   [`ExitState`] (frames with their slot values, virtual objects with their fields,
//!   the exception flag), which is exactly what the host needs to resume;
//! - or a [`Fault`]: something that has no meaning (division by zero, a wild or null
//!   access, an index past an array's length word, too many steps, a host error).
//!
//! ## Invariants
//!
//! - **It never panics and never has undefined behaviour**, whatever the trace, inputs
//!   or heap contents. A trace that fails [`verify`](crate::verify()) is refused up front
//!   with [`Fault::Invalid`], so the hot loop may trust operand types; everything the
//!   verifier cannot know (addresses, lengths, divisors) is checked as it happens.
//! - **Memory is real.** [`Heap`] allocations are ordinary buffers whose addresses are
//!   the `ref`/`ptr` values, so native code can later use the very same objects. But
//!   every access the interpreter makes is bounds-checked against the registry of live
//!   allocations: a bad address is [`Fault::BadAccess`], not a crash.
//! - **Registers are bit patterns.** Types are static, so a register is a `u64`: an
//!   `i64` as two's complement, an `f64` by its bits, a `bool` as 0 or 1, a `ref`/`ptr`
//!   as its address. [`Val`] only appears at the boundaries.
//! - **Faults are not behaviour to preserve.** A trace never relies on a fault
//!   happening; a pass may delete an unused load that would have faulted. Differential
//!   tests compare runs that finish, jump or exit.
//! - **Determinism.** The same trace, inputs, host behaviour and heap shape give the
//!   same [`describe_outcome`] text, whatever addresses the allocator hands out.
//!
//! ## Semantics, in one place
//!
//! Integer ops wrap. `idiv`/`irem` truncate toward zero and fault on a zero divisor;
//! `i64::MIN / -1` is `i64::MIN` and `i64::MIN % -1` is 0. Shift amounts are taken mod
//! 64. `f2i` truncates and saturates, NaN becoming 0 (Rust's `as`). Float comparisons
//! are IEEE (`feq NaN, NaN` is false, `fne` true). `*_ovf` ops produce the wrapped
//! result and `guard_no_overflow v` fails iff the op defining `v` overflowed.
//! `guard_value` compares bit patterns. `guard_class` compares the word at offset 0
//! with the layout's class. `select` only picks. Block parameters receive their
//! arguments as a parallel copy. A host call returning `raised: true` sets the
//! exception flag, which the next call resets and `guard_no_exception` checks.
//! `guard_no_interrupt` fails once the number of steps run before it reaches the
//! [interrupt point](Interpreter::set_interrupt_after). Each executed instruction
//! (terminators and guards included) is one step; the step that would exceed the limit
//! faults instead of running.
//!
//! Memory: fields and items of type `bool` are one byte (non-zero reads as true), the
//! others eight, in native byte order. `getitem`/`setitem` check the index against the
//! array's length word. `load.T p, off` accesses `p + off`; narrow loads sign- or
//! zero-extend, `load.f32` widens, `store.f32` rounds to nearest. Accessing through a
//! null `ref` or `ptr` is [`Fault::NullAccess`].

mod describe;
mod exec;
mod heap;
mod host;
mod value;

pub use describe::describe_outcome;
pub use exec::{Interpreter, DEFAULT_STEP_LIMIT};
pub use heap::Heap;
pub use host::{CallResult, FnTable, HostCalls, HostFn};
pub use value::Val;

use crate::entity::{Block, FieldId, FrameId, GuardId, LayoutId, TargetId, VirtualId};
use crate::types::{MemType, Type};
use crate::verify::VerifyError;
use std::fmt;

/// How a run left the trace.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// `finish vs`.
    Finish(Vec<Val>),
    /// A guard failed.
    Exit(ExitState),
    /// `jump @target(args)`.
    Jump { target: TargetId, args: Vec<Val> },
}

/// The state a failing guard hands to the host: its snapshot, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct ExitState {
    /// Which guard failed.
    pub guard: GuardId,
    /// Host frames to rebuild, outermost first.
    pub frames: Vec<ExitFrame>,
    /// Objects to materialize, referred to by [`ExitValue::Virtual`].
    pub virtuals: Vec<ExitVirtual>,
    /// Whether a host call raised and the exception is still pending.
    pub exception_pending: bool,
}

impl ExitState {
    /// Evaluates `snapshot` into the state a host resumes from, given the value of
    /// each SSA value it uses. The interpreter calls this with its registers; the
    /// backend with the live values compiled code stored in the slot buffer.
    pub fn evaluate(
        guard: GuardId,
        snapshot: &crate::Snapshot,
        exception_pending: bool,
        mut value: impl FnMut(crate::Value) -> Val,
    ) -> ExitState {
        use crate::SlotValue;
        let mut slot = |sv: &SlotValue| match *sv {
            SlotValue::Value(v) => ExitValue::Val(value(v)),
            SlotValue::Const(k) => ExitValue::Val(Val::from_const(k)),
            SlotValue::Virtual(id) => ExitValue::Virtual(id),
            SlotValue::Dead => ExitValue::Dead,
        };
        let frames = snapshot
            .frames
            .iter()
            .map(|f| ExitFrame {
                frame: f.frame,
                pc: f.pc,
                slots: f.slots.iter().map(&mut slot).collect(),
            })
            .collect();
        let virtuals = snapshot
            .virtuals
            .iter()
            .map(|vo| ExitVirtual {
                layout: vo.layout,
                fields: vo.fields.iter().map(|(f, sv)| (*f, slot(sv))).collect(),
            })
            .collect();
        ExitState {
            guard,
            frames,
            virtuals,
            exception_pending,
        }
    }
}

/// One host frame to rebuild.
#[derive(Clone, Debug, PartialEq)]
pub struct ExitFrame {
    pub frame: FrameId,
    pub pc: u32,
    pub slots: Vec<ExitValue>,
}

/// A slot or field value at an exit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExitValue {
    Val(Val),
    /// A virtual object of the [`ExitState`].
    Virtual(VirtualId),
    /// Not live.
    Dead,
}

/// A virtual object to materialize: its layout and initialized fields (others zero).
#[derive(Clone, Debug, PartialEq)]
pub struct ExitVirtual {
    pub layout: LayoutId,
    pub fields: Vec<(FieldId, ExitValue)>,
}

/// An instruction's position, for fault messages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    pub block: Block,
    pub inst: usize,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, instruction {}", self.block, self.inst)
    }
}

/// Why a run (or a heap access) failed. See the module docs: faults are not
/// behaviour a correct trace relies on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Fault {
    /// The trace does not pass the verifier.
    #[error("the trace does not verify: {0}")]
    Invalid(#[from] VerifyError),
    /// The inputs do not match `block0`'s parameters in number or types.
    #[error("the inputs ({}) do not match block0's parameters ({})", types(.got), types(.expected))]
    InputMismatch { expected: Vec<Type>, got: Vec<Type> },
    /// `idiv`/`irem` by zero.
    #[error("division by zero in {block}, instruction {inst}")]
    DivisionByZero { block: Block, inst: usize },
    /// A field, item, length, class-word or raw access through a null `ref`/`ptr`.
    #[error("null dereference in {block}, instruction {inst}")]
    NullAccess { block: Block, inst: usize },
    /// `getitem`/`setitem` with an index outside `0..len` (the array's length word).
    #[error("index {index} out of bounds for an array of length {len} in {block}, instruction {inst}")]
    IndexOutOfBounds {
        index: i64,
        len: i64,
        block: Block,
        inst: usize,
    },
    /// An access not entirely inside one live allocation (`at` is None for a direct
    /// [`Heap`] access outside a run).
    #[error("bad memory access: {size} bytes at {addr:#x} are not inside a live allocation{}", site(.at))]
    BadAccess { addr: u64, size: u64, at: Option<Site> },
    /// [`Heap::store`] of a value whose type is not the memory type's value type.
    #[error("cannot store a {got} value as {}", .mem.name())]
    StoreType { mem: MemType, got: Type },
    /// The run took more steps than the limit.
    #[error("step limit of {0} instructions exceeded")]
    StepLimit(u64),
    /// A call to a host function the host does not have.
    #[error("no host function named `{0}`")]
    UnknownCall(String),
    /// A host function returned a value of the wrong type (or none when one is due).
    #[error("host function `{call}` returned {}, but its descriptor says {}{}", opt_ty(.got), opt_ty(.expected), site(.at))]
    BadCallResult {
        call: String,
        expected: Option<Type>,
        got: Option<Type>,
        at: Option<Site>,
    },
    /// An error reported by a host function.
    #[error("host error: {0}")]
    Host(String),
}

impl Fault {
    /// Attaches a location to a fault that can carry one and has none yet.
    pub fn at(mut self, s: Site) -> Fault {
        if let Fault::BadAccess { at, .. } | Fault::BadCallResult { at, .. } = &mut self {
            at.get_or_insert(s);
        }
        self
    }
}

fn types(ts: &[Type]) -> String {
    ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}
fn opt_ty(t: &Option<Type>) -> &'static str {
    t.map_or("nothing", |t| t.name())
}
fn site(at: &Option<Site>) -> String {
    at.map_or(String::new(), |s| format!(" in {s}"))
}
