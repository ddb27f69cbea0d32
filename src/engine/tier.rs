//! # Compiling off the host's thread, tiers, and swapping code in
//!
//! A unit is *prepared* on the host's thread (numbered and named —
//! [`Backend::prepare`]; its counters allocated), *built* on the compiler thread
//! ([`Compiler`]: verified, optimized by Leones and instrumented — `prepare.rs` —
//! then lowered into an object file), and *landed* back on the host's thread:
//! installed in ORC and wired (a loop under its location, a bridge on its exit slot, a
//! region or a recompiled unit in place of the unit it replaces). Each job
//! carries a [`Then`] — what landing it means — so one code path serves the
//! background compiler and the synchronous mode (`background=0`, deterministic, for
//! tests and for hosts that want it): there a job is built and landed at once.
//!
//! While a job is in flight nothing waits for it: a loop being compiled is
//! interpreted ([`Engine::on_loop_header`] answers `Interpret`), an exit whose bridge
//! is being compiled resumes the interpreter, a loop whose region or optimized
//! version is being compiled keeps running its current unit. The engine lands
//! finished jobs whenever the host calls it (`poll_compiles`: one relaxed load when
//! nothing is in flight).
//!
//! ## Tiers and the limit word
//!
//! Units are first built at the quick level (when the engine's level is higher and
//! `tier_up` is on). Every loop unit counts its iterations and checks them against
//! its tree's *limit word* at the header (`guard_true count < *limit`,
//! [`count_iterations`](super::merge::count_iterations)); the word is the whole tier
//! protocol between the engine, the compiler thread and running code:
//!
//! ```text
//!  limit = count + wait     quick unit installed: tier up after `wait` more iterations
//!  limit = i64::MAX         final unit, or its next version is being built: never exit
//!  limit = 0                the compiler thread built a replacement: come out now
//! ```
//!
//! When the guard fails the engine lands what is ready; if the unit is still quick
//! and nothing is being built for it, it submits a recompilation of the unit's own
//! (already optimized and instrumented) trace at the engine's level, with the limit
//! word as its wake word. A recompilation has the same guards and targets, so
//! [`Backend::replace`] swaps it in exactly: bridges stay attached, bridges jumping to
//! the loop now jump to the new code, and the old code is removed. Hot bridges tier
//! up the same way, found by their entry counters whenever the engine looks at a tree.
//!
//! A tree whose shape is about to change does not tier up yet: with pending arms
//! (recorded, not yet in its region) the tier exit re-forms the region with them at
//! the first tier instead, and that region tiers up after its own wait. Once a tree
//! runs tiered-up code, its rare hot exits get plain bridges rather than arms
//! (`merge.rs`), so it is not re-formed — and recompiled — for paths that seldom run.
//!
//! Invariant: old code is freed only on the host's thread between native runs (the
//! engine is never called while native code of its own runs), so no thread can be in
//! code when it is removed.

use super::install::Stage;
use super::*;
use leones_backend_llvm::{BuiltUnit, Compiler, UnitJob};

/// What landing a built job means.
#[derive(Debug)]
pub(super) enum Then {
    /// The first unit of the loop at `loc`.
    Loop { loc: Location, target: LoopTarget },
    /// A bridge for exit `guard` of `parent`, jumping to `root`'s loop.
    Bridge {
        parent: BUnit,
        guard: GuardId,
        root: Location,
        virtuals: bool,
    },
    /// `root`'s region with its first `upto` arms, replacing the loop unit.
    Region {
        root: Location,
        upto: usize,
        origins: Vec<(usize, u32)>,
        name: String,
    },
    /// The same trace as `old`, at another level: swapped in for it.
    Recompiled { old: BUnit },
}

/// A job on the compiler thread.
pub(super) struct InFlight {
    then: Then,
    pub(super) meta: UnitMeta,
}

/// Never exit at the tier guard.
pub(super) const NO_LIMIT: u64 = i64::MAX as u64;

impl Engine {
    /// Builds `job` — on the compiler thread if there is one, else now — and lands it
    /// as `then` says.
    pub(super) fn launch(&mut self, mut job: UnitJob, then: Then, meta: UnitMeta) {
        if let Some(compiler) = &self.compiler {
            // A job that replaces a running loop wakes it when built.
            let root = match &then {
                Then::Region { root, .. } => Some(*root),
                Then::Recompiled { old } => self.units.get(old).filter(|m| m.kind == UnitKind::Loop).map(|m| m.root),
                _ => None,
            };
            if let Some(tree) = root.and_then(|r| self.trees.get(&r)) {
                job.wake_when_built(tree.limit.clone());
            }
            self.stats.background_jobs += 1;
            self.in_flight.insert(job.id(), InFlight { then, meta });
            compiler.submit(job);
        } else {
            let Some(backend) = self.backend.as_mut() else { return };
            let built = backend.build(job);
            self.land(built, InFlight { then, meta });
        }
    }

    /// Lands every job the compiler thread has finished.
    pub(super) fn poll_compiles(&mut self) {
        let Some(c) = self.compiler.as_ref() else { return };
        if c.in_flight() == 0 {
            return;
        }
        while let Some(built) = self.compiler.as_ref().and_then(Compiler::try_finished) {
            self.land_finished(built);
        }
    }

    /// Waits for every job in flight and lands it: after this, the engine's units are
    /// what the recordings so far produced (a host may call it before a timed section,
    /// tests to make counts deterministic).
    pub fn finish_compiles(&mut self) {
        while let Some(built) = self.compiler.as_ref().and_then(Compiler::wait_finished) {
            self.land_finished(built);
        }
    }

    fn land_finished(&mut self, built: BuiltUnit) {
        match self.in_flight.remove(&built.id()) {
            Some(job) => self.land(built, job),
            None => {
                if let Some(b) = self.backend.as_mut() {
                    b.discard(built);
                }
            }
        }
    }

    /// Installs a built unit and does what its job says; a failure is counted and
    /// backed off like any compile failure.
    fn land(&mut self, mut built: BuiltUnit, mut job: InFlight) {
        let optimize_time = match self.prepared(&mut built, &mut job.meta) {
            Ok(t) => t,
            Err(stage) => {
                if let Some(b) = self.backend.as_mut() {
                    b.discard(built);
                }
                return self.not_landed(job.then, stage);
            }
        };
        let Some(backend) = self.backend.as_mut() else { return };
        let tier = if built.failed() { None } else { Some(built.timings()) };
        let size = self
            .log
            .compile
            .then(|| (built.trace().inst_count(), built.trace().guards().len()));
        match backend.install(built) {
            Ok(unit) => {
                if let (Some((insts, guards)), Some(t)) = (size, tier) {
                    self.emit_log(&format!(
                        "; compiled {} {}: {insts} insts, {guards} guards; optimize {} us, lower {} us, passes {} us, codegen {} us, link {} us; {} code bytes; landed at {:.1} ms",
                        unit.label, unit.level.name(), optimize_time.as_micros(), t.lower_us, t.passes_us, t.codegen_us, unit.timings.link_us, unit.code_bytes,
                        self.policy.elapsed().as_secs_f64() * 1e3
                    ));
                }
                let tier_name = unit.level.name();
                let took = std::time::Duration::from_micros(tier.map_or(0, |t| t.total_us()) + unit.timings.link_us);
                self.hot.stats_mut().add_compile_time(tier_name, took);
                self.hot.stats_mut().code_bytes += unit.code_bytes;
                self.stats.code_bytes += unit.code_bytes;
                self.live_code_bytes += unit.code_bytes;
                self.announce_to_debugger(&unit);
                if let Some(tree) = self.trees.get_mut(&job.meta.root) {
                    tree.short_since = (tree.entries, tree.iterations());
                }
                self.units.insert(unit.id, job.meta);
                self.note_installed(unit.id);
                self.landed(unit.id, job.then);
                if self.units.contains_key(&unit.id) {
                    self.enforce_budget(unit.id);
                }
                self.stats.peak_live_code_bytes = self.stats.peak_live_code_bytes.max(self.live_code_bytes);
            }
            Err(e) => self.not_landed(job.then, Stage::Backend(e.to_string())),
        }
    }

    /// Wires an installed unit in as `then` says.
    fn landed(&mut self, unit: BUnit, then: Then) {
        match then {
            Then::Loop { loc, target } => {
                self.compiling.remove(&loc);
                // Counted as recorded only once installed, so that failures keep
                // accumulating towards the blacklist.
                self.hot.recorded(loc);
                self.stats.loops_compiled += 1;
                self.loops.insert(loc, LoopUnit { unit, target });
                self.set_tier_limit(loc, unit);
            }
            Then::Bridge {
                parent,
                guard,
                root,
                virtuals,
            } => self.land_bridge(unit, parent, guard, root, virtuals),
            Then::Region {
                root,
                upto,
                origins,
                name,
            } => self.land_region(unit, root, upto, origins, name),
            Then::Recompiled { old } => self.land_recompiled(unit, old),
        }
    }

    fn land_bridge(&mut self, unit: BUnit, parent: BUnit, guard: GuardId, root: Location, virtuals: bool) {
        self.bridging.remove(&(parent, guard));
        let loop_unit = self.loops.get(&root).map(|l| l.unit);
        let (Some(loop_unit), true) = (loop_unit, self.units.contains_key(&parent)) else {
            // Its parent or its loop went while it was being built.
            self.retire(unit);
            return;
        };
        let backend = self.backend.as_mut().expect("installed");
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
                self.failed(Mode::Bridge { parent, guard, root }, Stage::Backend(e.to_string()));
            }
        }
    }

    fn land_recompiled(&mut self, unit: BUnit, old: BUnit) {
        let Some(meta) = self.units.get(&old) else {
            // The old unit was retired (a region replaced it) while this was built.
            self.retire(unit);
            return;
        };
        let (root, kind) = (meta.root, meta.kind);
        let swapped = self.backend.as_mut().expect("installed").replace(old, unit);
        if let Err(e) = swapped {
            self.retire(unit);
            self.not_landed(Then::Recompiled { old }, Stage::Backend(e.to_string()));
            return;
        }
        self.stats.tier_ups += 1;
        self.recompiling.remove(&old);
        if kind == UnitKind::Loop {
            if let Some(lp) = self.loops.get_mut(&root) {
                if lp.unit == old {
                    lp.unit = unit;
                }
            }
            self.set_tier_limit(root, unit);
        }
        self.retire(old);
    }

    /// A job could not be installed (or was never built): undo what submitting it
    /// promised, count and back off.
    pub(super) fn not_landed(&mut self, then: Then, stage: Stage) {
        match then {
            Then::Loop { loc, .. } => {
                self.compiling.remove(&loc);
                self.trees.remove(&loc);
                self.failed(Mode::Loop(loc), stage);
            }
            Then::Bridge {
                parent, guard, root, ..
            } => {
                self.bridging.remove(&(parent, guard));
                self.failed(Mode::Bridge { parent, guard, root }, stage);
            }
            Then::Region { root, upto, .. } => self.region_failed(root, upto, stage),
            Then::Recompiled { old } => {
                self.recompiling.remove(&old);
                // The old unit keeps running; its tree stops trying to tier up.
                let root = self.units.get(&old).map(|m| (m.root, m.kind));
                if let Some((root, UnitKind::Loop)) = root {
                    if let Some(tree) = self.trees.get_mut(&root) {
                        tree.no_tier_up = true;
                        tree.limit.store(NO_LIMIT, Ordering::Relaxed);
                    }
                }
                self.stats.backend_failures += 1;
                if self.log.any() {
                    self.emit_log(&format!("; recompiling {old} failed, it keeps its tier: {stage:?}"));
                }
            }
        }
    }

    /// Whether units compiled now start at the first level (and tier up later).
    pub(super) fn tiers(&self) -> bool {
        self.params.tier_up > 0 && self.backend.as_ref().is_some_and(|b| b.level() != self.first_level)
    }

    /// The level a unit compiled now starts at: the first level when tiering, else
    /// none (the backend's).
    pub(super) fn start_level(&self) -> Option<Level> {
        self.tiers().then_some(self.first_level)
    }

    /// Whether `unit` runs first-tier code (below the engine's level, so it may tier
    /// up). By level rather than equal to `first_level`: the backend may stand in
    /// another first-tier level (quick for baseline under a debugger).
    pub(super) fn is_first_tier(&self, unit: BUnit) -> bool {
        let top = self.backend().level();
        self.backend().unit(unit).is_some_and(|u| u.level != top)
    }

    /// Sets `root`'s limit word for its newly installed loop unit `unit`: a quick unit
    /// tiers up after the tree's wait, anything else never exits there.
    pub(super) fn set_tier_limit(&mut self, root: Location, unit: BUnit) {
        let waits = self.is_first_tier(unit) && self.tiers() && !self.recompiling.contains(&unit);
        let Some(tree) = self.trees.get_mut(&root) else { return };
        let limit = if waits && !tree.no_tier_up && tree.reforming.is_none() {
            let now = tree.iterations.load(Ordering::Relaxed);
            let wait = u64::from(self.params.tier_up) << (2 * tree.tier_ups.min(20));
            now.saturating_add(wait).min(NO_LIMIT)
        } else {
            NO_LIMIT
        };
        tree.limit.store(limit, Ordering::Release);
    }

    /// Loop unit `left` of `root` left through its tier guard: its iterations passed
    /// the limit, or the compiler thread woke it (limit 0). Lands what is ready —
    /// a waking job's result was sent before the word was zeroed, so it is there —
    /// then tiers up what is still quick and hot.
    pub(super) fn tier_exit(&mut self, root: Location, left: BUnit) {
        let woken = self
            .trees
            .get(&root)
            .is_some_and(|t| t.limit.load(Ordering::Acquire) == 0);
        self.poll_compiles();
        if self.loops.get(&root).map(|l| l.unit) == Some(left) {
            if woken {
                // Woken for a job that did not replace this unit (it was stale):
                // re-arm the limit.
                self.set_tier_limit(root, left);
            } else {
                self.tier_up(root, left);
            }
        }
        self.tier_up_bridges(root);
    }

    /// Submits the optimized recompilation of `root`'s quick loop unit `unit` — unless
    /// the tree has pending arms (recorded, not yet in its region): its shape is about
    /// to change, and an optimized compile of the current one would be replaced by the
    /// next first-tier region within a few thousand iterations (pythagorean's three
    /// trees each paid one such compile). Those arms are folded in first, at the first
    /// tier, and the new region tiers up after its own wait.
    fn tier_up(&mut self, root: Location, unit: BUnit) {
        let ready = self.is_first_tier(unit) && !self.recompiling.contains(&unit);
        let Some(tree) = self.trees.get_mut(&root) else { return };
        // Whatever happens next, this unit does not come out at its tier guard again.
        tree.limit.store(NO_LIMIT, Ordering::Relaxed);
        if !ready || tree.no_tier_up || tree.reforming.is_some() {
            return;
        }
        if tree.arms.len() > tree.merged {
            let merged = tree.merged;
            self.reform(root);
            // Launched (in the background) or already landed (synchronous mode).
            let Some(tree) = self.trees.get(&root) else { return };
            if tree.reforming.is_some() || tree.merged > merged {
                self.stats.tier_ups_deferred += 1;
                return;
            }
            // Every pending arm was refused, or the region failed: tier up what is
            // installed.
        }
        let Some(tree) = self.trees.get_mut(&root) else { return };
        tree.tier_ups += 1;
        if self.inject == Some(InjectFailure::TierUp) {
            return self.not_landed(Then::Recompiled { old: unit }, Stage::Backend("injected".into()));
        }
        self.recompile(unit);
    }

    /// Submits a recompilation of `unit`'s trace at the engine's level.
    fn recompile(&mut self, unit: BUnit) {
        let Some(meta) = self.units.get(&unit).cloned() else {
            return;
        };
        let Some(mut trace) = self.backend().trace(unit).cloned() else {
            return;
        };
        if let (Some(array), Some(tree)) = (meta.passes, self.trees.get_mut(&meta.root)) {
            tree.keep_failing_counters(&mut trace, array);
        }
        let level = Some(self.backend().level());
        let opts = self.unit_options(meta.kind, meta.root, &trace.name, level);
        let backend = self.backend.as_mut().expect("installed");
        let mut job = backend.prepare(&trace, &opts);
        // The unit runs natively meanwhile: first-tier jobs go before it.
        job.deferrable();
        self.recompiling.insert(unit);
        self.launch(job, Then::Recompiled { old: unit }, meta);
    }

    /// Tiers up `root`'s quick bridges that ran at least `tier_up` times.
    pub(super) fn tier_up_bridges(&mut self, root: Location) {
        if !self.tiers() {
            return;
        }
        let hot: Vec<BUnit> = self
            .units
            .iter()
            .filter(|(u, m)| {
                m.root == root
                    && m.kind == UnitKind::Bridge
                    && !self.recompiling.contains(u)
                    && m.counter
                        .is_some_and(|c| self.counters[c].load(Ordering::Relaxed) >= u64::from(self.params.tier_up))
            })
            .map(|(u, _)| *u)
            .filter(|u| self.is_first_tier(*u))
            .collect();
        for u in hot {
            self.recompile(u);
        }
    }
}
