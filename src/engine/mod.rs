//! # The engine: what a VM links against
//!
//! [`Engine`] ties the tracer (hotness, recorder, resume), the optimizer and the LLVM
//! backend into the one object a host VM talks to. The host keeps interpreting; the
//! engine decides when to record, turns recordings into native code, runs it on the
//! host's real objects and hands the host back *frames* — never IR.
//!
//! ## The flow
//!
//! ```text
//!  host at a loop header ──► on_loop_header(loc, frame, pc, slots)
//!        │  Interpret: not hot (Hotness ticks), blacklisted, or no backend
//!        │  Recording: a recording is under way — report every op to recorder()
//!        │  Enter:     a compiled loop exists here — call enter(...)
//!        ▼
//!  recording closes at the header ─► on the compiler thread: verify ─► optimize
//!        (leones-opt default pipeline) ─► verify ─► instrument ─► compile (Level::Quick)
//!        ─► landed on the host's thread: the loop unit for `loc`
//!
//!  enter(loc, slots, memory) ─► native code (loop, attached bridges, back into the loop)
//!        ─► Finish(values) | Exit: decode the slot buffer ─► resume (materialize virtual
//!           objects through the host's callbacks, cycles included) ─► frames + pcs
//!        ─► side-exit counter; past `bridge_threshold` a bridge recording starts from
//!           the exit's state; when it reaches the loop's header it is adapted to the
//!           exit's values (virtual objects at the exit rebuilt at its entry),
//!           optimized with what the parent's guards proved about those values,
//!           compiled, attached to the exit slot, and its `jump @loop` linked to the
//!           loop unit: from then on that path never leaves native code.
//! ```
//!
//! ## Invariants
//!
//! - **The JIT never changes what a program computes.** Every failure between a
//!   finished recording and installed code — the trace does not verify, the optimizer
//!   errs, the backend refuses — is counted ([`EngineStats`]), logged, backs the
//!   location off like an abort (so it is eventually blacklisted), and the host simply
//!   keeps interpreting. Nothing panics.
//! - **An exit resumes before the instruction that checked.** The frames an exit hands
//!   back resume *at* the guarding instruction's pc. The host must execute at least
//!   that instruction in its interpreter before it calls [`Engine::on_loop_header`]
//!   again (even when the pc is a loop header), or the same guard fails forever.
//! - **Native code works on the host's objects.** Inputs are the host's slot values
//!   (references are real addresses); `new` in compiled code allocates through
//!   [`HostMemory::alloc_raw`]; exits materialize virtual objects through
//!   [`Materialize`](leones_tracer::Materialize). The example host and the tests use the
//!   reference interpreter's [`Heap`](leones_ir::interp::Heap) through
//!   [`HeapMaterializer`]; a real VM implements [`HostMemory`] over its own allocator
//!   (objects zeroed, 8-aligned, class word at offset 0 as its registered layouts say).
//! - **Interrupts are ordinary exits.** Every loop header has a `guard_no_interrupt`
//!   that polls the word behind [`Engine::interrupt_flag`]. Setting it non-zero (from
//!   any thread) makes compiled loops exit at their next header with
//!   [`Exit::interrupted`] set; the engine never clears the flag — the host does, when
//!   it has handled the interrupt. Interrupt exits are not counted towards bridges.
//! - **A unit is only ever entered with inputs that fit its entry shape**; otherwise
//!   [`Engine::enter`] answers [`Entered::NotEntered`] and the host interprets.
//!
//! ## Parameters and logging
//!
//! [`Engine::new`] takes the host's [`Params`] and applies `LEONES_PARAMS` on top;
//! `LEONES_LOG` (see [`leones_tracer::log`]) selects what is logged: `summary` (the
//! counters, on request through [`Engine::summary`] and when the engine is dropped),
//! `trace` / `opt` (each unit's IR before / after optimization), `llvm` (its LLVM IR —
//! costly, only when asked), `compile` (one line per installed unit: level, trace
//! size, µs per compile phase, code bytes, when it landed), `exit` (every exit taken
//! with its resume frames),
//! `graph:DIR` (each root's tree as DOT and SVG when the engine is dropped; [`graph`]).
//! [`Engine::with_config`] reads no environment (tests).
//!
//! ## A worked example
//!
//! A VM with one frame kind `main` of two slots `i, n`, running
//! `loop { i += 1; if !(i < n) break }`, header at pc 0:
//!
//! ```
//! use leones::engine::{Engine, EngineConfig, Entered, HeaderAction};
//! use leones_tracer::{HeapMaterializer, Location, Params, Registry};
//! use leones_ir::{BinaryOp, interp::{Heap, Val}};
//!
//! let reg = Registry::new();
//! let main = reg.frame("main", 0, 2).unwrap();
//! // Built on this thread (`background: 0`), so the counts below are exact.
//! let params = Params { threshold: 3, background: 0, ..Params::default() };
//! let mut engine = Engine::with_config(reg.clone(), EngineConfig::new(params)).unwrap();
//! let mut heap = Heap::new();
//! let (mut i, n) = (0i64, 1000i64);
//! let mut pc = 0;
//! let mut just_resumed = false;
//! loop {
//!     if pc == 0 && !std::mem::take(&mut just_resumed) {
//!         let slots = [Some(Val::I64(i)), Some(Val::I64(n))];
//!         if engine.on_loop_header(Location(0), main, 0, &slots) == HeaderAction::Enter {
//!             let mut mem = HeapMaterializer { registry: &reg, heap: &mut heap };
//!             match engine.enter(Location(0), &slots, &mut mem).unwrap() {
//!                 Entered::Exit(exit) => {
//!                     let f = &exit.frames[0];
//!                     i = f.slots[0].unwrap().as_i64().unwrap();
//!                     pc = f.pc;
//!                     just_resumed = true;
//!                     continue;
//!                 }
//!                 _ => {}
//!             }
//!         }
//!     }
//!     if pc == 0 {
//!         // i += 1 (checked)
//!         let (sum, ovf) = i.overflowing_add(1);
//!         if let Some(r) = engine.recorder() {
//!             let step = (|| {
//!                 r.set_pc(0)?;
//!                 let (a, one) = (r.slot(0)?, r.constant(1i64));
//!                 let v = r.binary_ovf(BinaryOp::IAddOvf, a, one, ovf)?;
//!                 r.set_slot(0, v)
//!             })();
//!             if let Err(why) = step { engine.abort_recording(why) }
//!         }
//!         i = sum;
//!         pc = 1;
//!     } else {
//!         // if i < n goto 0 else halt
//!         let taken = i < n;
//!         if let Some(r) = engine.recorder() {
//!             let step = (|| {
//!                 r.set_pc(1)?;
//!                 let (a, b) = (r.slot(0)?, r.slot(1)?);
//!                 let c = r.binary(BinaryOp::ILt, a, b)?;
//!                 r.guard(c, taken)
//!             })();
//!             if let Err(why) = step { engine.abort_recording(why) }
//!         }
//!         if !taken { break }
//!         pc = 0;
//!     }
//! }
//! assert_eq!(i, 1000);
//! let stats = engine.stats();
//! assert_eq!(stats.loops_compiled, 1);
//! assert_eq!(stats.loop_entries, 1);
//! println!("{}", engine.summary());
//! ```

mod adapt;
mod budget;
mod giveup;
pub mod graph;
mod install;
mod merge;
mod names;
mod prepare;
mod run;
mod stats;
mod tier;

use adapt::adapt_bridge;
use leones_backend_llvm::abi::{JitState, TakeExceptionFn};
use leones_backend_llvm::{Backend, Level, UnitId as BUnit, UnitOptions};
use leones_ir::interp::{Outcome, Val};
use leones_ir::{GuardId, GuardKind, Op, TargetId, Trace};
use leones_opt::{OptContext, Pass, PassList};
use leones_tracer::{
    resume_mapped, Abort, Action, Hotness, Location, LogConfig, LoopTarget, Materialize, ParamError, Params, Recorded,
    Recorder, Registry, ResumeFrame, ShapeFrame, Stats, UnitId, UnitKind,
};
// FxHash maps: the exit path looks units, guards and trees up on every exit.
use leones_ir::{FastHashMap as HashMap, FastHashSet as HashSet};
use std::ffi::c_void;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use graph::TreeGraph;
use install::BREAK_PASS;
pub use leones_tracer::{FrameRef, HeapMaterializer};
pub use names::LocationNamer;
pub use stats::EngineStats;

/// What the host's memory must offer native code and exits.
///
/// [`Materialize`] allocates and fills the virtual objects an exit rebuilds;
/// [`alloc_raw`](HostMemory::alloc_raw) serves `new` in compiled code (the backend's
/// `JitState.alloc` callback is pointed at it for the duration of a run). A host with
/// a moving or generational collector must also keep every object reachable from the
/// slots it passes in alive and in place while native code runs.
pub trait HostMemory: Materialize {
    /// Zeroed, 8-aligned memory of `size` bytes (compiled code writes the class word).
    fn alloc_raw(&mut self, size: u64) -> u64;
}

impl HostMemory for HeapMaterializer<'_> {
    fn alloc_raw(&mut self, size: u64) -> u64 {
        self.heap.alloc_raw(size as usize)
    }
}

/// What the host does at a loop header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HeaderAction {
    /// Keep interpreting.
    Interpret,
    /// A recording is under way: report each operation to [`Engine::recorder`].
    Recording,
    /// Compiled code exists for this header: call [`Engine::enter`].
    Enter,
}

/// The host state to resume after native code left through a guard.
#[derive(Clone, Debug, PartialEq)]
pub struct Exit {
    /// Frames, outermost first; the host continues in the last one at its `pc`.
    pub frames: Vec<ResumeFrame>,
    /// A host call raised inside compiled code and its exception is pending.
    pub exception_pending: bool,
    /// The exit was a `guard_no_interrupt` seeing the interrupt flag set.
    pub interrupted: bool,
    /// A bridge recording started from this exit: report the ops that follow.
    pub recording_bridge: bool,
}

/// What [`Engine::enter`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Entered {
    /// No compiled loop here, or the host's slots do not fit its entry shape.
    NotEntered,
    /// Native code left through a side exit.
    Exit(Exit),
    /// Native code finished (loops and bridges never do; for completeness).
    Finish(Vec<Val>),
}

/// A failure the host has to know about (everything else the engine absorbs).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("LEONES_PARAMS: {0}")]
    Params(#[from] ParamError),
    #[error("LEONES_LOG: {0}")]
    Log(#[from] leones_tracer::LogError),
    #[error("cannot open the log file: {0}")]
    LogFile(std::io::Error),
    /// Native code faulted (division by zero, null, bounds). Host frames are as they
    /// were at entry, but stores native code made before the fault have happened; the
    /// unit is retired. A correct recorder guards every such case, so this is a bug.
    #[error("native code faulted: {0}")]
    Fault(String),
}

/// Failures the engine injects on purpose (to test that it falls back to interpreting).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InjectFailure {
    /// Corrupt every recorded trace (drop its terminator) so the engine's verifier
    /// rejects it.
    Verify,
    /// Run an extra optimizer pass that breaks the trace, so `optimize` errs.
    Optimize,
    /// Hand the backend a trace it rejects (its terminator removed after optimization).
    Backend,
    /// Fail every tier-up (the optimized recompilation is never built; the quick unit
    /// keeps running).
    TierUp,
}

/// How an engine is set up; [`EngineConfig::new`] reads no environment.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub params: Params,
    pub log: LogConfig,
    pub level: Level,
    /// The level bridges are compiled at (`None`: `level`). Bridges are many, small and
    /// often short-lived; a host may trade their code quality for compile latency.
    pub bridge_level: Option<Level>,
    /// The level units start at when the engine tiers up (`level` is another one and
    /// `tier_up > 0`): [`Level::Baseline`] (no LLVM, tens of microseconds a unit) or
    /// [`Level::Quick`]. Equal to `level`: no tiers.
    pub first_level: Level,
    pub inject: Option<InjectFailure>,
    /// Name compiled units in `/tmp/perf-<pid>.map` for `perf` (also `LEONES_LOG=perf`);
    /// see `docs/profiling.md`.
    pub perf_map: bool,
    /// Register compiled units with gdb's JIT interface (also `LEONES_LOG=gdb`).
    pub gdb: bool,
}

impl EngineConfig {
    /// These params, nothing logged, [`Level::Quick`].
    pub fn new(params: Params) -> EngineConfig {
        EngineConfig {
            params,
            log: LogConfig::default(),
            level: Level::Quick,
            bridge_level: None,
            first_level: Level::Quick,
            inject: None,
            perf_map: false,
            gdb: false,
        }
    }

    /// These params with `LEONES_PARAMS` applied on top, and `LEONES_LOG`.
    pub fn from_env(mut params: Params) -> Result<EngineConfig, EngineError> {
        if let Ok(spec) = std::env::var(leones_tracer::params::PARAMS_ENV) {
            params.apply(&spec)?;
        }
        Ok(EngineConfig {
            log: LogConfig::from_env()?,
            ..EngineConfig::new(params)
        })
    }
}

/// What is being recorded.
#[derive(Copy, Clone, Debug)]
enum Mode {
    Loop(Location),
    Bridge {
        parent: BUnit,
        guard: GuardId,
        root: Location,
    },
    /// An arm of `root`'s tree from recorded guard `key` (piece, ordinal).
    Arm {
        parent: BUnit,
        guard: GuardId,
        root: Location,
        key: (usize, u32),
    },
}

impl Mode {
    /// Where the recording closes at the latest (the loop's header).
    fn closes_at(&self) -> Location {
        match *self {
            Mode::Loop(l) => l,
            Mode::Bridge { root, .. } | Mode::Arm { root, .. } => root,
        }
    }
}

struct LoopUnit {
    unit: BUnit,
    target: LoopTarget,
}

#[derive(Clone, Debug)]
struct UnitMeta {
    root: Location,
    kind: UnitKind,
    /// Index into `Engine::counters` (bridges).
    counter: Option<usize>,
    /// A quick-tier region's tier-up guard (see `Engine::tier_up`).
    tier_guard: Option<GuardId>,
    /// Loop units: index of their guard pass counters in their tree's `passes`.
    passes: Option<usize>,
    /// Its trace's descriptors resolved in the registry, for resuming its exits.
    resume: Arc<leones_tracer::ResumeMap>,
}

/// The tracing JIT for one host VM; see the [module docs](self).
pub struct Engine {
    registry: Registry,
    params: Params,
    hot: Hotness,
    log: LogConfig,
    log_file: Option<std::fs::File>,
    backend: Option<Backend>,
    backend_error: Option<String>,
    loops: HashMap<Location, LoopUnit>,
    /// Each compiled loop's recordings and profile, for trace merging.
    trees: HashMap<Location, merge::Tree>,
    units: HashMap<BUnit, UnitMeta>,
    recording: Option<(Recorder, Mode)>,
    /// Exits whose bridge could not be attached: never recorded again.
    no_bridge: HashSet<(BUnit, GuardId)>,
    interrupt: Arc<AtomicU64>,
    /// Bridge entry counters; boxed because compiled code holds their addresses.
    #[allow(clippy::vec_box)]
    counters: Vec<Box<AtomicU64>>,
    stats: EngineStats,
    inject: Option<InjectFailure>,
    bridge_level: Option<Level>,
    /// The level units start at when tiering ([`EngineConfig::first_level`]).
    first_level: Level,
    take_exception: Option<TakeExceptionFn>,
    slots: Vec<u64>,
    pipeline: PassList,
    /// The compiler thread (`background` on); `None`: units are built on the host's.
    compiler: Option<leones_backend_llvm::Compiler>,
    /// Jobs on the compiler thread, by the unit id they will have.
    in_flight: HashMap<BUnit, tier::InFlight>,
    /// Loops whose first unit is being built (they are interpreted meanwhile).
    compiling: HashSet<Location>,
    /// Exits whose bridge is being built (they resume the interpreter meanwhile).
    bridging: HashSet<(BUnit, GuardId)>,
    /// Units whose recompilation at the engine's level is being built.
    recompiling: HashSet<BUnit>,
    /// Machine-code bytes of the installed units (what `code_budget` bounds).
    live_code_bytes: u64,
    /// The long-tail policy: budget bookkeeping and the compile switch.
    policy: budget::Policy,
    /// The host's names for loop headers, in unit labels ([`names`]).
    location_namer: Option<LocationNamer>,
    /// Bridge parents, exits per guard and retired units, for pictures.
    history: graph::History,
    /// The loop whose native entry last ended in an exit to the interpreter, and the
    /// native iterations that entry ran: judged at the next loop header the host
    /// reaches (`giveup.rs`, "loops too short to enter").
    last_exit: Option<(Location, u64)>,
}

impl Engine {
    /// An engine for a host that registered its world in `registry`, with `params`
    /// (then `LEONES_PARAMS` on top) and `LEONES_LOG`.
    pub fn new(registry: Registry, params: Params) -> Result<Engine, EngineError> {
        Engine::with_config(registry, EngineConfig::from_env(params)?)
    }

    /// An engine set up exactly as `config` says (no environment read). If LLVM cannot
    /// be initialized the engine still works: it never records and the host interprets.
    pub fn with_config(registry: Registry, config: EngineConfig) -> Result<Engine, EngineError> {
        let log_file = match &config.log.file {
            Some(p) if config.log.any() || config.log.graph.is_some() => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(EngineError::LogFile)?,
            ),
            _ => None,
        };
        let (backend, backend_error) = match Backend::new(config.level) {
            Ok(b) => (Some(b), None),
            Err(e) => (None, Some(e.to_string())),
        };
        // No compiler thread without a backend; one that cannot start means the host's
        // thread compiles (still correct, only slower to warm up).
        let compiler = match &backend {
            Some(b) if config.params.background != 0 => {
                leones_backend_llvm::Compiler::start_warmed(warm_up_level(&config, b.level())).ok()
            }
            _ => None,
        };
        let mut pipeline = leones_opt::default_pipeline();
        if config.inject == Some(InjectFailure::Optimize) {
            pipeline.push(&BREAK_PASS);
        }
        let profilers = names::Profilers::of(&config);
        let mut engine = Engine {
            registry,
            hot: Hotness::new(config.params.clone()),
            params: config.params,
            log: config.log,
            log_file,
            backend,
            backend_error,
            loops: HashMap::default(),
            trees: HashMap::default(),
            units: HashMap::default(),
            recording: None,
            no_bridge: HashSet::default(),
            interrupt: Arc::new(AtomicU64::new(0)),
            counters: Vec::new(),
            stats: EngineStats::default(),
            inject: config.inject,
            bridge_level: config.bridge_level,
            first_level: config.first_level,
            take_exception: None,
            slots: vec![0; 16],
            pipeline,
            compiler,
            in_flight: HashMap::default(),
            compiling: HashSet::default(),
            bridging: HashSet::default(),
            recompiling: HashSet::default(),
            live_code_bytes: 0,
            policy: budget::Policy::new(),
            location_namer: None,
            history: graph::History::default(),
            last_exit: None,
        };
        engine.enable_profilers(profilers);
        Ok(engine)
    }

    /// The registry the host registers its descriptors in.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Why LLVM could not be set up, if it could not (the engine then only interprets).
    pub fn backend_error(&self) -> Option<&str> {
        self.backend_error.as_deref()
    }

    /// The interrupt word compiled loops poll at their headers. Store non-zero (from any
    /// thread) to make them exit with [`Exit::interrupted`]; store 0 once handled.
    pub fn interrupt_flag(&self) -> Arc<AtomicU64> {
        self.interrupt.clone()
    }

    /// The function compiled code calls after host calls that may raise (non-zero =
    /// raised, and clear the host's flag). Default: calls never raise.
    pub fn set_exception_hook(&mut self, f: Option<TakeExceptionFn>) {
        self.take_exception = f;
    }

    /// The recorder, while a recording is under way: the host reports every operation
    /// it executes to it (before writing the instruction's result slot).
    pub fn recorder(&mut self) -> Option<&mut Recorder> {
        self.recording.as_mut().map(|(r, _)| r)
    }

    /// Whether a recording is under way.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Gives up the recording under way (the host hit something it does not trace, a
    /// recorder call returned `why`, or the program stopped). Backs the location off.
    pub fn abort_recording(&mut self, why: Abort) {
        let Some((rec, mode)) = self.recording.take() else {
            return;
        };
        if self.log.trace {
            let text = leones_ir::print(rec.trace());
            self.emit_log(&format!("; aborted ({why}) after:\n{text}"));
        }
        self.note_abort(mode, &why);
    }

    /// Counts a recording in `mode` that ended without a unit: towards its location's
    /// back-off and blacklist, or its exit's.
    fn note_abort(&mut self, mode: Mode, why: &Abort) {
        match mode {
            Mode::Loop(loc) => drop(self.hot.aborted(loc, why)),
            Mode::Bridge { parent, guard, .. } | Mode::Arm { parent, guard, .. } => {
                let _ = self.hot.bridge_aborted(UnitId(parent.0.into()), guard, why);
            }
        }
    }

    /// The host's interpreter, while recording, is about to execute the instruction at
    /// `loc` (its pc already reported with [`Recorder::set_pc`]), a place where paths
    /// of its control flow join (a jump target other than a loop header). The recorder
    /// notes a merge point there, or an arm being recorded rejoins its parent there and
    /// is merged. The host must hold no traced value outside its frames at that point.
    /// Returns whether the recording ended here.
    pub fn merge_point(&mut self, loc: Location) -> bool {
        let Some((rec, _)) = self.recording.as_mut() else {
            return false;
        };
        match rec.merge_point(loc) {
            Ok(None) => false,
            Ok(Some(done)) => {
                let (_, mode) = self.recording.take().expect("recording");
                self.finish(mode, done);
                true
            }
            Err(why) => {
                self.abort_recording(why);
                true
            }
        }
    }

    /// The host's interpreter is at loop header `loc` in a frame of kind `frame` at
    /// `pc`, with these slot values (`None` = dead). Call it on every arrival except
    /// right after resuming from an exit (see the module invariants).
    pub fn on_loop_header(&mut self, loc: Location, frame: FrameRef, pc: u32, slots: &[Option<Val>]) -> HeaderAction {
        self.on_loop_header_with(loc, || Some(ShapeFrame::of(frame, pc, slots)))
    }

    /// [`Engine::on_loop_header`] for a host whose description of the frame costs
    /// something to build: `entry` is called only when a recording starts here (it
    /// describes the header's frame; `None` = the host cannot, and it interprets).
    /// Most arrivals at a header only count it, and an interpreter passes one at every
    /// back-edge of every loop that is not compiled — pylite's description (its frame
    /// kind, each slot's liveness and value) was half the cost of a short loop's
    /// interpreted iteration. The host builds the slot values itself when the answer
    /// is [`HeaderAction::Enter`].
    ///
    /// ```
    /// # use leones::engine::{Engine, EngineConfig, HeaderAction};
    /// # use leones_tracer::{Location, Params, Registry, ShapeFrame};
    /// # use leones_ir::interp::Val;
    /// let reg = Registry::new();
    /// let main = reg.frame("main", 0x1, 1).unwrap();
    /// let mut engine = Engine::with_config(reg.clone(), EngineConfig::new(Params::default())).unwrap();
    /// let slots = [Some(Val::I64(0))];
    /// let action = engine.on_loop_header_with(Location(7), || Some(ShapeFrame::of(main, 3, &slots)));
    /// assert_eq!(action, HeaderAction::Interpret); // one arrival: not hot yet
    /// ```
    pub fn on_loop_header_with(&mut self, loc: Location, entry: impl FnOnce() -> Option<ShapeFrame>) -> HeaderAction {
        self.poll_compiles();
        if let Some((left, ran)) = self.last_exit.take() {
            if left != loc && self.recording.is_none() {
                self.judge_left_loop(left, ran);
            }
        }
        if let Some((rec, mode)) = self.recording.as_mut() {
            let closes_at = mode.closes_at();
            match rec.at_header(loc) {
                // Another compiled loop's header: end this recording there instead of
                // unrolling that loop into it, and run the compiled loop.
                Ok(None) if loc != closes_at && self.loops.contains_key(&loc) => {
                    self.abort_recording(Abort::Unsupported(format!("reached the compiled loop at {}", loc.0)));
                }
                Ok(None) => return HeaderAction::Recording,
                Ok(Some(done)) => {
                    let (_, mode) = self.recording.take().expect("recording");
                    self.finish(mode, done);
                }
                Err(why) => self.abort_recording(why),
            }
        }
        if self.loops.contains_key(&loc) {
            return HeaderAction::Enter;
        }
        if self.backend.is_none() || self.compiling.contains(&loc) {
            return HeaderAction::Interpret;
        }
        match self.hot.tick(loc) {
            Action::Record => {
                let entry = if self.may_compile() { entry() } else { None };
                let Some(entry) = entry else {
                    // Nothing started: the summary's `recordings` counts recordings started.
                    self.hot.record_declined();
                    return HeaderAction::Interpret;
                };
                match Recorder::start_loop(&self.registry, &self.params, loc, entry) {
                    Ok(r) => {
                        self.recording = Some((r, Mode::Loop(loc)));
                        HeaderAction::Recording
                    }
                    Err(why) => {
                        self.hot.aborted(loc, &why);
                        HeaderAction::Interpret
                    }
                }
            }
            Action::Interpret | Action::Blacklisted => HeaderAction::Interpret,
        }
    }

    /// Whether the engine waits for the next loop header the host reaches, whichever
    /// it is: the last native entry ended in an exit, and where the interpreter goes
    /// next tells whether that entry left its loop (`giveup.rs`). A host that stops
    /// calling [`Engine::on_loop_header`] at blacklisted headers still calls it there
    /// while this is true.
    pub fn awaits_header(&self) -> bool {
        self.last_exit.is_some()
    }

    /// Whether `loc` is blacklisted (it never records again and has no compiled loop):
    /// a host may stop calling [`Engine::on_loop_header`] there (but see
    /// [`Engine::awaits_header`]).
    pub fn is_blacklisted(&self, loc: Location) -> bool {
        !self.loops.contains_key(&loc) && self.hot.is_blacklisted(loc)
    }

    /// Whether a compiled loop exists at `loc`.
    pub fn has_loop(&self, loc: Location) -> bool {
        self.loops.contains_key(&loc)
    }
}

/// The level the compiler thread warms up (`llvm_warm_up`): the first unit's — the
/// first level when tiering, else the engine's — unless that is the baseline level,
/// which has nothing to warm: then the level it tiers up to. Only one: warming a
/// further LLVM level while the thread is idle measured as delaying the next unit (a
/// region arriving mid-warm-up waited ~5 ms on pi), so a later level's one-time cost
/// stays in its first unit's compile time.
fn warm_up_level(config: &EngineConfig, level: Level) -> Option<Level> {
    let tiers = config.params.tier_up > 0 && level != config.first_level;
    let first = if tiers { config.first_level } else { level };
    let warm = if first.uses_llvm() { first } else { level };
    (config.params.llvm_warm_up != 0 && warm.uses_llvm()).then_some(warm)
}
