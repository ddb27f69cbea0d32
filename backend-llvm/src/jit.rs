//! # ORC LLJIT: installing and removing object files
//!
//! One [`Jit`] (an `LLJIT` instance with its main JITDylib) per backend. Each compiled
//! unit is one object file added under its own `ResourceTracker`
//! (`LLVMOrcLLJITAddObjectFileWithRT`), so removing the tracker unlinks exactly that
//! unit and returns its memory. Symbols are looked up by name once, right after
//! adding (that is when ORC links the object: the "link" time in the timings).
//!
//! ORC's default in-process memory manager maps code pages read-write while linking
//! and flips them to read-execute before anyone can run them: code is never
//! writable and executable at once (a test reads `/proc/self/maps` to check).
//!
//! Invariants: every `LLVMErrorRef` is consumed (its message copied into a
//! [`BackendError`]); trackers are released before the JIT is disposed (the
//! [`Backend`](crate::Backend) drops its units first).

use crate::passes::ObjectBuffer;
use crate::BackendError;
use inkwell::llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use inkwell::llvm_sys::orc2::lljit::*;
use inkwell::llvm_sys::orc2::*;
use std::ffi::{CStr, CString};

/// Consumes an LLVM error, returning its message (None for success).
fn take_error(err: LLVMErrorRef) -> Option<String> {
    if err.is_null() {
        return None;
    }
    // SAFETY: a non-null error owned by us; GetErrorMessage consumes it and we free
    // the message it returns.
    unsafe {
        let msg = LLVMGetErrorMessage(err);
        let s = CStr::from_ptr(msg).to_string_lossy().into_owned();
        LLVMDisposeErrorMessage(msg);
        Some(s)
    }
}

/// An LLJIT instance.
pub(crate) struct Jit {
    jit: LLVMOrcLLJITRef,
    dylib: LLVMOrcJITDylibRef,
}

/// One unit's resources in the JIT.
pub(crate) struct Tracker(LLVMOrcResourceTrackerRef);

impl Jit {
    pub(crate) fn new() -> Result<Jit, BackendError> {
        let mut jit = std::ptr::null_mut();
        // SAFETY: a null builder means "defaults"; on success we own `jit`.
        let err = unsafe { LLVMOrcCreateLLJIT(&mut jit, std::ptr::null_mut()) };
        if let Some(e) = take_error(err) {
            return Err(BackendError::Jit(e));
        }
        // SAFETY: `jit` is valid; the dylib is owned by it.
        let dylib = unsafe { LLVMOrcLLJITGetMainJITDylib(jit) };
        Ok(Jit { jit, dylib })
    }

    /// Registers JIT'd objects with the GDB JIT interface from now on (ORC's debug
    /// support plugin), so gdb sees unit functions by name.
    pub(crate) fn enable_debug_support(&self) -> Result<(), BackendError> {
        // SAFETY: valid JIT.
        take_error(unsafe { LLVMOrcLLJITEnableDebugSupport(self.jit) }).map_or(Ok(()), |e| Err(BackendError::Jit(e)))
    }

    /// Adds an object file under a fresh resource tracker.
    pub(crate) fn add_object(&self, obj: ObjectBuffer) -> Result<Tracker, BackendError> {
        // SAFETY: valid dylib; the new tracker is ours to release.
        let rt = Tracker(unsafe { LLVMOrcJITDylibCreateResourceTracker(self.dylib) });
        self.add_object_to(&rt, obj)?;
        Ok(rt)
    }

    /// Adds an object file under an existing tracker (a split unit's second object:
    /// removing the tracker removes both).
    pub(crate) fn add_object_to(&self, rt: &Tracker, obj: ObjectBuffer) -> Result<(), BackendError> {
        // SAFETY: valid JIT and live tracker; ORC takes ownership of the buffer,
        // success or not.
        let err = unsafe { LLVMOrcLLJITAddObjectFileWithRT(self.jit, rt.0, obj.into_raw()) };
        take_error(err).map_or(Ok(()), |e| Err(BackendError::Jit(e)))
    }

    /// The address of `symbol` (links its object if not yet linked).
    pub(crate) fn lookup(&self, symbol: &str) -> Result<u64, BackendError> {
        let name = CString::new(symbol).map_err(|e| BackendError::Lookup {
            symbol: symbol.into(),
            message: e.to_string(),
        })?;
        let mut addr = 0;
        // SAFETY: valid JIT and NUL-terminated name.
        let err = unsafe { LLVMOrcLLJITLookup(self.jit, &mut addr, name.as_ptr()) };
        match take_error(err) {
            Some(message) => Err(BackendError::Lookup {
                symbol: symbol.into(),
                message,
            }),
            None if addr == 0 => Err(BackendError::Lookup {
                symbol: symbol.into(),
                message: "null address".into(),
            }),
            None => Ok(addr),
        }
    }
}

impl Tracker {
    /// Removes everything added under this tracker and frees its memory.
    pub(crate) fn remove(self) -> Result<(), BackendError> {
        // SAFETY: a live tracker; `self` is dropped (released) right after.
        let err = unsafe { LLVMOrcResourceTrackerRemove(self.0) };
        take_error(err).map_or(Ok(()), |e| Err(BackendError::Jit(e)))
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        // SAFETY: releases our reference; the JIT still owns the resources unless removed.
        unsafe { LLVMOrcReleaseResourceTracker(self.0) }
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        // SAFETY: we own the JIT; disposing of it frees all remaining code.
        if let Some(e) = take_error(unsafe { LLVMOrcDisposeLLJIT(self.jit) }) {
            eprintln!("leones-backend-llvm: disposing of the JIT failed: {e}");
        }
    }
}
