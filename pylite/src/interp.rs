//! # The dispatch loop
//!
//! `run_frames` executes the top frame until an *entry* frame returns. The
//! current frame's code, pc and register base live in Rust locals; they are
//! written back to the frame record only when control leaves the frame (call,
//! return, yield, exception, safepoint), so the hot path is: fetch an 8-byte
//! instruction, `match`, operate on `regs[i]`.
//!
//! Fast paths are inline: int/int and float/float arithmetic and comparisons
//! (ints checked for overflow), fused compare-and-branch, `for ... in range`
//! (`ForRange`), list/tuple/range/generator iteration, instance slot reads and
//! writes through the inline cache, and calls (a Python callee's frame is pushed
//! and the loop continues in it). Everything else calls into `ops.rs`,
//! `attr.rs`, `call.rs`.
//!
//! Safepoints: `Loop` (every loop back-edge) and function entry poll the GC.
//! `Loop` is also where a JIT would count iterations per loop header and hand
//! the frame's slot array to compiled code, resuming from the frame it returns.
//!
//! Exceptions: any failing operation breaks out of the inner loop with the
//! exception; `unwind` searches the exception tables frame by frame, records
//! the traceback, and either resumes at a handler or returns the exception from
//! the entry frame.
//!
//! Safety: register operands are always `< code.nslots` (the compiler allocates
//! them), and every frame's `base` points at `nslots` initialised values (see
//! `call.rs`), so the unchecked register accesses below are in bounds. Jump
//! targets are valid instruction indices (patched by the compiler), and every
//! code object ends with `Return`.

use crate::ast::CmpOp;
use crate::attr::AttrOut;
use crate::bytecode::*;
use crate::call::Called;
use crate::error::ExcType;
use crate::object::*;
use crate::ops::Arith;
use crate::value::*;
use crate::vm::{Frame, FrameKind, Vm, MAX_DEPTH};

impl Vm {
    /// Runs until the top entry frame returns.
    pub(crate) fn run_frames(&mut self) -> PyResult<Value> {
        self.run_depth += 1;
        // SAFETY: see the module documentation.
        let r = unsafe { self.run_loop() };
        self.run_depth -= 1;
        if self.run_depth == 0 && self.recording {
            self.jit_abort("the program ended");
        }
        r
    }

    #[allow(unused_assignments)]
    unsafe fn run_loop(&mut self) -> PyResult<Value> {
        'reload: loop {
            let top = self.frames.last().unwrap_unchecked();
            let mut code: &Code = &*top.code;
            let mut pc = top.pc as usize;
            let mut regs: *mut Value = top.base;
            macro_rules! r {
                ($i:expr) => {
                    *regs.add($i as usize)
                };
            }
            macro_rules! save_pc {
                () => {
                    self.frames.last_mut().unwrap_unchecked().pc = pc as u32
                };
            }
            macro_rules! load_top {
                () => {{
                    let f = self.frames.last().unwrap_unchecked();
                    code = &*f.code;
                    pc = f.pc as usize;
                    regs = f.base;
                }};
            }
            let exc: Value = 'dispatch: loop {
                macro_rules! throw {
                    ($e:expr) => {
                        break 'dispatch $e
                    };
                }
                macro_rules! tryv {
                    ($e:expr) => {
                        match $e {
                            Ok(v) => v,
                            Err(e) => throw!(e),
                        }
                    };
                }
                macro_rules! do_call {
                    ($callee:expr, $args:expr, $dst:expr) => {{
                        save_pc!();
                        match tryv!(self.invoke($callee, $args, $dst)) {
                            Called::Pushed => load_top!(),
                            Called::Value(v) => r!($dst) = v,
                        }
                    }};
                }
                macro_rules! arith {
                    ($dst:expr, $a:expr, $b:expr, $checked:ident, $fop:tt, $op:expr) => {{
                        let x = r!($a);
                        let y = r!($b);
                        if x.tag == TAG_INT && y.tag == TAG_INT {
                            match x.as_int().$checked(y.as_int()) {
                                Some(v) => r!($dst) = Value::int(v),
                                None => throw!(self.overflow()),
                            }
                        } else if x.tag == TAG_FLOAT && y.tag == TAG_FLOAT {
                            r!($dst) = Value::float(x.as_float() $fop y.as_float());
                        } else if let Some((p, q)) = num_pair(x, y) {
                            r!($dst) = Value::float(p $fop q);
                        } else {
                            r!($dst) = tryv!(self.binary($op, x, y));
                        }
                    }};
                }
                macro_rules! slow_arith {
                    ($dst:expr, $a:expr, $b:expr, $op:expr) => {{
                        let x = r!($a);
                        let y = r!($b);
                        r!($dst) = if x.tag == TAG_INT && y.tag == TAG_INT {
                            tryv!(self.int_arith($op, x.as_int(), y.as_int()))
                        } else {
                            tryv!(self.binary($op, x, y))
                        };
                    }};
                }
                macro_rules! cmp_val {
                    ($a:expr, $b:expr, $op:tt, $cmp:expr) => {{
                        let x = r!($a);
                        let y = r!($b);
                        if x.tag == TAG_INT && y.tag == TAG_INT {
                            x.as_int() $op y.as_int()
                        } else if x.tag == TAG_FLOAT && y.tag == TAG_FLOAT {
                            x.as_float() $op y.as_float()
                        } else {
                            tryv!(self.compare($cmp, x, y))
                        }
                    }};
                }
                macro_rules! eq_val {
                    ($a:expr, $b:expr) => {{
                        let x = r!($a);
                        let y = r!($b);
                        if x.tag == TAG_INT && y.tag == TAG_INT {
                            x.payload == y.payload
                        } else {
                            tryv!(self.equals_checked(x, y))
                        }
                    }};
                }

                if self.recording && self.run_depth == 1 {
                    self.jit_record(code, pc, regs);
                }
                let ins = *code.instrs.get_unchecked(pc);
                pc += 1;
                match ins {
                    Instr::Nop | Instr::KwNames { .. } => {}
                    Instr::Move { dst, src } => r!(dst) = r!(src),
                    Instr::LoadConst { dst, k } => r!(dst) = *code.consts.get_unchecked(k as usize),
                    Instr::LoadGlobal { dst, g } => {
                        let v = *self.globals.get_unchecked(g as usize);
                        if v.is_undef() {
                            let n = self.global_names[g as usize].clone();
                            throw!(self.err(ExcType::NameError, format!("name '{}' is not defined", n)));
                        }
                        r!(dst) = v;
                    }
                    Instr::StoreGlobal { g, src } => *self.globals.get_unchecked_mut(g as usize) = r!(src),
                    Instr::CheckBound { r } => {
                        if r!(r).is_undef() {
                            let n = code.local_names.get(r as usize).cloned().unwrap_or_default();
                            throw!(self.err(
                                ExcType::UnboundLocalError,
                                format!(
                                    "cannot access local variable '{}' where it is not associated with a value",
                                    n
                                )
                            ));
                        }
                    }
                    Instr::Add { dst, a, b } => arith!(dst, a, b, checked_add, +, Arith::Add),
                    Instr::Sub { dst, a, b } => arith!(dst, a, b, checked_sub, -, Arith::Sub),
                    Instr::Mul { dst, a, b } => arith!(dst, a, b, checked_mul, *, Arith::Mul),
                    Instr::Div { dst, a, b } => {
                        let (x, y) = (r!(a), r!(b));
                        match num_pair(x, y) {
                            Some((p, q)) if q != 0.0 => r!(dst) = Value::float(p / q),
                            _ => r!(dst) = tryv!(self.binary(Arith::Div, x, y)),
                        }
                    }
                    Instr::FloorDiv { dst, a, b } => {
                        let (x, y) = (r!(a), r!(b));
                        if x.tag == TAG_INT && y.tag == TAG_INT && y.as_int() > 0 {
                            r!(dst) = Value::int(x.as_int().div_euclid(y.as_int()));
                        } else {
                            slow_arith!(dst, a, b, Arith::FloorDiv)
                        }
                    }
                    Instr::Mod { dst, a, b } => {
                        let (x, y) = (r!(a), r!(b));
                        if x.tag == TAG_INT && y.tag == TAG_INT && y.as_int() > 0 {
                            r!(dst) = Value::int(x.as_int().rem_euclid(y.as_int()));
                        } else {
                            slow_arith!(dst, a, b, Arith::Mod)
                        }
                    }
                    Instr::Pow { dst, a, b } => slow_arith!(dst, a, b, Arith::Pow),
                    Instr::Shl { dst, a, b } => slow_arith!(dst, a, b, Arith::Shl),
                    Instr::Shr { dst, a, b } => slow_arith!(dst, a, b, Arith::Shr),
                    Instr::BitAnd { dst, a, b } => {
                        let (x, y) = (r!(a), r!(b));
                        if x.tag == TAG_INT && y.tag == TAG_INT {
                            r!(dst) = Value::int(x.as_int() & y.as_int());
                        } else {
                            slow_arith!(dst, a, b, Arith::And)
                        }
                    }
                    Instr::BitOr { dst, a, b } => slow_arith!(dst, a, b, Arith::Or),
                    Instr::BitXor { dst, a, b } => slow_arith!(dst, a, b, Arith::Xor),
                    Instr::Neg { dst, src } => {
                        let x = r!(src);
                        if x.tag == TAG_FLOAT {
                            r!(dst) = Value::float(-x.as_float());
                        } else {
                            r!(dst) = tryv!(self.unary(b'-', x));
                        }
                    }
                    Instr::Pos { dst, src } => r!(dst) = tryv!(self.unary(b'+', r!(src))),
                    Instr::Invert { dst, src } => r!(dst) = tryv!(self.unary(b'~', r!(src))),
                    Instr::Not { dst, src } => {
                        let t = self.truthy(r!(src));
                        r!(dst) = Value::bool(!t);
                    }
                    Instr::Lt { dst, a, b } => r!(dst) = Value::bool(cmp_val!(a, b, <, CmpOp::Lt)),
                    Instr::Le { dst, a, b } => r!(dst) = Value::bool(cmp_val!(a, b, <=, CmpOp::Le)),
                    Instr::Gt { dst, a, b } => r!(dst) = Value::bool(cmp_val!(a, b, >, CmpOp::Gt)),
                    Instr::Ge { dst, a, b } => r!(dst) = Value::bool(cmp_val!(a, b, >=, CmpOp::Ge)),
                    Instr::Eq { dst, a, b } => r!(dst) = Value::bool(eq_val!(a, b)),
                    Instr::Ne { dst, a, b } => r!(dst) = Value::bool(!eq_val!(a, b)),
                    Instr::Is { dst, a, b } => r!(dst) = Value::bool(r!(a).is(r!(b))),
                    Instr::IsNot { dst, a, b } => r!(dst) = Value::bool(!r!(a).is(r!(b))),
                    Instr::In { dst, a, b } => r!(dst) = Value::bool(tryv!(self.contains(r!(b), r!(a)))),
                    Instr::NotIn { dst, a, b } => r!(dst) = Value::bool(!tryv!(self.contains(r!(b), r!(a)))),
                    Instr::Jump { t } => pc = t as usize,
                    Instr::Loop { t } => {
                        pc = t as usize;
                        self.loop_iterations += 1;
                        // Safepoint, and the JIT's hook: count, record, enter compiled code.
                        if self.heap.wants_gc() {
                            save_pc!();
                            self.collect();
                        }
                        if self.jit.is_some() && self.run_depth == 1 {
                            save_pc!();
                            match self.jit_header(pc) {
                                crate::jit::JitNext::Continue => {}
                                crate::jit::JitNext::Reload => load_top!(),
                                crate::jit::JitNext::Throw(e) => {
                                    load_top!();
                                    throw!(e)
                                }
                            }
                        }
                    }
                    Instr::BrTrue { a, t } => {
                        let x = r!(a);
                        let c = if x.tag == TAG_BOOL {
                            x.payload != 0
                        } else {
                            self.truthy(x)
                        };
                        if c {
                            pc = t as usize
                        }
                    }
                    Instr::BrFalse { a, t } => {
                        let x = r!(a);
                        let c = if x.tag == TAG_BOOL {
                            x.payload != 0
                        } else {
                            self.truthy(x)
                        };
                        if !c {
                            pc = t as usize
                        }
                    }
                    Instr::BrNone { a, t } => {
                        if r!(a).tag == TAG_NONE {
                            pc = t as usize
                        }
                    }
                    Instr::BrNotNone { a, t } => {
                        if r!(a).tag != TAG_NONE {
                            pc = t as usize
                        }
                    }
                    Instr::BrLt { a, b, t } => {
                        if cmp_val!(a, b, <, CmpOp::Lt) {
                            pc = t as usize
                        }
                    }
                    Instr::BrLe { a, b, t } => {
                        if cmp_val!(a, b, <=, CmpOp::Le) {
                            pc = t as usize
                        }
                    }
                    Instr::BrGt { a, b, t } => {
                        if cmp_val!(a, b, >, CmpOp::Gt) {
                            pc = t as usize
                        }
                    }
                    Instr::BrGe { a, b, t } => {
                        if cmp_val!(a, b, >=, CmpOp::Ge) {
                            pc = t as usize
                        }
                    }
                    Instr::BrNLt { a, b, t } => {
                        if !cmp_val!(a, b, <, CmpOp::Lt) {
                            pc = t as usize
                        }
                    }
                    Instr::BrNLe { a, b, t } => {
                        if !cmp_val!(a, b, <=, CmpOp::Le) {
                            pc = t as usize
                        }
                    }
                    Instr::BrNGt { a, b, t } => {
                        if !cmp_val!(a, b, >, CmpOp::Gt) {
                            pc = t as usize
                        }
                    }
                    Instr::BrNGe { a, b, t } => {
                        if !cmp_val!(a, b, >=, CmpOp::Ge) {
                            pc = t as usize
                        }
                    }
                    Instr::BrEq { a, b, t } => {
                        if eq_val!(a, b) {
                            pc = t as usize
                        }
                    }
                    Instr::BrNe { a, b, t } => {
                        if !eq_val!(a, b) {
                            pc = t as usize
                        }
                    }
                    Instr::BrIs { a, b, t } => {
                        if r!(a).is(r!(b)) {
                            pc = t as usize
                        }
                    }
                    Instr::BrIsNot { a, b, t } => {
                        if !r!(a).is(r!(b)) {
                            pc = t as usize
                        }
                    }
                    Instr::GetIter { dst, src } => {
                        save_pc!();
                        r!(dst) = tryv!(self.get_iter(r!(src)));
                    }
                    Instr::RangeInit { base } => {
                        for i in 0..3 {
                            let v = r!(base + i);
                            match v.as_intlike() {
                                Some(x) => r!(base + i) = Value::int(x),
                                None => {
                                    let tn = self.type_name(v);
                                    throw!(self.err(
                                        ExcType::TypeError,
                                        format!("'{}' object cannot be interpreted as an integer", tn)
                                    ));
                                }
                            }
                        }
                        if r!(base + 2).as_int() == 0 {
                            throw!(self.err(ExcType::ValueError, "range() arg 3 must not be zero"));
                        }
                    }
                    Instr::ForRange { base, dst, t } => {
                        let cur = r!(base).as_int();
                        let stop = r!(base + 1).as_int();
                        let step = r!(base + 2).as_int();
                        if (step > 0 && cur < stop) || (step < 0 && cur > stop) {
                            r!(dst) = Value::int(cur);
                            r!(base) = Value::int(cur.checked_add(step).unwrap_or(stop));
                        } else {
                            pc = t as usize;
                        }
                    }
                    Instr::ForIter { it, dst, t } => {
                        let itv = r!(it);
                        match itv.kind() {
                            Some(Kind::RangeIter) => {
                                let ri = cast_unchecked::<RangeIterObj>(itv);
                                if (ri.step > 0 && ri.cur < ri.stop) || (ri.step < 0 && ri.cur > ri.stop) {
                                    r!(dst) = Value::int(ri.cur);
                                    ri.cur = ri.cur.checked_add(ri.step).unwrap_or(ri.stop);
                                } else {
                                    pc = t as usize;
                                }
                            }
                            Some(Kind::SeqIter) => {
                                let si = cast_unchecked::<SeqIterObj>(itv);
                                match self.seq_iter_next(si) {
                                    Some(v) => r!(dst) = v,
                                    None => pc = t as usize,
                                }
                            }
                            Some(Kind::Generator) => {
                                let g = itv.as_ptr::<GeneratorObj>();
                                match (*g).state {
                                    GEN_DONE => pc = t as usize,
                                    GEN_RUNNING => throw!(self.err(ExcType::ValueError, "generator already executing")),
                                    _ => {
                                        if self.frames.len() >= MAX_DEPTH {
                                            throw!(
                                                self.err(ExcType::RecursionError, "maximum recursion depth exceeded")
                                            );
                                        }
                                        save_pc!();
                                        (*g).state = GEN_RUNNING;
                                        self.frames.push(Frame {
                                            code: (*g).code,
                                            base: GeneratorObj::slots_ptr(g),
                                            pc: (*g).pc,
                                            ret_dst: dst,
                                            kind: FrameKind::Gen,
                                            entry: false,
                                            saved_top: self.stack_top,
                                            gen: g,
                                            exit_pc: t as u32,
                                            init_self: Value::UNDEF,
                                        });
                                        load_top!();
                                    }
                                }
                            }
                            Some(Kind::Instance) => {
                                let cls = (*itv.as_ptr::<Header>()).class;
                                let m = (*cls).attrs.get(&self.names.next).copied();
                                match m {
                                    Some(f) if f.is_kind(Kind::Function) => {
                                        save_pc!();
                                        let called = tryv!(self.call_function(
                                            f.as_ptr(),
                                            Some(itv),
                                            &[],
                                            dst,
                                            FrameKind::IterNext,
                                            Value::UNDEF
                                        ));
                                        match called {
                                            Called::Pushed => {
                                                self.frames.last_mut().unwrap_unchecked().exit_pc = t as u32;
                                                load_top!();
                                            }
                                            Called::Value(v) => r!(dst) = v,
                                        }
                                    }
                                    _ => {
                                        save_pc!();
                                        match tryv!(self.iter_next(itv)) {
                                            Some(v) => r!(dst) = v,
                                            None => pc = t as usize,
                                        }
                                    }
                                }
                            }
                            _ => {
                                save_pc!();
                                match tryv!(self.iter_next(itv)) {
                                    Some(v) => r!(dst) = v,
                                    None => pc = t as usize,
                                }
                            }
                        }
                    }
                    Instr::Call { dst, base, n } => {
                        let callee = r!(base);
                        let args = std::slice::from_raw_parts(regs.add(base as usize + 1), n as usize);
                        do_call!(callee, args, dst);
                    }
                    Instr::CallMethod { dst, base, n } => {
                        let callee = r!(base);
                        let args = if r!(base + 1).is_undef() {
                            std::slice::from_raw_parts(regs.add(base as usize + 2), n as usize)
                        } else {
                            std::slice::from_raw_parts(regs.add(base as usize + 1), n as usize + 1)
                        };
                        do_call!(callee, args, dst);
                    }
                    Instr::CallStar { dst, base, n } => {
                        let callee = r!(base);
                        let star = r!(base + 1 + n);
                        // Reuse one argument buffer across `f(*row)` calls (invoke copies out of it).
                        let mut args = std::mem::take(&mut self.arg_buf);
                        args.clear();
                        args.extend_from_slice(std::slice::from_raw_parts(regs.add(base as usize + 1), n as usize));
                        save_pc!();
                        match as_seq(star) {
                            Some(items) => args.extend_from_slice(items),
                            None => {
                                if star.kind().is_none() {
                                    let tn = self.type_name(star);
                                    throw!(self.err(
                                        ExcType::TypeError,
                                        format!("Value after * must be an iterable, not {}", tn)
                                    ));
                                }
                                let more = tryv!(self.collect_iterable(star));
                                args.extend(more);
                            }
                        }
                        do_call!(callee, &args, dst);
                        self.arg_buf = args;
                    }
                    Instr::CallKw { dst, base, n } => {
                        let Instr::KwNames { k } = *code.instrs.get_unchecked(pc) else {
                            unreachable!()
                        };
                        pc += 1;
                        let callee = r!(base);
                        let args = std::slice::from_raw_parts(regs.add(base as usize + 1), n as usize);
                        let names = code.kwnames[k as usize].clone();
                        save_pc!();
                        match tryv!(self.invoke_kw(callee, args, &names, dst)) {
                            Called::Pushed => load_top!(),
                            Called::Value(v) => r!(dst) = v,
                        }
                    }
                    Instr::Return { src } => {
                        let mut v = r!(src);
                        let f = self.frames.pop().unwrap_unchecked();
                        self.stack_top = f.saved_top;
                        match f.kind {
                            FrameKind::Normal | FrameKind::IterNext => {}
                            FrameKind::Init => {
                                if !v.is_none() {
                                    let tn = self.type_name(v);
                                    let e = self.err(
                                        ExcType::TypeError,
                                        format!("__init__() should return None, not '{}'", tn),
                                    );
                                    if f.entry {
                                        return Err(e);
                                    }
                                    load_top!();
                                    throw!(e);
                                }
                                v = f.init_self;
                            }
                            FrameKind::Gen => {
                                (*f.gen).state = GEN_DONE;
                                if f.entry {
                                    return Ok(Value::UNDEF);
                                }
                                load_top!();
                                pc = f.exit_pc as usize;
                                continue;
                            }
                        }
                        if f.entry {
                            return Ok(v);
                        }
                        load_top!();
                        r!(f.ret_dst) = v;
                    }
                    Instr::Yield { dst, src } => {
                        let v = r!(src);
                        r!(dst) = Value::NONE;
                        let f = self.frames.pop().unwrap_unchecked();
                        self.stack_top = f.saved_top;
                        (*f.gen).pc = pc as u32;
                        (*f.gen).state = GEN_SUSPENDED;
                        if f.entry {
                            return Ok(v);
                        }
                        load_top!();
                        r!(f.ret_dst) = v;
                    }
                    Instr::BuildTuple { dst, base, n } => {
                        let items = std::slice::from_raw_parts(regs.add(base as usize), n as usize).to_vec();
                        r!(dst) = self.new_tuple(items);
                    }
                    Instr::BuildList { dst, base, n } => {
                        let items = std::slice::from_raw_parts(regs.add(base as usize), n as usize).to_vec();
                        r!(dst) = self.new_list(items);
                    }
                    Instr::ListAppend { list, src } => {
                        cast_unchecked::<ListObj>(r!(list)).items.push(r!(src));
                        self.heap.account(16);
                    }
                    Instr::Unpack { base, src, n } => {
                        let v = r!(src);
                        let owned;
                        let items: &[Value] = match as_seq(v) {
                            Some(s) => s,
                            None => {
                                if v.kind().is_none() {
                                    let tn = self.type_name(v);
                                    throw!(self
                                        .err(ExcType::TypeError, format!("cannot unpack non-iterable {} object", tn)));
                                }
                                save_pc!();
                                owned = tryv!(self.collect_iterable(v));
                                &owned
                            }
                        };
                        if items.len() != n as usize {
                            let msg = if items.len() > n as usize {
                                format!("too many values to unpack (expected {})", n)
                            } else {
                                format!("not enough values to unpack (expected {}, got {})", n, items.len())
                            };
                            throw!(self.err(ExcType::ValueError, msg));
                        }
                        std::ptr::copy_nonoverlapping(items.as_ptr(), regs.add(base as usize), n as usize);
                    }
                    Instr::GetItem { dst, obj, idx } => {
                        let (o, i) = (r!(obj), r!(idx));
                        if i.tag == TAG_INT && o.tag == TAG_OBJ {
                            let k = (*o.as_ptr::<Header>()).kind;
                            if k == Kind::List || k == Kind::Tuple {
                                let items = as_seq(o).unwrap_unchecked();
                                let ix = i.as_int();
                                let j = if ix < 0 { ix + items.len() as i64 } else { ix };
                                if j >= 0 && (j as usize) < items.len() {
                                    r!(dst) = items[j as usize];
                                    continue;
                                }
                            }
                        }
                        r!(dst) = tryv!(self.get_item(o, i));
                    }
                    Instr::SetItem { obj, idx, src } => tryv!(self.set_item(r!(obj), r!(idx), r!(src))),
                    Instr::GetSlice { dst, obj, base } => {
                        r!(dst) = tryv!(self.get_slice(r!(obj), r!(base), r!(base + 1)));
                    }
                    Instr::GetAttr { dst, obj, ic } => {
                        let o = r!(obj);
                        let cell = code.ics.get_unchecked(ic as usize);
                        if o.tag == TAG_OBJ {
                            let c = &*cell.as_ptr();
                            if c.kind == IC_SLOT && (*o.as_ptr::<Header>()).class == c.class {
                                let v = *Instance::slot_ptr(o.as_ptr(), c.index as usize);
                                if !v.is_undef() {
                                    r!(dst) = v;
                                    continue;
                                }
                            }
                        }
                        save_pc!();
                        match tryv!(self.get_attr(o, cell)) {
                            AttrOut::Value(v) => r!(dst) = v,
                            AttrOut::Getter(g) => do_call!(g, &[o], dst),
                        }
                    }
                    Instr::SetAttr { obj, ic, src } => {
                        let o = r!(obj);
                        let cell = code.ics.get_unchecked(ic as usize);
                        let v = r!(src);
                        if o.tag == TAG_OBJ {
                            let c = &*cell.as_ptr();
                            if c.kind == IC_SLOT && (*o.as_ptr::<Header>()).class == c.class && !v.is_undef() {
                                *Instance::slot_ptr(o.as_ptr(), c.index as usize) = v;
                                continue;
                            }
                        }
                        tryv!(self.set_attr(o, cell, v));
                    }
                    Instr::LoadMethod { base, obj, ic } => {
                        let o = r!(obj);
                        let cell = code.ics.get_unchecked(ic as usize);
                        let c = &*cell.as_ptr();
                        if o.tag == TAG_OBJ {
                            if c.kind == IC_METHOD
                                && (*o.as_ptr::<Header>()).class == c.class
                                && c.epoch == *self.class_epoch
                            {
                                r!(base) = c.value;
                                r!(base + 1) = o;
                                continue;
                            }
                            if c.kind == crate::attr::IC_MODVAL && c.class as u64 == o.payload {
                                r!(base) = c.value;
                                r!(base + 1) = Value::UNDEF;
                                continue;
                            }
                        }
                        save_pc!();
                        let (m, recv) = tryv!(self.load_method(o, cell));
                        r!(base) = m;
                        r!(base + 1) = recv;
                    }
                    Instr::MakeFunction {
                        dst,
                        code: ci,
                        defaults,
                    } => {
                        let fcode: *const Code = &*self.codes[ci as usize];
                        let nd = count_defaults(&*fcode);
                        let d = std::slice::from_raw_parts(regs.add(defaults as usize), nd).to_vec();
                        let p = self.heap.alloc(FunctionObj {
                            h: Header::new(Kind::Function),
                            code: fcode,
                            defaults: crate::rawbuf::RawBuf::from_vec(d),
                        });
                        r!(dst) = Value::obj(p);
                    }
                    Instr::MakeClass { dst, desc, base } => {
                        let b = if base == NO_REG { Value::UNDEF } else { r!(base) };
                        r!(dst) = tryv!(self.make_class(desc as usize, b));
                    }
                    Instr::ClassSet { cls, name, src } => {
                        let sym = code.syms[name as usize];
                        cast_unchecked::<ClassObj>(r!(cls)).attrs.insert(sym, r!(src));
                        *self.class_epoch = self.class_epoch.wrapping_add(1);
                    }
                    Instr::Import { dst, name } => {
                        let sym = code.syms[name as usize];
                        r!(dst) = tryv!(self.import(sym));
                    }
                    Instr::ImportFrom { dst, module, name } => {
                        let sym = code.syms[name as usize];
                        r!(dst) = tryv!(self.import_from(r!(module), sym));
                    }
                    Instr::Raise { src } => {
                        save_pc!();
                        let e = tryv!(self.make_raisable(r!(src)));
                        throw!(e);
                    }
                    Instr::Reraise { src } => {
                        if src == NO_REG {
                            throw!(self.err(ExcType::RuntimeError, "No active exception to reraise"));
                        }
                        throw!(r!(src));
                    }
                    Instr::GetExc { dst } => r!(dst) = self.cur_exc,
                    Instr::ExcMatch { dst, exc, cls } => {
                        r!(dst) = Value::bool(tryv!(self.exc_matches(r!(exc), r!(cls))));
                    }
                    Instr::WithEnter { dst, ctx } => {
                        save_pc!();
                        r!(dst) = tryv!(self.with_enter(r!(ctx)));
                    }
                    Instr::WithExit { ctx } => {
                        save_pc!();
                        tryv!(self.with_exit(r!(ctx)));
                    }
                    Instr::Format { dst, src, spec, conv } => {
                        save_pc!();
                        r!(dst) = tryv!(self.format_op(code, r!(src), spec, conv));
                    }
                    Instr::BuildString { dst, base, n } => {
                        let parts = std::slice::from_raw_parts(regs.add(base as usize), n as usize);
                        let mut s = String::new();
                        for p in parts {
                            s.push_str(as_str(*p).unwrap_or(""));
                        }
                        r!(dst) = self.new_string(s);
                    }
                    Instr::AssertFail { msg } => {
                        let args = if msg == NO_REG { vec![] } else { vec![r!(msg)] };
                        let cls = self.exc_classes[ExcType::AssertionError as usize];
                        throw!(self.new_exception(cls, args));
                    }
                }
            };
            save_pc!();
            self.unwind(exc)?;
            continue 'reload;
        }
    }

    /// Finds a handler for `exc` starting at the top frame; pops frames without one.
    fn unwind(&mut self, exc: Value) -> Result<(), Value> {
        if self.recording {
            self.jit_abort("an exception");
        }
        if !self.tb_exc.is(exc) {
            self.tb.clear();
            self.tb_exc = exc;
        }
        loop {
            let f = *self.frames.last().expect("unwinding with no frame");
            // SAFETY: frames reference VM-owned code.
            let code = unsafe { &*f.code };
            let fault = f.pc.saturating_sub(1);
            if let Some(h) = code.find_handler(fault) {
                self.frames.last_mut().unwrap().pc = h;
                self.cur_exc = exc;
                return Ok(());
            }
            self.tb.push((f.code, code.line_at(fault as usize)));
            self.frames.pop();
            self.stack_top = f.saved_top;
            if !f.gen.is_null() {
                // SAFETY: generator of a live frame.
                unsafe { (*f.gen).state = GEN_DONE };
            }
            if f.kind == FrameKind::IterNext && !f.entry && self.exc_is(exc, ExcType::StopIteration) {
                self.frames.last_mut().unwrap().pc = f.exit_pc;
                return Ok(());
            }
            if f.entry {
                return Err(exc);
            }
        }
    }

    fn make_raisable(&mut self, v: Value) -> PyResult<Value> {
        if self.is_exception(v) {
            return Ok(v);
        }
        if let Some(c) = cast::<ClassObj>(v) {
            if c.flags & CLASS_EXCEPTION != 0 {
                return self.call_value(v, &[]);
            }
        }
        Err(self.err(ExcType::TypeError, "exceptions must derive from BaseException"))
    }

    fn exc_matches(&mut self, exc: Value, cls: Value) -> PyResult<bool> {
        if let Some(items) = as_seq(cls).filter(|_| cls.is_kind(Kind::Tuple)) {
            for &c in items.to_vec().iter() {
                if self.exc_matches(exc, c)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        match cast::<ClassObj>(cls) {
            Some(c) if c.flags & CLASS_EXCEPTION != 0 => {
                Ok(class_of(exc).is_some_and(|ec| self.class_derives(ec, cls.as_ptr())))
            }
            _ => Err(self.err(
                ExcType::TypeError,
                "catching classes that do not inherit from BaseException is not allowed",
            )),
        }
    }

    fn format_op(&mut self, code: &Code, v: Value, spec: u16, conv: u8) -> PyResult<Value> {
        if spec == u16::MAX && conv == 0 {
            return Ok(match v.tag {
                TAG_INT => self.new_string(v.as_int().to_string()),
                _ if v.is_kind(Kind::Str) => v,
                _ => {
                    let s = self.to_str_checked(v)?;
                    self.new_string(s)
                }
            });
        }
        let v = match conv {
            b'r' => {
                let s = self.repr_checked(v)?;
                self.new_string(s)
            }
            b's' => {
                let s = self.to_str_checked(v)?;
                self.new_string(s)
            }
            _ => v,
        };
        let spec_s = if spec == u16::MAX {
            ""
        } else {
            as_str(code.consts[spec as usize]).unwrap_or("")
        };
        let s = self.format_value(v, spec_s)?;
        Ok(self.new_string(s))
    }
}

/// Both operands as floats when they are a mix of int/bool and float.
#[inline(always)]
fn num_pair(x: Value, y: Value) -> Option<(f64, f64)> {
    if (x.tag == TAG_FLOAT || y.tag == TAG_FLOAT)
        && x.tag >= TAG_BOOL
        && x.tag <= TAG_FLOAT
        && y.tag >= TAG_BOOL
        && y.tag <= TAG_FLOAT
    {
        Some((x.as_number()?, y.as_number()?))
    } else if x.tag == TAG_INT && y.tag == TAG_INT {
        Some((x.as_int() as f64, y.as_int() as f64))
    } else {
        None
    }
}

/// Number of default values a function made from `code` takes.
fn count_defaults(code: &Code) -> usize {
    code.ndefaults as usize
}
