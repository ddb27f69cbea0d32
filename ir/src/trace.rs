//! The [`Trace`]: one compilation unit (a loop trace, a bridge or a region).
//!
//! A trace is a list of blocks in SSA form with block parameters (no phis). `block0`
//! is the entry; its parameters are the unit's inputs. The common case is one block of
//! straight-line ops and guards ending in `jump block0(...)` (a loop; the arguments are
//! the loop-carried values) or `finish`. After loop peeling there are two blocks (the
//! preamble, then the loop); after trace merging, several blocks with `br` and `goto`.
//!
//! Invariants (checked by the [verifier](crate::verify)): every block ends in exactly
//! one terminator; `goto`/`br` only go forward (to a later block) and `jump` to a block
//! only goes backward (to an earlier block or itself), so forward edges form a DAG in
//! block order and every cycle passes through a `jump`; every use is dominated by its
//! definition; every guard's snapshot only uses values available at the guard.
//!
//! Values are numbered densely in a value table that records each value's type; passes
//! allocate new values with [`Trace::new_value`] and may leave unused ids behind (the
//! printer renumbers, so text is canonical).

use crate::descr::{ArrayDescr, CallDescr, FieldDescr, FrameDescr, Layout, TargetDescr};
use crate::entity::{ArrayId, Block, CallId, FieldId, FrameId, GuardId, LayoutId, SnapshotId, TargetId, Value};
use crate::op::{Const, Inst, Op};
use crate::snapshot::Snapshot;
use crate::types::Type;

/// A basic block.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct BlockData {
    /// Block parameters (values defined on entry).
    pub params: Vec<Value>,
    /// Instructions; the last one is the terminator.
    pub insts: Vec<Inst>,
}

/// A compilation unit with its descriptor tables.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Trace {
    /// A name for logs and symbols.
    pub name: String,
    /// Object layouts.
    pub layouts: Vec<Layout>,
    /// Object fields.
    pub fields: Vec<FieldDescr>,
    /// Array shapes.
    pub arrays: Vec<ArrayDescr>,
    /// Host functions.
    pub calls: Vec<CallDescr>,
    /// Host frame kinds.
    pub frames: Vec<FrameDescr>,
    /// Other units reachable through `jump @name(...)`.
    pub targets: Vec<TargetDescr>,
    /// Blocks; `blocks[0]` is the entry.
    pub blocks: Vec<BlockData>,
    /// The type of every value id.
    pub value_types: Vec<Type>,
    /// Guard snapshots.
    pub snapshots: Vec<Snapshot>,
}

impl Trace {
    /// An empty trace with a name.
    pub fn new(name: impl Into<String>) -> Trace {
        Trace {
            name: name.into(),
            ..Trace::default()
        }
    }

    /// Allocates a fresh value of type `ty`.
    pub fn new_value(&mut self, ty: Type) -> Value {
        self.value_types.push(ty);
        Value::new(self.value_types.len() - 1)
    }

    /// The type of a value. Panics on an id not from this trace (a caller bug; parsed
    /// and verified traces never contain one).
    pub fn value_type(&self, v: Value) -> Type {
        self.value_types[v.index()]
    }

    /// Appends an empty block and returns its id.
    pub fn add_block(&mut self) -> Block {
        self.blocks.push(BlockData::default());
        Block::new(self.blocks.len() - 1)
    }

    /// Adds a parameter of type `ty` to `block`.
    pub fn add_block_param(&mut self, block: Block, ty: Type) -> Value {
        let v = self.new_value(ty);
        self.blocks[block.index()].params.push(v);
        v
    }

    /// Appends an instruction to `block`, creating its result value of type `ty`.
    pub fn push(&mut self, block: Block, op: Op, ty: Option<Type>) -> Option<Value> {
        let result = ty.map(|t| self.new_value(t));
        self.blocks[block.index()].insts.push(Inst { result, op });
        result
    }

    /// Adds a snapshot and returns its id.
    pub fn add_snapshot(&mut self, snapshot: Snapshot) -> SnapshotId {
        self.snapshots.push(snapshot);
        SnapshotId::new(self.snapshots.len() - 1)
    }

    /// The constant each value holds when an `Op::Const` defines it, by value index
    /// (`None` for every other value): what a code generator folds into immediates
    /// and uses to leave out checks that cannot fail.
    ///
    /// ```
    /// let t = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    v1 = const 7\n    v2 = iadd v0, v1\n    finish v2\n").unwrap();
    /// let k = t.constants();
    /// assert_eq!(k[1], Some(leones_ir::Const::I64(7)));
    /// assert_eq!((k[0], k[2]), (None, None));
    /// ```
    pub fn constants(&self) -> Vec<Option<Const>> {
        let mut consts = vec![None; self.value_types.len()];
        for inst in self.blocks.iter().flat_map(|b| &b.insts) {
            if let (Op::Const(k), Some(r)) = (&inst.op, inst.result) {
                if let Some(c) = consts.get_mut(r.index()) {
                    *c = Some(*k);
                }
            }
        }
        consts
    }

    /// Drops the snapshots no guard or merge point refers to and renumbers the rest,
    /// keeping their order (and any sharing between guards). Passes leave snapshots
    /// behind when they remove a guard or give it a rewritten snapshot; every later
    /// whole-trace rewrite would otherwise walk them too. A trace that refers to a
    /// snapshot it does not have is left as it is (the verifier reports it).
    ///
    /// ```
    /// let mut t = leones_ir::parse(
    ///     "trace t\nframe f code 0x1 slots 1\n\nblock0(v0: bool):\n    guard_true v0 [f@0(v0)]\n    finish\n",
    /// )
    /// .unwrap();
    /// let kept = t.snapshots[0].clone();
    /// t.snapshots.insert(0, kept.clone()); // an orphan, as a pass might leave it
    /// if let leones_ir::Op::Guard(_, s) = &mut t.blocks[0].insts[0].op {
    ///     *s = leones_ir::SnapshotId::new(1);
    /// }
    /// t.remove_unused_snapshots();
    /// assert_eq!(t.snapshots, vec![kept]);
    /// assert!(leones_ir::verify(&t).is_ok());
    /// ```
    pub fn remove_unused_snapshots(&mut self) {
        const UNUSED: usize = usize::MAX;
        let mut new_id = vec![UNUSED; self.snapshots.len()];
        for inst in self.blocks.iter().flat_map(|b| &b.insts) {
            if let Some(s) = inst.op.snapshot() {
                match new_id.get_mut(s.index()) {
                    Some(id) => *id = 0,
                    None => return,
                }
            }
        }
        let mut live = 0;
        for id in new_id.iter_mut().filter(|id| **id != UNUSED) {
            *id = live;
            live += 1;
        }
        if live == self.snapshots.len() {
            return;
        }
        let old = std::mem::take(&mut self.snapshots);
        self.snapshots = old
            .into_iter()
            .zip(&new_id)
            .filter(|(_, id)| **id != UNUSED)
            .map(|(s, _)| s)
            .collect();
        for inst in self.blocks.iter_mut().flat_map(|b| &mut b.insts) {
            if let Op::Guard(_, s) | Op::MergePoint(s) = &mut inst.op {
                *s = SnapshotId::new(new_id[s.index()]);
            }
        }
    }

    /// The block data of `b`.
    pub fn block(&self, b: Block) -> &BlockData {
        &self.blocks[b.index()]
    }

    /// Descriptor accessors.
    pub fn layout(&self, id: LayoutId) -> &Layout {
        &self.layouts[id.index()]
    }
    pub fn field(&self, id: FieldId) -> &FieldDescr {
        &self.fields[id.index()]
    }
    pub fn array(&self, id: ArrayId) -> &ArrayDescr {
        &self.arrays[id.index()]
    }
    pub fn call(&self, id: CallId) -> &CallDescr {
        &self.calls[id.index()]
    }
    pub fn frame(&self, id: FrameId) -> &FrameDescr {
        &self.frames[id.index()]
    }
    pub fn target(&self, id: TargetId) -> &TargetDescr {
        &self.targets[id.index()]
    }
    pub fn snapshot(&self, id: SnapshotId) -> &Snapshot {
        &self.snapshots[id.index()]
    }

    /// Finds descriptors by name.
    pub fn layout_named(&self, name: &str) -> Option<LayoutId> {
        self.layouts.iter().position(|l| l.name == name).map(LayoutId::new)
    }
    pub fn field_named(&self, layout: LayoutId, name: &str) -> Option<FieldId> {
        self.fields
            .iter()
            .position(|f| f.layout == layout && f.name == name)
            .map(FieldId::new)
    }
    pub fn array_named(&self, name: &str) -> Option<ArrayId> {
        self.arrays.iter().position(|a| a.name == name).map(ArrayId::new)
    }
    pub fn call_named(&self, name: &str) -> Option<CallId> {
        self.calls.iter().position(|c| c.name == name).map(CallId::new)
    }
    pub fn frame_named(&self, name: &str) -> Option<FrameId> {
        self.frames.iter().position(|f| f.name == name).map(FrameId::new)
    }
    pub fn target_named(&self, name: &str) -> Option<TargetId> {
        self.targets.iter().position(|t| t.name == name).map(TargetId::new)
    }

    /// The guards in program order, with their [`GuardId`] and location.
    pub fn guards(&self) -> Vec<GuardInfo> {
        let mut out = Vec::new();
        for (b, block) in self.blocks.iter().enumerate() {
            for (i, inst) in block.insts.iter().enumerate() {
                if let Op::Guard(_, snap) = inst.op {
                    let id = GuardId::new(out.len());
                    out.push(GuardInfo {
                        id,
                        block: Block::new(b),
                        inst: i,
                        snapshot: snap,
                    });
                }
            }
        }
        out
    }

    /// Guard `id` (guards are numbered in block order, as [`Trace::guards`] lists
    /// them), found without building the list: the exit path asks for one guard.
    ///
    /// ```
    /// let t = leones_ir::parse("trace t\nblock0(v0: bool):\n    guard_true v0 []\n    guard_false v0 []\n    finish\n").unwrap();
    /// let g = t.guard(leones_ir::GuardId::new(1)).unwrap();
    /// assert_eq!((g.block.index(), g.inst), (0, 1));
    /// assert!(t.guard(leones_ir::GuardId::new(2)).is_none());
    /// ```
    pub fn guard(&self, id: GuardId) -> Option<GuardInfo> {
        let mut n = 0;
        for (b, block) in self.blocks.iter().enumerate() {
            for (i, inst) in block.insts.iter().enumerate() {
                if let Op::Guard(_, snap) = inst.op {
                    if n == id.index() {
                        return Some(GuardInfo {
                            id,
                            block: Block::new(b),
                            inst: i,
                            snapshot: snap,
                        });
                    }
                    n += 1;
                }
            }
        }
        None
    }

    /// Counts instructions over all blocks.
    pub fn inst_count(&self) -> usize {
        self.blocks.iter().map(|b| b.insts.len()).sum()
    }
}

/// Where a guard is, and its snapshot.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GuardInfo {
    pub id: GuardId,
    pub block: Block,
    pub inst: usize,
    pub snapshot: SnapshotId,
}
