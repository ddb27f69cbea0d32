//! # leones
//!
//! The facade crate for VM authors: re-exports the IR and (as they land) ties the
//! tracer, optimizer and LLVM backend into one engine. It also builds the `leones`
//! research CLI, whose testable parts live in [`cli`].
pub use leones_backend_llvm as backend;
pub use leones_ir as ir;
pub use leones_opt as opt;
pub use leones_tracer as tracer;

pub mod cli;
pub mod engine;
