//! # progen: small random pylite programs for differential testing
//!
//! `generate(seed)` returns a deterministic, self-contained Python program that stays
//! inside pylite's subset and also means the same thing under CPython (checked by the
//! ignored test `jit_diff::generator_matches_cpython`). The programs are shaped for a
//! tracing JIT: loops of 50–300 iterations with nested loops inside, data-dependent
//! branches, calls, objects, lists, tuples, `None` checks and planned exceptions, so
//! that with low thresholds traces are recorded, bridges attached and guards fail.
//!
//! The generator is type- and bound-directed rather than grammar-random, so every
//! program runs to completion (or to its planned error) — see `ctx.rs` for the
//! invariants, `expr.rs` and `stmt.rs` for what is generated, `program.rs` for the
//! program's shape. `generate_from_bytes` lets a fuzzer steer the same decisions
//! (`rng.rs`), and `diff.rs` is the differential check itself, shared by the
//! `jit_diff` test and the `pylite_diff` fuzz target (which includes this directory
//! by path: `fuzz/src/lib.rs`).

mod ctx;
pub mod diff;
mod expr;
mod program;
mod rng;
mod stmt;

pub use program::{generate, generate_from_bytes, Expect, Program};
