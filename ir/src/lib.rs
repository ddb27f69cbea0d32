//! # leones-ir — the trace IR
//!
//! The one intermediate representation of Leones: recorded traces, bridges and merged
//! regions are all [`Trace`]s. This crate depends on nothing else of ours; everything
//! else depends on it. It holds:
//!
//! - the data model: [`types`], [`op`] (instructions by family), [`descr`]
//!   (host-registered descriptors with [`EffectInfo`]), [`snapshot`] (resume data),
//!   and [`trace`] (blocks with parameters, the unit of compilation);
//! - the [`text`] format: a canonical printer and a parser with line/column errors;
//! - the [`verify`] module: SSA dominance, types, descriptors, snapshots — errors, never
//!   panics;
//! - the reference [`interp`]reter, the oracle every pass and the backend are checked
//!   against;
//! - with the `proptest-gen` feature, `gen`: random valid traces for property tests.
//!
//! ## A worked example
//!
//! The Leibniz loop from the talk, `pi += sign / (2*i + 1)` for `i` in `0..n`, as a
//! loop trace. `block0`'s parameters are the loop-carried values; the guard leaves
//! through a snapshot of the host frame when the loop ends.
//!
//! ```
//! use leones_ir::{parse, print, verify, interp::{Interpreter, Val, Outcome}};
//! let text = "\
//! trace leibniz
//! frame main code 0x1 slots 3
//!
//! block0(v0: i64, v1: i64, v2: f64):
//!     v3 = ilt v0, v1
//!     guard_true v3 [main@7(v0, v1, v2)]
//!     v4 = const 2
//!     v5 = imul v0, v4
//!     v6 = const 1
//!     v7 = iadd v5, v6
//!     v8 = i2f v7
//!     v9 = irem v0, v4
//!     v10 = const 0
//!     v11 = ieq v9, v10
//!     v12 = const 1.0
//!     v13 = const -1.0
//!     v14 = select v11, v12, v13
//!     v15 = fdiv v14, v8
//!     v16 = fadd v2, v15
//!     v17 = iadd v0, v6
//!     jump block0(v17, v1, v16)
//! ";
//! let trace = parse(text).unwrap();
//! verify(&trace).unwrap();
//! assert_eq!(print(&trace), text);
//! let mut interp = Interpreter::new(&trace);
//! let out = interp.run(&[Val::I64(0), Val::I64(3), Val::F64(0.0)]).unwrap();
//! let Outcome::Exit(exit) = out else { panic!() };
//! // 1 - 1/3 + 1/5
//! assert_eq!(exit.frames[0].slots[2], leones_ir::interp::ExitValue::Val(Val::F64(1.0 - 1.0 / 3.0 + 1.0 / 5.0)));
//! ```

pub mod cfg;
pub mod descr;
pub mod entity;
pub mod fasthash;
pub mod fold;
pub mod interp;
pub mod op;
pub mod snapshot;
pub mod text;
pub mod trace;
pub mod types;
pub mod verify;

#[cfg(feature = "proptest-gen")]
pub mod gen;

pub use descr::{ArrayDescr, CallDescr, EffectInfo, FieldDescr, FrameDescr, HeapSet, Layout, TargetDescr};
pub use entity::{ArrayId, Block, CallId, FieldId, FrameId, GuardId, LayoutId, SnapshotId, TargetId, Value, VirtualId};
pub use fasthash::{FastHashMap, FastHashSet, WordHasher};
pub use op::{BinaryOp, BlockCall, Const, GuardKind, Inst, JumpTarget, Op, UnaryOp};
pub use snapshot::{SlotValue, Snapshot, SnapshotFrame, VirtualObject};
pub use text::parse::{parse, parse_with_source_map};
pub use text::print::{canonical_value_names, print, print_inst};
pub use text::{ParseError, ParseErrorKind, Pos, SourceMap};
pub use trace::{BlockData, GuardInfo, Trace};
pub use types::{MemType, Type};
pub use verify::{verify, verify_with_source, VerifyError, VerifyErrorKind};
