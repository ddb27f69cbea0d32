//! # pylite: a Python-subset bytecode VM
//!
//! pylite runs the subset of Python that the Leones JIT's benchmark programs use,
//! fast enough to be a fair baseline (the goal is CPython 3.11's speed), with an
//! object model a JIT can compile against. Pipeline:
//!
//! ```text
//! source --lexer--> tokens --parser--> AST --compiler--> register bytecode --interp--> results
//! ```
//!
//! Map of the crate (each module opens with its own essay):
//! * [`value`], [`object`], [`rawbuf`], [`gc`]: the 16-byte tagged `Value`, the
//!   `#[repr(C)]` heap layouts, and the non-moving mark & sweep collector.
//! * [`lexer`], [`parser`], [`ast`]: source to AST with line numbers.
//! * [`scope`], [`compiler`], `compile_expr`, [`bytecode`]: scope analysis,
//!   slot allocation and the register instruction set; [`liveness`]: which slots a
//!   code object may still read at each pc (what the JIT hands over).
//! * [`vm`], `interp`, `call`, `attr`, `ops`: the machine, its dispatch loop,
//!   calling convention, attribute inline caches and operator semantics.
//! * [`builtins`], [`modules`], [`structmod`], [`fileio`], [`format`]: the library.
//! * [`error`]: compile errors, exception types, the public error type.
//! * [`bench`]: `pylite bench`, the table of the talk's programs on the interpreter,
//!   the JIT, `python3` and `pypy3` (`make bench` writes `docs/benchmarks.md`).
//!
//! Library use:
//! ```no_run
//! let mut vm = pylite::Vm::new();
//! vm.run_source("print(1 + 2)", "<string>").unwrap();
//! ```

pub mod ast;
mod attr;
pub mod bench;
pub mod builtins;
pub mod bytecode;
mod call;
mod compile_def;
mod compile_expr;
mod compile_try;
pub mod compiler;
pub mod error;
pub mod fileio;
pub mod format;
pub mod gc;
mod interp;
pub mod jit;
pub mod lexer;
pub mod liveness;
pub mod modules;
mod nesting;
pub mod object;
mod ops;
mod parse_expr;
pub mod parser;
pub mod rawbuf;
pub mod scope;
pub mod structmod;
pub mod value;
pub mod vm;

pub use error::PyliteError;
pub use value::Value;
pub use vm::Vm;

/// Runs `src` with `argv` on the interpreter alone, capturing everything it prints. For tests.
pub fn run_capture(src: &str, file: &str, argv: &[&str]) -> (String, Result<(), PyliteError>) {
    let (out, result, _) = run_capture_with(src, file, argv, &jit::JitConfig::off());
    (out, result)
}

/// Runs `src` with `argv` using the JIT as `config` says, capturing everything it
/// prints; also returns what the JIT did. For tests and differential runs.
pub fn run_capture_with(
    src: &str,
    file: &str,
    argv: &[&str],
    config: &jit::JitConfig,
) -> (String, Result<(), PyliteError>, jit::JitReport) {
    use std::cell::RefCell;
    use std::rc::Rc;
    #[derive(Clone)]
    struct Shared(Rc<RefCell<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Shared(Rc::new(RefCell::new(Vec::new())));
    let (result, report) = {
        let mut vm = Vm::with_jit(Box::new(buf.clone()), config.clone());
        let mut args = vec![file.to_string()];
        args.extend(argv.iter().map(|s| s.to_string()));
        vm.set_argv(args);
        let r = vm.run_source(src, file);
        (r, vm.jit_report())
    };
    let out = String::from_utf8_lossy(&buf.0.borrow()).into_owned();
    (out, result, report)
}
