//! The body: block headers, instructions, op operands and guard snapshots.
//!
//! An instruction is `[vN =] mnemonic[.suffix] operands`; `Parser::op` dispatches on
//! the mnemonic and reports the result type the op implies, which `Parser::inst`
//! checks against the presence of `vN =`. Snapshots (`[frame@pc(slots)] {&0 = ...}`)
//! are parsed here too, since only `merge_point` and guards carry them.

use super::{block_number, value_number, Parser, R};
use crate::entity::VirtualId;
use crate::op::{BinaryOp, BlockCall, GuardKind, Inst, JumpTarget, Op, UnaryOp};
use crate::snapshot::{SlotValue, Snapshot, SnapshotFrame, VirtualObject};
use crate::text::lexer::Tok;
use crate::text::{ParseError, ParseErrorKind as K, Pos};
use crate::trace::BlockData;
use crate::types::{MemType, Type};

impl Parser {
    pub(super) fn block(&mut self) -> R<()> {
        let (name, pos) = self.ident("a block header (`block0(...):`)")?;
        let expected = self.trace.blocks.len();
        match block_number(&name) {
            Some(b) if b.index() == expected => {}
            _ => {
                return Err(ParseError::new(
                    K::BlockOrder,
                    pos,
                    format!("expected `block{expected}`, found `{name}`"),
                ))
            }
        }
        self.expect_punct("(")?;
        let params = self.comma_list(")", |p| {
            let (vname, vpos) = p.ident("a block parameter")?;
            let n = value_number(&vname).ok_or_else(|| {
                ParseError::new(
                    K::UnexpectedToken,
                    vpos,
                    format!("expected a value name, found `{vname}`"),
                )
            })?;
            p.expect_punct(":")?;
            let ty = p.ty()?;
            p.define(n, vpos, ty)
        })?;
        self.expect_punct(":")?;
        self.trace.blocks.push(BlockData {
            params,
            insts: Vec::new(),
        });
        self.map.blocks.push(pos);
        self.map.insts.push(Vec::new());
        loop {
            match self.peek() {
                Tok::Eof => break,
                Tok::Ident(w) if block_number(w).is_some() && matches!(self.peek_at(1), Tok::Punct("(")) => break,
                _ => self.inst()?,
            }
        }
        Ok(())
    }

    fn inst(&mut self) -> R<()> {
        let start = self.pos();
        let mut result_name = None;
        if let (Tok::Ident(w), Tok::Punct("=")) = (self.peek().clone(), self.peek_at(1).clone()) {
            if let Some(n) = value_number(&w) {
                result_name = Some((n, self.pos()));
                self.bump();
                self.bump();
            }
        }
        let (mnemonic, mpos) = self.ident("an instruction")?;
        let suffix = if self.is_punct(".") {
            self.bump();
            Some(self.ident("an op suffix")?.0)
        } else {
            None
        };
        let (op, ty) = self.op(&mnemonic, suffix.as_deref(), mpos)?;
        let result = match (result_name, ty) {
            (Some((n, pos)), Some(ty)) => Some(self.define(n, pos, ty.unwrap_or(Type::I64))?),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ParseError::new(
                    K::ResultMismatch,
                    start,
                    format!("`{mnemonic}` produces no value"),
                ))
            }
            (None, Some(_)) => {
                return Err(ParseError::new(
                    K::ResultMismatch,
                    start,
                    format!("`{mnemonic}` produces a value: write `vN = {mnemonic} ...`"),
                ))
            }
        };
        if let (Op::Select { if_true, .. }, Some(r)) = (&op, result) {
            self.selects.push((r, *if_true));
        }
        let b = self.trace.blocks.len() - 1;
        self.trace.blocks[b].insts.push(Inst { result, op });
        self.map.insts[b].push(start);
        Ok(())
    }

    /// Parses an op's operands. Returns the op and its result type: `None` for no
    /// result, `Some(None)` for a type known only after operands are typed (`select`).
    #[allow(clippy::type_complexity)]
    fn op(&mut self, m: &str, suffix: Option<&str>, mpos: Pos) -> R<(Op, Option<Option<Type>>)> {
        let unknown = || {
            Err(ParseError::new(
                K::UnknownOp,
                mpos,
                format!(
                    "unknown op `{}`",
                    match suffix {
                        Some(s) => format!("{m}.{s}"),
                        None => m.to_string(),
                    }
                ),
            ))
        };
        if let Some(sfx) = suffix {
            return match m {
                "load" | "store" => {
                    let mt = if m == "load" {
                        MemType::from_name(sfx)
                    } else {
                        MemType::from_store_name(sfx)
                    };
                    let Some(mt) = mt else { return unknown() };
                    let p = self.use_value()?;
                    self.expect_punct(",")?;
                    let off = self.int_i64("an offset")?;
                    if m == "load" {
                        Ok((Op::Load(mt, p, off), Some(Some(mt.value_type()))))
                    } else {
                        self.expect_punct(",")?;
                        let v = self.use_value()?;
                        Ok((Op::Store(mt, p, off, v), None))
                    }
                }
                "select" if sfx == "unpredictable" => self.select(true),
                _ => unknown(),
            };
        }
        if let Some(op) = UnaryOp::ALL.into_iter().find(|o| o.name() == m) {
            let a = self.use_value()?;
            return Ok((Op::Unary(op, a), Some(Some(op.signature().1))));
        }
        if let Some(op) = BinaryOp::ALL.into_iter().find(|o| o.name() == m) {
            let a = self.use_value()?;
            self.expect_punct(",")?;
            let b = self.use_value()?;
            return Ok((Op::Binary(op, a, b), Some(Some(op.signature().2))));
        }
        if m.starts_with("guard_") {
            return self.guard(m).map(|op| (op, None));
        }
        match m {
            "merge_point" => {
                let snap = self.snapshot()?;
                Ok((Op::MergePoint(self.trace.add_snapshot(snap)), None))
            }
            "const" => {
                let k = self.literal()?;
                Ok((Op::Const(k), Some(Some(k.ty()))))
            }
            "select" => self.select(false),
            "new" => Ok((Op::New(self.layout_ref()?), Some(Some(Type::Ref)))),
            "getfield" | "setfield" => {
                let obj = self.use_value()?;
                self.expect_punct(",")?;
                let f = self.field_ref()?;
                if m == "getfield" {
                    Ok((Op::GetField(obj, f), Some(Some(self.trace.field(f).ty))))
                } else {
                    self.expect_punct(",")?;
                    Ok((Op::SetField(obj, f, self.use_value()?), None))
                }
            }
            "getitem" | "setitem" | "arraylen" => {
                let a = self.array_ref()?;
                self.expect_punct(",")?;
                let arr = self.use_value()?;
                if m == "arraylen" {
                    return Ok((Op::ArrayLen(a, arr), Some(Some(Type::I64))));
                }
                self.expect_punct(",")?;
                let i = self.use_value()?;
                if m == "getitem" {
                    Ok((Op::GetItem(a, arr, i), Some(Some(self.trace.array(a).elem))))
                } else {
                    self.expect_punct(",")?;
                    Ok((Op::SetItem(a, arr, i, self.use_value()?), None))
                }
            }
            "call" => {
                let (name, pos) = self.ident("a call name")?;
                let Some(c) = self.trace.call_named(&name) else {
                    return Self::unknown(pos, "call", &name);
                };
                self.expect_punct("(")?;
                let args = self.value_list(")")?;
                Ok((Op::Call(c, args), self.trace.call(c).ret.map(Some)))
            }
            "jump" => {
                let target = if self.eat_punct("@") {
                    let (name, pos) = self.ident("a target name")?;
                    let Some(t) = self.trace.target_named(&name) else {
                        return Self::unknown(pos, "target", &name);
                    };
                    JumpTarget::Unit(t)
                } else {
                    JumpTarget::Block(self.block_ref()?)
                };
                self.expect_punct("(")?;
                Ok((Op::Jump(target, self.value_list(")")?), None))
            }
            "goto" => Ok((Op::Goto(self.block_call()?), None)),
            "br" => {
                let cond = self.use_value()?;
                self.expect_punct(",")?;
                let then_ = self.block_call()?;
                self.expect_punct(",")?;
                let else_ = self.block_call()?;
                let weights = if self.eat_ident("weights") {
                    self.expect_punct("(")?;
                    let a = self.int_u32("a weight")?;
                    self.expect_punct(",")?;
                    let b = self.int_u32("a weight")?;
                    self.expect_punct(")")?;
                    Some((a, b))
                } else {
                    None
                };
                Ok((
                    Op::Br {
                        cond,
                        then_,
                        else_,
                        weights,
                    },
                    None,
                ))
            }
            "finish" => {
                let mut args = Vec::new();
                if matches!(self.peek(), Tok::Ident(w) if value_number(w).is_some())
                    && !matches!(self.peek_at(1), Tok::Punct("="))
                {
                    args.push(self.use_value()?);
                    while self.eat_punct(",") {
                        args.push(self.use_value()?);
                    }
                }
                Ok((Op::Finish(args), None))
            }
            _ => unknown(),
        }
    }

    fn select(&mut self, unpredictable: bool) -> R<(Op, Option<Option<Type>>)> {
        let cond = self.use_value()?;
        self.expect_punct(",")?;
        let if_true = self.use_value()?;
        self.expect_punct(",")?;
        let if_false = self.use_value()?;
        Ok((
            Op::Select {
                cond,
                if_true,
                if_false,
                unpredictable,
            },
            Some(None),
        ))
    }

    fn block_call(&mut self) -> R<BlockCall> {
        let block = self.block_ref()?;
        self.expect_punct("(")?;
        Ok(BlockCall {
            block,
            args: self.value_list(")")?,
        })
    }

    fn guard(&mut self, m: &str) -> R<Op> {
        let kind = match m {
            "guard_true" => GuardKind::True(self.use_value()?),
            "guard_false" => GuardKind::False(self.use_value()?),
            "guard_nonnull" => GuardKind::NonNull(self.use_value()?),
            "guard_isnull" => GuardKind::IsNull(self.use_value()?),
            "guard_no_overflow" => GuardKind::NoOverflow(self.use_value()?),
            "guard_no_exception" => GuardKind::NoException,
            "guard_no_interrupt" => GuardKind::NoInterrupt,
            "guard_value" => {
                let v = self.use_value()?;
                self.expect_punct(",")?;
                GuardKind::Value(v, self.literal()?)
            }
            "guard_class" => {
                let v = self.use_value()?;
                self.expect_punct(",")?;
                GuardKind::Class(v, self.layout_ref()?)
            }
            _ => return self.err(K::UnknownOp, format!("unknown guard `{m}`")),
        };
        let snap = self.snapshot()?;
        Ok(Op::Guard(kind, self.trace.add_snapshot(snap)))
    }

    fn snapshot(&mut self) -> R<Snapshot> {
        self.expect_punct("[")?;
        let frames = self.comma_list("]", |p| {
            let (name, pos) = p.ident("a frame (`name@pc(...)`)")?;
            let Some(frame) = p.trace.frame_named(&name) else {
                return Self::unknown(pos, "frame", &name);
            };
            p.expect_punct("@")?;
            let pc = p.int_u32("a pc")?;
            p.expect_punct("(")?;
            let slots = p.comma_list(")", |p| p.slot())?;
            Ok(SnapshotFrame { frame, pc, slots })
        })?;
        let mut virtuals = Vec::new();
        if self.eat_punct("{") {
            virtuals = self.comma_list("}", |p| {
                let pos = p.pos();
                p.expect_punct("&")?;
                let n = p.int_u32("a virtual number")?;
                if n as usize != p.virtual_count_hint {
                    return Err(ParseError::new(
                        K::VirtualOrder,
                        pos,
                        format!("expected &{}, found &{n}", p.virtual_count_hint),
                    ));
                }
                p.virtual_count_hint += 1;
                p.expect_punct("=")?;
                let layout = p.layout_ref()?;
                p.expect_punct("{")?;
                let fields = p.comma_list("}", |p| {
                    let (fname, fpos) = p.ident("a field name")?;
                    let Some(f) = p.trace.field_named(layout, &fname) else {
                        return Self::unknown(fpos, "field", &fname);
                    };
                    p.expect_punct(":")?;
                    Ok((f, p.slot()?))
                })?;
                Ok(VirtualObject { layout, fields })
            })?;
        }
        self.virtual_count_hint = 0;
        Ok(Snapshot {
            frames,
            virtuals,
            origin: None,
        })
    }

    fn slot(&mut self) -> R<SlotValue> {
        match self.peek().clone() {
            Tok::Ident(w) if w == "_" => {
                self.bump();
                Ok(SlotValue::Dead)
            }
            Tok::Ident(w) if value_number(&w).is_some() => Ok(SlotValue::Value(self.use_value()?)),
            Tok::Punct("&") => {
                self.bump();
                Ok(SlotValue::Virtual(VirtualId(self.int_u32("a virtual number")?)))
            }
            _ => Ok(SlotValue::Const(self.literal()?)),
        }
    }
}
