//! # Logging: what the JIT did, on request
//!
//! `LEONES_LOG` selects what to log, comma-separated, with an optional `:PATH` at the
//! end that sends the log to a file instead of stderr:
//!
//! ```text
//! LEONES_LOG=summary                 # counters at exit
//! LEONES_LOG=trace,exit              # every recorded trace, every guard failure
//! LEONES_LOG=all:/tmp/leones.log     # everything, to a file
//! ```
//!
//! | item | what |
//! |---|---|
//! | `summary` | the [`Stats`] summary, printed at exit |
//! | `trace` | each recorded trace (before optimization) |
//! | `opt` | each trace after optimization |
//! | `llvm` | the LLVM IR of each unit |
//! | `exit` | each guard failure with its resume position |
//! | `all` | all of the above |
//! | `perf` | name compiled code for `perf` in `/tmp/perf-<pid>.map` (not part of `all`) |
//! | `gdb` | register compiled code with gdb's JIT interface (not part of `all`) |
//!
//! `perf` and `gdb` switch on profiler and debugger support rather than log output
//! (the engine's `EngineConfig::perf_map` / `gdb` do the same from code); `all` leaves
//! them off because they cost time per compiled unit and `perf` writes a file in
//! `/tmp`. See `docs/profiling.md`.
//!
//! [`Stats`] is one struct of counters shared by the whole JIT. The tracer updates what
//! it owns — recordings, aborts by reason, blacklisted locations, guard failures (through
//! [`Hotness`](crate::Hotness)); the engine adds compile time per tier and code bytes.

use crate::abort::AbortKind;
use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

/// The name of the environment variable [`LogConfig::from_env`] reads.
pub const LOG_ENV: &str = "LEONES_LOG";

/// What to log and where; see the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogConfig {
    pub summary: bool,
    pub trace: bool,
    pub opt: bool,
    pub llvm: bool,
    pub exit: bool,
    /// Not output: the engine writes the perf map (`LEONES_LOG=perf`).
    pub perf: bool,
    /// Not output: the engine enables gdb's JIT interface (`LEONES_LOG=gdb`).
    pub gdb: bool,
    /// `None` means stderr.
    pub file: Option<PathBuf>,
}

/// A `LEONES_LOG` value that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown LEONES_LOG item `{item}` (known: summary, trace, opt, llvm, exit, all, perf, gdb; `:PATH` at the end for a file)"
)]
pub struct LogError {
    pub item: String,
}

impl LogConfig {
    /// Parses a `LEONES_LOG` value.
    pub fn parse(spec: &str) -> Result<LogConfig, LogError> {
        let (items, file) = match spec.split_once(':') {
            Some((items, path)) if !path.is_empty() => (items, Some(PathBuf::from(path))),
            Some((items, _)) => (items, None),
            None => (spec, None),
        };
        let mut c = LogConfig {
            file,
            ..LogConfig::default()
        };
        for item in items.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "summary" => c.summary = true,
                "trace" => c.trace = true,
                "opt" => c.opt = true,
                "llvm" => c.llvm = true,
                "exit" => c.exit = true,
                "perf" => c.perf = true,
                "gdb" => c.gdb = true,
                "all" => (c.summary, c.trace, c.opt, c.llvm, c.exit) = (true, true, true, true, true),
                _ => return Err(LogError { item: item.to_string() }),
            }
        }
        Ok(c)
    }

    /// Parses `LEONES_LOG`; unset means nothing is logged.
    pub fn from_env() -> Result<LogConfig, LogError> {
        std::env::var(LOG_ENV).map_or(Ok(LogConfig::default()), |s| LogConfig::parse(&s))
    }

    /// Whether anything at all is logged (`perf` and `gdb` are not logs).
    pub fn any(&self) -> bool {
        self.summary || self.trace || self.opt || self.llvm || self.exit
    }
}

/// The JIT's counters. See the [module docs](self) for who updates what.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Loop traces recorded successfully.
    pub loops: u64,
    /// Bridges recorded successfully.
    pub bridges: u64,
    /// Recordings started.
    pub recordings: u64,
    /// Aborted recordings, by reason.
    pub aborts: BTreeMap<AbortKind, u64>,
    /// Locations blacklisted after repeated aborts.
    pub blacklisted: u64,
    /// Guard failures (side exits taken).
    pub guard_failures: u64,
    /// Compile time by tier name (`quick`, `optimized`, ...), added by the engine.
    pub compile_time: BTreeMap<String, Duration>,
    /// Bytes of machine code emitted, added by the engine.
    pub code_bytes: u64,
}

impl Stats {
    /// Counts one abort.
    pub fn count_abort(&mut self, kind: AbortKind) {
        *self.aborts.entry(kind).or_default() += 1;
    }

    /// All aborts.
    pub fn total_aborts(&self) -> u64 {
        self.aborts.values().sum()
    }

    /// Adds compile time for a tier.
    pub fn add_compile_time(&mut self, tier: &str, d: Duration) {
        *self.compile_time.entry(tier.to_string()).or_default() += d;
    }

    /// The summary as text, one counter per line.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = self.write_summary(&mut s);
        s
    }

    /// Writes the summary.
    pub fn write_summary(&self, out: &mut impl Write) -> fmt::Result {
        writeln!(out, "leones summary")?;
        writeln!(out, "  recordings      {}", self.recordings)?;
        writeln!(out, "  loops           {}", self.loops)?;
        writeln!(out, "  bridges         {}", self.bridges)?;
        writeln!(out, "  aborts          {}", self.total_aborts())?;
        for (k, n) in &self.aborts {
            writeln!(out, "    {:<20}{n}", k.to_string())?;
        }
        writeln!(out, "  blacklisted     {}", self.blacklisted)?;
        writeln!(out, "  guard failures  {}", self.guard_failures)?;
        for (tier, d) in &self.compile_time {
            writeln!(out, "  compile {:<9} {:.3} ms", tier, d.as_secs_f64() * 1e3)?;
        }
        writeln!(out, "  code bytes      {}", self.code_bytes)
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_summary(f)
    }
}
