//! # Why a recording stopped without a trace
//!
//! A recording that cannot produce a correct trace *aborts*: the host simply keeps
//! interpreting, and [`Hotness`](crate::Hotness) backs the location off (and blacklists
//! it after repeated aborts). An abort is never an error in the host's program — it is
//! the JIT declining. Every [`Recorder`](crate::Recorder) method returns
//! `Result<_, Abort>`, so a host writes `rec.binary(..)?` and handles the abort once.
//!
//! [`AbortKind`] is the reason without its payload, for counting in
//! [`Stats`](crate::Stats).

use std::fmt;

/// Why a recording was given up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Abort {
    /// The trace reached `trace_limit` instructions.
    #[error("trace too long (limit {limit} instructions)")]
    TraceTooLong { limit: u32 },
    /// An inlined call would exceed `inline_depth` frames.
    #[error("inlining too deep (limit {limit} frames)")]
    InlineTooDeep { limit: u32 },
    /// The host asked for something the recorder cannot trace.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A call raised during recording, or the host marked an exception path as not
    /// recordable.
    #[error("an exception path was taken while recording")]
    ExceptionPath,
    /// An overflow-checked operation overflowed while recording (the slow path is not
    /// traced).
    #[error("an overflow-checked operation overflowed while recording")]
    Overflow,
    /// The loop's start was reached `loop_unroll` times with a frame shape that cannot
    /// close the loop.
    #[error("the loop header was reached with a different frame shape too often")]
    ShapeMismatch,
    /// A guard on a constant fails: the host took a path the recorded values rule out.
    #[error("a guard on a constant fails: the recording disagrees with the host")]
    GuardAlwaysFails,
    /// The host asked the recorder to stop (e.g. it hit an instruction it never traces).
    #[error("aborted by the host: {0}")]
    Host(String),
    /// API misuse or a trace that does not verify (a bug in the host or the tracer,
    /// reported instead of panicking).
    #[error("invalid recording: {0}")]
    Invalid(String),
}

/// An [`Abort`]'s reason without its payload.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbortKind {
    TraceTooLong,
    InlineTooDeep,
    Unsupported,
    ExceptionPath,
    Overflow,
    ShapeMismatch,
    GuardAlwaysFails,
    Host,
    Invalid,
}

impl Abort {
    /// The reason, for counting.
    pub fn kind(&self) -> AbortKind {
        match self {
            Abort::TraceTooLong { .. } => AbortKind::TraceTooLong,
            Abort::InlineTooDeep { .. } => AbortKind::InlineTooDeep,
            Abort::Unsupported(_) => AbortKind::Unsupported,
            Abort::ExceptionPath => AbortKind::ExceptionPath,
            Abort::Overflow => AbortKind::Overflow,
            Abort::ShapeMismatch => AbortKind::ShapeMismatch,
            Abort::GuardAlwaysFails => AbortKind::GuardAlwaysFails,
            Abort::Host(_) => AbortKind::Host,
            Abort::Invalid(_) => AbortKind::Invalid,
        }
    }
}

impl fmt::Display for AbortKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
