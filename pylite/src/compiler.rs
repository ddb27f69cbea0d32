//! # Compiler: AST to register bytecode (statements)
//!
//! One [`FnCompiler`] per function (or module body). Slot allocation:
//! parameters and locals get fixed slots from scope analysis, then come the
//! register constants (the body's literals, pre-collected), then temporaries,
//! which are allocated stack-like: `next_temp` grows while an expression is
//! compiled and is reset to `floor` after every statement. Blocks that keep
//! values alive across statements (a `for` iterator, a `with` manager, a caught
//! exception) raise `floor` for their extent.
//!
//! Definite assignment: the compiler tracks which locals are certainly bound at
//! each point (merging at `if`/`try` joins, assuming nothing new after loops),
//! and only emits `CheckBound` where a local might be read unbound — so the
//! common case costs nothing at run time.
//!
//! Leaving blocks early (`return`/`break`/`continue`) runs the cleanups of the
//! blocks being left — closing `with` managers and inlining `finally` bodies —
//! with the exception ranges of the `try` blocks being left split around the
//! exit code. Expressions are compiled in `compile_expr.rs`, `def`, `class` and
//! assignments in `compile_def.rs`, `try` and `with` in `compile_try.rs`.

use crate::ast::*;
use crate::bytecode::*;
use crate::error::CompileError;
use crate::scope::{self, ConstKey};
use crate::value::Value;
use crate::vm::Vm;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

pub(crate) type CResult<T> = Result<T, CompileError>;

/// Maximum number of constants given register slots.
const MAX_REG_CONSTS: usize = 48;

pub(crate) enum Block {
    Loop { head: u16, breaks: Vec<usize> },
    Try { start: usize, ranges: Vec<(u32, u32)> },
    With { ctx: R },
    Finally { body: Vec<Stmt> },
    Except { exc: R },
}

/// Compiler state for one code object.
pub(crate) struct FnCompiler<'v> {
    pub vm: &'v mut Vm,
    pub code: Code,
    pub is_module: bool,
    pub locals: HashMap<String, R>,
    pub globals_decl: Vec<String>,
    /// Locals of enclosing functions (for the "closures unsupported" error).
    pub enclosing: Vec<Vec<String>>,
    pub const_map: HashMap<ConstKey, u16>,
    pub next_temp: R,
    pub floor: R,
    pub max_slot: u32,
    pub blocks: Vec<Block>,
    pub assigned: Vec<bool>,
    pub dead: bool,
    pub line: u32,
    /// Comprehension variables: name → hidden slot.
    pub overrides: Vec<(String, R)>,
    /// Whether `range(...)` in `for` may be specialised.
    pub range_ok: bool,
}

/// Compiles a module; returns the index of its code object in `vm.codes`.
pub(crate) fn compile_module(vm: &mut Vm, body: &[Stmt], file: &str) -> CResult<usize> {
    let file: Rc<str> = Rc::from(file);
    let range_ok = !scope::module_binds(body, "range");
    let mut c = FnCompiler::new(vm, "<module>", file, &[], body, true, Vec::new(), range_ok, 1)?;
    c.body(body)?;
    c.finish_return()?;
    Ok(c.finish())
}

impl<'v> FnCompiler<'v> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        vm: &'v mut Vm,
        name: &str,
        file: Rc<str>,
        params: &[String],
        body: &[Stmt],
        is_module: bool,
        enclosing: Vec<Vec<String>>,
        range_ok: bool,
        first_line: u32,
    ) -> CResult<Self> {
        let info = if is_module {
            scope::ScopeInfo::default()
        } else {
            scope::analyze_function(params, body)
        };
        let mut locals = HashMap::new();
        for (i, n) in info.locals.iter().enumerate() {
            locals.insert(n.clone(), i as R);
        }
        let nlocals = info.locals.len();
        let consts = scope::collect_consts(body);
        let nreg = consts.len().min(MAX_REG_CONSTS);
        if nlocals + nreg > 60000 {
            return Err(CompileError::new(first_line, "function too large"));
        }
        let param_syms = params.iter().map(|p| vm.interner.intern(p)).collect();
        let code = Code {
            name: name.to_string(),
            file,
            instrs: Vec::new(),
            lines: Vec::new(),
            nparams: params.len() as u16,
            ndefaults: 0,
            nlocals: nlocals as u16,
            nslots: 0,
            nregconsts: nreg as u16,
            consts: Vec::new(),
            local_names: info.locals.clone(),
            syms: Vec::new(),
            param_syms,
            ics: Vec::new(),
            kwnames: Vec::new(),
            handlers: Vec::new(),
            is_generator: info.is_generator,
            first_line,
        };
        let temp0 = (nlocals + nreg) as R;
        let mut assigned = vec![false; nlocals];
        for a in assigned.iter_mut().take(params.len()) {
            *a = true;
        }
        let mut c = FnCompiler {
            vm,
            code,
            is_module,
            locals,
            globals_decl: info.globals,
            enclosing,
            const_map: HashMap::new(),
            next_temp: temp0,
            floor: temp0,
            max_slot: temp0 as u32,
            blocks: Vec::new(),
            assigned,
            dead: false,
            line: first_line,
            overrides: Vec::new(),
            range_ok,
        };
        for k in consts.into_iter().take(nreg) {
            c.add_const(&k);
        }
        Ok(c)
    }

    pub(crate) fn finish(mut self) -> usize {
        self.code.nslots = self.max_slot.max(1) as u16;
        self.vm.codes.push(Box::new(self.code));
        self.vm.codes.len() - 1
    }

    // ------------------------------------------------------------------ helpers

    pub fn emit(&mut self, i: Instr) -> usize {
        self.code.instrs.push(i);
        self.code.lines.push(self.line);
        self.code.instrs.len() - 1
    }
    pub fn pc(&self) -> usize {
        self.code.instrs.len()
    }
    pub fn pc16(&self) -> CResult<u16> {
        u16::try_from(self.pc())
            .map_err(|_| CompileError::new(self.line, "function too large (over 65535 instructions)"))
    }
    pub fn patch_here(&mut self, idxs: &[usize]) -> CResult<()> {
        let t = self.pc16()?;
        for &i in idxs {
            self.code.instrs[i].set_target(t);
        }
        Ok(())
    }
    pub fn alloc_temp(&mut self) -> CResult<R> {
        let r = self.next_temp;
        if r >= 65000 {
            return Err(CompileError::new(self.line, "expression too complex"));
        }
        self.next_temp += 1;
        self.max_slot = self.max_slot.max(self.next_temp as u32);
        Ok(r)
    }
    pub fn alloc_n(&mut self, n: usize) -> CResult<R> {
        let base = self.next_temp;
        for _ in 0..n {
            self.alloc_temp()?;
        }
        Ok(base)
    }
    /// Reserves `n` temps that outlive statements; returns (base, saved floor).
    pub fn reserve(&mut self, n: usize) -> CResult<(R, R)> {
        let base = self.alloc_n(n)?;
        let saved = self.floor;
        self.floor = self.next_temp;
        Ok((base, saved))
    }
    pub fn unreserve(&mut self, saved_floor: R) {
        self.floor = saved_floor;
        self.next_temp = self.next_temp.max(saved_floor);
    }

    pub fn add_const(&mut self, k: &ConstKey) -> u16 {
        if let Some(&i) = self.const_map.get(k) {
            return i;
        }
        let v = match k {
            ConstKey::None => Value::NONE,
            ConstKey::Bool(b) => Value::bool(*b),
            ConstKey::Int(i) => Value::int(*i),
            ConstKey::Float(f) => Value::float(f64::from_bits(*f)),
            ConstKey::Str(s) => self.vm.new_str(s),
            ConstKey::Bytes(b) => self.vm.new_bytes(b.clone()),
        };
        self.code.consts.push(v);
        let i = (self.code.consts.len() - 1) as u16;
        self.const_map.insert(k.clone(), i);
        i
    }
    /// The register holding constant `k`, or loads it into `dst`/a temp.
    pub fn const_operand(&mut self, k: &ConstKey, dst: Option<R>) -> CResult<R> {
        let i = self.add_const(k);
        if (i as usize) < self.code.nregconsts as usize {
            let r = self.code.nlocals + i;
            if let Some(d) = dst {
                if d != r {
                    self.emit(Instr::Move { dst: d, src: r });
                }
                return Ok(d);
            }
            return Ok(r);
        }
        let d = match dst {
            Some(d) => d,
            None => self.alloc_temp()?,
        };
        self.emit(Instr::LoadConst { dst: d, k: i });
        Ok(d)
    }
    pub fn none_reg(&mut self) -> CResult<R> {
        self.const_operand(&ConstKey::None, None)
    }
    pub fn sym(&mut self, name: &str) -> u16 {
        let s = self.vm.interner.intern(name);
        if let Some(i) = self.code.syms.iter().position(|&x| x == s) {
            return i as u16;
        }
        self.code.syms.push(s);
        (self.code.syms.len() - 1) as u16
    }
    pub fn ic(&mut self, name: &str) -> u16 {
        let s = self.vm.interner.intern(name);
        self.code.ics.push(Cell::new(AttrIc::new(s)));
        (self.code.ics.len() - 1) as u16
    }
    /// The local slot of `name`, if it is a (non-global) local here.
    pub fn local_slot(&self, name: &str) -> Option<R> {
        if let Some((_, r)) = self.overrides.iter().rev().find(|(n, _)| n == name) {
            return Some(*r);
        }
        if self.is_module {
            return None;
        }
        self.locals.get(name).copied()
    }
    pub fn global_slot(&mut self, name: &str, line: u32) -> CResult<u16> {
        if !self.globals_decl.iter().any(|g| g == name) && self.enclosing.iter().any(|l| l.iter().any(|x| x == name)) {
            return Err(CompileError::unsupported(
                line,
                &format!(
                    "closures (inner function uses variable '{}' of an enclosing function)",
                    name
                ),
            ));
        }
        Ok(self.vm.global_slot(name))
    }
    pub fn mark_assigned(&mut self, r: R) {
        if (r as usize) < self.assigned.len() {
            self.assigned[r as usize] = true;
        }
    }

    // ------------------------------------------------------------------ statements

    pub fn body(&mut self, stmts: &[Stmt]) -> CResult<()> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    pub(crate) fn finish_return(&mut self) -> CResult<()> {
        let r = self.none_reg()?;
        self.emit(Instr::Return { src: r });
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> CResult<()> {
        self.line = s.line;
        match &s.kind {
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::NoneLit => {}
                _ => {
                    self.expr(e)?;
                }
            },
            StmtKind::Assign(targets, value) => {
                if targets.len() == 1 {
                    self.assign(&targets[0], value)?;
                } else {
                    let r = self.expr_temp(value)?;
                    for t in targets {
                        self.store(t, r)?;
                    }
                }
            }
            StmtKind::AugAssign(t, op, v) => self.aug_assign(t, *op, v)?,
            StmtKind::Pass | StmtKind::Global(_) => {}
            StmtKind::Break | StmtKind::Continue => self.break_continue(matches!(s.kind, StmtKind::Break))?,
            StmtKind::Return(v) => {
                if self.is_module {
                    return Err(CompileError::new(s.line, "SyntaxError: 'return' outside function"));
                }
                let mut r = match v {
                    Some(e) => self.expr(e)?,
                    None => self.none_reg()?,
                };
                if self.blocks.iter().any(|b| matches!(b, Block::Finally { .. })) {
                    // The finally bodies run before the return: keep the value out of their temps.
                    let (t, _) = self.reserve(1)?;
                    self.emit(Instr::Move { dst: t, src: r });
                    r = t;
                }
                let upto = 0;
                self.exit_blocks(upto, |c| {
                    c.emit(Instr::Return { src: r });
                    Ok(())
                })?;
                self.dead = true;
            }
            StmtKind::Raise(v) => {
                match v {
                    Some(e) => {
                        let r = self.expr(e)?;
                        self.emit(Instr::Raise { src: r });
                    }
                    None => {
                        let exc = self.blocks.iter().rev().find_map(|b| {
                            if let Block::Except { exc } = b {
                                Some(*exc)
                            } else {
                                None
                            }
                        });
                        self.emit(Instr::Reraise {
                            src: exc.unwrap_or(NO_REG),
                        });
                    }
                }
                self.dead = true;
            }
            StmtKind::Import(mods) => {
                for (m, alias) in mods {
                    if m.contains('.') {
                        return Err(CompileError::unsupported(
                            s.line,
                            &format!("dotted module import '{}'", m),
                        ));
                    }
                    let t = self.alloc_temp()?;
                    let k = self.sym(m);
                    self.emit(Instr::Import { dst: t, name: k });
                    self.store_name(alias.as_deref().unwrap_or(m), t, s.line)?;
                }
            }
            StmtKind::ImportFrom(m, names) => {
                let t = self.alloc_temp()?;
                let k = self.sym(m);
                self.emit(Instr::Import { dst: t, name: k });
                for (n, alias) in names {
                    let d = self.alloc_temp()?;
                    let k = self.sym(n);
                    self.emit(Instr::ImportFrom {
                        dst: d,
                        module: t,
                        name: k,
                    });
                    self.store_name(alias.as_deref().unwrap_or(n), d, s.line)?;
                }
            }
            StmtKind::Assert(c, msg) => {
                let ok = self.cond_jump(c, true)?;
                let m = match msg {
                    Some(m) => self.expr(m)?,
                    None => NO_REG,
                };
                self.emit(Instr::AssertFail { msg: m });
                self.patch_here(&ok)?;
            }
            StmtKind::If(arms, orelse) => self.if_stmt(arms, orelse.as_deref())?,
            StmtKind::While(c, body, orelse) => self.while_stmt(c, body, orelse.as_deref())?,
            StmtKind::For(t, it, body, orelse) => self.for_stmt(t, it, body, orelse.as_deref())?,
            StmtKind::Def(f) => {
                let r = self.function_def(f)?;
                self.store_name(&f.name, r, s.line)?;
            }
            StmtKind::Class(c) => self.class_def(c)?,
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => self.try_stmt(body, handlers, orelse.as_deref(), finally.as_deref())?,
            StmtKind::With(ctx, target, body) => self.with_stmt(ctx, target.as_ref(), body)?,
        }
        self.next_temp = self.floor;
        Ok(())
    }

    /// Emits the cleanups for leaving `blocks[upto..]`, then `jump`, splitting try ranges.
    fn exit_blocks(&mut self, upto: usize, jump: impl FnOnce(&mut Self) -> CResult<()>) -> CResult<()> {
        let mut saved = self.blocks.split_off(upto);
        let pc = self.pc() as u32;
        for b in saved.iter_mut() {
            if let Block::Try { start, ranges } = b {
                ranges.push((*start as u32, pc));
            }
        }
        for i in (0..saved.len()).rev() {
            match &saved[i] {
                Block::With { ctx } => {
                    let ctx = *ctx;
                    self.emit(Instr::WithExit { ctx });
                }
                Block::Finally { body } => {
                    let body = body.clone();
                    let dead = self.dead;
                    self.body(&body)?;
                    self.dead = dead;
                }
                _ => {}
            }
        }
        jump(self)?;
        let pc = self.pc();
        for b in saved.iter_mut() {
            if let Block::Try { start, .. } = b {
                *start = pc;
            }
        }
        self.blocks.extend(saved);
        Ok(())
    }

    fn break_continue(&mut self, is_break: bool) -> CResult<()> {
        let Some(li) = self.blocks.iter().rposition(|b| matches!(b, Block::Loop { .. })) else {
            let what = if is_break { "'break'" } else { "'continue'" };
            return Err(CompileError::new(
                self.line,
                format!("SyntaxError: {} outside loop", what),
            ));
        };
        let head = if let Block::Loop { head, .. } = &self.blocks[li] {
            *head
        } else {
            unreachable!()
        };
        let mut jump_idx = 0;
        self.exit_blocks(li + 1, |c| {
            jump_idx = if is_break {
                c.emit(Instr::Jump { t: 0 })
            } else {
                c.emit(Instr::Loop { t: head })
            };
            Ok(())
        })?;
        if is_break {
            if let Block::Loop { breaks, .. } = &mut self.blocks[li] {
                breaks.push(jump_idx);
            }
        }
        self.dead = true;
        Ok(())
    }

    pub(crate) fn snapshot(&self) -> Option<Vec<bool>> {
        if self.dead {
            None
        } else {
            Some(self.assigned.clone())
        }
    }
    pub(crate) fn merge(&mut self, states: Vec<Option<Vec<bool>>>) {
        let live: Vec<Vec<bool>> = states.into_iter().flatten().collect();
        if live.is_empty() {
            self.dead = true;
            return;
        }
        self.dead = false;
        let mut acc = live[0].clone();
        for s in &live[1..] {
            for (a, b) in acc.iter_mut().zip(s) {
                *a &= *b;
            }
        }
        self.assigned = acc;
    }

    fn if_stmt(&mut self, arms: &[(Expr, Vec<Stmt>)], orelse: Option<&[Stmt]>) -> CResult<()> {
        let start = self.assigned.clone();
        let start_dead = self.dead;
        let mut states = Vec::new();
        let mut end_jumps = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        for (i, (cond, body)) in arms.iter().enumerate() {
            self.patch_here(&next)?;
            self.assigned = start.clone();
            self.dead = start_dead;
            self.line = cond.line;
            next = self.cond_jump(cond, false)?;
            self.next_temp = self.floor;
            self.body(body)?;
            states.push(self.snapshot());
            // Another arm or an `else` follows: this arm jumps past them.
            let more_follows = i + 1 < arms.len() || orelse.is_some();
            if more_follows && !self.dead {
                end_jumps.push(self.emit(Instr::Jump { t: 0 }));
            }
        }
        self.patch_here(&next)?;
        self.assigned = start.clone();
        self.dead = start_dead;
        if let Some(b) = orelse {
            self.body(b)?;
        }
        states.push(self.snapshot());
        self.patch_here(&end_jumps)?;
        self.merge(states);
        Ok(())
    }

    fn loop_body(&mut self, head: u16, body: &[Stmt]) -> CResult<Vec<usize>> {
        self.blocks.push(Block::Loop {
            head,
            breaks: Vec::new(),
        });
        self.body(body)?;
        self.emit(Instr::Loop { t: head });
        match self.blocks.pop() {
            Some(Block::Loop { breaks, .. }) => Ok(breaks),
            _ => unreachable!("block stack mismatch"),
        }
    }

    fn while_stmt(&mut self, cond: &Expr, body: &[Stmt], orelse: Option<&[Stmt]>) -> CResult<()> {
        let start = self.assigned.clone();
        let head = self.pc16()?;
        self.line = cond.line;
        let always = matches!(cond.kind, ExprKind::Bool(true) | ExprKind::Int(1));
        let exits = if always {
            Vec::new()
        } else {
            self.cond_jump(cond, false)?
        };
        self.next_temp = self.floor;
        let breaks = self.loop_body(head, body)?;
        self.patch_here(&exits)?;
        self.assigned = start;
        self.dead = false;
        if let Some(b) = orelse {
            self.body(b)?;
            self.dead = false;
        }
        self.patch_here(&breaks)?;
        Ok(())
    }

    fn range_args<'e>(&self, it: &'e Expr) -> Option<&'e [Expr]> {
        if let ExprKind::Call {
            func,
            args,
            star: None,
            kwargs,
        } = &it.kind
        {
            if let ExprKind::Name(n) = &func.kind {
                if n == "range"
                    && self.range_ok
                    && kwargs.is_empty()
                    && (1..=3).contains(&args.len())
                    && self.local_slot("range").is_none()
                {
                    return Some(args);
                }
            }
        }
        None
    }

    fn for_stmt(&mut self, target: &Expr, it: &Expr, body: &[Stmt], orelse: Option<&[Stmt]>) -> CResult<()> {
        let start_state = self.assigned.clone();
        let direct = match &target.kind {
            ExprKind::Name(n) => self.local_slot(n),
            _ => None,
        };
        let (head, exit, saved_floor);
        if let Some(args) = self.range_args(it) {
            let (base, sf) = self.reserve(3)?;
            saved_floor = sf;
            let (start, stop, step) = match args.len() {
                1 => (None, &args[0], None),
                2 => (Some(&args[0]), &args[1], None),
                _ => (Some(&args[0]), &args[1], Some(&args[2])),
            };
            match start {
                Some(e) => self.expr_into(e, base)?,
                None => {
                    self.const_operand(&ConstKey::Int(0), Some(base))?;
                }
            }
            self.expr_into(stop, base + 1)?;
            match step {
                Some(e) => self.expr_into(e, base + 2)?,
                None => {
                    self.const_operand(&ConstKey::Int(1), Some(base + 2))?;
                }
            }
            self.emit(Instr::RangeInit { base });
            self.next_temp = self.floor;
            head = self.pc16()?;
            let dst = match direct {
                Some(r) => r,
                None => self.alloc_temp()?,
            };
            exit = self.emit(Instr::ForRange { base, dst, t: 0 });
            if direct.is_none() {
                self.store(target, dst)?;
            }
        } else {
            let it_reg = self.expr_temp(it)?;
            let (itr, sf) = self.reserve(1)?;
            saved_floor = sf;
            self.emit(Instr::GetIter { dst: itr, src: it_reg });
            self.next_temp = self.floor;
            head = self.pc16()?;
            let dst = match direct {
                Some(r) => r,
                None => self.alloc_temp()?,
            };
            exit = self.emit(Instr::ForIter { it: itr, dst, t: 0 });
            if direct.is_none() {
                self.store(target, dst)?;
            }
        }
        if let Some(r) = direct {
            self.mark_assigned(r);
        }
        self.next_temp = self.floor;
        let breaks = self.loop_body(head, body)?;
        self.patch_here(&[exit])?;
        self.unreserve(saved_floor);
        self.assigned = start_state;
        self.dead = false;
        if let Some(b) = orelse {
            self.body(b)?;
            self.dead = false;
        }
        self.patch_here(&breaks)?;
        Ok(())
    }
}

/// The instruction for a binary operator.
pub(crate) fn bin_instr(op: BinOp, dst: R, a: R, b: R) -> Instr {
    match op {
        BinOp::Add => Instr::Add { dst, a, b },
        BinOp::Sub => Instr::Sub { dst, a, b },
        BinOp::Mul => Instr::Mul { dst, a, b },
        BinOp::Div => Instr::Div { dst, a, b },
        BinOp::FloorDiv => Instr::FloorDiv { dst, a, b },
        BinOp::Mod => Instr::Mod { dst, a, b },
        BinOp::Pow => Instr::Pow { dst, a, b },
        BinOp::LShift => Instr::Shl { dst, a, b },
        BinOp::RShift => Instr::Shr { dst, a, b },
        BinOp::BitAnd => Instr::BitAnd { dst, a, b },
        BinOp::BitOr => Instr::BitOr { dst, a, b },
        BinOp::BitXor => Instr::BitXor { dst, a, b },
    }
}
