//! Snapshots: the resume data a guard carries.
//!
//! When a guard fails, execution continues in the host's interpreter. A [`Snapshot`]
//! says how to rebuild the host's state at that point: the stack of host frames
//! (outermost first — one per call the tracer inlined), each a [`FrameDescr`] and the
//! `pc` to resume at, with every slot given as an SSA value, a constant, a virtual
//! object, or dead. Virtual objects are allocations the optimizer removed; the
//! snapshot lists their fields so the engine can materialize them on exit. Virtual
//! fields may refer to other virtuals, cycles included.
//!
//! Snapshots are what make allocation removal, inlining and bridges correct: every
//! optimization must keep each guard's snapshot describing the same host state.
//!
//! ```text
//! guard_true v9 [main@12(v0, v4, _, 7), helper@2(v1, &0)] {&0 = Point{x: v3, y: 1.5}}
//! ```
//!
//! [`FrameDescr`]: crate::FrameDescr

use crate::entity::{FieldId, FrameId, LayoutId, Value, VirtualId};
use crate::op::Const;

/// How one slot of a rebuilt frame (or one field of a virtual) gets its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotValue {
    /// The value of an SSA value at the guard.
    Value(Value),
    /// A constant.
    Const(Const),
    /// A virtual object of this snapshot, materialized on exit.
    Virtual(VirtualId),
    /// Not live: the host must not read it.
    Dead,
}

/// One host frame to rebuild.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotFrame {
    /// Which kind of frame.
    pub frame: FrameId,
    /// The host pc to resume at.
    pub pc: u32,
    /// One entry per slot of the frame descriptor.
    pub slots: Vec<SlotValue>,
}

/// An object that exists only in the optimizer's mind until an exit needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualObject {
    /// Its layout (what `new` would have allocated).
    pub layout: LayoutId,
    /// Its initialized fields; fields not listed are zero.
    pub fields: Vec<(FieldId, SlotValue)>,
}

/// The resume data of one guard.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Snapshot {
    /// Host frames, outermost first.
    pub frames: Vec<SnapshotFrame>,
    /// Virtual objects, referred to as `&0`, `&1`, ... by slots and fields.
    pub virtuals: Vec<VirtualObject>,
    /// Provenance: which recorded guard this snapshot descends from, as a number the
    /// producer chose (the recorder numbers its guards 0, 1, ...; region formation
    /// numbers the region's). Passes that copy or rewrite a snapshot keep it, so an
    /// engine can tell which recorded guard an optimized exit is. Not semantic and not
    /// part of the text format.
    pub origin: Option<u32>,
}

impl Snapshot {
    /// Calls `f` on every SSA value the snapshot uses (frames and virtual fields).
    pub fn for_each_value(&self, mut f: impl FnMut(Value)) {
        // Plain nested loops, not `all_slots`' chained iterators: passes walk every
        // snapshot of a trace several times, and the chain cost ~2x.
        for frame in &self.frames {
            for slot in &frame.slots {
                if let SlotValue::Value(v) = slot {
                    f(*v)
                }
            }
        }
        for object in &self.virtuals {
            for (_, slot) in &object.fields {
                if let SlotValue::Value(v) = slot {
                    f(*v)
                }
            }
        }
    }

    /// Calls `f` on a mutable reference to every SSA value the snapshot uses.
    pub fn for_each_value_mut(&mut self, mut f: impl FnMut(&mut Value)) {
        for frame in &mut self.frames {
            for slot in &mut frame.slots {
                if let SlotValue::Value(v) = slot {
                    f(v)
                }
            }
        }
        for object in &mut self.virtuals {
            for (_, slot) in &mut object.fields {
                if let SlotValue::Value(v) = slot {
                    f(v)
                }
            }
        }
    }

    /// Every slot and virtual field, in order.
    pub fn all_slots(&self) -> impl Iterator<Item = &SlotValue> {
        let frames = self.frames.iter().flat_map(|fr| fr.slots.iter());
        let fields = self.virtuals.iter().flat_map(|vo| vo.fields.iter().map(|(_, s)| s));
        frames.chain(fields)
    }
}
