//! # A tiny example host: a register VM with a tracing JIT
//!
//! The VM has one frame of [`NREGS`] `i64` registers and a handful of instructions.
//! Its loop headers are the targets of backward branches. [`run_jit`] shows the whole
//! host side of Leones on it:
//!
//! - at a loop header: tick [`Hotness`]; when hot, start a [`Recorder`]; while
//!   recording, report each instruction (with its concrete outcome) before executing it;
//!   close the loop when the recorder says so;
//! - enter a compiled loop with the header's registers as inputs (the reference
//!   interpreter stands in for compiled code until the engine exists);
//! - on an exit, [`resume`] the registers and pc; count the exit and, once hot, record a
//!   bridge from there that ends by jumping back to the loop.
//!
//! [`interpret`] is the same VM with no JIT: the differential tests compare the two.

#![allow(dead_code)]

use leones_ir::interp::{Heap, Interpreter, Outcome, Val};
use leones_ir::{BinaryOp, GuardId, UnaryOp};
use leones_tracer::*;
use std::collections::{HashMap, HashSet};

pub const NREGS: usize = 9;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ins {
    /// `r = k`
    Const(u8, i64),
    /// `r = a + b`, an error on overflow.
    Add(u8, u8, u8),
    /// `r = a - b`, an error on overflow.
    Sub(u8, u8, u8),
    /// `r = a * b`, wrapping.
    Mul(u8, u8, u8),
    /// `r = (a < b) as i64`
    Lt(u8, u8, u8),
    /// `if a < b goto t`
    BrLt(u8, u8, u32),
    Halt,
}

/// How a run ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    Halt,
    /// An `Add`/`Sub` at this pc overflowed.
    Overflow(u32),
}

/// Executes the instruction at `pc`: the new pc, or how the run stopped.
fn step(code: &[Ins], regs: &mut [i64], pc: u32) -> Result<u32, Stop> {
    let r = |x: u8| regs[x as usize];
    let (d, v) = match code[pc as usize] {
        Ins::Const(d, k) => (d, k),
        Ins::Add(d, a, b) => (d, r(a).checked_add(r(b)).ok_or(Stop::Overflow(pc))?),
        Ins::Sub(d, a, b) => (d, r(a).checked_sub(r(b)).ok_or(Stop::Overflow(pc))?),
        Ins::Mul(d, a, b) => (d, r(a).wrapping_mul(r(b))),
        Ins::Lt(d, a, b) => (d, (r(a) < r(b)) as i64),
        Ins::BrLt(a, b, t) => return Ok(if r(a) < r(b) { t } else { pc + 1 }),
        Ins::Halt => return Err(Stop::Halt),
    };
    regs[d as usize] = v;
    Ok(pc + 1)
}

/// The VM without a JIT.
pub fn interpret(code: &[Ins], mut regs: Vec<i64>) -> (Vec<i64>, Stop) {
    let mut pc = 0;
    loop {
        match step(code, &mut regs, pc) {
            Ok(next) => pc = next,
            Err(stop) => return (regs, stop),
        }
    }
}

/// Reports the instruction at `pc` to the recorder, before the VM executes it.
fn record(rec: &mut Recorder, code: &[Ins], regs: &[i64], pc: u32) -> Result<(), Abort> {
    rec.set_pc(pc)?;
    let ovf = |op: BinaryOp, a: u8, b: u8| {
        let (x, y) = (regs[a as usize], regs[b as usize]);
        match op {
            BinaryOp::IAddOvf => x.overflowing_add(y).1,
            _ => x.overflowing_sub(y).1,
        }
    };
    let (d, tv) = match code[pc as usize] {
        Ins::Const(d, k) => (d, rec.constant(k)),
        Ins::Add(d, a, b) | Ins::Sub(d, a, b) => {
            let op = if matches!(code[pc as usize], Ins::Add(..)) {
                BinaryOp::IAddOvf
            } else {
                BinaryOp::ISubOvf
            };
            let (x, y) = (rec.slot(a as usize)?, rec.slot(b as usize)?);
            (d, rec.binary_ovf(op, x, y, ovf(op, a, b))?)
        }
        Ins::Mul(d, a, b) => {
            let (x, y) = (rec.slot(a as usize)?, rec.slot(b as usize)?);
            (d, rec.binary(BinaryOp::IMul, x, y)?)
        }
        Ins::Lt(d, a, b) => {
            let (x, y) = (rec.slot(a as usize)?, rec.slot(b as usize)?);
            let c = rec.binary(BinaryOp::ILt, x, y)?;
            (d, rec.unary(UnaryOp::B2I, c)?)
        }
        Ins::BrLt(a, b, _) => {
            let (x, y) = (rec.slot(a as usize)?, rec.slot(b as usize)?);
            let c = rec.binary(BinaryOp::ILt, x, y)?;
            return rec.guard(c, regs[a as usize] < regs[b as usize]);
        }
        Ins::Halt => return Err(rec.abort("halt while recording")),
    };
    rec.set_slot(d as usize, tv)
}

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

    fn frame_vals(regs: &[i64]) -> Vec<Option<Val>> {
        regs.iter().map(|&r| Some(Val::I64(r))).collect()
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

    /// Runs compiled loop `h` (and its bridges) from the current registers; on return
    /// the VM state is where the last exit resumed.
    fn enter(&mut self, h: u32, regs: &mut [i64]) -> u32 {
        let lp = &self.loops[&h];
        let vals = Self::frame_vals(regs);
        let mut inputs = lp.entry.inputs(&[&vals]).expect("the header's registers fit the loop");
        let mut unit: Option<GuardId> = None; // None: the loop itself, Some(g): its bridge from g
        self.report.loop_entries += 1;
        loop {
            let trace = match unit {
                None => &self.loops[&h].trace,
                Some(g) => &self.bridges[&(h, g)].trace,
            };
            let out = Interpreter::new(trace)
                .run(&inputs)
                .expect("compiled code does not fault");
            let exit = match out {
                Outcome::Jump { args, .. } => {
                    unit = None;
                    inputs = args;
                    continue;
                }
                Outcome::Exit(exit) => exit,
                Outcome::Finish(_) => unreachable!("loops and bridges never finish"),
            };
            let mut heap = Heap::new();
            let mut m = HeapMaterializer {
                registry: &self.reg,
                heap: &mut heap,
            };
            let back = resume(&self.reg, trace, &exit, &mut m).expect("exits resume");
            let fr = &back.frames[0];
            for (r, v) in regs.iter_mut().zip(&fr.slots) {
                *r = v.and_then(|v| v.as_i64()).expect("every register is live");
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
pub fn run_jit(code: &[Ins], mut regs: Vec<i64>, params: Params) -> (Vec<i64>, Stop, JitReport) {
    let headers: HashSet<u32> = code
        .iter()
        .enumerate()
        .filter_map(|(pc, i)| match *i {
            Ins::BrLt(_, _, t) if t as usize <= pc => Some(t),
            _ => None,
        })
        .collect();
    let reg = Registry::new();
    let frame = reg.frame("vm", 0, NREGS as u32).unwrap();
    let mut jit = Jit {
        reg,
        frame,
        hot: Hotness::new(params.clone()),
        params,
        loops: HashMap::new(),
        bridges: HashMap::new(),
        rec: None,
        report: JitReport::default(),
    };
    let mut pc = 0u32;
    // After an exit the instruction at the resume pc runs in the interpreter first, even
    // at a header: re-entering right away would fail the same guard forever.
    let mut resumed = false;
    loop {
        if headers.contains(&pc) && !std::mem::take(&mut resumed) {
            jit.at_header_recording(pc);
            if jit.rec.is_none() {
                if jit.loops.contains_key(&pc) {
                    pc = jit.enter(pc, &mut regs);
                    resumed = true;
                    continue;
                }
                if jit.hot.tick(Location(pc.into())) == Action::Record {
                    let entry = ShapeFrame::of(jit.frame, pc, &Jit::frame_vals(&regs));
                    match Recorder::start_loop(&jit.reg, &jit.params, Location(pc.into()), entry) {
                        Ok(r) => jit.rec = Some((r, Mode::Loop(pc))),
                        Err(why) => drop(jit.hot.aborted(Location(pc.into()), &why)),
                    }
                }
            }
        }
        if let Some((rec, _)) = jit.rec.as_mut() {
            if let Err(why) = record(rec, code, &regs, pc) {
                jit.abort(why);
            }
        }
        match step(code, &mut regs, pc) {
            Ok(next) => pc = next,
            Err(stop) => {
                if let Some((rec, _)) = jit.rec.as_mut() {
                    let why = rec.abort("the program stopped");
                    jit.abort(why);
                }
                jit.report.stats = jit.hot.stats().clone();
                return (regs, stop, jit.report);
            }
        }
    }
}

/// A small deterministic PRNG for program generation.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Registers: r0..r3 data, r4/r5 outer counter/limit, r6 = 1, r7/r8 inner counter/limit.
pub fn gen_program(seed: u64) -> (Vec<Ins>, Vec<i64>) {
    let mut rng = Rng(seed | 1);
    let mut code = vec![Ins::Const(6, 1)];
    for _ in 0..1 + rng.below(2) {
        loop_(&mut rng, &mut code, 4, 5, 30, true);
    }
    code.push(Ins::Halt);
    let regs = (0..NREGS).map(|_| rng.below(11) as i64 - 5).collect();
    (code, regs)
}

fn loop_(rng: &mut Rng, code: &mut Vec<Ins>, ctr: u8, lim: u8, max: u64, outer: bool) {
    code.push(Ins::Const(ctr, 0));
    code.push(Ins::Const(lim, rng.below(max) as i64));
    let header = code.len() as u32;
    for _ in 0..1 + rng.below(5) {
        match rng.below(10) {
            0 if outer => loop_(rng, code, 7, 8, 8, false),
            1 => {
                // if a < b, skip the next few ops (a data-dependent branch)
                let (a, b) = (rng.below(4) as u8, rng.below(4) as u8);
                let at = code.len();
                code.push(Ins::Halt);
                for _ in 0..1 + rng.below(3) {
                    data_op(rng, code);
                }
                code[at] = Ins::BrLt(a, b, code.len() as u32);
            }
            _ => data_op(rng, code),
        }
    }
    code.push(Ins::Add(ctr, ctr, 6));
    code.push(Ins::BrLt(ctr, lim, header));
}

fn data_op(rng: &mut Rng, code: &mut Vec<Ins>) {
    let mut r = || rng.below(4) as u8;
    let (d, a, b) = (r(), r(), r());
    code.push(match rng.below(6) {
        0 => Ins::Const(d, rng.below(7) as i64 - 3),
        1 | 2 => Ins::Add(d, a, b),
        3 => Ins::Sub(d, a, b),
        4 => Ins::Mul(d, a, b),
        _ => Ins::Lt(d, a, b),
    });
}
