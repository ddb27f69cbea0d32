//! # Lexer: source text to tokens, with Python's layout rule
//!
//! Produces a flat token vector. Indentation is turned into explicit `Indent` /
//! `Dedent` tokens using a stack of column widths; a `Newline` ends each logical
//! line. Inside brackets, newlines and indentation are ignored (implicit line
//! joining), and a backslash at the end of a line joins it with the next.
//! Blank and comment-only lines produce nothing.
//!
//! String literals are decoded here (escapes, raw, bytes, triple quotes).
//! f-strings are kept as their decoded body (`FStr`); the parser splits the
//! `{...}` parts and parses each expression by re-lexing it.
//! Every token carries its 1-based source line for error messages.

use crate::error::CompileError;

/// Levels of indentation, the unindented one included (CPython's limit too: 99 blocks
/// inside one another). The parser and the compiler recurse once per block, so this
/// bounds their Rust stack.
const MAX_INDENT_LEVELS: usize = 100;

/// The error for an integer literal pylite's 64-bit ints cannot hold.
pub(crate) const INT_TOO_LARGE: &str = "integer literal too large (pylite ints are 64-bit)";

/// A token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name(String),
    /// An integer literal's value. Up to `u64::MAX`: `9223372036854775808` (2**63)
    /// does not fit pylite's i64 ints, but `-9223372036854775808` does, so the parser
    /// decides (a literal above `i64::MAX` is valid only right after a unary minus).
    Int(u64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    FStr(String),
    /// An operator or delimiter, e.g. `"+="` or `"("`.
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

/// A token with its line.
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", ":=", "@=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">", "(", ")", "[", "]", "{",
    "}", ",", ":", ".", ";", "=", "@",
];

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    toks: Vec<Token>,
    indents: Vec<usize>,
    depth: usize,
}

/// Tokenizes a whole source file.
pub fn tokenize(src: &str) -> Result<Vec<Token>, CompileError> {
    let mut lx = Lexer {
        src: src.as_bytes(),
        pos: 0,
        line: 1,
        toks: Vec::new(),
        indents: vec![0],
        depth: 0,
    };
    lx.run()?;
    Ok(lx.toks)
}

fn err<T>(line: u32, msg: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError::new(line, msg))
}

impl<'a> Lexer<'a> {
    fn peek(&self, k: usize) -> u8 {
        *self.src.get(self.pos + k).unwrap_or(&0)
    }
    fn push(&mut self, tok: Tok) {
        self.toks.push(Token { tok, line: self.line });
    }

    fn run(&mut self) -> Result<(), CompileError> {
        let mut at_line_start = true;
        while self.pos < self.src.len() {
            if at_line_start && self.depth == 0 {
                at_line_start = false;
                if self.indentation()? {
                    continue;
                }
            }
            let c = self.peek(0);
            match c {
                b'\n' => {
                    self.pos += 1;
                    if self.depth == 0 && !matches!(self.toks.last().map(|t| &t.tok), Some(Tok::Newline) | None) {
                        self.push(Tok::Newline);
                    }
                    self.line += 1;
                    at_line_start = true;
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'#' => {
                    while self.pos < self.src.len() && self.peek(0) != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\\' if self.peek(1) == b'\n' || (self.peek(1) == b'\r' && self.peek(2) == b'\n') => {
                    self.pos += if self.peek(1) == b'\r' { 3 } else { 2 };
                    self.line += 1;
                }
                b'0'..=b'9' => self.number()?,
                b'.' if self.peek(1).is_ascii_digit() => self.number()?,
                c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => self.name_or_string()?,
                b'\'' | b'"' => self.string(false, false, false)?,
                _ => self.operator()?,
            }
        }
        if !matches!(self.toks.last().map(|t| &t.tok), Some(Tok::Newline) | None) {
            self.push(Tok::Newline);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(Tok::Dedent);
        }
        self.push(Tok::Eof);
        Ok(())
    }

    /// Handles leading whitespace; returns true if the line was blank/comment.
    fn indentation(&mut self) -> Result<bool, CompileError> {
        let mut col = 0usize;
        let mut p = self.pos;
        loop {
            match self.src.get(p) {
                Some(b' ') => col += 1,
                Some(b'\t') => col = (col / 8 + 1) * 8,
                Some(b'\x0c') | Some(b'\r') => {}
                _ => break,
            }
            p += 1;
        }
        match self.src.get(p) {
            None | Some(b'\n') | Some(b'#') => {
                self.pos = p;
                return Ok(true);
            }
            _ => {}
        }
        self.pos = p;
        let cur = *self.indents.last().unwrap();
        if col > cur {
            if self.indents.len() >= MAX_INDENT_LEVELS {
                return err(self.line, "IndentationError: too many levels of indentation");
            }
            self.indents.push(col);
            self.push(Tok::Indent);
        } else {
            while col < *self.indents.last().unwrap() {
                self.indents.pop();
                self.push(Tok::Dedent);
            }
            if col != *self.indents.last().unwrap() {
                return err(
                    self.line,
                    "IndentationError: unindent does not match any outer indentation level",
                );
            }
        }
        Ok(false)
    }

    fn number(&mut self) -> Result<(), CompileError> {
        let start = self.pos;
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X' | b'o' | b'O' | b'b' | b'B') {
            let radix = match self.peek(1) {
                b'x' | b'X' => 16,
                b'o' | b'O' => 8,
                _ => 2,
            };
            self.pos += 2;
            while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'_' {
                self.pos += 1;
            }
            let text: String = std::str::from_utf8(&self.src[start + 2..self.pos])
                .unwrap()
                .replace('_', "");
            return match u64::from_str_radix(&text, radix) {
                Ok(v) => {
                    self.push(Tok::Int(v));
                    Ok(())
                }
                Err(_) => err(
                    self.line,
                    "invalid or too large integer literal (pylite ints are 64-bit)",
                ),
            };
        }
        let mut is_float = false;
        while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
            self.pos += 1;
        }
        if self.peek(0) == b'.' {
            is_float = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), b'e' | b'E')
            && (self.peek(1).is_ascii_digit() || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()))
        {
            is_float = true;
            self.pos += 2;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), b'j' | b'J') {
            return err(self.line, "unsupported: complex numbers");
        }
        let text: String = std::str::from_utf8(&self.src[start..self.pos])
            .unwrap()
            .replace('_', "");
        if is_float {
            match text.parse::<f64>() {
                Ok(f) => self.push(Tok::Float(f)),
                Err(_) => return err(self.line, format!("invalid float literal '{}'", text)),
            }
        } else {
            if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
                return err(self.line, "invalid decimal literal with leading zeros");
            }
            match text.parse::<u64>() {
                Ok(v) => self.push(Tok::Int(v)),
                Err(_) => return err(self.line, INT_TOO_LARGE),
            }
        }
        Ok(())
    }

    fn name_or_string(&mut self) -> Result<(), CompileError> {
        let start = self.pos;
        while self.peek(0) == b'_' || self.peek(0).is_ascii_alphanumeric() || self.peek(0) >= 0x80 {
            self.pos += 1;
        }
        let word = std::str::from_utf8(&self.src[start..self.pos])
            .map_err(|_| CompileError::new(self.line, "invalid UTF-8 in identifier"))?
            .to_string();
        if matches!(self.peek(0), b'\'' | b'"') && word.len() <= 2 {
            let lw = word.to_ascii_lowercase();
            if lw.chars().all(|c| matches!(c, 'r' | 'b' | 'f')) {
                let raw = lw.contains('r');
                let bytes = lw.contains('b');
                let f = lw.contains('f');
                if bytes && f {
                    return err(self.line, "invalid string prefix");
                }
                return self.string(raw, bytes, f);
            }
            if lw == "u" {
                return self.string(false, false, false);
            }
        }
        self.push(Tok::Name(word));
        Ok(())
    }

    fn string(&mut self, raw: bool, bytes: bool, fstr: bool) -> Result<(), CompileError> {
        let q = self.peek(0);
        let triple = self.peek(1) == q && self.peek(2) == q;
        let start_line = self.line;
        self.pos += if triple { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        loop {
            if self.pos >= self.src.len() {
                return err(start_line, "unterminated string literal");
            }
            let c = self.peek(0);
            if c == q && (!triple || (self.peek(1) == q && self.peek(2) == q)) {
                self.pos += if triple { 3 } else { 1 };
                break;
            }
            if c == b'\n' {
                if !triple {
                    return err(start_line, "unterminated string literal");
                }
                self.line += 1;
            }
            if c == b'\\' {
                let n = self.peek(1);
                if raw {
                    out.push(b'\\');
                    if n == q || n == b'\\' {
                        out.push(n);
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                    }
                    continue;
                }
                self.pos += 2;
                match n {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'0' => out.push(0),
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'v' => out.push(11),
                    b'\\' => out.push(b'\\'),
                    b'\'' => out.push(b'\''),
                    b'"' => out.push(b'"'),
                    b'\n' => self.line += 1,
                    b'x' => {
                        let h = std::str::from_utf8(self.src.get(self.pos..self.pos + 2).unwrap_or(b""))
                            .ok()
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        let Some(v) = h else {
                            return err(self.line, "invalid \\x escape");
                        };
                        self.pos += 2;
                        if bytes {
                            out.push(v);
                        } else {
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(char::from(v).encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    b'u' if !bytes => {
                        let h = std::str::from_utf8(self.src.get(self.pos..self.pos + 4).unwrap_or(b""))
                            .ok()
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .and_then(char::from_u32);
                        let Some(ch) = h else {
                            return err(self.line, "invalid \\u escape");
                        };
                        self.pos += 4;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => {
                        out.push(b'\\');
                        self.pos -= 1;
                    }
                }
                continue;
            }
            if bytes && c >= 0x80 {
                return err(self.line, "bytes can only contain ASCII literal characters");
            }
            out.push(c);
            self.pos += 1;
        }
        let line = self.line;
        self.line = start_line;
        if bytes {
            self.push(Tok::Bytes(out));
        } else {
            let s = String::from_utf8(out).map_err(|_| CompileError::new(start_line, "invalid UTF-8 in string"))?;
            self.push(if fstr { Tok::FStr(s) } else { Tok::Str(s) });
        }
        self.line = line;
        Ok(())
    }

    fn operator(&mut self) -> Result<(), CompileError> {
        for op in OPS {
            if self.src[self.pos..].starts_with(op.as_bytes()) {
                self.pos += op.len();
                match *op {
                    "(" | "[" | "{" => self.depth += 1,
                    ")" | "]" | "}" => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
                self.push(Tok::Op(op));
                return Ok(());
            }
        }
        let ch = std::str::from_utf8(&self.src[self.pos..])
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or('?');
        err(self.line, format!("invalid character '{}' in source", ch))
    }
}
