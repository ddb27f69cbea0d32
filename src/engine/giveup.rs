//! # Bridge caps and giving up: bounding a tree that keeps branching
//!
//! Merging handles control flow whose paths rejoin with compatible types. Paths whose
//! types differ cannot rejoin (an `int` path and a `float` path stay apart), so a
//! loop whose values change type independently in several places grows a bridge per
//! *combination*: six arguments that are each `None`, an `int` or a `float` gave one
//! loop 900 bridges (3^6 = 729 combinations, plus bridges of bridges), a compile
//! queue a second long and a program 12x slower than the interpreter. This is the
//! talk's "long tail" in its plainest form, and no profile-driven merge heuristic can
//! remove it: the paths really are different.
//!
//! So a tree's growth is bounded, as LuaJIT bounds side traces per root (`maxside`):
//!
//! ```text
//!   bridges of the tree (installed + being built) ≥ max_bridges
//!       → a hot exit records nothing: the exit goes back to the interpreter
//!   at the cap, every 1000 native iterations:
//!       exits to the interpreter > give_up_exits% of those iterations
//!       → give up: remove the tree's units, blacklist its loop header
//!       otherwise → judge the next 1000
//! ```
//!
//! Why give up rather than keep the capped tree: an exit costs microseconds (decode,
//! resume, rebuild frames and virtual objects, interpret to the header, re-enter)
//! while an interpreted iteration of a typical loop costs a few hundred nanoseconds,
//! so a tree that exits on more than a few percent of its iterations is slower than
//! not compiling at all. The interpreter is the fallback the JIT always has; giving a
//! loop back to it bounds the damage to "as fast as interpreting", never worse. The
//! loop's header is blacklisted like a location whose recordings keep aborting.
//!
//! ## Loops too short to enter
//!
//! The same arithmetic condemns a loop that exits *normally* after a few iterations
//! every time it is entered: an inner loop over a 9-item row, entered once per row
//! by an interpreted outer loop. Each entry costs a round trip (enter, exit, resume:
//! ~1 µs in pylite when this was written, ~0.26 µs since the exit path stopped
//! searching — `cargo bench -p pylite --bench exit_roundtrip`) that interpreting its
//! nine iterations never costs — on the talk's `data_driven.py` such loops (building
//! and counting its rows) ran 7x and 1.5x slower than interpreted. So once a tree has
//! been entered `short_loop_entries` times (and again at each doubling), its native
//! iterations per entry are judged:
//!
//! ```text
//!   iterations / entries < short_loop   → give up (as above)
//! ```
//!
//! A loop that an *outer* compiled loop runs is not entered from the interpreter and
//! never judged; an outer loop's trace goes through the inner loop's iterations itself.
//!
//! That window restarts whenever a unit of the tree lands, and a tree with arms
//! pending, or with a unit on the compiler thread, is not judged by it: a loop whose
//! entries exit early because its region is still forming, or its bridge is being
//! built, must not be given up for it (the talk's `fn(*row)` loop exits on
//! almost every row until its arms are merged, then runs thousands of rows per entry).
//! But an inner loop over a 9-item row forms regions too (its `if x is None` arms),
//! so by that window it was never judged while it mattered: on `data_driven.py` at a
//! tenth of its size, the row-counting phase — 2.6 ms interpreted — took 14 ms, each
//! row paying a round trip into the inner loop's tree besides the outer one's. What
//! tells the two apart is where the interpreter goes after the exit: an early exit of
//! a forming region finishes its iteration in the interpreter and comes back to the
//! loop's own header; an entry that ran the loop *to its end* goes on to another
//! loop's header first. So the engine remembers the loop of the last exit and, at the
//! next header the host reports, counts the entry as one that **left the loop** if
//! that header is another loop's; whatever is pending, and never reset:
//!
//! ```text
//!   entries that left ≥ short_loop_entries (and at each doubling), and
//!   their iterations / those entries < short_loop   → give up (as above)
//! ```
//!
//! The first window stays: an entry that ends where the host reports no other header
//! before coming back — a loop in a function that compiled code calls into the
//! interpreter through a residual call — never counts as having left, however short.
//!
//! Invariants: giving up happens while the host is handling an exit or at the next
//! loop header it reports (no native frame of the tree is live in either); jobs of
//! the tree still on the compiler thread are forgotten, so they are discarded when
//! they come back instead of installed; arms merged into a region are not bridges and
//! do not count.

use super::merge::Tree;
use super::*;

/// Native iterations per judgement of a capped tree's exit rate.
const GIVE_UP_WINDOW: u64 = 1000;

/// A capped tree's exits since its current judgement window began.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct CapWindow {
    /// The tree's native iterations when the window began.
    start: u64,
    /// Exits to the interpreter since then.
    exits: u64,
}

impl Engine {
    /// The bridges of `root`'s tree installed now.
    pub(super) fn installed_bridges(&self, root: Location) -> usize {
        self.units
            .values()
            .filter(|m| m.root == root && m.kind == UnitKind::Bridge)
            .count()
    }

    /// Whether `root`'s tree has `max_bridges` bridges, installed or being built.
    pub(super) fn at_bridge_cap(&self, root: Location) -> bool {
        let cap = self.params.max_bridges as usize;
        if cap == 0 {
            return false;
        }
        let of_root = |u: &BUnit| self.units.get(u).is_some_and(|m| m.root == root);
        let building = self.bridging.iter().filter(|(parent, _)| of_root(parent)).count();
        self.installed_bridges(root) + building >= cap
    }

    /// A hot exit of `root`'s tree recorded nothing because the tree is at its cap:
    /// from now on its exits are judged.
    pub(super) fn note_capped(&mut self, root: Location) {
        self.stats.exits_capped += 1;
        if let Some(tree) = self.trees.get_mut(&root) {
            if tree.cap.is_none() {
                tree.cap = Some(CapWindow {
                    start: tree.iterations(),
                    exits: 0,
                });
            }
        }
    }

    /// An exit of `root`'s tree went back to the interpreter: judges the tree (one
    /// lookup for both verdicts) and gives it up if either says so. Returns whether it
    /// was given up.
    pub(super) fn judge_exit(&mut self, root: Location) -> bool {
        let params = &self.params;
        // Asked only when the window is judged (at its entry counts), not on every exit.
        let in_flight = &self.in_flight;
        let growing = || in_flight.values().any(|job| job.meta.root == root);
        let Some(tree) = self.trees.get_mut(&root) else {
            return false;
        };
        let Some(verdict) = capped_verdict(tree, params).or_else(|| short_verdict(tree, params, growing)) else {
            return false;
        };
        if self.log.any() {
            let why = match verdict {
                GiveUp::Capped { exits, ran } => format!(
                    "{exits} exits in {ran} native iterations at max_bridges={}",
                    self.params.max_bridges
                ),
                GiveUp::Short { ran, entries } => format!(
                    "{ran} native iterations in {entries} entries (short_loop={})",
                    self.params.short_loop
                ),
            };
            let at = self.policy.elapsed().as_secs_f64() * 1e3;
            self.emit_log(&format!("; gave up loop {root:?}: {why}; at {at:.1} ms"));
        }
        if matches!(verdict, GiveUp::Short { .. }) {
            self.stats.short_loops_given_up += 1;
        }
        self.give_up(root);
        true
    }

    /// An entry of `root`'s tree that ran `ran` native iterations exited, and the host
    /// then reached another loop's header before `root`'s: the entry left the loop.
    /// Judges the tree's entries that left (see the module docs) and gives it up if they
    /// ran too few iterations each.
    pub(super) fn judge_left_loop(&mut self, root: Location, ran: u64) {
        let (min, first) = (
            u64::from(self.params.short_loop),
            u64::from(self.params.short_loop_entries),
        );
        let Some(tree) = self.trees.get_mut(&root) else {
            return;
        };
        tree.left.0 += 1;
        tree.left.1 += ran;
        let (entries, ran) = tree.left;
        if min == 0 || !judged_at(entries, first) || ran >= min * entries {
            return;
        }
        if self.log.any() {
            let at = self.policy.elapsed().as_secs_f64() * 1e3;
            self.emit_log(&format!(
                "; gave up loop {root:?}: {ran} native iterations in {entries} entries that left it (short_loop={min}); at {at:.1} ms"
            ));
        }
        self.stats.short_loops_given_up += 1;
        self.give_up(root);
    }

    /// Removes `root`'s tree and blacklists its loop header: the interpreter runs it.
    fn give_up(&mut self, root: Location) {
        self.remove_tree(root);
        self.forget_exits_of_retired_units();
        self.hot.give_up(root);
        self.stats.trees_given_up += 1;
    }
}

/// Why a tree is given up.
#[derive(Copy, Clone, Debug)]
enum GiveUp {
    /// At its bridge cap, `exits` to the interpreter in `ran` native iterations.
    Capped { exits: u64, ran: u64 },
    /// `ran` native iterations in `entries` entries: too few per entry.
    Short { ran: u64, entries: u64 },
}

/// A capped tree's exit rate, judged when its window is full (counts this exit).
fn capped_verdict(tree: &mut Tree, params: &Params) -> Option<GiveUp> {
    let iterations = tree.iterations();
    let w = tree.cap.as_mut()?;
    w.exits += 1;
    let ran = iterations.saturating_sub(w.start);
    if ran < GIVE_UP_WINDOW {
        return None;
    }
    let threshold = u64::from(params.give_up_exits);
    if threshold == 0 || w.exits * 100 <= threshold * ran {
        *w = CapWindow {
            start: iterations,
            exits: 0,
        };
        return None;
    }
    Some(GiveUp::Capped { exits: w.exits, ran })
}

/// A loop's native iterations per entry since a unit of its tree was last installed,
/// judged when those entries reach `short_loop_entries` or a doubling of it (see the
/// module docs). A tree still growing (bridges, arms, regions landing) keeps
/// restarting its window, and one with arms pending or a unit of it on the compiler
/// thread (`growing`: a bridge for the exit that storms, a region, a tier-up) is not
/// judged: its early exit storms are growing pains that the next unit is about to
/// remove. (pythagorean at the demo's size lost its generator loop to the interpreter
/// in ~3 runs of 10: 995 iterations in 256 entries, every time while a bridge and a
/// tier-up of the tree were being built.)
fn short_verdict(tree: &Tree, params: &Params, growing: impl FnOnce() -> bool) -> Option<GiveUp> {
    let (min, first) = (u64::from(params.short_loop), u64::from(params.short_loop_entries));
    if min == 0 || tree.arms.len() > tree.merged || tree.reforming.is_some() {
        return None;
    }
    let (entries_then, iterations_then) = tree.short_since;
    let entries = tree.entries - entries_then;
    if !judged_at(entries, first) || growing() {
        return None;
    }
    let ran = tree.iterations() - iterations_then;
    (ran < min * entries).then_some(GiveUp::Short { ran, entries })
}

/// Whether a count of `entries` is one a short loop is judged at: `first`, then each
/// doubling of it.
fn judged_at(entries: u64, first: u64) -> bool {
    entries >= first && entries.is_multiple_of(first) && (entries / first).is_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leones_tracer::recorder::{Recorded, Shape, UnitKind};

    /// A tree entered `entries` times since its last unit landed, `ran` native
    /// iterations in all.
    fn tree(entries: u64, ran: u64) -> Tree {
        let trace = leones_ir::parse("trace t\nblock0(v0: i64):\n    jump block0(v0)\n").unwrap();
        let mut t = Tree::new(Recorded {
            trace,
            kind: UnitKind::Loop,
            location: Location(1),
            entry: Shape { frames: Vec::new() },
            merge_points: Vec::new(),
            rejoined: None,
        });
        t.entries = entries;
        t.iterations.store(ran - entries, std::sync::atomic::Ordering::Relaxed);
        t
    }

    #[test]
    fn a_short_loop_is_judged_only_when_nothing_of_its_tree_is_being_built() {
        let params = Params::default();
        let first = u64::from(params.short_loop_entries);
        // ~4 iterations an entry, at the first judgement.
        let storm = tree(first, 4 * first);
        assert!(matches!(
            short_verdict(&storm, &params, || false),
            Some(GiveUp::Short { .. })
        ));
        assert!(
            short_verdict(&storm, &params, || true).is_none(),
            "a unit of it is on its way"
        );
        // Long entries are never short, growing or not.
        assert!(short_verdict(&tree(first, 100 * first), &params, || false).is_none());
    }
}
