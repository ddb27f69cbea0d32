//! The parser: tokens → [`Trace`] + [`SourceMap`].
//!
//! Values are resolved by name: a name gets an id the first time it is seen (at its
//! definition or a use), and at the end every used name must have been defined.
//! Result types come from the op (a descriptor, a signature, a literal); `select`
//! takes its type from its operands, resolved after the whole text is read because a
//! loop-carried operand may be defined further down.

mod body;
mod decl;

use super::lexer::{lex, Tok};
use super::{ParseError, ParseErrorKind as K, Pos, SourceMap};
use crate::entity::{ArrayId, Block, FieldId, LayoutId, Value};
use crate::op::Const;
use crate::trace::Trace;
use crate::types::Type;
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
