//! # The host side: loop headers, entering compiled code, rebuilding frames
//!
//! [`Vm::jit_header`] runs at every `Loop` back-edge of the outermost interpreter run.
//! It passes the frame's slots to [`Engine::on_loop_header`]; while a recording is
//! under way, [`Vm::jit_record`] reports each instruction before it executes. When a
//! compiled loop exists, the frame's slots go into [`Engine::enter`]; what comes back
//! is an exit: the frames to resume, outermost first. The first is the frame that
//! entered (its slots are overwritten); each further one is an inlined call, which
//! becomes a real frame again — its kind (`__init__` or not) and where its result goes
//! read off the caller's call instruction, the caller's pc stepped past it.
//!
//! An exit through a residual call's `guard_no_exception` means the call already ran:
//! the parked outcome ([`Pending`]) is thrown at the call or stored in its result
//! register — the call is never executed twice.
//!
//! [`PyMemory`] is pylite's [`HostMemory`]: objects compiled code allocates are
//! registered with the collector, and virtual instances, tuples and iterators are
//! materialized as real ones.
//!
//! For warm-up measurement the JIT notes how long after its set-up (the VM's
//! creation) compiled code was first entered ([`Jit::first_entry`], reported as
//! `JitReport::first_compiled_secs`); the clock is read only until then.

use super::generators::GenResume;
use super::iter::call_dst;
use super::live::Site;
use super::natives::{take_pending, Pending};
use super::record::{record, PostCall, Rec};
use super::values::{const_tv, from_val, to_val};
use super::world::World;
use super::JitConfig;
use crate::bytecode::{Code, Instr};
use crate::error::ExcType;
use crate::object::*;
use crate::value::Value;
use crate::vm::{Frame, FrameKind, Vm, STACK_SLOTS};
use leones::engine::{Engine, EngineConfig, Entered, HeaderAction, HostMemory, LocationNamer};
use leones_ir::interp::Val;
use leones_tracer::{Abort, FieldRef, LayoutRef, Location, Materialize, ResumeFrame, ShapeFrame};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// The JIT state a VM owns.
pub(crate) struct Jit {
    pub engine: Engine,
    pub world: World,
    /// Objects compiled code refers to by address (GC roots).
    pub roots: Vec<Value>,
    /// A residual call recorded but not yet emitted (its result is not known yet).
    post: Option<PostCall>,
    /// Generator frames the recording under way inlined (empty when none is).
    gens: Vec<GenResume>,
    /// Recordings started so far, as last seen (to notice a new one).
    serial: u64,
    /// Objects compiled code and exits allocated.
    pub allocations: u64,
    /// The slot values of the last loop header (a buffer, reused).
    header_vals: Vec<Option<Val>>,
    /// Headers the engine blacklisted: not reported any more (saves building the
    /// slot list at every iteration of a loop that will never be compiled).
    skip: leones_tracer::FastHashSet<Location>,
    /// The lazy values of the recording under way ([`super::lazy`]).
    lazy: Vec<leones_tracer::Tv>,
    /// When the JIT was set up (with the VM, before the program is read).
    started: std::time::Instant,
    /// How long after `started` compiled code was first entered (warm-up).
    pub first_entry: Option<std::time::Duration>,
}

/// What the interpreter does after a loop header.
pub(crate) enum JitNext {
    /// Keep interpreting at the same pc.
    Continue,
    /// Frames changed (an exit): reload the top frame.
    Reload,
    /// Frames changed and this exception is to be thrown in the top frame.
    Throw(Value),
}

impl Jit {
    /// A JIT as `config` says; `None` (interpret only) if the engine cannot be set up.
    pub fn new(config: &JitConfig) -> Result<Jit, String> {
        let started = std::time::Instant::now();
        let world = World::new();
        let mut ec = if config.read_env {
            EngineConfig::from_env(config.params.clone()).map_err(|e| e.to_string())?
        } else {
            EngineConfig::new(config.params.clone())
        };
        ec.level = config.level;
        ec.bridge_level = config.bridge_level;
        ec.first_level = config.first_level;
        let mut engine = Engine::with_config(world.reg.clone(), ec).map_err(|e| e.to_string())?;
        engine.set_exception_hook(Some(take_pending));
        engine.set_location_namer(Some(location_namer(world.known_codes())));
        Ok(Jit {
            engine,
            world,
            roots: Vec::new(),
            post: None,
            gens: Vec::new(),
            serial: 0,
            allocations: 0,
            skip: Default::default(),
            header_vals: Vec::new(),
            lazy: Vec::new(),
            started,
            first_entry: None,
        })
    }
}

/// The recording context for an instruction of `code` (`None` when nothing records).
/// A pending residual call goes to `post`, or to the JIT's own slot when `post` is
/// `None` (the call being flushed must not park another one there).
fn recording_context<'a>(
    jit: &'a mut Jit,
    vm: &'a Vm,
    code: &'a Code,
    regs: *const Value,
    post: Option<&'a mut Option<PostCall>>,
) -> Option<Rec<'a>> {
    let Jit {
        engine,
        world,
        roots,
        post: own_post,
        gens,
        lazy,
        ..
    } = jit;
    Some(Rec {
        r: engine.recorder()?,
        w: world,
        roots,
        vm,
        code,
        regs,
        post: post.unwrap_or(own_post),
        gens,
        lazy,
    })
}

/// The location of a loop header: the code object and the header's pc.
fn location(code: *const Code, pc: usize) -> Location {
    Location(((code as u64) << 16) | pc as u64)
}

/// pylite's names for loop headers in profilers (see `docs/profiling.md`):
/// `function:line`, read back from a [`location`]. A location whose code object the
/// world never made a frame kind for is `loc<N>` (never dereferenced).
fn location_namer(known: Rc<RefCell<HashSet<usize>>>) -> LocationNamer {
    Box::new(move |loc| {
        let (code, pc) = ((loc.0 >> 16) as usize, (loc.0 & 0xffff) as usize);
        if !known.borrow().contains(&code) {
            return format!("loc{}", loc.0);
        }
        // SAFETY: a code object the world made a frame kind for; code objects live as
        // long as the VM, which owns the engine that calls this.
        let code = unsafe { &*(code as *const Code) };
        format!("{}:{}", code.name, code.line_at(pc))
    })
}

/// pylite's memory, for compiled code's `new` and for materializing virtuals.
struct PyMemory<'a> {
    vm: *mut Vm,
    world: &'a World,
    allocations: &'a mut u64,
}

impl Materialize for PyMemory<'_> {
    fn allocate(&mut self, layout: LayoutRef) -> Result<u64, String> {
        // SAFETY: the VM outlives the native run that exits here.
        let heap = unsafe { &mut (*self.vm).heap };
        let il = &self.world.iters;
        let known = layout == il.seq || layout == il.range || layout == il.range_obj;
        let l = self.world.layout_info(layout);
        let gen = self.world.generator_info(layout);
        if !known && l.is_none() && gen.is_none() {
            return Err("not a pylite layout".into());
        }
        *self.allocations += 1;
        if let Some(g) = gen {
            // SAFETY: VM-owned code.
            let n = unsafe { (*g.code_ptr).nslots as usize };
            return Ok(heap.alloc_generator(g.code_ptr, &vec![Value::UNDEF; n]) as u64);
        }
        if layout == il.range_obj {
            return Ok(heap.alloc(RangeObj {
                h: Header::new(Kind::Range),
                start: 0,
                stop: 0,
                step: 1,
            }) as u64);
        }
        if layout == self.world.iters.seq {
            return Ok(heap.alloc(SeqIterObj {
                h: Header::new(Kind::SeqIter),
                seq: Value::NONE,
                idx: 0,
            }) as u64);
        }
        if layout == self.world.iters.range {
            return Ok(heap.alloc(RangeIterObj {
                h: Header::new(Kind::RangeIter),
                cur: 0,
                stop: 0,
                step: 1,
            }) as u64);
        }
        let l = l.ok_or("not a pylite layout")?;
        if layout == self.world.lazy.layout {
            let t = heap.alloc_tuple(&[Value::NONE]);
            super::lazy::mark_lazy(t);
            return Ok(t as u64);
        }
        Ok(if l.class.is_null() {
            heap.alloc_tuple(&vec![Value::NONE; l.values.len()]) as u64
        } else {
            heap.alloc_instance(l.class) as u64
        })
    }
    fn set_field(&mut self, obj: u64, field: FieldRef, value: Val) -> Result<(), String> {
        let (offset, _) = self.world.reg.field_slot(field).ok_or("unknown field")?;
        // SAFETY: `obj` was just allocated by `allocate` with this field's layout; all
        // pylite fields are 8-byte words.
        unsafe { ((obj + offset as u64) as *mut u64).write(value.to_bits()) };
        Ok(())
    }
}

impl HostMemory for PyMemory<'_> {
    fn alloc_raw(&mut self, size: u64) -> u64 {
        *self.allocations += 1;
        // SAFETY: as in `allocate`.
        unsafe { (*self.vm).heap.alloc_zeroed_object(size as usize) as u64 }
    }
}

/// A recording is under way at a header of `code`: if it is a new loop recording, the
/// per-recording caches start empty and the register constants are constants.
fn recording_at_header(jit: &mut Jit, code: &Code) {
    let serial = jit.engine.tracer_stats().recordings;
    if serial == jit.serial {
        return;
    }
    jit.serial = serial;
    jit.gens.clear();
    jit.lazy.clear();
    if let Some(r) = jit.engine.recorder() {
        for (i, &k) in code.consts[..code.nregconsts as usize].iter().enumerate() {
            if let Some(tv) = const_tv(k) {
                let _ = r.set_slot(code.nlocals as usize + i, tv);
            }
        }
    }
}

/// The live slot values of a frame of `code` at loop header `pc` (`None` = dead), as
/// the engine sees them, into `vals`.
fn header_values(world: &mut World, code: &Code, pc: usize, init: bool, regs: &[Value], vals: &mut Vec<Option<Val>>) {
    let live = world.live.at(code, pc, Site::Header, init);
    vals.clear();
    vals.extend(
        regs.iter()
            .enumerate()
            .map(|(i, v)| if live.is_live(i) { to_val(*v) } else { None }),
    );
}

impl Vm {
    /// Sets up the JIT if the configuration asks for it (a failure is reported once and
    /// the VM interprets).
    pub(crate) fn jit_init(&mut self) {
        if self.jit_config.poison_dead_locals {
            // A check of the liveness analysis, on the interpreter alone.
            self.poison = Some(Box::default());
            self.recording = true;
            return;
        }
        if !self.jit_config.enabled {
            return;
        }
        match Jit::new(&self.jit_config) {
            Ok(j) => {
                self.jit_interrupt = Some(j.engine.interrupt_flag());
                self.jit = Some(Box::new(j));
            }
            Err(e) => eprintln!("pylite: JIT disabled: {e}"),
        }
    }

    /// Emits a pending residual call now that its result is in the top frame.
    fn flush_post(&mut self, jit: &mut Jit, regs: *const Value, code: &Code) -> Result<(), Abort> {
        let Some(p) = jit.post.take() else { return Ok(()) };
        // SAFETY: dst is a register of the frame that made the call (the top frame).
        let result = unsafe { *regs.add(p.dst as usize) };
        let mut none = None;
        match recording_context(jit, self, code, regs, Some(&mut none)) {
            Some(mut x) => x.finish_call(p, result),
            None => Ok(()),
        }
    }

    /// Reports instruction `pc` of the top frame to the recorder (before it executes).
    pub(crate) fn jit_record(&mut self, code: &Code, pc: usize, regs: *mut Value) {
        if let Some(p) = self.poison.as_mut() {
            // SAFETY: `regs` is the top frame's window, a frame of `code`.
            unsafe { p.poison(code, pc, regs) };
            return;
        }
        let Some(mut jit) = self.jit.take() else { return };
        let res = self.flush_post(&mut jit, regs, code).and_then(|()| {
            if jit.world.is_join(code, pc) && self.jit_merge_point(&mut jit, code, pc)? {
                return Ok(());
            }
            match recording_context(&mut jit, self, code, regs, None) {
                Some(mut x) => record(&mut x, pc),
                None => Ok(()),
            }
        });
        if let Err(why) = res {
            jit.post = None;
            jit.engine.abort_recording(why);
        }
        self.recording = jit.engine.is_recording();
        if !self.recording {
            jit.gens.clear();
        }
        self.jit = Some(jit);
    }

    /// The recording reached merge point `pc` of `code` (a jump target): the slots dead
    /// here ([`super::live`]) are killed, so an arm need not match them, then the
    /// engine notes the merge point or ends an arm that rejoins its parent here.
    /// Returns whether the recording ended.
    fn jit_merge_point(&mut self, jit: &mut Jit, code: &Code, pc: usize) -> Result<bool, Abort> {
        let init = self.frames.last().is_some_and(|f| f.kind == FrameKind::Init);
        let live = jit.world.live.at(code, pc, Site::Merge, init);
        let Some(r) = jit.engine.recorder() else {
            return Ok(false);
        };
        r.set_pc(pc as u32)?;
        for i in 0..code.nslots as usize {
            if !live.is_live(i) {
                r.set_slot(i, None)?;
            } else if i < code.nlocals as usize {
                // A local holding a constant holds it on this path only.
                r.unfold_constant(i)?;
            }
        }
        Ok(jit.engine.merge_point(location(code, pc)))
    }

    /// Gives up a recording under way (an exception, the program ending).
    pub(crate) fn jit_abort(&mut self, why: &str) {
        if let Some(jit) = self.jit.as_mut() {
            jit.post = None;
            jit.gens.clear();
            jit.engine.abort_recording(Abort::Host(why.into()));
        }
        self.recording = self.poison.is_some();
    }

    /// The top frame arrived at loop header `pc` (through its back-edge).
    pub(crate) fn jit_header(&mut self, pc: usize) -> JitNext {
        let Some(mut jit) = self.jit.take() else {
            return JitNext::Continue;
        };
        let next = self.jit_header_with(&mut jit, pc);
        self.recording = jit.engine.is_recording();
        if !self.recording {
            jit.gens.clear();
        }
        self.jit = Some(jit);
        next
    }

    fn jit_header_with(&mut self, jit: &mut Jit, pc: usize) -> JitNext {
        let top = *self.frames.last().expect("a frame at a loop header");
        // SAFETY: frames reference VM-owned code.
        let code: &Code = unsafe { &*top.code };
        if let Err(why) = self.flush_post(jit, top.base, code) {
            jit.post = None;
            jit.engine.abort_recording(why);
        }
        let loc = location(code, pc);
        if !jit.engine.is_recording() && !jit.engine.awaits_header() && jit.skip.contains(&loc) {
            return JitNext::Continue;
        }
        // SAFETY: the frame's window holds nslots initialized values.
        let regs = unsafe { std::slice::from_raw_parts(top.base, code.nslots as usize) };
        let init = top.kind == FrameKind::Init;
        // The slot values the engine sees, in a buffer reused across headers, built
        // only when the engine asks (a recording starts) or native code is entered:
        // this runs at every back-edge of a loop that is not compiled yet.
        let mut vals = std::mem::take(&mut jit.header_vals);
        let action = {
            let Jit { engine, world, .. } = &mut *jit;
            engine.on_loop_header_with(loc, || {
                let frame = world.frame(code).ok()?;
                header_values(world, code, pc, init, regs, &mut vals);
                Some(ShapeFrame::of(frame, pc as u32, &vals))
            })
        };
        let next = match action {
            HeaderAction::Enter => {
                header_values(&mut jit.world, code, pc, init, regs, &mut vals);
                self.jit_enter(jit, loc, &vals)
            }
            HeaderAction::Interpret => {
                if jit.engine.is_blacklisted(loc) {
                    jit.skip.insert(loc);
                }
                JitNext::Continue
            }
            HeaderAction::Recording => {
                recording_at_header(jit, code);
                JitNext::Continue
            }
        };
        jit.header_vals = vals;
        next
    }

    fn jit_enter(&mut self, jit: &mut Jit, loc: Location, vals: &[Option<Val>]) -> JitNext {
        // No recording is under way when compiled code runs; one may start at its exit.
        jit.gens.clear();
        let vm: *mut Vm = self;
        let mut mem = PyMemory {
            vm,
            world: &jit.world,
            allocations: &mut jit.allocations,
        };
        // Read the clock only until the first entry: this runs at every entry.
        let at = jit.first_entry.is_none().then(|| jit.started.elapsed());
        self.in_native = true;
        let entered = jit.engine.enter(loc, vals, &mut mem);
        self.in_native = false;
        if matches!(entered, Ok(Entered::Exit(_) | Entered::Finish(_))) && jit.first_entry.is_none() {
            jit.first_entry = at;
        }
        jit.serial = jit.engine.tracer_stats().recordings;
        let exit = match entered {
            Ok(Entered::Exit(exit)) => exit,
            // Not entered, or a fault (the frame is as it was): interpret.
            Ok(_) | Err(_) => return JitNext::Continue,
        };
        if exit.interrupted {
            if let Some(f) = &self.jit_interrupt {
                f.store(0, Ordering::SeqCst);
            }
        }
        if exit.recording_bridge {
            jit.lazy.clear();
            seed_lazy(jit, &exit.frames);
        }
        if let Err(e) = self.resume_frames(&jit.world, &exit.frames) {
            // The engine handed back frames pylite cannot rebuild: a bug. Stop the
            // program with a clear error rather than compute something else.
            let exc = self.err(ExcType::Exception, format!("internal JIT error: cannot resume: {e}"));
            return JitNext::Throw(exc);
        }
        if !exit.exception_pending {
            return JitNext::Reload;
        }
        if exit.recording_bridge {
            jit.engine
                .abort_recording(Abort::Host("an exit through a residual call".into()));
        }
        match self.jit_pending.take() {
            Some(Pending::Exception(e)) => {
                // unwind() looks for the handler of the instruction before `pc`.
                self.frames.last_mut().expect("resumed frame").pc += 1;
                JitNext::Throw(e)
            }
            Some(Pending::Result(v)) => {
                let f = self.frames.last_mut().expect("resumed frame");
                // SAFETY: the resumed frame's code and registers are valid.
                let ins = unsafe { (&(*f.code).instrs)[f.pc as usize] };
                if let Some(dst) = call_dst(ins) {
                    unsafe { *f.base.add(dst as usize) = v };
                }
                f.pc += 1;
                JitNext::Reload
            }
            None => JitNext::Throw(self.err(
                ExcType::Exception,
                "internal JIT error: an exception exit without a parked outcome",
            )),
        }
    }

    /// Rebuilds the interpreter's frames from an exit's (outermost first).
    fn resume_frames(&mut self, world: &World, frames: &[ResumeFrame]) -> Result<(), String> {
        let (first, inlined) = frames.split_first().ok_or("an exit without frames")?;
        let top = self.frames.last_mut().ok_or("no frame to resume")?;
        // SAFETY: VM-owned code.
        write_slots(unsafe { &*top.code }, top.base, &first.slots);
        top.pc = first.pc;
        for rf in inlined {
            let caller = self.frames.last_mut().expect("a caller frame");
            // SAFETY: frames reference VM-owned code and valid register windows.
            let (ins, caller_regs) = unsafe { ((&(*caller.code).instrs)[caller.pc as usize], caller.base) };
            let reg = |r: u16| unsafe { *caller_regs.add(r as usize) };
            let (dst, kind, exit_pc) = match ins {
                Instr::Call { dst, base, .. } | Instr::CallStar { dst, base, .. } => {
                    let init = reg(base).is_kind(Kind::Class);
                    (dst, if init { FrameKind::Init } else { FrameKind::Normal }, 0)
                }
                Instr::CallMethod { dst, .. } | Instr::GetAttr { dst, .. } => (dst, FrameKind::Normal, 0),
                // A generator resumed or a `__next__` called by a for loop.
                Instr::ForIter { it, dst, t } if reg(it).is_kind(Kind::Generator) => (dst, FrameKind::Gen, t as u32),
                Instr::ForIter { it, dst, t } if reg(it).is_kind(Kind::Instance) => {
                    (dst, FrameKind::IterNext, t as u32)
                }
                other => return Err(format!("an inlined frame under {other:?}")),
            };
            let gen = match ins {
                Instr::ForIter { it, .. } if kind == FrameKind::Gen => reg(it).as_ptr::<GeneratorObj>(),
                _ => std::ptr::null_mut(),
            };
            caller.pc += 1;
            let code = world.code_of(rf.frame).ok_or("an unknown frame kind")?;
            // SAFETY: VM-owned code.
            let nslots = unsafe { (*code).nslots as usize };
            let base_idx = self.stack_top;
            let base = if gen.is_null() {
                if base_idx + nslots > STACK_SLOTS {
                    return Err("the register stack is full".into());
                }
                self.stack_top += nslots;
                // SAFETY: inside the stack allocation (checked above).
                unsafe { self.stack.add(base_idx) }
            } else {
                // SAFETY: a live generator (the caller's iterator); its slots are the frame.
                unsafe {
                    if (*gen).code != code || (*gen).nslots as usize != nslots {
                        return Err("a generator frame of another code".into());
                    }
                    (*gen).state = GEN_RUNNING;
                    GeneratorObj::slots_ptr(gen)
                }
            };
            write_slots(unsafe { &*code }, base, &rf.slots);
            let init_self = if kind == FrameKind::Init {
                from_val(rf.slots.first().copied().flatten())
            } else {
                Value::UNDEF
            };
            self.frames.push(Frame {
                code,
                base,
                pc: rf.pc,
                ret_dst: dst,
                kind,
                entry: false,
                saved_top: base_idx,
                gen,
                exit_pc,
                init_self,
            });
        }
        Ok(())
    }
}

/// Writes an exit's slot values into a frame of `code`. A dead slot is unbound, except
/// the register constants: the loop does not carry them (they are constants in its
/// trace), so a snapshot may list them as dead.
fn write_slots(code: &Code, base: *mut Value, slots: &[Option<Val>]) {
    let nl = code.nlocals as usize;
    for (i, s) in slots.iter().enumerate() {
        let v = match s {
            None if i >= nl && i < nl + code.nregconsts as usize => code.consts[i - nl],
            _ => from_val(*s),
        };
        // SAFETY: `slots` has the frame's nslots entries; base points at that window.
        unsafe { *base.add(i) = v };
    }
}

/// A bridge or arm recording starts from an exit whose frames hold materialized lazy
/// values: their slots stay lazy in the new recording (forced on first read, as in
/// the parent trace).
fn seed_lazy(jit: &mut Jit, frames: &[ResumeFrame]) {
    let Some(r) = jit.engine.recorder() else { return };
    for (k, f) in frames.iter().enumerate() {
        for (i, s) in f.slots.iter().enumerate() {
            if let Some(Val::Ref(p)) = s {
                if super::lazy::decode_lazy(*p).is_some() {
                    if let Ok(tv) = r.frame_slot(k, i) {
                        jit.lazy.push(tv);
                    }
                }
            }
        }
    }
}
