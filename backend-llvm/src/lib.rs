//! # leones-backend-llvm
//!
//! Lowers the Leones trace IR to LLVM IR with inkwell, compiles it with a
//! TargetMachine to an object file and installs it in an ORC LLJIT under its own
//! `ResourceTracker`. Every unit (loop trace, bridge, region) becomes one function
//! `extern "C" fn(*mut JitState) -> u64`; guards leave through patchable exit slots,
//! so bridges are attached with a store, never a recompilation.
//!
//! The modules, one job each:
//! - [`abi`]: [`JitState`], return codes, the slot-buffer order of exit values;
//! - `lower`: IR → LLVM IR (per op family: scalars, memory & calls, exits);
//! - [`baseline`]: the baseline level, x86-64 straight from the IR without LLVM;
//! - [`passes`]: [`Level`]s, target machines, pass pipelines, object buffers;
//! - `codegen`: one code-generation pass manager per TargetMachine, reused for every
//!   unit (the C++ of `cpp/codegen.cpp`);
//! - `jit`: ORC LLJIT and resource trackers;
//! - [`perfmap`]: the perf map (`/tmp/perf-<pid>.map`) naming units for `perf`;
//! - [`decode`]: native outcome → the interpreter's [`Outcome`](leones_ir::interp::Outcome);
//! - `backend`: the [`Backend`] API; `run`: the run helper and CLI entry points;
//! - [`build`]: a unit's object file built on any thread ([`UnitJob`] → [`BuiltUnit`]);
//! - `split`: a peeled loop's preamble cut from its loop, so the preamble is built at
//!   the baseline level and only the loop at the optimized one;
//! - `worker`: the [`Compiler`] thread that builds jobs in the background;
//! - `error`: [`BackendError`].
//!
//! ## Example
//!
//! ```
//! use leones_backend_llvm::{Backend, HostHooks, Level, UnitOptions};
//! use leones_ir::interp::{Heap, Outcome, Val};
//!
//! let trace = leones_ir::parse("\
//! trace sum
//! frame main code 0x1 slots 2
//!
//! block0(v0: i64, v1: i64):
//!     v2 = const 0
//!     v3 = igt v0, v2
//!     guard_true v3 [main@3(v0, v1)]
//!     v4 = iadd v1, v0
//!     v5 = const 1
//!     v6 = isub v0, v5
//!     jump block0(v6, v4)
//! ").unwrap();
//! let mut backend = Backend::new(Level::Quick).unwrap();
//! let unit = backend.compile(&trace, &UnitOptions::default()).unwrap();
//! println!("compiled in {} µs", unit.timings.total_us());
//! let mut heap = Heap::new();
//! // SAFETY: the trace touches no memory.
//! let out = unsafe { backend.run(unit.id, &[Val::I64(10), Val::I64(0)], &mut heap, &HostHooks::default()) }.unwrap();
//! let Outcome::Exit(exit) = out.outcome else { panic!() };
//! assert_eq!(exit.guard.0, 0);
//! assert_eq!(exit.frames[0].slots[1], leones_ir::interp::ExitValue::Val(Val::I64(55)));
//! backend.remove(unit.id).unwrap();
//! ```

pub mod abi;
mod arena;
mod backend;
pub mod baseline;
pub mod build;
mod codegen;
pub mod decode;
pub mod error;
mod jit;
mod lower;
pub mod passes;
pub mod perfmap;
mod run;
mod split;
mod worker;

pub use abi::{JitState, UnitFn};
pub use backend::{Backend, CompiledUnit, Timings, UnitId, UnitOptions};
pub use build::{BuiltUnit, Payload, Prelude, UnitJob};
pub use decode::NativeFault;
pub use error::BackendError;
pub use passes::Level;
pub use perfmap::perf_map_path;
pub use run::{emit_llvm_for_cli, run_text_for_cli, HostHooks, NativeOutcome, RunError};
pub use worker::Compiler;
