//! # leones-tracer
//!
//! What a host VM calls while its interpreter runs: hotness counters, the recorder,
//! snapshots, loop closing, side-exit counting, bridge recording and resume. This crate
//! depends only on `leones-ir`, never on LLVM, the optimizer or the backend; the root
//! `leones` crate wires the tracer to `leones-opt` and `leones-backend-llvm`.
//!
//! | module | one job |
//! |---|---|
//! | [`params`] | every policy number, with defaults, overridable by `LEONES_PARAMS` |
//! | [`hotness`] | counters per loop header and per side exit: when to record, back-off, blacklisting |
//! | [`registry`] | the host registers layouts, fields, arrays, calls and frames once |
//! | [`recorder`] | the host reports each operation; out comes a verified [`Trace`](leones_ir::Trace) |
//! | [`resume`] | a side exit back to host frames, materializing virtual objects |
//! | [`log`] | `LEONES_LOG` and the [`Stats`] counters |
//! | [`abort`] | why a recording gave up |
//!
//! ## A complete example: recording `i += 1; while i < n`
//!
//! The host's interpreter has one frame kind `main` with two slots, `i` and `n`, and a
//! loop whose header is pc 0. Hotness says when to record; while recording, the
//! interpreter reports each operation it performs with its concrete outcome, then the
//! recorder closes the loop when execution is back at the header with the same shape.
//!
//! ```
//! use leones_tracer::*;
//! use leones_ir::{BinaryOp, interp::{Interpreter, Outcome, Val}};
//!
//! let reg = Registry::new();
//! let main = reg.frame("main", 0, 2).unwrap();
//! let params = Params { threshold: 2, ..Params::default() };
//! let mut hot = Hotness::new(params.clone());
//! let header = Location(0);
//!
//! let (mut i, n) = (0i64, 10i64);
//! let mut rec: Option<Recorder> = None;
//! let mut done: Option<Recorded> = None;
//! loop {
//!     // pc 0: the loop header.
//!     if let Some(r) = rec.as_mut() {
//!         if let Some(t) = r.at_header(header).unwrap() {
//!             done = Some(t);
//!             rec = None;
//!         }
//!     } else if done.is_none() && hot.tick(header) == Action::Record {
//!         let entry = ShapeFrame::of(main, 0, &[Some(Val::I64(i)), Some(Val::I64(n))]);
//!         rec = Some(Recorder::start_loop(&reg, &params, header, entry).unwrap());
//!     }
//!     // pc 0: i += 1 (overflow-checked)
//!     let (sum, overflowed) = i.overflowing_add(1);
//!     if let Some(r) = rec.as_mut() {
//!         r.set_pc(0).unwrap();
//!         let (a, one) = (r.slot(0).unwrap(), r.constant(1i64));
//!         let v = r.binary_ovf(BinaryOp::IAddOvf, a, one, overflowed).unwrap();
//!         r.set_slot(0, v).unwrap();
//!     }
//!     i = sum;
//!     // pc 1: if i < n goto 0
//!     let taken = i < n;
//!     if let Some(r) = rec.as_mut() {
//!         r.set_pc(1).unwrap();
//!         let (a, b) = (r.slot(0).unwrap(), r.slot(1).unwrap());
//!         let c = r.binary(BinaryOp::ILt, a, b).unwrap();
//!         r.guard(c, taken).unwrap();
//!     }
//!     if !taken {
//!         break;
//!     }
//! }
//! let rec = done.expect("the loop was recorded");
//! hot.recorded(rec.location);
//! let text = leones_ir::print(&rec.trace);
//! println!("{text}");
//! assert!(text.contains("iadd_ovf") && text.contains("jump block0"));
//!
//! // Run the trace (the engine would compile it) from i = 0, n = 5, and resume.
//! let inputs = rec.entry.inputs(&[&[Some(Val::I64(0)), Some(Val::I64(5))]]).unwrap();
//! let Outcome::Exit(exit) = Interpreter::new(&rec.trace).run(&inputs).unwrap() else { panic!() };
//! let mut heap = leones_ir::interp::Heap::new();
//! let back = resume(&reg, &rec.trace, &exit, &mut HeapMaterializer { registry: &reg, heap: &mut heap }).unwrap();
//! assert_eq!(back.frames[0].pc, 1);
//! assert_eq!(back.frames[0].slots, vec![Some(Val::I64(5)), Some(Val::I64(5))]);
//! ```

pub mod abort;
pub mod hotness;
pub mod log;
pub mod params;
pub mod recorder;
pub mod registry;
pub mod resume;

pub use abort::{Abort, AbortKind};
pub use hotness::{Action, Hotness, Location, UnitId};
pub use leones_ir::fasthash::{self, FastHashMap, FastHashSet};
pub use log::{LogConfig, LogError, Stats};
pub use params::{ParamError, Params};
pub use recorder::{
    LoopTarget, MergePointInfo, MergeShape, MergeSlot, MergeTarget, Recorded, Recorder, Shape, ShapeFrame, Tv, UnitKind,
};
pub use registry::{ArrayRef, CallRef, FieldRef, FrameRef, LayoutRef, Registry, RegistryError};
pub use resume::{resume, resume_mapped, HeapMaterializer, Materialize, ResumeError, ResumeFrame, ResumeMap, Resumed};
