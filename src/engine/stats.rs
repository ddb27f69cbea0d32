//! # Counters, the summary and the log
//!
//! The engine's own counters ([`EngineStats`]), the tracer's (with the engine's compile
//! times and code bytes), the `LEONES_LOG=summary` text and where log lines go.

use super::*;

/// The engine's own counters (the tracer's are in [`Engine::tracer_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Loop units compiled and installed.
    pub loops_compiled: u64,
    /// Bridge units compiled and attached to their exit slot.
    pub bridges_attached: u64,
    /// Attached bridges whose exit held virtual objects (rebuilt at the bridge's entry).
    pub bridges_from_virtuals: u64,
    /// Bridges recorded that could not be adapted to their exit's values (the recorded
    /// entry does not match the exit's slots or types; not attached, never recorded
    /// again). Exits holding virtual objects are adapted (the bridge allocates them).
    pub bridges_unattachable: u64,
    /// Calls of [`Engine::enter`] that ran native code.
    pub loop_entries: u64,
    /// Times native code entered an attached bridge (counted by the bridge itself).
    pub bridge_entries: u64,
    /// Exits handed back to the host (interrupts included).
    pub exits: u64,
    /// Exits through `guard_no_interrupt` with the flag set.
    pub interrupts: u64,
    /// Exits that left from a bridge unit.
    pub bridge_exits: u64,
    /// Recorded traces that failed the engine's verification.
    pub verify_failures: u64,
    /// Optimizer errors.
    pub opt_failures: u64,
    /// Backend errors (compile, attach, link).
    pub backend_failures: u64,
    /// Native faults (see [`EngineError::Fault`]).
    pub native_faults: u64,
    /// Machine-code bytes compiled, all units ever installed (the backend's
    /// `CompiledUnit::code_bytes`: the object files' code sections). Not reduced when
    /// a unit is retired.
    pub code_bytes: u64,
    /// Regions compiled (a loop re-formed with its arms; each replaces the loop unit).
    pub regions_compiled: u64,
    /// Arms merged into regions.
    pub arms_merged: u64,
    /// Arms that could not be merged (their exits get plain bridges).
    pub arms_refused: u64,
    /// Units removed because a region replaced them.
    pub units_retired: u64,
    /// Units recompiled at the engine's level and swapped in (tier-ups).
    pub tier_ups: u64,
    /// Tier-ups put off because the tree had pending arms: the arms were folded into
    /// a new first-tier region first (which tiers up after its own wait).
    pub tier_ups_deferred: u64,
    /// Rare hot exits of a tree running tiered-up code that got a plain bridge rather
    /// than an arm (an arm would re-form the region and pay the tier-up again).
    pub rare_exits_bridged: u64,
    /// Jobs handed to the compiler thread.
    pub background_jobs: u64,
    /// Units evicted to stay under `code_budget`.
    pub evictions: u64,
    /// Machine-code bytes of the units installed now (`code_bytes` is all ever).
    pub live_code_bytes: u64,
    /// The most live code bytes after any install (and the evictions it caused).
    pub peak_live_code_bytes: u64,
    /// Hot exits that recorded nothing because their tree had `max_bridges` bridges.
    pub exits_capped: u64,
    /// Trees given up (units removed, loop blacklisted): at their bridge cap they
    /// exited to the interpreter too often (`give_up_exits`).
    pub trees_given_up: u64,
    /// Of those, trees given up because their entries ran too few iterations each
    /// (`short_loop`).
    pub short_loops_given_up: u64,
    /// Microseconds the compiler thread spent warming LLVM up (`llvm_warm_up`) before
    /// its first job: one-time set-up, not counted in any unit's compile time. Zero
    /// while it runs, and without it.
    pub llvm_warm_up_us: u64,
}

impl Engine {
    /// The engine's counters.
    pub fn stats(&self) -> EngineStats {
        let mut s = self.stats.clone();
        s.live_code_bytes = self.live_code_bytes;
        s.llvm_warm_up_us = self
            .compiler
            .as_ref()
            .and_then(leones_backend_llvm::Compiler::warm_up_time)
            .map_or(0, |d| d.as_micros() as u64);
        s.bridge_entries = self
            .units
            .values()
            .filter_map(|m| m.counter)
            .map(|c| self.counters[c].load(Ordering::Relaxed))
            .sum();
        s
    }

    /// The tracer's counters (recordings, aborts by reason, blacklisted, guard
    /// failures) with the engine's compile times.
    pub fn tracer_stats(&self) -> &Stats {
        self.hot.stats()
    }

    /// The summary `LEONES_LOG=summary` prints.
    pub fn summary(&self) -> String {
        let t = self.hot.stats();
        let e = self.stats();
        // The tracer's summary ends with code bytes, which the engine adds per unit.
        let mut s = t.summary();
        let _ = writeln!(
            s,
            "  units           {} loops, {} bridges",
            e.loops_compiled, e.bridges_attached
        );
        let _ = writeln!(
            s,
            "  regions         {} ({} arms merged, {} refused, {} units retired, {} tier-ups, {} deferred for pending arms, {} rare exits of tiered trees bridged)",
            e.regions_compiled,
            e.arms_merged,
            e.arms_refused,
            e.units_retired,
            e.tier_ups,
            e.tier_ups_deferred,
            e.rare_exits_bridged
        );
        let _ = writeln!(
            s,
            "  background      {} jobs; live code {} bytes (peak {}), {} units evicted; LLVM warm-up {:.3} ms",
            e.background_jobs,
            e.live_code_bytes,
            e.peak_live_code_bytes,
            e.evictions,
            e.llvm_warm_up_us as f64 / 1e3
        );
        let _ = writeln!(s, "  unattachable    {}", e.bridges_unattachable);
        let _ = writeln!(
            s,
            "  bridge cap      {} hot exits capped, {} loops given up ({} too short per entry)",
            e.exits_capped, e.trees_given_up, e.short_loops_given_up
        );
        let _ = writeln!(s, "  loop entries    {}", e.loop_entries);
        let _ = writeln!(s, "  bridge entries  {}", e.bridge_entries);
        let _ = writeln!(s, "  exits           {}", e.exits);
        let _ = writeln!(s, "  bridge exits    {}", e.bridge_exits);
        let _ = writeln!(s, "  interrupts      {}", e.interrupts);
        let _ = writeln!(
            s,
            "  failures        verify {}, optimize {}, backend {}, native {}",
            e.verify_failures, e.opt_failures, e.backend_failures, e.native_faults
        );
        s
    }

    /// Writes the summary to the log (stderr or the configured file).
    pub fn print_summary(&mut self) {
        let s = self.summary();
        self.emit_log(s.trim_end());
    }

    pub(super) fn emit_log(&mut self, text: &str) {
        match self.log_file.as_mut() {
            Some(f) => drop(writeln!(f, "{text}")),
            None => eprintln!("{text}"),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.log.summary {
            self.print_summary();
        }
        self.write_logged_graphs();
    }
}
