//! # A peeled loop's preamble compiled apart from its loop
//!
//! The optimizer peels a loop: the trace becomes a *preamble* (one copy of the
//! iteration, where loop-invariant guards and loads stay) followed by the *loop*
//! (the copy that iterates, entered only at its header — [`leones_ir::cfg::loop_start`]).
//! The preamble runs once per entry into the unit; the loop runs every iteration. Yet
//! at the optimized level LLVM's code generator spends the same per-instruction
//! effort on both, and the preamble is about half of a unit (pythagorean's generator
//! region: 154 of 300 instructions of work). So an optimized unit with a loop start
//! can be built as two functions: the preamble at the baseline level (or the quick
//! one when a debugger needs unwind tables), the loop at the optimized level.
//!
//! The split is an IR-to-IR cut, so both halves are ordinary traces that verify and
//! compile like any other; only three things tie them together:
//!
//! - **The hand-off is a `jump @target`.** Every edge of the preamble into the loop
//!   becomes `jump @loop_entry(hand-off values)` (a `br` edge through a new
//!   one-instruction block), and the loop part's new `block0` takes those values and
//!   `goto`s the header. Its target is one entry past the unit's own targets in the
//!   shared target table, and installing the unit stores the loop part's address
//!   there, so the jump is a tail call straight into the loop.
//! - **The hand-off values keep the slot positions exits rely on.** They are
//!   `block0`'s parameters first, in their own slots — the loop part's `block0` has the
//!   same parameters at the same positions, so its exits still leave out stores of
//!   values a slot holds since the entry (`exit_trie::held_slots`) — then the
//!   header's arguments, then every other value of the preamble the loop uses
//!   (constants are defined again in the loop part instead).
//! - **Guard ids and block indices stay the unit's.** Guards are numbered in block
//!   order, so the preamble's are the unit's first `guard_base` and the loop part's
//!   guard `g` is the unit's `g + guard_base`: the lowering stores that id, both parts
//!   share the exit table, and the engine decodes exits with the whole trace as
//!   before; a `finish` reports its block the same way (`block_base`). The exception
//!   flag crosses in the state (the jump stores it, the loop part starts from it).
//!
//! A worked example (the guard ids are the unit's):
//!
//! ```text
//! block0(v0: i64, v1: ref):          preamble:  block0(v0: i64, v1: ref):
//!     v2 = getfield v1, P.n                         v2 = getfield v1, P.n
//!     v3 = const 1                                  v3 = const 1
//!     guard_true ...        (g0)                    guard_true ...        (g0)
//!     goto block1(v0)                               jump @loop_entry(v0, v1, v0, v2)
//! block1(v4: i64):
//!     v5 = ilt v4, v2                 loop:      block0(v0: i64, v1: ref, v6: i64, v2: i64):
//!     guard_true v5 ...     (g1)                    v3 = const 1
//!     v7 = iadd v4, v3                              goto block1(v6)
//!     jump block1(v7)                            block1(v4: i64):
//!                                                    v5 = ilt v4, v2
//!                                                    guard_true v5 ...     (g1 = 0 + 1)
//!                                                    v7 = iadd v4, v3
//!                                                    jump block1(v7)
//! ```
//!
//! Invariants: both parts verify (a part that does not is a bug, reported as the
//! unit's build error); the loop part is entered only from the preamble, with the state the
//! jump wrote; nothing but the preamble's jump enters the loop part, so what the
//! preamble proved (its guards) still holds there.

use leones_ir::cfg::loop_start;
use leones_ir::{Block, BlockCall, BlockData, Inst, JumpTarget, Op, TargetDescr, TargetId, Trace, Value};

/// A unit cut at its loop start (see the [module docs](self)).
#[derive(Clone, Debug)]
pub(crate) struct SplitUnit {
    /// Blocks before the loop start; every edge into the loop is `jump @handoff`.
    pub preamble: Trace,
    /// A new `block0` taking the hand-off values, then the loop's blocks.
    pub body: Trace,
    /// The preamble's target that enters the loop part (its last).
    pub handoff: TargetId,
    /// The number of guards in the preamble: the loop part's guard `g` is the unit's
    /// `g + guard_base`.
    pub guard_base: u32,
    /// The loop part's block `b > 0` is the unit's `b + block_base` (a `finish` says
    /// which block finished).
    pub block_base: usize,
    /// Slot words the hand-off writes.
    pub slots: usize,
}

/// Cuts `t` at its loop start, or `None` when it has none (not peeled, or an ambiguous
/// chain of loops). The parts are verified where every unit is, before they are
/// built (`lower::check_unit`): one that does not verify (a bug here) fails the
/// unit's build, and its host keeps what it ran before.
pub(crate) fn split_preamble(t: &Trace) -> Option<SplitUnit> {
    let start = loop_start(t)?;
    let defined_in = definition_blocks(t);
    let consts = t.constants();
    // The preamble's values the loop uses, besides `block0`'s parameters (passed in
    // their own slots) and constants (defined again).
    let block0_params = &t.blocks[0].params;
    let mut live_in = Vec::new();
    let mut remade = Vec::new();
    let mut seen = vec![false; t.value_types.len()];
    let mut use_value = |v: Value| {
        if seen[v.index()] || defined_in[v.index()].is_none_or(|b| b >= start) || block0_params.contains(&v) {
            return;
        }
        seen[v.index()] = true;
        match consts[v.index()] {
            Some(k) => remade.push(Inst {
                result: Some(v),
                op: Op::Const(k),
            }),
            None => live_in.push(v),
        }
    };
    for inst in t.blocks[start..].iter().flat_map(|b| &b.insts) {
        inst.op.for_each_arg(&mut use_value);
        if let Some(s) = inst.op.snapshot() {
            t.snapshot(s).for_each_value(&mut use_value);
        }
    }
    let header = &t.blocks[start].params;
    let slots = block0_params.len() + header.len() + live_in.len();

    // The preamble: edges into the loop become the hand-off jump.
    let handoff = TargetId::new(t.targets.len());
    let mut preamble = Trace {
        blocks: t.blocks[..start].to_vec(),
        ..without_blocks(t)
    };
    let types = |vs: &[Value]| vs.iter().map(|v| t.value_type(*v)).collect::<Vec<_>>();
    preamble.targets.push(TargetDescr {
        name: unique_target_name(t),
        params: [types(block0_params), types(header), types(&live_in)].concat(),
    });
    let jump_to_loop = |args: &[Value]| {
        let values = [block0_params.as_slice(), args, &live_in].concat();
        Op::Jump(JumpTarget::Unit(handoff), values)
    };
    let mut trampolines = Vec::new();
    for bi in 0..start {
        let Some(last) = preamble.blocks[bi].insts.last_mut() else {
            continue;
        };
        match &mut last.op {
            Op::Goto(bc) if bc.block.index() == start => last.op = jump_to_loop(&bc.args),
            Op::Br { then_, else_, .. } => {
                for edge in [then_, else_] {
                    if edge.block.index() == start {
                        let block = Block::new(start + trampolines.len());
                        trampolines.push(BlockData {
                            params: Vec::new(),
                            insts: vec![Inst {
                                result: None,
                                op: jump_to_loop(&edge.args),
                            }],
                        });
                        *edge = BlockCall {
                            block,
                            args: Vec::new(),
                        };
                    }
                }
            }
            _ => {}
        }
    }
    preamble.blocks.extend(trampolines);

    // The loop part: an entry block, then the loop's blocks renumbered.
    let mut body = without_blocks(t);
    let header_in: Vec<Value> = header.iter().map(|&h| body.new_value(t.value_type(h))).collect();
    let mut entry = remade;
    entry.push(Inst {
        result: None,
        op: Op::Goto(BlockCall {
            block: Block::new(1),
            args: header_in.clone(),
        }),
    });
    body.blocks.push(BlockData {
        params: [block0_params.as_slice(), &header_in, &live_in].concat(),
        insts: entry,
    });
    for block in &t.blocks[start..] {
        let mut block = block.clone();
        if let Some(last) = block.insts.last_mut() {
            renumber_successors(&mut last.op, start - 1);
        }
        body.blocks.push(block);
    }

    let guard_base = t.blocks[..start]
        .iter()
        .flat_map(|b| &b.insts)
        .filter(|i| i.op.is_guard())
        .count() as u32;
    Some(SplitUnit {
        preamble,
        body,
        handoff,
        guard_base,
        block_base: start - 1,
        slots,
    })
}

/// `t`'s descriptors, values and snapshots, with no blocks.
fn without_blocks(t: &Trace) -> Trace {
    Trace {
        name: t.name.clone(),
        layouts: t.layouts.clone(),
        fields: t.fields.clone(),
        arrays: t.arrays.clone(),
        calls: t.calls.clone(),
        frames: t.frames.clone(),
        targets: t.targets.clone(),
        blocks: Vec::new(),
        value_types: t.value_types.clone(),
        snapshots: t.snapshots.clone(),
    }
}

/// The block each value is defined in (as a parameter or a result).
fn definition_blocks(t: &Trace) -> Vec<Option<usize>> {
    let mut defined_in = vec![None; t.value_types.len()];
    for (bi, b) in t.blocks.iter().enumerate() {
        for p in &b.params {
            defined_in[p.index()] = Some(bi);
        }
        for r in b.insts.iter().filter_map(|i| i.result) {
            defined_in[r.index()] = Some(bi);
        }
    }
    defined_in
}

/// Moves every successor of a terminator `by` blocks down.
fn renumber_successors(op: &mut Op, by: usize) {
    let shift = |b: &mut Block| *b = Block::new(b.index() - by);
    match op {
        Op::Jump(JumpTarget::Block(b), _) => shift(b),
        Op::Goto(bc) => shift(&mut bc.block),
        Op::Br { then_, else_, .. } => {
            shift(&mut then_.block);
            shift(&mut else_.block);
        }
        _ => {}
    }
}

/// A target name none of `t`'s targets has.
fn unique_target_name(t: &Trace) -> String {
    let mut name = String::from("loop_entry");
    while t.targets.iter().any(|d| d.name == name) {
        name.push('_');
    }
    name
}
