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
use leones_ir::interp::{ExitFrame, ExitState, ExitValue, ExitVirtual, Outcome, Val};
use leones_ir::{
    FieldId, FrameId, GuardId, GuardInfo, LayoutId, Op, SlotValue, Snapshot, TargetId, Trace, Type, Value, VirtualId,
};
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
/// and its [`ExitPlan`] (worked out at the guard's first exit: most guards of a region
/// never fail, and installing runs on the host's thread).
#[derive(Clone, Debug)]
pub struct GuardExit {
    pub info: GuardInfo,
    plan: OnceLock<ExitPlan>,
}

/// How to rebuild one guard's [`ExitState`] from the slot buffer: its snapshot with
/// every SSA value already resolved to the slot word native code left it in and its
/// type. Evaluating the snapshot on every exit (a binary search and a type lookup per
/// value) was most of an exit's cost on the host; with the plan an exit is a straight
/// copy. It gives exactly what [`ExitState::evaluate`] gives (the unit test below
/// checks it against the search).
#[derive(Clone, Debug)]
struct ExitPlan {
    frames: Box<[FramePlan]>,
    virtuals: Box<[VirtualPlan]>,
    /// Slot words the exit reads (the guard's live values).
    words: usize,
}

/// A frame to rebuild: its kind, pc and slots.
type FramePlan = (FrameId, u32, Box<[SlotPlan]>);

/// A virtual object to materialize: its layout and fields.
type VirtualPlan = (LayoutId, Box<[(FieldId, SlotPlan)]>);

/// One frame slot or virtual field of an [`ExitPlan`].
#[derive(Copy, Clone, Debug)]
enum SlotPlan {
    /// The slot word at this index, typed.
    Word(u32, Type),
    /// Known at compile time (a snapshot constant).
    Known(Val),
    Virtual(VirtualId),
    Dead,
}

impl SlotPlan {
    fn of(sv: &SlotValue, trace: &Trace, by_value: &[(Value, u32)]) -> SlotPlan {
        match *sv {
            SlotValue::Value(v) => {
                let ty = trace.value_type(v);
                match by_value.binary_search_by_key(&v, |(x, _)| *x) {
                    Ok(i) => SlotPlan::Word(by_value[i].1, ty),
                    // Not a live value (cannot happen for a verified trace): what
                    // evaluating with a zero word gives.
                    Err(_) => SlotPlan::Known(Val::from_bits(ty, 0)),
                }
            }
            SlotValue::Const(k) => SlotPlan::Known(Val::from_const(k)),
            SlotValue::Virtual(id) => SlotPlan::Virtual(id),
            SlotValue::Dead => SlotPlan::Dead,
        }
    }

    #[inline]
    fn eval(self, slots: &[u64]) -> ExitValue {
        match self {
            SlotPlan::Word(i, ty) => ExitValue::Val(Val::from_bits(ty, slots[i as usize])),
            SlotPlan::Known(v) => ExitValue::Val(v),
            SlotPlan::Virtual(id) => ExitValue::Virtual(id),
            SlotPlan::Dead => ExitValue::Dead,
        }
    }
}

impl ExitPlan {
    fn new(trace: &Trace, snapshot: &Snapshot) -> ExitPlan {
        let live = exit_values(snapshot);
        let words = live.len();
        let mut by_value: Vec<(Value, u32)> = live.into_iter().zip(0u32..).collect();
        by_value.sort_unstable();
        let plan = |sv: &SlotValue| SlotPlan::of(sv, trace, &by_value);
        ExitPlan {
            frames: (snapshot.frames.iter())
                .map(|f| (f.frame, f.pc, f.slots.iter().map(plan).collect()))
                .collect(),
            virtuals: (snapshot.virtuals.iter())
                .map(|vo| (vo.layout, vo.fields.iter().map(|(f, sv)| (*f, plan(sv))).collect()))
                .collect(),
            words,
        }
    }

    fn decode(&self, guard: GuardId, slots: &[u64], exception_pending: bool) -> Option<ExitState> {
        if slots.len() < self.words {
            return None;
        }
        Some(ExitState {
            guard,
            frames: (self.frames.iter())
                .map(|(frame, pc, plan)| ExitFrame {
                    frame: *frame,
                    pc: *pc,
                    slots: plan.iter().map(|p| p.eval(slots)).collect(),
                })
                .collect(),
            virtuals: (self.virtuals.iter())
                .map(|(layout, fields)| ExitVirtual {
                    layout: *layout,
                    fields: fields.iter().map(|(f, p)| (*f, p.eval(slots))).collect(),
                })
                .collect(),
            exception_pending,
        })
    }
}

impl GuardExit {
    /// The exit data of guard `info`.
    pub fn new(info: GuardInfo) -> GuardExit {
        GuardExit {
            info,
            plan: OnceLock::new(),
        }
    }

    /// Rebuilds the [`ExitState`] of this guard of `trace` (the trace it was made
    /// from) from the slot buffer (`None` if the buffer is shorter than its live
    /// values).
    pub fn decode(&self, trace: &Trace, slots: &[u64], exception_pending: bool) -> Option<ExitState> {
        let plan = self
            .plan
            .get_or_init(|| ExitPlan::new(trace, trace.snapshot(self.info.snapshot)));
        plan.decode(self.info.id, slots, exception_pending)
    }
}

/// Rebuilds the [`ExitState`] of guard `guard` the slow way, evaluating its snapshot
/// value by value (what [`ExitPlan`] must agree with).
#[cfg(test)]
fn decode_by_search(trace: &Trace, guard: GuardId, slots: &[u64], exception_pending: bool) -> Option<ExitState> {
    let info = trace.guard(guard)?;
    let snap = trace.snapshot(info.snapshot);
    let live = exit_values(snap);
    if slots.len() < live.len() {
        return None;
    }
    Some(ExitState::evaluate(info.id, snap, exception_pending, |v| {
        let word = live.iter().position(|x| *x == v).map_or(0, |i| slots[i]);
        Val::from_bits(trace.value_type(v), word)
    }))
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

    /// The exit table's plans decode every guard's exit exactly as evaluating its
    /// snapshot value by value does, whatever slot words native code left.
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
                let searched = decode_by_search(&t, GuardId::new(g), &slots, exc).expect("decodes");
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
