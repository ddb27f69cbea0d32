//! # The example register VM's language: instructions, objects, the plain interpreter,
//! the recorder hooks and a program generator
//!
//! Shared by the engine's example (`examples/regvm`, driven by the engine in `vm.rs`;
//! also `tests/engine_regvm.rs`) and the tracer's tests (`tracer/tests/regvm`, driven by
//! the reference interpreter), which include this file with `#[path]`. It must not use
//! the `leones` crate: only `leones_ir` and `leones_tracer`.
//!
//! The VM has one frame of [`NREGS`] `i64` registers and [`NOBJ`] object registers, and
//! twelve instructions; its loop headers are the targets of backward branches. Objects
//! are `Cell { a: i64, next: ref }`s registered with the host's registry ([`Cell`]) and
//! kept in the reference interpreter's [`Heap`]; object registers are never null (each
//! starts as a cell whose `next` is itself, and `new` makes such a cell), so the VM needs
//! no null checks. [`interpret`] is the VM alone; [`record`] reports an instruction to a
//! [`Recorder`] before the VM executes it.

#![allow(dead_code)]

use leones_ir::interp::{Heap, Val};
use leones_ir::{BinaryOp, MemType, Type, UnaryOp};
use leones_tracer::{Abort, FieldRef, LayoutRef, Recorder, Registry};

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
pub fn step(code: &[Ins], regs: &mut [i64], objs: &mut Objects, pc: u32) -> Result<u32, Stop> {
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
pub struct Cell {
    layout: LayoutRef,
    a: FieldRef,
    next: FieldRef,
}

impl Cell {
    pub fn register(reg: &Registry) -> Cell {
        let layout = reg.layout("Cell", CELL_SIZE, Some(CELL_CLASS)).unwrap();
        Cell {
            layout,
            a: reg.field(layout, "a", OFF_A as u32, Type::I64, false).unwrap(),
            next: reg.field(layout, "next", OFF_NEXT as u32, Type::Ref, false).unwrap(),
        }
    }
}

/// Reports the instruction at `pc` to the recorder, before the VM executes it.
pub fn record(rec: &mut Recorder, cell: Cell, code: &[Ins], regs: &[i64], pc: u32) -> Result<(), Abort> {
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
