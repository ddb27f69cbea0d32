//! # Decoding a native outcome into the interpreter's terms
//!
//! Native code leaves with a return code and a filled [`JitState`] (see
//! [`abi`](crate::abi)). This module turns that back into the very [`Outcome`] the
//! reference interpreter produces, so engine and tests compare like with like:
//!
//! - `finish`: the values are `slots[0..n]`, typed by the operands of the `finish`
//!   that ran (native code leaves its block index in `state.target`);
//! - an exit of guard `g`: the live values are `slots[i]` in [`exit_values`] order;
//!   the snapshot supplies constants, dead slots and virtual objects (whose fields
//!   are again values, constants or virtuals), exactly as the interpreter evaluates it;
//! - `jump @t`: `slots[0..n]` typed by the target descriptor's parameters;
//! - a fault code becomes a [`NativeFault`].

use crate::abi::*;
use leones_ir::interp::{ExitState, Outcome, Val};
use leones_ir::{GuardId, Op, TargetId, Trace, Type, Value};

/// A fault native code reported (the engine falls back to the interpreter).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NativeFault {
    #[error("division by zero")]
    DivisionByZero,
    #[error("null dereference")]
    NullAccess,
    #[error("array index out of bounds")]
    IndexOutOfBounds,
    #[error("unknown return code {0:#x} or exit data")]
    BadCode(u64),
}

/// The operand types of the `finish` ending block `block`, if it ends in one.
fn finish_types(trace: &Trace, block: u64) -> Option<Vec<Type>> {
    let b = trace.blocks.get(usize::try_from(block).ok()?)?;
    match b.insts.last().map(|i| &i.op) {
        Some(Op::Finish(vs)) => Some(vs.iter().map(|v| trace.value_type(*v)).collect()),
        _ => None,
    }
}

/// Rebuilds the [`ExitState`] of guard `guard` from the slot buffer.
pub fn decode_exit(trace: &Trace, guard: GuardId, slots: &[u64], exception_pending: bool) -> Option<ExitState> {
    let info = trace.guard(guard)?;
    let snap = trace.snapshot(info.snapshot);
    let live = exit_values(snap);
    if slots.len() < live.len() {
        return None;
    }
    // (value, its slot word), sorted by value: looked up once per snapshot slot.
    // `evaluate` asks only for the snapshot's values, which are exactly `live`.
    let mut bits: Vec<(Value, u64)> = live.iter().copied().zip(slots.iter().copied()).collect();
    bits.sort_unstable_by_key(|(v, _)| *v);
    Some(ExitState::evaluate(guard, snap, exception_pending, |v| {
        let word = bits.binary_search_by_key(&v, |(x, _)| *x).map_or(0, |i| bits[i].1);
        Val::from_bits(trace.value_type(v), word)
    }))
}

fn typed(types: &[Type], slots: &[u64]) -> Vec<Val> {
    types.iter().zip(slots).map(|(t, b)| Val::from_bits(*t, *b)).collect()
}

/// Decodes return code `code` of a unit compiled from `trace`, with `state` as the
/// unit left it and `slots` its slot buffer.
pub fn decode_outcome(trace: &Trace, code: u64, state: &JitState, slots: &[u64]) -> Result<Outcome, NativeFault> {
    match code {
        RET_FINISH => {
            let types = finish_types(trace, state.target).ok_or(NativeFault::BadCode(code))?;
            Ok(Outcome::Finish(typed(&types, slots)))
        }
        RET_JUMP => {
            let t = TargetId(state.target as u32);
            let params = trace.targets.get(t.index()).ok_or(NativeFault::BadCode(code))?;
            Ok(Outcome::Jump {
                target: t,
                args: typed(&params.params, slots),
            })
        }
        RET_FAULT_DIV_ZERO => Err(NativeFault::DivisionByZero),
        RET_FAULT_NULL => Err(NativeFault::NullAccess),
        RET_FAULT_BOUNDS => Err(NativeFault::IndexOutOfBounds),
        g if g < RET_FINISH => decode_exit(trace, GuardId(g as u32), slots, state.exception_pending != 0)
            .map(Outcome::Exit)
            .ok_or(NativeFault::BadCode(code)),
        _ => Err(NativeFault::BadCode(code)),
    }
}
