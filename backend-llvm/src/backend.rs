//! # The [`Backend`]: compile, wire, run and remove units
//!
//! The backend owns the JIT, one TargetMachine per [`Level`] (made on first use) and a
//! record per installed unit: its trace (to decode exits), its entry address, its
//! exit-slot table and jump-target table (boxed `AtomicU64`s whose addresses are baked
//! into the unit's code), its ORC resource tracker, and the list of *other* units'
//! slots that currently point at its entry.
//!
//! Compiling is a straight pipeline, each step timed: lower (incl. IR and LLVM
//! verification) → passes → codegen (object file) → link (add to ORC and look up the
//! entry). Baseline units skip the LLVM steps and ORC: their machine code is copied
//! into the backend's code arena (`crate::arena`; ORC where it cannot be mapped, or
//! with `LEONES_CODE_ARENA=0`, for comparison). Each unit gets a fresh LLVM context
//! that is dropped right after codegen, so LLVM's interned types and constants do not
//! accumulate over thousands of units.
//!
//! Invariants:
//! - a table slot only ever holds a default stub or the entry of a *live* unit:
//!   [`Backend::remove`] resets every slot that points at the removed unit before its
//!   code is freed;
//! - attaching a bridge or linking a target checks that the values handed over match
//!   the entered unit's `block0` parameters, type for type.

use crate::abi::{exit_types, leones_exit_default, leones_jump_default, slots_needed, JitState, UnitFn};
use crate::arena::{CodeArena, CodeBlock};
use crate::build::{BuiltUnit, LoopPart, Machines, Prelude, UnitCode, UnitJob};
use crate::decode::{decode_outcome_with, exit_table, GuardExit, NativeFault};
use crate::jit::{Jit, Tracker};
use crate::lower::UnitInfo;
use crate::passes::Level;
use crate::perfmap;
use crate::BackendError;
use inkwell::context::Context;
use leones_ir::interp::Outcome;
use leones_ir::{FastHashMap, GuardId, GuardInfo, TargetId, Trace, Type};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Identifies an installed unit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId(pub u32);

impl std::fmt::Display for UnitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "u{}", self.0)
    }
}

/// Per-compile options.
#[derive(Clone, Debug)]
pub struct UnitOptions {
    /// Overrides the backend's level for this unit.
    pub level: Option<Level>,
    /// Null and bounds checks on memory accesses (faults instead of crashes). On by
    /// default; an engine whose traces guard every access may turn them off.
    pub checks: bool,
    /// A human name for the unit in profilers (the perf map): `None` means the trace's
    /// name. The entry's symbol stays `leones_unitN` either way.
    pub label: Option<String>,
    /// At the optimized level, build a peeled loop's preamble (blocks before
    /// [`loop_start`](leones_ir::cfg::loop_start)) as baseline code and only the loop
    /// as optimized code, the preamble jumping into the loop. The preamble runs once
    /// per entry; LLVM's code generation is most of an optimized unit's cost. Off by
    /// default; no effect at other levels or on traces without a loop start.
    pub split_preamble: bool,
}

impl Default for UnitOptions {
    fn default() -> Self {
        UnitOptions {
            level: None,
            checks: true,
            label: None,
            split_preamble: false,
        }
    }
}

/// Where the time of one compile went, in microseconds. A baseline unit has no LLVM
/// phases: all of its build (verification included) is `codegen_us`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// IR verification, lowering to LLVM IR, LLVM module verification.
    pub lower_us: u64,
    /// The level's pass pipeline.
    pub passes_us: u64,
    /// Instruction selection, register allocation, object emission.
    pub codegen_us: u64,
    /// Adding the object to ORC and looking up the entry (ORC links here), or copying
    /// baseline code into the code arena.
    pub link_us: u64,
}

impl Timings {
    /// The sum of the phases.
    pub fn total_us(&self) -> u64 {
        self.lower_us + self.passes_us + self.codegen_us + self.link_us
    }
}

/// What [`Backend::compile`] hands back.
#[derive(Clone, Debug)]
pub struct CompiledUnit {
    pub id: UnitId,
    /// The entry point: `entry(state)` runs the unit.
    pub entry: UnitFn,
    /// The exit-slot table: one function pointer per guard (index = guard id).
    pub exit_slots: *const AtomicU64,
    /// The number of guards (exit slots).
    pub guards: usize,
    /// Slot-buffer words this unit needs.
    pub slots_needed: usize,
    /// The level it was compiled at.
    pub level: Level,
    /// The entry's symbol name.
    pub symbol: String,
    pub timings: Timings,
    /// Machine-code bytes: the size of the object file's code sections (`.text*`),
    /// or the whole object file's size if the object cannot be read; baseline code's
    /// length.
    pub code_bytes: u64,
    /// The size of the object file handed to ORC (code, data, relocations, symbols);
    /// baseline code's length when it went to the code arena.
    pub object_bytes: u64,
    /// Machine-code bytes of the entry function alone (its symbol's size), or
    /// `code_bytes` if the object's symbol table does not give it.
    pub entry_bytes: u64,
    /// The unit's name in profilers: [`UnitOptions::label`] or the trace's name.
    pub label: String,
}

/// A table slot of some unit: exit slot `g` or target slot `t`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum SlotRef {
    Exit(UnitId, u32),
    Target(UnitId, u32),
}

struct UnitRecord {
    compiled: CompiledUnit,
    trace: Trace,
    /// Per guard, what decoding its exit needs ([`Backend::decode`]).
    exits: Box<[GuardExit]>,
    exit_slots: Box<[AtomicU64]>,
    target_slots: Box<[AtomicU64]>,
    home: CodeHome,
    /// Slots of other units that hold this unit's entry.
    incoming: Vec<SlotRef>,
    /// Its symbol-name number.
    name: u32,
}

/// Where a unit's code lives: objects in ORC under one tracker, baseline code in the
/// arena (a split unit may have both).
#[derive(Default)]
struct CodeHome {
    tracker: Option<Tracker>,
    blocks: Vec<CodeBlock>,
}

/// The LLVM backend. See the [crate docs](crate) for an example.
pub struct Backend {
    // Units are declared (and so dropped) before the JIT: trackers first.
    units: FastHashMap<UnitId, UnitRecord>,
    /// The largest `slots_needed` of the installed units (at least 1): asked on every
    /// entry, so kept up to date on install and removal rather than computed.
    max_slots: usize,
    jit: Jit,
    /// Executable memory for baseline code; `None` when it cannot be mapped or
    /// `LEONES_CODE_ARENA=0` (baseline objects then go through ORC too).
    arena: Option<CodeArena>,
    machines: Machines,
    level: Level,
    next_id: u32,
    /// Symbol-name numbers free for reuse. ORC interns every symbol name for the life
    /// of the session, so names are recycled rather than made unique per unit.
    free_names: Vec<u32>,
    next_name: u32,
    /// Whether linked units are announced in the process's perf map.
    perf_map: bool,
    /// Whether units are registered with gdb (they then carry unwind tables).
    debugger: bool,
}

impl Backend {
    /// A backend compiling at `level` by default.
    pub fn new(level: Level) -> Result<Backend, BackendError> {
        let mut machines = Machines::default();
        machines.get(level)?;
        Ok(Backend {
            units: FastHashMap::default(),
            max_slots: 1,
            jit: Jit::new()?,
            arena: std::env::var("LEONES_CODE_ARENA")
                .map_or(true, |v| v != "0")
                .then(CodeArena::new)
                .flatten(),
            machines,
            level,
            next_id: 0,
            free_names: Vec::new(),
            next_name: 0,
            perf_map: false,
            debugger: false,
        })
    }

    /// Makes units compiled from now on visible to gdb (the GDB JIT interface, through
    /// ORC's debug support), with unwind tables so gdb can walk the stack through
    /// them (`bt`). Costs some link time per unit.
    pub fn enable_debugger_support(&mut self) -> Result<(), BackendError> {
        self.jit.enable_debug_support()?;
        self.debugger = true;
        Ok(())
    }

    /// Announces every unit linked from now on in the process's perf map
    /// (`/tmp/perf-<pid>.map`, see [`crate::perfmap`]) under its label, so `perf report`
    /// names JIT code. Returns the map's path. The map is the process's: the first
    /// backend to enable it creates the file, others add to it. A map that cannot be
    /// opened is an error; one that later cannot be written is reported once on
    /// stderr and never fails a compile.
    pub fn enable_perf_map(&mut self) -> Result<std::path::PathBuf, BackendError> {
        let path = perfmap::open_process_map().map_err(|e| BackendError::PerfMap(e.to_string()))?;
        self.perf_map = true;
        Ok(path)
    }

    /// Whether [`Backend::enable_debugger_support`] is in force.
    pub fn debugger_support(&self) -> bool {
        self.debugger
    }

    /// The default level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Lowers, optimizes, compiles and installs `trace` as a new unit, on this thread:
    /// [`prepare`](Backend::prepare), build, [`install`](Backend::install).
    pub fn compile(&mut self, trace: &Trace, opts: &UnitOptions) -> Result<CompiledUnit, BackendError> {
        let job = self.prepare(trace, opts);
        let built = self.build(job);
        self.install(built)
    }

    /// The first half of compiling on another thread: a job for `trace` with its id
    /// and symbol name, to be built by a [`Compiler`](crate::Compiler) (or
    /// [`Backend::build`]) and then [installed](Backend::install) or
    /// [discarded](Backend::discard). See [`crate::build`].
    pub fn prepare(&mut self, trace: &Trace, opts: &UnitOptions) -> UnitJob {
        self.prepare_owned(trace.clone(), opts, None)
    }

    /// [`prepare`](Backend::prepare) for a trace that `prelude` still has to turn
    /// into the one to build — on the thread that builds the job, so the host does
    /// not wait for it (an engine's optimizer and instrumentation). See
    /// [`Prelude`](crate::build::Prelude).
    ///
    /// ```
    /// use leones_backend_llvm::{Backend, Level, UnitOptions};
    /// let trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    finish v0\n").unwrap();
    /// let mut backend = Backend::new(Level::Quick).unwrap();
    /// let job = backend.prepare_with(trace, &UnitOptions::default(), Box::new(|t| {
    ///     let n = t.inst_count();
    ///     Ok((t, Box::new(n) as Box<dyn std::any::Any + Send>))
    /// }));
    /// let mut built = backend.build(job);
    /// let payload = built.take_payload().unwrap();
    /// assert_eq!(*payload.downcast::<usize>().unwrap(), 1);
    /// backend.install(built).unwrap();
    /// ```
    pub fn prepare_with(&mut self, trace: Trace, opts: &UnitOptions, prelude: Prelude) -> UnitJob {
        self.prepare_owned(trace, opts, Some(prelude))
    }

    fn prepare_owned(&mut self, trace: Trace, opts: &UnitOptions, prelude: Option<Prelude>) -> UnitJob {
        let mut level = opts.level.unwrap_or(self.level);
        // Baseline code carries no unwind table for a debugger to walk, and exists
        // for x86-64 only: the quick level stands in.
        if level == Level::Baseline && (self.debugger || !cfg!(target_arch = "x86_64")) {
            level = Level::Quick;
        }
        let id = UnitId(self.next_id);
        self.next_id += 1;
        let name = self.free_names.pop().unwrap_or_else(|| {
            self.next_name += 1;
            self.next_name - 1
        });
        let info = UnitInfo {
            symbol: symbol_name(name),
            unit_id: id.0.into(),
            // Set when the job is built and its tables allocated.
            exit_table: 0,
            target_table: 0,
            checks: opts.checks,
            unwind_tables: self.debugger,
            loop_part: None,
        };
        UnitJob {
            id,
            name,
            label: opts.label.clone().unwrap_or_else(|| trace.name.clone()),
            trace,
            level,
            info,
            exit_slots: Box::new([]),
            target_slots: Box::new([]),
            prelude,
            deferrable: false,
            wake: None,
            split_preamble: opts.split_preamble,
        }
    }

    /// Builds a job on this thread (what the compiler thread does).
    pub fn build(&mut self, job: UnitJob) -> BuiltUnit {
        job.build(&mut self.machines)
    }

    /// Gives up a job or a built unit that will not be installed.
    pub fn discard(&mut self, built: BuiltUnit) {
        self.free_names.push(built.job.name);
    }

    /// The second half: adds a built unit's object to ORC, links it and records it.
    /// A build failure is returned here (and the job discarded).
    pub fn install(&mut self, built: BuiltUnit) -> Result<CompiledUnit, BackendError> {
        let BuiltUnit {
            job,
            code,
            loop_part,
            mut timings,
            ..
        } = built;
        let code = match code {
            Ok(c) => c,
            Err(e) => {
                self.free_names.push(job.name);
                return Err(e);
            }
        };
        let (mut object_bytes, mut code_bytes, entry_bytes) = code.sizes(&job.info.symbol);
        // A split unit's loop part: its sizes, read before ORC takes the object.
        let part_sizes = loop_part.as_ref().map(|p| {
            let (object, code, entry) = p.code.sizes(&p.symbol);
            (object, code, entry, p.slots)
        });
        let t3 = Instant::now();
        let linked = self.link(code, &job, loop_part);
        let (home, entry, loop_entry) = match linked {
            Ok(x) => x,
            Err(e) => {
                self.free_names.push(job.name);
                return Err(e);
            }
        };
        timings.link_us = t3.elapsed().as_micros() as u64;
        // SAFETY: the symbol is the unit function, of type `UnitFn`.
        let entry: UnitFn = unsafe { std::mem::transmute::<usize, UnitFn>(entry as usize) };
        let label = job.label;
        if self.perf_map {
            perfmap::record_in_process_map(entry as usize as u64, entry_bytes, &label);
        }
        let mut slots = slots_needed(&job.trace);
        if let (Some((object, code, entry, part_slots)), Some(addr)) = (part_sizes, loop_entry) {
            object_bytes += object;
            code_bytes += code;
            if self.perf_map {
                perfmap::record_in_process_map(addr, entry, &format!("{label} loop"));
            }
            slots = slots.max(part_slots);
        }
        let compiled = CompiledUnit {
            id: job.id,
            entry,
            exit_slots: job.exit_slots.as_ptr(),
            guards: job.trace.guards().len(),
            slots_needed: slots,
            level: job.level,
            symbol: job.info.symbol,
            timings,
            code_bytes,
            object_bytes,
            entry_bytes,
            label,
        };
        let record = UnitRecord {
            compiled: compiled.clone(),
            exits: exit_table(&job.trace),
            trace: job.trace,
            exit_slots: job.exit_slots,
            target_slots: job.target_slots,
            home,
            incoming: Vec::new(),
            name: job.name,
        };
        self.max_slots = self.max_slots.max(compiled.slots_needed);
        self.units.insert(job.id, record);
        Ok(compiled)
    }

    /// Puts a built unit's code where it runs and returns its home, its entry and
    /// a split unit's loop-part address. A split unit's loop part goes first, and the
    /// preamble's hand-off target is pointed at it before the preamble is placed, so
    /// the unit is whole before anyone can enter it. On failure nothing stays placed.
    fn link(
        &mut self,
        code: UnitCode,
        job: &UnitJob,
        loop_part: Option<LoopPart>,
    ) -> Result<(CodeHome, u64, Option<u64>), BackendError> {
        let mut home = CodeHome::default();
        let place_all = || -> Result<(u64, Option<u64>), BackendError> {
            let loop_entry = match loop_part {
                None => None,
                Some(part) => {
                    let addr = self.place(part.code, &part.symbol, &mut home)?;
                    job.target_slots[part.handoff.index()].store(addr, Ordering::Release);
                    Some(addr)
                }
            };
            Ok((self.place(code, &job.info.symbol, &mut home)?, loop_entry))
        };
        match place_all() {
            Ok((entry, loop_entry)) => Ok((home, entry, loop_entry)),
            Err(e) => {
                let _ = self.release(home);
                Err(e)
            }
        }
    }

    /// Places one function's code: baseline code into the arena (one copy), an
    /// object into ORC under `home`'s tracker (linked by the entry's lookup).
    /// Baseline code goes to ORC too, as an ELF object, when there is no arena or it
    /// cannot map more memory. Returns the entry's address.
    fn place(&mut self, code: UnitCode, symbol: &str, home: &mut CodeHome) -> Result<u64, BackendError> {
        if let (UnitCode::Machine(bytes), Some(arena)) = (&code, self.arena.as_mut()) {
            if let Some(block) = arena.install(bytes) {
                let addr = block.addr;
                home.blocks.push(block);
                return Ok(addr);
            }
        }
        let object = code.into_object(symbol)?;
        match &home.tracker {
            Some(tracker) => self.jit.add_object_to(tracker, object)?,
            None => home.tracker = Some(self.jit.add_object(object)?),
        }
        self.jit.lookup(symbol)
    }

    /// Frees a unit's code (no thread may be running it).
    fn release(&mut self, home: CodeHome) -> Result<(), BackendError> {
        if let Some(arena) = self.arena.as_mut() {
            for block in home.blocks {
                arena.free(block);
            }
        }
        home.tracker.map_or(Ok(()), Tracker::remove)
    }

    /// Puts unit `new` everywhere `old` is: every slot that enters `old` now enters
    /// `new`, and `new`'s exit and target slots point where `old`'s do. Both must be
    /// compiled from the same trace (a recompilation at another level, say) — same
    /// guards, same targets, same entry types; `old` is left unreferenced (remove it).
    pub fn replace(&mut self, old: UnitId, new: UnitId) -> Result<(), BackendError> {
        let (o, n) = (self.record(old)?, self.record(new)?);
        // Target counts by trace: a split unit's table has one more entry, its own.
        if o.exit_slots.len() != n.exit_slots.len()
            || o.trace.targets.len() != n.trace.targets.len()
            || self.block0_types(old)? != self.block0_types(new)?
        {
            return Err(BackendError::Signature(format!(
                "unit {new} is not a recompilation of {old} (guards, targets or entry types differ)"
            )));
        }
        let mut moves = Vec::new();
        for (&u, r) in &self.units {
            for s in &r.incoming {
                match *s {
                    SlotRef::Exit(p, g) if p == old => moves.push((SlotRef::Exit(new, g), u)),
                    SlotRef::Target(p, t) if p == old => moves.push((SlotRef::Target(new, t), u)),
                    _ => {}
                }
            }
        }
        for slot in self.record(old)?.incoming.clone() {
            moves.push((slot, new));
        }
        for (slot, to) in moves {
            let to = if to == old { new } else { to };
            self.set_slot(slot, Some(to))?;
        }
        Ok(())
    }

    fn record(&self, id: UnitId) -> Result<&UnitRecord, BackendError> {
        self.units.get(&id).ok_or(BackendError::NoSuchUnit(id.0))
    }

    /// The installed unit `id`.
    pub fn unit(&self, id: UnitId) -> Option<&CompiledUnit> {
        self.units.get(&id).map(|r| &r.compiled)
    }

    /// The trace unit `id` was compiled from.
    pub fn trace(&self, id: UnitId) -> Option<&Trace> {
        self.units.get(&id).map(|r| &r.trace)
    }

    /// Where guard `guard` of unit `id` is (from the unit's exit table: no search).
    pub fn guard_info(&self, id: UnitId, guard: GuardId) -> Option<GuardInfo> {
        self.units.get(&id)?.exits.get(guard.index()).map(|e| e.info)
    }

    /// Decodes how unit `id` left — return code `code`, `state` and `slots` as native
    /// code left them — like [`decode_outcome`] on its trace, but an exit is decoded
    /// with the unit's exit table, built when it was installed: the exit path neither
    /// searches the trace for the guard nor recomputes its live values.
    ///
    /// ```no_run
    /// # use leones_backend_llvm::{Backend, JitState, UnitId};
    /// # fn f(backend: &Backend, unit: UnitId, code: u64, state: &JitState, slots: &[u64]) {
    /// let outcome = backend.decode(unit, code, state, slots);
    /// # }
    /// ```
    pub fn decode(&self, id: UnitId, code: u64, state: &JitState, slots: &[u64]) -> Result<Outcome, NativeFault> {
        let r = self.units.get(&id).ok_or(NativeFault::BadCode(code))?;
        decode_outcome_with(&r.trace, code, state, slots, |g, exc| {
            r.exits.get(g.index())?.decode(&r.trace, slots, exc)
        })
    }

    /// The number of installed units.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// The largest slot buffer any installed unit needs.
    pub fn max_slots_needed(&self) -> usize {
        self.max_slots
    }

    fn block0_types(&self, id: UnitId) -> Result<Vec<Type>, BackendError> {
        let t = &self.record(id)?.trace;
        Ok(t.blocks
            .first()
            .map_or(Vec::new(), |b| b.params.iter().map(|p| t.value_type(*p)).collect()))
    }

    fn set_slot(&mut self, slot: SlotRef, to: Option<UnitId>) -> Result<(), BackendError> {
        let entry = match to {
            Some(u) => self.record(u)?.compiled.entry as usize as u64,
            None => match slot {
                SlotRef::Exit(..) => leones_exit_default as UnitFn as usize as u64,
                SlotRef::Target(..) => leones_jump_default as UnitFn as usize as u64,
            },
        };
        // Whoever the slot pointed at no longer has it as incoming.
        for r in self.units.values_mut() {
            r.incoming.retain(|s| *s != slot);
        }
        let (owner, table_index) = match slot {
            SlotRef::Exit(u, i) | SlotRef::Target(u, i) => (u, i as usize),
        };
        let rec = self.units.get(&owner).ok_or(BackendError::NoSuchUnit(owner.0))?;
        let table = match slot {
            SlotRef::Exit(..) => &rec.exit_slots,
            SlotRef::Target(..) => &rec.target_slots,
        };
        table[table_index].store(entry, Ordering::Release);
        if let Some(u) = to {
            self.units.get_mut(&u).expect("checked above").incoming.push(slot);
        }
        Ok(())
    }

    /// Makes guard `guard` of `parent` enter `bridge` when it fails. The bridge's
    /// `block0` parameters must have the types of the guard's live values
    /// ([`exit_types`](crate::abi::exit_types)), in order. The parent is not recompiled.
    pub fn attach_bridge(&mut self, parent: UnitId, guard: GuardId, bridge: UnitId) -> Result<(), BackendError> {
        let rec = self.record(parent)?;
        let info = rec.trace.guards().into_iter().nth(guard.index());
        let info = info.ok_or(BackendError::NoSuchGuard { unit: parent.0, guard })?;
        let handed = exit_types(&rec.trace, rec.trace.snapshot(info.snapshot));
        let takes = self.block0_types(bridge)?;
        if handed != takes {
            return Err(BackendError::Signature(format!(
                "guard {guard} of {parent} hands over {handed:?}, bridge {bridge} takes {takes:?}"
            )));
        }
        self.set_slot(SlotRef::Exit(parent, guard.0), Some(bridge))
    }

    /// Restores guard `guard` of `parent` to the default exit (returning its id).
    pub fn detach_bridge(&mut self, parent: UnitId, guard: GuardId) -> Result<(), BackendError> {
        let rec = self.record(parent)?;
        if guard.index() >= rec.compiled.guards {
            return Err(BackendError::NoSuchGuard { unit: parent.0, guard });
        }
        self.set_slot(SlotRef::Exit(parent, guard.0), None)
    }

    /// Makes `jump @target(...)` in `unit` enter unit `to` (e.g. a bridge re-entering
    /// its loop). The target's parameter types must match `to`'s `block0`.
    pub fn link_target(&mut self, unit: UnitId, target: TargetId, to: UnitId) -> Result<(), BackendError> {
        let rec = self.record(unit)?;
        let td = rec.trace.targets.get(target.index());
        let td = td.ok_or(BackendError::NoSuchTarget { unit: unit.0, target })?;
        let handed = td.params.clone();
        let takes = self.block0_types(to)?;
        if handed != takes {
            return Err(BackendError::Signature(format!(
                "target {target} of {unit} passes {handed:?}, unit {to} takes {takes:?}"
            )));
        }
        self.set_slot(SlotRef::Target(unit, target.0), Some(to))
    }

    /// Removes unit `id`: every slot pointing at it is reset to its default, its
    /// outgoing links are forgotten, and ORC frees its code.
    pub fn remove(&mut self, id: UnitId) -> Result<(), BackendError> {
        let incoming = self.record(id)?.incoming.clone();
        for slot in incoming {
            self.set_slot(slot, None)?;
        }
        let mut rec = self.units.remove(&id).expect("checked above");
        if rec.compiled.slots_needed >= self.max_slots {
            self.max_slots = self.units.values().map(|r| r.compiled.slots_needed).max().unwrap_or(1);
        }
        for r in self.units.values_mut() {
            r.incoming
                .retain(|s| !matches!(s, SlotRef::Exit(u, _) | SlotRef::Target(u, _) if *u == id));
        }
        let removed = self.release(std::mem::take(&mut rec.home));
        if removed.is_ok() {
            self.free_names.push(rec.name);
        }
        removed
    }

    /// The LLVM IR of `trace` as lowered (verified, before any pass), as text.
    pub fn emit_llvm(&mut self, trace: &Trace, opts: &UnitOptions) -> Result<String, BackendError> {
        self.emit(trace, opts, false)
    }

    /// The LLVM IR of `trace` after the level's pass pipeline, as text.
    pub fn emit_llvm_optimized(&mut self, trace: &Trace, opts: &UnitOptions) -> Result<String, BackendError> {
        self.emit(trace, opts, true)
    }

    fn emit(&mut self, trace: &Trace, opts: &UnitOptions, optimize: bool) -> Result<String, BackendError> {
        let level = opts.level.unwrap_or(self.level);
        if !level.uses_llvm() {
            return Err(BackendError::NoLlvmIr(level.name()));
        }
        let info = UnitInfo {
            symbol: format!("leones_emit_{}", sanitize(&trace.name)),
            unit_id: self.next_id.into(),
            exit_table: 0,
            target_table: 0,
            checks: opts.checks,
            unwind_tables: self.debugger,
            loop_part: None,
        };
        let ctx = Context::create();
        let (module, machine) = crate::build::lower_verified(&ctx, trace, &info, level, &mut self.machines)?;
        if optimize {
            machine.run_passes(&module)?;
        }
        Ok(module.print_to_string().to_string())
    }
}

/// The entry symbol of name slot `n`.
fn symbol_name(n: u32) -> String {
    format!("leones_unit{n}")
}

/// A trace name reduced to `[A-Za-z0-9_]`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_units_report_their_code_size() {
        let trace = leones_ir::parse(
            "trace sum\nframe main code 0x1 slots 2\n\nblock0(v0: i64, v1: i64):\n    v2 = const 0\n    \
             v3 = igt v0, v2\n    guard_true v3 [main@3(v0, v1)]\n    v4 = iadd v1, v0\n    v5 = const 1\n    \
             v6 = isub v0, v5\n    jump block0(v6, v4)\n",
        )
        .unwrap();
        let mut backend = Backend::new(Level::Quick).unwrap();
        let unit = backend.compile(&trace, &UnitOptions::default()).unwrap();
        assert!(unit.code_bytes > 0, "{unit:?}");
        assert!(unit.code_bytes < unit.object_bytes, "{unit:?}");
        // A loop with one guard is a few dozen instructions, not kilobytes.
        assert!(unit.code_bytes < 1024, "{unit:?}");
    }
}
