//! # pylite on Leones: the JIT wired into the VM
//!
//! (Work in progress: this module is the public surface — configuration and the
//! report — that the `pylite` command, the tests and the benchmark use.)

use leones::engine::EngineStats;
pub use leones_backend_llvm::Level;
pub use leones_tracer::Params;

/// How a [`crate::Vm`] uses the JIT.
#[derive(Clone, Debug)]
pub struct JitConfig {
    /// Use the JIT at all (`pylite run --jit off` interprets only).
    pub enabled: bool,
    /// The engine's parameters (before `LEONES_PARAMS`, when `read_env`).
    pub params: Params,
    /// LLVM level units are compiled at.
    pub level: Level,
    /// Apply `LEONES_PARAMS` and `LEONES_LOG` from the environment.
    pub read_env: bool,
}

impl JitConfig {
    /// Interpreter only.
    pub fn off() -> JitConfig {
        JitConfig {
            enabled: false,
            ..JitConfig::on()
        }
    }
    /// The JIT with default parameters, reading the environment.
    pub fn on() -> JitConfig {
        JitConfig {
            enabled: true,
            params: Params::default(),
            level: Level::Optimized,
            read_env: true,
        }
    }
    /// The JIT with these parameters, ignoring the environment (tests).
    pub fn with_params(params: Params) -> JitConfig {
        JitConfig {
            enabled: true,
            params,
            level: Level::Optimized,
            read_env: false,
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
    /// Recordings aborted (all reasons).
    pub aborts: u64,
    /// Seconds spent optimizing and compiling (all units).
    pub compile_secs: f64,
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
}

impl JitReport {
    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"enabled\": {}, \"loops\": {}, \"bridges\": {}, \"aborts\": {}, \"compile_secs\": {:.6}, \
             \"code_bytes\": {}, \"loop_entries\": {}, \"exits\": {}, \"interp_loop_iterations\": {}, \
             \"allocations_interp\": {}, \"allocations_jit\": {}}}",
            self.enabled,
            self.loops,
            self.bridges,
            self.aborts,
            self.compile_secs,
            self.code_bytes,
            self.loop_entries,
            self.exits,
            self.interp_loop_iterations,
            self.allocations_interp,
            self.allocations_jit
        )
    }

    #[allow(dead_code)] // used once the engine is wired in
    pub(crate) fn fill_from_engine(&mut self, s: &EngineStats) {
        self.loops = s.loops_compiled;
        self.bridges = s.bridges_attached;
        self.code_bytes = s.code_bytes;
        self.loop_entries = s.loop_entries;
        self.exits = s.exits;
    }
}
