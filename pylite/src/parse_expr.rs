//! # Parser, part 2: expressions
//!
//! The precedence-climbing levels of Python's expression grammar, from `test`
//! (conditional expressions) down to atoms, plus calls, subscripts, list
//! comprehensions, adjacent-string concatenation and f-string splitting (each
//! `{...}` part is re-lexed and parsed as an expression with the f-string's line).

use crate::ast::*;
use crate::error::CompileError;
use crate::lexer::{tokenize, Tok, INT_TOO_LARGE};
use crate::parser::{check_target, push_lit, PResult, Parser, KEYWORDS};

/// Deepest nesting of brackets, calls, subscripts, unary operators, `**` and
/// conditional expressions in one expression: the parser recurses once per level, so
/// this bounds its Rust stack. One budget for all kinds; the error names the kind that
/// went past it.
const MAX_NESTING: u32 = 150;

/// Longest chain of operators, attribute accesses, calls and subscripts in one
/// expression (CPython's compiler gives up at a similar depth).
const MAX_TREE_DEPTH: u32 = 1000;

impl Parser {
    pub(crate) fn target_list(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.bitor()?;
        let e = if self.is_op(",") {
            let mut items = vec![first];
            while self.eat_op(",") {
                if self.is_kw("in") || self.is_op("=") || self.is_op(":") {
                    break;
                }
                items.push(self.bitor()?);
            }
            Expr {
                kind: ExprKind::Tuple(items),
                line,
            }
        } else {
            first
        };
        check_target(&e)?;
        Ok(e)
    }

    /// `a, b` with a possible starred item (rejected with a clear message).
    pub(crate) fn testlist_star(&mut self) -> PResult<Expr> {
        if self.is_op("*") {
            return Err(CompileError::unsupported(self.line(), "starred assignment targets"));
        }
        self.testlist()
    }

    pub(crate) fn testlist(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.test()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_expr_end() {
                break;
            }
            if self.is_op("*") {
                return Err(CompileError::unsupported(self.line(), "starred expressions"));
            }
            items.push(self.test()?);
        }
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            line,
        })
    }

    fn at_expr_end(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Newline | Tok::Eof | Tok::Op("=") | Tok::Op(")") | Tok::Op("]") | Tok::Op(":") | Tok::Op(";")
        ) || matches!(self.peek(), Tok::Op(o) if o.ends_with('=') && *o != "==" && *o != "<=" && *o != ">=" && *o != "!=")
    }

    pub(crate) fn test(&mut self) -> PResult<Expr> {
        self.nested("subexpressions", Parser::test_inner)
    }

    /// Fails with a message naming `what` if the expression is already nested as
    /// deeply as [`MAX_NESTING`] allows. Each construct that nests calls this before
    /// it recurses, so the error names it rather than whatever recursion comes next.
    fn check_nesting(&self, what: &str) -> PResult<()> {
        if self.depth >= MAX_NESTING {
            return self.err(format!("SyntaxError: too many nested {what} in one expression"));
        }
        Ok(())
    }

    /// Runs `f` one nesting level deeper (failing as [`Parser::check_nesting`] says).
    fn nested(&mut self, what: &str, f: impl FnOnce(&mut Parser) -> PResult<Expr>) -> PResult<Expr> {
        self.check_nesting(what)?;
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn test_inner(&mut self) -> PResult<Expr> {
        let line = self.line();
        if self.is_kw("lambda") {
            return Err(CompileError::unsupported(line, "'lambda' expressions"));
        }
        if self.is_kw("yield") {
            return self.err("SyntaxError: 'yield' must be parenthesized here");
        }
        let e = self.or_test()?;
        if self.is_op(":=") {
            return Err(CompileError::unsupported(line, "assignment expressions ':='"));
        }
        if self.eat_kw("if") {
            let cond = self.or_test()?;
            self.expect_kw("else")?;
            self.check_nesting("conditional expressions ('if ... else')")?;
            let other = self.test()?;
            return Ok(Expr {
                kind: ExprKind::IfExp(Box::new(cond), Box::new(e), Box::new(other)),
                line,
            });
        }
        Ok(e)
    }

    /// Runs `f`, a parser of a left-leaning chain that calls [`Parser::link`] per
    /// link, and restores the tree depth afterwards (also on errors).
    fn chain(&mut self, f: impl FnOnce(&mut Parser) -> PResult<Expr>) -> PResult<Expr> {
        let saved = self.tree_depth;
        let r = f(self);
        self.tree_depth = saved;
        r
    }

    /// One more link of a chain: the tree gets one level deeper.
    fn link(&mut self) -> PResult<()> {
        self.tree_depth += 1;
        if self.tree_depth > MAX_TREE_DEPTH {
            return self.err(format!(
                "SyntaxError: expression too long (more than {MAX_TREE_DEPTH} operators in a chain)"
            ));
        }
        Ok(())
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.chain(Parser::or_chain)
    }
    fn or_chain(&mut self) -> PResult<Expr> {
        let mut e = self.and_test()?;
        while self.is_kw("or") {
            self.link()?;
            let line = self.line();
            self.pos += 1;
            let r = self.and_test()?;
            e = Expr {
                kind: ExprKind::Or(Box::new(e), Box::new(r)),
                line,
            };
        }
        Ok(e)
    }
    fn and_test(&mut self) -> PResult<Expr> {
        self.chain(Parser::and_chain)
    }
    fn and_chain(&mut self) -> PResult<Expr> {
        let mut e = self.not_test()?;
        while self.is_kw("and") {
            self.link()?;
            let line = self.line();
            self.pos += 1;
            let r = self.not_test()?;
            e = Expr {
                kind: ExprKind::And(Box::new(e), Box::new(r)),
                line,
            };
        }
        Ok(e)
    }
    fn not_test(&mut self) -> PResult<Expr> {
        if self.is_kw("not") {
            let line = self.line();
            self.pos += 1;
            let e = self.nested("'not' operators", Parser::not_test)?;
            return Ok(Expr {
                kind: ExprKind::Unary(UnOp::Not, Box::new(e)),
                line,
            });
        }
        self.comparison()
    }
    fn comparison(&mut self) -> PResult<Expr> {
        let line = self.line();
        let first = self.bitor()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Op("<") => CmpOp::Lt,
                Tok::Op("<=") => CmpOp::Le,
                Tok::Op(">") => CmpOp::Gt,
                Tok::Op(">=") => CmpOp::Ge,
                Tok::Op("==") => CmpOp::Eq,
                Tok::Op("!=") => CmpOp::Ne,
                Tok::Name(n) if n == "in" => CmpOp::In,
                Tok::Name(n) if n == "is" => {
                    if matches!(self.peek_at(1), Tok::Name(m) if m == "not") {
                        self.pos += 1;
                        CmpOp::IsNot
                    } else {
                        CmpOp::Is
                    }
                }
                Tok::Name(n) if n == "not" && matches!(self.peek_at(1), Tok::Name(m) if m == "in") => {
                    self.pos += 1;
                    CmpOp::NotIn
                }
                _ => break,
            };
            self.pos += 1;
            rest.push((op, self.bitor()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr {
                kind: ExprKind::Compare(Box::new(first), rest),
                line,
            })
        }
    }

    fn binary_level(&mut self, ops: &[(&str, BinOp)], next: fn(&mut Parser) -> PResult<Expr>) -> PResult<Expr> {
        self.chain(|p| p.binary_chain(ops, next))
    }
    fn binary_chain(&mut self, ops: &[(&str, BinOp)], next: fn(&mut Parser) -> PResult<Expr>) -> PResult<Expr> {
        let mut e = next(self)?;
        'outer: loop {
            if self.is_op("@") {
                return Err(CompileError::unsupported(self.line(), "matrix multiplication '@'"));
            }
            for (s, op) in ops {
                if self.is_op(s) {
                    self.link()?;
                    let line = self.line();
                    self.pos += 1;
                    let r = next(self)?;
                    e = Expr {
                        kind: ExprKind::Bin(*op, Box::new(e), Box::new(r)),
                        line,
                    };
                    continue 'outer;
                }
            }
            return Ok(e);
        }
    }
    pub(crate) fn bitor(&mut self) -> PResult<Expr> {
        self.binary_level(&[("|", BinOp::BitOr)], Parser::bitxor)
    }
    fn bitxor(&mut self) -> PResult<Expr> {
        self.binary_level(&[("^", BinOp::BitXor)], Parser::bitand)
    }
    fn bitand(&mut self) -> PResult<Expr> {
        self.binary_level(&[("&", BinOp::BitAnd)], Parser::shift)
    }
    fn shift(&mut self) -> PResult<Expr> {
        self.binary_level(&[("<<", BinOp::LShift), (">>", BinOp::RShift)], Parser::arith)
    }
    fn arith(&mut self) -> PResult<Expr> {
        self.binary_level(&[("+", BinOp::Add), ("-", BinOp::Sub)], Parser::term)
    }
    fn term(&mut self) -> PResult<Expr> {
        if self.is_op("@") {
            return Err(CompileError::unsupported(self.line(), "matrix multiplication '@'"));
        }
        self.binary_level(
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
            ],
            Parser::factor,
        )
    }
    fn factor(&mut self) -> PResult<Expr> {
        let line = self.line();
        let op = match self.peek() {
            Tok::Op("-") => UnOp::Neg,
            Tok::Op("+") => UnOp::Pos,
            Tok::Op("~") => UnOp::Invert,
            _ => return self.power(),
        };
        self.pos += 1;
        if op == UnOp::Neg && self.at_min_int_magnitude() {
            self.pos += 1;
            return Ok(Expr {
                kind: ExprKind::Int(i64::MIN),
                line,
            });
        }
        let e = self.nested("unary operators ('-', '+', '~')", Parser::factor)?;
        // Fold negative literals so `-5` and `-1.5` are constants. `-i64::MIN` does not
        // fit: it stays an operation and raises OverflowError when it runs.
        if op == UnOp::Neg {
            match e.kind {
                ExprKind::Int(i) if i != i64::MIN => {
                    return Ok(Expr {
                        kind: ExprKind::Int(-i),
                        line,
                    })
                }
                ExprKind::Float(f) => {
                    return Ok(Expr {
                        kind: ExprKind::Float(-f),
                        line,
                    })
                }
                _ => {}
            }
        }
        Ok(Expr {
            kind: ExprKind::Unary(op, Box::new(e)),
            line,
        })
    }
    /// Whether the next token is the literal `9223372036854775808` (2**63) standing
    /// alone, so that the `-` before it makes `i64::MIN`. Followed by `**`, `.`, `(` or
    /// `[` it is an operand of those first, and too large (as it is everywhere else).
    fn at_min_int_magnitude(&self) -> bool {
        *self.peek() == Tok::Int(1 << 63) && !matches!(self.peek_at(1), Tok::Op("**" | "." | "(" | "["))
    }

    fn power(&mut self) -> PResult<Expr> {
        let line = self.line();
        if self.is_kw("await") {
            return Err(CompileError::unsupported(line, "'await'"));
        }
        let e = self.primary()?;
        if self.eat_op("**") {
            let r = self.nested("'**' operators", Parser::factor)?;
            return Ok(Expr {
                kind: ExprKind::Bin(BinOp::Pow, Box::new(e), Box::new(r)),
                line,
            });
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.chain(Parser::primary_chain)
    }
    fn primary_chain(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            if matches!(self.peek(), Tok::Op("." | "(" | "[")) {
                self.link()?;
            }
            let line = self.line();
            if self.eat_op(".") {
                let n = self.name()?;
                e = Expr {
                    kind: ExprKind::Attr(Box::new(e), n),
                    line,
                };
            } else if self.is_op("(") {
                self.check_nesting("calls")?;
                self.pos += 1;
                e = self.call_args(e, line)?;
            } else if self.is_op("[") {
                self.check_nesting("subscripts")?;
                self.pos += 1;
                e = self.subscript(e, line)?;
            } else {
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self, func: Expr, line: u32) -> PResult<Expr> {
        let mut args = Vec::new();
        let mut star = None;
        let mut kwargs: Vec<(String, Expr)> = Vec::new();
        while !self.is_op(")") {
            if self.eat_op("**") {
                return Err(CompileError::unsupported(line, "'**kwargs' in calls"));
            }
            if self.eat_op("*") {
                if star.is_some() {
                    return Err(CompileError::unsupported(line, "more than one '*args' in a call"));
                }
                star = Some(Box::new(self.test()?));
            } else if matches!(self.peek(), Tok::Name(_)) && self.peek_at(1) == &Tok::Op("=") {
                let n = self.name()?;
                self.pos += 1;
                if kwargs.iter().any(|(k, _)| *k == n) {
                    return self.err(format!("SyntaxError: keyword argument repeated: {}", n));
                }
                kwargs.push((n, self.test()?));
            } else {
                if star.is_some() {
                    return Err(CompileError::unsupported(line, "positional arguments after '*args'"));
                }
                if !kwargs.is_empty() {
                    return self.err("SyntaxError: positional argument follows keyword argument");
                }
                let a = self.test()?;
                if self.is_kw("for") {
                    return Err(CompileError::unsupported(line, "generator expressions"));
                }
                args.push(a);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok(Expr {
            kind: ExprKind::Call {
                func: Box::new(func),
                args,
                star,
                kwargs,
            },
            line,
        })
    }

    fn subscript(&mut self, obj: Expr, line: u32) -> PResult<Expr> {
        let lo = if self.is_op(":") {
            None
        } else {
            Some(Box::new(self.test()?))
        };
        if self.eat_op(":") {
            let hi = if self.is_op("]") || self.is_op(":") {
                None
            } else {
                Some(Box::new(self.test()?))
            };
            if self.is_op(":") {
                return Err(CompileError::unsupported(line, "slices with a step"));
            }
            self.expect_op("]")?;
            return Ok(Expr {
                kind: ExprKind::Slice(Box::new(obj), lo, hi),
                line,
            });
        }
        let mut idx = *lo.unwrap();
        if self.is_op(",") {
            let mut items = vec![idx];
            while self.eat_op(",") {
                if self.is_op("]") {
                    break;
                }
                items.push(self.test()?);
            }
            idx = Expr {
                kind: ExprKind::Tuple(items),
                line,
            };
        }
        self.expect_op("]")?;
        Ok(Expr {
            kind: ExprKind::Subscript(Box::new(obj), Box::new(idx)),
            line,
        })
    }

    fn atom(&mut self) -> PResult<Expr> {
        let line = self.line();
        let tok = self.next();
        let kind = match tok {
            Tok::Int(i) => match i64::try_from(i) {
                Ok(i) => ExprKind::Int(i),
                Err(_) => return Err(CompileError::new(line, INT_TOO_LARGE)),
            },
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Str(_) | Tok::FStr(_) | Tok::Bytes(_) => {
                self.pos -= 1;
                return self.strings();
            }
            Tok::Name(n) => match n.as_str() {
                "True" => ExprKind::Bool(true),
                "False" => ExprKind::Bool(false),
                "None" => ExprKind::NoneLit,
                "lambda" => return Err(CompileError::unsupported(line, "'lambda' expressions")),
                "yield" => return self.err("SyntaxError: 'yield' must be parenthesized here"),
                _ if KEYWORDS.contains(&n.as_str()) => {
                    self.pos -= 1;
                    return self.unexpected();
                }
                _ => ExprKind::Name(n),
            },
            Tok::Op("(") => {
                self.check_nesting("parentheses")?;
                if self.eat_op(")") {
                    return Ok(Expr {
                        kind: ExprKind::Tuple(Vec::new()),
                        line,
                    });
                }
                if self.is_kw("yield") {
                    let y = self.yield_expr()?;
                    self.expect_op(")")?;
                    return Ok(y);
                }
                let first = self.test()?;
                if self.is_kw("for") {
                    return Err(CompileError::unsupported(line, "generator expressions"));
                }
                if self.eat_op(")") {
                    return Ok(first);
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.is_op(")") {
                        break;
                    }
                    items.push(self.test()?);
                }
                self.expect_op(")")?;
                ExprKind::Tuple(items)
            }
            Tok::Op("[") => {
                self.check_nesting("lists ('[')")?;
                let mut items = Vec::new();
                if !self.is_op("]") {
                    let first = self.test()?;
                    if self.is_kw("for") {
                        return self.list_comp(first, line);
                    }
                    items.push(first);
                    while self.eat_op(",") {
                        if self.is_op("]") {
                            break;
                        }
                        items.push(self.test()?);
                    }
                }
                self.expect_op("]")?;
                ExprKind::List(items)
            }
            Tok::Op("{") => return Err(CompileError::unsupported(line, "dict and set displays")),
            Tok::Op("...") => return Err(CompileError::unsupported(line, "Ellipsis '...'")),
            _ => {
                self.pos -= 1;
                return self.unexpected();
            }
        };
        Ok(Expr { kind, line })
    }

    fn list_comp(&mut self, elt: Expr, line: u32) -> PResult<Expr> {
        self.expect_kw("for")?;
        let target = self.target_list()?;
        self.expect_kw("in")?;
        let iter = self.or_test()?;
        let mut conds = Vec::new();
        while self.eat_kw("if") {
            conds.push(self.or_test()?);
        }
        if self.is_kw("for") {
            return Err(CompileError::unsupported(
                line,
                "list comprehensions with several 'for' clauses",
            ));
        }
        self.expect_op("]")?;
        Ok(Expr {
            kind: ExprKind::ListComp {
                elt: Box::new(elt),
                target: Box::new(target),
                iter: Box::new(iter),
                conds,
            },
            line,
        })
    }

    /// Adjacent string literals, concatenated (f-strings become one JoinedStr).
    fn strings(&mut self) -> PResult<Expr> {
        let line = self.line();
        let mut parts: Vec<FPart> = Vec::new();
        let mut bytes: Option<Vec<u8>> = None;
        let mut any_f = false;
        let mut n = 0;
        loop {
            match self.peek().clone() {
                Tok::Str(s) => push_lit(&mut parts, &s),
                Tok::FStr(s) => {
                    any_f = true;
                    let l = self.line();
                    self.fstring_parts(&s, l, &mut parts)?;
                }
                Tok::Bytes(b) => {
                    if n > 0 && bytes.is_none() {
                        return self.err("SyntaxError: cannot mix bytes and nonbytes literals");
                    }
                    bytes.get_or_insert_with(Vec::new).extend_from_slice(&b);
                }
                _ => break,
            }
            if bytes.is_some() && !parts.is_empty() {
                return self.err("SyntaxError: cannot mix bytes and nonbytes literals");
            }
            self.pos += 1;
            n += 1;
        }
        if let Some(b) = bytes {
            return Ok(Expr {
                kind: ExprKind::Bytes(b),
                line,
            });
        }
        if !any_f {
            let s = match parts.pop() {
                Some(FPart::Lit(s)) => s,
                _ => String::new(),
            };
            return Ok(Expr {
                kind: ExprKind::Str(s),
                line,
            });
        }
        Ok(Expr {
            kind: ExprKind::FString(parts),
            line,
        })
    }

    fn fstring_parts(&self, s: &str, line: u32, parts: &mut Vec<FPart>) -> PResult<()> {
        let chars: Vec<char> = s.chars().collect();
        let mut lit = String::new();
        let mut i = 0;
        let ferr = |m: &str| Err(CompileError::new(line, format!("SyntaxError: f-string: {}", m)));
        while i < chars.len() {
            let c = chars[i];
            if c == '{' && chars.get(i + 1) == Some(&'{') {
                lit.push('{');
                i += 2;
                continue;
            }
            if c == '}' {
                if chars.get(i + 1) == Some(&'}') {
                    lit.push('}');
                    i += 2;
                    continue;
                }
                return ferr("single '}' is not allowed");
            }
            if c != '{' {
                lit.push(c);
                i += 1;
                continue;
            }
            // Find the end of the expression part.
            i += 1;
            let start = i;
            let mut depth = 0;
            let mut quote: Option<char> = None;
            let mut conv_at = None;
            let mut spec_at = None;
            while i < chars.len() {
                let ch = chars[i];
                if let Some(q) = quote {
                    if ch == q {
                        quote = None;
                    }
                } else if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                } else if "([{".contains(ch) {
                    depth += 1;
                } else if ")]".contains(ch) || (ch == '}' && depth > 0) {
                    depth -= 1;
                } else if depth == 0 && ch == '}' {
                    break;
                } else if depth == 0 && ch == '!' && chars.get(i + 1) != Some(&'=') && conv_at.is_none() {
                    conv_at = Some(i);
                } else if depth == 0 && ch == ':' {
                    spec_at = Some(i);
                    break;
                }
                i += 1;
            }
            let expr_end = conv_at.or(spec_at).unwrap_or(i);
            let expr_text: String = chars[start..expr_end].iter().collect();
            let mut conv = None;
            if let Some(c) = conv_at {
                let end = spec_at.unwrap_or(i);
                let ct: String = chars[c + 1..end].iter().collect();
                match ct.as_str() {
                    "r" | "s" => conv = ct.chars().next(),
                    "a" => return Err(CompileError::unsupported(line, "f-string conversion '!a'")),
                    _ => return ferr("invalid conversion character"),
                }
            }
            let mut spec = None;
            if let Some(sp) = spec_at {
                let mut j = sp + 1;
                while j < chars.len() && chars[j] != '}' {
                    if chars[j] == '{' {
                        return Err(CompileError::unsupported(
                            line,
                            "nested replacement fields in f-string format specs",
                        ));
                    }
                    j += 1;
                }
                spec = Some(chars[sp + 1..j].iter().collect::<String>());
                i = j;
            }
            if i >= chars.len() {
                return ferr("expecting '}'");
            }
            i += 1;
            if expr_text.trim().is_empty() {
                return ferr("empty expression not allowed");
            }
            if expr_text.trim_end().ends_with('=') && !expr_text.trim_end().ends_with("==") {
                return Err(CompileError::unsupported(line, "f-string '=' specifier"));
            }
            let toks = tokenize(expr_text.trim())?;
            let mut sub = Parser {
                toks,
                pos: 0,
                line_offset: line - 1,
                depth: self.depth,
                tree_depth: self.tree_depth,
            };
            let e = sub.testlist()?;
            if !matches!(sub.peek(), Tok::Newline | Tok::Eof) {
                return ferr("invalid expression");
            }
            if !lit.is_empty() {
                push_lit(parts, &std::mem::take(&mut lit));
            }
            parts.push(FPart::Expr(e, conv, spec));
        }
        if !lit.is_empty() {
            push_lit(parts, &lit);
        }
        Ok(())
    }
}
