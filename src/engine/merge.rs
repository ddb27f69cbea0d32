//! # Trace merging in the engine: trees, the merge decision, regions
//!
//! Every compiled loop keeps its **tree**: the root's recording (with its merge points)
//! and the arms merged into it so far. Native code counts the loop's iterations (one
//! increment at the loop header, [`count_iterations`]) and how often it reaches each
//! guard that could become a branch ([`Tree::pass_counters`]); the engine counts each
//! recorded guard's exits (by snapshot *origin*, so a peeled guard's two copies count
//! as one). An arm's branch weights are its guard's exits against its passes while the
//! installed unit ran ([`Tree::weights`]): measured, so a 50/50 check weighs 1:1 and
//! branchless rewriting can see that it is unpredictable. When an exit of the loop
//! unit gets hot, [`Engine::merge_decision`] decides:
//!
//! ```text
//!   merge=off, the guard cannot branch, it was refused before,
//!   or the region would pass region_cap × the root's size     → a plain bridge
//!   iterations < merge_samples                                 → wait (decide later)
//!   merge_low% ≤ exits(guard) / iterations ≤ merge_high%,
//!   or the loop already has merge_bridges plain bridges        → an arm
//!   a rare exit (loop end, overflow, a type change) of a tree
//!   without arms, or of one running tiered-up code              → a plain bridge
//!   otherwise (a rare exit of a tree that has arms)             → an arm
//! ```
//!
//! An arm is recorded like a bridge, but stops at the first merge point its parent
//! passes later with a fitting state ([`MergeTarget`]s from [`Tree::merge_targets`]);
//! it may also reach the loop header. Then the root and all its arms are re-formed into
//! one region ([`leones_opt::region`]), optimized, compiled with the profile's weights
//! on its branches, and installed in place of the loop unit: the old unit and every
//! bridge of this loop are removed (their paths are in the region now, or will be
//! recorded again if still hot). If formation or compilation fails, the arm is
//! dropped, its guard is remembered as refused, and its exit becomes a plain bridge
//! next time.

use super::*;
use leones_ir::{Inst, JumpTarget, Snapshot, Type};
use leones_opt::region::{form_region, Arm};
use leones_tracer::{MergeTarget, Recorded};

/// What to record from a hot exit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum MergeDecision {
    Bridge,
    Arm,
    Wait,
    /// The guard already has a pending arm: form the region now.
    Reform,
    /// A plain bridge, because the tree runs tiered-up code and the exit is rare: as
    /// an arm it would re-form the region at the first tier and pay the tier-up again.
    BridgeTiered,
}

/// One merged arm of a tree.
pub(super) struct ArmRec {
    pub(super) rec: Recorded,
    pub(super) parent: usize,
    pub(super) guard: u32,
    /// The profile when the arm was recorded: (exits of its guard, times it held), see
    /// [`Tree::weights`]. Frozen then: once merged, the arm no longer exits, so later
    /// exit counts would say it is never taken.
    pub(super) weights: (u32, u32),
}

/// A compiled loop's root recording, its arms and its profile.
pub(super) struct Tree {
    pub(super) root: Recorded,
    /// Arms in recording order; the first `merged` are in the installed region, the
    /// rest are pending (see [`Engine::finish_arm`]).
    pub(super) arms: Vec<ArmRec>,
    pub(super) merged: usize,
    /// Snapshot origin of the installed unit's guards → (piece, guard ordinal).
    pub(super) origins: Vec<(usize, u32)>,
    /// Native iterations past the loop header (compiled code increments it).
    pub(super) iterations: Box<AtomicU64>,
    /// Exits per recorded guard.
    exits: HashMap<(usize, u32), u64>,
    /// Exits per recorded guard since the installed loop unit was installed: the
    /// window its pass counters cover.
    exits_installed: HashMap<(usize, u32), u64>,
    /// Pass counters of the tree's loop units, one array per compiled unit, indexed
    /// by snapshot origin ([`Tree::pass_counters`]). Kept for the tree's life (a few
    /// words per guard and compile), so no unit's code ever counts into freed memory.
    pub(super) passes: Vec<Box<[AtomicU64]>>,
    /// Guards of the installed unit whose pass counter was dropped at tier-up
    /// ([`Tree::keep_failing_counters`]): their weights are estimated.
    uncounted: HashSet<(usize, u32)>,
    /// Guards whose arm could not be merged: they get plain bridges.
    refused: HashSet<(usize, u32)>,
    /// Native entries of the loop (each runs at least the preamble's iteration).
    pub(super) entries: u64,
    /// Exits of the installed unit since it was installed.
    pub(super) exits_since_install: u64,
    /// Times this tree tiered up: each later quick unit waits 4x longer before it
    /// does again (a tree still growing would otherwise pay an optimized compile at
    /// every step).
    pub(super) tier_ups: u32,
    /// Tiering up failed once: this tree's units stay at their level.
    pub(super) no_tier_up: bool,
    /// The limit word its loop units check their iteration count against (see
    /// `tier.rs`); shared with the compiler thread, which zeroes it to wake a loop.
    pub(super) limit: Arc<AtomicU64>,
    /// A region with this many arms is being built.
    pub(super) reforming: Option<usize>,
    /// Set once the tree reached `max_bridges`: its exit rate under judgement
    /// (`giveup.rs`).
    pub(super) cap: Option<super::giveup::CapWindow>,
    /// `(entries, iterations())` when a unit of the tree was last installed: the start
    /// of the window a short loop is judged over (`giveup.rs`).
    pub(super) short_since: (u64, u64),
    /// `(entries, native iterations)` of the entries that left the loop: after their
    /// exit the host reached another loop's header before this one's (`giveup.rs`).
    pub(super) left: (u64, u64),
}

impl Tree {
    pub(super) fn new(root: Recorded) -> Tree {
        let n = root.trace.guards().len() as u32;
        Tree {
            root,
            arms: Vec::new(),
            merged: 0,
            origins: (0..n).map(|g| (0, g)).collect(),
            iterations: Box::new(AtomicU64::new(0)),
            exits: HashMap::default(),
            exits_installed: HashMap::default(),
            passes: Vec::new(),
            uncounted: HashSet::default(),
            refused: HashSet::default(),
            entries: 0,
            exits_since_install: 0,
            tier_ups: 0,
            no_tier_up: false,
            limit: Arc::new(AtomicU64::new(super::tier::NO_LIMIT)),
            reforming: None,
            cap: None,
            short_since: (0, 0),
            left: (0, 0),
        }
    }

    pub(super) fn piece(&self, p: usize) -> &Recorded {
        if p == 0 {
            &self.root
        } else {
            &self.arms[p - 1].rec
        }
    }

    /// Recorded guard `key` (piece, ordinal) and the recording it is in.
    pub(super) fn recorded_guard(&self, key: (usize, u32)) -> Option<(&Trace, leones_ir::GuardInfo)> {
        let t = &self.piece(key.0).trace;
        Some((t, t.guard(GuardId::new(key.1 as usize))?))
    }

    /// Whether its loop unit is (or is being built as) a region with merged arms.
    pub(super) fn is_region(&self) -> bool {
        self.merged > 0 || self.reforming.is_some()
    }

    pub(super) fn iterations(&self) -> u64 {
        self.iterations.load(Ordering::Relaxed) + self.entries
    }

    /// A fresh array of counters for a loop unit of this tree to count how often
    /// native code reaches each guard that could become a branch (by snapshot origin:
    /// a peeled guard's two copies share one), sized for the origins of `recorded`
    /// (the unit's trace before optimizing, whose origins bound the optimized one's);
    /// returns the array's index in [`Tree::passes`] (the instrumenting is done on the
    /// compiler thread, `prepare.rs`). With the exits counted since the unit was
    /// installed this gives a guard's *measured* branch weights ([`Tree::weights`]).
    pub(super) fn pass_counters(&mut self, recorded: &Trace) -> usize {
        let n = recorded
            .snapshots
            .iter()
            .filter_map(|s| s.origin)
            .max()
            .map_or(0, |o| o as usize + 1);
        self.passes.push((0..n).map(|_| AtomicU64::new(0)).collect());
        self.passes.len() - 1
    }

    /// For recompiling loop unit `trace` (counting into `self.passes[array]`) at the
    /// optimized level: drops the pass counters of guards that never failed while it
    /// ran. Those are unlikely arms, and a counter is a load and a store per pass on
    /// the hot path; the guards that did fail keep theirs, so an arm recorded later
    /// still gets measured weights.
    pub(super) fn keep_failing_counters(&mut self, trace: &mut Trace, array: usize) {
        let Some(counters) = self.passes.get(array) else { return };
        let (origins, exits, uncounted) = (&self.origins, &self.exits_installed, &mut self.uncounted);
        super::adapt::strip_guard_counters(trace, |addr| {
            let Some(&key) = counter_origin(counters, addr).and_then(|o| origins.get(o)) else {
                return false;
            };
            let never_failed = exits.get(&key).is_none_or(|&e| e == 0);
            if never_failed {
                uncounted.insert(key);
            }
            never_failed
        });
    }

    /// The branch weights of recorded guard `key` — (times it failed, times it
    /// held) — while the installed unit, counting passes into `self.passes[array]`,
    /// ran: both counted over the same window, so they are a measured split of the
    /// iterations that reached the guard. Without such counts (or before the guard
    /// failed in that window), an estimate from the whole tree's history: its exits
    /// against all iterations, which under-weights the exit when earlier guards
    /// leave often.
    pub(super) fn weights(&self, key: (usize, u32), array: Option<usize>) -> (u32, u32) {
        let clamp = |x: u64| x.min(u64::from(u32::MAX)) as u32;
        let taken = self.exits_installed.get(&key).copied().unwrap_or(0);
        let reached: u64 = array.and_then(|a| self.passes.get(a)).map_or(0, |counters| {
            (self.origins.iter().enumerate())
                .filter(|(_, k)| **k == key)
                .filter_map(|(o, _)| counters.get(o))
                .map(|c| c.load(Ordering::Relaxed))
                .sum()
        });
        if taken > 0 && reached >= taken && !self.uncounted.contains(&key) {
            return (clamp(taken), clamp(reached - taken));
        }
        let ran = self.exits.get(&key).copied().unwrap_or(0);
        (clamp(ran), clamp(self.iterations().saturating_sub(ran)))
    }

    /// Recorded size of the region (instructions of the root and its arms).
    fn size(&self) -> usize {
        self.root.trace.inst_count() + self.arms.iter().map(|a| a.rec.trace.inst_count()).sum::<usize>()
    }

    /// The merge points an arm from guard `guard` of piece `p` may rejoin: the piece's
    /// merge points after the guard, then (if the piece is an arm) its parent's from
    /// where it rejoins on, and so on up to the root.
    pub(super) fn merge_targets(&self, mut p: usize, guard: u32) -> Vec<MergeTarget> {
        let mut out = Vec::new();
        let mut from = Position::AfterGuard(guard);
        loop {
            let rec = self.piece(p);
            let (mut g, mut m) = (0u32, 0usize);
            let mut on = false;
            for inst in &rec.trace.blocks[0].insts {
                match inst.op {
                    Op::Guard(..) => {
                        if from == Position::AfterGuard(g) {
                            on = true;
                        }
                        g += 1;
                    }
                    Op::MergePoint(_) => {
                        if from == Position::AtMerge(m) {
                            on = true;
                        }
                        if on {
                            if let Some(info) = rec.merge_points.get(m) {
                                out.push(MergeTarget {
                                    name: format!("{}__m{m}", rec.trace.name),
                                    location: info.location,
                                    shape: info.shape.clone(),
                                });
                            }
                        }
                        m += 1;
                    }
                    _ => {}
                }
            }
            // Where does this piece rejoin its parent?
            let Some((q, point)) = self.rejoins(rec) else { break };
            p = q;
            from = Position::AtMerge(point);
        }
        out
    }

    /// Where recording `rec` rejoined: (piece, merge point ordinal in it); `None` when
    /// it reached the loop header (or is the root).
    pub(super) fn rejoins(&self, rec: &Recorded) -> Option<(usize, usize)> {
        let (piece_name, point) = rec.rejoined.as_deref()?.rsplit_once("__m")?;
        let q = (0..=self.arms.len()).find(|&q| self.piece(q).trace.name == piece_name)?;
        Some((q, point.parse().ok()?))
    }
}

/// The snapshot origin whose pass counter in `counters` is at `addr`, if it is one.
fn counter_origin(counters: &[AtomicU64], addr: u64) -> Option<usize> {
    let word = std::mem::size_of::<AtomicU64>() as u64;
    let offset = addr.checked_sub(counters.as_ptr() as u64)?;
    let o = (offset % word == 0).then_some(offset / word)? as usize;
    (o < counters.len()).then_some(o)
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Position {
    AfterGuard(u32),
    AtMerge(usize),
}

/// Counts the iterations native code runs in `*counter`: `+= 1` at the start of a
/// peeled loop's header (the block its back edges jump to, passed once per iteration
/// after each entry's first, which the preamble runs), or — when the optimizer left
/// the loop unpeeled and its header is the entry block, passed once more per entry
/// than iterations end — before each back edge: the same number either way. With
/// `limit` (the address of a limit word), also a tier guard at the header,
/// `guard_true (counter < *limit)`, with the header's state (a copy of the header's
/// first guard's snapshot, without origin); returns that guard's snapshot.
pub(super) fn count_iterations(trace: &mut Trace, counter: u64, limit: Option<u64>) -> Option<leones_ir::SnapshotId> {
    // The loop's header: block0 when a back edge goes there (unpeeled), else the
    // peeled loop's header copy — not an inner loop's header (a region whose arm
    // rejoins above its guard has one, in the preamble and in the loop). When the
    // peeled split is ambiguous, the first back edge's target.
    let back_edge_targets = || {
        trace.blocks.iter().filter_map(|b| match b.insts.last().map(|i| &i.op) {
            Some(Op::Jump(JumpTarget::Block(h), _)) => Some(h.index()),
            _ => None,
        })
    };
    let h = if back_edge_targets().any(|h| h == 0) {
        0
    } else {
        leones_opt::passes::peel::loop_start(trace).or_else(|| back_edge_targets().next())?
    };
    let header_snapshot = trace.blocks[h].insts.iter().find_map(|i| i.op.snapshot());
    let (count, counted) = if h == 0 {
        super::adapt::count_back_edges(trace, h, counter);
        super::adapt::prepend_counter_read(trace, h, counter)
    } else {
        super::adapt::prepend_counter(trace, h, counter)
    };
    let (limit, snap) = (limit?, header_snapshot?);
    let snapshot = Snapshot {
        origin: None,
        ..trace.snapshot(snap).clone()
    };
    let snap = trace.add_snapshot(snapshot);
    let addr = trace.new_value(Type::Ptr);
    let lim = trace.new_value(Type::I64);
    let below = trace.new_value(Type::Bool);
    let insts = [
        Inst {
            result: Some(addr),
            op: Op::Const(leones_ir::Const::Ptr(limit)),
        },
        Inst {
            result: Some(lim),
            op: Op::Load(leones_ir::MemType::I64, addr, 0),
        },
        Inst {
            result: Some(below),
            op: Op::Binary(leones_ir::BinaryOp::ILt, count, lim),
        },
        Inst {
            result: None,
            op: Op::Guard(GuardKind::True(below), snap),
        },
    ];
    trace.blocks[h].insts.splice(counted..counted, insts);
    Some(snap)
}

/// Whether a guard of this kind can become a branch (see `leones_opt::region`).
pub(super) fn can_branch(op: &Op) -> bool {
    matches!(
        op,
        Op::Guard(
            GuardKind::True(_)
                | GuardKind::False(_)
                | GuardKind::Value(..)
                | GuardKind::NonNull(_)
                | GuardKind::IsNull(_),
            _
        )
    )
}

impl Engine {
    /// Counts an exit of loop unit `left` (the installed unit of `root`) at the guard
    /// with snapshot origin `origin`; returns the recorded guard it stands for.
    pub(super) fn count_tree_exit(&mut self, root: Location, left: BUnit, origin: Option<u32>) -> Option<(usize, u32)> {
        if self.loops.get(&root).map(|l| l.unit) != Some(left) {
            return None;
        }
        let tree = self.trees.get_mut(&root)?;
        tree.exits_since_install += 1;
        let key = *tree.origins.get(origin? as usize)?;
        *tree.exits.entry(key).or_insert(0) += 1;
        *tree.exits_installed.entry(key).or_insert(0) += 1;
        Some(key)
    }

    /// What to record from the hot exit of recorded guard `key` of `root`'s tree.
    pub(super) fn merge_decision(&self, root: Location, key: (usize, u32)) -> MergeDecision {
        let p = &self.params;
        let Some(tree) = self.trees.get(&root) else {
            return MergeDecision::Bridge;
        };
        let guard_op = tree
            .recorded_guard(key)
            .map(|(t, g)| &t.blocks[g.block.index()].insts[g.inst].op);
        let capped = tree.size() as u64 >= u64::from(p.region_cap) * tree.root.trace.inst_count() as u64;
        if p.merge == 0 || tree.refused.contains(&key) || !guard_op.is_some_and(can_branch) || capped {
            return MergeDecision::Bridge;
        }
        if tree.arms[tree.merged..].iter().any(|a| (a.parent, a.guard) == key) {
            // Its arm is pending: re-form once the pending arms cost enough exits.
            let due = tree.exits_since_install >= u64::from(p.reform_exits);
            return if due {
                MergeDecision::Reform
            } else {
                MergeDecision::Wait
            };
        }
        let iters = tree.iterations();
        if iters < u64::from(p.merge_samples) {
            return MergeDecision::Wait;
        }
        let exits = tree.exits.get(&key).copied().unwrap_or(0);
        let percent = exits.saturating_mul(100) / iters.max(1);
        let data_driven = (u64::from(p.merge_low)..=u64::from(p.merge_high)).contains(&percent);
        // A tree that already merged arms is data-driven: its other hot exits join the
        // region too (as plain bridges they would be retired at every re-forming) —
        // until it runs tiered-up code. Then re-forming is what costs (a first-tier
        // region, then a second optimized compile), and a rare exit, by its rate,
        // runs its path too seldom to be worth it: a plain bridge serves it, and
        // survives since such a tree seldom re-forms.
        let bridges = self.installed_bridges(root);
        if data_driven || bridges >= p.merge_bridges as usize {
            MergeDecision::Arm
        } else if tree.arms.is_empty() {
            MergeDecision::Bridge
        } else if self.runs_tiered_up(root) {
            MergeDecision::BridgeTiered
        } else {
            MergeDecision::Arm
        }
    }

    /// Whether `root`'s installed loop unit is tiered-up code, or is being tiered up:
    /// the engine tiers and the unit is at its final level or being recompiled to it.
    fn runs_tiered_up(&self, root: Location) -> bool {
        self.tiers()
            && self
                .loops
                .get(&root)
                .is_some_and(|l| !self.is_first_tier(l.unit) || self.recompiling.contains(&l.unit))
    }

    /// Starts recording an arm of `root`'s tree from the exit of `key` (unit `left`,
    /// guard `guard`), entering with `entry`: whether it started, or `None` if the
    /// tree is gone (nothing attempted).
    pub(super) fn start_arm(
        &mut self,
        root: Location,
        left: BUnit,
        guard: GuardId,
        key: (usize, u32),
        entry: leones_tracer::Shape,
    ) -> Option<bool> {
        let (tree, lp) = (self.trees.get(&root)?, self.loops.get(&root)?);
        let merges = tree.merge_targets(key.0, key.1);
        // What the arm may assume on entry comes from the *recorded* guard's snapshot
        // (what region formation maps the arm's entry to), not from the optimized
        // exit's: the optimizer may have proved constants there that only hold on the
        // path of the unit that exited, not in the region the arm will join.
        let recorded = tree.recorded_guard(key).map(|(t, g)| t.snapshot(g.snapshot).clone());
        let name = format!("{}_arm{}", tree.root.trace.name, tree.arms.len() + 1);
        let started = Recorder::start_arm(&self.registry, &self.params, entry, &lp.target, name, merges);
        Some(self.begin_recording(
            started,
            recorded.as_ref(),
            Mode::Arm {
                parent: left,
                guard,
                root,
                key,
            },
        ))
    }

    /// An arm closed: it joins the tree's pending arms. The region is re-formed when
    /// the pending arms are at least as many as the merged ones (so a tree of n arms
    /// is compiled O(log n) times, not n), or when a guard with a pending arm gets hot
    /// again ([`MergeDecision::Reform`]).
    pub(super) fn finish_arm(
        &mut self,
        parent: BUnit,
        guard: GuardId,
        root: Location,
        key: (usize, u32),
        done: Recorded,
    ) {
        self.hot.bridge_recorded(UnitId(parent.0.into()), guard);
        if self.log.trace {
            let text = leones_ir::print(&done.trace);
            self.emit_log(&format!("; arm from piece {} guard {}\n{text}", key.0, key.1));
        }
        let array = self
            .loops
            .get(&root)
            .and_then(|l| self.units.get(&l.unit))
            .and_then(|m| m.passes);
        let Some(tree) = self.trees.get_mut(&root) else { return };
        let weights = tree.weights(key, array);
        tree.arms.push(ArmRec {
            rec: done,
            parent: key.0,
            guard: key.1,
            weights,
        });
        if tree.arms.len() - tree.merged >= tree.merged.max(1) {
            self.reform(root);
        }
    }

    /// Forms `root`'s region from the root and every arm recorded so far (dropping, as
    /// refused, the latest pending arms until it forms) and launches its compilation;
    /// landing it installs it in place of the loop's unit and bridges
    /// ([`Engine::land_region`]). A region is compiled at the quick level when the
    /// engine tiers (and tiered up later, see `tier.rs`). One region per tree is built
    /// at a time; arms recorded meanwhile wait for the next.
    pub(super) fn reform(&mut self, root: Location) {
        let region = loop {
            let Some(tree) = self.trees.get_mut(&root) else { return };
            if tree.arms.len() == tree.merged || tree.reforming.is_some() {
                return;
            }
            let arms: Vec<Arm> = tree
                .arms
                .iter()
                .map(|a| Arm {
                    trace: &a.rec.trace,
                    parent: a.parent,
                    guard: a.guard,
                    weights: Some(a.weights),
                })
                .collect();
            match form_region(&tree.root.trace, &arms) {
                Ok(r) => break r,
                Err(e) if tree.arms.len() > tree.merged => {
                    let refused = tree.arms.pop().expect("a pending arm");
                    tree.refused.insert((refused.parent, refused.guard));
                    self.stats.arms_refused += 1;
                    if self.log.any() {
                        self.emit_log(&format!("; arm refused, its exit gets a plain bridge: {e}"));
                    }
                }
                // The merged arms formed before; they cannot fail now.
                Err(_) => return,
            }
        };
        let tiers = self.tiers();
        let first_level = self.first_level;
        let tree = self.trees.get_mut(&root).expect("present");
        let upto = tree.arms.len();
        tree.reforming = Some(upto);
        let level = (tiers || tree.no_tier_up).then_some(first_level);
        let then = super::tier::Then::Region {
            root,
            upto,
            origins: region.origins,
            name: region.trace.name.clone(),
        };
        if let Err((then, stage)) = self.compile(region.trace, root, UnitKind::Loop, &[], level, then) {
            self.not_landed(then, stage);
        }
    }

    /// `root`'s region with its first `upto` arms is installed as `unit`: it replaces
    /// the loop unit, and the old loop and every bridge of this root go (the region has
    /// their paths, or they will be recorded again).
    pub(super) fn land_region(
        &mut self,
        unit: BUnit,
        root: Location,
        upto: usize,
        origins: Vec<(usize, u32)>,
        name: String,
    ) {
        let Some(lp) = self.loops.get_mut(&root) else {
            self.retire(unit);
            return;
        };
        let old = lp.unit;
        lp.unit = unit;
        lp.target.name = name;
        let tree = self.trees.get_mut(&root).expect("a loop has a tree");
        tree.origins = origins;
        tree.exits_since_install = 0;
        tree.exits_installed.clear();
        tree.uncounted.clear();
        tree.reforming = None;
        self.stats.regions_compiled += 1;
        self.stats.arms_merged += upto.saturating_sub(tree.merged) as u64;
        tree.merged = upto;
        let stale: Vec<BUnit> = self
            .units
            .iter()
            .filter(|(u, m)| m.root == root && **u != unit && (**u == old || m.kind == UnitKind::Bridge))
            .map(|(u, _)| *u)
            .collect();
        for u in stale {
            self.retire(u);
            self.stats.units_retired += 1;
        }
        self.forget_exits_of_retired_units();
        self.set_tier_limit(root, unit);
    }

    /// `root`'s region with arms up to `upto` could not be built: those arms are
    /// refused (their exits get plain bridges).
    pub(super) fn region_failed(&mut self, root: Location, upto: usize, stage: super::install::Stage) {
        let Some(tree) = self.trees.get_mut(&root) else { return };
        tree.reforming = None;
        let (merged, upto) = (tree.merged, upto.min(tree.arms.len()));
        for a in tree.arms.drain(merged..upto) {
            tree.refused.insert((a.parent, a.guard));
            self.stats.arms_refused += 1;
        }
        if self.log.any() {
            self.emit_log(&format!("; region failed to compile, arms refused: {stage:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop's two back edges and its header guard, unpeeled (block0 is the header).
    const LOOP: &str = "trace t
frame main code 0x1 slots 1

block0(v0: i64):
    v1 = const 10
    v2 = ilt v0, v1
    guard_true v2 [main@1(v0)]
    v3 = const 1
    v4 = iadd v0, v3
    v5 = ieq v4, v1
    br v5, block1(), block2() weights(50, 50)

block1():
    jump block0(v4)

block2():
    jump block0(v4)
";

    fn counts(block: &leones_ir::BlockData, counter: u64) -> usize {
        block
            .insts
            .iter()
            .filter(|i| matches!(i.op, Op::Const(leones_ir::Const::Ptr(c)) if c == counter))
            .count()
    }

    #[test]
    fn an_unpeeled_loop_counts_at_its_back_edges_and_a_peeled_one_at_its_header() {
        let (counter, limit) = (0x1000, 0x2000);
        let mut t = leones_ir::parse(LOOP).unwrap();
        count_iterations(&mut t, counter, Some(limit)).expect("a tier guard");
        leones_ir::verify(&t).expect("verifies");
        // The header reads the count for the tier guard; each back edge adds one.
        let header = &t.blocks[0].insts;
        assert!(matches!(header[1].op, Op::Load(leones_ir::MemType::I64, _, 0)));
        assert!(
            !header.iter().any(|i| matches!(i.op, Op::Store(..))),
            "no increment at the entry"
        );
        assert!(
            matches!(header[5].op, Op::Guard(GuardKind::True(_), _)),
            "the tier guard"
        );
        for b in [1, 2] {
            let insts = &t.blocks[b].insts;
            assert_eq!(counts(&t.blocks[b], counter), 1);
            assert!(
                matches!(insts[insts.len() - 2].op, Op::Store(..)),
                "right before the jump"
            );
        }

        let original = leones_ir::parse(LOOP).unwrap();
        let passes = leones_opt::passes_named(&["peel"]).unwrap();
        let (mut peeled, _) = leones_opt::optimize(&original, &passes, &Default::default()).unwrap();
        count_iterations(&mut peeled, counter, Some(limit)).expect("a tier guard");
        leones_ir::verify(&peeled).expect("verifies");
        // The header copy (block3) increments first thing; nothing else counts.
        assert!(matches!(peeled.blocks[3].insts[4].op, Op::Store(..)));
        let counting: Vec<usize> = (0..peeled.blocks.len())
            .filter(|&b| peeled.blocks[b].insts.iter().any(|i| matches!(i.op, Op::Store(..))))
            .collect();
        assert_eq!(counting, vec![3]);
    }

    #[test]
    fn a_peeled_loop_with_an_inner_loop_counts_at_the_header_copy() {
        // block1 is an inner loop; block0 can also skip it, so the peeled split is
        // unambiguous. The first back edge in block order is the preamble's inner one.
        let src = "trace t
frame main code 0x1 slots 1

block0(v0: i64, v1: i64):
    v2 = ilt v0, v1
    guard_true v2 [main@1(v0)]
    v3 = const 0
    v4 = ieq v1, v3
    br v4, block1(v0), block3(v0) weights(50, 50)

block1(v5: i64):
    v6 = const 1
    v7 = iadd v5, v6
    v8 = ilt v7, v1
    br v8, block2(), block3(v7) weights(90, 10)

block2():
    jump block1(v7)

block3(v9: i64):
    v10 = const 1
    v11 = iadd v9, v10
    jump block0(v11, v1)
";
        let original = leones_ir::parse(src).unwrap();
        let passes = leones_opt::passes_named(&["peel"]).unwrap();
        let (mut peeled, _) = leones_opt::optimize(&original, &passes, &Default::default()).unwrap();
        assert_eq!(peeled.blocks.len(), 8);
        count_iterations(&mut peeled, 0x1000, Some(0x2000)).expect("a tier guard");
        leones_ir::verify(&peeled).expect("verifies");
        let counting: Vec<usize> = (0..peeled.blocks.len())
            .filter(|&b| peeled.blocks[b].insts.iter().any(|i| matches!(i.op, Op::Store(..))))
            .collect();
        assert_eq!(counting, vec![4], "{}", leones_ir::print(&peeled));
    }
}
