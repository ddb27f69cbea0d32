//! # The abstract frame stack and the shapes it is compared with
//!
//! While recording, the recorder mirrors the host's frames: for each live frame (the
//! trace's entry frames, then one per inlined call) its kind, the pc the host would
//! resume it at, and for each slot the traced value it holds ([`Tv`]) or nothing (dead).
//! This is what every guard's snapshot is built from, and what the loop is closed with.
//!
//! A [`Shape`] is the *static* part of a frame stack: frame kinds, pcs and slot types.
//! A loop trace's entry shape says which slots are `block0`'s parameters (in frame
//! order, then slot order) and of which types; closing the loop needs the current
//! stack to have the same frames and, for every parameter slot, a value of the same
//! type. Slots dead at entry are ignored: the loop body overwrites them before any use.
//!
//! ```text
//! entry shape   main@4 [i64, i64, _]     block0(v0: i64, v1: i64)
//! at the header main    [v7, v1, v9]      -> jump block0(v7, v1)      (closes)
//! at the header main    [v7, 2.5, v9]     -> slot 1 is f64 now        (does not close)
//! ```
//!
//! Snapshot invariant: slot `k` of a snapshot frame is `Dead` iff the abstract slot is
//! dead, a constant iff the traced value is a known constant, otherwise the SSA value
//! that holds it at the guard.

use crate::registry::FrameRef;
use leones_ir::interp::Val;
use leones_ir::{Const, FrameId, SlotValue, SnapshotFrame, Type, Value};

/// A traced value: a constant the recorder knows, or an SSA value of the trace.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Tv(pub(crate) Repr);

#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) enum Repr {
    Const(Const),
    Value(Value, Type),
}

impl Tv {
    /// A known constant.
    pub fn constant(v: impl Into<Val>) -> Tv {
        Tv(Repr::Const(v.into().to_const()))
    }
    /// Its IR type.
    pub fn ty(&self) -> Type {
        match self.0 {
            Repr::Const(k) => k.ty(),
            Repr::Value(_, t) => t,
        }
    }
    /// The constant, if the recorder knows it.
    pub fn as_const(&self) -> Option<Const> {
        match self.0 {
            Repr::Const(k) => Some(k),
            Repr::Value(..) => None,
        }
    }
    pub(crate) fn value(v: Value, ty: Type) -> Tv {
        Tv(Repr::Value(v, ty))
    }
    fn slot_value(&self) -> SlotValue {
        match self.0 {
            Repr::Const(k) => SlotValue::Const(k),
            Repr::Value(v, _) => SlotValue::Value(v),
        }
    }
}

/// The static shape of one frame: its kind, resume pc and slot types (`None` = dead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeFrame {
    pub frame: FrameRef,
    pub pc: u32,
    pub slots: Vec<Option<Type>>,
}

impl ShapeFrame {
    /// The shape of a frame holding these concrete slot values.
    pub fn of(frame: FrameRef, pc: u32, slots: &[Option<Val>]) -> ShapeFrame {
        ShapeFrame {
            frame,
            pc,
            slots: slots.iter().map(|s| s.map(|v| v.ty())).collect(),
        }
    }
}

/// The static shape of a frame stack, outermost frame first. A unit's entry shape says
/// what its `block0` parameters are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub frames: Vec<ShapeFrame>,
}

impl Shape {
    /// A one-frame shape.
    pub fn single(frame: ShapeFrame) -> Shape {
        Shape { frames: vec![frame] }
    }

    /// The types of the live slots, in frame order then slot order: the unit's inputs.
    pub fn param_types(&self) -> Vec<Type> {
        self.frames
            .iter()
            .flat_map(|f| f.slots.iter().flatten().copied())
            .collect()
    }

    /// The inputs to a unit with this entry shape, picked from the host's frames
    /// (outermost first). Errors if the frames do not fit the shape.
    pub fn inputs(&self, frames: &[&[Option<Val>]]) -> Result<Vec<Val>, String> {
        if frames.len() != self.frames.len() {
            return Err(format!(
                "{} frames given, the shape has {}",
                frames.len(),
                self.frames.len()
            ));
        }
        // Sized up front: this runs on every entry into compiled code.
        let mut out = Vec::with_capacity(self.frames.iter().map(|f| f.slots.len()).sum());
        for (k, (sf, slots)) in self.frames.iter().zip(frames).enumerate() {
            for (i, want) in sf.slots.iter().enumerate() {
                let Some(want) = want else { continue };
                match slots.get(i).copied().flatten() {
                    Some(v) if v.ty() == *want => out.push(v),
                    got => return Err(format!("frame {k} slot {i}: expected {want}, got {got:?}")),
                }
            }
        }
        Ok(out)
    }
}

/// One frame of the recorder's abstract stack.
#[derive(Clone, Debug)]
pub(crate) struct AbsFrame {
    pub(crate) frame: FrameRef,
    pub(crate) id: FrameId,
    pub(crate) pc: u32,
    pub(crate) slots: Vec<Option<Tv>>,
}

impl AbsFrame {
    pub(crate) fn snapshot(&self) -> SnapshotFrame {
        SnapshotFrame {
            frame: self.id,
            pc: self.pc,
            slots: self
                .slots
                .iter()
                .map(|s| s.map_or(SlotValue::Dead, |tv| tv.slot_value()))
                .collect(),
        }
    }

    /// Whether this frame can stand where `shape` was at entry.
    pub(crate) fn fits(&self, shape: &ShapeFrame) -> bool {
        self.frame == shape.frame
            && self.slots.len() == shape.slots.len()
            && self.slots.iter().zip(&shape.slots).all(|(now, then)| match then {
                None => true,
                Some(t) => now.is_some_and(|tv| tv.ty() == *t),
            })
    }
}
