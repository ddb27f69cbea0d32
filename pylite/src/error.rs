//! # Errors
//!
//! Two worlds meet here. *Compile errors* ([`CompileError`]) are plain Rust values
//! with a line: syntax errors and every construct outside the subset, reported as
//! `file:line: message` before anything runs. *Runtime errors* are Python
//! exception instances (`Value`s of a class flagged `CLASS_EXCEPTION`) that travel
//! through `PyResult::Err` and the interpreter's unwinder; the built-in exception
//! classes and their hierarchy are listed in [`ExcType`]. Whatever escapes the
//! program becomes a [`PyliteError::Runtime`] with a Python-style traceback.

use std::fmt;

/// A compile-time (syntax or unsupported-construct) error.
#[derive(Debug, Clone)]
pub struct CompileError {
    /// 1-based source line.
    pub line: u32,
    /// What went wrong.
    pub msg: String,
}

impl CompileError {
    /// A new error at `line`.
    pub fn new(line: u32, msg: impl Into<String>) -> Self {
        CompileError { line, msg: msg.into() }
    }
    /// An "unsupported construct" error.
    pub fn unsupported(line: u32, what: &str) -> Self {
        CompileError {
            line,
            msg: format!("unsupported construct: {} (outside the pylite subset)", what),
        }
    }
}

/// An error returned by [`crate::Vm::run_source`] and friends.
#[derive(Debug, Clone)]
pub enum PyliteError {
    /// The program did not compile.
    Compile { file: String, line: u32, msg: String },
    /// An exception escaped the program.
    Runtime {
        /// The exception class name, e.g. `ZeroDivisionError`.
        exc_type: String,
        /// `ExcType: message` as the last traceback line shows it.
        message: String,
        /// Line of the innermost frame.
        line: u32,
        /// The full Python-style traceback text.
        traceback: String,
    },
    /// `sys.exit(code)`.
    Exit(i32),
    /// The file could not be read.
    Io(String),
}

impl PyliteError {
    /// The line the error points at (0 when not applicable).
    pub fn line(&self) -> u32 {
        match self {
            PyliteError::Compile { line, .. } | PyliteError::Runtime { line, .. } => *line,
            _ => 0,
        }
    }
    /// The one-line message (`SyntaxError: ...` / `ZeroDivisionError: ...`).
    pub fn message(&self) -> String {
        match self {
            PyliteError::Compile { msg, .. } => msg.clone(),
            PyliteError::Runtime { message, .. } => message.clone(),
            PyliteError::Exit(c) => format!("exit {}", c),
            PyliteError::Io(m) => m.clone(),
        }
    }
}

impl fmt::Display for PyliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PyliteError::Compile { file, line, msg } => write!(f, "{}:{}: {}", file, line, msg),
            PyliteError::Runtime { traceback, .. } => write!(f, "{}", traceback.trim_end()),
            PyliteError::Exit(c) => write!(f, "exit status {}", c),
            PyliteError::Io(m) => write!(f, "pylite: {}", m),
        }
    }
}

impl std::error::Error for PyliteError {}

macro_rules! exc_types {
    ($($name:ident : $parent:ident = $text:expr,)*) => {
        /// The built-in exception classes (created once per VM).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum ExcType { $($name,)* }
        impl ExcType {
            /// All built-in exception types, parents before children.
            pub const ALL: &'static [ExcType] = &[$(ExcType::$name,)*];
            /// The parent type (BaseException is its own parent).
            pub fn parent(self) -> ExcType { match self { $(ExcType::$name => ExcType::$parent,)* } }
            /// The Python name.
            pub fn name(self) -> &'static str { match self { $(ExcType::$name => $text,)* } }
        }
    };
}

exc_types! {
    BaseException: BaseException = "BaseException",
    Exception: BaseException = "Exception",
    SystemExit: BaseException = "SystemExit",
    ArithmeticError: Exception = "ArithmeticError",
    ZeroDivisionError: ArithmeticError = "ZeroDivisionError",
    OverflowError: ArithmeticError = "OverflowError",
    LookupError: Exception = "LookupError",
    IndexError: LookupError = "IndexError",
    KeyError: LookupError = "KeyError",
    TypeError: Exception = "TypeError",
    ValueError: Exception = "ValueError",
    AttributeError: Exception = "AttributeError",
    NameError: Exception = "NameError",
    UnboundLocalError: NameError = "UnboundLocalError",
    StopIteration: Exception = "StopIteration",
    RuntimeError: Exception = "RuntimeError",
    RecursionError: RuntimeError = "RecursionError",
    NotImplementedError: RuntimeError = "NotImplementedError",
    ImportError: Exception = "ImportError",
    ModuleNotFoundError: ImportError = "ModuleNotFoundError",
    AssertionError: Exception = "AssertionError",
    OSError: Exception = "OSError",
    FileNotFoundError: OSError = "FileNotFoundError",
    StructError: Exception = "error",
}
