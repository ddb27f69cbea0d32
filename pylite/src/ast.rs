//! # AST
//!
//! The parser's output: statements and expressions, each carrying the source line
//! used for error messages and the line table. It covers exactly the subset the
//! compiler accepts plus a few nodes (like `Lambda`) whose only purpose is to give
//! a precise "unsupported" error at compile time.

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    LShift,
    RShift,
    BitAnd,
    BitOr,
    BitXor,
}

impl BinOp {
    /// The operator's source spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Pos,
    Invert,
    Not,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Is,
    IsNot,
    In,
    NotIn,
}

/// One part of an f-string.
#[derive(Clone, Debug)]
pub enum FPart {
    Lit(String),
    /// `{expr!conv:spec}`
    Expr(Expr, Option<char>, Option<String>),
}

/// An expression with its line.
#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub line: u32,
}

/// Expression kinds.
#[derive(Clone, Debug)]
pub enum ExprKind {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Bool(bool),
    NoneLit,
    FString(Vec<FPart>),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        star: Option<Box<Expr>>,
        kwargs: Vec<(String, Expr)>,
    },
    Attr(Box<Expr>, String),
    Subscript(Box<Expr>, Box<Expr>),
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    Yield(Option<Box<Expr>>),
    /// `[elt for target in iter if cond...]` (single `for` clause).
    ListComp {
        elt: Box<Expr>,
        target: Box<Expr>,
        iter: Box<Expr>,
        conds: Vec<Expr>,
    },
    /// A construct outside the subset, kept so the compiler can name it.
    Unsupported(&'static str),
}

/// A function definition.
#[derive(Clone, Debug)]
pub struct FuncDef {
    pub name: String,
    pub params: Vec<String>,
    pub defaults: Vec<Expr>,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    pub line: u32,
}

/// A class definition.
#[derive(Clone, Debug)]
pub struct ClassDef {
    pub name: String,
    pub base: Option<Expr>,
    pub body: Vec<Stmt>,
    pub line: u32,
}

/// An `except` clause.
#[derive(Clone, Debug)]
pub struct Handler {
    pub ty: Option<Expr>,
    pub name: Option<String>,
    pub body: Vec<Stmt>,
    pub line: u32,
}

/// A statement with its line.
#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub line: u32,
}

/// Statement kinds.
#[derive(Clone, Debug)]
pub enum StmtKind {
    Expr(Expr),
    /// `t1 = t2 = value`
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, BinOp, Expr),
    Pass,
    Break,
    Continue,
    Return(Option<Expr>),
    Raise(Option<Expr>),
    Global(Vec<String>),
    Import(Vec<(String, Option<String>)>),
    ImportFrom(String, Vec<(String, Option<String>)>),
    Assert(Expr, Option<Expr>),
    If(Vec<(Expr, Vec<Stmt>)>, Option<Vec<Stmt>>),
    While(Expr, Vec<Stmt>, Option<Vec<Stmt>>),
    For(Expr, Expr, Vec<Stmt>, Option<Vec<Stmt>>),
    Def(Box<FuncDef>),
    Class(Box<ClassDef>),
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Option<Vec<Stmt>>,
        finally: Option<Vec<Stmt>>,
    },
    With(Expr, Option<Expr>, Vec<Stmt>),
}
