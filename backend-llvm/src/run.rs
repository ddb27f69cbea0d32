//! # Running a unit: the helper tests and the CLI use
//!
//! [`Backend::run`] does what an engine does on entry, for one call: it sizes a slot
//! buffer for every installed unit (a bridge may need more than its parent), writes
//! the inputs, builds a [`JitState`] whose allocator is the given [`Heap`] (so objects
//! that native code allocates are in the same registry the interpreter's
//! [`describe_outcome`] walks), calls the entry and decodes the result against the
//! trace of whichever unit left (`state.unit`).
//!
//! [`run_text_for_cli`] and [`emit_llvm_for_cli`] are the two entry points of
//! `leones run --backend llvm` and `leones emit-llvm`.

use crate::abi::{JitState, TakeExceptionFn};
use crate::decode::NativeFault;
use crate::{Backend, BackendError, Level, UnitId, UnitOptions};
use leones_ir::interp::{describe_outcome, Heap, Outcome, Val};
use std::ffi::c_void;
use std::sync::atomic::AtomicU64;

/// Host services for a run beyond the heap.
#[derive(Copy, Clone, Debug, Default)]
pub struct HostHooks {
    /// Reports (and clears) a raised host exception after calls that may raise.
    pub take_exception: Option<TakeExceptionFn>,
    /// The interrupt flag `guard_no_interrupt` polls.
    pub interrupt: Option<&'static AtomicU64>,
}

/// How a native run ended, with the unit that left (the entered unit or a bridge or
/// loop it transferred to); `outcome` refers to that unit's trace.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeOutcome {
    pub unit: UnitId,
    pub outcome: Outcome,
}

/// A run that did not produce an outcome.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("native code of unit {unit} faulted: {fault}")]
    Fault { unit: UnitId, fault: NativeFault },
    #[error("bad inputs: {0}")]
    Inputs(String),
    #[error("{0}")]
    Parse(String),
}

unsafe extern "C" fn heap_alloc(ctx: *mut c_void, size: u64) -> u64 {
    // SAFETY: `run` passes a pointer to the `Heap` it holds exclusively for the call.
    unsafe { (*(ctx as *mut Heap)).alloc_raw(size as usize) }
}

impl Backend {
    /// Runs unit `unit` on `inputs`; `new` allocates in `heap`.
    ///
    /// # Safety
    /// This executes native code: every address the trace dereferences (inputs,
    /// constants, loaded pointers) must be live memory of the right shape, and every
    /// call descriptor's address a function of the declared signature. Null
    /// dereferences and bad indices are caught when the unit was compiled with
    /// [`UnitOptions::checks`].
    pub unsafe fn run(
        &self,
        unit: UnitId,
        inputs: &[Val],
        heap: &mut Heap,
        hooks: &HostHooks,
    ) -> Result<NativeOutcome, RunError> {
        let entry = self.unit(unit).ok_or(BackendError::NoSuchUnit(unit.0))?.entry;
        let trace = self.trace(unit).expect("installed");
        let params = &trace.blocks[0].params;
        let types_ok = inputs.iter().zip(params).all(|(v, p)| v.ty() == trace.value_type(*p));
        if inputs.len() != params.len() || !types_ok {
            return Err(RunError::Inputs(format!(
                "{} inputs for {} parameters, or mistyped",
                inputs.len(),
                params.len()
            )));
        }
        let mut slots = vec![0u64; self.max_slots_needed().max(inputs.len())];
        for (s, v) in slots.iter_mut().zip(inputs) {
            *s = v.to_bits();
        }
        let mut state = JitState::new(&mut slots);
        state.alloc = heap_alloc;
        state.alloc_ctx = heap as *mut Heap as *mut c_void;
        if let Some(f) = hooks.take_exception {
            state.take_exception = f;
        }
        if let Some(i) = hooks.interrupt {
            state.interrupt = i;
        }
        // SAFETY: the caller vouches for the trace's memory accesses (see above); the
        // state and slot buffer outlive the call.
        let code = unsafe { entry(&mut state) };
        let left = UnitId(state.unit as u32);
        if self.trace(left).is_none() {
            return Err(BackendError::NoSuchUnit(left.0).into());
        }
        let n = slots.len();
        // SAFETY: the native code is done with the buffer.
        let slots = unsafe { std::slice::from_raw_parts(state.slots, n) };
        // Through the unit's exit table, as an engine decodes: the differential tests
        // that run units here check the table against the interpreter.
        self.decode(left, code, &state, slots)
            .map(|outcome| NativeOutcome { unit: left, outcome })
            .map_err(|fault| RunError::Fault { unit: left, fault })
    }
}

/// `leones run FILE --backend llvm [--level quick|optimized]`: parses `text`, compiles
/// it at `level` and runs it on `inputs` with a fresh heap, returning the same
/// [`describe_outcome`] text the interpreter path prints.
///
/// # Safety
/// As for [`Backend::run`]: the trace's memory accesses and call addresses must be
/// valid (null and index faults are caught and reported as errors).
pub unsafe fn run_text_for_cli(text: &str, inputs: &[Val], level: Level) -> Result<String, RunError> {
    let trace = leones_ir::parse(text).map_err(|e| RunError::Parse(e.to_string()))?;
    let mut backend = Backend::new(level)?;
    let unit = backend.compile(&trace, &UnitOptions::default())?.id;
    let mut heap = Heap::new();
    // SAFETY: forwarded to our caller.
    let out = unsafe { backend.run(unit, inputs, &mut heap, &HostHooks::default())? };
    let mut s = describe_outcome(&trace, &heap, &out.outcome);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// `leones emit-llvm FILE [--level L] [--optimized]`: the unit's LLVM IR as text,
/// as lowered or (with `optimized`) after the level's pass pipeline.
pub fn emit_llvm_for_cli(text: &str, level: Level, optimized: bool) -> Result<String, RunError> {
    let trace = leones_ir::parse(text).map_err(|e| RunError::Parse(e.to_string()))?;
    let mut backend = Backend::new(level)?;
    let opts = UnitOptions::default();
    Ok(if optimized {
        backend.emit_llvm_optimized(&trace, &opts)?
    } else {
        backend.emit_llvm(&trace, &opts)?
    })
}
