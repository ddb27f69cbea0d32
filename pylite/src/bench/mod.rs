//! # `pylite bench`: the talk's programs on pylite, pylite + Leones, CPython and PyPy
//!
//! ```text
//! pylite bench [--runs N] [--dir DIR] [--json PATH] [--markdown PATH] [--plots DIR]
//!              [--size small|tenth|default] [--warmup] [PROGRAM-PREFIX]
//! ```
//!
//! For each program in `programs/` (`pi.py`, `pi_blocker.py`, `data_driven.py`,
//! `pythagorean.py`, `readpoly.py`) it runs, `N` times and interleaved — one run of
//! every runtime, then the next round — `pylite run --jit off`, `pylite run --jit on`
//! (this binary, a fresh process each time), `python3` and `pypy3` (a runtime that is
//! not installed is a column of `n/a`). Interleaving makes machine noise hit every
//! column alike. Each program measures itself and prints `name: X.XXXX secs` lines;
//! every such line is a row of the table, with the median of each runtime and the
//! speed-ups JIT/CPython, interpreter/CPython and JIT/interpreter. The pylite runs
//! also write `--stats` files, folded into one JIT summary per program
//! ([`stats::JitSummary`]).
//!
//! Rows are printed to stderr as each program finishes; the final tables go to
//! stdout, the same data to a JSON file (`--json`, default `target/bench.json`) and,
//! with `--markdown`, to a Markdown page with the machine and date
//! (`docs/benchmarks.md` under `make bench`). A run that fails is reported with its
//! stderr, and so is a runtime whose output (timing lines excluded) differs from the
//! first one's; the command then exits with status 1 after writing everything.
//!
//! `--size small` passes smaller arguments so the whole table takes a few seconds
//! per round (`make demo`); `--size tenth` one tenth of each program's default work
//! (does the JIT pay for its warm-up on shorter runs?); the default size is each
//! program's own default, the talk's sizes.
//!
//! **Warm-up.** Every run's process wall time is measured around the child process,
//! and the JIT runs' stats say when compiled code was first entered and how long
//! compiling took; the JIT summary folds them into *time to the first compiled
//! iteration* and *compile share* (compile time over the JIT process's wall time).
//! After a program's runs, its warm-up variant (`programs/warmup/`, see [`warmup`])
//! runs as many rounds under every runtime; its chunk lines become time-per-iteration
//! curves, summarized in the warm-up tables and, with `--plots DIR`, drawn as
//! `DIR/<program>.svg` ([`svg`]). `--warmup` runs only the warm-up variants: the
//! timing rows, JIT summary and wall times then come from the variants' runs.
//!
//! Files: `options.rs` (options, sizes, what to run), `measure.rs` (timing lines, medians, stats files, machine, date),
//! `stats.rs` (the JIT summary), `warmup.rs` (chunk lines, curves), `svg.rs` (the
//! plots), `table.rs` (text and Markdown), `json.rs`.

pub mod json;
pub mod measure;
pub mod options;
pub mod stats;
pub mod svg;
pub mod table;
pub mod warmup;

pub use measure::parse_timings;
pub use options::{Options, Size};

use crate::jit::JitReport;
use measure::{median, report_from_json, strip_timings, Machine};
use options::{jobs, Job};
use stats::{JitRun, JitSummary};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;
use warmup::TimingCurves;

/// One runtime: a column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Interp = 0,
    Jit = 1,
    Python3 = 2,
    PyPy3 = 3,
}

/// Every column, in table order.
pub const COLUMNS: [Column; 4] = [Column::Interp, Column::Jit, Column::Python3, Column::PyPy3];

impl Column {
    /// Its name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Column::Interp => "pylite (interpreter)",
            Column::Jit => "pylite + Leones JIT",
            Column::Python3 => "CPython",
            Column::PyPy3 => "PyPy",
        }
    }

    /// Its key in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Column::Interp => "interp",
            Column::Jit => "jit",
            Column::Python3 => "python3",
            Column::PyPy3 => "pypy3",
        }
    }

    /// The command it runs (before the program and its arguments).
    pub fn command(self) -> String {
        match self {
            Column::Interp => "pylite run --jit off".into(),
            Column::Jit => "pylite run --jit on".into(),
            Column::Python3 => "python3".into(),
            Column::PyPy3 => "pypy3".into(),
        }
    }
}

/// One timing line of one program: the samples of every runtime.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    /// Seconds, indexed by `Column as usize`.
    pub samples: [Vec<f64>; 4],
}

impl Row {
    /// The median of a runtime's samples.
    pub fn median(&self, c: Column) -> Option<f64> {
        median(&self.samples[c as usize])
    }

    /// How many times less time `fast` took than `slow`.
    pub fn speedup(&self, fast: Column, slow: Column) -> Option<f64> {
        let (f, s) = (self.median(fast)?, self.median(slow)?);
        (f > 0.0).then(|| s / f)
    }
}

/// Everything measured for one program.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramResult {
    pub file: String,
    pub args: Vec<String>,
    /// `LEONES_PARAMS` of a JIT variant (only the JIT ran), or none.
    pub params: Option<String>,
    pub rows: Vec<Row>,
    pub jit: Option<JitSummary>,
    /// Process wall times in seconds, indexed by `Column as usize`.
    pub wall: [Vec<f64>; 4],
    /// Warm-up curves per timing (from the warm-up variant's chunk lines).
    pub curves: Vec<TimingCurves>,
    /// Failed runs, differing outputs, unreadable stats.
    pub notes: Vec<String>,
    /// Runs that failed or printed something else than the first runtime.
    pub problems: usize,
}

impl ProgramResult {
    /// An empty result for `file` run with `args`.
    pub fn new(file: &str, args: Vec<String>) -> ProgramResult {
        ProgramResult {
            file: file.to_string(),
            args,
            params: None,
            rows: Vec::new(),
            jit: None,
            wall: Default::default(),
            curves: Vec::new(),
            notes: Vec::new(),
            problems: 0,
        }
    }

    /// The median process wall time of a runtime.
    pub fn median_wall(&self, c: Column) -> Option<f64> {
        median(&self.wall[c as usize])
    }

    /// The program's name without `.py`.
    pub fn name(&self) -> String {
        self.file.trim_end_matches(".py").to_string()
    }

    /// The row of timing `name`, created in order of first appearance.
    fn row_mut(&mut self, name: &str) -> &mut Row {
        match self.rows.iter().position(|r| r.name == name) {
            Some(i) => &mut self.rows[i],
            None => {
                self.rows.push(Row {
                    name: name.to_string(),
                    samples: Default::default(),
                });
                self.rows.last_mut().expect("just pushed")
            }
        }
    }

    fn note(&mut self, text: String) {
        if !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }
}

/// A finished benchmark.
#[derive(Clone, Debug)]
pub struct Bench {
    pub machine: Machine,
    pub date: String,
    /// The `pylite bench ...` command line that produced it.
    pub command: String,
    pub size: Size,
    pub runs: usize,
    /// The installed runtimes.
    pub available: Vec<Column>,
    pub programs: Vec<ProgramResult>,
    /// Only the warm-up variants ran (`--warmup`).
    pub warmup_only: bool,
    /// The plots written: (program name, path as the Markdown page links it).
    pub plots: Vec<(String, String)>,
}

/// Whether `cmd --version` runs.
fn installed(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The last lines of a failed run's stderr.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// What one run of a program under one runtime gave.
struct RunOutput {
    stdout: String,
    /// The JIT report, for pylite.
    report: Option<Result<JitReport, String>>,
    /// Seconds from starting the process to its exit.
    wall_secs: f64,
}

/// Runs `program` once under `col`.
fn run_once(
    col: Column,
    pylite: &Path,
    program: &str,
    args: &[String],
    params: Option<&str>,
) -> Result<RunOutput, String> {
    let stats = std::env::temp_dir().join(format!("pylite-bench-{}-{}.json", std::process::id(), col.key()));
    let mut cmd = match col {
        Column::Interp | Column::Jit => {
            let mut c = Command::new(pylite);
            let mode = if col == Column::Jit { "on" } else { "off" };
            c.args(["run", "--jit", mode, "--stats"]).arg(&stats);
            if let Some(p) = params {
                c.env(leones_tracer::params::PARAMS_ENV, p);
            }
            c
        }
        Column::Python3 => Command::new("python3"),
        Column::PyPy3 => Command::new("pypy3"),
    };
    let started = Instant::now();
    let out = cmd
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot start: {}", e))?;
    let wall_secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("{}:\n{}", out.status, tail(&out.stderr)));
    }
    let report = matches!(col, Column::Interp | Column::Jit).then(|| {
        let r = std::fs::read_to_string(&stats)
            .map_err(|e| format!("cannot read {}: {}", stats.display(), e))
            .and_then(|t| report_from_json(&t));
        let _ = std::fs::remove_file(&stats);
        r
    });
    Ok(RunOutput {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        report,
        wall_secs,
    })
}

/// Measures one program: `runs` rounds of every available runtime.
fn bench_program(pylite: &Path, available: &[Column], dir: &str, job: &Job, runs: usize) -> ProgramResult {
    let path = format!("{}/{}", dir, job.source);
    let mut p = ProgramResult::new(job.file, job.args.clone());
    p.params = job.params.map(String::from);
    let mut reference: Option<(Column, String)> = None;
    let mut jit_runs: Vec<JitRun> = Vec::new();
    let mut interp_reports: Vec<JitReport> = Vec::new();
    for round in 1..=runs {
        for &col in available {
            let run = match run_once(col, pylite, &path, &p.args, job.params) {
                Ok(r) => r,
                Err(e) => {
                    p.problems += 1;
                    p.note(format!("{} failed (run {}): {}", col.command(), round, e));
                    continue;
                }
            };
            p.wall[col as usize].push(run.wall_secs);
            for (name, secs) in parse_timings(&run.stdout) {
                let name = match job.params {
                    Some(v) => format!("{name} ({v})"),
                    None => name,
                };
                p.row_mut(&name).samples[col as usize].push(secs);
            }
            match warmup::parse_chunks(&run.stdout) {
                Ok(chunks) => warmup::add_run(&mut p.curves, col, chunks),
                Err(e) => {
                    p.problems += 1;
                    p.note(format!("{}: {}", col.command(), e));
                }
            }
            match run.report {
                Some(Ok(report)) if col == Column::Jit => jit_runs.push(JitRun {
                    report,
                    wall_secs: run.wall_secs,
                }),
                Some(Ok(report)) => interp_reports.push(report),
                Some(Err(e)) => p.note(format!("{}: no JIT stats: {}", col.command(), e)),
                None => {}
            }
            let shown = strip_timings(&warmup::strip_chunks(&run.stdout));
            match &reference {
                None => reference = Some((col, shown)),
                Some((first, text)) if *text != shown => {
                    p.problems += 1;
                    p.note(format!(
                        "{}'s output (timing lines excluded) differs from {}'s",
                        col.command(),
                        first.command()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    p.jit = JitSummary::from_reports(&jit_runs, &interp_reports);
    p
}

/// Runs the benchmark, printing rows to stderr as programs finish.
pub fn run_bench(opts: &Options) -> Result<Bench, String> {
    let pylite = std::env::current_exe().map_err(|e| format!("cannot find the pylite binary: {}", e))?;
    let mut available = vec![Column::Interp, Column::Jit];
    available.extend(
        [Column::Python3, Column::PyPy3]
            .into_iter()
            .filter(|c| installed(&c.command())),
    );
    let jobs = jobs(opts);
    if jobs.is_empty() {
        return Err(format!("no program matches {:?}", opts.only.as_deref().unwrap_or("")));
    }
    let progress = table::timing_table();
    eprintln!("{}", progress.text_header());
    let mut results = Vec::new();
    for job in jobs {
        let columns: &[Column] = if job.params.is_some() {
            &[Column::Jit]
        } else {
            &available
        };
        let mut p = bench_program(&pylite, columns, &opts.dir, &job, opts.runs);
        if job.params.is_none() && !opts.warmup {
            let variant = Job {
                source: format!("warmup/{}", job.file),
                ..job
            };
            let w = bench_program(&pylite, columns, &opts.dir, &variant, opts.runs);
            p.curves = w.curves;
            p.problems += w.problems;
            p.notes
                .extend(w.notes.into_iter().map(|n| format!("warm-up variant: {}", n)));
        }
        for cells in table::program_timing_rows(&p, &available) {
            eprintln!("{}", progress.text_line(&cells));
        }
        for n in &p.notes {
            eprintln!("  {}: {}", p.file, n);
        }
        results.push(p);
    }
    Ok(Bench {
        machine: Machine::current(),
        date: measure::today(),
        command: opts.command_line(),
        size: opts.size,
        runs: opts.runs,
        available,
        programs: results,
        warmup_only: opts.warmup,
        plots: Vec::new(),
    })
}

/// Writes one warm-up plot per program with curves into `dir`; the plots written,
/// each as (program name, path relative to the directory of `markdown` when under it).
fn write_plots(b: &Bench, dir: &str, markdown: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let base = markdown.and_then(|m| Path::new(m).parent().map(Path::to_path_buf));
    let mut written = Vec::new();
    for p in b.programs.iter().filter(|p| !p.curves.is_empty()) {
        let path = Path::new(dir).join(format!("{}.svg", p.name()));
        let path_text = path.to_string_lossy().into_owned();
        write_file(&path_text, &svg::render(&warmup::plot(&p.name(), &p.curves)))?;
        eprintln!("pylite bench: wrote {}", path_text);
        written.push((p.name(), link_from(base.as_deref(), &path)));
    }
    Ok(written)
}

/// `path` as a link from a page in directory `base`: relative when under it.
fn link_from(base: Option<&Path>, path: &Path) -> String {
    let rel = base
        .filter(|b| !b.as_os_str().is_empty())
        .and_then(|b| path.strip_prefix(b).ok())
        .unwrap_or(path);
    rel.to_string_lossy().into_owned()
}

/// Writes `text` to `path`, creating its directory.
fn write_file(path: &str, text: &str) -> Result<(), String> {
    let p = PathBuf::from(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {}", dir.display(), e))?;
    }
    std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {}", path, e))
}

/// The command's usage line.
pub const USAGE: &str = "pylite bench [--runs N] [--dir DIR] [--json PATH] [--markdown PATH] [--plots DIR] \
                         [--size small|tenth|default] [--warmup] [PROGRAM-PREFIX]";

/// `pylite bench ARGS`: runs, prints, writes the files; the process's exit status.
pub fn main(args: &[String]) -> ExitCode {
    let opts = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("pylite bench: {}", e);
            eprintln!("usage: {}", USAGE);
            return ExitCode::from(2);
        }
    };
    let mut bench = match run_bench(&opts) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pylite bench: {}", e);
            return ExitCode::from(1);
        }
    };
    let mut ok = bench.programs.iter().all(|p| p.problems == 0);
    if let Some(dir) = &opts.plots {
        match write_plots(&bench, dir, opts.markdown.as_deref()) {
            Ok(written) => bench.plots = written,
            Err(e) => {
                eprintln!("pylite bench: {}", e);
                ok = false;
            }
        }
    }
    println!("{}", table::text_report(&bench));
    let outputs = [Some((&opts.json, json::bench_json(&bench).render() + "\n"))]
        .into_iter()
        .chain([opts.markdown.as_ref().map(|m| (m, table::markdown_report(&bench)))])
        .flatten();
    for (path, text) in outputs {
        match write_file(path, &text) {
            Ok(()) => eprintln!("pylite bench: wrote {}", path),
            Err(e) => {
                eprintln!("pylite bench: {}", e);
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_links_are_relative_to_the_page() {
        let link = |base: Option<&str>, p: &str| link_from(base.map(Path::new), Path::new(p));
        assert_eq!(link(Some("docs"), "docs/warmup/pi.svg"), "warmup/pi.svg");
        assert_eq!(link(Some(""), "docs/warmup/pi.svg"), "docs/warmup/pi.svg");
        assert_eq!(link(Some("elsewhere"), "/tmp/pi.svg"), "/tmp/pi.svg");
        assert_eq!(link(None, "plots/pi.svg"), "plots/pi.svg");
    }

    #[test]
    fn rows_keep_first_appearance_order_and_speedups() {
        let mut p = ProgramResult::new("x.py", vec![]);
        p.row_mut("b").samples[Column::Jit as usize].push(1.0);
        p.row_mut("a").samples[Column::Python3 as usize].push(3.0);
        p.row_mut("b").samples[Column::Python3 as usize].push(4.0);
        let names: Vec<&str> = p.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(p.rows[0].speedup(Column::Jit, Column::Python3), Some(4.0));
        assert_eq!(p.rows[1].speedup(Column::Jit, Column::Python3), None);
        p.note("x".into());
        p.note("x".into());
        assert_eq!(p.notes.len(), 1);
    }
}
