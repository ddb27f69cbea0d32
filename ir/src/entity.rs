//! Typed indices into a trace's tables.
//!
//! Every reference inside a [`Trace`](crate::Trace) is a small integer newtype, so a
//! trace is plain data: it can be cloned, printed, hashed and sent to another thread,
//! and no op ever holds a pointer into another op.

use std::fmt;

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:expr) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The index into the owning table.
            pub fn index(self) -> usize {
                self.0 as usize
            }
            /// Makes an id from a table index.
            pub fn new(index: usize) -> Self {
                Self(index as u32)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }
    };
}

entity!(
    /// An SSA value: a block parameter or an instruction result.
    Value, "v");
entity!(
    /// A basic block; `block0` is the entry.
    Block, "block");
entity!(
    /// A [`Layout`](crate::Layout) in the trace's layout table.
    LayoutId, "layout");
entity!(
    /// A [`FieldDescr`](crate::FieldDescr) in the trace's field table.
    FieldId, "field");
entity!(
    /// An [`ArrayDescr`](crate::ArrayDescr) in the trace's array table.
    ArrayId, "array");
entity!(
    /// A [`CallDescr`](crate::CallDescr) in the trace's call table.
    CallId, "call");
entity!(
    /// A [`FrameDescr`](crate::FrameDescr): a kind of host frame snapshots can rebuild.
    FrameId, "frame");
entity!(
    /// A [`TargetDescr`](crate::TargetDescr): another compiled unit a trace can jump to.
    TargetId, "target");
entity!(
    /// A [`Snapshot`](crate::Snapshot) in the trace's snapshot table.
    SnapshotId, "snap");
entity!(
    /// A guard, numbered by its position among the trace's guards in program order
    /// (blocks in order, instructions in order). The backend gives each guard an exit
    /// slot with this index.
    GuardId, "g");
entity!(
    /// A virtual object inside one snapshot.
    VirtualId, "&");
