//! `leones`: the research CLI. Check, print and run trace text files.
//!
//! ```text
//! leones check FILE              parse + verify; errors as FILE:LINE:COL
//! leones print FILE              the canonical text of a trace
//! leones opt FILE [--passes a,b] [--stats]  optimize and print
//! leones run FILE --input i64:5  run with the reference interpreter
//! leones run FILE --backend llvm [--level quick|optimized]   compile and run natively
//! leones emit-llvm FILE [--level L] [--after-passes]
//! leones graph DIR|FILE.dot ...      render the engine's DOT graphs to SVG (Graphviz)
//! leones graph --out DIR -- CMD ...  run CMD with LEONES_LOG=graph:DIR
//! ```
//! Exit status: 0 on success, 1 when the input is rejected (a parse or verify error,
//! or a run that faults), 2 on a usage error.

use clap::{Parser, Subcommand};
use leones::cli;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "leones", version, about = "Leones: check, print and run trace IR files")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and verify a trace file; report errors with line and column.
    Check { file: PathBuf },
    /// Print a trace in canonical form.
    Print { file: PathBuf },
    /// Optimize a trace and print the result (default pipeline unless --passes).
    Opt {
        file: PathBuf,
        /// Comma-separated pass names, run in this order (e.g. `fold,cse,dce`).
        #[arg(long)]
        passes: Option<String>,
        /// Print per-pass statistics (ops, guards and allocations removed) as comments.
        #[arg(long)]
        stats: bool,
    },
    /// Run a trace with the reference interpreter.
    Run {
        file: PathBuf,
        /// An input value, `TYPE:LITERAL` or a bare literal (`i64:5`, `2.5`, `true`,
        /// `ref:null`); one per parameter of block0, in order.
        #[arg(long = "input", short = 'i', allow_hyphen_values = true)]
        inputs: Vec<String>,
        /// Stop after this many executed instructions (interpreter).
        #[arg(long, default_value_t = 10_000_000)]
        step_limit: u64,
        /// `interp` (the reference interpreter) or `llvm` (compile and run natively,
        /// checked against the interpreter).
        #[arg(long, default_value = "interp")]
        backend: String,
        /// LLVM level: `quick` or `optimized`.
        #[arg(long, default_value = "quick")]
        level: String,
    },
    /// Print the LLVM IR a trace lowers to.
    EmitLlvm {
        file: PathBuf,
        /// LLVM level: `quick` or `optimized`.
        #[arg(long, default_value = "quick")]
        level: String,
        /// Print the IR after the level's LLVM pass pipeline instead of as lowered.
        #[arg(long)]
        after_passes: bool,
    },
    /// Pictures of trace trees: render DOT files (or a directory's `*.dot`) to SVG with
    /// Graphviz, or run a command whose engine writes its graphs to `--out DIR`.
    Graph {
        /// DOT files, or directories of them, to render (not with a command).
        paths: Vec<PathBuf>,
        /// Where the command's engine writes its graphs (`LEONES_LOG=graph:DIR`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The command to run, after `--`.
        #[arg(last = true)]
        command: Vec<String>,
    },
}

/// `leones graph`: exit status 0 (or the command's), 1 on an error, 2 on misuse.
fn graph(paths: &[PathBuf], out: Option<PathBuf>, command: &[String]) -> ExitCode {
    let result = match (out, command.is_empty(), paths.is_empty()) {
        (Some(dir), false, true) => cli::graph::run_with_graphs(&dir, command).map(|(code, report)| {
            eprint!("{report}");
            code
        }),
        (None, true, false) => {
            let gv = leones::engine::graph::Graphviz::find();
            cli::graph::render_dot_files(paths, gv.as_ref()).map(|report| {
                print!("{report}");
                0
            })
        }
        _ => {
            eprintln!("usage: leones graph DIR|FILE.dot ...  or  leones graph --out DIR -- CMD ARGS");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Check { file } => cli::load(&file).map(|loaded| println!("{}", loaded.summary())),
        Command::Print { file } => cli::load(&file).map(|loaded| print!("{}", leones::ir::print(&loaded.trace))),
        Command::Opt { file, passes, stats } => {
            cli::optimize_file(&file, passes.as_deref(), stats).map(|t| print!("{t}"))
        }
        Command::Run {
            file,
            inputs,
            step_limit,
            backend,
            level,
        } => match backend.as_str() {
            "interp" => cli::run_interp(&file, &inputs, step_limit),
            "llvm" => cli::run_native(&file, &inputs, &level, step_limit),
            other => {
                eprintln!("unknown backend `{other}` (use interp or llvm)");
                return ExitCode::from(2);
            }
        }
        .map(|out| print!("{out}")),
        Command::EmitLlvm {
            file,
            level,
            after_passes,
        } => cli::emit_llvm(&file, &level, after_passes).map(|t| print!("{t}")),
        Command::Graph { paths, out, command } => return graph(&paths, out, &command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
