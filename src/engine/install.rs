//! # From a closed recording to installed code
//!
//! [`Engine::finish`] takes a closed recording through verify → optimize → (instrument)
//! → compile (all of it on the compiler thread, `prepare.rs`), and installs the unit:
//! a loop under its location, a bridge adapted to its exit's values ([`adapt_bridge`]),
//! attached to the exit slot and linked back to its loop. Every failure is counted,
//! logged and backed off ([`Engine::failed`]); the host keeps interpreting.

use super::adapt::entry_facts;
use super::prepare::{Counters, Preparation, Prepared};
use super::tier::Then;
use super::*;
use leones_backend_llvm::BuiltUnit;
use leones_opt::EntryFact;
use std::time::Duration;

/// Where a failure happened between recording and installed code.
#[derive(Debug)]
pub(super) enum Stage {
    Verify(String),
    Optimize(String),
    Backend(String),
}

/// A pass that breaks every trace ([`InjectFailure::Optimize`]).
pub(super) struct BreakPass;

impl Pass for BreakPass {
    fn name(&self) -> &'static str {
        "inject_break"
    }
    fn run(&self, trace: &mut Trace, _: &OptContext) {
        if let Some(b) = trace.blocks.last_mut() {
            b.insts.pop();
        }
    }
}

pub(super) static BREAK_PASS: BreakPass = BreakPass;

impl Engine {
    /// A recording closed: compile it (in the background if there is a compiler
    /// thread) and install it when built (see [`Then`]).
    pub(super) fn finish(&mut self, mode: Mode, done: Recorded) {
        match mode {
            Mode::Loop(loc) => {
                let target = done.target().expect("a loop recording").clone();
                // The tree first: compiling the loop instruments its iteration counter.
                self.trees.insert(loc, super::merge::Tree::new(done.clone()));
                self.compiling.insert(loc);
                let level = self.start_level();
                let then = Then::Loop { loc, target };
                if let Err((then, stage)) = self.compile(done.trace, loc, UnitKind::Loop, &[], level, then) {
                    self.not_landed(then, stage);
                }
            }
            Mode::Arm {
                parent,
                guard,
                root,
                key,
            } => self.finish_arm(parent, guard, root, key, done),
            Mode::Bridge { parent, guard, root } => {
                if !self.loops.contains_key(&root) {
                    return;
                }
                let adapted = {
                    let Some(pt) = self.backend().trace(parent) else { return };
                    let Some(g) = pt.guard(guard) else {
                        return;
                    };
                    let snapshot = pt.snapshot(g.snapshot);
                    adapt_bridge(pt, snapshot, &done.trace).map(|t| {
                        let facts = entry_facts(pt, &g, &t);
                        (t, facts, !snapshot.virtuals.is_empty())
                    })
                };
                let Some((trace, facts, virtuals)) = adapted else {
                    self.hot.bridge_recorded(UnitId(parent.0.into()), guard);
                    self.stats.bridges_unattachable += 1;
                    self.no_bridge.insert((parent, guard));
                    return;
                };
                self.bridging.insert((parent, guard));
                let level = self.bridge_level.or(self.start_level());
                let then = Then::Bridge {
                    parent,
                    guard,
                    root,
                    virtuals,
                };
                if let Err((then, stage)) = self.compile(trace, root, UnitKind::Bridge, &facts, level, then) {
                    self.not_landed(then, stage);
                }
            }
        }
    }

    /// Counts and logs a failure after recording; backs the key off like an abort.
    pub(super) fn failed(&mut self, mode: Mode, stage: Stage) {
        let (counter, msg) = match &stage {
            Stage::Verify(m) => (&mut self.stats.verify_failures, m),
            Stage::Optimize(m) => (&mut self.stats.opt_failures, m),
            Stage::Backend(m) => (&mut self.stats.backend_failures, m),
        };
        *counter += 1;
        let why = Abort::Invalid(format!("{stage:?}"));
        if self.log.any() {
            self.emit_log(&format!("; compile failed, interpreting: {msg}"));
        }
        self.note_abort(mode, &why);
    }

    /// Hands `trace` to the backend as a job at `level` (`None`: the engine's) whose
    /// prelude verifies, optimizes (with `facts` about `block0`'s parameters on
    /// entry) and instruments it where the job is built ([`Preparation`]), and
    /// launches it; what installing it means is `then`. The host's side is bounded:
    /// allocating the unit's counters, numbering and naming the job.
    pub(super) fn compile(
        &mut self,
        mut trace: Trace,
        root: Location,
        kind: UnitKind,
        facts: &[(usize, EntryFact)],
        level: Option<Level>,
        then: Then,
    ) -> Result<(), (Then, Stage)> {
        if self.inject == Some(InjectFailure::Verify) {
            trace.blocks[0].insts.pop();
        }
        if self.log.trace {
            self.emit_log(&format!("; recorded\n{}", leones_ir::print(&trace)));
        }
        let mut counters = Counters::default();
        let mut passes = None;
        if kind == UnitKind::Loop {
            if let Some(tree) = self.trees.get_mut(&root) {
                // Every loop unit counts its iterations and checks them against its
                // tree's limit word (see `tier.rs`), and counts its guards' passes.
                let counter = tree.iterations.as_ref() as *const AtomicU64 as u64;
                counters.iterations = Some((counter, Arc::as_ptr(&tree.limit) as u64));
                let array = tree.pass_counters(&trace);
                let pass_counters = &tree.passes[array];
                counters.passes = Some((pass_counters.as_ptr() as u64, pass_counters.len()));
                passes = Some(array);
            }
        }
        let counter = (kind == UnitKind::Bridge).then(|| {
            self.counters.push(Box::new(AtomicU64::new(0)));
            let c = self.counters.last().expect("pushed");
            counters.entries = Some(c.as_ref() as *const AtomicU64 as u64);
            self.counters.len() - 1
        });
        let preparation = Preparation {
            pipeline: self.pipeline.clone(),
            facts: facts.to_vec(),
            branchless: leones_opt::passes::branchless::BranchlessParams {
                enabled: self.params.branchless != 0,
                ..Default::default()
            },
            peel: match self.params.peel {
                0 => leones_opt::PeelPolicy::Never,
                1 => leones_opt::PeelPolicy::WhenItPays,
                _ => leones_opt::PeelPolicy::Always,
            },
            verify_each_pass: cfg!(debug_assertions) || self.inject == Some(InjectFailure::Optimize),
            counters,
            break_after: self.inject == Some(InjectFailure::Backend),
            log_optimized: self.log.opt,
        };
        let opts = self.unit_options(kind, root, &trace.name, level);
        let Some(backend) = self.backend.as_mut() else {
            return Err((then, Stage::Backend("no backend".into())));
        };
        let job = backend.prepare_with(trace, &opts, preparation.into_prelude());
        let meta = UnitMeta {
            root,
            kind,
            counter,
            // Both filled in from the prepared trace when the job lands.
            tier_guard: None,
            passes,
            resume: Arc::default(),
        };
        self.launch(job, then, meta);
        Ok(())
    }

    /// How a unit of `root`'s tree is built: at `level` (`None`: the backend's), named
    /// for profilers, its preamble split off as the `split_preamble` parameter says.
    pub(super) fn unit_options(
        &self,
        kind: UnitKind,
        root: Location,
        trace: &str,
        level: Option<Level>,
    ) -> UnitOptions {
        UnitOptions {
            level,
            label: Some(self.unit_label(kind, root, trace, level)),
            split_preamble: self.params.split_preamble != 0,
            ..UnitOptions::default()
        }
    }

    /// Reads what a job's prelude ([`Preparation`]) handed back: fills in `meta`
    /// from the prepared trace and logs, or says at which stage it failed. Returns
    /// the time the prelude spent optimizing (zero for a recompilation, which has none).
    pub(super) fn prepared(&mut self, built: &mut BuiltUnit, meta: &mut UnitMeta) -> Result<Duration, Stage> {
        let Some(payload) = built.take_payload() else {
            return Ok(Duration::ZERO); // a recompilation: its meta is its old unit's
        };
        let prepared = match payload.downcast::<Prepared>() {
            Ok(p) => *p,
            Err(payload) => {
                return Err(match payload.downcast::<Stage>() {
                    Ok(stage) => *stage,
                    Err(_) => Stage::Backend("a job's preparation handed back nothing".into()),
                })
            }
        };
        self.hot.stats_mut().add_compile_time("opt", prepared.optimize_time);
        if let Some(text) = &prepared.optimized_text {
            self.emit_log(text);
        }
        if self.log.llvm {
            if let Some(backend) = self.backend.as_mut() {
                let opts = UnitOptions {
                    level: Some(built.level()),
                    ..UnitOptions::default()
                };
                let ir = backend
                    .emit_llvm(built.trace(), &opts)
                    .unwrap_or_else(|e| format!("; {e}"));
                self.emit_log(&format!("; llvm {}\n{ir}", built.trace().name));
            }
        }
        meta.tier_guard = prepared.tier_guard;
        meta.resume = Arc::new(leones_tracer::ResumeMap::new(&self.registry, built.trace()));
        Ok(prepared.optimize_time)
    }

    /// Drops what the engine remembers about exits of units no longer installed
    /// (after retiring many at once: one pass instead of one per unit).
    pub(super) fn forget_exits_of_retired_units(&mut self) {
        self.no_bridge.retain(|(u, _)| self.units.contains_key(u));
        self.bridging.retain(|(u, _)| self.units.contains_key(u));
    }

    /// Removes `root`'s loop, its tree and every unit of it; returns how many units.
    /// Jobs of the tree still on the compiler thread are forgotten, so they are
    /// discarded when they come back instead of installed only to be removed. (Only
    /// trees with an installed loop are removed, so no loop job is among them.)
    pub(super) fn remove_tree(&mut self, root: Location) -> usize {
        self.trees.remove(&root);
        self.loops.remove(&root);
        self.in_flight.retain(|_, job| job.meta.root != root);
        let doomed: Vec<BUnit> = self
            .units
            .iter()
            .filter(|(_, m)| m.root == root)
            .map(|(u, _)| *u)
            .collect();
        for &u in &doomed {
            self.retire(u);
        }
        doomed.len()
    }

    /// Removes a unit (after a fault or a failed wiring).
    pub(super) fn retire(&mut self, unit: BUnit) {
        self.note_retired(unit);
        self.loops.retain(|_, l| l.unit != unit);
        self.units.remove(&unit);
        self.recompiling.remove(&unit);
        if let Some(b) = self.backend.as_mut() {
            let bytes = b.unit(unit).map_or(0, |u| u.code_bytes);
            self.live_code_bytes = self.live_code_bytes.saturating_sub(bytes);
            let _ = b.remove(unit);
        }
    }
}
