//! # A tiny example host: a register VM with a tracing JIT
//!
//! The VM — its instructions, objects, the plain interpreter [`interpret`], the recorder
//! hooks ([`record`]) and the program generator — is the engine's example VM, shared
//! through `examples/regvm/lang.rs`. This module is its driver on the reference
//! interpreter instead of native code. [`run_jit`] shows the whole host side of Leones
//! on it:
//!
//! - at a loop header: tick [`Hotness`]; when hot, start a [`Recorder`]; while
//!   recording, report each instruction (with its concrete outcome) before executing it;
//!   close the loop when the recorder says so;
//! - enter a compiled loop with the header's registers as inputs — the integer registers
//!   then the object registers, as `Val::Ref`s into the VM's [`Objects`] heap (the
//!   reference interpreter stands in for compiled code, running on that heap);
//! - on an exit, [`resume`] the registers and pc; count the exit and, once hot, record a
//!   bridge from there that ends by jumping back to the loop.
//!
//! [`interpret`] is the same VM with no JIT: the differential tests compare the two.

#![allow(dead_code)]

#[path = "../../../examples/regvm/lang.rs"]
mod lang;
pub use lang::*;

use leones_ir::interp::{Heap, Interpreter, Outcome, Val};
use leones_ir::GuardId;
use leones_tracer::*;
use std::collections::{HashMap, HashSet};

/// What is being recorded.
enum Mode {
    Loop(u32),
    Bridge(u32, GuardId),
}

/// What the JIT did during a run.
#[derive(Debug, Default)]
pub struct JitReport {
    pub stats: Stats,
    pub loop_entries: u64,
    pub bridge_entries: u64,
}

struct Jit {
    reg: Registry,
    frame: FrameRef,
    cell: Cell,
    params: Params,
    hot: Hotness,
    loops: HashMap<u32, Recorded>,
    bridges: HashMap<(u32, GuardId), Recorded>,
    rec: Option<(Recorder, Mode)>,
    report: JitReport,
}

impl Jit {
    fn abort(&mut self, why: Abort) {
        match self.rec.take() {
            Some((_, Mode::Loop(h))) => drop(self.hot.aborted(Location(h.into()), &why)),
            Some((_, Mode::Bridge(h, g))) => drop(self.hot.bridge_aborted(UnitId(h.into()), g, &why)),
            None => {}
        }
    }

    /// The frame's slots: the integer registers, then the object registers.
    fn frame_vals(regs: &[i64], objs: &[u64]) -> Vec<Option<Val>> {
        let ints = regs.iter().map(|&r| Some(Val::I64(r)));
        ints.chain(objs.iter().map(|&o| Some(Val::Ref(o)))).collect()
    }

    /// At loop header `h` while recording: maybe the recording closes.
    fn at_header_recording(&mut self, h: u32) {
        let Some((rec, _)) = self.rec.as_mut() else { return };
        match rec.at_header(Location(h.into())) {
            Ok(None) => {}
            Ok(Some(done)) => match self.rec.take() {
                Some((_, Mode::Loop(h))) => {
                    self.hot.recorded(Location(h.into()));
                    self.loops.insert(h, done);
                }
                Some((_, Mode::Bridge(h, g))) => {
                    self.hot.bridge_recorded(UnitId(h.into()), g);
                    self.bridges.insert((h, g), done);
                }
                None => {}
            },
            Err(why) => self.abort(why),
        }
    }

    /// Runs compiled loop `h` (and its bridges) from the current registers and objects;
    /// on return the VM state is where the last exit resumed.
    fn enter(&mut self, h: u32, regs: &mut [i64], objs: &mut Objects) -> u32 {
        let lp = &self.loops[&h];
        let vals = Self::frame_vals(regs, &objs.regs);
        let mut inputs = lp.entry.inputs(&[&vals]).expect("the header's registers fit the loop");
        let mut unit: Option<GuardId> = None; // None: the loop itself, Some(g): its bridge from g
        self.report.loop_entries += 1;
        loop {
            let trace = match unit {
                None => &self.loops[&h].trace,
                Some(g) => &self.bridges[&(h, g)].trace,
            };
            // The "compiled code" runs on the VM's own heap.
            let heap = std::mem::replace(&mut objs.heap, Heap::new());
            let mut it = Interpreter::new(trace).with_heap(heap);
            let out = it.run(&inputs);
            objs.heap = it.into_heap();
            let exit = match out.expect("compiled code does not fault") {
                Outcome::Jump { args, .. } => {
                    unit = None;
                    inputs = args;
                    continue;
                }
                Outcome::Exit(exit) => exit,
                Outcome::Finish(_) => unreachable!("loops and bridges never finish"),
            };
            let mut m = HeapMaterializer {
                registry: &self.reg,
                heap: &mut objs.heap,
            };
            let back = resume(&self.reg, trace, &exit, &mut m).expect("exits resume");
            let fr = &back.frames[0];
            for (r, v) in regs.iter_mut().zip(&fr.slots) {
                *r = v.and_then(|v| v.as_i64()).expect("every register is live");
            }
            for (o, v) in objs.regs.iter_mut().zip(&fr.slots[NREGS..]) {
                *o = v.and_then(|v| v.as_addr()).expect("every object register is live");
            }
            if unit.is_some() {
                return fr.pc; // bridges do not get bridges of their own here
            }
            let g = back.guard;
            if self.bridges.contains_key(&(h, g)) {
                self.report.bridge_entries += 1;
                unit = Some(g);
                inputs = back.shape().1;
                continue;
            }
            if self.rec.is_none() && self.hot.exit_taken(UnitId(h.into()), g) == Action::Record {
                let target = self.loops[&h].target().expect("a loop");
                match Recorder::start_bridge(&self.reg, &self.params, back.shape().0, &target) {
                    Ok(r) => self.rec = Some((r, Mode::Bridge(h, g))),
                    Err(why) => drop(self.hot.bridge_aborted(UnitId(h.into()), g, &why)),
                }
            }
            return fr.pc;
        }
    }
}

/// The VM with the JIT.
pub fn run_jit(code: &[Ins], regs: Vec<i64>, params: Params) -> (Vec<i64>, Stop, JitReport) {
    let (regs, stop, _, report) = run_jit_objects(code, regs, params);
    (regs, stop, report)
}

/// The VM with the JIT, also handing back its objects.
pub fn run_jit_objects(code: &[Ins], mut regs: Vec<i64>, params: Params) -> (Vec<i64>, Stop, Objects, JitReport) {
    let headers: HashSet<u32> = code
        .iter()
        .enumerate()
        .filter_map(|(pc, i)| match *i {
            Ins::BrLt(_, _, t) if t as usize <= pc => Some(t),
            _ => None,
        })
        .collect();
    let reg = Registry::new();
    let frame = reg.frame("vm", 0, (NREGS + NOBJ) as u32).unwrap();
    let cell = Cell::register(&reg);
    let mut jit = Jit {
        reg,
        frame,
        cell,
        hot: Hotness::new(params.clone()),
        params,
        loops: HashMap::new(),
        bridges: HashMap::new(),
        rec: None,
        report: JitReport::default(),
    };
    let mut objs = Objects::new();
    let mut pc = 0u32;
    // After an exit the instruction at the resume pc runs in the interpreter first, even
    // at a header: re-entering right away would fail the same guard forever.
    let mut resumed = false;
    loop {
        if headers.contains(&pc) && !std::mem::take(&mut resumed) {
            jit.at_header_recording(pc);
            if jit.rec.is_none() {
                if jit.loops.contains_key(&pc) {
                    pc = jit.enter(pc, &mut regs, &mut objs);
                    resumed = true;
                    continue;
                }
                if jit.hot.tick(Location(pc.into())) == Action::Record {
                    let entry = ShapeFrame::of(jit.frame, pc, &Jit::frame_vals(&regs, &objs.regs));
                    match Recorder::start_loop(&jit.reg, &jit.params, Location(pc.into()), entry) {
                        Ok(r) => jit.rec = Some((r, Mode::Loop(pc))),
                        Err(why) => drop(jit.hot.aborted(Location(pc.into()), &why)),
                    }
                }
            }
        }
        if let Some((rec, _)) = jit.rec.as_mut() {
            if let Err(why) = record(rec, jit.cell, code, &regs, pc) {
                jit.abort(why);
            }
        }
        match step(code, &mut regs, &mut objs, pc) {
            Ok(next) => pc = next,
            Err(stop) => {
                if let Some((rec, _)) = jit.rec.as_mut() {
                    let why = rec.abort("the program stopped");
                    jit.abort(why);
                }
                jit.report.stats = jit.hot.stats().clone();
                return (regs, stop, objs, jit.report);
            }
        }
    }
}
