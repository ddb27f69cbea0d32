//! # Merge points: where a bridge may rejoin its parent
//!
//! A tracing JIT's bridge normally records until the loop header, copying the rest of
//! the loop; with k data-driven branches that is up to 2^k bridges. Leones lets a
//! bridge stop earlier, at a **merge point**: the host tells the recorder, at locations
//! where paths of its own control flow join (the targets of its jumps), that it is
//! there ([`Recorder::merge_point`]). Recording a loop or a bridge, the recorder notes
//! each such place in the trace (`merge_point [frames]`, no semantics) and in
//! [`Recorded::merge_points`] with its [`MergeShape`]. Recording an *arm* — a bridge
//! the engine means to merge — it is given the merge points its parent passes later
//! ([`MergeTarget`]); at the first one the host reaches with a state that
//! [fits](MergeShape::accepts), it closes with `jump @<target>(live slots)` instead of
//! going on. Region formation (`leones_opt::region`) then turns the arm and its parent
//! into a diamond.
//!
//! **What fits.** The same frames at the same pcs; every slot live in the target is
//! live here with the same type (an int path never merges into a float path); a slot
//! the target knew as a constant holds the same constant here (the code after the
//! merge point used the constant, not the slot); slots that share one value in the
//! target share one here too (the code after it cannot tell which slot a use came
//! through).
//!
//! **The host's obligation.** At a merge point the frames are the whole traced state:
//! the host holds no traced value outside its frame slots across it.

use super::frame::{AbsFrame, Repr, Tv};
use crate::hotness::Location;
use crate::registry::FrameRef;
use leones_ir::{Const, Type};

/// One slot of a merge point's state.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum MergeSlot {
    /// Not live.
    Dead,
    /// A value of this type; `same_as` is the first earlier live slot holding the same
    /// SSA value, if any.
    Value { ty: Type, same_as: Option<usize> },
    /// This constant.
    Const(Const),
}

/// One frame of a merge point's state.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeFrame {
    pub frame: FrameRef,
    pub pc: u32,
    pub slots: Vec<MergeSlot>,
}

/// The static state at a merge point: what a rejoining path must match.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeShape {
    pub frames: Vec<MergeFrame>,
}

/// A merge point an arm may end at.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeTarget {
    /// The target name the arm jumps to (`<piece>__m<k>`, region formation's convention).
    pub name: String,
    /// The host location of the merge point.
    pub location: Location,
    pub shape: MergeShape,
}

/// A merge point noted in a recording: its host location and state, by ordinal.
#[derive(Clone, Debug, PartialEq)]
pub struct MergePointInfo {
    pub location: Location,
    pub shape: MergeShape,
}

impl MergeShape {
    /// The shape of the recorder's current frames.
    pub(crate) fn of(frames: &[AbsFrame]) -> MergeShape {
        let mut seen: Vec<(leones_ir::Value, usize)> = Vec::new();
        let mut live = 0usize;
        let frames = frames
            .iter()
            .map(|f| MergeFrame {
                frame: f.frame,
                pc: f.pc,
                slots: f
                    .slots
                    .iter()
                    .map(|s| match s {
                        None => MergeSlot::Dead,
                        Some(Tv(Repr::Const(k))) => {
                            live += 1;
                            MergeSlot::Const(*k)
                        }
                        Some(Tv(Repr::Value(v, ty))) => {
                            let same_as = seen.iter().find(|(x, _)| x == v).map(|(_, i)| *i);
                            if same_as.is_none() {
                                seen.push((*v, live));
                            }
                            live += 1;
                            MergeSlot::Value { ty: *ty, same_as }
                        }
                    })
                    .collect(),
            })
            .collect();
        MergeShape { frames }
    }

    /// The live slots' types, in order: the target's parameters.
    pub fn param_types(&self) -> Vec<Type> {
        self.live()
            .map(|s| match s {
                MergeSlot::Value { ty, .. } => ty,
                MergeSlot::Const(k) => k.ty(),
                MergeSlot::Dead => unreachable!("live slots only"),
            })
            .collect()
    }

    fn live(&self) -> impl Iterator<Item = MergeSlot> + '_ {
        self.frames
            .iter()
            .flat_map(|f| f.slots.iter().copied())
            .filter(|s| *s != MergeSlot::Dead)
    }

    /// If `frames` fit this shape (see the module docs), the traced values to pass for
    /// its live slots, in order.
    pub(crate) fn accepts(&self, frames: &[AbsFrame]) -> Option<Vec<Tv>> {
        if frames.len() != self.frames.len() {
            return None;
        }
        let mut out: Vec<Tv> = Vec::new();
        for (f, want) in frames.iter().zip(&self.frames) {
            if f.frame != want.frame || f.pc != want.pc || f.slots.len() != want.slots.len() {
                return None;
            }
            for (have, want) in f.slots.iter().zip(&want.slots) {
                match (*want, *have) {
                    (MergeSlot::Dead, _) => {}
                    (_, None) => return None,
                    (MergeSlot::Const(k), Some(tv)) => {
                        if tv.as_const() != Some(k) {
                            return None;
                        }
                        out.push(tv);
                    }
                    (MergeSlot::Value { ty, same_as }, Some(tv)) => {
                        if tv.ty() != ty || same_as.is_some_and(|i| out[i] != tv) {
                            return None;
                        }
                        out.push(tv);
                    }
                }
            }
        }
        Some(out)
    }
}
