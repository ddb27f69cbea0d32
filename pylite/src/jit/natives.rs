//! # Residual calls: compiled code calling pylite's builtins
//!
//! A builtin the recorder does not inline (`print`, `math.gcd`, `f.read`, ...) stays a
//! call in the trace, to one of the `extern "C"` entry points here:
//!
//! ```text
//! v9 = call pl_call2_..(callee, tags, expect, a0, a1)    ; then guard_no_exception
//! ```
//!
//! Arguments travel as 64-bit words (a float as its bits, a bool as 0/1, an object or
//! None as its address or 0 — references and integers share registers in the C ABI),
//! with their pylite tags packed 4 bits each in `tags`, so one entry point per arity
//! serves every builtin. The callee is a constant (`BuiltinObj` address).
//!
//! **Results and exceptions.** The trace was recorded with the result's tag the
//! builtin returned then (`expect`); the call returns that result's word. If the
//! builtin raises, or returns a value of another tag, the entry point parks the
//! outcome in the VM ([`Pending`]) and reports "raised" through the backend's
//! `take_exception` hook, so the `guard_no_exception` after the call exits — resuming
//! *at* the call instruction with the state before it. The host then does not run
//! the call again (it may have had effects, like reading a file): it throws the parked
//! exception there, or stores the parked result and steps over the call.
//!
//! **The VM.** Entry points find the VM through a thread-local pointer set while the
//! VM runs code ([`CurrentVm`]). Compiled code never runs the collector: builtins that
//! allocate only count bytes, and when a collection is due the entry point raises the
//! engine's interrupt flag, so the loop leaves at its next header and the interpreter
//! collects at its safepoint.

use crate::object::{BuiltinObj, NativeFn, PyResult};
use crate::value::Value;
use crate::vm::Vm;
use std::cell::Cell;
use std::sync::atomic::Ordering;

thread_local! {
    static CURRENT: Cell<*mut Vm> = const { Cell::new(std::ptr::null_mut()) };
}

/// Sets the thread's current VM for as long as it lives (restores the previous one).
pub(crate) struct CurrentVm(*mut Vm);

impl CurrentVm {
    pub fn enter(vm: *mut Vm) -> CurrentVm {
        CurrentVm(CURRENT.with(|c| c.replace(vm)))
    }
}

impl Drop for CurrentVm {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// An outcome of a residual call that compiled code could not take.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Pending {
    /// The builtin raised this exception.
    Exception(Value),
    /// The builtin returned this value, of a tag the trace did not expect.
    Result(Value),
}

/// `take_exception` for the backend: whether a residual call parked an outcome.
pub(crate) unsafe extern "C" fn take_pending() -> i64 {
    let vm = CURRENT.with(|c| c.get());
    if vm.is_null() {
        return 0;
    }
    // SAFETY: the pointer is the running VM (CurrentVm).
    let vm = unsafe { &mut *vm };
    std::mem::take(&mut vm.jit_raised) as i64
}

fn call_builtin(callee: u64, tags: u64, expect: u64, words: &[u64]) -> u64 {
    let vm = CURRENT.with(|c| c.get());
    // SAFETY: compiled code only runs inside `Vm::run_*`, which sets CURRENT; the
    // callee is a constant the recorder took from a live builtin that the JIT keeps alive.
    let vm = unsafe { &mut *vm };
    let f: NativeFn = unsafe { (*(callee as *const BuiltinObj)).f };
    // At most five arguments (`entry_for`); nothing to build for none (a blocker's
    // call is on every iteration of its loop).
    let mut args = [Value::UNDEF; 5];
    let args: &[Value] = if words.is_empty() {
        &[]
    } else {
        for (i, &w) in words.iter().enumerate() {
            args[i] = Value {
                tag: (tags >> (4 * i)) & 15,
                payload: w,
            };
        }
        &args[..words.len()]
    };
    let r: PyResult<Value> = f(vm, args);
    interrupt_if_gc_due(vm);
    match r {
        // The payload is the word (None's is 0).
        Ok(v) if v.tag == expect => v.payload,
        Ok(v) => {
            vm.jit_pending = Some(Pending::Result(v));
            vm.jit_raised = true;
            0
        }
        Err(e) => {
            vm.jit_pending = Some(Pending::Exception(e));
            vm.jit_raised = true;
            0
        }
    }
}

pub(crate) unsafe extern "C" fn call0(c: u64, t: u64, e: u64) -> u64 {
    call_builtin(c, t, e, &[])
}
pub(crate) unsafe extern "C" fn call1(c: u64, t: u64, e: u64, a: u64) -> u64 {
    call_builtin(c, t, e, &[a])
}
pub(crate) unsafe extern "C" fn call2(c: u64, t: u64, e: u64, a: u64, b: u64) -> u64 {
    call_builtin(c, t, e, &[a, b])
}
pub(crate) unsafe extern "C" fn call3(c: u64, t: u64, e: u64, a: u64, b: u64, d: u64) -> u64 {
    call_builtin(c, t, e, &[a, b, d])
}
pub(crate) unsafe extern "C" fn call4(c: u64, t: u64, e: u64, a: u64, b: u64, d: u64, f: u64) -> u64 {
    call_builtin(c, t, e, &[a, b, d, f])
}
pub(crate) unsafe extern "C" fn call5(c: u64, t: u64, e: u64, a: u64, b: u64, d: u64, f: u64, g: u64) -> u64 {
    call_builtin(c, t, e, &[a, b, d, f, g])
}

/// `ListAppend` (a comprehension's append): pushes the value with tag `tag` and
/// payload `word` onto list `list`. Never raises; counts the bytes like the
/// interpreter and raises the interrupt flag when a collection is due.
pub(crate) unsafe extern "C" fn list_append(list: u64, tag: u64, word: u64) {
    let vm = CURRENT.with(|c| c.get());
    // SAFETY: as in `call_builtin`; the recorder guarded that `list` is a list.
    let vm = unsafe { &mut *vm };
    let l = unsafe { &mut *(list as *mut crate::object::ListObj) };
    l.items.push(Value { tag, payload: word });
    vm.heap.account(16);
    interrupt_if_gc_due(vm);
}

/// Compiled code never collects: when a collection is due, raise the engine's
/// interrupt flag so the loop leaves at its next header and the interpreter collects.
fn interrupt_if_gc_due(vm: &Vm) {
    if vm.heap.wants_gc() {
        if let Some(flag) = &vm.jit_interrupt {
            flag.store(1, Ordering::SeqCst);
        }
    }
}

/// The entry point for `n` arguments, if there is one.
pub(crate) fn entry_for(n: usize) -> Option<u64> {
    Some(match n {
        0 => call0 as *const () as usize as u64,
        1 => call1 as *const () as usize as u64,
        2 => call2 as *const () as usize as u64,
        3 => call3 as *const () as usize as u64,
        4 => call4 as *const () as usize as u64,
        5 => call5 as *const () as usize as u64,
        _ => return None,
    })
}
