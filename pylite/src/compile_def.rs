//! # Compiler, part 3: definitions and assignments
//!
//! `def` and `class` bodies compile into code objects of their own (a fresh
//! [`FnCompiler`]) and bind the new function or class to its name; stores cover
//! names (local, global or module), attributes, subscripts and tuple/list
//! unpacking, which plain and augmented assignment build on.

use crate::ast::*;
use crate::bytecode::*;
use crate::compiler::{bin_instr, CResult, FnCompiler};
use crate::error::CompileError;
use crate::scope;

impl<'v> FnCompiler<'v> {
    /// Compiles a nested function; returns the register holding the new function object.
    pub fn function_def(&mut self, f: &FuncDef) -> CResult<R> {
        let save = self.next_temp;
        let mut decos = Vec::new();
        for d in &f.decorators {
            let r = self.alloc_temp()?;
            self.expr_into(d, r)?;
            decos.push(r);
        }
        let base = self.alloc_n(f.defaults.len())?;
        for (i, d) in f.defaults.iter().enumerate() {
            self.expr_into(d, base + i as R)?;
        }
        let mut enclosing = self.enclosing.clone();
        if !self.is_module {
            enclosing.push(
                self.locals
                    .keys()
                    .filter(|k| !self.globals_decl.contains(k))
                    .cloned()
                    .collect(),
            );
        }
        let file = self.code.file.clone();
        let code_idx = {
            let mut sub = FnCompiler::new(
                self.vm,
                &f.name,
                file,
                &f.params,
                &f.body,
                false,
                enclosing,
                self.range_ok,
                f.line,
            )?;
            sub.code.ndefaults = f.defaults.len() as u16;
            sub.body(&f.body)?;
            sub.line = f.body.last().map(|s| s.line).unwrap_or(f.line);
            sub.finish_return()?;
            sub.finish()
        };
        let code = u16::try_from(code_idx).map_err(|_| CompileError::new(f.line, "too many functions"))?;
        self.line = f.line;
        let dst = self.alloc_temp()?;
        self.emit(Instr::MakeFunction {
            dst,
            code,
            defaults: base,
        });
        let mut cur = dst;
        for &d in decos.iter().rev() {
            let b = self.alloc_n(2)?;
            self.emit(Instr::Move { dst: b, src: d });
            self.emit(Instr::Move { dst: b + 1, src: cur });
            self.emit(Instr::Call { dst: b, base: b, n: 1 });
            cur = b;
        }
        self.next_temp = save;
        let r = self.alloc_temp()?;
        if r != cur {
            self.emit(Instr::Move { dst: r, src: cur });
        }
        Ok(r)
    }

    pub(crate) fn class_def(&mut self, c: &ClassDef) -> CResult<()> {
        let base = match &c.base {
            Some(b) => self.expr_temp(b)?,
            None => NO_REG,
        };
        let slots: Vec<_> = scope::class_slots(&c.body)
            .iter()
            .map(|s| self.vm.interner.intern(s))
            .collect();
        self.vm.class_descs.push(ClassDesc {
            name: c.name.clone(),
            slots,
        });
        let desc = (self.vm.class_descs.len() - 1) as u16;
        let (cls, sf) = self.reserve(1)?;
        self.emit(Instr::MakeClass { dst: cls, desc, base });
        for st in &c.body {
            self.line = st.line;
            match &st.kind {
                StmtKind::Def(f) => {
                    let r = self.function_def(f)?;
                    let name = self.sym(&f.name);
                    self.emit(Instr::ClassSet { cls, name, src: r });
                }
                StmtKind::Assign(ts, v) if ts.len() == 1 && matches!(ts[0].kind, ExprKind::Name(_)) => {
                    let ExprKind::Name(n) = &ts[0].kind else { unreachable!() };
                    let r = self.expr(v)?;
                    let name = self.sym(n);
                    self.emit(Instr::ClassSet { cls, name, src: r });
                }
                StmtKind::Pass
                | StmtKind::Expr(Expr {
                    kind: ExprKind::Str(_), ..
                }) => {}
                _ => {
                    return Err(CompileError::unsupported(
                        st.line,
                        "this kind of statement in a class body",
                    ))
                }
            }
            self.next_temp = self.floor;
        }
        self.line = c.line;
        self.store_name(&c.name, cls, c.line)?;
        self.unreserve(sf);
        Ok(())
    }

    // ------------------------------------------------------------------ assignment

    pub fn store_name(&mut self, name: &str, src: R, line: u32) -> CResult<()> {
        if let Some(r) = self.local_slot(name) {
            if r != src {
                self.emit(Instr::Move { dst: r, src });
            }
            self.mark_assigned(r);
        } else {
            let g = self.global_slot(name, line)?;
            self.emit(Instr::StoreGlobal { g, src });
        }
        Ok(())
    }

    /// Stores register `src` into an assignment target.
    pub fn store(&mut self, target: &Expr, src: R) -> CResult<()> {
        match &target.kind {
            ExprKind::Name(n) => self.store_name(n, src, target.line),
            ExprKind::Attr(o, name) => {
                let obj = self.expr(o)?;
                let ic = self.ic(name);
                self.emit(Instr::SetAttr { obj, ic, src });
                Ok(())
            }
            ExprKind::Subscript(o, i) => {
                let obj = self.expr(o)?;
                let idx = self.expr(i)?;
                self.emit(Instr::SetItem { obj, idx, src });
                Ok(())
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let n = items.len();
                let base = self.alloc_n(n)?;
                self.emit(Instr::Unpack { base, src, n: n as u16 });
                for (i, t) in items.iter().enumerate() {
                    self.store(t, base + i as R)?;
                }
                Ok(())
            }
            _ => Err(CompileError::new(
                target.line,
                "SyntaxError: cannot assign to expression",
            )),
        }
    }

    pub(crate) fn assign(&mut self, target: &Expr, value: &Expr) -> CResult<()> {
        match (&target.kind, &value.kind) {
            (ExprKind::Name(n), _) if self.local_slot(n).is_some() => {
                let r = self.local_slot(n).unwrap();
                self.expr_into(value, r)?;
                self.mark_assigned(r);
                Ok(())
            }
            (ExprKind::Tuple(ts), ExprKind::Tuple(vs)) if ts.len() == vs.len() => {
                let base = self.alloc_n(vs.len())?;
                for (i, v) in vs.iter().enumerate() {
                    self.expr_into(v, base + i as R)?;
                }
                for (i, t) in ts.iter().enumerate() {
                    self.store(t, base + i as R)?;
                }
                Ok(())
            }
            _ => {
                let r = self.expr(value)?;
                self.store(target, r)
            }
        }
    }

    pub(crate) fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr) -> CResult<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                if let Some(r) = self.local_slot(n) {
                    self.load_name(n, target.line, None)?;
                    let v = self.expr(value)?;
                    self.emit(bin_instr(op, r, r, v));
                } else {
                    let cur = self.expr_temp(target)?;
                    let v = self.expr(value)?;
                    self.emit(bin_instr(op, cur, cur, v));
                    self.store_name(n, cur, target.line)?;
                }
            }
            ExprKind::Attr(o, name) => {
                let obj = self.expr(o)?;
                let ic = self.ic(name);
                let cur = self.alloc_temp()?;
                self.emit(Instr::GetAttr { dst: cur, obj, ic });
                let v = self.expr(value)?;
                self.emit(bin_instr(op, cur, cur, v));
                self.emit(Instr::SetAttr { obj, ic, src: cur });
            }
            ExprKind::Subscript(o, i) => {
                let obj = self.expr(o)?;
                let idx = self.expr(i)?;
                let cur = self.alloc_temp()?;
                self.emit(Instr::GetItem { dst: cur, obj, idx });
                let v = self.expr(value)?;
                self.emit(bin_instr(op, cur, cur, v));
                self.emit(Instr::SetItem { obj, idx, src: cur });
            }
            _ => {
                return Err(CompileError::new(
                    target.line,
                    "SyntaxError: illegal expression for augmented assignment",
                ))
            }
        }
        Ok(())
    }
}
