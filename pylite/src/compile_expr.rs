//! # Compiler: expressions and conditions
//!
//! `expr_opt(e, dst)` compiles `e` and returns the register holding its value:
//! with `Some(dst)` the value lands in `dst`; with `None` it may be an existing
//! register (a local or a register constant — callers must not write it) or a
//! fresh temporary. Operands are always read before the result is written, so
//! an instruction may reuse an operand's temporary as its destination.
//! Expressions whose evaluation writes the destination *before* reading all of
//! their inputs (`and`/`or`/conditional) never target a local directly.
//!
//! `cond_jump(e, jump_if)` compiles `e` in a branch context and returns the
//! jumps to patch: comparisons fuse into `Br*` instructions, `not`/`and`/`or`
//! become control flow, `x is None` becomes `BrNone`, so `if`/`while` tests rarely
//! materialise a bool.

use crate::ast::*;
use crate::bytecode::*;
use crate::compiler::{bin_instr, Block, CResult, FnCompiler};
use crate::error::CompileError;
use crate::scope::ConstKey;

impl<'v> FnCompiler<'v> {
    /// Compiles `e`; the result register must not be written by the caller.
    pub fn expr(&mut self, e: &Expr) -> CResult<R> {
        self.expr_opt(e, None)
    }
    /// Compiles `e` into `dst`.
    pub fn expr_into(&mut self, e: &Expr, dst: R) -> CResult<()> {
        let r = self.expr_opt(e, Some(dst))?;
        debug_assert_eq!(r, dst);
        Ok(())
    }
    /// Compiles `e` into a fresh temporary.
    pub fn expr_temp(&mut self, e: &Expr) -> CResult<R> {
        let t = self.alloc_temp()?;
        self.expr_into(e, t)?;
        self.next_temp = t + 1;
        Ok(t)
    }

    fn target(&mut self, dst: Option<R>) -> CResult<R> {
        match dst {
            Some(d) => Ok(d),
            None => self.alloc_temp(),
        }
    }

    fn is_local_reg(&self, r: R) -> bool {
        r < self.code.nlocals || self.overrides.iter().any(|(_, o)| *o == r)
    }

    pub fn load_name(&mut self, name: &str, line: u32, dst: Option<R>) -> CResult<R> {
        if let Some(r) = self.local_slot(name) {
            if (r as usize) < self.assigned.len() && !self.assigned[r as usize] {
                self.emit(Instr::CheckBound { r });
                self.assigned[r as usize] = true;
            }
            if let Some(d) = dst {
                if d != r {
                    self.emit(Instr::Move { dst: d, src: r });
                }
                return Ok(d);
            }
            return Ok(r);
        }
        let g = self.global_slot(name, line)?;
        let d = self.target(dst)?;
        self.emit(Instr::LoadGlobal { dst: d, g });
        Ok(d)
    }

    pub fn expr_opt(&mut self, e: &Expr, dst: Option<R>) -> CResult<R> {
        self.line = e.line;
        if let Some(k) = ConstKey::of(e) {
            return self.const_operand(&k, dst);
        }
        match &e.kind {
            ExprKind::Name(n) => self.load_name(n, e.line, dst),
            ExprKind::FString(parts) => self.fstring(parts, dst),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let save = self.next_temp;
                let base = self.alloc_n(items.len())?;
                for (i, it) in items.iter().enumerate() {
                    self.expr_into(it, base + i as R)?;
                }
                self.next_temp = save;
                let d = self.target(dst)?;
                let n = items.len() as u16;
                if matches!(e.kind, ExprKind::Tuple(_)) {
                    self.emit(Instr::BuildTuple { dst: d, base, n });
                } else {
                    self.emit(Instr::BuildList { dst: d, base, n });
                }
                self.next_temp = self.next_temp.max(d + 1);
                Ok(d)
            }
            ExprKind::Bin(op, a, b) => {
                let save = self.next_temp;
                let ra = self.expr(a)?;
                let rb = self.expr(b)?;
                self.next_temp = save;
                let d = self.target(dst)?;
                self.line = e.line;
                self.emit(bin_instr(*op, d, ra, rb));
                Ok(d)
            }
            ExprKind::Unary(op, a) => {
                let save = self.next_temp;
                let ra = self.expr(a)?;
                self.next_temp = save;
                let d = self.target(dst)?;
                self.line = e.line;
                self.emit(match op {
                    UnOp::Neg => Instr::Neg { dst: d, src: ra },
                    UnOp::Pos => Instr::Pos { dst: d, src: ra },
                    UnOp::Invert => Instr::Invert { dst: d, src: ra },
                    UnOp::Not => Instr::Not { dst: d, src: ra },
                });
                Ok(d)
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let d = match dst {
                    Some(d) if !self.is_local_reg(d) => d,
                    _ => self.alloc_temp()?,
                };
                self.expr_into(a, d)?;
                let j = self.emit(if is_and {
                    Instr::BrFalse { a: d, t: 0 }
                } else {
                    Instr::BrTrue { a: d, t: 0 }
                });
                self.expr_into(b, d)?;
                self.patch_here(&[j])?;
                self.finish_into(d, dst)
            }
            ExprKind::IfExp(c, a, b) => {
                let d = match dst {
                    Some(d) if !self.is_local_reg(d) => d,
                    _ => self.alloc_temp()?,
                };
                let els = self.cond_jump(c, false)?;
                self.expr_into(a, d)?;
                let end = self.emit(Instr::Jump { t: 0 });
                self.patch_here(&els)?;
                self.expr_into(b, d)?;
                self.patch_here(&[end])?;
                self.finish_into(d, dst)
            }
            ExprKind::Compare(first, rest) => self.compare_value(first, rest, dst),
            ExprKind::Call {
                func,
                args,
                star,
                kwargs,
            } => self.call(func, args, star.as_deref(), kwargs, dst, e.line),
            ExprKind::Attr(o, name) => {
                let save = self.next_temp;
                let obj = self.expr(o)?;
                self.next_temp = save;
                let d = self.target(dst)?;
                let ic = self.ic(name);
                self.line = e.line;
                self.emit(Instr::GetAttr { dst: d, obj, ic });
                Ok(d)
            }
            ExprKind::Subscript(o, i) => {
                let save = self.next_temp;
                let obj = self.expr(o)?;
                let idx = self.expr(i)?;
                self.next_temp = save;
                let d = self.target(dst)?;
                self.line = e.line;
                self.emit(Instr::GetItem { dst: d, obj, idx });
                Ok(d)
            }
            ExprKind::Slice(o, lo, hi) => {
                let save = self.next_temp;
                let obj = self.expr(o)?;
                let base = self.alloc_n(2)?;
                for (i, b) in [lo, hi].iter().enumerate() {
                    match b {
                        Some(x) => self.expr_into(x, base + i as R)?,
                        None => {
                            self.const_operand(&ConstKey::None, Some(base + i as R))?;
                        }
                    }
                }
                self.next_temp = save;
                let d = self.target(dst)?;
                self.line = e.line;
                self.emit(Instr::GetSlice { dst: d, obj, base });
                self.next_temp = self.next_temp.max(d + 1);
                Ok(d)
            }
            ExprKind::Yield(v) => {
                if self.is_module {
                    return Err(CompileError::new(e.line, "SyntaxError: 'yield' outside function"));
                }
                if self
                    .blocks
                    .iter()
                    .any(|b| matches!(b, Block::With { .. } | Block::Finally { .. }))
                {
                    return Err(CompileError::unsupported(
                        e.line,
                        "'yield' inside 'with' or 'try/finally'",
                    ));
                }
                let save = self.next_temp;
                let src = match v {
                    Some(x) => self.expr(x)?,
                    None => self.none_reg()?,
                };
                self.next_temp = save;
                let d = self.target(dst)?;
                self.emit(Instr::Yield { dst: d, src });
                Ok(d)
            }
            ExprKind::ListComp {
                elt,
                target,
                iter,
                conds,
            } => self.list_comp(elt, target, iter, conds, dst),
            ExprKind::Unsupported(what) => Err(CompileError::unsupported(e.line, what)),
            _ => Err(CompileError::unsupported(e.line, "this expression")),
        }
    }

    fn finish_into(&mut self, d: R, dst: Option<R>) -> CResult<R> {
        match dst {
            Some(x) if x != d => {
                self.emit(Instr::Move { dst: x, src: d });
                Ok(x)
            }
            _ => Ok(d),
        }
    }

    fn fstring(&mut self, parts: &[FPart], dst: Option<R>) -> CResult<R> {
        let save = self.next_temp;
        let base = self.alloc_n(parts.len())?;
        for (i, p) in parts.iter().enumerate() {
            let slot = base + i as R;
            match p {
                FPart::Lit(s) => {
                    self.const_operand(&ConstKey::Str(s.clone()), Some(slot))?;
                }
                FPart::Expr(x, conv, spec) => {
                    let v = self.expr(x)?;
                    let spec = match spec {
                        Some(s) => self.add_const(&ConstKey::Str(s.clone())),
                        None => u16::MAX,
                    };
                    let conv = conv.map(|c| c as u8).unwrap_or(0);
                    self.emit(Instr::Format {
                        dst: slot,
                        src: v,
                        spec,
                        conv,
                    });
                    self.next_temp = base + parts.len() as R;
                }
            }
        }
        self.next_temp = save;
        let d = self.target(dst)?;
        self.emit(Instr::BuildString {
            dst: d,
            base,
            n: parts.len() as u16,
        });
        self.next_temp = self.next_temp.max(d + 1);
        Ok(d)
    }

    fn call(
        &mut self,
        func: &Expr,
        args: &[Expr],
        star: Option<&Expr>,
        kwargs: &[(String, Expr)],
        dst: Option<R>,
        line: u32,
    ) -> CResult<R> {
        let save = self.next_temp;
        let n = args.len();
        if let (ExprKind::Attr(o, name), None, true) = (&func.kind, star, kwargs.is_empty()) {
            let base = self.alloc_n(n + 2)?;
            let obj = self.expr(o)?;
            let ic = self.ic(name);
            self.line = func.line;
            self.emit(Instr::LoadMethod { base, obj, ic });
            for (i, a) in args.iter().enumerate() {
                self.expr_into(a, base + 2 + i as R)?;
            }
            self.next_temp = save;
            let d = self.target(dst)?;
            self.line = line;
            self.emit(Instr::CallMethod {
                dst: d,
                base,
                n: n as u16,
            });
            self.next_temp = self.next_temp.max(d + 1);
            return Ok(d);
        }
        let total = 1 + n + star.is_some() as usize + kwargs.len();
        let base = self.alloc_n(total)?;
        self.expr_into(func, base)?;
        for (i, a) in args.iter().enumerate() {
            self.expr_into(a, base + 1 + i as R)?;
        }
        if let Some(s) = star {
            self.expr_into(s, base + 1 + n as R)?;
        }
        for (i, (_, v)) in kwargs.iter().enumerate() {
            self.expr_into(v, base + 1 + n as R + i as R)?;
        }
        self.next_temp = save;
        let d = self.target(dst)?;
        self.line = line;
        if star.is_some() {
            if !kwargs.is_empty() {
                return Err(CompileError::unsupported(
                    line,
                    "keyword arguments together with '*args'",
                ));
            }
            self.emit(Instr::CallStar {
                dst: d,
                base,
                n: n as u16,
            });
        } else if !kwargs.is_empty() {
            let names = kwargs.iter().map(|(k, _)| self.vm.interner.intern(k)).collect();
            self.code.kwnames.push(names);
            let k = (self.code.kwnames.len() - 1) as u16;
            self.emit(Instr::CallKw {
                dst: d,
                base,
                n: (n + kwargs.len()) as u16,
            });
            self.emit(Instr::KwNames { k });
        } else {
            self.emit(Instr::Call {
                dst: d,
                base,
                n: n as u16,
            });
        }
        self.next_temp = self.next_temp.max(d + 1);
        Ok(d)
    }

    fn list_comp(&mut self, elt: &Expr, target: &Expr, iter: &Expr, conds: &[Expr], dst: Option<R>) -> CResult<R> {
        let d = match dst {
            Some(d) if !self.is_local_reg(d) => d,
            _ => self.alloc_temp()?,
        };
        let it_val = self.expr_temp(iter)?;
        self.emit(Instr::BuildList { dst: d, base: 0, n: 0 });
        let (itr, sf) = self.reserve(1)?;
        self.emit(Instr::GetIter { dst: itr, src: it_val });
        // Comprehension variables get hidden slots.
        let mut names = Vec::new();
        collect_names(target, &mut names);
        let nov = self.overrides.len();
        for n in names {
            let (r, _) = self.reserve(1)?;
            self.overrides.push((n, r));
        }
        let head = self.pc16()?;
        let x = self.alloc_temp()?;
        let exit = self.emit(Instr::ForIter { it: itr, dst: x, t: 0 });
        self.store(target, x)?;
        let mut skips = Vec::new();
        for c in conds {
            skips.extend(self.cond_jump(c, false)?);
        }
        let v = self.expr(elt)?;
        self.emit(Instr::ListAppend { list: d, src: v });
        let cont = self.pc16()?;
        for s in skips {
            self.code.instrs[s].set_target(cont);
        }
        self.emit(Instr::Loop { t: head });
        self.patch_here(&[exit])?;
        self.overrides.truncate(nov);
        self.floor = sf;
        self.next_temp = d.max(it_val) + 1;
        self.max_slot = self.max_slot.max(self.next_temp as u32);
        self.finish_into(d, dst)
    }

    fn compare_value(&mut self, first: &Expr, rest: &[(CmpOp, Expr)], dst: Option<R>) -> CResult<R> {
        if rest.len() == 1 {
            let save = self.next_temp;
            let a = self.expr(first)?;
            let b = self.expr(&rest[0].1)?;
            self.next_temp = save;
            let d = self.target(dst)?;
            self.emit(cmp_instr(rest[0].0, d, a, b));
            return Ok(d);
        }
        // Chained: d = a<b; if not d: done; d = b<c ...
        let d = match dst {
            Some(d) if !self.is_local_reg(d) => d,
            _ => self.alloc_temp()?,
        };
        let mut left = self.expr(first)?;
        let mut ends = Vec::new();
        for (i, (op, x)) in rest.iter().enumerate() {
            let right = self.expr_temp(x)?;
            self.emit(cmp_instr(*op, d, left, right));
            if i + 1 < rest.len() {
                ends.push(self.emit(Instr::BrFalse { a: d, t: 0 }));
            }
            left = right;
        }
        self.patch_here(&ends)?;
        self.finish_into(d, dst)
    }

    /// Compiles a condition; returns jumps taken when its truth equals `jump_if`.
    pub fn cond_jump(&mut self, e: &Expr, jump_if: bool) -> CResult<Vec<usize>> {
        self.line = e.line;
        let save = self.next_temp;
        let out = match &e.kind {
            ExprKind::Unary(UnOp::Not, x) => self.cond_jump(x, !jump_if)?,
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                if is_and != jump_if {
                    // and/false or or/true: both jump to the same place.
                    let mut p = self.cond_jump(a, jump_if)?;
                    p.extend(self.cond_jump(b, jump_if)?);
                    p
                } else {
                    let skip = self.cond_jump(a, !jump_if)?;
                    let p = self.cond_jump(b, jump_if)?;
                    self.patch_here(&skip)?;
                    p
                }
            }
            ExprKind::Bool(b) => {
                if *b == jump_if {
                    vec![self.emit(Instr::Jump { t: 0 })]
                } else {
                    Vec::new()
                }
            }
            ExprKind::Compare(first, rest) if rest.iter().all(|(op, _)| !matches!(op, CmpOp::In | CmpOp::NotIn)) => {
                let mut left = self.expr(first)?;
                let mut out = Vec::new();
                let mut skip = Vec::new();
                for (i, (op, x)) in rest.iter().enumerate() {
                    let last = i + 1 == rest.len();
                    let right = if last { self.expr(x)? } else { self.expr_temp(x)? };
                    self.line = e.line;
                    if last {
                        out.push(self.branch(*op, left, right, jump_if, x)?);
                    } else if jump_if {
                        skip.push(self.branch(*op, left, right, false, x)?);
                    } else {
                        out.push(self.branch(*op, left, right, false, x)?);
                    }
                    left = right;
                }
                self.patch_here(&skip)?;
                out
            }
            _ => {
                let r = self.expr(e)?;
                vec![self.emit(if jump_if {
                    Instr::BrTrue { a: r, t: 0 }
                } else {
                    Instr::BrFalse { a: r, t: 0 }
                })]
            }
        };
        self.next_temp = save;
        Ok(out)
    }

    fn branch(&mut self, op: CmpOp, a: R, b: R, jump_if: bool, rhs: &Expr) -> CResult<usize> {
        use CmpOp::*;
        let t = 0;
        if matches!(op, Is | IsNot) && matches!(rhs.kind, ExprKind::NoneLit) {
            let is = (op == Is) == jump_if;
            return Ok(self.emit(if is {
                Instr::BrNone { a, t }
            } else {
                Instr::BrNotNone { a, t }
            }));
        }
        let i = match (op, jump_if) {
            (Lt, true) => Instr::BrLt { a, b, t },
            (Le, true) => Instr::BrLe { a, b, t },
            (Gt, true) => Instr::BrGt { a, b, t },
            (Ge, true) => Instr::BrGe { a, b, t },
            (Lt, false) => Instr::BrNLt { a, b, t },
            (Le, false) => Instr::BrNLe { a, b, t },
            (Gt, false) => Instr::BrNGt { a, b, t },
            (Ge, false) => Instr::BrNGe { a, b, t },
            (Eq, true) | (Ne, false) => Instr::BrEq { a, b, t },
            (Ne, true) | (Eq, false) => Instr::BrNe { a, b, t },
            (Is, true) | (IsNot, false) => Instr::BrIs { a, b, t },
            (IsNot, true) | (Is, false) => Instr::BrIsNot { a, b, t },
            (In, _) | (NotIn, _) => unreachable!("membership handled as a value"),
        };
        Ok(self.emit(i))
    }
}

fn collect_names(t: &Expr, out: &mut Vec<String>) {
    match &t.kind {
        ExprKind::Name(n) => out.push(n.clone()),
        ExprKind::Tuple(items) | ExprKind::List(items) => items.iter().for_each(|i| collect_names(i, out)),
        _ => {}
    }
}

fn cmp_instr(op: CmpOp, dst: R, a: R, b: R) -> Instr {
    match op {
        CmpOp::Lt => Instr::Lt { dst, a, b },
        CmpOp::Le => Instr::Le { dst, a, b },
        CmpOp::Gt => Instr::Gt { dst, a, b },
        CmpOp::Ge => Instr::Ge { dst, a, b },
        CmpOp::Eq => Instr::Eq { dst, a, b },
        CmpOp::Ne => Instr::Ne { dst, a, b },
        CmpOp::Is => Instr::Is { dst, a, b },
        CmpOp::IsNot => Instr::IsNot { dst, a, b },
        CmpOp::In => Instr::In { dst, a, b },
        CmpOp::NotIn => Instr::NotIn { dst, a, b },
    }
}
