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
}

impl JitSummary {
    /// Folds the reports of a program's runs; `None` without a JIT report.
    pub fn from_reports(jit: &[JitReport], interp: &[JitReport]) -> Option<JitSummary> {
        let first = jit.first()?;
        let compile: Vec<f64> = jit.iter().map(|r| r.compile_secs * 1000.0).collect();
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
            compile_secs,
            code_bytes: 1000,
            loop_entries: 4,
            exits: 9,
            interp_loop_iterations: iters,
            allocations_interp: alloc_interp,
            allocations_jit: alloc_jit,
            first_compiled_secs: None,
        }
    }

    #[test]
    fn folds_runs_into_one_summary() {
        let jit = [
            report(3, 0.010, 100, 40, 10),
            report(3, 0.030, 100, 40, 10),
            report(3, 0.020, 100, 40, 10),
        ];
        let interp = [report(0, 0.0, 1000, 500, 0)];
        let s = JitSummary::from_reports(&jit, &interp).unwrap();
        assert_eq!(s.loops, 3);
        assert!((s.compile_ms - 20.0).abs() < 1e-9);
        assert_eq!(s.allocations, 50);
        assert_eq!(s.loop_iterations, 1000);
        assert_eq!(s.allocations_per_iteration(), Some(0.05));
        assert_eq!(s.compiled_share(), Some(0.9));
    }

    #[test]
    fn no_iterations_no_ratios() {
        let s = JitSummary::from_reports(&[report(1, 0.0, 0, 5, 0)], &[]).unwrap();
        assert_eq!(s.allocations_per_iteration(), None);
        assert_eq!(s.compiled_share(), None);
        assert_eq!(JitSummary::from_reports(&[], &[]), None);
    }
}
