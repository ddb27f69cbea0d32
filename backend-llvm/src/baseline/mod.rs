//! # The baseline level: x86-64 straight from the IR, without LLVM
//!
//! LLVM's cheapest pipeline still costs a unit ~0.6-1.5 ms, most of it fixed (the
//! code generator's pass pipeline and MC layer are built per module), and a program
//! that discovers its paths one by one compiles dozens of units before any of them is
//! hot enough to deserve real optimization. The baseline level is the first tier that
//! V8 (Sparkplug) and LuaJIT's own backend make the same bet on: one linear walk over
//! the (already optimized) trace, a fixed instruction sequence per op, tens of
//! microseconds per unit. LLVM is kept for the level that pays: the optimized one.
//!
//! **Code shape.** Every SSA value has a *home*: one 8-byte word of the frame holding
//! its slot-buffer encoding ([`abi`](crate::abi): `i64` itself, `f64` its bits,
//! `bool` 0/1, `ref`/`ptr` the address), always exact: an op takes its operands from
//! their homes into scratch registers, computes and stores its result — no register
//! allocation, and exits and block arguments are plain word copies. Two things keep
//! the values between ops off the memory path without giving that up:
//! - a write-through *register cache* (`cache.rs`): a result is also copied into one of
//!   seven registers, and reads take the register while it still holds the value;
//! - *fusions* found by one walk before emission (`fuse.rs`): a compare whose only use
//!   is the next instruction, a guard or a `br` on it (and no snapshot), is never
//!   materialized — the consumer jumps on the compare's flags; an `*_ovf` op's guard
//!   jumps on the overflow flag; constants have no home (immediates at every read);
//!   the engine's counters are one memory `add`.
//!
//! The cache and fused compares made baseline code 6-16% faster on the talk's
//! arithmetic loops (session 16, pylite `--jit-level baseline`, medians of 3: pi 0.052
//! → 0.044 s, data_driven 0.253 → 0.23 s) for 4-12% more compile time; the other
//! fusions another 7-23% on every program (session 17, A/B medians of 3: pi 0.043 →
//! 0.036 s, data_driven 0.226 → 0.174, pythagorean's loops 0.115 / 0.137 / 0.113 →
//! 0.090 / 0.112 / 0.090, read_proto 0.057 → 0.053) for no more compile time
//! (`compile_latency`: 0-12% less — the instructions the walk saves pay for it). The
//! frame:
//!
//! ```text
//!   rbp-8        the JitState pointer         rbp-16   the exception flag (0/1)
//!   rbp-24-8i    the caller's rbx, r12-r15    rbp-64-8k   home of value k
//!   below        block-argument scratch
//!   rsp+8i       outgoing stack arguments
//! ```
//!
//! **Invariants**, the same protocol as the LLVM levels (so units of any level
//! attach to each other's exit slots and targets):
//! - one function `extern "C" fn(*mut JitState) -> u64`, entered with the inputs in
//!   the slot buffer; `rsp` is 16-aligned after the prologue, so every host call is
//!   made on an aligned stack;
//! - a failing guard stores its snapshot's live values in [`exit_values`] order, the
//!   guard id, the unit id and the exception flag, unwinds the frame and jumps
//!   (a tail call) through its exit slot with `rdi` = the state; a `jump @t` goes
//!   through the target table the same way; `finish` and faults return;
//! - every op means exactly what the reference interpreter says (wrapping integers,
//!   masked shift counts, `i64::MIN / -1`, saturating `f2i`, canonical NaN results
//!   of float arithmetic, ordered float compares but `fne`) — checked by the
//!   backend's differential tests, which run every level;
//! - the output is one position-independent function without relocations: all
//!   branches are internal and relative, host addresses and tables are 64-bit
//!   immediates. The backend copies it into its code arena (`crate::arena`: no
//!   linker), or wraps it in an ELF object for ORC where the arena cannot be mapped.
//!   It carries no unwind table, so a backend with debugger support compiles
//!   baseline jobs at the quick level instead.
//!
//! A worked example — `v2 = iadd v0, v1`, `v3 = ilt v2, v0`, `guard_true v3
//! [main@3(v2)]`, at the start of a block (nothing cached yet):
//!
//! ```text
//!     mov rax, [rbp-64]       ; home of v0 (into scratch: `add` overwrites it)
//!     mov rbx, [rbp-72]       ; home of v1, cached in rbx from now on
//!     add rax, rbx
//!     mov [rbp-80], rax       ; home of v2 ...
//!     mov r12, rax            ; ... and v2 cached in r12
//!     mov r13, [rbp-64]       ; v0, cached in r13 from now on
//!     cmp r12, r13            ; v3 = ilt v2, v0: fused, only the guard uses it
//!     jge exit_g0             ; cold stub, after the unit's code:
//! exit_g0:  state.guard = 0; slots[0] = [rbp-80]; state.unit, state.exception_pending
//!           restore rbx, r12-r15; leave; jmp [exit_table + 8*0]
//! ```

mod cache;
mod exits;
mod fuse;
mod ops;

use crate::abi::OFF_SLOTS;
use crate::lower::UnitInfo;
use crate::BackendError;
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use leones_ir::{Block, BlockCall, Inst, JumpTarget, Op, Trace, Type, Value};
use std::collections::HashMap;

impl From<IcedError> for BackendError {
    fn from(e: IcedError) -> Self {
        BackendError::Codegen(format!("baseline assembler: {e}"))
    }
}

/// Result of an emitting step.
type Emit = Result<(), BackendError>;

/// The frame offset of the state pointer and of the exception flag.
const STATE: i32 = -8;
const EXC: i32 = -16;
/// Where the caller's values of the cache's callee-saved registers are kept.
const SAVED: i32 = -24;
/// Where the value homes start.
const HOMES: i32 = SAVED - 8 * cache::CALLEE_SAVED as i32;

/// Generates `trace`'s machine code: one function, position-independent, without
/// relocations (it can be copied anywhere: `crate::arena`). Verifies the trace
/// first; never panics on bad input.
pub(crate) fn emit_code(trace: &Trace, info: &UnitInfo) -> Result<Vec<u8>, BackendError> {
    crate::lower::check_unit(trace)?;
    Emitter::new(trace, info)?.run()
}

/// Where an operand is read from ([`Emitter::src`]).
pub(super) enum Src {
    Reg(AsmRegister64),
    Home(AsmMemoryOperand),
}

/// One unit's code generation.
pub(crate) struct Emitter<'a> {
    a: CodeAssembler,
    trace: &'a Trace,
    info: &'a UnitInfo,
    /// Frame offset of the block-argument scratch area.
    scratch: i32,
    frame_size: i32,
    blocks: Vec<CodeLabel>,
    /// Instruction count when the last label was bound (a label needs an
    /// instruction of its own).
    labelled_at: Option<usize>,
    /// Cold code, emitted after the unit's blocks.
    faults: HashMap<u64, CodeLabel>,
    guard_stubs: Vec<(CodeLabel, u32, Vec<Value>)>,
    /// Each guard's id, by (block, instruction index).
    guard_ids: HashMap<(usize, usize), u32>,
    /// Values also held in registers at the current emission point.
    cache: cache::RegCache,
    /// Constants, fused compares, overflow checks and counters ([`fuse`]).
    fusions: fuse::Fusions,
    /// The fused compare (or `*_ovf` op) just emitted, whose flags are live.
    pending: Option<(Value, ops::Cc)>,
}

impl<'a> Emitter<'a> {
    fn new(trace: &'a Trace, info: &'a UnitInfo) -> Result<Self, BackendError> {
        let mut a = CodeAssembler::new(64)?;
        let blocks = trace.blocks.iter().map(|_| a.create_label()).collect();
        let nvals = trace.value_types.len() as i32;
        let fusions = fuse::Fusions::of(trace);
        let mut next = HOMES - 8 * nvals;
        let max_stack_args = (trace.blocks.iter().flat_map(|b| &b.insts))
            .filter_map(|inst| match &inst.op {
                Op::Call(c, _) => Some(ops::stack_args(&trace.call(*c).params)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let max_params = trace.blocks.iter().map(|b| b.params.len()).max().unwrap_or(0) as i32;
        let scratch = next;
        next -= 8 * max_params;
        // `next` is the lowest home's offset; below it the outgoing arguments.
        let size = -next - 8 + 8 * max_stack_args as i32;
        let frame_size = (size + 15) & !15;
        Ok(Emitter {
            a,
            trace,
            info,
            scratch,
            frame_size,
            blocks,
            labelled_at: None,
            faults: HashMap::new(),
            guard_stubs: Vec::new(),
            guard_ids: trace
                .guards()
                .iter()
                .map(|g| ((g.block.index(), g.inst), g.id.0))
                .collect(),
            cache: cache::RegCache::default(),
            fusions,
            pending: None,
        })
    }

    fn run(mut self) -> Result<Vec<u8>, BackendError> {
        self.prologue()?;
        for (bi, block) in self.trace.blocks.iter().enumerate() {
            let mut label = self.blocks[bi];
            self.bind(&mut label)?;
            // A block may be entered from several places: no register is known.
            self.cache.clear();
            for (ii, inst) in block.insts.iter().enumerate() {
                self.inst(bi, ii, inst)?;
            }
        }
        // Cold code reads homes only.
        self.cache.clear();
        self.cold_code()?;
        Ok(self.a.assemble(0)?)
    }

    /// Saves the frame and the cache's callee-saved registers, keeps the state
    /// pointer, clears the exception flag and loads `block0`'s parameters from the
    /// slot buffer (a `bool` is "non-zero").
    fn prologue(&mut self) -> Emit {
        let a = &mut self.a;
        a.push(rbp)?;
        a.mov(rbp, rsp)?;
        a.sub(rsp, self.frame_size)?;
        for (i, r) in cache::POOL[..cache::CALLEE_SAVED].iter().enumerate() {
            a.mov(qword_ptr(rbp + (SAVED - 8 * i as i32)), *r)?;
        }
        a.mov(qword_ptr(rbp + STATE), rdi)?;
        a.mov(qword_ptr(rbp + EXC), 0)?;
        a.mov(rax, qword_ptr(rdi + OFF_SLOTS as i32))?;
        let params = &self.trace.blocks[0].params;
        for (i, p) in params.iter().enumerate() {
            self.a.mov(rcx, qword_ptr(rax + 8 * i as i32))?;
            if self.trace.value_type(*p) == Type::Bool {
                self.a.test(rcx, rcx)?;
                self.a.setne(cl)?;
                self.a.movzx(ecx, cl)?;
            }
            self.st_param(*p, rcx)?;
        }
        Ok(())
    }

    fn inst(&mut self, bi: usize, ii: usize, inst: &Inst) -> Emit {
        if self.fusions.skipped.contains(&(bi, ii)) {
            return Ok(());
        }
        if let Some(c) = self.fusions.counters.get(&(bi, ii)).copied() {
            self.a.mov(rax, c.address)?;
            return Ok(self.a.add(qword_ptr(rax + c.offset), c.step)?);
        }
        let r = inst.result;
        match &inst.op {
            // Constants have no home and no code here: every read materializes the
            // immediate ([`Emitter::ld`], [`Emitter::operand`]).
            Op::Const(_) => Ok(()),
            Op::Unary(op, x) => self.unary(*op, *x, result(r)?),
            Op::Binary(op, x, y) => self.binary(*op, *x, *y, result(r)?),
            Op::Select {
                cond,
                if_true,
                if_false,
                ..
            } => {
                self.ld(rax, *if_true)?;
                self.ld(rcx, *if_false)?;
                self.test_value(*cond)?;
                self.a.cmove(rax, rcx)?;
                self.st(result(r)?, rax)
            }
            Op::New(l) => self.new_object(*l, result(r)?),
            Op::GetField(o, f) => {
                let fd = self.trace.field(*f);
                let (off, mt) = (fd.offset.into(), leones_ir::MemType::of(fd.ty));
                self.ld_checked(*o)?;
                self.mem_load(mt, off, result(r)?)
            }
            Op::SetField(o, f, v) => {
                let fd = self.trace.field(*f);
                let (off, mt) = (fd.offset.into(), leones_ir::MemType::of(fd.ty));
                self.ld_checked(*o)?;
                self.mem_store(mt, off, *v)
            }
            Op::ArrayLen(arr_d, arr) => {
                let off = self.trace.array(*arr_d).len_offset;
                self.ld_checked(*arr)?;
                self.a.mov(rax, qword_ptr(rax + off as i32))?;
                self.st(result(r)?, rax)
            }
            Op::GetItem(d, arr, i) => {
                let (mt, off) = self.item_address(*d, *arr, *i)?;
                self.mem_load(mt, off, result(r)?)
            }
            Op::SetItem(d, arr, i, v) => {
                let (mt, off) = self.item_address(*d, *arr, *i)?;
                self.mem_store(mt, off, *v)
            }
            Op::Load(mt, p, off) => {
                self.ld_checked(*p)?;
                self.mem_load(*mt, *off, result(r)?)
            }
            Op::Store(mt, p, off, v) => {
                self.ld_checked(*p)?;
                self.mem_store(*mt, *off, *v)
            }
            Op::Call(c, args) => self.call(*c, args, r),
            Op::MergePoint(_) => Ok(()),
            Op::Guard(kind, snap) => {
                let id = *self
                    .guard_ids
                    .get(&(bi, ii))
                    .ok_or_else(|| BackendError::Builder(format!("no guard id for block{bi} instruction {ii}")))?;
                let list = crate::abi::exit_values(self.trace.snapshot(*snap));
                self.guard(kind, id, list)
            }
            Op::Jump(JumpTarget::Block(b), args) => self.branch(bi, *b, args),
            Op::Goto(bc) => self.branch(bi, bc.block, &bc.args),
            Op::Br { cond, then_, else_, .. } => self.br(bi, *cond, then_, else_),
            Op::Jump(JumpTarget::Unit(t), args) => self.jump_unit(t.0, args),
            Op::Finish(args) => self.finish(bi, args),
        }
    }

    // ---- homes and labels ----

    /// The home of `v`.
    fn home(&self, v: Value) -> AsmMemoryOperand {
        qword_ptr(rbp + (HOMES - 8 * v.index() as i32))
    }

    /// `r := v`: a constant's immediate straight into `r` (no cache register
    /// needed), else from [`Emitter::src`].
    fn ld(&mut self, r: AsmRegister64, v: Value) -> Emit {
        if let Some(k) = self.constant(v) {
            return self.mov_imm(r, k);
        }
        match self.src(v)? {
            Src::Reg(c) => self.a.mov(r, c)?,
            Src::Home(m) => self.a.mov(r, m)?,
        }
        Ok(())
    }

    /// Where a read finds `v`: its cache register; a constant's immediate, loaded
    /// into a cache register (it has no home); else its home.
    fn src(&mut self, v: Value) -> Result<Src, BackendError> {
        if let Some(c) = self.cache.lookup(v) {
            return Ok(Src::Reg(c));
        }
        if self.constant(v).is_some() {
            return Ok(Src::Reg(self.operand(v)?));
        }
        Ok(Src::Home(self.home(v)))
    }

    /// The bits of `v` when it is a constant (which has no home).
    fn constant(&self, v: Value) -> Option<u64> {
        self.fusions.constant(v)
    }

    /// The constant `v` as a sign-extended 32-bit immediate, when it is one.
    fn imm32(&self, v: Value) -> Option<i32> {
        self.constant(v).and_then(|k| i32::try_from(k as i64).ok())
    }

    /// `r := k` in the shortest encoding, leaving the flags alone (a fused compare's
    /// may be live).
    fn mov_imm(&mut self, r: AsmRegister64, k: u64) -> Emit {
        use iced_x86::{Code, Instruction, Register};
        let r64 = Register::from(r);
        if let (Ok(k32), Some(r32)) = (u32::try_from(k), low_half(r64)) {
            // Writing the low half zeroes the high one.
            self.a
                .add_instruction(Instruction::with2(Code::Mov_r32_imm32, r32, k32)?)?;
        } else if let Ok(s32) = i32::try_from(k as i64) {
            self.a
                .add_instruction(Instruction::with2(Code::Mov_rm64_imm32, r64, s32)?)?;
        } else {
            self.a.mov(r, k)?;
        }
        Ok(())
    }

    /// A register holding `v` for reading: its cache register, or one loaded from
    /// its home (or with its immediate) and cached from now on (a loop's parameters
    /// are read many times).
    fn operand(&mut self, v: Value) -> Result<AsmRegister64, BackendError> {
        if let Some(c) = self.cache.lookup(v) {
            return Ok(c);
        }
        let c = self.cache.insert(v);
        match self.constant(v) {
            Some(k) => self.mov_imm(c, k)?,
            None => {
                let m = self.home(v);
                self.a.mov(c, m)?;
            }
        }
        Ok(c)
    }

    /// Sets the flags as `cmp v, 0` does (ZF: `v` is zero/false/null).
    fn test_value(&mut self, v: Value) -> Emit {
        match self.src(v)? {
            Src::Reg(c) => self.a.test(c, c)?,
            Src::Home(m) => self.a.cmp(m, 0)?,
        }
        Ok(())
    }

    /// Jumps to `to` when `v` is false (zero, null), on a fused compare's flags
    /// when `v` is one.
    fn jump_unless(&mut self, v: Value, to: CodeLabel) -> Emit {
        match self.pending.take() {
            Some((p, cc)) if p == v => self.jump_if(cc.not(), to),
            _ => {
                self.test_value(v)?;
                Ok(self.a.je(to)?)
            }
        }
    }

    /// Jumps to `to` when `v` is true (non-zero, non-null).
    fn jump_when(&mut self, v: Value, to: CodeLabel) -> Emit {
        match self.pending.take() {
            Some((p, cc)) if p == v => self.jump_if(cc, to),
            _ => {
                self.test_value(v)?;
                Ok(self.a.jne(to)?)
            }
        }
    }

    /// Defines `v` := `r`: stores its home and caches it (write-through).
    fn st(&mut self, v: Value, r: AsmRegister64) -> Emit {
        let m = self.home(v);
        self.a.mov(m, r)?;
        let c = self.cache.insert(v);
        Ok(self.a.mov(c, r)?)
    }

    /// Stores block parameter `p`'s home on an edge into its block. Not cached (the
    /// block's start decides what is known there), and a cached copy of `p` is
    /// forgotten: a cache register must never differ from its value's home.
    fn st_param(&mut self, p: Value, r: AsmRegister64) -> Emit {
        self.cache.forget(p);
        let m = self.home(p);
        Ok(self.a.mov(m, r)?)
    }

    /// Restores the cache's callee-saved registers, before the frame is unwound.
    fn restore_saved(&mut self) -> Emit {
        for (i, r) in cache::POOL[..cache::CALLEE_SAVED].iter().enumerate() {
            self.a.mov(*r, qword_ptr(rbp + (SAVED - 8 * i as i32)))?;
        }
        Ok(())
    }

    /// Binds `label` to the next instruction (after a `nop` if another label is
    /// already bound there: the assembler allows one label per instruction).
    fn bind(&mut self, label: &mut CodeLabel) -> Emit {
        let here = self.a.instructions().len();
        if self.labelled_at == Some(here) {
            self.a.nop()?;
        }
        self.a.set_label(label)?;
        self.labelled_at = Some(self.a.instructions().len());
        Ok(())
    }

    // ---- in-function control flow ----

    /// Copies `args` into `target`'s parameters and jumps there (falls through when
    /// it is the next block).
    fn branch(&mut self, from: usize, target: Block, args: &[Value]) -> Emit {
        self.pass_args(target, args)?;
        self.jump_block(from, target)
    }

    fn jump_block(&mut self, from: usize, target: Block) -> Emit {
        if target.index() != from + 1 {
            self.a.jmp(self.blocks[target.index()])?;
        }
        Ok(())
    }

    /// The parallel copy `params(target) := args`: through the scratch area when an
    /// argument is itself one of the parameters (a loop's rotated values), else
    /// directly.
    fn pass_args(&mut self, target: Block, args: &[Value]) -> Emit {
        let trace = self.trace;
        let params = &trace.blocks[target.index()].params;
        if args.iter().any(|a| params.contains(a)) {
            for (i, a) in args.iter().enumerate() {
                self.ld(rax, *a)?;
                self.a.mov(self.scratch_word(i), rax)?;
            }
            self.params_from_scratch(target)?;
        } else {
            for (p, a) in params.iter().zip(args) {
                match self.cache.lookup(*a) {
                    Some(c) => self.st_param(*p, c)?,
                    None => {
                        self.ld(rax, *a)?;
                        self.st_param(*p, rax)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Word `i` of the block-argument scratch area.
    fn scratch_word(&self, i: usize) -> AsmMemoryOperand {
        qword_ptr(rbp + (self.scratch - 8 * i as i32))
    }

    /// `params(target)[i] := scratch[i]`, the second half of a parallel copy.
    fn params_from_scratch(&mut self, target: Block) -> Emit {
        let trace = self.trace;
        for (i, p) in trace.blocks[target.index()].params.iter().enumerate() {
            self.a.mov(rax, self.scratch_word(i))?;
            self.st_param(*p, rax)?;
        }
        Ok(())
    }

    fn br(&mut self, from: usize, cond: Value, then_: &BlockCall, else_: &BlockCall) -> Emit {
        if then_.block == else_.block {
            // One target: pick each argument into the scratch area, then one copy.
            self.ld(rdx, cond)?;
            for (i, (t, e)) in then_.args.iter().zip(&else_.args).enumerate() {
                self.ld(rax, *t)?;
                self.ld(rcx, *e)?;
                self.a.test(rdx, rdx)?;
                self.a.cmove(rax, rcx)?;
                self.a.mov(self.scratch_word(i), rax)?;
            }
            self.params_from_scratch(then_.block)?;
            return self.jump_block(from, then_.block);
        }
        let mut else_edge = self.a.create_label();
        self.jump_unless(cond, else_edge)?;
        self.pass_args(then_.block, &then_.args)?;
        self.a.jmp(self.blocks[then_.block.index()])?;
        self.bind(&mut else_edge)?;
        self.branch(from, else_.block, &else_.args)
    }
}

/// The 32-bit register that is `r`'s low half (`rax` → `eax`, `r12` → `r12d`).
fn low_half(r: iced_x86::Register) -> Option<iced_x86::Register> {
    use iced_x86::Register as R;
    const PAIRS: [(R, R); 16] = [
        (R::RAX, R::EAX),
        (R::RCX, R::ECX),
        (R::RDX, R::EDX),
        (R::RBX, R::EBX),
        (R::RSP, R::ESP),
        (R::RBP, R::EBP),
        (R::RSI, R::ESI),
        (R::RDI, R::EDI),
        (R::R8, R::R8D),
        (R::R9, R::R9D),
        (R::R10, R::R10D),
        (R::R11, R::R11D),
        (R::R12, R::R12D),
        (R::R13, R::R13D),
        (R::R14, R::R14D),
        (R::R15, R::R15D),
    ];
    PAIRS.iter().find(|(full, _)| *full == r).map(|(_, low)| *low)
}

/// The result value an op must have (the verifier guarantees it).
fn result(r: Option<Value>) -> Result<Value, BackendError> {
    r.ok_or_else(|| BackendError::Builder("an op without its result value".into()))
}

/// A relocatable ELF object whose `.text` is `code`, defining the global function
/// `symbol` at its start.
/// Wraps baseline code in an ELF object defining `symbol`, for ORC (when the code
/// arena cannot be used).
pub(crate) fn elf_object(symbol: &str, code: &[u8]) -> Result<Vec<u8>, BackendError> {
    use object::write::{Object, StandardSection, Symbol, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    let offset = obj.append_section_data(text, code, 16);
    obj.add_symbol(Symbol {
        name: symbol.as_bytes().to_vec(),
        value: offset,
        size: code.len() as u64,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(text),
        flags: SymbolFlags::None,
    });
    obj.write()
        .map_err(|e| BackendError::Codegen(format!("baseline object file: {e}")))
}
