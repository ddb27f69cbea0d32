//! # Pictures of trace trees: what the engine built, with its real counts
//!
//! Per root location the engine keeps a tree (the loop's recording, its merged arms, the
//! exits per recorded guard, a native iteration counter) and per unit its kind, root
//! and bridge entry counter. [`Engine::tree_graphs`] reads that state into one
//! [`TreeGraph`] per root — the installed loop or region unit, its live bridges (which
//! guard of which parent each hangs off), the region's arms (where each left and where
//! it rejoined), the exits taken per guard, and the units retired so far — and
//! [`TreeGraph::to_dot`] draws it ([`dot`]); [`Engine::write_graphs`] writes the files
//! and renders them with Graphviz when it is installed ([`files`]).
//!
//! ## Invariants
//!
//! - **Every count is a counter, never an estimate.** Loop entries and iterations are
//!   the tree's, bridge entries are the counters native code increments (their sum over
//!   a tree's live bridges is what [`EngineStats::bridge_entries`] sums), exits are
//!   counted per (unit, guard) by [`History::count_exit`] where the engine counts
//!   `EngineStats::exits`. An arm's numbers are the profile frozen when it was recorded
//!   (a merged arm is a branch in native code, which counts nothing) and are labelled
//!   so.
//! - **Reading never changes the engine.** Building a graph only loads counters.
//! - **History stays small.** A retired unit leaves a [`RetiredUnit`] summary; only the
//!   latest [`RETIRED_KEPT`] per root are kept, the others are only counted.
//!
//! The engine's hooks are three one-liners: [`History::bridge_attached`] when a bridge
//! is wired, [`History::count_exit`] per exit, [`Engine::note_retired`] before a unit
//! is removed.

pub mod dot;
pub mod files;

use super::*;
use leones_ir::SnapshotId;

pub use files::{render_svg, GraphsWritten, Graphviz, GraphvizError};

/// Retired-unit summaries kept per root (older ones are only counted).
pub const RETIRED_KEPT: usize = 32;

/// What the engine remembers only for pictures: bridge parents, exits per guard, and
/// the units it retired.
#[derive(Default)]
pub(super) struct History {
    /// Each live bridge: the unit and guard it is attached to.
    attached: HashMap<BUnit, (BUnit, GuardId)>,
    /// Exits handed back to the host, per live unit and guard.
    exits: HashMap<(BUnit, GuardId), u64>,
    /// Per root: the latest retired units (oldest first) and how many were dropped.
    retired: HashMap<Location, (Vec<RetiredUnit>, u64)>,
}

impl History {
    /// `bridge` was attached to `guard` of `parent`.
    pub(super) fn bridge_attached(&mut self, bridge: BUnit, parent: BUnit, guard: GuardId) {
        self.attached.insert(bridge, (parent, guard));
    }

    /// Native code left `unit` through `guard` (one more exit handed to the host).
    pub(super) fn count_exit(&mut self, unit: BUnit, guard: GuardId) {
        *self.exits.entry((unit, guard)).or_insert(0) += 1;
    }
}

/// A guard's exits handed back to the interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitCount {
    /// The guard's id in its unit.
    pub guard: u32,
    /// Its kind (`guard_true`, `guard_class`, ...).
    pub kind: &'static str,
    /// Where the host resumes: the innermost frame's name and pc.
    pub at: String,
    pub count: u64,
}

/// A live compiled unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitNode {
    /// The backend's unit id.
    pub unit: u32,
    /// Its trace's name (`loop…`, `bridge_to_…`, a region's name).
    pub name: String,
    /// Its machine-code symbol.
    pub symbol: String,
    /// The LLVM level it was compiled at (`quick`, `optimized`).
    pub tier: String,
    /// Bytes of machine code (`.text*` sections).
    pub code_bytes: u64,
    /// Exits per guard, most taken first (guards never taken are left out).
    pub exits: Vec<ExitCount>,
}

/// A live bridge and where it hangs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeNode {
    pub node: UnitNode,
    /// The unit and guard it is attached to (`None`: not known, never drawn as such).
    pub parent: Option<(u32, u32)>,
    /// That guard's kind (`guard_class`, ...).
    pub guard_kind: &'static str,
    /// Where that guard resumes the host.
    pub at: String,
    /// Times native code entered it (its own counter).
    pub entries: u64,
}

/// Where an arm went back into its region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejoin {
    /// It ran to the loop header.
    Header,
    /// It rejoined merge point `point` of piece `piece` (0 = the root recording).
    MergePoint { piece: usize, point: usize, at: String },
}

/// An arm of a region: a path recorded from a guard of a piece and merged back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmNode {
    /// Its recording's name.
    pub name: String,
    /// Its piece number (the root is piece 0, arms count from 1).
    pub piece: usize,
    /// The piece and recorded guard ordinal it leaves from.
    pub from: (usize, u32),
    /// Where that guard's path begins in the host.
    pub at: String,
    pub rejoin: Rejoin,
    /// In the installed region (else pending: recorded, waiting for the next re-forming).
    pub merged: bool,
    /// The profile when it was recorded: exits of its guard, iterations that passed it.
    pub taken_when_recorded: u32,
    pub passed_when_recorded: u32,
}

/// A unit the engine removed (a region replaced it, it faulted, or it failed to wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetiredUnit {
    pub unit: u32,
    pub name: String,
    pub kind: UnitKind,
    pub tier: String,
    pub code_bytes: u64,
    /// A bridge's entries while it lived (`None` for loops).
    pub entries: Option<u64>,
    /// Exits it handed to the host while it lived.
    pub exits: u64,
    /// The unit and guard a bridge hung off.
    pub parent: Option<(u32, u32)>,
}

/// One root's tree, as [`Engine::tree_graphs`] reads it; [`TreeGraph::to_dot`] draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeGraph {
    /// The root recording's name (`loop<location>`): the file name.
    pub root: String,
    pub location: Location,
    /// Where the loop header is in the host.
    pub header: String,
    /// The installed loop or region (`None` after a native fault retired it).
    pub unit: Option<UnitNode>,
    /// Native entries of the loop ([`Engine::enter`] calls that ran it).
    pub entries: u64,
    /// Native iterations (`None`: not counted, as with `merge=off`).
    pub iterations: Option<u64>,
    pub bridges: Vec<BridgeNode>,
    /// Arms in recording order.
    pub arms: Vec<ArmNode>,
    /// The latest retired units, oldest first.
    pub retired: Vec<RetiredUnit>,
    /// Retired units not kept (only counted).
    pub retired_dropped: u64,
}

impl TreeGraph {
    /// Whether the installed unit is a region (the root with merged arms).
    pub fn is_region(&self) -> bool {
        self.arms.iter().any(|a| a.merged)
    }
}

/// `name@pc` of the innermost frame of `snap` in `trace`.
fn position(trace: &Trace, snap: SnapshotId) -> String {
    let s = trace.snapshot(snap);
    s.frames.last().map_or_else(
        || "?".to_string(),
        |f| {
            let name = trace.frames.get(f.frame.index()).map_or("?", |d| d.name.as_str());
            format!("{name}@{}", f.pc)
        },
    )
}

/// The kind and resume position of guard `guard` of `trace`.
fn guard_site(trace: &Trace, guard: GuardId) -> (&'static str, String) {
    match trace.guards().get(guard.index()) {
        Some(g) => match &trace.blocks[g.block.index()].insts[g.inst].op {
            Op::Guard(kind, _) => (kind.name(), position(trace, g.snapshot)),
            _ => ("guard", position(trace, g.snapshot)),
        },
        None => ("guard", "?".to_string()),
    }
}

/// The `k`th merge point of `trace`'s first block, where it is in the host.
fn merge_point_position(trace: &Trace, k: usize) -> String {
    let mut snapshots = trace.blocks[0].insts.iter().filter_map(|i| match i.op {
        Op::MergePoint(s) => Some(s),
        _ => None,
    });
    snapshots.nth(k).map_or_else(|| "?".to_string(), |s| position(trace, s))
}

impl Engine {
    /// Every compiled root's tree with its counts, ordered by root name.
    pub fn tree_graphs(&self) -> Vec<TreeGraph> {
        let mut out: Vec<TreeGraph> = self.trees.keys().map(|&root| self.tree_graph(root)).collect();
        out.sort_by(|a, b| a.root.cmp(&b.root));
        out
    }

    fn tree_graph(&self, root: Location) -> TreeGraph {
        let tree = &self.trees[&root];
        let header = tree
            .root
            .trace
            .guards()
            .first()
            .map_or_else(|| "?".to_string(), |g| position(&tree.root.trace, g.snapshot));
        let mut bridges: Vec<BridgeNode> = self
            .units
            .iter()
            .filter(|(_, m)| m.root == root && m.kind == UnitKind::Bridge)
            .filter_map(|(&u, m)| {
                let parent = self.history.attached.get(&u).copied();
                let (guard_kind, at) = parent
                    .and_then(|(p, g)| self.backend.as_ref()?.trace(p).map(|t| guard_site(t, g)))
                    .unwrap_or(("guard", "?".to_string()));
                Some(BridgeNode {
                    node: self.unit_node(u)?,
                    parent: parent.map(|(p, g)| (p.0, g.index() as u32)),
                    guard_kind,
                    at,
                    entries: m.counter.map_or(0, |c| self.counters[c].load(Ordering::Relaxed)),
                })
            })
            .collect();
        bridges.sort_by_key(|b| (std::cmp::Reverse(b.entries), b.node.unit));
        let arms = (1..=tree.arms.len())
            .map(|piece| {
                let a = &tree.arms[piece - 1];
                let at = tree
                    .recorded_guard((a.parent, a.guard))
                    .map_or_else(|| "?".to_string(), |(t, g)| position(t, g.snapshot));
                let rejoin = match tree.rejoins(&a.rec) {
                    None => Rejoin::Header,
                    Some((q, point)) => Rejoin::MergePoint {
                        piece: q,
                        point,
                        at: merge_point_position(&tree.piece(q).trace, point),
                    },
                };
                ArmNode {
                    name: a.rec.trace.name.clone(),
                    piece,
                    from: (a.parent, a.guard),
                    at,
                    rejoin,
                    merged: piece <= tree.merged,
                    taken_when_recorded: a.weights.0,
                    passed_when_recorded: a.weights.1,
                }
            })
            .collect();
        let (retired, retired_dropped) = self.history.retired.get(&root).cloned().unwrap_or_default();
        TreeGraph {
            root: tree.root.trace.name.clone(),
            location: root,
            header,
            unit: self.loops.get(&root).and_then(|l| self.unit_node(l.unit)),
            entries: tree.entries,
            iterations: (self.params.merge != 0).then(|| tree.iterations()),
            bridges,
            arms,
            retired,
            retired_dropped,
        }
    }

    /// A live unit as drawn (`None` if the backend does not know it).
    fn unit_node(&self, unit: BUnit) -> Option<UnitNode> {
        let backend = self.backend.as_ref()?;
        let (compiled, trace) = (backend.unit(unit)?, backend.trace(unit)?);
        let mut exits: Vec<ExitCount> = self
            .history
            .exits
            .iter()
            .filter(|((u, _), _)| *u == unit)
            .map(|(&(_, g), &count)| {
                let (kind, at) = guard_site(trace, g);
                ExitCount {
                    guard: g.index() as u32,
                    kind,
                    at,
                    count,
                }
            })
            .collect();
        exits.sort_by_key(|e| (std::cmp::Reverse(e.count), e.guard));
        Some(UnitNode {
            unit: unit.0,
            name: trace.name.clone(),
            symbol: compiled.symbol.clone(),
            tier: format!("{:?}", compiled.level).to_lowercase(),
            code_bytes: compiled.code_bytes,
            exits,
        })
    }

    /// Keeps a summary of `unit` before it is removed (the engine calls this first
    /// thing in `retire`), and forgets its exits and parent.
    pub(super) fn note_retired(&mut self, unit: BUnit) {
        let Some(meta) = self.units.get(&unit) else { return };
        let (root, kind) = (meta.root, meta.kind);
        let entries = meta.counter.map(|c| self.counters[c].load(Ordering::Relaxed));
        let node = self.unit_node(unit);
        let h = &mut self.history;
        let parent = h.attached.remove(&unit).map(|(p, g)| (p.0, g.index() as u32));
        let mut exits = 0;
        h.exits.retain(|&(u, _), n| {
            exits += if u == unit { *n } else { 0 };
            u != unit
        });
        let Some(node) = node else { return };
        let (kept, dropped) = h.retired.entry(root).or_default();
        if kept.len() == RETIRED_KEPT {
            kept.remove(0);
            *dropped += 1;
        }
        kept.push(RetiredUnit {
            unit: node.unit,
            name: node.name,
            kind,
            tier: node.tier,
            code_bytes: node.code_bytes,
            entries,
            exits,
            parent,
        });
    }
}
