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
//!  recording closes at the header ─► verify ─► optimize (leones-opt default pipeline)
//!        ─► verify ─► compile (Level::Quick) ─► the loop unit for `loc`
//!
//!  enter(loc, slots, memory) ─► native code (loop, attached bridges, back into the loop)
//!        ─► Finish(values) | Exit: decode the slot buffer ─► resume (materialize virtual
//!           objects through the host's callbacks, cycles included) ─► frames + pcs
//!        ─► side-exit counter; past `bridge_threshold` a bridge recording starts from
//!           the exit's state; when it reaches the loop's header it is adapted to the
//!           exit's values, optimized, compiled, attached to the exit slot, and its
//!           `jump @loop` linked to the loop unit: from then on that path never leaves
//!           native code.
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
//! costly, only when asked), `exit` (every exit taken with its resume frames).
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
//! let params = Params { threshold: 3, ..Params::default() };
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

use adapt::{adapt_bridge, count_entries};
use leones_backend_llvm::abi::{JitState, TakeExceptionFn};
use leones_backend_llvm::decode::decode_outcome;
use leones_backend_llvm::{Backend, Level, UnitId as BUnit, UnitOptions};
use leones_ir::interp::{Outcome, Val};
use leones_ir::{GuardId, GuardKind, Op, TargetId, Trace};
use leones_opt::{OptContext, Pass, PassList};
use leones_tracer::{
    resume, Abort, Action, Hotness, Location, LogConfig, LoopTarget, Materialize, ParamError, Params, Recorded,
    Recorder, Registry, ResumeFrame, ShapeFrame, Stats, UnitId, UnitKind,
};
use std::collections::{HashMap, HashSet};
use std::ffi::c_void;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use leones_tracer::{FrameRef, HeapMaterializer};

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

unsafe extern "C" fn alloc_trampoline<M: HostMemory>(ctx: *mut c_void, size: u64) -> u64 {
    // SAFETY: `run_native` passes the `&mut M` it holds exclusively for the call.
    unsafe { (*(ctx as *mut M)).alloc_raw(size) }
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
}

/// How an engine is set up; [`EngineConfig::new`] reads no environment.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub params: Params,
    pub log: LogConfig,
    pub level: Level,
    pub inject: Option<InjectFailure>,
}

impl EngineConfig {
    /// These params, nothing logged, [`Level::Quick`].
    pub fn new(params: Params) -> EngineConfig {
        EngineConfig {
            params,
            log: LogConfig::default(),
            level: Level::Quick,
            inject: None,
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

/// The engine's own counters (the tracer's are in [`Engine::tracer_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Loop units compiled and installed.
    pub loops_compiled: u64,
    /// Bridge units compiled and attached to their exit slot.
    pub bridges_attached: u64,
    /// Bridges recorded whose exit hands over a virtual object (not attached).
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
}

struct LoopUnit {
    unit: BUnit,
    target: LoopTarget,
}

struct UnitMeta {
    root: Location,
    kind: UnitKind,
    /// Index into `Engine::counters` (bridges).
    counter: Option<usize>,
}

/// Where a failure happened between recording and installed code.
#[derive(Debug)]
enum Stage {
    Verify(String),
    Optimize(String),
    Backend(String),
}

/// A pass that breaks every trace ([`InjectFailure::Optimize`]).
struct BreakPass;

impl Pass for BreakPass {
    fn name(&self) -> &'static str {
        "inject_break"
    }
    fn run(&self, trace: &mut Trace, _: &OptContext) {
        if let Some(b) = trace.blocks.last_mut() {
            b.insts.pop();
        }
    }
}

static BREAK_PASS: BreakPass = BreakPass;

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
    take_exception: Option<TakeExceptionFn>,
    slots: Vec<u64>,
    pipeline: PassList,
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
            Some(p) if config.log.any() => Some(
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
        let mut pipeline = leones_opt::default_pipeline();
        if config.inject == Some(InjectFailure::Optimize) {
            pipeline.push(&BREAK_PASS);
        }
        Ok(Engine {
            registry,
            hot: Hotness::new(config.params.clone()),
            params: config.params,
            log: config.log,
            log_file,
            backend,
            backend_error,
            loops: HashMap::new(),
            units: HashMap::new(),
            recording: None,
            no_bridge: HashSet::new(),
            interrupt: Arc::new(AtomicU64::new(0)),
            counters: Vec::new(),
            stats: EngineStats::default(),
            inject: config.inject,
            take_exception: None,
            slots: vec![0; 16],
            pipeline,
        })
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
        match mode {
            Mode::Loop(loc) => drop(self.hot.aborted(loc, &why)),
            Mode::Bridge { parent, guard, .. } => drop(self.hot.bridge_aborted(UnitId(parent.0.into()), guard, &why)),
        }
    }

    /// The host's interpreter is at loop header `loc` in a frame of kind `frame` at
    /// `pc`, with these slot values (`None` = dead). Call it on every arrival except
    /// right after resuming from an exit (see the module invariants).
    pub fn on_loop_header(&mut self, loc: Location, frame: FrameRef, pc: u32, slots: &[Option<Val>]) -> HeaderAction {
        if let Some((rec, _)) = self.recording.as_mut() {
            match rec.at_header(loc) {
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
        if self.backend.is_none() {
            return HeaderAction::Interpret;
        }
        match self.hot.tick(loc) {
            Action::Record => {
                let entry = ShapeFrame::of(frame, pc, slots);
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

    /// Whether a compiled loop exists at `loc`.
    pub fn has_loop(&self, loc: Location) -> bool {
        self.loops.contains_key(&loc)
    }

    /// Runs the compiled loop at `loc` natively from the header frame's `slots`, with
    /// `memory` serving allocations and exits, until it leaves.
    pub fn enter<M: HostMemory>(
        &mut self,
        loc: Location,
        slots: &[Option<Val>],
        memory: &mut M,
    ) -> Result<Entered, EngineError> {
        let Some(lp) = self.loops.get(&loc) else {
            return Ok(Entered::NotEntered);
        };
        let Ok(mut inputs) = lp.target.shape.inputs(&[slots]) else {
            return Ok(Entered::NotEntered);
        };
        let mut unit = lp.unit;
        self.stats.loop_entries += 1;
        loop {
            let (left, outcome) = match self.run_native(unit, &inputs, memory) {
                Ok(x) => x,
                Err((left, msg)) => {
                    self.stats.native_faults += 1;
                    self.retire(left);
                    return Err(EngineError::Fault(msg));
                }
            };
            match outcome {
                Outcome::Finish(vals) => return Ok(Entered::Finish(vals)),
                Outcome::Jump { target, args } => {
                    // A target that was not linked (or was unlinked): enter it here.
                    let name = self
                        .backend()
                        .trace(left)
                        .and_then(|t| t.targets.get(target.index()))
                        .map(|t| t.name.clone());
                    let to = self.loops.values().find(|l| Some(&l.target.name) == name.as_ref());
                    match to {
                        Some(l) => {
                            unit = l.unit;
                            inputs = args;
                        }
                        None => return Err(EngineError::Fault(format!("jump to unknown unit {name:?}"))),
                    }
                }
                Outcome::Exit(exit) => return Ok(Entered::Exit(self.exited(left, &exit, memory)?)),
            }
        }
    }

    fn backend(&self) -> &Backend {
        self.backend.as_ref().expect("units exist only with a backend")
    }

    /// One native run of `unit`: which unit left, and how.
    fn run_native<M: HostMemory>(
        &mut self,
        unit: BUnit,
        inputs: &[Val],
        memory: &mut M,
    ) -> Result<(BUnit, Outcome), (BUnit, String)> {
        let backend = self.backend.as_ref().expect("units exist only with a backend");
        let entry = backend.unit(unit).ok_or((unit, "no such unit".to_string()))?.entry;
        let n = backend.max_slots_needed().max(inputs.len());
        if self.slots.len() < n {
            self.slots.resize(n, 0);
        }
        for (s, v) in self.slots.iter_mut().zip(inputs) {
            *s = v.to_bits();
        }
        let mut state = JitState::new(&mut self.slots);
        state.alloc = alloc_trampoline::<M>;
        state.alloc_ctx = memory as *mut M as *mut c_void;
        state.interrupt = Arc::as_ptr(&self.interrupt);
        if let Some(f) = self.take_exception {
            state.take_exception = f;
        }
        // SAFETY: the unit was compiled from a trace the host recorded over its own
        // objects; inputs fit its entry shape (checked by the caller); the state, slot
        // buffer, memory and interrupt word outlive the call.
        let code = unsafe { entry(&mut state) };
        let left = BUnit(state.unit as u32);
        let trace = backend.trace(left).ok_or((left, format!("unknown unit {left} left")))?;
        decode_outcome(trace, code, &state, &self.slots)
            .map(|o| (left, o))
            .map_err(|f| (left, f.to_string()))
    }

    /// Resumes an exit of unit `left`, counts it and maybe starts a bridge recording.
    fn exited<M: HostMemory>(
        &mut self,
        left: BUnit,
        exit: &leones_ir::interp::ExitState,
        memory: &mut M,
    ) -> Result<Exit, EngineError> {
        let backend = self.backend.as_ref().expect("units exist only with a backend");
        let trace = backend.trace(left).expect("the unit that left is installed");
        let back = resume(&self.registry, trace, exit, memory).map_err(|e| EngineError::Fault(e.to_string()))?;
        let guard = back.guard;
        let info = trace.guards().into_iter().nth(guard.index());
        let interrupted = info.is_some_and(|g| {
            matches!(
                trace.blocks[g.block.index()].insts[g.inst].op,
                Op::Guard(GuardKind::NoInterrupt, _)
            )
        });
        self.stats.exits += 1;
        let Some(meta) = self.units.get(&left) else {
            return Err(EngineError::Fault(format!("unit {left} is not the engine's")));
        };
        let root = meta.root;
        if meta.kind == UnitKind::Bridge {
            self.stats.bridge_exits += 1;
        }
        if self.log.exit {
            let mut s = format!(
                "; exit {} guard {guard}{}:",
                trace.name,
                if interrupted { " (interrupt)" } else { "" }
            );
            for f in &back.frames {
                let _ = write!(s, " {:?}@{} {:?}", f.frame, f.pc, f.slots);
            }
            self.emit_log(&s);
        }
        let mut recording_bridge = false;
        if interrupted {
            self.stats.interrupts += 1;
        } else if self.hot.exit_taken(UnitId(left.0.into()), guard) == Action::Record
            && self.recording.is_none()
            && !self.no_bridge.contains(&(left, guard))
        {
            if let Some(target) = self.loops.get(&root).map(|l| l.target.clone()) {
                match Recorder::start_bridge(&self.registry, &self.params, back.shape().0, &target) {
                    Ok(r) => {
                        let mode = Mode::Bridge {
                            parent: left,
                            guard,
                            root,
                        };
                        self.recording = Some((r, mode));
                        recording_bridge = true;
                    }
                    Err(why) => drop(self.hot.bridge_aborted(UnitId(left.0.into()), guard, &why)),
                }
            }
        }
        Ok(Exit {
            frames: back.frames,
            exception_pending: back.exception_pending,
            interrupted,
            recording_bridge,
        })
    }

    /// A recording closed: compile and install it.
    fn finish(&mut self, mode: Mode, done: Recorded) {
        match mode {
            Mode::Loop(loc) => {
                let target = done.target().expect("a loop recording");
                match self.compile(done.trace, loc, UnitKind::Loop) {
                    Ok(unit) => {
                        // Counted as recorded only once installed, so that failures
                        // keep accumulating towards the blacklist.
                        self.hot.recorded(loc);
                        self.stats.loops_compiled += 1;
                        self.loops.insert(loc, LoopUnit { unit, target });
                    }
                    Err(stage) => self.failed(Mode::Loop(loc), stage),
                }
            }
            Mode::Bridge { parent, guard, root } => {
                let Some(loop_unit) = self.loops.get(&root).map(|l| l.unit) else {
                    return;
                };
                let adapted = {
                    let Some(pt) = self.backend().trace(parent) else { return };
                    let Some(g) = pt.guards().into_iter().nth(guard.index()) else {
                        return;
                    };
                    adapt_bridge(pt, pt.snapshot(g.snapshot), &done.trace)
                };
                let Some(trace) = adapted else {
                    self.hot.bridge_recorded(UnitId(parent.0.into()), guard);
                    self.stats.bridges_unattachable += 1;
                    self.no_bridge.insert((parent, guard));
                    return;
                };
                let unit = match self.compile(trace, root, UnitKind::Bridge) {
                    Ok(u) => u,
                    Err(stage) => return self.failed(mode, stage),
                };
                let backend = self.backend.as_mut().expect("compiled");
                let wired = backend
                    .link_target(unit, TargetId(0), loop_unit)
                    .and_then(|()| backend.attach_bridge(parent, guard, unit));
                match wired {
                    Ok(()) => {
                        self.hot.bridge_recorded(UnitId(parent.0.into()), guard);
                        self.stats.bridges_attached += 1;
                    }
                    Err(e) => {
                        self.retire(unit);
                        self.failed(mode, Stage::Backend(e.to_string()));
                    }
                }
            }
        }
    }

    /// Counts and logs a failure after recording; backs the key off like an abort.
    fn failed(&mut self, mode: Mode, stage: Stage) {
        let (counter, msg) = match &stage {
            Stage::Verify(m) => (&mut self.stats.verify_failures, m),
            Stage::Optimize(m) => (&mut self.stats.opt_failures, m),
            Stage::Backend(m) => (&mut self.stats.backend_failures, m),
        };
        *counter += 1;
        let why = Abort::Invalid(format!("{stage:?}"));
        if self.log.any() {
            self.emit_log(&format!("; compile failed, interpreting: {msg}"));
        }
        match mode {
            Mode::Loop(loc) => drop(self.hot.aborted(loc, &why)),
            Mode::Bridge { parent, guard, .. } => drop(self.hot.bridge_aborted(UnitId(parent.0.into()), guard, &why)),
        }
    }

    /// Verify, optimize, (instrument), compile.
    fn compile(&mut self, mut trace: Trace, root: Location, kind: UnitKind) -> Result<BUnit, Stage> {
        if self.inject == Some(InjectFailure::Verify) {
            trace.blocks[0].insts.pop();
        }
        if self.log.trace {
            self.emit_log(&format!("; recorded\n{}", leones_ir::print(&trace)));
        }
        leones_ir::verify(&trace).map_err(|e| Stage::Verify(e.to_string()))?;
        let t0 = Instant::now();
        let ctx = OptContext {
            pure_calls: None,
            verify_each_pass: cfg!(debug_assertions) || self.inject == Some(InjectFailure::Optimize),
        };
        let (mut opt, _) =
            leones_opt::optimize(&trace, &self.pipeline, &ctx).map_err(|e| Stage::Optimize(e.to_string()))?;
        leones_ir::verify(&opt).map_err(|e| Stage::Optimize(format!("the optimized trace does not verify: {e}")))?;
        self.hot.stats_mut().add_compile_time("opt", t0.elapsed());
        if self.log.opt {
            self.emit_log(&format!("; optimized\n{}", leones_ir::print(&opt)));
        }
        let counter = (kind == UnitKind::Bridge).then(|| {
            self.counters.push(Box::new(AtomicU64::new(0)));
            let c = self.counters.last().expect("pushed");
            count_entries(&mut opt, c.as_ref() as *const AtomicU64 as u64);
            self.counters.len() - 1
        });
        if self.inject == Some(InjectFailure::Backend) {
            opt.blocks[0].insts.pop();
        }
        let opts = UnitOptions::default();
        if self.log.llvm {
            let backend = self.backend.as_mut().ok_or(Stage::Backend("no backend".into()))?;
            let ir = backend.emit_llvm(&opt, &opts).unwrap_or_else(|e| format!("; {e}"));
            self.emit_log(&format!("; llvm {}\n{ir}", opt.name));
        }
        let backend = self.backend.as_mut().ok_or(Stage::Backend("no backend".into()))?;
        let t1 = Instant::now();
        let tier = format!("{:?}", backend.level()).to_lowercase();
        let unit = backend
            .compile(&opt, &opts)
            .map_err(|e| Stage::Backend(e.to_string()))?;
        self.hot.stats_mut().add_compile_time(&tier, t1.elapsed());
        self.units.insert(unit.id, UnitMeta { root, kind, counter });
        Ok(unit.id)
    }

    /// Removes a unit (after a fault or a failed wiring).
    fn retire(&mut self, unit: BUnit) {
        self.loops.retain(|_, l| l.unit != unit);
        self.units.remove(&unit);
        if let Some(b) = self.backend.as_mut() {
            let _ = b.remove(unit);
        }
    }

    /// The engine's counters.
    pub fn stats(&self) -> EngineStats {
        let mut s = self.stats.clone();
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
        let mut s = t.summary();
        // The tracer's last line is code bytes, which the backend does not report.
        if let Some(i) = s.rfind("  code bytes") {
            s.truncate(i);
        }
        let _ = writeln!(s, "  code bytes      n/a (the backend does not report unit sizes)");
        let _ = writeln!(
            s,
            "  units           {} loops, {} bridges",
            e.loops_compiled, e.bridges_attached
        );
        let _ = writeln!(s, "  unattachable    {}", e.bridges_unattachable);
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

    fn emit_log(&mut self, text: &str) {
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
    }
}
