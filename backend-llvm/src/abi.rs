//! # The native ABI: [`JitState`], return codes, slot-buffer order
//!
//! Every compiled unit — loop trace, bridge, region — is one function of one type,
//! [`UnitFn`]: `extern "C" fn(*mut JitState) -> u64`. Everything else travels through
//! the [`JitState`] the engine owns:
//!
//! - **Inputs** are read from the slot buffer (`state.slots[i]`, one 64-bit word per
//!   `block0` parameter, in order) when the unit is entered.
//! - **Leaving** writes the state and returns a code:
//!   - `finish vs`: `slots[i] = vs[i]`, `state.target` = the index of the block that
//!     finished, returns [`RET_FINISH`];
//!   - a failing guard `g`: the snapshot's *live values* ([`exit_values`] order) go to
//!     `slots[..]`, `state.guard = g`, and the unit **tail-calls** (`musttail`) the
//!     function pointer in its exit slot `g`. The default exit target
//!     ([`leones_exit_default`]) returns `state.guard`, i.e. the guard id (always
//!     `< 2^32`). Attaching a bridge stores the bridge's entry in that slot, so the
//!     bridge runs on the very values the parent just wrote;
//!   - `jump @t(args)`: `slots[i] = args[i]`, `state.target = t`, then a tail call of
//!     the unit's target-table entry `t`; the default ([`leones_jump_default`]) returns
//!     [`RET_JUMP`]; linking a unit there makes the jump enter it;
//!   - a fault (division by zero; with [`checks`](crate::UnitOptions::checks), a null
//!     access or an array index out of bounds) returns a `RET_FAULT_*` code.
//!
//!   Every exit path also stores `state.unit` (which unit left — a bridge may be the one
//!   that exits) and `state.exception_pending` (the interpreter's exception flag).
//! - **Value encoding** in slots: `i64` as itself, `f64` by its bits, `bool` as 0/1,
//!   `ref`/`ptr` as the address.
//! - **Host services**: `new` calls `state.alloc(state.alloc_ctx, size)`, which must
//!   return zeroed, 8-aligned memory (the unit then writes the class word); after
//!   every call whose [`EffectInfo`](leones_ir::EffectInfo) says `raise`, the unit
//!   calls `state.take_exception()`: non-zero means "the call raised" (and the host
//!   clears its flag) — that result is the flag `guard_no_exception` tests; calls that
//!   cannot raise clear it. `guard_no_interrupt` reads the word `*state.interrupt`
//!   (volatile): non-zero fails the guard.
//! - **Host function calls** go to `CallDescr::addr` with C scalars: `i64` as `i64`,
//!   `f64` as `double`, `ref`/`ptr` as pointers, `bool` as an `i64` 0/1 (argument and
//!   result), no result as `void` — the convention of `leones_ir::gen`'s natives.
//!
//! The field offsets of [`JitState`] are part of the ABI: generated code uses the
//! `OFF_*` constants, and a test checks them against the Rust layout.

use leones_ir::{SlotValue, Snapshot, Trace, Type, Value};
use std::ffi::c_void;
use std::sync::atomic::AtomicU64;

/// The one signature of every compiled unit.
pub type UnitFn = unsafe extern "C" fn(*mut JitState) -> u64;
/// The host allocator: `(alloc_ctx, size) -> zeroed, 8-aligned address`.
pub type AllocFn = unsafe extern "C" fn(*mut c_void, u64) -> u64;
/// Returns non-zero if a host call raised since the last call, and clears the flag.
pub type TakeExceptionFn = unsafe extern "C" fn() -> i64;

/// `finish`: the values are in the slot buffer.
pub const RET_FINISH: u64 = 1 << 32;
/// `jump @target`: `state.target` says which, the arguments are in the slot buffer.
pub const RET_JUMP: u64 = RET_FINISH + 1;
/// `idiv`/`irem` by zero.
pub const RET_FAULT_DIV_ZERO: u64 = RET_FINISH + 2;
/// A field, item, length, class-word or raw access through null (checked units only).
pub const RET_FAULT_NULL: u64 = RET_FINISH + 3;
/// An array index outside `0..len` (checked units only).
pub const RET_FAULT_BOUNDS: u64 = RET_FINISH + 4;

/// The state a unit runs against. `#[repr(C)]`: generated code addresses its fields at
/// the `OFF_*` offsets.
#[repr(C)]
#[derive(Debug)]
pub struct JitState {
    /// The slot buffer: inputs, finish values, exit live values, jump arguments.
    pub slots: *mut u64,
    /// Allocation for `new` (see the module docs).
    pub alloc: AllocFn,
    /// First argument of `alloc`.
    pub alloc_ctx: *mut c_void,
    /// Called after every call that may raise.
    pub take_exception: TakeExceptionFn,
    /// The host's interrupt flag; `guard_no_interrupt` fails when it is non-zero.
    pub interrupt: *const AtomicU64,
    /// Out: the id of the unit that left.
    pub unit: u64,
    /// Out: the guard that failed (on an exit).
    pub guard: u64,
    /// Out: the target index of a `jump @target`; the block index of a `finish`.
    pub target: u64,
    /// Out: 1 if a host call raised and no later call cleared it.
    pub exception_pending: u64,
}

pub(crate) const OFF_SLOTS: u64 = 0;
pub(crate) const OFF_ALLOC: u64 = 8;
pub(crate) const OFF_ALLOC_CTX: u64 = 16;
pub(crate) const OFF_TAKE_EXC: u64 = 24;
pub(crate) const OFF_INTERRUPT: u64 = 32;
pub(crate) const OFF_UNIT: u64 = 40;
pub(crate) const OFF_GUARD: u64 = 48;
pub(crate) const OFF_TARGET: u64 = 56;
pub(crate) const OFF_EXC_PENDING: u64 = 64;

static NO_INTERRUPT: AtomicU64 = AtomicU64::new(0);

/// The default allocator: leaks zeroed memory from the Rust global allocator (for
/// tests and the CLI; a real host passes its own).
unsafe extern "C" fn leaking_alloc(_ctx: *mut c_void, size: u64) -> u64 {
    let layout = std::alloc::Layout::from_size_align((size as usize).max(8), 8).expect("object size");
    // SAFETY: the layout has a non-zero size.
    unsafe { std::alloc::alloc_zeroed(layout) as u64 }
}

unsafe extern "C" fn never_raises() -> i64 {
    0
}

impl JitState {
    /// A state over `slots` (which must hold the largest
    /// [`slots_needed`](crate::CompiledUnit::slots_needed) of the units it runs), with
    /// a leaking allocator, no exceptions and an interrupt flag that is never set.
    pub fn new(slots: &mut [u64]) -> JitState {
        JitState {
            slots: slots.as_mut_ptr(),
            alloc: leaking_alloc,
            alloc_ctx: std::ptr::null_mut(),
            take_exception: never_raises,
            interrupt: &NO_INTERRUPT,
            unit: u64::MAX,
            guard: u64::MAX,
            target: u64::MAX,
            exception_pending: 0,
        }
    }
}

/// The default exit-slot target: returns the failing guard's id.
///
/// # Safety
/// `state` must point to a live [`JitState`] (units pass their own).
pub unsafe extern "C" fn leones_exit_default(state: *mut JitState) -> u64 {
    // SAFETY: units only tail-call this with the state they were given.
    unsafe { (*state).guard }
}

/// The default jump-table target: reports the jump to the engine.
///
/// # Safety
/// Always safe to call; `unsafe` only to have the [`UnitFn`] type.
pub unsafe extern "C" fn leones_jump_default(_state: *mut JitState) -> u64 {
    RET_JUMP
}

/// The SSA values a snapshot needs, in slot-buffer order: distinct values in order of
/// first occurrence, walking frames (outermost first) slot by slot, then the virtual
/// objects in order, field by field. Constants, virtual references and dead slots take
/// no slot. A bridge for this exit takes exactly these values, in this order, as its
/// `block0` parameters.
pub fn exit_values(snapshot: &Snapshot) -> Vec<Value> {
    // Values seen so far, sorted: snapshots of deep frames have hundreds of slots,
    // and this runs on every exit (so: two allocations, no rehashing).
    let n = snapshot.all_slots().count();
    let mut out: Vec<Value> = Vec::with_capacity(n);
    let mut seen: Vec<Value> = Vec::with_capacity(n);
    for s in snapshot.all_slots() {
        if let SlotValue::Value(v) = s {
            if let Err(at) = seen.binary_search(v) {
                seen.insert(at, *v);
                out.push(*v);
            }
        }
    }
    out
}

/// The types of [`exit_values`] — the `block0` signature a bridge for that exit needs.
pub fn exit_types(trace: &Trace, snapshot: &Snapshot) -> Vec<Type> {
    exit_values(snapshot).iter().map(|v| trace.value_type(*v)).collect()
}

/// How many slot words running `trace` natively needs.
pub fn slots_needed(trace: &Trace) -> usize {
    let mut n = trace.blocks.first().map_or(0, |b| b.params.len());
    for b in &trace.blocks {
        if let Some(last) = b.insts.last() {
            if let leones_ir::Op::Finish(vs) | leones_ir::Op::Jump(_, vs) = &last.op {
                n = n.max(vs.len());
            }
        }
    }
    for s in &trace.snapshots {
        n = n.max(exit_values(s).len());
    }
    n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn offsets_match_the_rust_layout() {
        assert_eq!(offset_of!(JitState, slots) as u64, OFF_SLOTS);
        assert_eq!(offset_of!(JitState, alloc) as u64, OFF_ALLOC);
        assert_eq!(offset_of!(JitState, alloc_ctx) as u64, OFF_ALLOC_CTX);
        assert_eq!(offset_of!(JitState, take_exception) as u64, OFF_TAKE_EXC);
        assert_eq!(offset_of!(JitState, interrupt) as u64, OFF_INTERRUPT);
        assert_eq!(offset_of!(JitState, unit) as u64, OFF_UNIT);
        assert_eq!(offset_of!(JitState, guard) as u64, OFF_GUARD);
        assert_eq!(offset_of!(JitState, target) as u64, OFF_TARGET);
        assert_eq!(offset_of!(JitState, exception_pending) as u64, OFF_EXC_PENDING);
    }
}
