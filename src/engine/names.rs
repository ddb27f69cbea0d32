//! # Names for compiled code: what `perf` and gdb show
//!
//! Every unit gets a *label* when it is compiled, handed to the backend as
//! [`UnitOptions::label`](leones_backend_llvm::UnitOptions::label):
//!
//! ```text
//! leones <kind>.<tier> <where> (<trace>)
//! leones loop.optimized compute:7 (loop2814749767106567)
//! leones bridge.quick compute:7 (bridge_to_loop2814749767106567)
//! leones region.quick compute:7 (loop2814749767106567)
//! ```
//!
//! - `kind` is `loop` (a recorded loop), `bridge` (a side exit's bridge) or `region`
//!   (a loop re-formed with its arms, see trace merging): a loop unit compiled while
//!   its header already has a compiled loop is a region replacing it;
//! - `tier` is the LLVM [`Level`] it was compiled at (`quick` / `optimized`);
//! - `where` is the loop header the unit belongs to (a bridge's and a region's is their
//!   root loop's), named by the host's [`LocationNamer`] — pylite says
//!   `function:line` — or `loc<N>` (the raw [`Location`]) without one;
//! - `trace` is the trace's name, as `LEONES_LOG=trace` prints it.
//!
//! The label is what the perf map says (see [`leones_backend_llvm::perfmap`]). The
//! entry's symbol, which gdb shows, stays `leones_unitN` (symbols are recycled, see
//! the backend); with gdb support on, the log says which label each symbol has now.
//!
//! Both are switched on per engine, by the host ([`EngineConfig::perf_map`],
//! [`EngineConfig::gdb`]) or the environment (`LEONES_LOG=perf`, `LEONES_LOG=gdb`); a
//! profiler that cannot be set up is reported in the log (stderr by default) and the
//! engine runs without it. `docs/profiling.md` has the commands.

use super::{Backend, Engine, EngineConfig, Level, Location, UnitKind};
use leones_backend_llvm::CompiledUnit;

/// A host's name for a [`Location`] (a loop header), e.g. `compute:7`.
pub type LocationNamer = Box<dyn Fn(Location) -> String>;

/// Which profilers an engine sets up.
#[derive(Copy, Clone, Debug)]
pub(super) struct Profilers {
    perf_map: bool,
    gdb: bool,
}

impl Profilers {
    /// What `config` asks for, from code or from `LEONES_LOG`.
    pub(super) fn of(config: &EngineConfig) -> Profilers {
        Profilers {
            perf_map: config.perf_map || config.log.perf,
            gdb: config.gdb || config.log.gdb,
        }
    }
}

impl Engine {
    /// Names loop headers in the labels of compiled units (see the [module
    /// docs](self)); `None` (the default) names them `loc<N>`.
    pub fn set_location_namer(&mut self, namer: Option<LocationNamer>) {
        self.location_namer = namer;
    }

    /// The host's name for `loc`, or `loc<N>`.
    pub fn location_name(&self, loc: Location) -> String {
        match &self.location_namer {
            Some(name) => name(loc),
            None => format!("loc{}", loc.0),
        }
    }

    /// The label of a unit of `kind` rooted at `root`, compiled from the trace named
    /// `trace` at `level` (`None`: the backend's default).
    pub(super) fn unit_label(&self, kind: UnitKind, root: Location, trace: &str, level: Option<Level>) -> String {
        let kind = match kind {
            UnitKind::Bridge => "bridge",
            // A region: its tree has merged arms, or arms are being merged (a loop's
            // tier-up recompilation stays a loop).
            UnitKind::Loop if self.trees.get(&root).is_some_and(|t| t.is_region()) => "region",
            UnitKind::Loop => "loop",
        };
        let tier = level
            .or(self.backend.as_ref().map(|b| b.level()))
            .map_or("none", Level::name);
        format!("leones {kind}.{tier} {} ({trace})", self.location_name(root))
    }

    /// With gdb support on, logs which symbol gdb will show for `unit` and its label
    /// (`; gdb: leones_unit3 is leones loop.optimized compute:7 (loop42)`): gdb names
    /// a JIT frame by its symbol only.
    pub(super) fn announce_to_debugger(&mut self, unit: &CompiledUnit) {
        if self.backend.as_ref().is_some_and(Backend::debugger_support) {
            self.emit_log(&format!("; gdb: {} is {}", unit.symbol, unit.label));
        }
    }

    /// Switches on the profilers asked for. Failures are logged and leave the engine
    /// running without that profiler.
    pub(super) fn enable_profilers(&mut self, wanted: Profilers) {
        let Some(backend) = self.backend.as_mut() else { return };
        let mut failures = Vec::new();
        if wanted.perf_map {
            if let Err(e) = backend.enable_perf_map() {
                failures.push(format!("; perf map off: {e}"));
            }
        }
        if wanted.gdb {
            if let Err(e) = backend.enable_debugger_support() {
                failures.push(format!("; gdb support off: {e}"));
            }
        }
        for f in failures {
            self.emit_log(&f);
        }
    }
}
