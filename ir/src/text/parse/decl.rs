//! Header declarations: `layout`, `field`, `array`, `call` (with its effects),
//! `frame` and `target`.
//!
//! Each declaration appends one descriptor to the [`Trace`](crate::Trace) and records
//! its position in the [`SourceMap`](crate::text::SourceMap). Names must be new, and
//! anything a declaration mentions (a field's layout, an effect's heap set) must
//! already be declared above it, so one pass in text order suffices.

use super::{Parser, R};
use crate::descr::{ArrayDescr, CallDescr, EffectInfo, FieldDescr, FrameDescr, HeapSet, Layout, TargetDescr};
use crate::entity::{ArrayId, CallId, FieldId, FrameId, LayoutId, TargetId};
use crate::text::lexer::Tok;
use crate::text::{ParseError, ParseErrorKind as K, Pos};
use crate::verify::DescrRef;

impl Parser {
    pub(super) fn layout_decl(&mut self, pos: Pos) -> R<()> {
        self.bump();
        let (name, npos) = self.ident("a layout name")?;
        self.new_name(&self.trace.layouts, |l| &l.name, &name, npos)?;
        self.expect_keyword("size")?;
        let size = self.int_u32("size")?;
        let class = if self.eat_ident("class") {
            Some(self.int_u64("class word")?)
        } else {
            None
        };
        self.map
            .descrs
            .push((DescrRef::Layout(LayoutId::new(self.trace.layouts.len())), pos));
        self.trace.layouts.push(Layout { name, size, class });
        Ok(())
    }

    pub(super) fn field_decl(&mut self, pos: Pos) -> R<()> {
        self.bump();
        let layout = self.layout_ref()?;
        self.expect_punct(".")?;
        let (name, npos) = self.ident("a field name")?;
        if self.trace.field_named(layout, &name).is_some() {
            return Err(ParseError::new(
                K::DuplicateName,
                npos,
                format!("field `{name}` is declared twice"),
            ));
        }
        self.expect_punct(":")?;
        let ty = self.ty()?;
        self.expect_punct("@")?;
        let offset = self.int_u32("offset")?;
        let immutable = self.eat_ident("immutable");
        self.map
            .descrs
            .push((DescrRef::Field(FieldId::new(self.trace.fields.len())), pos));
        self.trace.fields.push(FieldDescr {
            layout,
            name,
            offset,
            ty,
            immutable,
        });
        Ok(())
    }

    pub(super) fn array_decl(&mut self, pos: Pos) -> R<()> {
        self.bump();
        let (name, npos) = self.ident("an array name")?;
        self.new_name(&self.trace.arrays, |a| &a.name, &name, npos)?;
        self.expect_punct(":")?;
        let elem = self.ty()?;
        self.expect_keyword("len")?;
        self.expect_punct("@")?;
        let len_offset = self.int_u32("offset")?;
        self.expect_keyword("items")?;
        self.expect_punct("@")?;
        let items_offset = self.int_u32("offset")?;
        self.map
            .descrs
            .push((DescrRef::Array(ArrayId::new(self.trace.arrays.len())), pos));
        self.trace.arrays.push(ArrayDescr {
            name,
            elem,
            len_offset,
            items_offset,
        });
        Ok(())
    }

    pub(super) fn call_decl(&mut self, pos: Pos) -> R<()> {
        self.bump();
        let (name, npos) = self.ident("a call name")?;
        self.new_name(&self.trace.calls, |c| &c.name, &name, npos)?;
        let params = self.type_list()?;
        let ret = if self.eat_punct("->") { Some(self.ty()?) } else { None };
        let addr = if self.eat_ident("addr") {
            self.int_u64("address")?
        } else {
            0
        };
        let effects = if self.eat_ident("effects") {
            self.effects()?
        } else {
            EffectInfo::opaque()
        };
        self.map
            .descrs
            .push((DescrRef::Call(CallId::new(self.trace.calls.len())), pos));
        self.trace.calls.push(CallDescr {
            name,
            addr,
            params,
            ret,
            effects,
        });
        Ok(())
    }

    fn effects(&mut self) -> R<EffectInfo> {
        self.expect_punct("(")?;
        let mut e = EffectInfo::none();
        let items = self.comma_list(")", |p| {
            let (word, pos) = p.ident("an effect (`pure`, `reads=...`, `writes=...`, `raise`, `force`, `alloc`)")?;
            Ok((word, pos, if p.is_punct("=") { Some(p.heap_set()?) } else { None }))
        })?;
        for (word, pos, set) in items {
            match (word.as_str(), set) {
                ("pure", None) => e.pure = true,
                ("raise", None) => e.may_raise = true,
                ("force", None) => e.may_force = true,
                ("alloc", None) => e.may_alloc = true,
                ("reads", Some(s)) => e.reads = s,
                ("writes", Some(s)) => e.writes = s,
                _ => {
                    return Err(ParseError::new(
                        K::UnexpectedToken,
                        pos,
                        format!("`{word}` is not an effect here"),
                    ))
                }
            }
        }
        Ok(e)
    }

    fn heap_set(&mut self) -> R<HeapSet> {
        self.expect_punct("=")?;
        if self.eat_ident("any") {
            return Ok(HeapSet::Any);
        }
        self.expect_punct("[")?;
        let (mut fields, mut arrays) = (Vec::new(), Vec::new());
        let items = self.comma_list("]", |p| {
            if matches!(p.peek_at(1), Tok::Punct(".")) {
                p.field_ref().map(Ok)
            } else {
                p.array_ref().map(Err)
            }
        })?;
        for item in items {
            match item {
                Ok(f) => fields.push(f),
                Err(a) => arrays.push(a),
            }
        }
        Ok(HeapSet::of(fields, arrays))
    }

    pub(super) fn frame_decl(&mut self, pos: Pos) -> R<()> {
        self.bump();
        let (name, npos) = self.ident("a frame name")?;
        self.new_name(&self.trace.frames, |f| &f.name, &name, npos)?;
        self.expect_keyword("code")?;
        let code = self.int_u64("code id")?;
        self.expect_keyword("slots")?;
        let slots = self.int_u32("slot count")?;
        self.map
            .descrs
            .push((DescrRef::Frame(FrameId::new(self.trace.frames.len())), pos));
        self.trace.frames.push(FrameDescr { name, code, slots });
        Ok(())
    }

    pub(super) fn target_decl(&mut self, pos: Pos) -> R<()> {
        self.bump();
        let (name, npos) = self.ident("a target name")?;
        self.new_name(&self.trace.targets, |t| &t.name, &name, npos)?;
        let params = self.type_list()?;
        self.map
            .descrs
            .push((DescrRef::Target(TargetId::new(self.trace.targets.len())), pos));
        self.trace.targets.push(TargetDescr { name, params });
        Ok(())
    }
}
