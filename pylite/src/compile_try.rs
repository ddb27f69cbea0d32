//! # Compiler, part 2: exception handling and `with`
//!
//! `try` bodies are covered by exception-table ranges pointing at a handler
//! block that fetches the exception into a reserved register and tests each
//! `except` clause in order (`ExcMatch` + branch), re-raising if none matches.
//! `finally` bodies are compiled twice — on the normal path and in a catch-all
//! handler that re-raises — and are also inlined by `return`/`break`/`continue`
//! leaving the block (see `exit_blocks`). `with` is a try/finally whose cleanup is
//! `WithExit` on the reserved manager register.

use crate::ast::*;
use crate::bytecode::*;
use crate::compiler::{Block, CResult, FnCompiler};

impl<'v> FnCompiler<'v> {
    pub(crate) fn try_stmt(
        &mut self,
        body: &[Stmt],
        handlers: &[crate::ast::Handler],
        orelse: Option<&[Stmt]>,
        finally: Option<&[Stmt]>,
    ) -> CResult<()> {
        if let Some(fin) = finally {
            self.blocks.push(Block::Finally { body: fin.to_vec() });
            self.blocks.push(Block::Try {
                start: self.pc(),
                ranges: Vec::new(),
            });
            if handlers.is_empty() {
                self.body(body)?;
            } else {
                self.try_except(body, handlers, orelse)?;
            }
            let ranges = self.pop_try();
            self.blocks.pop();
            let state = self.snapshot();
            self.body(fin)?;
            let end = self.emit(Instr::Jump { t: 0 });
            self.add_handlers(&ranges);
            let (e, sf) = self.reserve(1)?;
            self.emit(Instr::GetExc { dst: e });
            let dead = self.dead;
            self.body(fin)?;
            self.dead = dead;
            self.emit(Instr::Reraise { src: e });
            self.unreserve(sf);
            self.patch_here(&[end])?;
            if state.is_none() {
                self.dead = true;
            }
            return Ok(());
        }
        self.try_except(body, handlers, orelse)
    }

    fn pop_try(&mut self) -> Vec<(u32, u32)> {
        let pc = self.pc() as u32;
        match self.blocks.pop() {
            Some(Block::Try { start, mut ranges }) => {
                ranges.push((start as u32, pc));
                ranges.retain(|(a, b)| a < b);
                ranges
            }
            _ => unreachable!("block stack mismatch"),
        }
    }
    fn add_handlers(&mut self, ranges: &[(u32, u32)]) {
        let target = self.pc() as u32;
        for &(start, end) in ranges {
            self.code.handlers.push(crate::bytecode::Handler { start, end, target });
        }
    }

    fn try_except(&mut self, body: &[Stmt], handlers: &[crate::ast::Handler], orelse: Option<&[Stmt]>) -> CResult<()> {
        let start = self.assigned.clone();
        self.blocks.push(Block::Try {
            start: self.pc(),
            ranges: Vec::new(),
        });
        self.body(body)?;
        let ranges = self.pop_try();
        if let Some(b) = orelse {
            self.body(b)?;
        }
        let mut states = vec![self.snapshot()];
        let mut ends = vec![self.emit(Instr::Jump { t: 0 })];
        self.add_handlers(&ranges);
        let (e, sf) = self.reserve(1)?;
        self.emit(Instr::GetExc { dst: e });
        for h in handlers {
            self.line = h.line;
            self.assigned = start.clone();
            self.dead = false;
            let mut skip = None;
            if let Some(ty) = &h.ty {
                let c = self.expr(ty)?;
                let t = self.alloc_temp()?;
                self.emit(Instr::ExcMatch { dst: t, exc: e, cls: c });
                skip = Some(self.emit(Instr::BrFalse { a: t, t: 0 }));
                self.next_temp = self.floor;
            }
            if let Some(n) = &h.name {
                self.store_name(n, e, h.line)?;
            }
            self.blocks.push(Block::Except { exc: e });
            self.body(&h.body)?;
            self.blocks.pop();
            states.push(self.snapshot());
            if !self.dead {
                ends.push(self.emit(Instr::Jump { t: 0 }));
            }
            if let Some(s) = skip {
                self.patch_here(&[s])?;
            }
        }
        self.emit(Instr::Reraise { src: e });
        self.unreserve(sf);
        self.patch_here(&ends)?;
        self.merge(states);
        Ok(())
    }

    pub(crate) fn with_stmt(&mut self, ctx: &Expr, target: Option<&Expr>, body: &[Stmt]) -> CResult<()> {
        let (c, sf) = self.reserve(1)?;
        self.expr_into(ctx, c)?;
        let t = self.alloc_temp()?;
        self.emit(Instr::WithEnter { dst: t, ctx: c });
        if let Some(tg) = target {
            self.store(tg, t)?;
        }
        self.next_temp = self.floor;
        self.blocks.push(Block::With { ctx: c });
        self.blocks.push(Block::Try {
            start: self.pc(),
            ranges: Vec::new(),
        });
        self.body(body)?;
        let ranges = self.pop_try();
        self.blocks.pop();
        let dead = self.dead;
        if !dead {
            self.emit(Instr::WithExit { ctx: c });
        }
        let end = self.emit(Instr::Jump { t: 0 });
        self.add_handlers(&ranges);
        let e = self.alloc_temp()?;
        self.emit(Instr::GetExc { dst: e });
        self.emit(Instr::WithExit { ctx: c });
        self.emit(Instr::Reraise { src: e });
        self.patch_here(&[end])?;
        self.unreserve(sf);
        self.dead = dead;
        Ok(())
    }
}
