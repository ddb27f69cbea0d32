//! # Rendering the benchmark tables: text (terminal) and Markdown
//!
//! Two tables, built once as rows of cells and rendered two ways: the **timing
//! table** (one row per timing line a program prints: the four medians and three
//! speed-ups) and the **JIT table** (one row per program: what the JIT compiled and
//! how much it allocated). Text columns have fixed minimum widths so the rows printed
//! to stderr while the benchmark runs line up with the header printed before them.
//!
//! Conventions: times are medians in seconds; a speed-up is how many times *less*
//! time the first runtime took than the second (`python3 / jit`), so bigger is
//! better; `n/a` is a runtime that is not installed, `failed` one whose runs all
//! failed (the notes below the table say why).

use super::stats::JitSummary;
use super::{Bench, Column, ProgramResult, Row, COLUMNS};

/// A table: headers, minimum widths, and rows of cells (the first `left` columns
/// are names, left-aligned; the others numbers, right-aligned).
pub struct Table {
    headers: Vec<String>,
    widths: Vec<usize>,
    left: usize,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(left: usize, columns: &[(&str, usize)]) -> Table {
        Table {
            headers: columns.iter().map(|c| c.0.to_string()).collect(),
            widths: columns.iter().map(|c| c.1.max(c.0.len())).collect(),
            left,
            rows: Vec::new(),
        }
    }

    /// One line of text: cells padded to the column widths.
    pub fn text_line(&self, cells: &[String]) -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&self.widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i < 2 {
                    format!("{:<w$}", c)
                } else {
                    format!("{:>w$}", c)
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    }

    /// The header line.
    pub fn text_header(&self) -> String {
        self.text_line(&self.headers)
    }

    /// The whole table as text.
    pub fn text(&self) -> String {
        let mut out = self.text_header() + "\n";
        for r in &self.rows {
            out += &self.text_line(r);
            out.push('\n');
        }
        out
    }

    /// The whole table in Markdown (numbers right-aligned).
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let rule: Vec<String> = (0..self.headers.len())
            .map(|i| {
                if i < self.left {
                    "---".to_string()
                } else {
                    "---:".to_string()
                }
            })
            .collect();
        let mut out = line(&self.headers) + &line(&rule);
        for r in &self.rows {
            out += &line(r);
        }
        out
    }
}

/// Seconds, or why there are none.
fn secs(v: Option<f64>, available: bool) -> String {
    match (v, available) {
        (_, false) => "n/a".into(),
        (Some(s), _) => format!("{:.4}", s),
        (None, _) => "failed".into(),
    }
}

/// A speed-up such as `41.87x`, or `-`.
fn ratio(v: Option<f64>) -> String {
    v.map_or("-".into(), |r| format!("{:.2}x", r))
}

/// A non-negative rate: three decimals, or two significant digits when smaller.
fn rate(x: f64) -> String {
    if x == 0.0 || x >= 0.01 {
        format!("{:.3}", x)
    } else {
        format!("{:.1e}", x)
    }
}

/// An empty timing table.
pub fn timing_table() -> Table {
    Table::new(
        2,
        &[
            ("program", 14),
            ("timing", 14),
            ("interp s", 9),
            ("JIT s", 9),
            ("python3 s", 9),
            ("pypy3 s", 9),
            ("JIT vs py3", 10),
            ("interp vs py3", 10),
            ("JIT vs interp", 10),
        ],
    )
}

/// The cells of one timing row (`program` is blank after a program's first row).
pub fn timing_cells(program: &str, row: &Row, available: &[Column]) -> Vec<String> {
    let mut cells = vec![program.to_string(), row.name.clone()];
    for c in COLUMNS {
        cells.push(secs(row.median(c), available.contains(&c)));
    }
    cells.push(ratio(row.speedup(Column::Jit, Column::Python3)));
    cells.push(ratio(row.speedup(Column::Interp, Column::Python3)));
    cells.push(ratio(row.speedup(Column::Jit, Column::Interp)));
    cells
}

/// The timing rows of one program (one row of `failed` when it printed no timing).
pub fn program_timing_rows(p: &ProgramResult, available: &[Column]) -> Vec<Vec<String>> {
    let name = p.name();
    if p.rows.is_empty() {
        let none = Row {
            name: "(no timings)".into(),
            samples: Default::default(),
        };
        return vec![timing_cells(&name, &none, available)];
    }
    p.rows
        .iter()
        .enumerate()
        .map(|(i, r)| timing_cells(if i == 0 { &name } else { "" }, r, available))
        .collect()
}

/// An empty JIT table.
pub fn jit_table() -> Table {
    Table::new(
        1,
        &[
            ("program", 14),
            ("loops", 5),
            ("bridges", 7),
            ("aborts", 6),
            ("compile ms", 10),
            ("code bytes", 10),
            ("iterations compiled", 10),
            ("objects allocated per loop iteration (whole run)", 10),
        ],
    )
}

/// The cells of one program's JIT row.
pub fn jit_cells(name: &str, s: Option<&JitSummary>) -> Vec<String> {
    let Some(s) = s else {
        let mut cells = vec![name.to_string()];
        cells.extend(std::iter::repeat_n("-".to_string(), 7));
        return cells;
    };
    vec![
        name.to_string(),
        s.loops.to_string(),
        s.bridges.to_string(),
        s.aborts.to_string(),
        format!("{:.1}", s.compile_ms),
        s.code_bytes.to_string(),
        s.compiled_share().map_or("-".into(), |x| format!("{:.1}%", x * 100.0)),
        s.allocations_per_iteration().map_or("-".into(), rate),
    ]
}

/// Both tables for a finished benchmark.
pub fn tables(b: &Bench) -> (Table, Table) {
    let mut timing = timing_table();
    let mut jit = jit_table();
    for p in &b.programs {
        timing.rows.extend(program_timing_rows(p, &b.available));
        jit.rows.push(jit_cells(&p.name(), p.jit.as_ref()));
    }
    (timing, jit)
}

/// Every note of every program, one per line.
fn notes(b: &Bench) -> Vec<String> {
    b.programs
        .iter()
        .flat_map(|p| p.notes.iter().map(move |n| format!("{}: {}", p.file, n)))
        .collect()
}

/// The final text report (stdout).
pub fn text_report(b: &Bench) -> String {
    let (timing, jit) = tables(b);
    let mut out = format!(
        "{} — {}, {} cores, {}; medians of {} runs\n\n{}\nJIT (from `pylite run --jit on --stats`; iterations: share of the interpreter-only run's loop iterations run in compiled code):\n{}",
        b.command,
        b.machine.cpu,
        b.machine.cores,
        b.date,
        b.runs,
        timing.text(),
        jit.text()
    );
    let notes = notes(b);
    if !notes.is_empty() {
        out += &format!("\nnotes:\n{}\n", notes.join("\n"));
    }
    out
}

/// The program arguments used, as text.
fn args_text(p: &ProgramResult) -> String {
    if p.args.is_empty() {
        "(defaults)".into()
    } else {
        p.args.join(" ")
    }
}

/// `docs/benchmarks.md`.
pub fn markdown_report(b: &Bench) -> String {
    let (timing, jit) = tables(b);
    let mut out = String::from("# Benchmarks: pylite, pylite + Leones, CPython, PyPy\n\n");
    if b.programs.iter().all(|p| p.jit.as_ref().is_none_or(|s| s.loops == 0)) {
        out += "> **The JIT compiled no loop in this run**: `--jit on` still interprets, so its column \
                equals the interpreter's. These numbers predate pylite's JIT; regenerate this file \
                with `make bench` once it lands.\n\n";
    }
    out += &format!(
        "Generated by `{}` on {} — {}, {} cores. Medians of {} runs per runtime, the runtimes \
         interleaved within each run so machine noise affects them alike. Each time is the \
         program's own measurement (`name: X secs` lines), so start-up and data generation \
         are excluded.\n\n",
        b.command, b.date, b.machine.cpu, b.machine.cores, b.runs
    );
    out += "| runtime | command |\n|---|---|\n";
    for c in COLUMNS {
        let cmd = if b.available.contains(&c) {
            format!("`{}`", c.command())
        } else {
            "not installed (n/a)".into()
        };
        out += &format!("| {} | {} |\n", c.label(), cmd);
    }
    out += "\n| program | arguments |\n|---|---|\n";
    for p in &b.programs {
        out += &format!("| `{}` | {} |\n", p.file, args_text(p));
    }
    out += &format!(
        "\n## Times (seconds) and speed-ups\n\nA speed-up is how many times less time the first \
         runtime took (`JIT vs py3` = python3 time / JIT time).\n\n{}",
        timing.markdown()
    );
    out += &format!(
        "\n## What the JIT did\n\nFrom `pylite run --jit on --stats` (counts from the first run, \
         compile time the median). *Iterations compiled*: the share of the program's loop \
         iterations (back-edges of an interpreter-only run) that did not run in the \
         interpreter. *Objects allocated per loop iteration (whole run)*: every object the JIT \
         run allocated, set-up included, divided by those iterations — an upper bound on the \
         steady state's rate.\n\n{}",
        jit.markdown()
    );
    let notes = notes(b);
    if !notes.is_empty() {
        out += &format!(
            "\n## Notes\n\n{}\n",
            notes.iter().map(|n| format!("- {}\n", n)).collect::<String>()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, samples: [Vec<f64>; 4]) -> Row {
        Row {
            name: name.into(),
            samples,
        }
    }

    #[test]
    fn timing_cells_show_medians_ratios_and_missing_runtimes() {
        let r = row("pi", [vec![2.0, 1.0, 3.0], vec![0.1], vec![4.0], vec![]]);
        let cells = timing_cells("pi.py", &r, &[Column::Interp, Column::Jit, Column::Python3]);
        assert_eq!(
            cells,
            ["pi.py", "pi", "2.0000", "0.1000", "4.0000", "n/a", "40.00x", "2.00x", "20.00x"]
        );
        let cells = timing_cells("", &r, &COLUMNS);
        assert_eq!(cells[5], "failed");
    }

    #[test]
    fn jit_cells_without_stats_are_dashes() {
        assert_eq!(jit_cells("pi.py", None)[1..], ["-", "-", "-", "-", "-", "-", "-"]);
        assert_eq!(
            jit_table().markdown().lines().nth(1),
            Some("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        );
    }

    #[test]
    fn rates_keep_small_numbers_visible() {
        assert_eq!(rate(0.0), "0.000");
        assert_eq!(rate(8.0), "8.000");
        assert_eq!(rate(0.0000222), "2.2e-5");
    }

    #[test]
    fn text_and_markdown_layout() {
        let mut t = timing_table();
        t.rows.push(vec!["a".into(); 9]);
        let text = t.text();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with("program "));
        let md = t.markdown();
        assert!(md.contains("| --- | --- | ---: |"));
        assert!(md.lines().nth(2).unwrap().starts_with("| a | a |"));
    }
}
