//! # `pylite bench`: the talk's programs on pylite, pylite + Leones, CPython and PyPy
//!
//! ```text
//! pylite bench [--runs N] [--dir DIR] [--json PATH] [--markdown PATH]
//!              [--size small|default] [PROGRAM-PREFIX]
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
//! per round (`make demo`); the default size is each program's own default, the
//! talk's sizes.
//!
//! Files: `measure.rs` (timing lines, medians, stats files, machine, date),
//! `stats.rs` (the JIT summary), `table.rs` (text and Markdown), `json.rs`.

pub mod json;
pub mod measure;
pub mod stats;
pub mod table;

pub use measure::parse_timings;

use crate::jit::JitReport;
use measure::{median, report_from_json, strip_timings, Machine};
use stats::JitSummary;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

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

/// Program sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Each program's defaults: the talk's sizes.
    Default,
    /// Smaller arguments: the whole table in seconds per round.
    Small,
}

impl Size {
    pub fn name(self) -> &'static str {
        match self {
            Size::Default => "default",
            Size::Small => "small",
        }
    }
}

/// The talk's programs and their `--size small` arguments.
const PROGRAMS: [(&str, &[&str]); 5] = [
    ("pi.py", &["7"]),
    ("pi_blocker.py", &["6"]),
    ("data_driven.py", &["50000", "10"]),
    ("pythagorean.py", &["500000"]),
    ("readpoly.py", &["200000"]),
];

/// Programs measured again under the JIT with other Leones parameters, to show what a
/// feature buys: (file, `LEONES_PARAMS`). Their rows are named `<timing> (<params>)`
/// and only the JIT column is run.
const JIT_VARIANTS: [(&str, &str); 1] = [("data_driven.py", "merge=off")];

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
    pub rows: Vec<Row>,
    pub jit: Option<JitSummary>,
    /// Failed runs, differing outputs, unreadable stats.
    pub notes: Vec<String>,
    /// Runs that failed or printed something else than the first runtime.
    pub problems: usize,
}

impl ProgramResult {
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
}

/// `pylite bench`'s options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub runs: usize,
    pub dir: String,
    dir_given: bool,
    pub json: String,
    pub markdown: Option<String>,
    pub size: Size,
    pub only: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runs: 3,
            dir: concat!(env!("CARGO_MANIFEST_DIR"), "/programs").to_string(),
            dir_given: false,
            json: "target/bench.json".to_string(),
            markdown: None,
            size: Size::Default,
            only: None,
        }
    }
}

impl Options {
    /// Parses the arguments after `bench`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut i = 0;
        while i < args.len() {
            let value = || {
                args.get(i + 1)
                    .cloned()
                    .ok_or_else(|| format!("{} needs a value", args[i]))
            };
            match args[i].as_str() {
                "--runs" => {
                    o.runs = value()?
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or("--runs needs a positive integer")?;
                }
                "--dir" => {
                    o.dir = value()?;
                    o.dir_given = true;
                }
                "--json" => o.json = value()?,
                "--markdown" => o.markdown = Some(value()?),
                "--size" => {
                    o.size = match value()?.as_str() {
                        "small" => Size::Small,
                        "default" => Size::Default,
                        other => return Err(format!("--size is small or default, not {:?}", other)),
                    }
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {}", flag)),
                prefix if o.only.is_none() => {
                    o.only = Some(prefix.to_string());
                    i += 1;
                    continue;
                }
                extra => return Err(format!("unexpected argument {:?}", extra)),
            }
            i += 2;
        }
        Ok(o)
    }

    /// The command line these options stand for (for the report).
    pub fn command_line(&self) -> String {
        let mut cmd = format!("pylite bench --runs {} --size {}", self.runs, self.size.name());
        if self.dir_given {
            cmd += &format!(" --dir {}", self.dir);
        }
        cmd += &format!(" --json {}", self.json);
        if let Some(m) = &self.markdown {
            cmd += &format!(" --markdown {}", m);
        }
        if let Some(p) = &self.only {
            cmd += &format!(" {}", p);
        }
        cmd
    }

    /// The programs selected, with their arguments.
    fn programs(&self) -> Vec<(&'static str, Vec<String>)> {
        PROGRAMS
            .iter()
            .filter(|(f, _)| self.only.as_deref().is_none_or(|p| f.starts_with(p)))
            .map(|&(f, small)| {
                let args = match self.size {
                    Size::Small => small.iter().map(|s| s.to_string()).collect(),
                    Size::Default => Vec::new(),
                };
                (f, args)
            })
            .collect()
    }
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

/// Runs the program once under `col`; its stdout and, for pylite, its JIT report.
fn run_once(
    col: Column,
    pylite: &Path,
    program: &str,
    args: &[String],
    params: Option<&str>,
) -> Result<(String, Option<Result<JitReport, String>>), String> {
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
    let out = cmd
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot start: {}", e))?;
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
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), report))
}

/// Measures one program: `runs` rounds of every available runtime.
fn bench_program(
    pylite: &Path,
    available: &[Column],
    dir: &str,
    file: &str,
    args: Vec<String>,
    runs: usize,
    params: Option<&str>,
) -> ProgramResult {
    let path = format!("{}/{}", dir, file);
    let mut p = ProgramResult {
        file: file.to_string(),
        args,
        rows: Vec::new(),
        jit: None,
        notes: Vec::new(),
        problems: 0,
    };
    let mut reference: Option<(Column, String)> = None;
    let mut reports: [Vec<JitReport>; 2] = Default::default();
    for round in 1..=runs {
        for &col in available {
            let (stdout, report) = match run_once(col, pylite, &path, &p.args, params) {
                Ok(r) => r,
                Err(e) => {
                    p.problems += 1;
                    p.note(format!("{} failed (run {}): {}", col.command(), round, e));
                    continue;
                }
            };
            for (name, secs) in parse_timings(&stdout) {
                let name = match params {
                    Some(v) => format!("{name} ({v})"),
                    None => name,
                };
                p.row_mut(&name).samples[col as usize].push(secs);
            }
            match report {
                Some(Ok(r)) => reports[col as usize].push(r),
                Some(Err(e)) => p.note(format!("{}: no JIT stats: {}", col.command(), e)),
                None => {}
            }
            let shown = strip_timings(&stdout);
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
    p.jit = JitSummary::from_reports(&reports[Column::Jit as usize], &reports[Column::Interp as usize]);
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
    let programs = opts.programs();
    if programs.is_empty() {
        return Err(format!("no program matches {:?}", opts.only.as_deref().unwrap_or("")));
    }
    let progress = table::timing_table();
    eprintln!("{}", progress.text_header());
    let mut results = Vec::new();
    let variants = programs.iter().flat_map(|(file, args)| {
        JIT_VARIANTS
            .iter()
            .filter(move |(f, _)| f == file)
            .map(move |&(_, params)| (*file, args.clone(), Some(params)))
    });
    let runs: Vec<_> = programs
        .iter()
        .map(|(f, a)| (*f, a.clone(), None))
        .chain(variants.collect::<Vec<_>>())
        .collect();
    for (file, args, params) in runs {
        let columns: &[Column] = if params.is_some() { &[Column::Jit] } else { &available };
        let p = bench_program(&pylite, columns, &opts.dir, file, args, opts.runs, params);
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
    })
}

/// Writes `text` to `path`, creating its directory.
fn write_file(path: &str, text: &str) -> Result<(), String> {
    let p = PathBuf::from(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {}", dir.display(), e))?;
    }
    std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {}", path, e))
}

/// `pylite bench ARGS`: runs, prints, writes the files; the process's exit status.
pub fn main(args: &[String]) -> ExitCode {
    let opts = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("pylite bench: {}", e);
            eprintln!("usage: pylite bench [--runs N] [--dir DIR] [--json PATH] [--markdown PATH] [--size small|default] [PROGRAM-PREFIX]");
            return ExitCode::from(2);
        }
    };
    let bench = match run_bench(&opts) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pylite bench: {}", e);
            return ExitCode::from(1);
        }
    };
    println!("{}", table::text_report(&bench));
    let mut ok = bench.programs.iter().all(|p| p.problems == 0);
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

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_parse_and_print_back() {
        let o = Options::parse(&args("--runs 5 --size small --json x.json --markdown d.md py")).unwrap();
        assert_eq!((o.runs, o.size, o.only.as_deref()), (5, Size::Small, Some("py")));
        assert_eq!(
            o.command_line(),
            "pylite bench --runs 5 --size small --json x.json --markdown d.md py"
        );
        let names: Vec<&str> = o.programs().iter().map(|p| p.0).collect();
        assert_eq!(names, ["pythagorean.py"]);
        assert_eq!(o.programs()[0].1, ["500000"]);
        let d = Options::parse(&[]).unwrap();
        assert_eq!(d.programs().len(), 5);
        assert!(d.programs().iter().all(|p| p.1.is_empty()));
    }

    #[test]
    fn bad_options_are_errors() {
        for bad in [
            "--runs",
            "--runs 0",
            "--runs x",
            "--size huge",
            "--frobnicate",
            "pi extra",
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{}", bad);
        }
    }

    #[test]
    fn rows_keep_first_appearance_order_and_speedups() {
        let mut p = ProgramResult {
            file: "x.py".into(),
            args: vec![],
            rows: vec![],
            jit: None,
            notes: vec![],
            problems: 0,
        };
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
