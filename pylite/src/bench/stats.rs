//! # What the JIT did for one program, from the `--stats` files of its runs
//!
//! Each benchmark program runs several times under `pylite run --jit on` and under
//! `--jit off`, each run writing its `JitReport`. This module folds them into one
//! [`JitSummary`] per program: counts from the first JIT run (they do not depend on
//! timing), the median compile time, and two derived numbers:
//!
//! * **share of loop iterations run in compiled code** — one minus the JIT run's
//!   interpreted back-edges over the interpreter-only run's;
//! * **objects allocated per loop iteration (whole run)** — every object the JIT run
//!   allocated (interpreter, builtins, compiled code, exits) divided by the number of
//!   loop iterations the program executes (the interpreter-only run's back-edge
//!   count). It covers set-up code too, so it is an upper bound on the steady state's
//!   allocation rate, not a measurement of it.

use super::measure::median;
use crate::jit::JitReport;

/// One JIT run: its stats file and its process's wall time.
#[derive(Clone, Debug, PartialEq)]
pub struct JitRun {
    pub report: JitReport,
    /// Seconds from starting the `pylite` process to its exit.
    pub wall_secs: f64,
}

/// `compile_secs` as a share (0..) of `wall_secs`; `None` without a wall time.
pub fn compile_share(compile_secs: f64, wall_secs: f64) -> Option<f64> {
    (wall_secs > 0.0 && compile_secs.is_finite()).then(|| compile_secs / wall_secs)
}

/// The JIT's work on one program.
#[derive(Clone, Debug, PartialEq)]
pub struct JitSummary {
    pub loops: u64,
    pub bridges: u64,
    pub aborts: u64,
    /// Median over the JIT runs, in milliseconds.
    pub compile_ms: f64,
    pub code_bytes: u64,
    pub loop_entries: u64,
    pub exits: u64,
    /// Objects allocated by the JIT run (interpreter + compiled code).
    pub allocations: u64,
    /// Loop back-edges the interpreter executed in the JIT run.
    pub interp_iterations_jit_run: u64,
    /// Loop back-edges in the interpreter-only run: the program's iterations.
    pub loop_iterations: u64,
    /// Median time to the first compiled iteration, in milliseconds (`None`: no run
    /// entered compiled code).
    pub first_compiled_ms: Option<f64>,
    /// Median milliseconds the compiler thread spent warming LLVM up (one-time set-up,
    /// not in `compile_ms`).
    pub llvm_warm_up_ms: f64,
    /// Median JIT process wall time, in seconds.
    pub wall_secs: Option<f64>,
    /// Median of each run's compile seconds over its wall seconds.
    pub compile_share: Option<f64>,
}

impl JitSummary {
    /// Folds the reports of a program's runs; `None` without a JIT report.
    pub fn from_reports(jit: &[JitRun], interp: &[JitReport]) -> Option<JitSummary> {
        let first = &jit.first()?.report;
        let compile: Vec<f64> = jit.iter().map(|r| r.report.compile_secs * 1000.0).collect();
        let first_compiled: Vec<f64> = jit
            .iter()
            .filter_map(|r| r.report.first_compiled_secs.map(|s| s * 1000.0))
            .collect();
        let warm_up: Vec<f64> = jit.iter().map(|r| r.report.llvm_warm_up_secs * 1000.0).collect();
        let walls: Vec<f64> = jit.iter().map(|r| r.wall_secs).collect();
        let shares: Vec<f64> = jit
            .iter()
            .filter_map(|r| compile_share(r.report.compile_secs, r.wall_secs))
            .collect();
        Some(JitSummary {
            loops: first.loops,
            bridges: first.bridges,
            aborts: first.aborts,
            compile_ms: median(&compile).unwrap_or(0.0),
            code_bytes: first.code_bytes,
            loop_entries: first.loop_entries,
            exits: first.exits,
            allocations: first.allocations_interp + first.allocations_jit,
            interp_iterations_jit_run: first.interp_loop_iterations,
            loop_iterations: interp.first().map_or(0, |r| r.interp_loop_iterations),
            first_compiled_ms: median(&first_compiled),
            llvm_warm_up_ms: median(&warm_up).unwrap_or(0.0),
            wall_secs: median(&walls),
            compile_share: median(&shares),
        })
    }

    /// Objects allocated per loop iteration over the whole run (see the module notes).
    pub fn allocations_per_iteration(&self) -> Option<f64> {
        (self.loop_iterations > 0).then(|| self.allocations as f64 / self.loop_iterations as f64)
    }

    /// The share of loop iterations that ran in compiled code (0..=1).
    pub fn compiled_share(&self) -> Option<f64> {
        (self.loop_iterations > 0)
            .then(|| 1.0 - (self.interp_iterations_jit_run as f64 / self.loop_iterations as f64).min(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(loops: u64, compile_secs: f64, iters: u64, alloc_interp: u64, alloc_jit: u64) -> JitReport {
        JitReport {
            enabled: true,
            loops,
            bridges: 2,
            regions: 0,
            aborts: 1,
            given_up: 0,
            compile_secs,
            llvm_warm_up_secs: 0.004,
            code_bytes: 1000,
            loop_entries: 4,
            exits: 9,
            interp_loop_iterations: iters,
            allocations_interp: alloc_interp,
            allocations_jit: alloc_jit,
            first_compiled_secs: (loops > 0).then_some(0.001 * loops as f64),
        }
    }

    fn run(report: JitReport, wall_secs: f64) -> JitRun {
        JitRun { report, wall_secs }
    }

    #[test]
    fn folds_runs_into_one_summary() {
        let jit = [
            run(report(3, 0.010, 100, 40, 10), 0.1),
            run(report(3, 0.030, 100, 40, 10), 1.0),
            run(report(3, 0.020, 100, 40, 10), 0.8),
        ];
        let interp = [report(0, 0.0, 1000, 500, 0)];
        let s = JitSummary::from_reports(&jit, &interp).unwrap();
        assert_eq!(s.loops, 3);
        assert!((s.compile_ms - 20.0).abs() < 1e-9);
        assert!((s.llvm_warm_up_ms - 4.0).abs() < 1e-9, "{}", s.llvm_warm_up_ms);
        assert_eq!(s.allocations, 50);
        assert_eq!(s.loop_iterations, 1000);
        assert_eq!(s.allocations_per_iteration(), Some(0.05));
        assert_eq!(s.compiled_share(), Some(0.9));
        assert_eq!(s.first_compiled_ms, Some(3.0));
        assert_eq!(s.wall_secs, Some(0.8));
        // Shares per run: 10%, 3%, 2.5%; the median is a run's share (3%), not the
        // median compile time over the median wall time (2.5%).
        assert!((s.compile_share.unwrap() - 0.03).abs() < 1e-12);
    }

    #[test]
    fn compile_share_is_compile_over_wall() {
        assert_eq!(compile_share(0.05, 0.5), Some(0.1));
        assert_eq!(compile_share(0.0, 2.0), Some(0.0));
        assert_eq!(compile_share(1.0, 0.0), None);
        assert_eq!(compile_share(f64::NAN, 1.0), None);
    }

    #[test]
    fn no_iterations_no_ratios() {
        let s = JitSummary::from_reports(&[run(report(0, 0.0, 0, 5, 0), 0.0)], &[]).unwrap();
        assert_eq!(s.allocations_per_iteration(), None);
        assert_eq!(s.compiled_share(), None);
        assert_eq!((s.first_compiled_ms, s.compile_share), (None, None));
        assert_eq!(JitSummary::from_reports(&[], &[]), None);
    }
}
