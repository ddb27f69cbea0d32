//! # Warm-up curves: how the time per iteration of a hot loop changes as it runs
//!
//! Each talk program has a warm-up variant in `programs/warmup/` that runs the same
//! workload and marks its hot loop after iteration 16, 32, 64, ... (doubling until a
//! chunk is 1/128 of the work, then in steps of that size), and at the end prints one
//! line per mark:
//!
//! ```text
//! chunk NAME ITERATIONS SECONDS     (both cumulative since the loop started)
//! ```
//!
//! The variants print nothing else that differs from the talk program (same results,
//! same `name: X secs` lines), so the bench runs them like any program. This module
//! turns the marks into [`Chunk`]s (iterations and seconds between two marks), folds
//! the runs of a runtime into one curve (the median of each chunk over the runs, which
//! all have the same boundaries because the marks depend only on the arguments),
//! summarizes a curve ([`CurveSummary`]: first chunk, steady state, when it got there)
//! and lays the curves of a program out as a [`Plot`], one panel per timing.
//!
//! Invariants the parser checks (a violation is an error naming the line, never a
//! panic): marks of one name have non-decreasing iterations and seconds; every
//! `chunk` line has exactly a name and two numbers. A mark repeating the previous
//! one's iterations is the end of a loop that ended on a mark, and is skipped. The
//! loop's last
//! mark is its end, so its last chunk is whatever remained after the mark before
//! (often one iteration plus the loop's exit); when it is less than half its
//! predecessor it is merged into it rather than shown as an iteration time.

use super::measure::median;
use super::svg::{Panel, Plot, Series};
use super::{Column, COLUMNS};

/// The iterations between two marks of a hot loop and the time they took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chunk {
    /// Cumulative iterations at the chunk's end.
    pub end: u64,
    /// Iterations in the chunk.
    pub iterations: u64,
    pub secs: f64,
}

impl Chunk {
    /// Seconds per iteration in this chunk.
    pub fn secs_per_iteration(&self) -> f64 {
        self.secs / self.iterations as f64
    }
}

/// Whether `line` is a chunk line (however malformed).
fn is_chunk_line(line: &str) -> bool {
    line.starts_with("chunk ")
}

/// The output without its chunk lines.
pub fn strip_chunks(out: &str) -> String {
    out.lines()
        .filter(|l| !is_chunk_line(l))
        .map(|l| format!("{}\n", l))
        .collect()
}

/// Parses the chunk lines of a run's output: per timing name, in order of first
/// appearance, its chunks.
pub fn parse_chunks(out: &str) -> Result<Vec<(String, Vec<Chunk>)>, String> {
    let mut curves: Vec<(String, Vec<Chunk>)> = Vec::new();
    // The last mark of each curve: (iterations, seconds).
    let mut last: Vec<(u64, f64)> = Vec::new();
    for line in out.lines().filter(|l| is_chunk_line(l)) {
        let bad = |why: &str| format!("bad chunk line {:?}: {}", line, why);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, name, iterations, secs] = fields[..] else {
            return Err(bad("expected `chunk NAME ITERATIONS SECONDS`"));
        };
        let iterations: u64 = iterations.parse().map_err(|_| bad("iterations is not a count"))?;
        let secs: f64 = secs
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite())
            .ok_or_else(|| bad("seconds is not a number"))?;
        let i = match curves.iter().position(|c| c.0 == name) {
            Some(i) => i,
            None => {
                curves.push((name.to_string(), Vec::new()));
                last.push((0, 0.0));
                curves.len() - 1
            }
        };
        let (prev_iterations, prev_secs) = last[i];
        if iterations < prev_iterations || secs < prev_secs || iterations == 0 {
            return Err(bad("marks must increase"));
        }
        if iterations == prev_iterations {
            continue;
        }
        curves[i].1.push(Chunk {
            end: iterations,
            iterations: iterations - prev_iterations,
            secs: secs - prev_secs,
        });
        last[i] = (iterations, secs);
    }
    for (_, chunks) in &mut curves {
        merge_remainder(chunks);
    }
    Ok(curves)
}

/// Merges a last chunk of less than half its predecessor's iterations into it.
fn merge_remainder(chunks: &mut Vec<Chunk>) {
    if let [.., before, last] = chunks[..] {
        if last.iterations * 2 < before.iterations {
            chunks.pop();
            *chunks.last_mut().expect("two chunks") = Chunk {
                end: last.end,
                iterations: before.iterations + last.iterations,
                secs: before.secs + last.secs,
            };
        }
    }
}

/// One timing's curves: the chunks of every run of every runtime.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimingCurves {
    pub name: String,
    /// Per runtime (indexed by `Column as usize`), the chunks of each run.
    pub runs: [Vec<Vec<Chunk>>; 4],
}

impl TimingCurves {
    /// The runtime's curve: each chunk's median seconds over the runs whose chunk
    /// boundaries are the first run's (all of them, unless a run was cut short).
    pub fn median_curve(&self, c: Column) -> Vec<Chunk> {
        let runs = &self.runs[c as usize];
        let Some(first) = runs.first() else { return Vec::new() };
        let same: Vec<&Vec<Chunk>> = runs
            .iter()
            .filter(|r| r.len() == first.len() && r.iter().zip(first).all(|(a, b)| a.end == b.end))
            .collect();
        first
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let secs: Vec<f64> = same.iter().map(|r| r[i].secs).collect();
                Chunk {
                    secs: median(&secs).unwrap_or(chunk.secs),
                    ..*chunk
                }
            })
            .collect()
    }
}

/// Adds one run's parsed chunk lines to a program's curves.
pub fn add_run(curves: &mut Vec<TimingCurves>, c: Column, run: Vec<(String, Vec<Chunk>)>) {
    for (name, chunks) in run {
        let i = match curves.iter().position(|t| t.name == name) {
            Some(i) => i,
            None => {
                curves.push(TimingCurves {
                    name,
                    ..Default::default()
                });
                curves.len() - 1
            }
        };
        curves[i].runs[c as usize].push(chunks);
    }
}

/// How a time-per-iteration curve starts and where it settles.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveSummary {
    pub chunks: usize,
    /// Iterations of the whole loop.
    pub iterations: u64,
    /// Seconds per iteration of the first chunk.
    pub first: f64,
    /// Steady state: the median seconds per iteration of the chunks that end in the
    /// second half of the iterations.
    pub steady: f64,
    /// Iterations run before the first chunk no more than twice as slow per
    /// iteration as the steady state.
    pub steady_after: u64,
    /// Warm-up cost: the seconds the loop took beyond its iterations at the steady
    /// state's speed (interpretation, recording, compiling, slow early code; can be
    /// negative when early chunks were faster).
    pub excess_secs: f64,
}

/// Summarizes a curve; `None` when it has no chunk.
pub fn summarize(chunks: &[Chunk]) -> Option<CurveSummary> {
    let last = chunks.last()?;
    let late: Vec<f64> = chunks
        .iter()
        .filter(|c| c.end > last.end / 2)
        .map(Chunk::secs_per_iteration)
        .collect();
    let steady = median(&late)?;
    let settled = chunks
        .iter()
        .position(|c| c.secs_per_iteration() <= 2.0 * steady)
        .unwrap_or(chunks.len() - 1);
    let total: f64 = chunks.iter().map(|c| c.secs).sum();
    Some(CurveSummary {
        chunks: chunks.len(),
        iterations: last.end,
        first: chunks[0].secs_per_iteration(),
        steady,
        steady_after: settled.checked_sub(1).map_or(0, |i| chunks[i].end),
        excess_secs: total - steady * last.end as f64,
    })
}

/// A runtime's colour in plots.
fn color(c: Column) -> &'static str {
    match c {
        Column::Interp => "#7f7f7f",
        Column::Jit => "#d62728",
        Column::Python3 => "#1f77b4",
        Column::PyPy3 => "#2ca02c",
    }
}

/// A program's plot: one panel per timing, one series per runtime that has a curve
/// (x: cumulative iterations at a chunk's end, y: seconds per iteration).
pub fn plot(program: &str, curves: &[TimingCurves]) -> Plot {
    let panels = curves
        .iter()
        .map(|t| Panel {
            title: t.name.clone(),
            series: COLUMNS
                .iter()
                .map(|&c| Series {
                    label: c.label().to_string(),
                    color: color(c).to_string(),
                    points: t
                        .median_curve(c)
                        .iter()
                        .map(|k| (k.end as f64, k.secs_per_iteration()))
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect(),
        })
        .collect();
    Plot {
        title: format!("{}: time per iteration as the hot loop runs (medians of runs)", program),
        x_label: "iterations run (log)".into(),
        y_label: "seconds per iteration (log)".into(),
        panels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(end: u64, iterations: u64, secs: f64) -> Chunk {
        Chunk { end, iterations, secs }
    }

    #[test]
    fn chunk_lines_become_chunks_per_timing() {
        let out = "chunk loop 16 0.5\nP = 3\nchunk gen 16 0.25\nchunk loop 48 0.75\nloop: 1.0 secs\n";
        let curves = parse_chunks(out).unwrap();
        assert_eq!(
            curves,
            vec![
                ("loop".to_string(), vec![chunk(16, 16, 0.5), chunk(48, 32, 0.25)]),
                ("gen".to_string(), vec![chunk(16, 16, 0.25)]),
            ]
        );
        assert_eq!(curves[0].1[1].secs_per_iteration(), 0.25 / 32.0);
        assert_eq!(strip_chunks(out), "P = 3\nloop: 1.0 secs\n");
        // A remainder of 1 iteration after a chunk of 16 joins it; one of 8 does not.
        let tail =
            parse_chunks("chunk a 16 1.0\nchunk a 32 2.0\nchunk a 33 3.0\nchunk b 16 1.0\nchunk b 24 2.0").unwrap();
        assert_eq!(tail[0].1, [chunk(16, 16, 1.0), chunk(33, 17, 2.0)]);
        assert_eq!(tail[1].1, [chunk(16, 16, 1.0), chunk(24, 8, 1.0)]);
        assert_eq!(parse_chunks("no chunks\n"), Ok(vec![]));
        // A loop that ended on a mark repeats it.
        let repeated = parse_chunks("chunk a 16 1.0\nchunk a 16 1.5").unwrap();
        assert_eq!(repeated[0].1, [chunk(16, 16, 1.0)]);
    }

    #[test]
    fn bad_chunk_lines_are_errors() {
        for bad in [
            "chunk loop 16",
            "chunk loop 16 0.5 extra",
            "chunk loop -3 0.5",
            "chunk loop 16 soon",
            "chunk loop 16 inf",
            "chunk loop 16 0.5\nchunk loop 15 0.6",
            "chunk loop 16 0.5\nchunk loop 32 0.4",
            "chunk loop 0 0.0",
        ] {
            let e = parse_chunks(bad).unwrap_err();
            assert!(e.starts_with("bad chunk line"), "{}: {}", bad, e);
        }
    }

    #[test]
    fn runs_fold_into_median_curves() {
        let mut curves = Vec::new();
        for secs in [[1.0, 3.0], [2.0, 1.0], [9.0, 2.0]] {
            let run = vec![("pi".to_string(), vec![chunk(10, 10, secs[0]), chunk(30, 20, secs[1])])];
            add_run(&mut curves, Column::Jit, run);
        }
        // A run cut short does not take part.
        add_run(
            &mut curves,
            Column::Jit,
            vec![("pi".to_string(), vec![chunk(10, 10, 100.0)])],
        );
        assert_eq!(curves.len(), 1);
        assert_eq!(
            curves[0].median_curve(Column::Jit),
            [chunk(10, 10, 2.0), chunk(30, 20, 2.0)]
        );
        assert_eq!(curves[0].median_curve(Column::Interp), []);
    }

    #[test]
    fn summaries_find_the_steady_state() {
        // 1 s/iteration, then a compile spike, then 0.01 s/iteration with a late slow
        // chunk (3x, noise that does not move the arrival) and a fast one.
        let chunks = [
            chunk(10, 10, 10.0),
            chunk(20, 10, 50.0),
            chunk(40, 20, 0.2),
            chunk(80, 40, 0.4),
            chunk(120, 40, 1.2),
            chunk(160, 40, 0.4),
            chunk(200, 40, 0.2),
        ];
        let s = summarize(&chunks).unwrap();
        assert_eq!((s.chunks, s.iterations), (7, 200));
        assert_eq!(s.first, 1.0);
        assert_eq!(s.steady, 0.01);
        assert_eq!(s.steady_after, 20);
        // 62.4 s in all; 200 iterations at 0.01 s would take 2 s.
        assert!((s.excess_secs - 60.4).abs() < 1e-9, "{}", s.excess_secs);
        let flat = summarize(&[chunk(10, 10, 1.0), chunk(20, 10, 1.0)]).unwrap();
        assert_eq!(flat.steady_after, 0);
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn plots_have_a_panel_per_timing_and_a_series_per_runtime_with_data() {
        let mut curves = Vec::new();
        add_run(&mut curves, Column::Interp, vec![("a".into(), vec![chunk(4, 4, 2.0)])]);
        add_run(&mut curves, Column::Jit, vec![("a".into(), vec![chunk(4, 4, 1.0)])]);
        add_run(&mut curves, Column::Jit, vec![("b".into(), vec![chunk(8, 8, 1.0)])]);
        let p = plot("x", &curves);
        assert_eq!(p.panels.len(), 2);
        let labels: Vec<&str> = p.panels[0].series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, [Column::Interp.label(), Column::Jit.label()]);
        assert_eq!(p.panels[0].series[0].points, [(4.0, 0.5)]);
        assert_eq!(p.panels[1].series.len(), 1);
    }
}
