//! # From a closed recording to installed code
//!
//! [`Engine::finish`] takes a closed recording through verify → optimize → (instrument)
//! → compile, and installs the unit: a loop under its location, a bridge adapted to
//! its exit's values ([`adapt_bridge`]), attached to the exit slot and linked back to
//! its loop. Every failure is counted, logged and backed off ([`Engine::failed`]); the
//! host keeps interpreting.

use super::adapt::entry_facts;
use super::*;
use leones_opt::EntryFact;

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
    /// A recording closed: compile and install it.
    pub(super) fn finish(&mut self, mode: Mode, done: Recorded) {
        match mode {
            Mode::Loop(loc) => {
                let target = done.target().expect("a loop recording");
                // The tree first: compiling the loop instruments its iteration counter.
                self.trees.insert(loc, super::merge::Tree::new(done.clone()));
                match self.compile(done.trace, loc, UnitKind::Loop, &[], None) {
                    Ok(unit) => {
                        // Counted as recorded only once installed, so that failures
                        // keep accumulating towards the blacklist.
                        self.hot.recorded(loc);
                        self.stats.loops_compiled += 1;
                        self.loops.insert(loc, LoopUnit { unit, target });
                    }
                    Err(stage) => {
                        self.trees.remove(&loc);
                        self.failed(Mode::Loop(loc), stage)
                    }
                }
            }
            Mode::Arm {
                parent,
                guard,
                root,
                key,
            } => self.finish_arm(parent, guard, root, key, done),
            Mode::Bridge { parent, guard, root } => {
                let Some(loop_unit) = self.loops.get(&root).map(|l| l.unit) else {
                    return;
                };
                let adapted = {
                    let Some(pt) = self.backend().trace(parent) else { return };
                    let Some(g) = pt.guards().into_iter().nth(guard.index()) else {
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
                let unit = match self.compile(trace, root, UnitKind::Bridge, &facts, None) {
                    Ok(u) => u,
                    Err(stage) => return self.failed(mode, stage),
                };
                let backend = self.backend.as_mut().expect("compiled");
                let wired = backend
                    .link_target(unit, TargetId(0), loop_unit)
                    .and_then(|()| backend.attach_bridge(parent, guard, unit));
                match wired {
                    Ok(()) => {
                        self.history.bridge_attached(unit, parent, guard);
                        self.hot.bridge_recorded(UnitId(parent.0.into()), guard);
                        self.stats.bridges_attached += 1;
                        self.stats.bridges_from_virtuals += u64::from(virtuals);
                    }
                    Err(e) => {
                        self.retire(unit);
                        self.failed(mode, Stage::Backend(e.to_string()));
                    }
                }
            }
        }
    }

    /// Counts and logs a failure after recording; backs the key off like an abort.
    fn failed(&mut self, mode: Mode, stage: Stage) {
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
        match mode {
            Mode::Loop(loc) => drop(self.hot.aborted(loc, &why)),
            Mode::Bridge { parent, guard, .. } | Mode::Arm { parent, guard, .. } => {
                let _ = self.hot.bridge_aborted(UnitId(parent.0.into()), guard, &why);
            }
        }
    }

    /// Verify, optimize (with `facts` about `block0`'s parameters on entry),
    /// (instrument), compile.
    pub(super) fn compile(
        &mut self,
        mut trace: Trace,
        root: Location,
        kind: UnitKind,
        facts: &[(usize, EntryFact)],
        level: Option<Level>,
    ) -> Result<BUnit, Stage> {
        if self.inject == Some(InjectFailure::Verify) {
            trace.blocks[0].insts.pop();
        }
        if self.log.trace {
            self.emit_log(&format!("; recorded\n{}", leones_ir::print(&trace)));
        }
        leones_ir::verify(&trace).map_err(|e| Stage::Verify(e.to_string()))?;
        let t0 = Instant::now();
        let ctx = OptContext {
            pure_calls: None,
            verify_each_pass: cfg!(debug_assertions) || self.inject == Some(InjectFailure::Optimize),
            entry_facts: facts,
            branchless: leones_opt::passes::branchless::BranchlessParams {
                enabled: self.params.branchless != 0,
                ..Default::default()
            },
            ..OptContext::default()
        };
        let (mut opt, _) =
            leones_opt::optimize(&trace, &self.pipeline, &ctx).map_err(|e| Stage::Optimize(e.to_string()))?;
        leones_ir::verify(&opt).map_err(|e| Stage::Optimize(format!("the optimized trace does not verify: {e}")))?;
        self.hot.stats_mut().add_compile_time("opt", t0.elapsed());
        if self.log.opt {
            let known = if facts.is_empty() {
                String::new()
            } else {
                format!("; entry facts {facts:?}")
            };
            self.emit_log(&format!("; optimized\n{}{known}", leones_ir::print(&opt)));
        }
        let quick_tier =
            level == Some(Level::Quick) && self.backend.as_ref().is_some_and(|b| b.level() != Level::Quick);
        let mut tier_snapshot = None;
        if kind == UnitKind::Loop && self.params.merge != 0 {
            if let Some(tree) = self.trees.get(&root) {
                let counter = tree.iterations.as_ref() as *const AtomicU64;
                // A quick-tier unit leaves through a tier-up guard once it has run
                // `tier_up` more iterations (see `Engine::tier_up`).
                // SAFETY: the counter is boxed and lives as long as the tree.
                let now = unsafe { (*counter).load(Ordering::Relaxed) };
                let wait = u64::from(self.params.tier_up) << (2 * tree.tier_ups.min(20));
                let limit = (quick_tier && self.params.tier_up > 0 && !tree.no_tier_up).then(|| now + wait);
                tier_snapshot = super::merge::count_iterations(&mut opt, counter as u64, limit);
            }
        }
        let counter = (kind == UnitKind::Bridge).then(|| {
            self.counters.push(Box::new(AtomicU64::new(0)));
            let c = self.counters.last().expect("pushed");
            count_entries(&mut opt, c.as_ref() as *const AtomicU64 as u64);
            self.counters.len() - 1
        });
        if self.inject == Some(InjectFailure::Backend) {
            opt.blocks[0].insts.pop();
        }
        let opts = UnitOptions {
            level: if kind == UnitKind::Bridge {
                self.bridge_level
            } else {
                level
            },
            ..UnitOptions::default()
        };
        if self.log.llvm {
            let backend = self.backend.as_mut().ok_or(Stage::Backend("no backend".into()))?;
            let ir = backend.emit_llvm(&opt, &opts).unwrap_or_else(|e| format!("; {e}"));
            self.emit_log(&format!("; llvm {}\n{ir}", opt.name));
        }
        let backend = self.backend.as_mut().ok_or(Stage::Backend("no backend".into()))?;
        let t1 = Instant::now();
        let tier = format!("{:?}", opts.level.unwrap_or(backend.level())).to_lowercase();
        let unit = backend
            .compile(&opt, &opts)
            .map_err(|e| Stage::Backend(e.to_string()))?;
        self.hot.stats_mut().add_compile_time(&tier, t1.elapsed());
        self.hot.stats_mut().code_bytes += unit.code_bytes;
        self.stats.code_bytes += unit.code_bytes;
        let tier_guard = tier_snapshot.and_then(|s| opt.guards().into_iter().find(|g| g.snapshot == s).map(|g| g.id));
        self.units.insert(
            unit.id,
            UnitMeta {
                root,
                kind,
                counter,
                tier_guard,
            },
        );
        Ok(unit.id)
    }

    /// Removes a unit (after a fault or a failed wiring).
    pub(super) fn retire(&mut self, unit: BUnit) {
        self.note_retired(unit);
        self.loops.retain(|_, l| l.unit != unit);
        self.units.remove(&unit);
        if let Some(b) = self.backend.as_mut() {
            let _ = b.remove(unit);
        }
    }
}
