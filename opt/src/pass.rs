//! The pass interface, errors and statistics.
//!
//! A [`Pass`] rewrites a [`Trace`] in place. It must leave a trace that verifies and
//! that behaves like its input: same finish values, same exits (same resume frames and
//! pcs) rebuilding the same host state, same heap. The pass manager
//! ([`optimize`](crate::optimize)) checks the first property after every pass in debug
//! builds and tests; the property tests check the second.

use crate::context::OptContext;
use leones_ir::{Op, Trace, VerifyError};
use std::fmt;

/// One optimization pass.
pub trait Pass: Sync {
    /// A short name (used by `--passes` and in stats and errors).
    fn name(&self) -> &'static str;
    /// Rewrites `trace`.
    fn run(&self, trace: &mut Trace, ctx: &OptContext);
}

/// An ordered list of passes.
pub type PassList = Vec<&'static dyn Pass>;

/// What went wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum OptError {
    /// The input trace does not verify; no pass ran.
    InvalidInput(VerifyError),
    /// A pass produced a trace that does not verify.
    PassBroke {
        pass: &'static str,
        error: VerifyError,
        trace_text: String,
    },
    /// A pass name that no pass has.
    UnknownPass(String),
    /// The text did not parse.
    Parse(String),
}

impl fmt::Display for OptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptError::InvalidInput(e) => write!(f, "the input trace does not verify: {e}"),
            OptError::PassBroke {
                pass,
                error,
                trace_text,
            } => {
                write!(f, "pass `{pass}` produced an invalid trace: {error}\n{trace_text}")
            }
            OptError::UnknownPass(p) => write!(f, "unknown pass `{p}` (known: {})", crate::pipeline::pass_names()),
            OptError::Parse(e) => write!(f, "parse error: {e}"),
        }
    }
}

impl std::error::Error for OptError {}

/// Counts of one pass's effect (net: what it removed minus what it added).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    pub pass: &'static str,
    pub ops_removed: i64,
    pub guards_removed: i64,
    pub allocations_removed: i64,
}

/// Per-pass statistics of one [`optimize`](crate::optimize) run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub passes: Vec<PassStats>,
}

impl Stats {
    /// The sum over all passes.
    pub fn total(&self) -> PassStats {
        let mut t = PassStats {
            pass: "total",
            ..PassStats::default()
        };
        for p in &self.passes {
            t.ops_removed += p.ops_removed;
            t.guards_removed += p.guards_removed;
            t.allocations_removed += p.allocations_removed;
        }
        t
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<10} {:>6} {:>7} {:>7}", "pass", "ops", "guards", "allocs")?;
        for p in self.passes.iter().chain(std::iter::once(&self.total())) {
            writeln!(
                f,
                "{:<10} {:>6} {:>7} {:>7}",
                p.pass, p.ops_removed, p.guards_removed, p.allocations_removed
            )?;
        }
        Ok(())
    }
}

/// (instructions, guards, `new`s) of a trace.
pub(crate) fn census(t: &Trace) -> (i64, i64, i64) {
    let mut c = (0, 0, 0);
    for inst in t.blocks.iter().flat_map(|b| &b.insts) {
        c.0 += 1;
        c.1 += inst.op.is_guard() as i64;
        c.2 += matches!(inst.op, Op::New(_)) as i64;
    }
    c
}
