//! # Rendering the benchmark tables: text (terminal) and Markdown
//!
//! Four tables, built once as rows of cells and rendered two ways: the **timing
//! table** (one row per timing line a program prints: the four medians and three
//! speed-ups), the **JIT table** (one row per program: what the JIT compiled and
//! how much it allocated), the **warm-up table** (one row per program: time to the
//! first compiled iteration, compile time and its share of the JIT process's wall
//! time, every runtime's process wall time) and the **curve table** (one row per
//! timing and runtime: how the time per iteration started and where it settled). Text columns have fixed minimum widths so the rows printed
//! to stderr while the benchmark runs line up with the header printed before them.
//!
//! Conventions: times are medians in seconds; a speed-up is how many times *less*
//! time the first runtime took than the second (`python3 / jit`), so bigger is
//! better; `n/a` is a runtime that is not installed, `failed` one whose runs all
//! failed (the notes below the table say why).

use super::stats::JitSummary;
use super::svg::si_label;
use super::warmup::summarize;
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
                if i < self.left {
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
/// A JIT variant (`merge=off`) runs on the JIT only: its other columns are `n/a`.
pub fn program_timing_rows(p: &ProgramResult, available: &[Column]) -> Vec<Vec<String>> {
    let jit_only = [Column::Jit];
    let available: &[Column] = if p.params.is_some() { &jit_only } else { available };
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

/// Compile time above this share of the JIT process's wall time fails the issue's
/// "must show".
pub const COMPILE_SHARE_LIMIT: f64 = 0.10;

/// An empty warm-up table.
pub fn warmup_table() -> Table {
    Table::new(
        1,
        &[
            ("program", 14),
            ("first compiled ms", 8),
            ("compile ms", 8),
            ("LLVM warm-up ms", 8),
            ("JIT wall s", 8),
            ("compile / JIT wall", 8),
            ("interp wall s", 8),
            ("python3 wall s", 8),
            ("pypy3 wall s", 8),
            ("JIT vs interp (wall)", 8),
        ],
    )
}

/// The cells of one program's warm-up row.
pub fn warmup_cells(p: &ProgramResult, available: &[Column]) -> Vec<String> {
    let s = p.jit.as_ref();
    let ms = |v: Option<f64>| v.map_or("-".into(), |x| format!("{:.1}", x));
    let wall = |c: Column| secs(p.median_wall(c), available.contains(&c));
    let speedup = match (p.median_wall(Column::Jit), p.median_wall(Column::Interp)) {
        (Some(j), Some(i)) if j > 0.0 => Some(i / j),
        _ => None,
    };
    vec![
        p.name(),
        ms(s.and_then(|s| s.first_compiled_ms)),
        ms(s.map(|s| s.compile_ms)),
        ms(s.map(|s| s.llvm_warm_up_ms)),
        wall(Column::Jit),
        s.and_then(|s| s.compile_share)
            .map_or("-".into(), |x| format!("{:.1}%", x * 100.0)),
        wall(Column::Interp),
        wall(Column::Python3),
        wall(Column::PyPy3),
        ratio(speedup),
    ]
}

/// An empty curve table.
pub fn curve_table() -> Table {
    Table::new(
        3,
        &[
            ("program", 14),
            ("timing", 14),
            ("runtime", 20),
            ("iterations", 10),
            ("first chunk /it", 10),
            ("steady /it", 10),
            ("within 2x steady after (it)", 10),
            ("warm-up cost ms", 10),
        ],
    )
}

/// The curve rows of one program: one per timing and runtime with a curve.
pub fn curve_rows(p: &ProgramResult) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for t in &p.curves {
        for c in COLUMNS {
            let Some(s) = summarize(&t.median_curve(c)) else {
                continue;
            };
            let program = if rows.is_empty() { p.name() } else { String::new() };
            rows.push(vec![
                program,
                t.name.clone(),
                c.label().to_string(),
                s.iterations.to_string(),
                si_label(s.first, "s"),
                si_label(s.steady, "s"),
                s.steady_after.to_string(),
                format!("{:.1}", s.excess_secs * 1000.0),
            ]);
        }
    }
    rows
}

/// The "must show" checks, one line each: compile time under
/// [`COMPILE_SHARE_LIMIT`] of the JIT run's wall time, and the JIT process no slower
/// than the interpreter's (meant for `--size tenth`).
pub fn must_show(b: &Bench) -> Vec<String> {
    let names = |f: &dyn Fn(&ProgramResult) -> Option<bool>| -> (Vec<String>, usize) {
        let judged: Vec<(String, bool)> = b
            .programs
            .iter()
            .filter(|p| p.params.is_none())
            .filter_map(|p| Some((p.name(), f(p)?)))
            .collect();
        let failed = judged.iter().filter(|j| !j.1).map(|j| j.0.clone()).collect();
        (failed, judged.len())
    };
    let (slow_compile, n) = names(&|p| Some(p.jit.as_ref()?.compile_share? < COMPILE_SHARE_LIMIT));
    let (slow_jit, m) = names(&|p| Some(p.median_wall(Column::Jit)? <= p.median_wall(Column::Interp)?));
    let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    vec![
        format!(
            "compile time under {:.0}% of the JIT run's wall time ({} size): {} of {} programs; over: {}",
            COMPILE_SHARE_LIMIT * 100.0,
            b.size.name(),
            n - slow_compile.len(),
            n,
            list(&slow_compile)
        ),
        format!(
            "JIT process not slower than the interpreter's ({} size): {} of {} programs; slower: {}",
            b.size.name(),
            m - slow_jit.len(),
            m,
            list(&slow_jit)
        ),
    ]
}

/// The four tables for a finished benchmark.
pub fn tables(b: &Bench) -> [Table; 4] {
    let mut timing = timing_table();
    let mut jit = jit_table();
    let mut warm = warmup_table();
    let mut curves = curve_table();
    for p in &b.programs {
        timing.rows.extend(program_timing_rows(p, &b.available));
        let Some(params) = &p.params else {
            jit.rows.push(jit_cells(&p.name(), p.jit.as_ref()));
            warm.rows.push(warmup_cells(p, &b.available));
            curves.rows.extend(curve_rows(p));
            continue;
        };
        // A JIT variant ran the JIT only: no wall times to compare, no curves.
        jit.rows
            .push(jit_cells(&format!("{} ({})", p.name(), params), p.jit.as_ref()));
    }
    [timing, jit, warm, curves]
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
    let [timing, jit, warm, curves] = tables(b);
    let mut out = format!(
        "{} — {}, {} cores, {}; medians of {} runs{}\n\n{}\nJIT (from `pylite run --jit on --stats`; iterations: share of the interpreter-only run's loop iterations run in compiled code):\n{}",
        b.command,
        b.machine.cpu,
        b.machine.cores,
        b.date,
        b.runs,
        if b.warmup_only { "; warm-up variants only" } else { "" },
        timing.text(),
        jit.text()
    );
    out += &format!(
        "\nwarm-up (first compiled: ms from VM start to the first entry into compiled code; compile / JIT wall: compile time, on any thread, over the JIT process's wall time):\n{}\nwarm-up curves (time per iteration of each hot loop in chunks; steady: median of the second half; within 2x after: iterations run before a chunk first comes within 2x of steady; warm-up cost: time beyond all iterations at steady speed):\n{}\n{}\n",
        warm.text(),
        curves.text(),
        must_show(b).join("\n")
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
    let [timing, jit, warm, curves] = tables(b);
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
    out += &warmup_markdown(b, &warm, &curves);
    let notes = notes(b);
    if !notes.is_empty() {
        out += &format!(
            "\n## Notes\n\n{}\n",
            notes.iter().map(|n| format!("- {}\n", n)).collect::<String>()
        );
    }
    out
}

/// The Markdown page's warm-up section.
fn warmup_markdown(b: &Bench, warm: &Table, curves: &Table) -> String {
    let mut out = format!(
        "\n## Warm-up\n\n{}*First compiled*: milliseconds from the VM's creation to the first \
         entry into compiled code (median of the JIT runs). *Compile*: optimize + compile time \
         of all units and tiers; *LLVM warm-up*: the compiler thread's one-time LLVM set-up \
         before its first LLVM unit (building a small trace at that unit's level — the \
         optimized one when the first tier is baseline — and discarding it, so the first \
         unit does not pay it), not included in *compile*; *compile / JIT wall* \
         divides each JIT run's compile time by that process's wall time (start to exit, \
         measured by the bench) and takes the median. When compilation runs on a background thread, this is that thread's time, still \
         divided by wall time. *Wall*: whole-process wall times (start-up and data \
         generation included).\n\n{}\n{}\n",
        if b.warmup_only {
            "From the warm-up variants' runs (`pylite bench --warmup`). "
        } else {
            ""
        },
        warm.markdown(),
        must_show(b).iter().map(|l| format!("- {}\n", l)).collect::<String>()
    );
    out += &format!(
        "\n### Time per iteration as the hot loops run\n\nEach program's warm-up variant \
         (`pylite/programs/warmup/`) runs the same work and marks its hot loop after 16, 32, 64, \
         ... iterations (doubling until a chunk is 1/128 of the work, then every 1/128); a \
         chunk's time per iteration is the median over the runs. *Steady*: the median time per \
         iteration of the chunks in the second half; *within 2x steady after*: iterations run \
         before a chunk first comes within 2x of steady; *warm-up cost*: the loop's time beyond \
         what all its iterations would take at the steady speed (interpreting, recording, \
         compiling, slow early code). The marks themselves cost an \
         increment and a compare per iteration, and their rare branch may get a bridge \
         compiled.\n\n{}",
        curves.markdown()
    );
    for (name, link) in &b.plots {
        out += &format!("\n![{name}: time per iteration]({link})\n");
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
    fn warmup_cells_show_share_and_walls() {
        let mut p = ProgramResult::new("pi.py", vec![]);
        p.wall[Column::Interp as usize] = vec![2.0, 4.0, 3.0];
        p.wall[Column::Jit as usize] = vec![1.5];
        p.jit = Some(JitSummary {
            loops: 1,
            bridges: 0,
            aborts: 0,
            compile_ms: 150.0,
            code_bytes: 0,
            loop_entries: 1,
            exits: 1,
            allocations: 0,
            interp_iterations_jit_run: 0,
            loop_iterations: 0,
            first_compiled_ms: Some(12.34),
            llvm_warm_up_ms: 3.25,
            wall_secs: Some(1.5),
            compile_share: Some(0.1),
        });
        let available = [Column::Interp, Column::Jit, Column::Python3];
        assert_eq!(
            warmup_cells(&p, &available),
            ["pi", "12.3", "150.0", "3.2", "1.5000", "10.0%", "3.0000", "failed", "n/a", "2.00x"]
        );
        // A JIT variant (slower, compiling more) is left out of the warm-up checks.
        let mut variant = p.clone();
        variant.params = Some("merge=off".into());
        variant.wall[Column::Jit as usize] = vec![10.0];
        let b = Bench {
            machine: super::super::Machine {
                cpu: "x".into(),
                cores: 1,
            },
            date: "d".into(),
            command: "c".into(),
            size: super::super::Size::Tenth,
            runs: 1,
            available: available.to_vec(),
            programs: vec![p.clone(), ProgramResult::new("other.py", vec![]), variant],
            warmup_only: true,
            plots: vec![("pi".into(), "warmup/pi.svg".into())],
        };
        let [_, jit, warm, _] = tables(&b);
        let jit_names: Vec<&str> = jit.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(jit_names, ["pi", "other", "pi (merge=off)"]);
        assert_eq!(warm.rows.len(), 2);
        let checks = must_show(&b);
        assert!(checks[0].contains("0 of 1 programs; over: pi"), "{}", checks[0]);
        assert!(checks[1].contains("1 of 1 programs; slower: none"), "{}", checks[1]);
        let md = markdown_report(&b);
        assert!(md.contains("## Warm-up") && md.contains("(`pylite bench --warmup`)"));
        assert!(md.contains("![pi: time per iteration](warmup/pi.svg)"));
        assert!(text_report(&b).contains("warm-up variants only"));
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
