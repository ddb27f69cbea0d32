//! The lexer: text → tokens with line/column positions.
//!
//! The format is free-form (newlines are plain white space; every statement is
//! delimited by its own syntax), so the lexer is small: identifiers, numbers,
//! punctuation, and `;` comments to end of line.

use super::{ParseError, ParseErrorKind, Pos};

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*`
    Ident(String),
    /// An integer literal (decimal or `0x` hex, optionally negative), kept as text so
    /// the parser can range-check it for the type it needs.
    Int(String),
    /// A float literal (has `.` or an exponent, or is `inf`/`-inf`).
    Float(f64),
    /// One of `( ) [ ] { } , : = @ & .` or `->`.
    Punct(&'static str),
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(s) => format!("number `{s}`"),
            Tok::Float(f) => format!("number `{f:?}`"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "end of input".to_string(),
        }
    }
}

/// Splits `src` into tokens, each with the position of its first character.
pub fn lex(src: &str) -> Result<Vec<(Tok, Pos)>, ParseError> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, col };
        let start = i;
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            col += 1;
            continue;
        }
        if c == ';' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word == "inf" {
                Tok::Float(f64::INFINITY)
            } else {
                Tok::Ident(word)
            }
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit() || *d == 'i'))
        {
            lex_number(&chars, &mut i, pos)?
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if two == "->" {
                i += 2;
                Tok::Punct("->")
            } else {
                let p = match c {
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    '{' => "{",
                    '}' => "}",
                    ',' => ",",
                    ':' => ":",
                    '=' => "=",
                    '@' => "@",
                    '&' => "&",
                    '.' => ".",
                    _ => {
                        return Err(ParseError::new(
                            ParseErrorKind::BadCharacter,
                            pos,
                            format!("unexpected character {c:?}"),
                        ))
                    }
                };
                i += 1;
                Tok::Punct(p)
            }
        };
        col += (i - start) as u32;
        out.push((tok, pos));
    }
    out.push((Tok::Eof, Pos { line, col }));
    Ok(out)
}

fn lex_number(chars: &[char], i: &mut usize, pos: Pos) -> Result<Tok, ParseError> {
    let start = *i;
    if chars[*i] == '-' {
        *i += 1;
    }
    // `-inf`
    if chars[*i..].starts_with(&['i', 'n', 'f']) {
        *i += 3;
        return Ok(Tok::Float(f64::NEG_INFINITY));
    }
    let digits_start = *i;
    let is_hex = chars[*i] == '0' && chars.get(*i + 1).is_some_and(|c| *c == 'x' || *c == 'X');
    if is_hex {
        *i += 2;
        while *i < chars.len() && chars[*i].is_ascii_hexdigit() {
            *i += 1;
        }
        if *i == digits_start + 2 {
            return Err(ParseError::new(
                ParseErrorKind::BadLiteral,
                pos,
                "hex literal without digits",
            ));
        }
        return Ok(Tok::Int(chars[start..*i].iter().collect()));
    }
    let mut is_float = false;
    while *i < chars.len() {
        let c = chars[*i];
        if c.is_ascii_digit() {
            *i += 1;
        } else if c == '.' && chars.get(*i + 1).is_some_and(|d| d.is_ascii_digit()) {
            is_float = true;
            *i += 1;
        } else if (c == 'e' || c == 'E') && !is_hex {
            is_float = true;
            *i += 1;
            if *i < chars.len() && (chars[*i] == '-' || chars[*i] == '+') {
                *i += 1;
            }
        } else {
            break;
        }
    }
    let text: String = chars[start..*i].iter().collect();
    if is_float {
        text.parse::<f64>()
            .map(Tok::Float)
            .map_err(|_| ParseError::new(ParseErrorKind::BadLiteral, pos, format!("bad float literal `{text}`")))
    } else {
        Ok(Tok::Int(text))
    }
}
