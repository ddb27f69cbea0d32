//! The text format: a printer and a parser that round-trip exactly.
//!
//! The grammar is documented with examples in `docs/ir.md`. In short:
//!
//! ```text
//! trace pi                                  ; header: a name
//! layout Point size 24 class 0x51           ; descriptors, each declared before use
//! field Point.x: f64 @8
//! call sqrt(f64) -> f64 effects(pure)
//! frame main code 0x1 slots 2
//!
//! block0(v0: i64, v1: f64):                 ; blocks in order, params typed
//!     v2 = const 1
//!     v3 = iadd_ovf v0, v2
//!     guard_no_overflow v3 [main@4(v0, v1)]
//!     jump block0(v3, v1)
//! ```
//!
//! Parsing is two-level: [`lexer`] makes tokens with positions, [`parse`](parse::parse)
//! builds the [`Trace`](crate::Trace) and a [`SourceMap`] so that later errors (the
//! verifier's) can point at a line and column too. Errors are [`ParseError`]s with a
//! [`ParseErrorKind`] and a position; the parser never panics.

pub mod lexer;
pub mod parse;
pub mod print;

use crate::entity::Block;
use std::fmt;

/// A 1-based line and column.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// What went wrong while parsing.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// A character that starts no token.
    BadCharacter,
    /// A malformed or out-of-range literal.
    BadLiteral,
    /// A token that does not fit the grammar here.
    UnexpectedToken,
    /// An op mnemonic that does not exist.
    UnknownOp,
    /// A type name that does not exist.
    UnknownType,
    /// A descriptor, block or frame name that was not declared.
    UnknownName,
    /// A descriptor declared twice.
    DuplicateName,
    /// A value used but never defined.
    UndefinedValue,
    /// A value defined twice.
    ValueRedefined,
    /// Blocks not named `block0`, `block1`, ... in order.
    BlockOrder,
    /// An op that produces a value written without `vN =`, or the reverse.
    ResultMismatch,
    /// Virtual objects not numbered `&0`, `&1`, ... in order.
    VirtualOrder,
}

/// A parse error with its position.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub pos: Pos,
    pub message: String,
}

impl ParseError {
    pub fn new(kind: ParseErrorKind, pos: Pos, message: impl Into<String>) -> ParseError {
        ParseError {
            kind,
            pos,
            message: message.into(),
        }
    }
}

/// Positions of the parsed pieces of a trace, for error messages after parsing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceMap {
    /// Position of each block header.
    pub blocks: Vec<Pos>,
    /// Position of each instruction, per block.
    pub insts: Vec<Vec<Pos>>,
    /// Position of each descriptor declaration, by kind and index.
    pub descrs: Vec<(crate::verify::DescrRef, Pos)>,
    /// The name each value id had in the source (`v20`), for messages.
    pub value_names: Vec<String>,
}

impl SourceMap {
    /// The position of an instruction, if known.
    pub fn inst(&self, block: Block, inst: usize) -> Option<Pos> {
        self.insts.get(block.index())?.get(inst).copied()
    }
    /// The position of a block header, if known.
    pub fn block(&self, block: Block) -> Option<Pos> {
        self.blocks.get(block.index()).copied()
    }
}
