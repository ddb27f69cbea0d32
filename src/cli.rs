//! The pieces of the `leones` CLI that are worth testing without a process: loading a
//! trace file with positioned errors, parsing `--input` values, and running a trace;
//! [`graph`] renders and runs for `leones graph`.

pub mod graph;

use leones_ir::interp::{describe_outcome, Interpreter, Val};
use leones_ir::{parse_with_source_map, verify_with_source, Const, SourceMap, Trace, Type};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why the CLI rejected its input.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{col}: parse error ({kind:?}): {message}")]
    Parse {
        path: PathBuf,
        line: u32,
        col: u32,
        kind: leones_ir::ParseErrorKind,
        message: String,
    },
    #[error("{path}:{location}: verify error ({kind:?}): {message}")]
    Verify {
        path: PathBuf,
        location: String,
        kind: leones_ir::VerifyErrorKind,
        message: String,
    },
    #[error("bad --input `{0}`: {1}")]
    Input(String, String),
    #[error("{path}: run failed: {message}")]
    Run { path: PathBuf, message: String },
    #[error("{path}: optimization failed: {message}")]
    Opt { path: PathBuf, message: String },
    #[error("{path}: LLVM backend: {message}")]
    Backend { path: PathBuf, message: String },
    #[error("{path}: native code and the reference interpreter disagree\n--- interpreter ---\n{interp}--- native ---\n{native}")]
    Mismatch {
        path: PathBuf,
        interp: String,
        native: String,
    },
    #[error("unknown level `{0}` (use quick or optimized)")]
    Level(String),
    #[error("graph: {0}")]
    Graph(String),
}

/// A parsed and verified trace file.
pub struct Loaded {
    pub path: PathBuf,
    pub trace: Trace,
    pub map: SourceMap,
}

impl Loaded {
    /// One line saying what the file holds.
    pub fn summary(&self) -> String {
        let t = &self.trace;
        format!(
            "{}: ok: trace {} with {} block(s), {} instruction(s), {} guard(s)",
            self.path.display(),
            t.name,
            t.blocks.len(),
            t.inst_count(),
            t.guards().len()
        )
    }
}

/// Reads, parses and verifies a trace file.
pub fn load(path: &Path) -> Result<Loaded, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.into(),
        source,
    })?;
    load_text(path, &text)
}

/// Parses and verifies trace text (`path` is only used in messages).
pub fn load_text(path: &Path, text: &str) -> Result<Loaded, CliError> {
    let (trace, map) = parse_with_source_map(text).map_err(|e| CliError::Parse {
        path: path.into(),
        line: e.pos.line,
        col: e.pos.col,
        kind: e.kind,
        message: e.message,
    })?;
    if let Err(e) = verify_with_source(&trace, &map) {
        let location = e.pos(&map).map_or_else(|| "-".to_string(), |p| p.to_string());
        return Err(CliError::Verify {
            path: path.into(),
            location,
            kind: e.kind,
            message: e.to_string(),
        });
    }
    Ok(Loaded {
        path: path.into(),
        trace,
        map,
    })
}

/// Parses one `--input`: `TYPE:LITERAL` (`i64:5`, `f64:-2.5`, `bool:true`, `ref:null`,
/// `ptr:0x10`) or a bare literal of the text format (`5`, `2.5`, `true`, `null`).
///
/// ```
/// use leones::cli::parse_input;
/// use leones::ir::interp::Val;
/// assert_eq!(parse_input("i64:5").unwrap(), Val::I64(5));
/// assert_eq!(parse_input("f64:3").unwrap(), Val::F64(3.0));
/// assert_eq!(parse_input("-2.5").unwrap(), Val::F64(-2.5));
/// assert!(parse_input("i64:x").is_err());
/// ```
pub fn parse_input(s: &str) -> Result<Val, CliError> {
    let bad = |why: &str| CliError::Input(s.to_string(), why.to_string());
    let (ty, lit) = match s.split_once(':') {
        Some((t, l)) => (Some(Type::from_name(t).ok_or_else(|| bad("unknown type"))?), l),
        None => (None, s),
    };
    let k = leones_ir::text::parse::parse_const(lit).map_err(|e| bad(&e.message))?;
    let k = match (ty, k) {
        (None, k) => k,
        (Some(Type::F64), Const::I64(i)) => Const::F64(i as f64),
        (Some(Type::Ref), Const::I64(a)) => Const::Ref(a as u64),
        (Some(Type::Ptr), Const::I64(a)) => Const::Ptr(a as u64),
        (Some(Type::Ptr), Const::Ref(a)) => Const::Ptr(a),
        (Some(t), k) if k.ty() == t => k,
        (Some(t), k) => return Err(bad(&format!("`{k}` is not a {t}"))),
    };
    Ok(Val::from_const(k))
}

/// What `leones run` prints.
pub struct RunReport(pub String);

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Loads a trace file and runs it with the reference interpreter.
pub fn run_interp(path: &Path, inputs: &[String], step_limit: u64) -> Result<RunReport, CliError> {
    let loaded = load(path)?;
    let vals = inputs.iter().map(|s| parse_input(s)).collect::<Result<Vec<_>, _>>()?;
    let mut interp = Interpreter::new(&loaded.trace);
    interp.set_step_limit(step_limit);
    let outcome = interp.run(&vals).map_err(|e| CliError::Run {
        path: path.into(),
        message: e.to_string(),
    })?;
    let mut text = describe_outcome(&loaded.trace, interp.heap(), &outcome);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(RunReport(text))
}

/// Loads a trace file and optimizes it with the default pipeline or the named passes;
/// returns the canonical text, followed by per-pass statistics as `;` comments when
/// `stats` is set. The default pipeline keeps a peeled loop only when it pays, as the
/// engine does ([`leones_opt::PeelPolicy::WhenItPays`]); named passes run as named.
pub fn optimize_file(path: &Path, passes: Option<&str>, stats: bool) -> Result<String, CliError> {
    let loaded = load(path)?;
    let opt_err = |e: leones_opt::OptError| CliError::Opt {
        path: path.into(),
        message: e.to_string(),
    };
    let list = match passes {
        None => leones_opt::default_pipeline(),
        Some(names) => {
            let names: Vec<&str> = names.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
            leones_opt::passes_named(&names).map_err(opt_err)?
        }
    };
    let ctx = leones_opt::OptContext {
        pure_calls: None,
        verify_each_pass: true,
        entry_facts: &[],
        peel: leones_opt::PeelPolicy::for_pipeline(passes.is_some()),
        ..leones_opt::OptContext::default()
    };
    let (trace, st) = leones_opt::optimize(&loaded.trace, &list, &ctx).map_err(opt_err)?;
    let mut out = leones_ir::print(&trace);
    if stats {
        for line in st.to_string().lines() {
            out.push_str("; ");
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Parses `--level`.
pub fn parse_level(name: &str) -> Result<leones_backend_llvm::Level, CliError> {
    leones_backend_llvm::Level::from_name(name).ok_or_else(|| CliError::Level(name.to_string()))
}

/// Loads a trace file, compiles it with LLVM at `level` and runs it natively.
///
/// The reference interpreter runs first, on the same inputs: native code does not
/// check addresses, so a trace whose run is not well-defined (a wild load, a fault) is
/// reported from the interpreter's checked run and never executed natively. When both
/// run, their outcomes must agree — a disagreement is reported as an error, which makes
/// `--backend llvm` a differential check on any trace file.
pub fn run_native(path: &Path, inputs: &[String], level_name: &str, step_limit: u64) -> Result<RunReport, CliError> {
    let level = parse_level(level_name)?;
    let interp = run_interp(path, inputs, step_limit)?;
    let loaded = load(path)?;
    let vals = inputs.iter().map(|s| parse_input(s)).collect::<Result<Vec<_>, _>>()?;
    let text = leones_ir::print(&loaded.trace);
    // SAFETY: the interpreter just ran this trace on equivalent inputs with every memory
    // access checked and no fault, and a trace's accesses depend only on its inputs.
    let native =
        unsafe { leones_backend_llvm::run_text_for_cli(&text, &vals, level) }.map_err(|e| CliError::Backend {
            path: path.into(),
            message: e.to_string(),
        })?;
    if native != interp.0 {
        return Err(CliError::Mismatch {
            path: path.into(),
            interp: interp.0,
            native,
        });
    }
    Ok(RunReport(native))
}

/// Loads a trace file and returns its LLVM IR, as lowered or after the level's passes.
pub fn emit_llvm(path: &Path, level_name: &str, after_passes: bool) -> Result<String, CliError> {
    let level = parse_level(level_name)?;
    let loaded = load(path)?;
    leones_backend_llvm::emit_llvm_for_cli(&leones_ir::print(&loaded.trace), level, after_passes).map_err(|e| {
        CliError::Backend {
            path: path.into(),
            message: e.to_string(),
        }
    })
}
