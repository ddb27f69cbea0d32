//! # Logging: what the JIT did, on request
//!
//! `LEONES_LOG` selects what to log, comma-separated, with an optional `:PATH` at the
//! end that sends the log to a file instead of stderr:
//!
//! ```text
//! LEONES_LOG=summary                 # counters at exit
//! LEONES_LOG=trace,exit              # every recorded trace, every guard failure
//! LEONES_LOG=all:/tmp/leones.log     # everything, to a file
//! LEONES_LOG=graph:/tmp/g            # each root's tree as DOT (+ SVG) in /tmp/g
//! LEONES_LOG=summary,graph=/tmp/g:/tmp/leones.log   # graphs, and the summary to a file
//! ```
//!
//! | item | what |
//! |---|---|
//! | `summary` | the [`Stats`] summary, printed at exit |
//! | `trace` | each recorded trace (before optimization) |
//! | `opt` | each trace after optimization |
//! | `llvm` | the LLVM IR of each unit |
//! | `compile` | one line per installed unit: level, trace size, time per compile phase, code bytes, when it landed (ms since the engine started) |
//! | `exit` | each guard failure with its resume position |
//! | `all` | all of the above (not `graph`, `perf`, `gdb`) |
//! | `graph=DIR` | at exit, `DIR/<root>.dot` per compiled loop (and `.svg` when Graphviz's `dot` is on PATH): its tree of units with entry and exit counts |
//! | `graph` *last*, then `:DIR` | the same: after a bare `graph` the `:` part is the graph directory, not the log file |
//! | `perf` | name compiled code for `perf` in `/tmp/perf-<pid>.map` |
//! | `gdb` | register compiled code with gdb's JIT interface |
//!
//! The grammar is `ITEM(,ITEM)*[:PATH]`, split at the first `:`; so `graph=DIR` cannot
//! name a directory containing `,` or `:` (use `graph:DIR`, whose `DIR` is everything
//! after the first `:`). A bare `graph` without a directory, an empty directory, two
//! graph directories and unknown items are errors.
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
    pub compile: bool,
    pub exit: bool,
    /// Not output: the engine writes the perf map (`LEONES_LOG=perf`).
    pub perf: bool,
    /// Not output: the engine enables gdb's JIT interface (`LEONES_LOG=gdb`).
    pub gdb: bool,
    /// `None` means stderr.
    pub file: Option<PathBuf>,
    /// Where to write each root's graph (`graph=DIR`); `None`: no graphs.
    pub graph: Option<PathBuf>,
}

/// A `LEONES_LOG` value that could not be parsed: the offending item and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("LEONES_LOG item `{item}`: {why} (items: summary, trace, opt, llvm, compile, exit, all, perf, gdb, graph=DIR; `:PATH` at the end for a log file, or `graph:DIR`)")]
pub struct LogError {
    pub item: String,
    pub why: String,
}

impl LogConfig {
    /// Parses a `LEONES_LOG` value (grammar in the [module docs](self)).
    pub fn parse(spec: &str) -> Result<LogConfig, LogError> {
        let (items, path) = match spec.split_once(':') {
            Some((items, path)) => (items, Some(path)),
            None => (spec, None),
        };
        let err = |item: &str, why: &str| LogError {
            item: item.to_string(),
            why: why.to_string(),
        };
        let items: Vec<&str> = items.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        // After a bare `graph` as the last item, the `:` part is the graph directory.
        let path_is_graph = items.last() == Some(&"graph");
        let mut c = LogConfig::default();
        match path {
            Some(p) if path_is_graph && p.is_empty() => return Err(err("graph:", "empty graph directory")),
            Some(p) if path_is_graph => c.graph = Some(PathBuf::from(p)),
            Some(p) if !p.is_empty() => c.file = Some(PathBuf::from(p)),
            _ => {}
        }
        for (i, &item) in items.iter().enumerate() {
            match item.split_once('=') {
                Some(("graph", "")) => return Err(err(item, "empty graph directory")),
                Some(("graph", dir)) if c.graph.is_none() => c.graph = Some(PathBuf::from(dir)),
                Some(("graph", _)) => return Err(err(item, "a second graph directory")),
                Some(_) => return Err(err(item, "only `graph` takes a value")),
                None => match item {
                    "summary" => c.summary = true,
                    "trace" => c.trace = true,
                    "opt" => c.opt = true,
                    "llvm" => c.llvm = true,
                    "compile" => c.compile = true,
                    "exit" => c.exit = true,
                    "perf" => c.perf = true,
                    "gdb" => c.gdb = true,
                    "all" => {
                        (c.summary, c.trace, c.opt, c.llvm, c.compile, c.exit) = (true, true, true, true, true, true)
                    }
                    // Its directory is the `:` part, taken above.
                    "graph" if i + 1 == items.len() && path.is_some() => {}
                    "graph" => return Err(err(item, "needs a directory: `graph=DIR`, or `graph:DIR` last")),
                    _ => return Err(err(item, "unknown item")),
                },
            }
        }
        Ok(c)
    }

    /// Parses `LEONES_LOG`; unset means nothing is logged.
    pub fn from_env() -> Result<LogConfig, LogError> {
        std::env::var(LOG_ENV).map_or(Ok(LogConfig::default()), |s| LogConfig::parse(&s))
    }

    /// Whether any text is logged (`perf`, `gdb` and graphs are not log text).
    pub fn any(&self) -> bool {
        self.summary || self.trace || self.opt || self.llvm || self.compile || self.exit
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

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_and_file(spec: &str) -> (Option<PathBuf>, Option<PathBuf>) {
        let c = LogConfig::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        (c.graph, c.file)
    }

    #[test]
    fn the_path_after_the_items_is_the_log_file() {
        let c = LogConfig::parse("summary,exit:/tmp/l.log").unwrap();
        assert!(c.summary && c.exit && !c.trace);
        assert_eq!((c.graph, c.file), (None, Some(PathBuf::from("/tmp/l.log"))));
        assert_eq!(LogConfig::parse("summary:").unwrap().file, None);
        let all = LogConfig::parse("all").unwrap();
        assert!(all.summary && all.trace && all.opt && all.llvm && all.compile && all.exit);
        assert_eq!(all.graph, None, "`all` does not write graphs");
    }

    #[test]
    fn after_a_bare_graph_the_path_is_the_graph_directory() {
        assert_eq!(graph_and_file("graph:/tmp/g"), (Some("/tmp/g".into()), None));
        assert_eq!(graph_and_file("summary,graph:/tmp/g"), (Some("/tmp/g".into()), None));
        // Everything after the first `:` is the directory.
        assert_eq!(graph_and_file("graph:/tmp/a:b,c"), (Some("/tmp/a:b,c".into()), None));
        assert!(
            !LogConfig::parse("graph:/tmp/g").unwrap().any(),
            "graphs are not log text"
        );
    }

    #[test]
    fn graph_equals_dir_combines_with_a_log_file() {
        assert_eq!(
            graph_and_file("summary,graph=/tmp/g:/tmp/l.log"),
            (Some("/tmp/g".into()), Some("/tmp/l.log".into()))
        );
        assert_eq!(graph_and_file("graph=g,trace"), (Some("g".into()), None));
    }

    #[test]
    fn bad_graph_specs_are_rejected_with_the_reason() {
        for (spec, item, why) in [
            ("graph", "graph", "needs a directory"),
            ("graph,summary:/tmp/l", "graph", "needs a directory"),
            ("graph:", "graph:", "empty graph directory"),
            ("graph=", "graph=", "empty graph directory"),
            ("graph=a,graph=b", "graph=b", "a second graph directory"),
            ("graph=a,graph:b", "graph=a", "a second graph directory"),
            ("summary=1", "summary=1", "only `graph` takes a value"),
            ("sumary", "sumary", "unknown item"),
        ] {
            let e = LogConfig::parse(spec).expect_err(spec);
            assert_eq!((e.item.as_str(), e.why.contains(why)), (item, true), "{spec}: {e}");
            assert!(e.to_string().contains("graph=DIR"), "the message lists the items: {e}");
        }
    }
}
