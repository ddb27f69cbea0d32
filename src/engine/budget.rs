//! # The long tail: a code budget, eviction of cold units, and when to stop compiling
//!
//! A long-running program eventually makes every counter fire: left alone, a JIT
//! compiles more and more rarely-used code. Three things bound it.
//!
//! **Counters decay** (the tracer's `decay` parameter): a location warm long ago does
//! not trigger a recording today.
//!
//! **A code budget** (`code_budget`, KiB of machine code in installed units; 0 = no
//! limit). When an installed unit takes the live code past it, the engine evicts cold
//! units until it is back under three quarters of the budget (the slack keeps one new
//! unit from evicting one old unit every time). Cold = least recently entered: every
//! unit has a use counter — a loop's native iterations and entries, a bridge's entry
//! counter (both counted by native code) — and the engine notes, per unit, when it was
//! installed and each eviction scan that saw its counter move. Units that were
//! installed or seen moving longest ago go first, the less used first among equals;
//! the unit just installed (and its loop) stays. Evicting a loop takes its whole
//! tree (its bridges jump to it; its region and arms describe it) and lets the
//! location be recorded again if it gets hot again; evicting a bridge resets its exit
//! slot to the default exit. Nothing is ever flushed wholesale.
//!
//! **A policy** decides whether new recordings may start at all: the parameters
//! `stop_after_units` (units installed) and `stop_after_ms` (wall time since the
//! engine started) — the talk's "call `pypyjit.disable()` after warm-up" advice made a
//! parameter — and a host hook ([`Engine::set_compile_policy`]) that sees the same
//! numbers. A stopped JIT keeps running the code it has; jobs in flight still land.
//! [`Engine::disable_compilation`] stops it by hand (and `enable_compilation` undoes
//! that, but not a limit that was reached).

use super::*;
use std::time::Duration;

/// What a compile policy hook sees.
#[derive(Copy, Clone, Debug)]
pub struct CompileView {
    /// Units installed so far (loops, bridges, regions; recompilations not counted).
    pub units: u64,
    /// Wall time since the engine was created.
    pub elapsed: Duration,
    /// Machine-code bytes of the units installed now.
    pub live_code_bytes: u64,
}

/// The host's compile policy: `true` while new recordings may start.
pub type CompilePolicy = Box<dyn FnMut(&CompileView) -> bool>;

/// Budget bookkeeping and the compile switch (see the [module docs](self)).
pub(super) struct Policy {
    start: Instant,
    /// Stopped by the host.
    disabled: bool,
    /// Stopped for good by `stop_after_units` / `stop_after_ms`.
    exhausted: bool,
    hook: Option<CompilePolicy>,
    /// Per unit: its use count when last looked at, and the tick it was installed or
    /// last seen to have moved.
    seen: HashMap<BUnit, (u64, u64)>,
    /// Ticks at every install and every eviction scan.
    clock: u64,
}

impl Policy {
    pub(super) fn new() -> Policy {
        Policy {
            start: Instant::now(),
            disabled: false,
            exhausted: false,
            hook: None,
            seen: HashMap::default(),
            clock: 0,
        }
    }

    /// Wall time since the engine was created.
    pub(super) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

/// An eviction candidate: a loop's whole tree or one bridge.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Victim {
    Tree(Location),
    Bridge(BUnit),
}

impl Engine {
    /// Whether a new recording may start now (see the [module docs](self)).
    pub(super) fn may_compile(&mut self) -> bool {
        if self.policy.disabled || self.policy.exhausted {
            return false;
        }
        let view = self.compile_view();
        let p = &self.params;
        if (p.stop_after_units != 0 && view.units >= u64::from(p.stop_after_units))
            || (p.stop_after_ms != 0 && view.elapsed >= Duration::from_millis(p.stop_after_ms.into()))
        {
            self.policy.exhausted = true;
            if self.log.any() {
                self.emit_log(&format!(
                    "; compilation stopped after {} units, {:?} (stop_after_units / stop_after_ms)",
                    view.units, view.elapsed
                ));
            }
            return false;
        }
        self.policy.hook.as_mut().is_none_or(|h| h(&view))
    }

    fn compile_view(&self) -> CompileView {
        let s = &self.stats;
        CompileView {
            units: s.loops_compiled + s.bridges_attached + s.regions_compiled,
            elapsed: self.policy.elapsed(),
            live_code_bytes: self.live_code_bytes,
        }
    }

    /// Installs a hook asked before each new recording starts; `false` = not now.
    ///
    /// ```
    /// # use leones::engine::{Engine, EngineConfig};
    /// # use leones_tracer::{Params, Registry};
    /// let mut engine = Engine::with_config(Registry::new(), EngineConfig::new(Params::default())).unwrap();
    /// // Compile during the first two seconds only, and at most 500 units.
    /// engine.set_compile_policy(Some(Box::new(|v| v.elapsed.as_secs() < 2 && v.units < 500)));
    /// ```
    pub fn set_compile_policy(&mut self, hook: Option<CompilePolicy>) {
        self.policy.hook = hook;
    }

    /// Stops new recordings (compiled code keeps running); the host's
    /// `pypyjit.disable()`.
    pub fn disable_compilation(&mut self) {
        self.policy.disabled = true;
    }

    /// Undoes [`Engine::disable_compilation`] (not a `stop_after_*` limit).
    pub fn enable_compilation(&mut self) {
        self.policy.disabled = false;
    }

    /// Machine-code bytes of the units installed now.
    pub fn live_code_bytes(&self) -> u64 {
        self.live_code_bytes
    }

    /// The use count of installed unit `u`: native iterations and entries of a loop
    /// unit, entries of a bridge.
    fn uses(&self, u: BUnit, meta: &UnitMeta) -> u64 {
        match meta.kind {
            UnitKind::Bridge => meta.counter.map_or(0, |c| self.counters[c].load(Ordering::Relaxed)),
            UnitKind::Loop => self
                .trees
                .get(&meta.root)
                .filter(|_| self.loops.get(&meta.root).is_some_and(|l| l.unit == u))
                .map_or(0, |t| t.iterations.load(Ordering::Relaxed) + t.entries),
        }
    }

    /// Unit `u` was just installed: it counts as just used.
    pub(super) fn note_installed(&mut self, u: BUnit) {
        self.policy.clock += 1;
        self.policy.seen.insert(u, (0, self.policy.clock));
    }

    /// Evicts cold units other than `keep` (just installed) while the live code is
    /// over `code_budget`.
    pub(super) fn enforce_budget(&mut self, keep: BUnit) {
        let budget = u64::from(self.params.code_budget) * 1024;
        if budget == 0 || self.live_code_bytes <= budget {
            return;
        }
        self.policy.clock += 1;
        let scan = self.policy.clock;
        let mut candidates: Vec<(u64, u64, Victim)> = Vec::new();
        let keep_root = self.units.get(&keep).map(|k| k.root);
        for (&u, meta) in &self.units {
            let uses = self.uses(u, meta);
            let entry = self.policy.seen.entry(u).or_insert((uses, scan));
            if entry.0 != uses {
                *entry = (uses, scan);
            }
            let last = entry.1;
            if u == keep || (meta.kind == UnitKind::Loop && keep_root == Some(meta.root)) {
                // The new unit, or the loop a new bridge of it jumps to.
                continue;
            }
            let victim = match meta.kind {
                UnitKind::Bridge => Victim::Bridge(u),
                // Only the installed loop unit stands for its tree (a unit being
                // replaced goes with its replacement's landing).
                UnitKind::Loop if self.loops.get(&meta.root).is_some_and(|l| l.unit == u) => Victim::Tree(meta.root),
                UnitKind::Loop => continue,
            };
            candidates.push((last, uses, victim));
        }
        self.policy.seen.retain(|u, _| self.units.contains_key(u));
        candidates.sort_by_key(|&(last, uses, _)| (last, uses));
        let target = budget / 4 * 3;
        for (_, _, victim) in candidates {
            if self.live_code_bytes <= target {
                break;
            }
            self.evict(victim);
        }
    }

    fn evict(&mut self, victim: Victim) {
        match victim {
            Victim::Bridge(u) if self.units.contains_key(&u) => {
                self.retire(u);
                self.stats.evictions += 1;
            }
            Victim::Bridge(_) => {}
            Victim::Tree(root) => self.stats.evictions += self.remove_tree(root) as u64,
        }
        self.forget_exits_of_retired_units();
    }
}
