//! # Parser: tokens to AST by recursive descent
//!
//! One function per grammar level, following Python's grammar closely
//! (`test` → `or_test` → `and_test` → `not_test` → `comparison` → bit ops →
//! arithmetic → `factor` → `power` → `primary` → `atom`). Statements are parsed
//! with one-token lookahead on keywords. Constructs outside the subset are
//! rejected here when they are syntactically recognisable (e.g. `lambda`,
//! `nonlocal`, dict displays), always with the line and a name for the construct.
//! Expression statements are validated as assignment targets where needed.

use crate::ast::*;
use crate::error::CompileError;
use crate::lexer::{tokenize, Tok, Token};

pub(crate) type PResult<T> = Result<T, CompileError>;

pub(crate) const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Parses a whole module.
pub fn parse(src: &str) -> PResult<Vec<Stmt>> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        line_offset: 0,
        depth: 0,
        tree_depth: 0,
    };
    let mut out = Vec::new();
    while p.peek() != &Tok::Eof {
        if p.peek() == &Tok::Newline {
            p.pos += 1;
            continue;
        }
        p.statement(&mut out)?;
    }
    Ok(out)
}

pub(crate) struct Parser {
    pub(crate) toks: Vec<Token>,
    pub(crate) pos: usize,
    pub(crate) line_offset: u32,
    /// Current expression nesting depth (bounded so deep input cannot overflow the Rust stack).
    pub(crate) depth: u32,
    /// Depth of the expression tree being built along the current path, counting each
    /// link of left-leaning chains (`a + b + c`, `x.f.g`, `a and b`), which the parser
    /// builds in a loop but the compiler walks recursively (bounded like `depth`).
    pub(crate) tree_depth: u32,
}

impl Parser {
    pub(crate) fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }
    pub(crate) fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)].tok
    }
    pub(crate) fn line(&self) -> u32 {
        self.toks[self.pos.min(self.toks.len() - 1)].line + self.line_offset
    }
    pub(crate) fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    pub(crate) fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == kw)
    }
    pub(crate) fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub(crate) fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(CompileError::new(self.line(), msg))
    }
    pub(crate) fn unexpected<T>(&self) -> PResult<T> {
        let what = match self.peek() {
            Tok::Name(n) => format!("'{}'", n),
            Tok::Op(o) => format!("'{}'", o),
            Tok::Newline => "end of line".into(),
            Tok::Indent => "unexpected indent".into(),
            Tok::Dedent => "unindent".into(),
            Tok::Eof => "end of file".into(),
            _ => "literal".into(),
        };
        self.err(format!("SyntaxError: invalid syntax (unexpected {})", what))
    }
    pub(crate) fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            match self.peek() {
                Tok::Newline | Tok::Eof => self.err(format!("SyntaxError: expected '{}'", op)),
                _ => self.unexpected(),
            }
        }
    }
    pub(crate) fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            self.err(format!("SyntaxError: expected '{}'", kw))
        }
    }
    pub(crate) fn name(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) => {
                self.pos += 1;
                Ok(n)
            }
            _ => self.err("SyntaxError: expected a name"),
        }
    }
    fn end_of_simple(&mut self) -> PResult<()> {
        match self.peek() {
            Tok::Newline => {
                self.pos += 1;
                Ok(())
            }
            Tok::Eof => Ok(()),
            _ => self.unexpected(),
        }
    }

    // ---------------------------------------------------------------- statements

    fn statement(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        let line = self.line();
        let kw = match self.peek() {
            Tok::Name(n) => n.clone(),
            Tok::Op("@") => return self.decorated(out),
            Tok::Indent => return self.err("IndentationError: unexpected indent"),
            _ => String::new(),
        };
        let kind = match kw.as_str() {
            "if" => self.if_stmt()?,
            "while" => {
                self.pos += 1;
                let cond = self.test()?;
                let body = self.block()?;
                let orelse = self.else_block()?;
                StmtKind::While(cond, body, orelse)
            }
            "for" => {
                self.pos += 1;
                let target = self.target_list()?;
                self.expect_kw("in")?;
                let iter = self.testlist()?;
                let body = self.block()?;
                let orelse = self.else_block()?;
                StmtKind::For(target, iter, body, orelse)
            }
            "def" => StmtKind::Def(Box::new(self.funcdef(Vec::new())?)),
            "class" => self.classdef()?,
            "try" => self.try_stmt()?,
            "with" => {
                self.pos += 1;
                let ctx = self.test()?;
                let target = if self.eat_kw("as") {
                    let t = self.bitor()?;
                    check_target(&t)?;
                    Some(t)
                } else {
                    None
                };
                if self.is_op(",") {
                    return self.err(
                        "unsupported construct: 'with' with several context managers (outside the pylite subset)",
                    );
                }
                let body = self.block()?;
                StmtKind::With(ctx, target, body)
            }
            "async" => return Err(CompileError::unsupported(line, "'async'")),
            _ => {
                loop {
                    let line = self.line();
                    let kind = self.simple_stmt()?;
                    out.push(Stmt { kind, line });
                    if !self.eat_op(";") {
                        break;
                    }
                    if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                        break;
                    }
                }
                return self.end_of_simple();
            }
        };
        out.push(Stmt { kind, line });
        Ok(())
    }

    fn decorated(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        let mut decorators = Vec::new();
        while self.eat_op("@") {
            decorators.push(self.test()?);
            self.end_of_simple()?;
        }
        let line = self.line();
        if self.is_kw("def") {
            let f = self.funcdef(decorators)?;
            out.push(Stmt {
                kind: StmtKind::Def(Box::new(f)),
                line,
            });
            Ok(())
        } else if self.is_kw("class") {
            Err(CompileError::unsupported(line, "class decorators"))
        } else {
            self.unexpected()
        }
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect_op(":")?;
        let mut body = Vec::new();
        if self.peek() == &Tok::Newline {
            self.pos += 1;
            if self.peek() != &Tok::Indent {
                return self.err("IndentationError: expected an indented block");
            }
            self.pos += 1;
            while !matches!(self.peek(), Tok::Dedent | Tok::Eof) {
                self.statement(&mut body)?;
            }
            self.eat_dedent();
        } else if self.at_compound_statement() {
            // `if a: if b: pass` is not Python, and nesting it without indentation
            // would let the parser's recursion outgrow the stack.
            return self.err("SyntaxError: invalid syntax (a compound statement cannot follow ':' on the same line)");
        } else {
            self.statement(&mut body)?;
        }
        Ok(body)
    }
    /// Whether the next token starts a compound statement (one with a block).
    fn at_compound_statement(&self) -> bool {
        match self.peek() {
            Tok::Op(o) => *o == "@",
            Tok::Name(n) => ["if", "while", "for", "def", "class", "try", "with", "async"].contains(&n.as_str()),
            _ => false,
        }
    }
    fn eat_dedent(&mut self) {
        if self.peek() == &Tok::Dedent {
            self.pos += 1;
        }
    }
    fn else_block(&mut self) -> PResult<Option<Vec<Stmt>>> {
        if self.eat_kw("else") {
            Ok(Some(self.block()?))
        } else {
            Ok(None)
        }
    }

    fn if_stmt(&mut self) -> PResult<StmtKind> {
        self.pos += 1;
        let mut arms = Vec::new();
        let cond = self.test()?;
        arms.push((cond, self.block()?));
        let mut orelse = None;
        loop {
            if self.eat_kw("elif") {
                let c = self.test()?;
                arms.push((c, self.block()?));
            } else if self.eat_kw("else") {
                orelse = Some(self.block()?);
                break;
            } else {
                break;
            }
        }
        Ok(StmtKind::If(arms, orelse))
    }

    fn funcdef(&mut self, decorators: Vec<Expr>) -> PResult<FuncDef> {
        let line = self.line();
        self.expect_kw("def")?;
        let name = self.name()?;
        self.expect_op("(")?;
        let mut params: Vec<String> = Vec::new();
        let mut defaults = Vec::new();
        while !self.is_op(")") {
            if self.is_op("*") || self.is_op("**") || self.is_op("/") {
                return Err(CompileError::unsupported(
                    self.line(),
                    "'*args', '**kwargs' or '/' in a parameter list",
                ));
            }
            let p = self.name()?;
            if params.contains(&p) {
                return self.err(format!(
                    "SyntaxError: duplicate argument '{}' in function definition",
                    p
                ));
            }
            if self.is_op(":") {
                return Err(CompileError::unsupported(self.line(), "parameter annotations"));
            }
            if self.eat_op("=") {
                defaults.push(self.test()?);
            } else if !defaults.is_empty() {
                return self.err("SyntaxError: non-default argument follows default argument");
            }
            params.push(p);
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        if self.is_op("->") {
            return Err(CompileError::unsupported(self.line(), "return annotations"));
        }
        let body = self.block()?;
        Ok(FuncDef {
            name,
            params,
            defaults,
            body,
            decorators,
            line,
        })
    }

    fn classdef(&mut self) -> PResult<StmtKind> {
        let line = self.line();
        self.pos += 1;
        let name = self.name()?;
        let mut base = None;
        if self.eat_op("(") {
            if !self.is_op(")") {
                base = Some(self.test()?);
                if self.eat_op(",") && !self.is_op(")") {
                    return Err(CompileError::unsupported(
                        self.line(),
                        "multiple inheritance or class keywords",
                    ));
                }
            }
            self.expect_op(")")?;
        }
        let body = self.block()?;
        Ok(StmtKind::Class(Box::new(ClassDef { name, base, body, line })))
    }

    fn try_stmt(&mut self) -> PResult<StmtKind> {
        self.pos += 1;
        let body = self.block()?;
        let mut handlers = Vec::new();
        while self.is_kw("except") {
            let line = self.line();
            self.pos += 1;
            if self.is_op("*") {
                return Err(CompileError::unsupported(line, "'except*'"));
            }
            let mut ty = None;
            let mut name = None;
            if !self.is_op(":") {
                ty = Some(self.test()?);
                if self.eat_kw("as") {
                    name = Some(self.name()?);
                }
            }
            let hbody = self.block()?;
            handlers.push(Handler {
                ty,
                name,
                body: hbody,
                line,
            });
        }
        let orelse = if !handlers.is_empty() { self.else_block()? } else { None };
        let finally = if self.eat_kw("finally") {
            Some(self.block()?)
        } else {
            None
        };
        if handlers.is_empty() && finally.is_none() {
            return self.err("SyntaxError: expected 'except' or 'finally' block");
        }
        Ok(StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        })
    }

    fn simple_stmt(&mut self) -> PResult<StmtKind> {
        let line = self.line();
        let kw = if let Tok::Name(n) = self.peek() {
            n.clone()
        } else {
            String::new()
        };
        match kw.as_str() {
            "pass" => {
                self.pos += 1;
                return Ok(StmtKind::Pass);
            }
            "break" => {
                self.pos += 1;
                return Ok(StmtKind::Break);
            }
            "continue" => {
                self.pos += 1;
                return Ok(StmtKind::Continue);
            }
            "return" => {
                self.pos += 1;
                if matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(";") {
                    return Ok(StmtKind::Return(None));
                }
                return Ok(StmtKind::Return(Some(self.testlist()?)));
            }
            "raise" => {
                self.pos += 1;
                if matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(";") {
                    return Ok(StmtKind::Raise(None));
                }
                let e = self.test()?;
                if self.is_kw("from") {
                    return Err(CompileError::unsupported(line, "'raise ... from ...'"));
                }
                return Ok(StmtKind::Raise(Some(e)));
            }
            "global" => {
                self.pos += 1;
                let mut names = vec![self.name()?];
                while self.eat_op(",") {
                    names.push(self.name()?);
                }
                return Ok(StmtKind::Global(names));
            }
            "nonlocal" => return Err(CompileError::unsupported(line, "'nonlocal'")),
            "del" => return Err(CompileError::unsupported(line, "'del' statement")),
            "import" => {
                self.pos += 1;
                let mut mods = Vec::new();
                loop {
                    let m = self.dotted_name()?;
                    let alias = if self.eat_kw("as") { Some(self.name()?) } else { None };
                    mods.push((m, alias));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                return Ok(StmtKind::Import(mods));
            }
            "from" => {
                self.pos += 1;
                if self.is_op(".") {
                    return Err(CompileError::unsupported(line, "relative imports"));
                }
                let m = self.dotted_name()?;
                self.expect_kw("import")?;
                if self.is_op("*") {
                    return Err(CompileError::unsupported(line, "'from ... import *'"));
                }
                let paren = self.eat_op("(");
                let mut names = Vec::new();
                loop {
                    let n = self.name()?;
                    let alias = if self.eat_kw("as") { Some(self.name()?) } else { None };
                    names.push((n, alias));
                    if !self.eat_op(",") || (paren && self.is_op(")")) {
                        break;
                    }
                }
                if paren {
                    self.expect_op(")")?;
                }
                return Ok(StmtKind::ImportFrom(m, names));
            }
            "assert" => {
                self.pos += 1;
                let c = self.test()?;
                let msg = if self.eat_op(",") { Some(self.test()?) } else { None };
                return Ok(StmtKind::Assert(c, msg));
            }
            _ => {}
        }
        let first = if self.is_kw("yield") {
            self.yield_expr()?
        } else {
            self.testlist_star()?
        };
        if self.is_op("=") {
            let mut targets = vec![first];
            let mut value;
            loop {
                self.expect_op("=")?;
                value = if self.is_kw("yield") {
                    self.yield_expr()?
                } else {
                    self.testlist_star()?
                };
                if self.is_op("=") {
                    targets.push(value);
                } else {
                    break;
                }
            }
            for t in &targets {
                check_target(t)?;
            }
            return Ok(StmtKind::Assign(targets, value));
        }
        if let Tok::Op(op) = self.peek() {
            let aug = match *op {
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "//=" => Some(BinOp::FloorDiv),
                "%=" => Some(BinOp::Mod),
                "**=" => Some(BinOp::Pow),
                "<<=" => Some(BinOp::LShift),
                ">>=" => Some(BinOp::RShift),
                "&=" => Some(BinOp::BitAnd),
                "|=" => Some(BinOp::BitOr),
                "^=" => Some(BinOp::BitXor),
                "@=" => return Err(CompileError::unsupported(line, "matrix multiplication '@'")),
                ":" => return Err(CompileError::unsupported(line, "variable annotations")),
                _ => None,
            };
            if let Some(op) = aug {
                self.pos += 1;
                match first.kind {
                    ExprKind::Name(_) | ExprKind::Attr(..) | ExprKind::Subscript(..) => {}
                    _ => return self.err("SyntaxError: illegal expression for augmented assignment"),
                }
                let value = if self.is_kw("yield") {
                    self.yield_expr()?
                } else {
                    self.testlist()?
                };
                return Ok(StmtKind::AugAssign(first, op, value));
            }
        }
        Ok(StmtKind::Expr(first))
    }

    fn dotted_name(&mut self) -> PResult<String> {
        let mut s = self.name()?;
        while self.eat_op(".") {
            s.push('.');
            s.push_str(&self.name()?);
        }
        Ok(s)
    }

    pub(crate) fn yield_expr(&mut self) -> PResult<Expr> {
        let line = self.line();
        self.expect_kw("yield")?;
        if self.is_kw("from") {
            return Err(CompileError::unsupported(line, "'yield from'"));
        }
        let v = if matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(")") || self.is_op("=") {
            None
        } else {
            Some(Box::new(self.testlist()?))
        };
        Ok(Expr {
            kind: ExprKind::Yield(v),
            line,
        })
    }
}

pub(crate) fn push_lit(parts: &mut Vec<FPart>, s: &str) {
    if let Some(FPart::Lit(prev)) = parts.last_mut() {
        prev.push_str(s);
    } else {
        parts.push(FPart::Lit(s.to_string()));
    }
}

pub(crate) fn check_target(e: &Expr) -> PResult<()> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attr(..) | ExprKind::Subscript(..) => Ok(()),
        ExprKind::Tuple(items) | ExprKind::List(items) => items.iter().try_for_each(check_target),
        ExprKind::Slice(..) => Err(CompileError::unsupported(e.line, "slice assignment")),
        ExprKind::Call { .. } => Err(CompileError::new(e.line, "SyntaxError: cannot assign to function call")),
        _ => Err(CompileError::new(e.line, "SyntaxError: cannot assign to expression")),
    }
}
