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
use leones_ir::{GuardId, GuardInfo, Op, TargetId, Trace, Type, Value};
use std::sync::OnceLock;

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

/// What decoding an exit of one guard needs, kept per unit ([`exit_table`]) instead of
/// worked out on every exit: where the guard is (found when the unit is installed),
/// and its live values ([`exit_values`]) sorted, each with the slot word it left in
/// (worked out at the guard's first exit: most guards of a region never fail, and
/// installing runs on the host's thread).
#[derive(Clone, Debug)]
pub struct GuardExit {
    pub info: GuardInfo,
    /// `(value, slot index)`, sorted by value.
    by_value: OnceLock<Box<[(Value, u32)]>>,
}

impl GuardExit {
    /// The exit data of guard `info`.
    pub fn new(info: GuardInfo) -> GuardExit {
        GuardExit {
            info,
            by_value: OnceLock::new(),
        }
    }

    fn by_value(&self, trace: &Trace) -> &[(Value, u32)] {
        self.by_value.get_or_init(|| {
            let live = exit_values(trace.snapshot(self.info.snapshot));
            let mut by_value: Vec<(Value, u32)> = live.into_iter().zip(0u32..).collect();
            by_value.sort_unstable();
            by_value.into_boxed_slice()
        })
    }

    /// Rebuilds the [`ExitState`] of this guard of `trace` (the trace it was made
    /// from) from the slot buffer (`None` if the buffer is shorter than its live
    /// values).
    pub fn decode(&self, trace: &Trace, slots: &[u64], exception_pending: bool) -> Option<ExitState> {
        let by_value = self.by_value(trace);
        if slots.len() < by_value.len() {
            return None;
        }
        let snap = trace.snapshot(self.info.snapshot);
        // `evaluate` asks only for the snapshot's values, which are exactly the live ones.
        Some(ExitState::evaluate(self.info.id, snap, exception_pending, |v| {
            let word = by_value
                .binary_search_by_key(&v, |(x, _)| *x)
                .map_or(0, |i| slots[by_value[i].1 as usize]);
            Val::from_bits(trace.value_type(v), word)
        }))
    }
}

/// The [`GuardExit`] of every guard of `trace`, indexed by guard id.
pub fn exit_table(trace: &Trace) -> Box<[GuardExit]> {
    trace.guards().into_iter().map(GuardExit::new).collect()
}

/// Rebuilds the [`ExitState`] of guard `guard` from the slot buffer (finding the
/// guard and its live values first: an installed unit's exits use its exit table,
/// see [`Backend::decode`](crate::Backend::decode)).
pub fn decode_exit(trace: &Trace, guard: GuardId, slots: &[u64], exception_pending: bool) -> Option<ExitState> {
    GuardExit::new(trace.guard(guard)?).decode(trace, slots, exception_pending)
}

fn typed(types: &[Type], slots: &[u64]) -> Vec<Val> {
    types.iter().zip(slots).map(|(t, b)| Val::from_bits(*t, *b)).collect()
}

/// Decodes return code `code` of a unit compiled from `trace`, with `state` as the
/// unit left it and `slots` its slot buffer.
pub fn decode_outcome(trace: &Trace, code: u64, state: &JitState, slots: &[u64]) -> Result<Outcome, NativeFault> {
    decode_outcome_with(trace, code, state, slots, |g, exc| decode_exit(trace, g, slots, exc))
}

/// [`decode_outcome`] with the exit decoded by `exit` (guard, exception pending).
pub(crate) fn decode_outcome_with(
    trace: &Trace,
    code: u64,
    state: &JitState,
    slots: &[u64],
    exit: impl FnOnce(GuardId, bool) -> Option<ExitState>,
) -> Result<Outcome, NativeFault> {
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
        g if g < RET_FINISH => exit(GuardId(g as u32), state.exception_pending != 0)
            .map(Outcome::Exit)
            .ok_or(NativeFault::BadCode(code)),
        _ => Err(NativeFault::BadCode(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exit table decodes every guard's exit exactly as finding the guard and its
    /// live values on the spot does, whatever slot words native code left.
    #[test]
    fn the_exit_table_decodes_like_the_search() {
        let t = leones_ir::parse(
            "trace t\nlayout P size 16 class 0x51\nfield P.x: i64 @8\nframe main code 0x1 slots 3\n\n\
             block0(v0: i64, v1: f64, v2: i64):\n    v3 = ilt v0, v2\n    \
             guard_true v3 [main@1(v2, v1, v0)]\n    v4 = iadd v0, v2\n    \
             guard_false v3 [main@2(v4, &0, 7)] {&0 = P{x: v0}}\n    finish v4\n",
        )
        .expect("parses");
        let table = exit_table(&t);
        assert_eq!(table.len(), 2);
        let slots = [5u64, 2.5f64.to_bits(), 9, 11];
        for (g, exit) in table.iter().enumerate() {
            for exc in [false, true] {
                let searched = decode_exit(&t, GuardId::new(g), &slots, exc).expect("decodes");
                assert_eq!(exit.decode(&t, &slots, exc), Some(searched));
            }
        }
        assert_eq!(
            table[0].decode(&t, &slots[..1], false),
            None,
            "a short buffer is refused"
        );
    }
}
