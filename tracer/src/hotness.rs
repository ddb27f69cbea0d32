//! # Hotness: when to record
//!
//! The host calls [`Hotness::tick`] each time its interpreter passes a potential loop
//! header (typically the target of a backward jump), naming the place with a
//! [`Location`] — an opaque key the host chooses (a bytecode address, `(code, pc)`
//! packed into 64 bits, ...). The answer is an [`Action`]: keep interpreting, start
//! recording now, or never again (blacklisted).
//!
//! Side exits work the same way, keyed by `(unit, guard)`: [`Hotness::exit_taken`]
//! counts failures of one guard of one compiled unit and says when to record a bridge
//! (`bridge_threshold`).
//!
//! ## Policy (all numbers from [`Params`])
//!
//! - A counter reaching its threshold answers [`Action::Record`] and restarts at 0.
//! - **Back-off**: after each abort at a key, its threshold is multiplied by `backoff`
//!   (so a location that aborts once waits `threshold * backoff` more ticks).
//! - **Blacklisting**: after `blacklist_after` aborts the key answers
//!   [`Action::Blacklisted`] forever, at the cost of one hash lookup.
//! - **Decay**: every `decay` ticks (over all keys) every counter halves, so a loop that
//!   was warm long ago does not trigger a recording today. It is lazy: each entry keeps
//!   the epoch it was last touched in and halves itself once per elapsed epoch when next
//!   touched, so decay costs O(1) per tick.
//!
//! The counters feed [`Stats`]: recordings started, loops/bridges recorded, aborts by
//! reason, blacklisted keys, guard failures.

use crate::abort::Abort;
use crate::log::Stats;
use crate::params::Params;
use leones_ir::GuardId;
use std::hash::Hash;

/// A host location (loop header); what it means is up to the host.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location(pub u64);

/// A compiled unit, as the engine numbers them (for side-exit counters).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId(pub u64);

/// What the host should do at a tick.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Not hot yet: keep interpreting.
    Interpret,
    /// Hot: start a recording here now.
    Record,
    /// This key aborted too often: never record it again.
    Blacklisted,
}

#[derive(Clone, Debug, Default)]
struct Entry {
    count: u32,
    epoch: u64,
    aborts: u32,
    blacklisted: bool,
}

/// One table of counters (loop headers, or side exits).
#[derive(Clone, Debug)]
struct Counters<K> {
    map: crate::FastHashMap<K, Entry>,
}

impl<K: Hash + Eq> Counters<K> {
    fn new() -> Self {
        Counters {
            map: crate::FastHashMap::default(),
        }
    }

    fn tick(&mut self, key: K, base: u32, epoch: u64, p: &Params) -> Action {
        let e = self.map.entry(key).or_default();
        if e.blacklisted {
            return Action::Blacklisted;
        }
        let elapsed = epoch.saturating_sub(e.epoch);
        e.count = if elapsed >= 32 { 0 } else { e.count >> elapsed };
        e.epoch = epoch;
        e.count = e.count.saturating_add(1);
        let threshold = (0..e.aborts).fold(base, |t, _| t.saturating_mul(p.backoff));
        if e.count >= threshold {
            e.count = 0;
            Action::Record
        } else {
            Action::Interpret
        }
    }

    /// Returns whether the key is now blacklisted.
    fn aborted(&mut self, key: K, p: &Params) -> bool {
        let e = self.map.entry(key).or_default();
        e.aborts += 1;
        e.count = 0;
        let newly = !e.blacklisted && e.aborts >= p.blacklist_after;
        e.blacklisted |= newly;
        newly
    }

    /// Blacklists the key; returns whether it was not already.
    fn blacklist(&mut self, key: K) -> bool {
        let e = self.map.entry(key).or_default();
        let newly = !e.blacklisted;
        e.blacklisted = true;
        newly
    }

    fn succeeded(&mut self, key: K) {
        if let Some(e) = self.map.get_mut(&key) {
            e.count = 0;
            e.aborts = 0;
        }
    }

    fn is_blacklisted(&self, key: &K) -> bool {
        self.map.get(key).is_some_and(|e| e.blacklisted)
    }
}

/// Hotness counters for loop headers and side exits; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Hotness {
    params: Params,
    loops: Counters<Location>,
    exits: Counters<(UnitId, GuardId)>,
    ticks: u64,
    stats: Stats,
}

impl Hotness {
    /// Counters with these parameters.
    pub fn new(params: Params) -> Hotness {
        Hotness {
            params,
            loops: Counters::new(),
            exits: Counters::new(),
            ticks: 0,
            stats: Stats::default(),
        }
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The counters kept so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The counters, for the engine to add its own (compile time, code bytes).
    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    fn epoch(&mut self) -> u64 {
        self.ticks += 1;
        match self.params.decay {
            0 => 0,
            d => self.ticks / u64::from(d),
        }
    }

    fn counted(&mut self, a: Action) -> Action {
        if a == Action::Record {
            self.stats.recordings += 1;
        }
        a
    }

    /// The interpreter passed loop header `loc`.
    pub fn tick(&mut self, loc: Location) -> Action {
        let epoch = self.epoch();
        let a = self.loops.tick(loc, self.params.threshold, epoch, &self.params);
        self.counted(a)
    }

    /// The recording started at `loc` aborted: back off, maybe blacklist. Returns
    /// whether `loc` is now blacklisted.
    pub fn aborted(&mut self, loc: Location, why: &Abort) -> bool {
        self.stats.count_abort(why.kind());
        let newly = self.loops.aborted(loc, &self.params);
        self.stats.blacklisted += u64::from(newly);
        newly
    }

    /// The recording started at `loc` produced a loop trace.
    pub fn recorded(&mut self, loc: Location) {
        self.stats.loops += 1;
        self.loops.succeeded(loc);
    }

    /// Whether `loc` is blacklisted.
    pub fn is_blacklisted(&self, loc: Location) -> bool {
        self.loops.is_blacklisted(&loc)
    }

    /// The engine gave up the compiled loop at `loc` (it kept leaving its code): never
    /// record it again.
    pub fn give_up(&mut self, loc: Location) {
        let newly = self.loops.blacklist(loc);
        self.stats.blacklisted += u64::from(newly);
    }

    /// Guard `guard` of `unit` failed: counts it, and says whether to record a bridge.
    pub fn exit_taken(&mut self, unit: UnitId, guard: GuardId) -> Action {
        self.stats.guard_failures += 1;
        let epoch = self.epoch();
        let a = self
            .exits
            .tick((unit, guard), self.params.bridge_threshold, epoch, &self.params);
        self.counted(a)
    }

    /// The bridge recording from `(unit, guard)` aborted. Returns whether that exit is
    /// now blacklisted (it keeps exiting to the interpreter).
    pub fn bridge_aborted(&mut self, unit: UnitId, guard: GuardId, why: &Abort) -> bool {
        self.stats.count_abort(why.kind());
        let newly = self.exits.aborted((unit, guard), &self.params);
        self.stats.blacklisted += u64::from(newly);
        newly
    }

    /// The host did not start the recording an [`Action::Record`] answer asked for
    /// (one was already under way, compiling is off, or the engine waits for more
    /// samples first): that answer no longer counts in [`Stats::recordings`], which
    /// counts recordings started.
    ///
    /// ```
    /// use leones_tracer::{Action, Hotness, Location, Params};
    /// let mut hot = Hotness::new(Params { threshold: 2, ..Params::default() });
    /// let hot_at = (1..100).find(|_| hot.tick(Location(7)) == Action::Record);
    /// assert!(hot_at.is_some());
    /// assert_eq!(hot.stats().recordings, 1);
    /// hot.record_declined(); // say, another recording was already under way
    /// assert_eq!(hot.stats().recordings, 0);
    /// ```
    pub fn record_declined(&mut self) {
        self.stats.recordings = self.stats.recordings.saturating_sub(1);
    }

    /// A bridge was recorded from `(unit, guard)`.
    pub fn bridge_recorded(&mut self, unit: UnitId, guard: GuardId) {
        self.stats.bridges += 1;
        self.exits.succeeded((unit, guard));
    }
}
