//! # Building a unit's object file, on any thread
//!
//! Compiling a unit has two halves of very different cost. *Building* — lowering to
//! LLVM IR, the level's pass pipeline, instruction selection and register allocation
//! into an object file, or the baseline level's machine code — is where all the time
//! goes (milliseconds for an optimized region). *Installing* — adding the object to
//! ORC, linking it, looking up its entry, or copying baseline code into the code
//! arena (`crate::arena`) — is short. Building touches nothing shared: a fresh LLVM
//! context per unit, a TargetMachine of its own thread, and the trace. So the backend
//! splits the two:
//!
//! ```text
//!  Backend::prepare(trace)  ──►  UnitJob  ──build()──►  BuiltUnit  ──►  Backend::install
//!   (host thread: id,             (Send)    any thread:   (Send)       (host thread: ORC
//!    symbol name)                           [prelude],                  link, wiring)
//!                                           exit tables,
//!                                           object file
//! ```
//!
//! A [`UnitJob`] owns everything its code will refer to by address — the exit-slot
//! and jump-target tables, allocated when the job is built (their addresses are baked
//! into the code) — so it can travel to the compiler thread ([`crate::Compiler`]) and
//! back, and installing it moves the tables into the backend's record without
//! copying. A job that is never installed is handed back with
//! [`Backend::discard`](crate::Backend::discard) (its symbol name is reused).
//!
//! A job may carry a [`Prelude`]: the host's own work on the trace before it is
//! lowered (an engine's optimizer and instrumentation), run by whoever builds the
//! job, so that on the compiler thread the host's side of the hand-off is only
//! `prepare` — numbering and naming, bounded whatever the trace's size. What the
//! prelude wants to tell the host comes back with the built unit
//! ([`BuiltUnit::take_payload`]); a prelude that fails fails the build
//! ([`BackendError::Prelude`]) and still hands back its payload, which says why.
//!
//! Invariant: a built object refers to nothing but its own job's tables, host
//! functions by absolute address, and the runtime stubs — never to another job.

use crate::abi::{leones_exit_default, leones_jump_default, UnitFn};
use crate::backend::UnitId;
use crate::codegen::{basic_regalloc, reuse_codegen, CodegenPipeline};
use crate::lower::{lower, LoopPartOf, UnitInfo};
use crate::passes::{self, Level, ObjectBuffer};
use crate::split::{split_preamble, SplitUnit};
use crate::{BackendError, Timings};
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use leones_ir::Trace;
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// One [`Machine`] per level, made on first use. They are not shared between
/// threads: the backend and the compiler thread each have their own.
#[derive(Default)]
pub(crate) struct Machines(HashMap<Level, Machine>);

impl Machines {
    pub(crate) fn get(&mut self, level: Level) -> Result<&mut Machine, BackendError> {
        use std::collections::hash_map::Entry;
        Ok(match self.0.entry(level) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Machine {
                codegen: None,
                tm: passes::target_machine(level)?,
                pipeline: passes::effective_pipeline(level),
                basic_regalloc: basic_regalloc(level),
                reuse_codegen: reuse_codegen(),
            }),
        })
    }
}

/// A level's TargetMachine, its settings (read from the environment once, when the
/// machine is made) and the code generator built for it on first use
/// ([`CodegenPipeline`]).
pub(crate) struct Machine {
    /// Declared first so that it is dropped first: it points at `tm`.
    codegen: Option<CodegenPipeline>,
    pub(crate) tm: TargetMachine,
    /// The IR pass pipeline ([`passes::effective_pipeline`]).
    pipeline: String,
    /// LLVM's basic register allocator instead of the greedy one ([`basic_regalloc`]).
    basic_regalloc: bool,
    /// One pass manager for every unit ([`reuse_codegen`]).
    reuse_codegen: bool,
}

impl Machine {
    /// Runs the level's IR pass pipeline on `module` (prepared for this machine).
    pub(crate) fn run_passes(&self, module: &Module<'_>) -> Result<(), BackendError> {
        passes::run_pipeline(module, &self.pipeline, &self.tm)
    }

    /// Generates code for `module` (prepared for this machine) into an object file,
    /// through the machine's reused pass manager — or one built for this module alone
    /// when reuse is off (`LEONES_LLVM_REUSE_CODEGEN=0`, for comparison).
    pub(crate) fn emit_object(&mut self, module: &Module<'_>) -> Result<ObjectBuffer, BackendError> {
        if !self.reuse_codegen {
            return Ok(CodegenPipeline::new(&self.tm, self.basic_regalloc)?.emit(module));
        }
        if self.codegen.is_none() {
            self.codegen = Some(CodegenPipeline::new(&self.tm, self.basic_regalloc)?);
        }
        Ok(self.codegen.as_mut().expect("just built").emit(module))
    }
}

/// What a [`Prelude`] hands back to the host, whatever it is (the host downcasts it).
pub type Payload = Box<dyn Any + Send>;

/// The host's own work on a job's trace, run on the thread that builds it before
/// lowering: takes the trace as prepared, returns the one to build and a payload for
/// the host — or only a payload when it fails (the build then fails with
/// [`BackendError::Prelude`]). Must not panic (a panic would take the compiler
/// thread down). See the [module docs](self).
pub type Prelude = Box<dyn FnOnce(Trace) -> Result<(Trace, Payload), Payload> + Send>;

/// A unit ready to be built: its trace and level. See the [module docs](self).
pub struct UnitJob {
    pub(crate) id: UnitId,
    /// Its symbol-name number (see `Backend::free_names`).
    pub(crate) name: u32,
    /// Its name in profilers ([`UnitOptions::label`](crate::UnitOptions::label)).
    pub(crate) label: String,
    pub(crate) trace: Trace,
    pub(crate) level: Level,
    pub(crate) info: UnitInfo,
    /// Allocated when the job is built, sized from the trace the prelude made.
    pub(crate) exit_slots: Box<[AtomicU64]>,
    pub(crate) target_slots: Box<[AtomicU64]>,
    pub(crate) prelude: Option<Prelude>,
    /// Built after every job that is not (see [`UnitJob::deferrable`]).
    pub(crate) deferrable: bool,
    /// Stored 0 once the job is built (see [`UnitJob::wake_when_built`]).
    pub(crate) wake: Option<Arc<AtomicU64>>,
    /// Build a peeled loop's preamble apart from its loop
    /// ([`UnitOptions::split_preamble`](crate::UnitOptions::split_preamble)).
    pub(crate) split_preamble: bool,
}

/// The loop part of a split unit, built at the optimized level (see `crate::split`).
pub(crate) struct LoopPart {
    pub code: UnitCode,
    /// Its function's symbol.
    pub symbol: String,
    /// The preamble's target that enters it.
    pub handoff: leones_ir::TargetId,
    /// Slot words the hand-off writes.
    pub slots: usize,
}

impl UnitJob {
    /// The id the unit will have once installed.
    pub fn id(&self) -> UnitId {
        self.id
    }

    /// The level it is built at.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The trace it is built from (before its prelude runs, if it has one).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Marks the job as one that may wait: a [`Compiler`](crate::Compiler) builds it
    /// after every queued job that is not marked. For recompilations of code that
    /// already runs natively (a tier-up), so they do not delay code the host is
    /// still interpreting.
    pub fn deferrable(&mut self) {
        self.deferrable = true;
    }

    /// Asks whoever builds the job to store 0 into `word` when the object is ready.
    /// An engine points it at a word running native code polls (a loop's tier-up
    /// limit), so a loop running old code comes out to have the new code installed.
    pub fn wake_when_built(&mut self, word: Arc<AtomicU64>) {
        self.wake = Some(word);
    }

    /// Lowers, optimizes and emits the object file, using `machines` of the calling
    /// thread. Never panics on bad input: a failure is in the result.
    pub(crate) fn build(mut self, machines: &mut Machines) -> BuiltUnit {
        let mut timings = Timings::default();
        let (prepared, payload) = self.run_prelude();
        let mut loop_part = None;
        let code = prepared.and_then(|()| {
            let wants_split = self.split_preamble && self.level == Level::Optimized;
            let split = if wants_split { split_preamble(&self.trace) } else { None };
            self.allocate_tables(split.is_some());
            match split {
                Some(split) => build_split(&self, &split, machines, &mut timings).map(|(preamble, part)| {
                    loop_part = Some(part);
                    preamble
                }),
                None => build_code(&self.trace, &self.info, self.level, machines, &mut timings),
            }
        });
        if let Some(w) = &self.wake {
            w.store(0, Ordering::Release);
        }
        BuiltUnit {
            job: self,
            code,
            loop_part,
            timings,
            payload,
        }
    }

    /// Runs the job's prelude (if any) on its trace: whether it succeeded, and what it
    /// handed back.
    fn run_prelude(&mut self) -> (Result<(), BackendError>, Option<Payload>) {
        let Some(prelude) = self.prelude.take() else {
            return (Ok(()), None);
        };
        match prelude(std::mem::take(&mut self.trace)) {
            Ok((trace, payload)) => {
                self.trace = trace;
                (Ok(()), Some(payload))
            }
            Err(payload) => (Err(BackendError::Prelude), Some(payload)),
        }
    }

    /// The exit-slot and jump-target tables for the trace to build, their addresses
    /// in `info` for the lowering. A split unit's target table has one more entry,
    /// after the trace's own: the preamble's jump into the loop part.
    fn allocate_tables(&mut self, split: bool) {
        fn table(n: usize, f: UnitFn) -> Box<[AtomicU64]> {
            (0..n.max(1)).map(|_| AtomicU64::new(f as usize as u64)).collect()
        }
        self.exit_slots = table(self.trace.guards().len(), leones_exit_default);
        self.target_slots = table(self.trace.targets.len() + usize::from(split), leones_jump_default);
        self.info.exit_table = self.exit_slots.as_ptr() as u64;
        self.info.target_table = self.target_slots.as_ptr() as u64;
    }
}

/// Lowers `trace` into a module of `ctx` with the target's triple and data layout,
/// verified by LLVM; also returns the level's [`Machine`].
pub(crate) fn lower_verified<'ctx, 'm>(
    ctx: &'ctx Context,
    trace: &Trace,
    info: &UnitInfo,
    level: Level,
    machines: &'m mut Machines,
) -> Result<(Module<'ctx>, &'m mut Machine), BackendError> {
    let module = lower(ctx, trace, info)?;
    let machine = machines.get(level)?;
    passes::prepare(&module, &machine.tm);
    passes::verify(&module)?;
    Ok((module, machine))
}

/// What building a unit's code produces: an object file for ORC (the LLVM levels),
/// or the baseline level's machine code, which needs no linker (`crate::arena`).
pub(crate) enum UnitCode {
    Object(ObjectBuffer),
    Machine(Vec<u8>),
}

impl UnitCode {
    /// As an object file defining `symbol` (machine code wrapped in an ELF object).
    pub(crate) fn into_object(self, symbol: &str) -> Result<ObjectBuffer, BackendError> {
        match self {
            UnitCode::Object(obj) => Ok(obj),
            UnitCode::Machine(code) => Ok(ObjectBuffer::from_bytes(
                &crate::baseline::elf_object(symbol, &code)?,
                symbol,
            )),
        }
    }

    /// `(object, code, entry)` sizes in bytes, as [`CompiledUnit`](crate::CompiledUnit)
    /// reports them: an object file's size, its code sections' and its entry
    /// function's (falling back to the object's and the code's when it cannot be
    /// read); machine code is all three.
    pub(crate) fn sizes(&self, symbol: &str) -> (u64, u64, u64) {
        match self {
            UnitCode::Machine(code) => {
                let n = code.len() as u64;
                (n, n, n)
            }
            UnitCode::Object(obj) => {
                let bytes = obj.object_size();
                let sizes = obj.code_sizes(symbol);
                let text = sizes.map_or(bytes, |s| s.text);
                (bytes, text, sizes.and_then(|s| s.entry).unwrap_or(text))
            }
        }
    }
}

/// Builds `trace`'s code at `level`, adding the phases' times to `timings`.
fn build_code(
    trace: &Trace,
    info: &UnitInfo,
    level: Level,
    machines: &mut Machines,
    timings: &mut Timings,
) -> Result<UnitCode, BackendError> {
    let t0 = Instant::now();
    if !level.uses_llvm() {
        let code = crate::baseline::emit_code(trace, info)?;
        timings.codegen_us += t0.elapsed().as_micros() as u64;
        return Ok(UnitCode::Machine(code));
    }
    let ctx = Context::create();
    let (module, machine) = lower_verified(&ctx, trace, info, level, machines)?;
    let t1 = Instant::now();
    machine.run_passes(&module)?;
    let t2 = Instant::now();
    let obj = machine.emit_object(&module)?;
    let t3 = Instant::now();
    timings.lower_us += (t1 - t0).as_micros() as u64;
    timings.passes_us += (t2 - t1).as_micros() as u64;
    timings.codegen_us += (t3 - t2).as_micros() as u64;
    Ok(UnitCode::Object(obj))
}

/// Builds a split unit: the preamble at the baseline level (the quick one when the
/// unit needs unwind tables: baseline code has none) under the unit's symbol, the
/// loop part at the job's level under its own. See `crate::split`.
fn build_split(
    job: &UnitJob,
    split: &SplitUnit,
    machines: &mut Machines,
    timings: &mut Timings,
) -> Result<(UnitCode, LoopPart), BackendError> {
    let preamble_level = if job.info.unwind_tables {
        Level::Quick
    } else {
        Level::Baseline
    };
    let preamble = build_code(&split.preamble, &job.info, preamble_level, machines, timings)?;
    let info = UnitInfo {
        symbol: format!("{}_loop", job.info.symbol),
        loop_part: Some(LoopPartOf {
            guard_base: split.guard_base,
            block_base: split.block_base,
        }),
        ..job.info.clone()
    };
    let code = build_code(&split.body, &info, job.level, machines, timings)?;
    Ok((
        preamble,
        LoopPart {
            code,
            symbol: info.symbol,
            handoff: split.handoff,
            slots: split.slots,
        },
    ))
}

/// A small loop trace touching what real units use — integer arithmetic with an
/// overflow guard, floats, a field load and store, a guard with a two-frame
/// snapshot, a loop back-edge — for [`warm_up`].
const WARM_UP_TRACE: &str = "trace leones_warm_up
layout P size 24 class 0x51
field P.x: f64 @8
frame main code 0x1 slots 3
frame inner code 0x2 slots 1

block0(v0: i64, v1: f64, v2: ref):
    v3 = const 1
    v4 = iadd_ovf v0, v3
    guard_no_overflow v4 [main@1(v0, v1, v2), inner@2(v0)]
    v5 = i2f v4
    v6 = getfield v2, P.x
    v7 = fadd v6, v5
    setfield v2, P.x, v7
    v8 = const 1000
    v9 = ilt v4, v8
    guard_true v9 [main@2(v4, v7, v2)]
    jump block0(v4, v7, v2)
";

/// Builds a small representative trace at `level` and throws the object away, so that
/// LLVM's one-time costs for the level — its TargetMachine, the first run of the pass
/// builder and of the code generator, lazily built tables — are paid here rather than
/// by the first real unit. The baseline code generator is warmed the same way (its
/// assembler's tables and the object writer: the first baseline unit of a process
/// took ~2x longer than the next before). Returns the time it took. Best effort: a
/// failure here only means the first unit pays instead.
pub(crate) fn warm_up(machines: &mut Machines, level: Level) -> std::time::Duration {
    let t0 = Instant::now();
    if let Ok(trace) = leones_ir::parse(WARM_UP_TRACE) {
        let info = UnitInfo {
            symbol: "leones_warm_up".into(),
            unit_id: u64::from(u32::MAX),
            exit_table: 0,
            target_table: 0,
            checks: true,
            unwind_tables: false,
            loop_part: None,
        };
        let _ = crate::baseline::emit_code(&trace, &info);
        let ctx = Context::create();
        let _ = lower_verified(&ctx, &trace, &info, level, machines).and_then(|(module, machine)| {
            machine.run_passes(&module)?;
            machine.emit_object(&module).map(drop)
        });
    }
    t0.elapsed()
}

/// A built job: its code (or why there is none), ready for
/// [`Backend::install`](crate::Backend::install).
pub struct BuiltUnit {
    pub(crate) job: UnitJob,
    /// The unit's code: the whole trace, or a split unit's preamble.
    pub(crate) code: Result<UnitCode, BackendError>,
    /// A split unit's loop part.
    pub(crate) loop_part: Option<LoopPart>,
    pub(crate) timings: Timings,
    pub(crate) payload: Option<Payload>,
}

impl BuiltUnit {
    /// The id the unit gets when installed.
    pub fn id(&self) -> UnitId {
        self.job.id
    }

    /// The level it was built at.
    pub fn level(&self) -> Level {
        self.job.level
    }

    /// Whether building failed (installing it returns the error).
    pub fn failed(&self) -> bool {
        self.code.is_err()
    }

    /// The trace it was built from (the prelude's, if the job had one and it
    /// succeeded).
    pub fn trace(&self) -> &Trace {
        &self.job.trace
    }

    /// What the job's [`Prelude`] handed back (once; `None` without a prelude).
    pub fn take_payload(&mut self) -> Option<Payload> {
        self.payload.take()
    }

    /// Time spent building (lowering, passes, codegen).
    pub fn timings(&self) -> Timings {
        self.timings
    }
}
