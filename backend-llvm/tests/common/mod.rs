//! Shared helpers of the differential tests: run one trace under the reference
//! interpreter and natively (at a given level), and compare the canonical
//! `describe_outcome` texts (values, exit guard, exit frames, virtuals' fields, the
//! exception flag and every heap object reachable from them).
#![allow(dead_code)]

use leones_backend_llvm::{Backend, HostHooks, Level, NativeFault, RunError, UnitOptions};
use leones_ir::interp::{describe_outcome, Fault, FnTable, Heap, Interpreter, Outcome, Val};
use leones_ir::Trace;

/// What a differential run concluded.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Both ran and agreed (the text is the shared description).
    Same(String),
    /// The interpreter faulted in a way native code cannot reproduce safely (a wild
    /// access, the step limit, ...): not compared.
    Skipped(String),
}

/// The interpreter's fault, as the native fault it must match, if native code checks it.
fn native_equivalent(f: &Fault) -> Option<NativeFault> {
    match f {
        Fault::DivisionByZero { .. } => Some(NativeFault::DivisionByZero),
        Fault::NullAccess { .. } => Some(NativeFault::NullAccess),
        Fault::IndexOutOfBounds { .. } => Some(NativeFault::IndexOutOfBounds),
        _ => None,
    }
}

/// Runs `interp_trace` under the interpreter (host `host`) and `native_trace` (the
/// same trace with call addresses filled in) natively at `backend`'s level, compiled
/// under `opts` (a split preamble, say), each on its own heap built by `inputs`, and
/// compares.
#[allow(clippy::too_many_arguments)]
pub fn differential(
    backend: &mut Backend,
    opts: &UnitOptions,
    interp_trace: &Trace,
    native_trace: &Trace,
    inputs: &dyn Fn(&mut Heap) -> Vec<Val>,
    host: FnTable,
    hooks: &HostHooks,
    step_limit: u64,
) -> Result<Verdict, String> {
    let mut heap = Heap::new();
    let args = inputs(&mut heap);
    let mut interp = Interpreter::new(interp_trace).with_heap(heap).with_host(host);
    interp.set_step_limit(step_limit);
    let expected = interp.run(&args);
    let iheap = interp.into_heap();
    let expected = match expected {
        Ok(o) => Ok(describe_outcome(interp_trace, &iheap, &o)),
        Err(f) => match native_equivalent(&f) {
            Some(nf) => Err(nf),
            None => return Ok(Verdict::Skipped(f.to_string())),
        },
    };
    let unit = backend
        .compile(native_trace, opts)
        .map_err(|e| format!("compile failed: {e}\n{}", leones_ir::print(native_trace)))?;
    let mut nheap = Heap::new();
    let nargs = inputs(&mut nheap);
    // SAFETY: the interpreter ran the same trace on an identically built heap without
    // a memory fault, so every access native code makes is to live memory.
    let got = unsafe { backend.run(unit.id, &nargs, &mut nheap, hooks) };
    let got = match got {
        Ok(o) => Ok(describe_native(backend, &nheap, &o.outcome, o.unit)),
        Err(RunError::Fault { fault, .. }) => Err(fault),
        Err(e) => return Err(format!("run failed: {e}")),
    };
    backend.remove(unit.id).map_err(|e| e.to_string())?;
    if expected != got {
        return Err(format!(
            "level {:?} ({opts:?}): interpreter and native code disagree\n--- interpreter:\n{expected:?}\n--- native:\n{got:?}\n--- trace:\n{}",
            backend.level(),
            leones_ir::print(native_trace)
        ));
    }
    Ok(match expected {
        Ok(s) => Verdict::Same(s),
        Err(f) => Verdict::Same(format!("fault {f}")),
    })
}

fn describe_native(backend: &Backend, heap: &Heap, outcome: &Outcome, unit: leones_backend_llvm::UnitId) -> String {
    describe_outcome(backend.trace(unit).expect("unit"), heap, outcome)
}

/// One backend per level.
pub fn backends() -> Vec<Backend> {
    Level::ALL.iter().map(|l| Backend::new(*l).expect("backend")).collect()
}
