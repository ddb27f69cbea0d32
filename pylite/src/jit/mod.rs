//! # pylite on Leones: the JIT wired into the VM
//!
//! pylite links Leones the way any VM would: it registers its world ([`world`]),
//! reports what its interpreter does while the engine records ([`record`]), enters
//! compiled loops at loop back-edges, and rebuilds its frames when compiled code
//! leaves ([`host`]).
//!
//! ```text
//!  Loop (back-edge) ─► Vm::jit_header ─► Engine::on_loop_header(code:pc, frame, slots)
//!      Recording ─► every instruction: record::record before it executes
//!      Enter     ─► Engine::enter(slots, memory) ─► native loop ... exit
//!                   ─► frames rebuilt (inlined calls become real frames, virtual
//!                      instances and tuples allocated), interpretation resumes at the
//!                      instruction whose guard failed
//! ```
//!
//! Slots travel unboxed ([`values`]): an int slot is an `i64`, a float an `f64`, so
//! arithmetic in compiled loops never allocates. Builtins the recorder does not inline
//! are residual calls ([`natives`]) with their effects declared, so `math.gcd` is pure
//! and `print` opaque.
//!
//! Invariants the VM keeps for compiled code: no collection runs while compiled code
//! is on the stack (a builtin that wants one raises the interrupt flag instead, and the
//! interpreter collects at the next loop header); every object whose address a trace
//! embeds (functions, classes, modules, constants) is kept alive by the JIT; nested
//! interpreter runs (Python code called from a builtin) neither record nor enter
//! compiled code.

mod generators;
mod host;
mod iter;
mod lazy;
mod live;
mod natives;
mod record;
mod values;
mod world;

use leones::engine::EngineStats;
pub use leones_backend_llvm::Level;
pub use leones_tracer::Params;

pub(crate) use host::{Jit, JitNext};
pub(crate) use natives::{CurrentVm, Pending};

/// How a [`crate::Vm`] uses the JIT.
#[derive(Clone, Debug)]
pub struct JitConfig {
    /// Use the JIT at all (`pylite run --jit off` interprets only).
    pub enabled: bool,
    /// The engine's parameters (before `LEONES_PARAMS`, when `read_env`).
    pub params: Params,
    /// LLVM level loops are compiled at.
    pub level: Level,
    /// LLVM level bridges are compiled at (`None`: `level`). Bridges are many and
    /// small; quick keeps their compile latency down.
    pub bridge_level: Option<Level>,
    /// The level units start at before they tier up to `level` (the engine's
    /// [`first_level`](leones::engine::EngineConfig::first_level)): baseline, code
    /// without LLVM in tens of microseconds a unit. Equal to `level`: one tier.
    pub first_level: Level,
    /// Apply `LEONES_PARAMS` and `LEONES_LOG` from the environment.
    pub read_env: bool,
    /// No JIT; instead the interpreter overwrites every local that the liveness
    /// analysis ([`crate::liveness`]) calls dead with a poison value before each
    /// instruction. A test of the analysis: the output must not change.
    pub poison_dead_locals: bool,
}

impl JitConfig {
    /// Interpreter only.
    pub fn off() -> JitConfig {
        JitConfig {
            enabled: false,
            ..JitConfig::on()
        }
    }
    /// The interpreter alone, poisoning dead locals (see `poison_dead_locals`).
    pub fn poisoning_dead_locals() -> JitConfig {
        JitConfig {
            poison_dead_locals: true,
            ..JitConfig::off()
        }
    }
    /// The JIT with default parameters, reading the environment.
    pub fn on() -> JitConfig {
        JitConfig {
            enabled: true,
            params: Params::default(),
            level: Level::Optimized,
            bridge_level: None,
            first_level: Level::Baseline,
            read_env: true,
            poison_dead_locals: false,
        }
    }
    /// The JIT with these parameters, ignoring the environment (tests).
    pub fn with_params(params: Params) -> JitConfig {
        JitConfig {
            enabled: true,
            params,
            level: Level::Optimized,
            bridge_level: None,
            first_level: Level::Baseline,
            read_env: false,
            poison_dead_locals: false,
        }
    }
}

/// What the JIT did during a run (also what `pylite run --stats FILE` writes as JSON).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JitReport {
    /// The JIT was on.
    pub enabled: bool,
    /// Loop units compiled.
    pub loops: u64,
    /// Bridges attached.
    pub bridges: u64,
    /// Regions compiled (a loop re-formed with the arms merged into it; each replaces
    /// the loop's previous unit).
    pub regions: u64,
    /// Recordings aborted (all reasons).
    pub aborts: u64,
    /// Loops given up: at their bridge cap they kept exiting, so the interpreter runs
    /// them (see the engine's `max_bridges` / `give_up_exits`).
    pub given_up: u64,
    /// Seconds spent optimizing and compiling (all units).
    pub compile_secs: f64,
    /// Seconds the compiler thread spent warming LLVM up before its first unit
    /// (one-time set-up; not in `compile_secs`).
    pub llvm_warm_up_secs: f64,
    /// Machine-code bytes of every unit installed.
    pub code_bytes: u64,
    /// Entries into compiled loops.
    pub loop_entries: u64,
    /// Exits from compiled code back to the interpreter.
    pub exits: u64,
    /// Loop back-edges (`Loop` instructions) the *interpreter* executed. Compared with
    /// an interpreter-only run of the same program, this says how many iterations ran
    /// in compiled code.
    pub interp_loop_iterations: u64,
    /// Heap objects allocated by the interpreter and builtins.
    pub allocations_interp: u64,
    /// Heap objects allocated by compiled code (`new`, and objects materialized at exits).
    pub allocations_jit: u64,
    /// Seconds from the JIT's set-up (when the VM was created, before the program was
    /// read) to the first entry into compiled code; `None` when none ran.
    pub first_compiled_secs: Option<f64>,
}

impl JitReport {
    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        use crate::bench::json::Json;
        Json::obj(vec![
            ("enabled", Json::Bool(self.enabled)),
            ("loops", Json::Int(self.loops)),
            ("bridges", Json::Int(self.bridges)),
            ("regions", Json::Int(self.regions)),
            ("aborts", Json::Int(self.aborts)),
            ("given_up", Json::Int(self.given_up)),
            ("compile_secs", Json::Num(self.compile_secs)),
            ("llvm_warm_up_secs", Json::Num(self.llvm_warm_up_secs)),
            ("code_bytes", Json::Int(self.code_bytes)),
            ("loop_entries", Json::Int(self.loop_entries)),
            ("exits", Json::Int(self.exits)),
            ("interp_loop_iterations", Json::Int(self.interp_loop_iterations)),
            ("allocations_interp", Json::Int(self.allocations_interp)),
            ("allocations_jit", Json::Int(self.allocations_jit)),
            (
                "first_compiled_secs",
                self.first_compiled_secs.map_or(Json::Null, Json::Num),
            ),
        ])
        .render()
    }

    pub(crate) fn fill_from_engine(&mut self, s: &EngineStats, t: &leones_tracer::Stats) {
        self.aborts = t.total_aborts();
        self.compile_secs = t.compile_time.values().map(|d| d.as_secs_f64()).sum();
        self.llvm_warm_up_secs = s.llvm_warm_up_us as f64 / 1e6;
        self.loops = s.loops_compiled;
        self.bridges = s.bridges_attached;
        self.regions = s.regions_compiled;
        self.given_up = s.trees_given_up;
        self.code_bytes = s.code_bytes;
        self.loop_entries = s.loop_entries;
        self.exits = s.exits;
    }
}
