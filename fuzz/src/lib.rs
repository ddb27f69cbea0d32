//! # The fuzzers' shared harness
//!
//! Four libFuzzer targets (`fuzz_targets/*.rs`) are thin wrappers around the checks
//! here, so that a finding can be replayed from a test or a debugger by calling the
//! same function on the same bytes:
//!
//! - [`parse::check`]: arbitrary bytes into the IR text parser and verifier (errors,
//!   never panics; print→parse→print is the identity on valid traces), and valid
//!   traces into the optimizer and the interpreter (errors, never panics).
//! - [`opt_diff::check`]: a generated trace run by the reference interpreter before
//!   and after the optimizer (the default pipeline, each pass alone, and a pass
//!   sequence the bytes choose); outcomes must agree.
//! - [`llvm_diff::check`]: the same generated traces compiled by the LLVM backend at
//!   both levels, and a chain of parent, bridge and jump targets wired at run time,
//!   each compared with the interpreter.
//! - [`pylite_diff::check`]: a generated pylite program run by pylite's interpreter
//!   and with its JIT on at low thresholds, both levels; output and outcome must agree.
//!
//! The differential targets do not parse their bytes: the IR targets read a few control
//! bytes and seed the RNG of `leones_ir::gen`'s strategies with the next 32
//! ([`input`]); `pylite_diff` mixes its bytes into the program generator's draws.
//! Every byte string is therefore a valid (if sometimes tiny) test case.
//!
//! The differential oracles are the ones the workspace's own tests use, included from
//! their files rather than copied: `opt/tests/common` (`observe`, which compares exits
//! by resume position and rebuilt state, and the pure-call evaluator),
//! `backend-llvm/tests/common` (`differential`, interpreter against native code) and
//! `pylite/tests/progen` (the program generator and the `jit_diff` test's check).

pub mod input;
pub mod llvm_diff;
pub mod opt_diff;
pub mod parse;
pub mod pylite_diff;

/// The optimizer tests' oracle: `observe` and `TestHostEval`.
#[path = "../../opt/tests/common/mod.rs"]
pub mod opt_oracle;

/// The backend tests' oracle: `differential` and `backends`.
#[path = "../../backend-llvm/tests/common/mod.rs"]
pub mod llvm_oracle;

/// pylite's program generator and differential check (the `jit_diff` test's).
#[path = "../../pylite/tests/progen/mod.rs"]
pub mod progen;
