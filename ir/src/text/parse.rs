//! The parser: tokens → [`Trace`] + [`SourceMap`].
//!
//! Values are resolved by name: a name gets an id the first time it is seen (at its
//! definition or a use), and at the end every used name must have been defined.
//! Result types come from the op (a descriptor, a signature, a literal); `select`
//! takes its type from its operands, resolved after the whole text is read because a
//! loop-carried operand may be defined further down.

use super::lexer::{lex, Tok};
use super::{ParseError, ParseErrorKind as K, Pos, SourceMap};
use crate::descr::*;
use crate::entity::*;
use crate::op::*;
use crate::snapshot::*;
use crate::trace::{BlockData, Trace};
use crate::types::{MemType, Type};
use crate::verify::DescrRef;
use std::collections::HashMap;

/// Parses a trace from text.
///
/// ```
/// let t = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    finish v0\n").unwrap();
/// assert_eq!(t.blocks.len(), 1);
/// let err = leones_ir::parse("trace t\nblock0(v0: i64):\n    finish v9\n").unwrap_err();
/// assert_eq!(err.kind, leones_ir::ParseErrorKind::UndefinedValue);
/// assert_eq!((err.pos.line, err.pos.col), (3, 12));
/// ```
pub fn parse(src: &str) -> Result<Trace, ParseError> {
    parse_with_source_map(src).map(|(t, _)| t)
}

/// Parses a trace and also returns the positions of its pieces.
pub fn parse_with_source_map(src: &str) -> Result<(Trace, SourceMap), ParseError> {
    let mut p = Parser::new(src)?;
    p.trace_()?;
    Ok((p.trace, p.map))
}

/// Parses one constant literal of the text format (`5`, `-2.5`, `nan(0x7ff8000000000001)`,
/// `true`, `null`, `ref(0x10)`, `ptr(0x10)`), for tools that take values on their
/// command line.
///
/// ```
/// use leones_ir::{text::parse::parse_const, Const};
/// assert_eq!(parse_const("-3").unwrap(), Const::I64(-3));
/// assert_eq!(parse_const("1e300").unwrap(), Const::F64(1e300));
/// assert!(parse_const("5 6").is_err());
/// ```
pub fn parse_const(src: &str) -> Result<Const, ParseError> {
    let mut p = Parser::new(src)?;
    let k = p.literal()?;
    if *p.peek() != Tok::Eof {
        return p.unexpected("the end of the constant");
    }
    Ok(k)
}

#[derive(Default)]
struct ValueTable {
    ids: HashMap<u64, Value>,
    /// Per value id: where it was defined, and the first use position.
    defined: Vec<Option<Pos>>,
    first_use: Vec<Pos>,
}

struct Parser {
    toks: Vec<(Tok, Pos)>,
    at: usize,
    trace: Trace,
    map: SourceMap,
    values: ValueTable,
    /// `select` results whose type comes from an operand: (result, if_true).
    selects: Vec<(Value, Value)>,
    /// Every `blockN` reference, checked against the block count at the end.
    block_refs: Vec<(Block, Pos)>,
    /// The number the next virtual object of the current snapshot must have.
    virtual_count_hint: usize,
}

type R<T> = Result<T, ParseError>;

impl Parser {
    fn new(src: &str) -> R<Parser> {
        Ok(Parser {
            toks: lex(src)?,
            at: 0,
            trace: Trace::default(),
            map: SourceMap::default(),
            values: ValueTable::default(),
            selects: Vec::new(),
            block_refs: Vec::new(),
            virtual_count_hint: 0,
        })
    }

    // ---- token plumbing ----
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.at + n).min(self.toks.len() - 1)].0
    }
    fn pos(&self) -> Pos {
        self.toks[self.at].1
    }
    fn bump(&mut self) -> (Tok, Pos) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }
    fn err<T>(&self, kind: K, msg: impl Into<String>) -> R<T> {
        Err(ParseError::new(kind, self.pos(), msg))
    }
    fn unexpected<T>(&self, what: &str) -> R<T> {
        self.err(
            K::UnexpectedToken,
            format!("expected {what}, found {}", self.peek().describe()),
        )
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn is_ident(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.bump();
        }
        yes
    }
    fn expect_punct(&mut self, p: &str) -> R<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            self.unexpected(&format!("`{p}`"))
        }
    }
    fn eat_ident(&mut self, w: &str) -> bool {
        let yes = self.is_ident(w);
        if yes {
            self.bump();
        }
        yes
    }
    fn expect_keyword(&mut self, w: &str) -> R<()> {
        if self.eat_ident(w) {
            Ok(())
        } else {
            self.unexpected(&format!("`{w}`"))
        }
    }
    fn ident(&mut self, what: &str) -> R<(String, Pos)> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                let pos = self.bump().1;
                Ok((s, pos))
            }
            _ => self.unexpected(what),
        }
    }
    fn int_u64(&mut self, what: &str) -> R<u64> {
        match self.peek().clone() {
            Tok::Int(s) => {
                let v = parse_int(&s)
                    .filter(|v| *v >= 0 || s.starts_with("0x"))
                    .map(|v| v as u64);
                match v {
                    Some(v) => {
                        self.bump();
                        Ok(v)
                    }
                    None => self.err(K::BadLiteral, format!("`{s}` is not a valid {what}")),
                }
            }
            _ => self.unexpected(what),
        }
    }
    fn int_u32(&mut self, what: &str) -> R<u32> {
        let pos = self.pos();
        let v = self.int_u64(what)?;
        u32::try_from(v).map_err(|_| ParseError::new(K::BadLiteral, pos, format!("{what} {v} is too large")))
    }
    fn int_i64(&mut self, what: &str) -> R<i64> {
        match self.peek().clone() {
            Tok::Int(s) => match parse_int(&s) {
                Some(v) => {
                    self.bump();
                    Ok(v)
                }
                None => self.err(K::BadLiteral, format!("`{s}` does not fit in i64")),
            },
            _ => self.unexpected(what),
        }
    }
    fn ty(&mut self) -> R<Type> {
        let (name, pos) = self.ident("a type")?;
        Type::from_name(&name).ok_or_else(|| ParseError::new(K::UnknownType, pos, format!("unknown type `{name}`")))
    }
    fn type_list(&mut self) -> R<Vec<Type>> {
        self.expect_punct("(")?;
        let mut out = Vec::new();
        if !self.eat_punct(")") {
            loop {
                out.push(self.ty()?);
                if self.eat_punct(")") {
                    break;
                }
                self.expect_punct(",")?;
            }
        }
        Ok(out)
    }
    fn comma_list<T>(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        let mut out = Vec::new();
        if self.eat_punct(close) {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.eat_punct(close) {
                return Ok(out);
            }
            self.expect_punct(",")?;
        }
    }

    // ---- names ----
    fn new_name<T>(&self, table: &[T], name_of: impl Fn(&T) -> &str, name: &str, pos: Pos) -> R<()> {
        if table.iter().any(|x| name_of(x) == name) {
            return Err(ParseError::new(
                K::DuplicateName,
                pos,
                format!("`{name}` is declared twice"),
            ));
        }
        Ok(())
    }
    fn unknown<T>(pos: Pos, what: &str, name: &str) -> R<T> {
        Err(ParseError::new(K::UnknownName, pos, format!("unknown {what} `{name}`")))
    }
    fn layout_ref(&mut self) -> R<LayoutId> {
        let (name, pos) = self.ident("a layout name")?;
        self.trace
            .layout_named(&name)
            .map_or_else(|| Self::unknown(pos, "layout", &name), Ok)
    }
    fn field_ref(&mut self) -> R<FieldId> {
        let (lname, pos) = self.ident("a field (`Layout.field`)")?;
        self.expect_punct(".")?;
        let (fname, _) = self.ident("a field name")?;
        let Some(l) = self.trace.layout_named(&lname) else {
            return Self::unknown(pos, "layout", &lname);
        };
        self.trace
            .field_named(l, &fname)
            .map_or_else(|| Self::unknown(pos, "field", &format!("{lname}.{fname}")), Ok)
    }
    fn array_ref(&mut self) -> R<ArrayId> {
        let (name, pos) = self.ident("an array name")?;
        self.trace
            .array_named(&name)
            .map_or_else(|| Self::unknown(pos, "array", &name), Ok)
    }
    fn block_ref(&mut self) -> R<Block> {
        let (name, pos) = self.ident("a block name")?;
        let b = block_number(&name).ok_or_else(|| {
            ParseError::new(
                K::UnexpectedToken,
                pos,
                format!("expected a block name like `block1`, found `{name}`"),
            )
        })?;
        self.block_refs.push((b, pos));
        Ok(b)
    }

    // ---- values ----
    fn value_id(&mut self, n: u64, pos: Pos) -> Value {
        if let Some(&v) = self.values.ids.get(&n) {
            return v;
        }
        let v = self.trace.new_value(Type::I64);
        self.values.ids.insert(n, v);
        self.map.value_names.push(format!("v{n}"));
        self.values.defined.push(None);
        self.values.first_use.push(pos);
        v
    }
    fn use_value(&mut self) -> R<Value> {
        match self.peek().clone() {
            Tok::Ident(s) if value_number(&s).is_some() => {
                let pos = self.bump().1;
                Ok(self.value_id(value_number(&s).unwrap_or(0), pos))
            }
            _ => self.unexpected("a value (`v3`)"),
        }
    }
    fn define(&mut self, n: u64, pos: Pos, ty: Type) -> R<Value> {
        let v = self.value_id(n, pos);
        if let Some(prev) = self.values.defined[v.index()] {
            return Err(ParseError::new(
                K::ValueRedefined,
                pos,
                format!("v{n} is already defined at {prev}"),
            ));
        }
        self.values.defined[v.index()] = Some(pos);
        self.trace.value_types[v.index()] = ty;
        Ok(v)
    }
    fn value_list(&mut self, close: &str) -> R<Vec<Value>> {
        self.comma_list(close, |p| p.use_value())
    }

    // ---- literals ----
    fn literal(&mut self) -> R<Const> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Int(s) => match parse_int(&s) {
                Some(v) => {
                    self.bump();
                    Ok(Const::I64(v))
                }
                None => self.err(K::BadLiteral, format!("`{s}` does not fit in i64")),
            },
            Tok::Float(f) => {
                self.bump();
                Ok(Const::F64(f))
            }
            Tok::Ident(w) => {
                self.bump();
                match w.as_str() {
                    "true" => Ok(Const::Bool(true)),
                    "false" => Ok(Const::Bool(false)),
                    "null" => Ok(Const::Ref(0)),
                    "ref" | "ptr" | "nan" => {
                        self.expect_punct("(")?;
                        let bits = self.int_u64("an address")?;
                        self.expect_punct(")")?;
                        Ok(match w.as_str() {
                            "ref" => Const::Ref(bits),
                            "ptr" => Const::Ptr(bits),
                            _ => {
                                let f = f64::from_bits(bits);
                                if !f.is_nan() {
                                    return Err(ParseError::new(
                                        K::BadLiteral,
                                        pos,
                                        format!("nan(0x{bits:x}) is not a NaN"),
                                    ));
                                }
                                Const::F64(f)
                            }
                        })
                    }
                    _ => Err(ParseError::new(
                        K::BadLiteral,
                        pos,
                        format!("expected a constant, found `{w}`"),
                    )),
                }
            }
            _ => self.unexpected("a constant"),
        }
    }

    // ---- the trace ----
    fn trace_(&mut self) -> R<()> {
        self.expect_keyword("trace")?;
        self.trace.name = self.ident("the trace's name")?.0;
        loop {
            let pos = self.pos();
            let Tok::Ident(word) = self.peek().clone() else { break };
            match word.as_str() {
                "layout" => self.layout_decl(pos)?,
                "field" => self.field_decl(pos)?,
                "array" => self.array_decl(pos)?,
                "call" => self.call_decl(pos)?,
                "frame" => self.frame_decl(pos)?,
                "target" => self.target_decl(pos)?,
                _ => break,
            }
        }
        while *self.peek() != Tok::Eof {
            self.block()?;
        }
        self.finish_checks()
    }

    fn layout_decl(&mut self, pos: Pos) -> R<()> {
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

    fn field_decl(&mut self, pos: Pos) -> R<()> {
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

    fn array_decl(&mut self, pos: Pos) -> R<()> {
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

    fn call_decl(&mut self, pos: Pos) -> R<()> {
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

    fn frame_decl(&mut self, pos: Pos) -> R<()> {
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

    fn target_decl(&mut self, pos: Pos) -> R<()> {
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

    fn block(&mut self) -> R<()> {
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

    fn finish_checks(&mut self) -> R<()> {
        // Every used value must be defined.
        let mut undefined: Vec<(Pos, u64)> = self
            .values
            .ids
            .iter()
            .filter(|(_, v)| self.values.defined[v.index()].is_none())
            .map(|(n, v)| (self.values.first_use[v.index()], *n))
            .collect();
        undefined.sort();
        if let Some((pos, n)) = undefined.first() {
            return Err(ParseError::new(
                K::UndefinedValue,
                *pos,
                format!("v{n} is used but never defined"),
            ));
        }
        // Every referenced block must exist.
        if let Some((b, pos)) = self
            .block_refs
            .iter()
            .find(|(b, _)| b.index() >= self.trace.blocks.len())
        {
            return Err(ParseError::new(K::UnknownName, *pos, format!("unknown block `{b}`")));
        }
        // Selects take the type of their `if_true` operand (iterate: selects of selects).
        for _ in 0..=self.selects.len() {
            for &(r, t) in &self.selects {
                self.trace.value_types[r.index()] = self.trace.value_types[t.index()];
            }
        }
        Ok(())
    }
}

/// `v12` → 12.
fn value_number(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `block3` → block 3.
fn block_number(s: &str) -> Option<Block> {
    let digits = s.strip_prefix("block")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().map(Block)
}

/// Parses a decimal or `0x` hex integer (hex may use the full 64 bits).
fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mag: i128 = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()? as i128
    } else {
        body.parse::<u64>().ok()? as i128
    };
    let v = if neg { -mag } else { mag };
    if body.starts_with("0x") && !neg {
        return Some(mag as u64 as i64);
    }
    i64::try_from(v).ok()
}
