//! # Errors
//!
//! Every way compiling or installing a unit can fail is a [`BackendError`] value,
//! never a panic or an abort: the engine reacts to any of them the same way (it keeps
//! interpreting the trace and counts the failure). LLVM's own diagnostics are kept as
//! text in the variant, so a log shows what LLVM said.
//!
//! The invariant the rest of the crate keeps: an LLVM call that can fail is checked
//! right where it is made and turned into one of these variants; nothing downstream
//! sees a half-built module or a dangling ORC resource.

use leones_ir::{CallId, GuardId, TargetId};

/// A failure to lower, compile, link or (re)wire a unit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The trace does not pass the IR verifier; nothing was lowered.
    #[error("the trace does not verify: {0}")]
    InvalidTrace(String),
    /// A call descriptor has no function address (`addr 0`), so native code cannot call it.
    #[error("call `{name}` ({id}) has no address; native code calls host functions by address")]
    NoCallAddress { id: CallId, name: String },
    /// The native target could not be initialized or no TargetMachine could be made.
    #[error("LLVM target setup failed: {0}")]
    Target(String),
    /// The IR builder refused an instruction (a lowering bug).
    #[error("LLVM IR builder error: {0}")]
    Builder(String),
    /// The lowered module failed LLVM's verifier (a lowering bug).
    #[error("LLVM module verification failed: {0}")]
    Verify(String),
    /// The pass pipeline could not be parsed or run.
    #[error("LLVM pass pipeline `{pipeline}` failed: {message}")]
    Passes { pipeline: String, message: String },
    /// Machine-code generation failed.
    #[error("LLVM code generation failed: {0}")]
    Codegen(String),
    /// ORC refused the object file, or linking it failed.
    #[error("ORC JIT error: {0}")]
    Jit(String),
    /// The unit's entry symbol could not be found after linking.
    #[error("symbol lookup of `{symbol}` failed: {message}")]
    Lookup { symbol: String, message: String },
    /// A unit id that is not (or no longer) installed.
    #[error("no such unit: {0}")]
    NoSuchUnit(u32),
    /// A guard id outside the unit's guard table.
    #[error("unit {unit} has no guard {guard}")]
    NoSuchGuard { unit: u32, guard: GuardId },
    /// A target id outside the unit's target table.
    #[error("unit {unit} has no jump target {target}")]
    NoSuchTarget { unit: u32, target: TargetId },
    /// A bridge or jump target whose inputs do not match the values handed over.
    #[error("signature mismatch: {0}")]
    Signature(String),
    /// A job's [`Prelude`](crate::build::Prelude) — the host's own work before
    /// lowering — failed; its payload says why.
    #[error("the host's preparation of the trace failed")]
    Prelude,
    /// LLVM IR was asked for at a level that does not use LLVM (baseline).
    #[error("the {0} level generates machine code without LLVM: there is no LLVM IR to show")]
    NoLlvmIr(&'static str),
    /// The perf map (`/tmp/perf-<pid>.map`) could not be opened.
    #[error("cannot open the perf map: {0}")]
    PerfMap(String),
}

impl From<inkwell::builder::BuilderError> for BackendError {
    fn from(e: inkwell::builder::BuilderError) -> Self {
        BackendError::Builder(e.to_string())
    }
}
