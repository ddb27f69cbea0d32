//! # Baseline code for scalars, memory and host calls
//!
//! One fixed sequence per op, from the operands (their homes, or the registers that
//! [cache](super::cache) them) to the result's home, with
//! the reference interpreter's meaning (see the [level's docs](super)); the cases
//! where x86 differs from the IR are handled here:
//! - `idiv`/`irem`: zero faults, a divisor of -1 is a negation / zero (x86 `idiv`
//!   traps on `i64::MIN / -1`);
//! - `f2i`: `cvttsd2si` gives `i64::MIN` for NaN and out-of-range inputs; the IR
//!   saturates (NaN → 0, too large → `i64::MAX`), fixed up on that one result;
//! - float arithmetic results that are NaN become the canonical NaN;
//! - `feq` is ordered (`ZF && !PF`), `fne` unordered (`!ZF || PF`), and `flt`/`fle`
//!   compare with swapped operands so that `seta`/`setae` are false on NaN.
//!
//! Memory: with checks on, a null base faults before the access and an item index
//! outside `0..len` (compared unsigned) after the null check. Host calls use the
//! SysV convention: `i64`/`bool`/`ref`/`ptr` in `rdi, rsi, rdx, rcx, r8, r9`, `f64`
//! in `xmm0-7`, the rest on the stack; `take_exception` follows calls that may raise.

use super::{Emit, Emitter, Src, EXC, STATE};
use crate::abi::{OFF_ALLOC, OFF_ALLOC_CTX, OFF_TAKE_EXC, RET_FAULT_BOUNDS, RET_FAULT_DIV_ZERO, RET_FAULT_NULL};
use crate::BackendError;
use iced_x86::code_asm::*;
use leones_ir::{ArrayId, BinaryOp, CallId, LayoutId, MemType, Op, Type, UnaryOp, Value};

const INT_ARGS: [AsmRegister64; 6] = [rdi, rsi, rdx, rcx, r8, r9];
const FLOAT_ARGS: [AsmRegisterXmm; 8] = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7];

/// An integer op's right operand.
#[derive(Copy, Clone)]
enum Rhs {
    /// A constant, as a sign-extended 32-bit immediate.
    Imm(i32),
    Reg(AsmRegister64),
}

/// How many of a call's arguments go on the stack.
pub(super) fn stack_args(params: &[Type]) -> usize {
    let floats = params.iter().filter(|t| **t == Type::F64).count();
    let ints = params.len() - floats;
    ints.saturating_sub(INT_ARGS.len()) + floats.saturating_sub(FLOAT_ARGS.len())
}

/// A condition of the flags after `cmp` (or after `ucomisd`, for `A`/`Ae`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Cc {
    E,
    Ne,
    L,
    Le,
    G,
    Ge,
    B,
    Be,
    A,
    Ae,
    /// Overflow (after `add`/`sub`/`imul`).
    O,
    No,
}

impl Cc {
    /// The condition that holds exactly when `self` does not. After `ucomisd`,
    /// `Be`/`B` also hold when the operands are unordered — as the negation of an
    /// ordered `>`/`>=` must.
    pub(super) fn not(self) -> Cc {
        match self {
            Cc::E => Cc::Ne,
            Cc::Ne => Cc::E,
            Cc::L => Cc::Ge,
            Cc::Ge => Cc::L,
            Cc::Le => Cc::G,
            Cc::G => Cc::Le,
            Cc::B => Cc::Ae,
            Cc::Ae => Cc::B,
            Cc::Be => Cc::A,
            Cc::A => Cc::Be,
            Cc::O => Cc::No,
            Cc::No => Cc::O,
        }
    }
}

/// Whether `op` is a compare whose result a following guard or `br` can take from
/// the flags (`feq`/`fne` need two flags, so they are materialized).
pub(super) fn flag_compare(op: &Op) -> bool {
    use BinaryOp::*;
    matches!(
        op,
        Op::Binary(
            IEq | INe | ILt | ILe | IGt | IGe | IULt | IULe | IUGt | IUGe | REq | RNe | FLt | FLe | FGt | FGe,
            ..
        )
    )
}

impl Emitter<'_> {
    /// Jumps to `to` when `cc` holds.
    pub(super) fn jump_if(&mut self, cc: Cc, to: CodeLabel) -> Emit {
        match cc {
            Cc::E => self.a.je(to)?,
            Cc::Ne => self.a.jne(to)?,
            Cc::L => self.a.jl(to)?,
            Cc::Le => self.a.jle(to)?,
            Cc::G => self.a.jg(to)?,
            Cc::Ge => self.a.jge(to)?,
            Cc::B => self.a.jb(to)?,
            Cc::Be => self.a.jbe(to)?,
            Cc::A => self.a.ja(to)?,
            Cc::Ae => self.a.jae(to)?,
            Cc::O => self.a.jo(to)?,
            Cc::No => self.a.jno(to)?,
        }
        Ok(())
    }

    /// After a compare's flags are set: leaves them to the next instruction when it
    /// is the result's only use (see [`super::fuse`]), else materializes 0/1.
    fn compare_result(&mut self, cc: Cc, r: Value) -> Emit {
        if self.fusions.compares.contains(&r) {
            self.pending = Some((r, cc));
            return Ok(());
        }
        self.set_cc(cc)?;
        self.st(r, rax)
    }

    pub(super) fn unary(&mut self, op: UnaryOp, x: Value, r: Value) -> Emit {
        self.ld(rax, x)?;
        match op {
            UnaryOp::INeg => self.a.neg(rax)?,
            UnaryOp::INot => self.a.not(rax)?,
            UnaryOp::BNot => self.a.xor(rax, 1)?,
            UnaryOp::FNeg => self.a.btc(rax, 63)?,
            UnaryOp::FAbs => self.a.btr(rax, 63)?,
            UnaryOp::I2F => {
                self.a.cvtsi2sd(xmm0, rax)?;
                self.a.movq(rax, xmm0)?;
            }
            UnaryOp::F2I => self.f2i()?,
            // Same bits: `bool` is already 0/1, the rest are reinterpretations.
            UnaryOp::B2I
            | UnaryOp::F2Bits
            | UnaryOp::Bits2F
            | UnaryOp::Ptr2I
            | UnaryOp::I2Ptr
            | UnaryOp::Ref2I
            | UnaryOp::I2Ref => {}
        }
        self.st(r, rax)
    }

    /// `rax` (f64 bits) → saturating `i64` in `rax`.
    fn f2i(&mut self) -> Emit {
        let mut done = self.a.create_label();
        let mut nan = self.a.create_label();
        self.a.movq(xmm0, rax)?;
        self.a.cvttsd2si(rax, xmm0)?;
        self.a.mov(rcx, i64::MIN as u64)?;
        self.a.cmp(rax, rcx)?;
        self.a.jne(done)?;
        self.a.ucomisd(xmm0, xmm0)?;
        self.a.jp(nan)?;
        self.a.xorpd(xmm1, xmm1)?;
        self.a.ucomisd(xmm0, xmm1)?;
        // Negative and out of range: `i64::MIN` is right.
        self.a.jbe(done)?;
        self.a.mov(rax, i64::MAX as u64)?;
        self.a.jmp(done)?;
        self.bind(&mut nan)?;
        self.a.xor(eax, eax)?;
        self.bind(&mut done)?;
        Ok(())
    }

    pub(super) fn binary(&mut self, op: BinaryOp, x: Value, y: Value, r: Value) -> Emit {
        use BinaryOp::*;
        match op {
            IAdd | ISub | IMul | IAnd | IOr | IXor | BAnd | BOr | BXor | PtrAdd | IAddOvf | ISubOvf | IMulOvf => {
                self.ld(rax, x)?;
                let rhs = self.rhs(y)?;
                self.alu(op, rhs)?;
                // `st` only moves: an `*_ovf` op's overflow flag survives to the
                // guard that the verifier puts right after it.
                self.st(r, rax)?;
                if op.is_ovf() {
                    self.pending = Some((r, Cc::O));
                }
                Ok(())
            }
            IShl | IShr | IUShr => {
                // x86 masks a 64-bit shift count with 63, as the IR does.
                self.ld(rax, x)?;
                self.ld(rcx, y)?;
                match op {
                    IShl => self.a.shl(rax, cl)?,
                    IShr => self.a.sar(rax, cl)?,
                    _ => self.a.shr(rax, cl)?,
                }
                self.st(r, rax)
            }
            IDiv | IRem => self.division(op == IRem, x, y, r),
            IEq | REq => self.int_compare(Cc::E, x, y, r),
            INe | RNe => self.int_compare(Cc::Ne, x, y, r),
            ILt => self.int_compare(Cc::L, x, y, r),
            ILe => self.int_compare(Cc::Le, x, y, r),
            IGt => self.int_compare(Cc::G, x, y, r),
            IGe => self.int_compare(Cc::Ge, x, y, r),
            IULt => self.int_compare(Cc::B, x, y, r),
            IULe => self.int_compare(Cc::Be, x, y, r),
            IUGt => self.int_compare(Cc::A, x, y, r),
            IUGe => self.int_compare(Cc::Ae, x, y, r),
            FAdd | FSub | FMul | FDiv => self.float_arith(op, x, y, r),
            FEq | FNe => {
                self.load_f(xmm0, x)?;
                self.load_f(xmm1, y)?;
                self.a.ucomisd(xmm0, xmm1)?;
                if op == FEq {
                    self.a.sete(al)?;
                    self.a.setnp(cl)?;
                    self.a.and(al, cl)?;
                } else {
                    self.a.setne(al)?;
                    self.a.setp(cl)?;
                    self.a.or(al, cl)?;
                }
                self.a.movzx(eax, al)?;
                self.st(r, rax)
            }
            // `a < b` is `b > a`: `seta` is false when unordered.
            FLt => self.float_above(y, x, false, r),
            FLe => self.float_above(y, x, true, r),
            FGt => self.float_above(x, y, false, r),
            FGe => self.float_above(x, y, true, r),
        }
    }

    /// The right operand `y`: an immediate when it is a constant that fits, else a
    /// register holding it.
    fn rhs(&mut self, y: Value) -> Result<Rhs, BackendError> {
        Ok(match self.imm32(y) {
            Some(k) => Rhs::Imm(k),
            None => Rhs::Reg(self.operand(y)?),
        })
    }

    /// `rax op= rhs` for the two-operand integer ops (the `*_ovf` ones leave OF set
    /// when the result overflows).
    fn alu(&mut self, op: BinaryOp, rhs: Rhs) -> Emit {
        use BinaryOp::*;
        use Rhs::*;
        let a = &mut self.a;
        match (op, rhs) {
            (IAdd | IAddOvf | PtrAdd, Imm(k)) => a.add(rax, k)?,
            (IAdd | IAddOvf | PtrAdd, Reg(m)) => a.add(rax, m)?,
            (ISub | ISubOvf, Imm(k)) => a.sub(rax, k)?,
            (ISub | ISubOvf, Reg(m)) => a.sub(rax, m)?,
            (IMul | IMulOvf, Imm(k)) => a.imul_3(rax, rax, k)?,
            (IMul | IMulOvf, Reg(m)) => a.imul_2(rax, m)?,
            (IAnd | BAnd, Imm(k)) => a.and(rax, k)?,
            (IAnd | BAnd, Reg(m)) => a.and(rax, m)?,
            (IOr | BOr, Imm(k)) => a.or(rax, k)?,
            (IOr | BOr, Reg(m)) => a.or(rax, m)?,
            (IXor | BXor, Imm(k)) => a.xor(rax, k)?,
            (IXor | BXor, Reg(m)) => a.xor(rax, m)?,
            _ => return Err(BackendError::Builder(format!("{op:?} is not a two-operand integer op"))),
        }
        Ok(())
    }

    /// `xr := v` (its bits), from a register or from `v`'s home.
    fn load_f(&mut self, xr: AsmRegisterXmm, v: Value) -> Emit {
        match self.src(v)? {
            Src::Reg(c) => self.a.movq(xr, c)?,
            Src::Home(m) => self.a.movsd_2(xr, m)?,
        }
        Ok(())
    }

    fn set_cc(&mut self, cc: Cc) -> Emit {
        match cc {
            Cc::E => self.a.sete(al)?,
            Cc::Ne => self.a.setne(al)?,
            Cc::L => self.a.setl(al)?,
            Cc::Le => self.a.setle(al)?,
            Cc::G => self.a.setg(al)?,
            Cc::Ge => self.a.setge(al)?,
            Cc::B => self.a.setb(al)?,
            Cc::Be => self.a.setbe(al)?,
            Cc::A => self.a.seta(al)?,
            Cc::Ae => self.a.setae(al)?,
            Cc::O => self.a.seto(al)?,
            Cc::No => self.a.setno(al)?,
        }
        self.a.movzx(eax, al)?;
        Ok(())
    }

    fn int_compare(&mut self, cc: Cc, x: Value, y: Value, r: Value) -> Emit {
        let a = self.operand(x)?;
        match self.rhs(y)? {
            Rhs::Imm(k) => self.a.cmp(a, k)?,
            Rhs::Reg(b) => self.a.cmp(a, b)?,
        }
        self.compare_result(cc, r)
    }

    /// `a > b` (or `>=`), false when unordered.
    fn float_above(&mut self, a: Value, b: Value, or_equal: bool, r: Value) -> Emit {
        self.load_f(xmm0, a)?;
        self.load_f(xmm1, b)?;
        self.a.ucomisd(xmm0, xmm1)?;
        self.compare_result(if or_equal { Cc::Ae } else { Cc::A }, r)
    }

    fn float_arith(&mut self, op: BinaryOp, x: Value, y: Value, r: Value) -> Emit {
        self.load_f(xmm0, x)?;
        self.load_f(xmm1, y)?;
        match op {
            BinaryOp::FAdd => self.a.addsd(xmm0, xmm1)?,
            BinaryOp::FSub => self.a.subsd(xmm0, xmm1)?,
            BinaryOp::FMul => self.a.mulsd(xmm0, xmm1)?,
            _ => self.a.divsd(xmm0, xmm1)?,
        }
        let mut ordered = self.a.create_label();
        self.a.movq(rax, xmm0)?;
        self.a.ucomisd(xmm0, xmm0)?;
        self.a.jnp(ordered)?;
        self.a.mov(rax, leones_ir::fold::CANONICAL_NAN)?;
        self.bind(&mut ordered)?;
        self.st(r, rax)
    }

    fn division(&mut self, rem: bool, x: Value, y: Value, r: Value) -> Emit {
        let fault = self.fault_label(RET_FAULT_DIV_ZERO);
        let mut general = self.a.create_label();
        let mut done = self.a.create_label();
        self.ld(rax, x)?;
        self.ld(rcx, y)?;
        // A constant divisor other than 0 and -1 needs neither check.
        let divisor = self.constant(y).map(|k| k as i64);
        if divisor.is_some_and(|k| k != 0 && k != -1) {
            self.a.cqo()?;
            self.a.idiv(rcx)?;
            if rem {
                self.a.mov(rax, rdx)?;
            }
            return self.st(r, rax);
        }
        self.a.test(rcx, rcx)?;
        self.a.je(fault)?;
        self.a.cmp(rcx, -1)?;
        self.a.jne(general)?;
        if rem {
            self.a.xor(eax, eax)?;
        } else {
            self.a.neg(rax)?;
        }
        self.a.jmp(done)?;
        self.bind(&mut general)?;
        self.a.cqo()?;
        self.a.idiv(rcx)?;
        if rem {
            self.a.mov(rax, rdx)?;
        }
        self.bind(&mut done)?;
        self.st(r, rax)
    }

    // ---- memory ----

    /// Loads `v` into `rax`, leaving with a null fault when checks are on and it is
    /// null.
    pub(super) fn ld_checked(&mut self, v: Value) -> Emit {
        self.ld(rax, v)?;
        // A constant address other than null needs no check.
        if self.info.checks && self.constant(v).is_none_or(|k| k == 0) {
            let fault = self.fault_label(RET_FAULT_NULL);
            self.a.test(rax, rax)?;
            self.a.je(fault)?;
        }
        Ok(())
    }

    /// The memory operand `[rax + off]` (folding a displacement beyond 32 bits into
    /// `rax` first).
    fn at(&mut self, off: i64) -> Result<AsmMemoryOperand, BackendError> {
        match i32::try_from(off) {
            Ok(d) => Ok(ptr(rax + d)),
            Err(_) => {
                self.a.mov(rcx, off as u64)?;
                self.a.add(rax, rcx)?;
                Ok(ptr(rax))
            }
        }
    }

    /// Loads memory type `mt` at `[rax + off]` into `r`'s home.
    pub(super) fn mem_load(&mut self, mt: MemType, off: i64, r: Value) -> Emit {
        let m = self.at(off)?;
        match mt {
            MemType::I8S => self.a.movsx(rax, byte_ptr(m))?,
            MemType::I8U => self.a.movzx(eax, byte_ptr(m))?,
            MemType::I16S => self.a.movsx(rax, word_ptr(m))?,
            MemType::I16U => self.a.movzx(eax, word_ptr(m))?,
            MemType::I32S => self.a.movsxd(rax, dword_ptr(m))?,
            MemType::I32U => self.a.mov(eax, dword_ptr(m))?,
            MemType::Bool => {
                self.a.cmp(byte_ptr(m), 0)?;
                self.a.setne(al)?;
                self.a.movzx(eax, al)?;
            }
            MemType::F32 => {
                self.a.cvtss2sd(xmm0, dword_ptr(m))?;
                self.a.movq(rax, xmm0)?;
            }
            MemType::I64 | MemType::F64 | MemType::Ref | MemType::Ptr => self.a.mov(rax, qword_ptr(m))?,
        }
        self.st(r, rax)
    }

    /// Stores `v` as memory type `mt` at `[rax + off]`.
    pub(super) fn mem_store(&mut self, mt: MemType, off: i64, v: Value) -> Emit {
        let m = self.at(off)?;
        self.ld(rdx, v)?;
        match mt {
            MemType::I8S | MemType::I8U | MemType::Bool => self.a.mov(byte_ptr(m), dl)?,
            MemType::I16S | MemType::I16U => self.a.mov(word_ptr(m), dx)?,
            MemType::I32S | MemType::I32U => self.a.mov(dword_ptr(m), edx)?,
            MemType::F32 => {
                self.a.movq(xmm0, rdx)?;
                self.a.cvtsd2ss(xmm0, xmm0)?;
                self.a.movss(dword_ptr(m), xmm0)?;
            }
            MemType::I64 | MemType::F64 | MemType::Ref | MemType::Ptr => self.a.mov(qword_ptr(m), rdx)?,
        }
        Ok(())
    }

    /// Checks `arr` and `idx` (null, then bounds, when checks are on) and leaves the
    /// item's address minus `items_offset` in `rax`: returns the item's memory type
    /// and that offset.
    pub(super) fn item_address(&mut self, d: ArrayId, arr: Value, idx: Value) -> Result<(MemType, i64), BackendError> {
        let ad = self.trace.array(d);
        self.ld_checked(arr)?;
        self.ld(rcx, idx)?;
        if self.info.checks {
            let fault = self.fault_label(RET_FAULT_BOUNDS);
            self.a.cmp(rcx, qword_ptr(rax + ad.len_offset as i32))?;
            self.a.jae(fault)?;
        }
        self.a.imul_3(rcx, rcx, ad.elem.mem_size() as i32)?;
        self.a.add(rax, rcx)?;
        Ok((MemType::of(ad.elem), ad.items_offset.into()))
    }

    pub(super) fn new_object(&mut self, l: LayoutId, r: Value) -> Emit {
        let layout = self.trace.layout(l);
        self.a.mov(rax, qword_ptr(rbp + STATE))?;
        self.a.mov(rdi, qword_ptr(rax + OFF_ALLOC_CTX as i32))?;
        self.a.mov(rsi, u64::from(layout.size))?;
        self.a.call(qword_ptr(rax + OFF_ALLOC as i32))?;
        self.cache.after_call();
        if let Some(class) = layout.class {
            self.a.mov(rcx, class)?;
            self.a.mov(qword_ptr(rax), rcx)?;
        }
        self.st(r, rax)
    }

    pub(super) fn call(&mut self, c: CallId, args: &[Value], r: Option<Value>) -> Emit {
        let cd = self.trace.call(c);
        let (mut ints, mut floats, mut stack) = (0, 0, 0);
        for (a, ty) in args.iter().zip(&cd.params) {
            if *ty == Type::F64 && floats < FLOAT_ARGS.len() {
                self.load_f(FLOAT_ARGS[floats], *a)?;
                floats += 1;
            } else if *ty != Type::F64 && ints < INT_ARGS.len() {
                self.ld(INT_ARGS[ints], *a)?;
                ints += 1;
            } else {
                self.ld(rax, *a)?;
                self.a.mov(qword_ptr(rsp + 8 * stack), rax)?;
                stack += 1;
            }
        }
        self.a.mov(rax, cd.addr)?;
        self.a.call(rax)?;
        self.cache.after_call();
        if let (Some(ty), Some(r)) = (cd.ret, r) {
            match ty {
                Type::F64 => self.a.movq(rax, xmm0)?,
                Type::Bool => {
                    self.a.test(rax, rax)?;
                    self.a.setne(al)?;
                    self.a.movzx(eax, al)?;
                }
                Type::I64 | Type::Ref | Type::Ptr => {}
            }
            self.st(r, rax)?;
        }
        if cd.effects.may_raise {
            self.a.mov(rax, qword_ptr(rbp + STATE))?;
            self.a.call(qword_ptr(rax + OFF_TAKE_EXC as i32))?;
            self.cache.after_call();
            self.a.test(rax, rax)?;
            self.a.setne(al)?;
            self.a.movzx(eax, al)?;
            self.a.mov(qword_ptr(rbp + EXC), rax)?;
        } else {
            self.a.mov(qword_ptr(rbp + EXC), 0)?;
        }
        Ok(())
    }
}
