//! # The example host: a register VM with the Leones engine
//!
//! The VM has one frame of [`NREGS`] `i64` registers and [`NOBJ`] object registers, and
//! twelve instructions; its loop headers are the targets of backward branches. Objects
//! are `Cell { a: i64, next: ref }`s registered with the engine's registry and kept in
//! the reference interpreter's [`Heap`]; object registers are never null (each starts
//! as a cell whose `next` is itself, and `new` makes such a cell), so the VM needs no
//! null checks. [`interpret`] is the VM alone;
//! [`Vm::run`] is the same VM with the JIT: loops and bridges are recorded, optimized,
//! compiled by LLVM and run natively, and side exits resume the interpreter. (This is
//! `tracer/tests/regvm`, moved from the reference interpreter onto the engine.)

#![allow(dead_code)]

use leones::engine::{Engine, EngineConfig, EngineStats, Entered, FrameRef, HeaderAction, HeapMaterializer};
use leones_ir::interp::{Heap, Val};
use leones_ir::{BinaryOp, MemType, Type, UnaryOp};
use leones_tracer::{Abort, FieldRef, LayoutRef, Location, Params, Recorder, Registry};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub const NREGS: usize = 9;
/// Object registers (frame slots `NREGS..NREGS + NOBJ`).
pub const NOBJ: usize = 2;
/// The cell layout: size, class word, field offsets.
const CELL_SIZE: u32 = 24;
const CELL_CLASS: u64 = 0xce11;
const OFF_A: u64 = 8;
const OFF_NEXT: u64 = 16;

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
    /// `o = new Cell { a: 0, next: itself }`
    New(u8),
    /// `r = o.a`
    GetA(u8, u8),
    /// `o.a = r`
    SetA(u8, u8),
    /// `d = o.next` (object registers)
    Next(u8, u8),
    /// `o.next = p` (object registers)
    SetNext(u8, u8),
    Halt,
}

/// The object world of one VM: its heap and object registers.
pub struct Objects {
    pub heap: Heap,
    pub regs: [u64; NOBJ],
    layout: leones_ir::Layout,
}

impl Objects {
    /// A heap with one self-linked cell per object register (`a` = its index).
    pub fn new() -> Objects {
        let layout = leones_ir::Layout {
            name: "Cell".into(),
            size: CELL_SIZE,
            class: Some(CELL_CLASS),
        };
        let mut o = Objects {
            heap: Heap::new(),
            regs: [0; NOBJ],
            layout,
        };
        for k in 0..NOBJ {
            o.regs[k] = o.new_cell();
            o.store(o.regs[k], OFF_A, Val::I64(k as i64));
        }
        o
    }

    fn new_cell(&mut self) -> u64 {
        let c = self.heap.alloc_object(&self.layout);
        self.store(c, OFF_NEXT, Val::Ref(c));
        c
    }

    fn store(&mut self, obj: u64, off: u64, v: Val) {
        let mt = if off == OFF_A { MemType::I64 } else { MemType::Ref };
        self.heap.store(obj + off, mt, v).expect("a live cell");
    }

    fn load(&self, obj: u64, off: u64) -> Val {
        let mt = if off == OFF_A { MemType::I64 } else { MemType::Ref };
        self.heap.load(obj + off, mt).expect("a live cell")
    }

    /// The object graph reachable from the object registers, addresses replaced by
    /// discovery order: `regs [i, j] cells [(a, next), ...]`.
    pub fn dump(&self) -> String {
        let mut ids: Vec<u64> = Vec::new();
        let id = |ids: &mut Vec<u64>, o: u64| match ids.iter().position(|x| *x == o) {
            Some(i) => i,
            None => {
                ids.push(o);
                ids.len() - 1
            }
        };
        let regs: Vec<usize> = self.regs.iter().map(|&o| id(&mut ids, o)).collect();
        let mut cells = Vec::new();
        let mut k = 0;
        while k < ids.len() {
            let o = ids[k];
            assert_eq!(
                self.heap.load(o, MemType::I64).unwrap(),
                Val::I64(CELL_CLASS as i64),
                "class word"
            );
            let a = self.load(o, OFF_A).as_i64().unwrap();
            let next = self.load(o, OFF_NEXT).as_addr().unwrap();
            cells.push((a, id(&mut ids, next)));
            k += 1;
        }
        format!("regs {regs:?} cells {cells:?}")
    }
}

impl Default for Objects {
    fn default() -> Self {
        Objects::new()
    }
}

/// How a run ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    Halt,
    /// An `Add`/`Sub` at this pc overflowed.
    Overflow(u32),
}

/// Executes the instruction at `pc`: the new pc, or how the run stopped.
fn step(code: &[Ins], regs: &mut [i64], objs: &mut Objects, pc: u32) -> Result<u32, Stop> {
    let r = |x: u8| regs[x as usize];
    let o = |x: u8| objs.regs[x as usize];
    let (d, v) = match code[pc as usize] {
        Ins::New(d) => {
            objs.regs[d as usize] = objs.new_cell();
            return Ok(pc + 1);
        }
        Ins::GetA(d, x) => (d, objs.load(o(x), OFF_A).as_i64().unwrap()),
        Ins::SetA(x, s) => {
            objs.store(o(x), OFF_A, Val::I64(r(s)));
            return Ok(pc + 1);
        }
        Ins::Next(d, x) => {
            objs.regs[d as usize] = objs.load(o(x), OFF_NEXT).as_addr().unwrap();
            return Ok(pc + 1);
        }
        Ins::SetNext(x, p) => {
            objs.store(o(x), OFF_NEXT, Val::Ref(o(p)));
            return Ok(pc + 1);
        }
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
pub fn interpret(code: &[Ins], regs: Vec<i64>) -> (Vec<i64>, Stop) {
    let (regs, stop, _) = interpret_objects(code, regs);
    (regs, stop)
}

/// The VM without a JIT, also handing back its objects.
pub fn interpret_objects(code: &[Ins], mut regs: Vec<i64>) -> (Vec<i64>, Stop, Objects) {
    let mut objs = Objects::new();
    let mut pc = 0;
    loop {
        match step(code, &mut regs, &mut objs, pc) {
            Ok(next) => pc = next,
            Err(stop) => return (regs, stop, objs),
        }
    }
}

/// The cell layout and its fields, registered in the VM's registry.
#[derive(Copy, Clone)]
struct Cell {
    layout: LayoutRef,
    a: FieldRef,
    next: FieldRef,
}

impl Cell {
    fn register(reg: &Registry) -> Cell {
        let layout = reg.layout("Cell", CELL_SIZE, Some(CELL_CLASS)).unwrap();
        Cell {
            layout,
            a: reg.field(layout, "a", OFF_A as u32, Type::I64, false).unwrap(),
            next: reg.field(layout, "next", OFF_NEXT as u32, Type::Ref, false).unwrap(),
        }
    }
}

/// Reports the instruction at `pc` to the recorder, before the VM executes it.
fn record(rec: &mut Recorder, cell: Cell, code: &[Ins], regs: &[i64], pc: u32) -> Result<(), Abort> {
    rec.set_pc(pc)?;
    let obj = |x: u8| NREGS + x as usize;
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
        Ins::New(d) => {
            let t = rec.new_object(cell.layout)?;
            rec.setfield(t, cell.next, t)?;
            return rec.set_slot(obj(d), t);
        }
        Ins::GetA(d, x) => {
            let o = rec.slot(obj(x))?;
            (d, rec.getfield(o, cell.a)?)
        }
        Ins::SetA(x, s) => {
            let (o, v) = (rec.slot(obj(x))?, rec.slot(s as usize)?);
            return rec.setfield(o, cell.a, v);
        }
        Ins::Next(d, x) => {
            let o = rec.slot(obj(x))?;
            let n = rec.getfield(o, cell.next)?;
            return rec.set_slot(obj(d), n);
        }
        Ins::SetNext(x, p) => {
            let (o, q) = (rec.slot(obj(x))?, rec.slot(obj(p))?);
            return rec.setfield(o, cell.next, q);
        }
        Ins::Halt => return Err(rec.abort("halt while recording")),
    };
    rec.set_slot(d as usize, tv)
}

/// The register VM as a Leones host: the interpreter above plus an [`Engine`].
///
/// At a loop header (the target of a backward branch) the VM calls
/// [`Engine::on_loop_header`]; while the engine records, each instruction is reported
/// through [`record`] before it executes; when compiled code exists it calls
/// [`Engine::enter`] and continues from the frame the exit hands back — executing the
/// instruction at the resume pc in the interpreter first, even at a header.
pub struct Vm {
    pub engine: Engine,
    pub frame: FrameRef,
    cell: Cell,
    /// The heap and object registers (of the last run).
    pub objs: Objects,
    /// Interrupt exits the VM handled (it clears the flag and carries on).
    pub interrupts: u64,
    /// Set just before each native entry (lets another thread wait for compiled code).
    pub entered: Arc<AtomicBool>,
}

impl Vm {
    /// A VM whose engine is set up as `config` says.
    pub fn new(config: EngineConfig) -> Vm {
        let reg = Registry::new();
        let frame = reg.frame("vm", 0, (NREGS + NOBJ) as u32).unwrap();
        let cell = Cell::register(&reg);
        Vm {
            engine: Engine::with_config(reg, config).expect("engine"),
            frame,
            cell,
            objs: Objects::new(),
            interrupts: 0,
            entered: Arc::new(AtomicBool::new(false)),
        }
    }

    fn frame_vals(regs: &[i64], objs: &[u64]) -> Vec<Option<Val>> {
        let ints = regs.iter().map(|&r| Some(Val::I64(r)));
        ints.chain(objs.iter().map(|&o| Some(Val::Ref(o)))).collect()
    }

    /// Runs `code` from `regs` with the JIT.
    pub fn run(&mut self, code: &[Ins], mut regs: Vec<i64>) -> (Vec<i64>, Stop) {
        self.objs = Objects::new();
        let headers: HashSet<u32> = code
            .iter()
            .enumerate()
            .filter_map(|(pc, i)| match *i {
                Ins::BrLt(_, _, t) if t as usize <= pc => Some(t),
                _ => None,
            })
            .collect();
        let mut pc = 0u32;
        let mut resumed = false;
        loop {
            // After an exit the instruction at the resume pc runs in the interpreter
            // first, even at a header: re-entering right away would fail the same guard.
            let just_resumed = std::mem::take(&mut resumed);
            if headers.contains(&pc) && !just_resumed {
                let vals = Self::frame_vals(&regs, &self.objs.regs);
                let loc = Location(pc.into());
                if self.engine.on_loop_header(loc, self.frame, pc, &vals) == HeaderAction::Enter {
                    self.entered.store(true, Ordering::SeqCst);
                    let reg = self.engine.registry().clone();
                    let mut mem = HeapMaterializer {
                        registry: &reg,
                        heap: &mut self.objs.heap,
                    };
                    match self.engine.enter(loc, &vals, &mut mem) {
                        Ok(Entered::Exit(exit)) => {
                            let f = &exit.frames[0];
                            for (r, v) in regs.iter_mut().zip(&f.slots) {
                                *r = v.and_then(|v| v.as_i64()).expect("every register is live");
                            }
                            for (o, v) in self.objs.regs.iter_mut().zip(&f.slots[NREGS..]) {
                                *o = v.and_then(|v| v.as_addr()).expect("every object register is live");
                            }
                            pc = f.pc;
                            resumed = true;
                            if exit.interrupted {
                                self.interrupts += 1;
                                self.engine.interrupt_flag().store(0, Ordering::SeqCst);
                            }
                            continue;
                        }
                        Ok(Entered::NotEntered) => {}
                        Ok(Entered::Finish(_)) => unreachable!("loops never finish"),
                        // The unit is retired and the registers are untouched: interpret.
                        Err(e) => eprintln!("regvm: {e}"),
                    }
                }
            }
            if let Some(rec) = self.engine.recorder() {
                if let Err(why) = record(rec, self.cell, code, &regs, pc) {
                    self.engine.abort_recording(why);
                }
            }
            match step(code, &mut regs, &mut self.objs, pc) {
                Ok(next) => pc = next,
                Err(stop) => {
                    if self.engine.is_recording() {
                        self.engine.abort_recording(Abort::Host("the program stopped".into()));
                    }
                    return (regs, stop);
                }
            }
        }
    }
}

/// The VM with the JIT: the final registers, how it stopped, and the engine's counters.
pub fn run_jit(code: &[Ins], regs: Vec<i64>, params: Params) -> (Vec<i64>, Stop, EngineStats) {
    let mut vm = Vm::new(EngineConfig::new(params));
    let (r, s) = vm.run(code, regs);
    (r, s, vm.engine.stats())
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
    let (x, y) = (a % NOBJ as u8, b % NOBJ as u8);
    code.push(match rng.below(10) {
        0 => Ins::Const(d, rng.below(7) as i64 - 3),
        1 | 2 => Ins::Add(d, a, b),
        3 => Ins::Sub(d, a, b),
        4 => Ins::Mul(d, a, b),
        5 => Ins::Lt(d, a, b),
        6 => Ins::New(x),
        7 => Ins::GetA(d, x),
        8 => Ins::SetA(x, d),
        _ if d % 2 == 0 => Ins::Next(x, y),
        _ => Ins::SetNext(x, y),
    });
}
