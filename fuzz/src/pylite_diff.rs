//! # `pylite_diff`: pylite's JIT never changes what a Python program does
//!
//! The input steers pylite's program generator (`pylite/tests/progen`, included by
//! path as [`crate::progen`]): the first byte picks the JIT's thresholds, the rest are
//! mixed into the generator's draws, eight bytes a decision
//! (`progen::generate_from_bytes`), so a mutated byte changes one decision — a loop
//! bound, an operator, a branch — and the program around it stays. Every generated
//! program runs to completion or to the exception it was built to raise, and means the
//! same in CPython.
//!
//! The program runs in-process on the interpreter alone and then with the JIT at both
//! LLVM levels (`Optimized`, `Quick`), with a loop threshold of 1–4 and a bridge
//! threshold of 1–4 (so traces, bridges and guard failures happen within a few
//! iterations); standard output and the outcome (`Ok`, or the same exception with the
//! same traceback) must be identical. The check is the `jit_diff` test's own
//! (`progen::diff::compare`); a finding panics with the whole case: the program with
//! line numbers, the JIT setting, where the outputs first differ, both outcomes.

use crate::progen::diff::compare;
use crate::progen::generate_from_bytes;
use pylite::jit::{JitConfig, Level, Params};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Loops compiled, bridges attached and exits taken by every JIT run so far (the
/// harness test checks that the programs really exercise them).
pub static LOOPS: AtomicU64 = AtomicU64::new(0);
pub static BRIDGES: AtomicU64 = AtomicU64::new(0);
pub static EXITS: AtomicU64 = AtomicU64::new(0);

/// The JIT settings an input runs under: its first byte picks the thresholds.
pub fn jit_configs(control: u8) -> Vec<(String, JitConfig)> {
    let threshold = 1 + u32::from(control % 4);
    let bridge_threshold = 1 + u32::from(control / 4 % 4);
    [Level::Optimized, Level::Quick]
        .into_iter()
        .map(|level| {
            let mut config = JitConfig::with_params(Params {
                threshold,
                bridge_threshold,
                ..Default::default()
            });
            config.level = level;
            let label = format!("jit threshold={threshold} bridge_threshold={bridge_threshold} level={level:?}");
            (label, config)
        })
        .collect()
}

pub fn check(data: &[u8]) {
    let (control, steer) = data.split_first().map_or((0, data), |(&c, rest)| (c, rest));
    let program = generate_from_bytes(steer);
    let found = compare(&program, &jit_configs(control));
    for report in &found.reports {
        LOOPS.fetch_add(report.loops, Relaxed);
        BRIDGES.fetch_add(report.bridges, Relaxed);
        EXITS.fetch_add(report.exits, Relaxed);
    }
    assert!(
        found.failures.is_empty(),
        "pylite_diff: {} failures; the first:\n{}",
        found.failures.len(),
        found.failures.join("\n\n")
    );
}
