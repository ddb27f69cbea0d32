//! # Parameters: all JIT policy in one table
//!
//! Every number that decides *when* Leones records, how long a trace may get or when it
//! gives up on a location lives here, with its default and meaning, in the style of
//! LuaJIT's `jit.opt` parameters. A host overrides them in code ([`Params::set`] or the
//! struct fields) and a user overrides them without recompiling through the environment:
//!
//! ```text
//! LEONES_PARAMS=threshold=200,trace_limit=1000,blacklist_after=3
//! ```
//!
//! | name | default | meaning | read by |
//! |---|---|---|---|
//! | `threshold` | 56 | iterations of a loop header before it is recorded | [`Hotness`](crate::Hotness) |
//! | `bridge_threshold` | 10 | failures of one guard before a bridge is recorded from it | [`Hotness`](crate::Hotness) |
//! | `trace_limit` | 4000 | instructions one recording may emit before it aborts with `TraceTooLong` | [`Recorder`](crate::Recorder) |
//! | `inline_depth` | 8 | inlined frames on top of the trace's entry frames before `InlineTooDeep` | [`Recorder`](crate::Recorder) |
//! | `loop_unroll` | 4 | times a recording may pass its start location with a different frame shape (unrolling a type-unstable loop) before it aborts with `ShapeMismatch` | [`Recorder`](crate::Recorder) |
//! | `decay` | 65536 | half-life of hotness counters, in ticks: every `decay` ticks all counters halve (0 = never) | [`Hotness`](crate::Hotness) |
//! | `backoff` | 2 | after each abort at a location its threshold is multiplied by this | [`Hotness`](crate::Hotness) |
//! | `blacklist_after` | 5 | aborts at one location before it is blacklisted (never recorded again) | [`Hotness`](crate::Hotness) |
//! | `code_budget` | 65536 | KiB of machine code in installed units; past it the least recently entered units are evicted down to 3/4 of it (0 = no limit) | the engine (root `leones` crate) |
//! | `background` | 1 (`on`) | build units on a compiler thread while the host keeps interpreting; `off` builds them on the host's thread (deterministic: tests) | the engine |
//! | `llvm_warm_up` | 1 (`on`) | the compiler thread first builds a small trace at the level of the first LLVM unit (the first tier's when it is quick; the tier-up level's when it is baseline, which has no LLVM to warm) and discards it, paying that level's one-time LLVM set-up (~2.5-6 ms) while the host starts instead of in the first unit's latency (reported apart from compile time) | the engine |
//! | `stop_after_units` | 0 | stop starting recordings once this many units are installed (0 = never); compiled code keeps running | the engine |
//! | `stop_after_ms` | 0 | stop starting recordings this many milliseconds after the engine started (0 = never) | the engine |
//! | `merge` | 1 (`on`) | trace merging: hot exits of data-driven guards become *arms* that rejoin their loop at merge points, re-formed with it into one region; `off` makes every hot exit a plain bridge | the engine |
//! | `merge_samples` | 64 | loop iterations (native) before a guard's exit rate is trusted; a hot exit of a younger loop waits | the engine |
//! | `merge_low` | 5 | a guard whose exits are at least this percentage of the loop's iterations ... | the engine |
//! | `merge_high` | 95 | ... and at most this percentage is data-driven: its exit becomes an arm | the engine |
//! | `merge_bridges` | 4 | a loop that already has this many plain bridges merges every further hot exit (many bridges = data-driven control flow, whatever the rates) | the engine |
//! | `reform_exits` | 1000 | a region is re-formed with its pending arms (arms recorded but not yet compiled in) once they outnumber the merged ones, or once the installed unit has exited this often and a pending arm's guard is hot again | the engine |
//! | `tier_up` | 20000 | units are compiled at the engine's first level first (`EngineConfig::first_level`: baseline in pylite, no LLVM); a loop that then runs this many iterations (a bridge: this many entries) is recompiled at the engine's level and swapped in (0: always the engine's level); a tree that tiered up before waits 4x longer each time | the engine |
//! | `region_cap` | 8 | a region's recorded size (root plus arms, in instructions) stays under this multiple of the root's; past it, hot exits stay plain bridges | the engine |
//! | `branchless` | 1 (`on`) | rewrite short diamonds on unpredictable conditions into `select`s | the optimizer, through the engine |
//! | `peel` | 1 | loop peeling: 1 keeps a peeled loop only when it came out cheaper than its preamble (else the trace is optimized again unpeeled: the copy would only cost compile time), 2 (or more) always keeps it, 0 (`off`) never peels | the optimizer, through the engine |
//! | `split_preamble` | 0 (`off`) | 1: at the optimized level, a peeled loop's preamble (it runs once per entry) is built as baseline code apart from its loop, and only the loop by LLVM's optimizing pipeline — 13-23% less compile time on the talk's programs, but a loop whose bridges re-enter it often runs its baseline preamble each time (pythagorean 13% slower); 0: one optimized function | the backend, through the engine |
//! | `max_bridges` | 100 | bridges one loop's tree may grow (bridges of bridges included; arms merged into a region are not bridges); past it the tree's hot exits record nothing (0 = no limit) | the engine |
//! | `give_up_exits` | 5 | a tree at `max_bridges` whose exits to the interpreter stay above this percentage of its native iterations (judged every 1000 iterations) is *given up*: its units are removed and its loop is blacklisted, so the interpreter runs it (0 = never give up) | the engine |
//! | `short_loop` | 16 | a loop whose native entries ran fewer iterations than this each on average, judged after `short_loop_entries` entries and at each doubling, is given up the same way: a round trip into native code costs more than interpreting a few iterations; also judged over the entries that *left* the loop (the host reached another loop's header next), counted from the tree's start (0 = never) | the engine |
//! | `short_loop_entries` | 256 | entries before a loop's iterations per entry are first judged | the engine |
//!
//! Parse errors say what was wrong: an unknown name lists the known ones, a bad value
//! names the parameter. A value is a decimal integer, or `on`/`off` for 1/0. Only
//! parameters that some component reads exist.

use std::fmt;

/// The name of the environment variable [`Params::from_env`] reads.
pub const PARAMS_ENV: &str = "LEONES_PARAMS";

/// The JIT's policy parameters; see the [module docs](self) for the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub threshold: u32,
    pub bridge_threshold: u32,
    pub trace_limit: u32,
    pub inline_depth: u32,
    pub loop_unroll: u32,
    pub decay: u32,
    pub backoff: u32,
    pub blacklist_after: u32,
    pub code_budget: u32,
    pub background: u32,
    pub llvm_warm_up: u32,
    pub stop_after_units: u32,
    pub stop_after_ms: u32,
    pub merge: u32,
    pub merge_samples: u32,
    pub merge_low: u32,
    pub merge_high: u32,
    pub merge_bridges: u32,
    pub reform_exits: u32,
    pub tier_up: u32,
    pub region_cap: u32,
    pub branchless: u32,
    pub peel: u32,
    pub split_preamble: u32,
    pub max_bridges: u32,
    pub give_up_exits: u32,
    pub short_loop: u32,
    pub short_loop_entries: u32,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            threshold: 56,
            bridge_threshold: 10,
            trace_limit: 4000,
            inline_depth: 8,
            loop_unroll: 4,
            decay: 65536,
            backoff: 2,
            blacklist_after: 5,
            code_budget: 65536,
            background: 1,
            llvm_warm_up: 1,
            stop_after_units: 0,
            stop_after_ms: 0,
            merge: 1,
            merge_samples: 64,
            merge_low: 5,
            merge_high: 95,
            merge_bridges: 4,
            reform_exits: 1000,
            tier_up: 20000,
            region_cap: 8,
            branchless: 1,
            peel: 1,
            split_preamble: 0,
            max_bridges: 100,
            give_up_exits: 5,
            short_loop: 16,
            short_loop_entries: 256,
        }
    }
}

/// Why a parameter setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("unknown parameter `{name}` (known: {})", Params::NAMES.join(", "))]
    UnknownName { name: String },
    #[error("parameter `{name}`: `{value}` is not a non-negative integer that fits in 32 bits")]
    BadValue { name: String, value: String },
    #[error("parameter `{name}` must be at least {min}, got {value}")]
    TooSmall { name: String, value: u32, min: u32 },
    #[error("`{item}` is not of the form name=value")]
    Syntax { item: String },
}

impl Params {
    /// Every parameter name, in table order.
    pub const NAMES: [&'static str; 28] = [
        "threshold",
        "bridge_threshold",
        "trace_limit",
        "inline_depth",
        "loop_unroll",
        "decay",
        "backoff",
        "blacklist_after",
        "code_budget",
        "background",
        "llvm_warm_up",
        "stop_after_units",
        "stop_after_ms",
        "merge",
        "merge_samples",
        "merge_low",
        "merge_high",
        "merge_bridges",
        "reform_exits",
        "tier_up",
        "region_cap",
        "branchless",
        "peel",
        "split_preamble",
        "max_bridges",
        "give_up_exits",
        "short_loop",
        "short_loop_entries",
    ];

    /// The field behind `name`, and the smallest value it accepts.
    fn slot(&mut self, name: &str) -> Option<(&mut u32, u32)> {
        Some(match name {
            "threshold" => (&mut self.threshold, 1),
            "bridge_threshold" => (&mut self.bridge_threshold, 1),
            "trace_limit" => (&mut self.trace_limit, 1),
            "inline_depth" => (&mut self.inline_depth, 0),
            "loop_unroll" => (&mut self.loop_unroll, 0),
            "decay" => (&mut self.decay, 0),
            "backoff" => (&mut self.backoff, 1),
            "blacklist_after" => (&mut self.blacklist_after, 1),
            "code_budget" => (&mut self.code_budget, 0),
            "background" => (&mut self.background, 0),
            "llvm_warm_up" => (&mut self.llvm_warm_up, 0),
            "stop_after_units" => (&mut self.stop_after_units, 0),
            "stop_after_ms" => (&mut self.stop_after_ms, 0),
            "merge" => (&mut self.merge, 0),
            "merge_samples" => (&mut self.merge_samples, 1),
            "merge_low" => (&mut self.merge_low, 0),
            "merge_high" => (&mut self.merge_high, 0),
            "merge_bridges" => (&mut self.merge_bridges, 1),
            "reform_exits" => (&mut self.reform_exits, 0),
            "tier_up" => (&mut self.tier_up, 0),
            "region_cap" => (&mut self.region_cap, 1),
            "branchless" => (&mut self.branchless, 0),
            "peel" => (&mut self.peel, 0),
            "split_preamble" => (&mut self.split_preamble, 0),
            "max_bridges" => (&mut self.max_bridges, 0),
            "give_up_exits" => (&mut self.give_up_exits, 0),
            "short_loop" => (&mut self.short_loop, 0),
            "short_loop_entries" => (&mut self.short_loop_entries, 1),
            _ => return None,
        })
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.clone().slot(name).map(|(v, _)| *v)
    }

    /// Sets one parameter by name; `value` is parsed as a decimal integer.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ParamError> {
        let Some((field, min)) = self.slot(name) else {
            return Err(ParamError::UnknownName { name: name.to_string() });
        };
        let bad = || ParamError::BadValue {
            name: name.to_string(),
            value: value.to_string(),
        };
        let v: u32 = match value.trim() {
            "on" => 1,
            "off" => 0,
            v => v.parse().map_err(|_| bad())?,
        };
        if v < min {
            return Err(ParamError::TooSmall {
                name: name.to_string(),
                value: v,
                min,
            });
        }
        *field = v;
        Ok(())
    }

    /// Applies `name=value,name=value,...` (spaces around items are ignored, empty
    /// items skipped). Nothing is changed if any item is bad.
    pub fn apply(&mut self, spec: &str) -> Result<(), ParamError> {
        let mut next = self.clone();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| ParamError::Syntax { item: item.to_string() })?;
            next.set(name.trim(), value)?;
        }
        *self = next;
        Ok(())
    }

    /// The defaults with `spec` applied.
    pub fn parse(spec: &str) -> Result<Params, ParamError> {
        let mut p = Params::default();
        p.apply(spec)?;
        Ok(p)
    }

    /// The defaults with `LEONES_PARAMS` applied, if it is set.
    pub fn from_env() -> Result<Params, ParamError> {
        match std::env::var(PARAMS_ENV) {
            Ok(spec) => Params::parse(&spec),
            Err(_) => Ok(Params::default()),
        }
    }
}

/// Prints as `name=value,...`, which [`Params::parse`] reads back.
impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = Params::NAMES
            .iter()
            .map(|n| format!("{n}={}", self.get(n).unwrap_or_default()))
            .collect();
        f.write_str(&items.join(","))
    }
}
