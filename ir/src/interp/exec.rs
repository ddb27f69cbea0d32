//! The [`Interpreter`] and its hot loop.
//!
//! `Interpreter` is the public face: configuration, the heap, the host, and the cached
//! verdict of the verifier. Each run borrows its pieces into a short-lived `Machine`
//! whose loop walks the instructions of the current block, keeping every value as a
//! raw `u64` in a register file indexed by value id. See the [module docs](super) for
//! the semantics implemented here.

use super::{CallResult, FnTable};
use super::{ExitState, Fault, Heap, HostCalls, Outcome, Site, Val};
use crate::descr::ArrayDescr;
use crate::entity::{Block, CallId, GuardId, SnapshotId, Value};
use crate::op::{BinaryOp, GuardKind, JumpTarget, Op};
use crate::trace::Trace;
use crate::types::MemType;
use crate::verify::{Location, VerifyError, VerifyErrorKind};

/// The default [step limit](Interpreter::set_step_limit).
pub const DEFAULT_STEP_LIMIT: u64 = 10_000_000;

/// Marks "no guard here" in the guard table and "no overflow" in the flag.
const NONE: u32 = u32::MAX;

/// Runs one trace, any number of times, on one heap. See the [module docs](super).
pub struct Interpreter<'t> {
    trace: &'t Trace,
    heap: Heap,
    host: Box<dyn HostCalls + 't>,
    step_limit: u64,
    interrupt_after: Option<u64>,
    steps: u64,
    /// The verifier's verdict and per-trace tables, computed by the first run.
    prepared: Option<Result<Prepared, VerifyError>>,
    /// Reused buffers: the register file, parallel-copy scratch, call arguments.
    regs: Vec<u64>,
    scratch: Vec<u64>,
    call_args: Vec<Val>,
}

/// What is computed once per trace.
struct Prepared {
    /// `guard_ids[b][i]`: the guard ordinal of instruction `i` of block `b`, or NONE.
    guard_ids: Vec<Vec<u32>>,
}

impl Prepared {
    fn new(t: &Trace) -> Prepared {
        let mut guard_ids: Vec<Vec<u32>> = t.blocks.iter().map(|b| vec![NONE; b.insts.len()]).collect();
        for g in t.guards() {
            guard_ids[g.block.index()][g.inst] = g.id.0;
        }
        Prepared { guard_ids }
    }
}

impl<'t> Interpreter<'t> {
    /// An interpreter for `trace` with a fresh heap, an empty [`FnTable`], the
    /// [default step limit](DEFAULT_STEP_LIMIT) and no interrupt.
    pub fn new(trace: &'t Trace) -> Self {
        Interpreter {
            trace,
            heap: Heap::new(),
            host: Box::new(FnTable::new()),
            step_limit: DEFAULT_STEP_LIMIT,
            interrupt_after: None,
            steps: 0,
            prepared: None,
            regs: Vec::new(),
            scratch: Vec::new(),
            call_args: Vec::new(),
        }
    }

    /// Uses `heap` (e.g. one with host objects already allocated).
    pub fn with_heap(mut self, heap: Heap) -> Self {
        self.heap = heap;
        self
    }
    /// Uses `host` for `call`s.
    pub fn with_host(mut self, host: impl HostCalls + 't) -> Self {
        self.set_host(host);
        self
    }
    /// Replaces the host.
    pub fn set_host(&mut self, host: impl HostCalls + 't) {
        self.host = Box::new(host);
    }
    /// Sets the step limit, builder style.
    pub fn with_step_limit(mut self, n: u64) -> Self {
        self.step_limit = n;
        self
    }
    pub fn heap(&self) -> &Heap {
        &self.heap
    }
    pub fn heap_mut(&mut self) -> &mut Heap {
        &mut self.heap
    }
    pub fn into_heap(self) -> Heap {
        self.heap
    }
    /// The trace this interpreter runs.
    pub fn trace(&self) -> &'t Trace {
        self.trace
    }
    /// At most `n` instructions run per [`run`](Self::run); the next one is
    /// [`Fault::StepLimit`].
    pub fn set_step_limit(&mut self, n: u64) {
        self.step_limit = n;
    }
    /// Simulates the host's interrupt flag: with `Some(n)`, a `guard_no_interrupt`
    /// fails once `n` steps have run before it in the current run.
    pub fn set_interrupt_after(&mut self, steps: Option<u64>) {
        self.interrupt_after = steps;
    }
    /// The number of instructions the last run executed (a faulting instruction
    /// counts; the one refused by the step limit does not).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs the trace from `block0` with `inputs` bound to its parameters.
    pub fn run(&mut self, inputs: &[Val]) -> Result<Outcome, Fault> {
        self.steps = 0;
        let t = self.trace;
        let prepared = match self
            .prepared
            .get_or_insert_with(|| crate::verify(t).map(|()| Prepared::new(t)))
        {
            Ok(p) => &*p,
            Err(e) => return Err(Fault::Invalid(e.clone())),
        };
        let params = &t.blocks[0].params;
        let types_match = inputs.iter().zip(params).all(|(v, p)| v.ty() == t.value_type(*p));
        if inputs.len() != params.len() || !types_match {
            let expected = params.iter().map(|p| t.value_type(*p)).collect();
            return Err(Fault::InputMismatch {
                expected,
                got: inputs.iter().map(Val::ty).collect(),
            });
        }
        self.regs.clear();
        self.regs.resize(t.value_types.len(), 0);
        for (p, v) in params.iter().zip(inputs) {
            self.regs[p.index()] = v.to_bits();
        }
        let mut m = Machine {
            t,
            guard_ids: &prepared.guard_ids,
            regs: &mut self.regs,
            scratch: &mut self.scratch,
            call_args: &mut self.call_args,
            heap: &mut self.heap,
            host: &mut *self.host,
            limit: self.step_limit,
            interrupt_after: self.interrupt_after.unwrap_or(u64::MAX),
            steps: 0,
            exception: false,
            overflowed: NONE,
        };
        let result = m.run();
        self.steps = m.steps;
        result
    }
}

/// One run's state.
struct Machine<'a, 't> {
    t: &'a Trace,
    guard_ids: &'a [Vec<u32>],
    regs: &'a mut [u64],
    scratch: &'a mut Vec<u64>,
    call_args: &'a mut Vec<Val>,
    heap: &'a mut Heap,
    host: &'a mut (dyn HostCalls + 't),
    limit: u64,
    interrupt_after: u64,
    steps: u64,
    /// Whether the last host call raised.
    exception: bool,
    /// The value id of the last `*_ovf` result if that op overflowed, else NONE.
    overflowed: u32,
}

fn site(b: usize, i: usize) -> Site {
    Site {
        block: Block::new(b),
        inst: i,
    }
}

impl Machine<'_, '_> {
    #[inline]
    fn reg(&self, v: Value) -> u64 {
        self.regs[v.index()]
    }

    fn val(&self, v: Value) -> Val {
        Val::from_bits(self.t.value_types[v.index()], self.reg(v))
    }

    fn vals(&self, vs: &[Value]) -> Vec<Val> {
        vs.iter().map(|&v| self.val(v)).collect()
    }

    fn run(&mut self) -> Result<Outcome, Fault> {
        let t = self.t;
        let mut b = 0usize;
        'blocks: loop {
            for (i, inst) in t.blocks[b].insts.iter().enumerate() {
                if self.steps >= self.limit {
                    return Err(Fault::StepLimit(self.limit));
                }
                self.steps += 1;
                let bits = match &inst.op {
                    Op::Const(k) => k.bits(),
                    Op::Unary(op, a) => crate::fold::unary_bits(*op, self.reg(*a)),
                    Op::Binary(op, x, y) => {
                        let r = self.binary(*op, self.reg(*x), self.reg(*y), inst.result);
                        r.ok_or(Fault::DivisionByZero {
                            block: Block::new(b),
                            inst: i,
                        })?
                    }
                    Op::Select {
                        cond,
                        if_true,
                        if_false,
                        ..
                    } => self.reg(if self.reg(*cond) != 0 { *if_true } else { *if_false }),
                    Op::New(l) => self.heap.alloc_object(t.layout(*l)),
                    Op::GetField(obj, f) => {
                        let fd = t.field(*f);
                        let addr = self.addr(*obj, fd.offset.into(), fd.ty.mem_size(), b, i)?;
                        self.load(addr, MemType::of(fd.ty), b, i)?
                    }
                    Op::SetField(obj, f, v) => {
                        let fd = t.field(*f);
                        let addr = self.addr(*obj, fd.offset.into(), fd.ty.mem_size(), b, i)?;
                        self.store(addr, MemType::of(fd.ty), *v, b, i)?;
                        continue;
                    }
                    Op::GetItem(a, arr, idx) => {
                        let (addr, mt) = self.item_addr(t.array(*a), *arr, *idx, b, i)?;
                        self.load(addr, mt, b, i)?
                    }
                    Op::SetItem(a, arr, idx, v) => {
                        let (addr, mt) = self.item_addr(t.array(*a), *arr, *idx, b, i)?;
                        self.store(addr, mt, *v, b, i)?;
                        continue;
                    }
                    Op::ArrayLen(a, arr) => {
                        let addr = self.addr(*arr, t.array(*a).len_offset.into(), 8, b, i)?;
                        self.load(addr, MemType::I64, b, i)?
                    }
                    Op::Load(mt, p, off) => {
                        let addr = self.addr(*p, (*off).into(), mt.size(), b, i)?;
                        self.load(addr, *mt, b, i)?
                    }
                    Op::Store(mt, p, off, v) => {
                        let addr = self.addr(*p, (*off).into(), mt.size(), b, i)?;
                        self.store(addr, *mt, *v, b, i)?;
                        continue;
                    }
                    Op::Call(c, args) => match self.call(*c, args, b, i)? {
                        Some(bits) => bits,
                        None => continue,
                    },
                    Op::MergePoint(_) => continue,
                    Op::Guard(kind, snap) => {
                        if self.guard_holds(kind, b, i)? {
                            continue;
                        }
                        return Ok(Outcome::Exit(self.exit(b, i, *snap)));
                    }
                    Op::Jump(JumpTarget::Block(target), args) => {
                        b = self.pass_args(args, *target);
                        continue 'blocks;
                    }
                    Op::Goto(bc) => {
                        b = self.pass_args(&bc.args, bc.block);
                        continue 'blocks;
                    }
                    Op::Br { cond, then_, else_, .. } => {
                        let bc = if self.reg(*cond) != 0 { then_ } else { else_ };
                        b = self.pass_args(&bc.args, bc.block);
                        continue 'blocks;
                    }
                    Op::Jump(JumpTarget::Unit(target), args) => {
                        return Ok(Outcome::Jump {
                            target: *target,
                            args: self.vals(args),
                        })
                    }
                    Op::Finish(args) => return Ok(Outcome::Finish(self.vals(args))),
                };
                if let Some(r) = inst.result {
                    self.regs[r.index()] = bits;
                }
            }
            // Unreachable for a verified trace: every block ends in a terminator.
            let message = format!("block{b} does not end in a terminator");
            let location = Location::Block(Block::new(b));
            return Err(Fault::Invalid(VerifyError {
                kind: VerifyErrorKind::MissingTerminator,
                location,
                message,
            }));
        }
    }

    /// Binds `args` to `target`'s parameters as a parallel copy; returns the block.
    fn pass_args(&mut self, args: &[Value], target: Block) -> usize {
        let params = &self.t.blocks[target.index()].params;
        let regs = &mut *self.regs;
        self.scratch.clear();
        self.scratch.extend(args.iter().map(|a| regs[a.index()]));
        for (p, &v) in params.iter().zip(self.scratch.iter()) {
            regs[p.index()] = v;
        }
        target.index()
    }

    /// `base + off` for an access of `size` bytes; null bases and addresses that do
    /// not fit in 64 bits fault here, the rest in the heap.
    fn addr(&self, base: Value, off: i128, size: u32, b: usize, i: usize) -> Result<u64, Fault> {
        let p = self.reg(base);
        if p == 0 {
            return Err(Fault::NullAccess {
                block: Block::new(b),
                inst: i,
            });
        }
        let a = i128::from(p) + off;
        u64::try_from(a).map_err(|_| Fault::BadAccess {
            addr: a as u64,
            size: size.into(),
            at: Some(site(b, i)),
        })
    }

    /// The address and memory type of item `idx` of array `arr`, checked against its
    /// length word.
    fn item_addr(&self, ad: &ArrayDescr, arr: Value, idx: Value, b: usize, i: usize) -> Result<(u64, MemType), Fault> {
        let len_addr = self.addr(arr, ad.len_offset.into(), 8, b, i)?;
        let len = self.load(len_addr, MemType::I64, b, i)? as i64;
        let index = self.reg(idx) as i64;
        if index < 0 || index >= len {
            return Err(Fault::IndexOutOfBounds {
                index,
                len,
                block: Block::new(b),
                inst: i,
            });
        }
        let size = ad.elem.mem_size();
        let off = i128::from(ad.items_offset) + i128::from(index) * i128::from(size);
        Ok((self.addr(arr, off, size, b, i)?, MemType::of(ad.elem)))
    }

    fn load(&self, addr: u64, mt: MemType, b: usize, i: usize) -> Result<u64, Fault> {
        self.heap.load_bits(addr, mt).map_err(|e| e.at(site(b, i)))
    }

    fn store(&mut self, addr: u64, mt: MemType, v: Value, b: usize, i: usize) -> Result<(), Fault> {
        let bits = self.reg(v);
        self.heap.store_bits(addr, mt, bits).map_err(|e| e.at(site(b, i)))
    }

    /// Calls the host; the result's bits if the call has a result.
    fn call(&mut self, c: CallId, args: &[Value], b: usize, i: usize) -> Result<Option<u64>, Fault> {
        let cd = self.t.call(c);
        let (regs, types) = (&*self.regs, &self.t.value_types);
        self.call_args.clear();
        self.call_args
            .extend(args.iter().map(|a| Val::from_bits(types[a.index()], regs[a.index()])));
        let res: CallResult = self
            .host
            .call(self.heap, cd, self.call_args)
            .map_err(|e| e.at(site(b, i)))?;
        self.exception = res.raised;
        match (cd.ret, res.value) {
            (None, None) => Ok(None),
            (Some(ty), Some(v)) if v.ty() == ty => Ok(Some(v.to_bits())),
            // A raising call's result is never used normally; it reads as zero.
            (Some(_), None) if res.raised => Ok(Some(0)),
            (expected, got) => {
                let got = got.map(|v| v.ty());
                Err(Fault::BadCallResult {
                    call: cd.name.clone(),
                    expected,
                    got,
                    at: Some(site(b, i)),
                })
            }
        }
    }

    fn guard_holds(&self, kind: &GuardKind, b: usize, i: usize) -> Result<bool, Fault> {
        Ok(match *kind {
            GuardKind::True(v) | GuardKind::NonNull(v) => self.reg(v) != 0,
            GuardKind::False(v) | GuardKind::IsNull(v) => self.reg(v) == 0,
            GuardKind::Value(v, k) => self.reg(v) == k.bits(),
            GuardKind::Class(v, l) => {
                let addr = self.addr(v, 0, 8, b, i)?;
                Some(self.load(addr, MemType::I64, b, i)?) == self.t.layout(l).class
            }
            GuardKind::NoOverflow(v) => self.overflowed != v.0,
            GuardKind::NoException => !self.exception,
            // `steps` already counts this guard.
            GuardKind::NoInterrupt => self.steps - 1 < self.interrupt_after,
        })
    }

    /// Evaluates the snapshot of the failing guard at instruction `i` of block `b`.
    fn exit(&self, b: usize, i: usize, snap: SnapshotId) -> ExitState {
        let guard = GuardId(self.guard_ids[b][i]);
        ExitState::evaluate(guard, self.t.snapshot(snap), self.exception, |v| self.val(v))
    }

    /// A binary op on register bits; None on division by zero. Records whether an
    /// `*_ovf` op overflowed, for the `guard_no_overflow` that follows it.
    #[inline]
    fn binary(&mut self, op: BinaryOp, x: u64, y: u64, result: Option<Value>) -> Option<u64> {
        let r = crate::fold::binary_bits(op, x, y).ok()?;
        if op.is_ovf() {
            self.overflowed = match result {
                Some(v) if r.overflow => v.0,
                _ => NONE,
            };
        }
        Some(r.bits)
    }
}
