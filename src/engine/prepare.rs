//! # Preparing a recording for the backend, on the compiler thread
//!
//! Between a closed recording and LLVM sit Leones' own steps: verify the recording,
//! run the optimizer, verify its result, and *instrument* the optimized trace (a
//! loop's iteration counter and tier-up guard, its guard pass counters, a bridge's
//! entry counter). They are pure functions of the trace and a few addresses, and the
//! optimizer takes milliseconds on a large region — so they run on the compiler
//! thread as the job's [`Prelude`], not on the host's thread. What the host does when
//! a recording closes is bounded by the recording's size only in copying it:
//!
//! ```text
//!  host:     recording closes ─► Preparation (addresses of counters, facts, flags)
//!                              ─► Backend::prepare_with (id, symbol name) ─► submit
//!  compiler: verify ─► optimize ─► verify ─► instrument ─► lower ─► LLVM ─► object
//!  host:     land: Prepared (tier guard, timings, log text) + object ─► install
//! ```
//!
//! Everything instrumentation writes to lives as long as its tree or the engine and
//! is reached by address, so the host allocates it before submitting (a loop's pass
//! counters are sized from the *recording's* snapshot origins, which bound the
//! optimized trace's: the optimizer drops snapshots, never invents origins).
//!
//! Invariant: the prelude touches nothing of the engine; it reads only what it owns
//! and hands back a [`Prepared`] (or a [`Stage`] saying where it failed), which the
//! engine reads when it lands the job.

use super::adapt::{count_entries, count_guard_passes};
use super::install::Stage;
use super::merge::{can_branch, count_iterations};
use leones_backend_llvm::{Payload, Prelude};
use leones_ir::{GuardId, Trace};
use leones_opt::passes::branchless::BranchlessParams;
use leones_opt::{EntryFact, OptContext, PassList};
use std::time::{Duration, Instant};

/// Counters a unit's code increments, by address (allocated by the engine).
#[derive(Default, Clone, Copy)]
pub(super) struct Counters {
    /// A loop's iteration counter and its tree's limit word.
    pub iterations: Option<(u64, u64)>,
    /// A loop's guard pass counters: the first counter's address and how many.
    pub passes: Option<(u64, usize)>,
    /// A bridge's entry counter.
    pub entries: Option<u64>,
}

/// What the compiler thread does with a recording before lowering it.
pub(super) struct Preparation {
    pub pipeline: PassList,
    pub facts: Vec<(usize, EntryFact)>,
    pub branchless: BranchlessParams,
    /// Whether a peeled loop is kept (the `peel` parameter).
    pub peel: leones_opt::PeelPolicy,
    pub verify_each_pass: bool,
    pub counters: Counters,
    /// Drop the optimized trace's last instruction (`InjectFailure::Backend`).
    pub break_after: bool,
    /// Print the optimized trace for the `opt` log.
    pub log_optimized: bool,
}

/// What a successful preparation tells the engine.
pub(super) struct Prepared {
    /// The loop's tier-up guard in the instrumented trace.
    pub tier_guard: Option<GuardId>,
    /// Time spent verifying and optimizing.
    pub optimize_time: Duration,
    /// The optimized trace (before instrumenting), for the `opt` log.
    pub optimized_text: Option<String>,
}

impl Preparation {
    /// The job's prelude: a [`Prepared`] payload, or a [`Stage`] payload on failure.
    pub(super) fn into_prelude(self) -> Prelude {
        Box::new(move |trace| match self.run(trace) {
            Ok((trace, prepared)) => Ok((trace, Box::new(prepared) as Payload)),
            Err(stage) => Err(Box::new(stage) as Payload),
        })
    }

    fn run(self, trace: Trace) -> Result<(Trace, Prepared), Stage> {
        let t0 = Instant::now();
        let mut opt = self.optimize(&trace)?;
        let optimize_time = t0.elapsed();
        let optimized_text = self.log_optimized.then(|| {
            let known = if self.facts.is_empty() {
                String::new()
            } else {
                format!("; entry facts {:?}", self.facts)
            };
            format!("; optimized\n{}{known}", leones_ir::print(&opt))
        });
        let tier_guard = self.instrument(&mut opt);
        if self.break_after {
            if let Some(b) = opt.blocks.first_mut() {
                b.insts.pop();
            }
        }
        Ok((
            opt,
            Prepared {
                tier_guard,
                optimize_time,
                optimized_text,
            },
        ))
    }

    /// Verifies `trace`, optimizes it with the entry facts, verifies the result. (The
    /// optimizer verifies its input itself: an invalid one is the `Verify` stage's.)
    fn optimize(&self, trace: &Trace) -> Result<Trace, Stage> {
        let ctx = OptContext {
            pure_calls: None,
            verify_each_pass: self.verify_each_pass,
            entry_facts: &self.facts,
            branchless: self.branchless,
            peel: self.peel,
        };
        let (opt, _) = leones_opt::optimize(trace, &self.pipeline, &ctx).map_err(|e| match e {
            leones_opt::OptError::InvalidInput(e) => Stage::Verify(e.to_string()),
            e => Stage::Optimize(e.to_string()),
        })?;
        leones_ir::verify(&opt).map_err(|e| Stage::Optimize(format!("the optimized trace does not verify: {e}")))?;
        Ok(opt)
    }

    /// Adds the counters; returns the tier-up guard a loop's limit word adds.
    fn instrument(&self, opt: &mut Trace) -> Option<GuardId> {
        let c = self.counters;
        let tier_snapshot = c
            .iterations
            .and_then(|(counter, limit)| count_iterations(opt, counter, Some(limit)));
        if let Some((base, n)) = c.passes {
            let word = std::mem::size_of::<u64>() as u64;
            count_guard_passes(opt, |op, snapshot| {
                let origin = snapshot.origin? as usize;
                (can_branch(op) && origin < n).then(|| base + word * origin as u64)
            });
        }
        if let Some(counter) = c.entries {
            count_entries(opt, counter);
        }
        tier_snapshot.and_then(|s| opt.guards().into_iter().find(|g| g.snapshot == s).map(|g| g.id))
    }
}
