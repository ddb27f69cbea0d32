//! The host world shared by the engine tests with two frame kinds and `Node` objects
//! (`tests/engine_frames.rs`, `tests/engine_bridges.rs`): a `main` frame, an inlined
//! `helper` frame of 4 slots, and `Node { next: ref @8, val: i64 @16 }` with a class
//! word. Each test file runs its own program in this world.

use leones::engine::FrameRef;
use leones_ir::interp::Val;
use leones_ir::Type;
use leones_tracer::{FieldRef, LayoutRef, Registry};

pub struct World {
    pub reg: Registry,
    pub main: FrameRef,
    pub helper: FrameRef,
    pub node: LayoutRef,
    pub next: FieldRef,
    pub val: FieldRef,
}

/// Registers the world; `main` gets `main_slots` slots.
pub fn world(main_slots: u32) -> World {
    let reg = Registry::new();
    let node = reg.layout("Node", 24, Some(0x4e0de)).unwrap();
    World {
        main: reg.frame("main", 1, main_slots).unwrap(),
        helper: reg.frame("helper", 2, 4).unwrap(),
        next: reg.field(node, "next", 8, Type::Ref, false).unwrap(),
        val: reg.field(node, "val", 16, Type::I64, false).unwrap(),
        node,
        reg,
    }
}

/// An integer slot of a resumed frame.
pub fn int(v: Option<Val>) -> i64 {
    v.and_then(|v| v.as_i64()).expect("an i64 slot")
}

/// A reference slot of a resumed frame (0 for null or dead).
pub fn addr(v: Option<Val>) -> u64 {
    v.and_then(|v| v.as_addr()).unwrap_or(0)
}
