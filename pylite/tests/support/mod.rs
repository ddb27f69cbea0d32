//! Helpers shared by pylite's JIT tests.

use pylite::jit::JitReport;

/// `what` compiled a loop, and with the JIT the interpreter ran less than `1/n` of the
/// loop iterations it runs without it (`off`).
pub fn jit_ran(what: &str, off: &JitReport, on: &JitReport, n: u64) {
    assert!(on.loops >= 1, "{what}: no loop compiled: {on:?}");
    assert!(
        on.interp_loop_iterations * n < off.interp_loop_iterations,
        "{what}: the interpreter still ran {} of {} iterations",
        on.interp_loop_iterations,
        off.interp_loop_iterations
    );
}
