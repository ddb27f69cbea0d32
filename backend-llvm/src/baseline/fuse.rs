//! # What baseline code leaves out: one walk over the trace before emission
//!
//! The emitter gives every op a fixed sequence, which is what keeps it fast to
//! generate — but a few op *groups* are common enough, and their fixed sequences
//! wasteful enough, that it pays to recognize them first and emit one short sequence
//! for the group. Each group is found by local pattern and by use counts (an operand
//! of any op and a snapshot entry both count as a use), so that a value the group
//! swallows is read by nothing else — the only condition under which leaving its home
//! unwritten is sound (exits and other blocks read homes):
//!
//! - **constants** have no home at all: every read materializes the immediate, so
//!   their definitions emit nothing (a constant read by an exit is stored as one);
//! - **fused compares**: a compare used only by the next instruction, a guard or a
//!   two-target `br` on it, is never materialized — the consumer jumps on the flags;
//! - **overflow checks**: the verifier puts a `guard_no_overflow` right after the
//!   `*_ovf` op it checks, so the op leaves its overflow in the flags and the guard
//!   is one `jo` (no pattern to find: [`super::ops`] and [`super::exits`] do it);
//! - **counters**: `x = load.i64 P, off; y = iadd x, K; store.i64 P, off, y` with
//!   `P` and `K` constants and `x`, `y` used by nothing else — the shape of every
//!   counter the engine's instrumentation adds (guard passes, bridge entries) — is
//!   one `add qword [P+off], K`; the load and the `iadd` emit nothing. Constants may
//!   sit between the three (they emit nothing either); any other op breaks the shape.
//!
//! A counter in baseline code before (12 instructions) and after (2):
//!
//! ```text
//!     mov rax, P ; mov rax, [rax] ; mov [home x], rax ; mov r11, rax
//!     mov rax, r11 ; mov ebx, 1 ; add rax, rbx ; mov [home y], rax ; mov r12, rax
//!     mov rax, P ; mov rdx, r12 ; mov [rax], rdx
//! ---
//!     mov rax, P
//!     add qword [rax], 1
//! ```

use super::ops;
use leones_ir::{BinaryOp, Const, GuardKind, MemType, Op, Trace, Value};
use std::collections::{HashMap, HashSet};

/// A counter increment the emitter makes at the group's `store`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Counter {
    pub address: u64,
    pub offset: i32,
    pub step: i32,
}

/// The result of the walk: what the emitter fuses or leaves out.
#[derive(Default)]
pub(super) struct Fusions {
    /// Each value's constant when an `Op::Const` defines it, by value index.
    pub consts: Vec<Option<Const>>,
    /// Compare results left in the flags for the next instruction.
    pub compares: HashSet<Value>,
    /// Instructions (block, index) that emit nothing: a counter's load and `iadd`.
    pub skipped: HashSet<(usize, usize)>,
    /// A counter's `store` (block, index): the one increment made instead.
    pub counters: HashMap<(usize, usize), Counter>,
}

impl Fusions {
    /// Walks `trace` once (use counts, then each block's pairs and counter groups).
    pub(super) fn of(trace: &Trace) -> Fusions {
        let uses = use_counts(trace);
        let mut f = Fusions {
            consts: trace.constants(),
            ..Fusions::default()
        };
        let used_once = |v: Value| uses.get(v.index()) == Some(&1);
        for (bi, block) in trace.blocks.iter().enumerate() {
            for pair in block.insts.windows(2) {
                let Some(r) = pair[0].result else { continue };
                if ops::flag_compare(&pair[0].op) && used_once(r) {
                    let consumer = match &pair[1].op {
                        Op::Guard(GuardKind::True(v) | GuardKind::False(v), _) => *v == r,
                        Op::Br { cond, then_, else_, .. } => *cond == r && then_.block != else_.block,
                        _ => false,
                    };
                    if consumer {
                        f.compares.insert(r);
                    }
                }
            }
            f.find_counters(trace, bi, &used_once);
        }
        f
    }

    /// The bits of `v` when it is a constant.
    pub(super) fn constant(&self, v: Value) -> Option<u64> {
        self.consts.get(v.index()).copied().flatten().map(Const::bits)
    }

    /// Finds block `bi`'s counter groups (see the module docs).
    fn find_counters(&mut self, trace: &Trace, bi: usize, used_once: &impl Fn(Value) -> bool) {
        let insts = &trace.blocks[bi].insts;
        // The indices of the block's instructions other than constants.
        let real: Vec<usize> = (0..insts.len())
            .filter(|i| !matches!(insts[*i].op, Op::Const(_)))
            .collect();
        for w in real.windows(3) {
            let (load, add, store) = (&insts[w[0]], &insts[w[1]], &insts[w[2]]);
            let Op::Load(MemType::I64, p, off) = load.op else {
                continue;
            };
            let Some(x) = load.result.filter(|x| used_once(*x)) else {
                continue;
            };
            let step = match add.op {
                Op::Binary(BinaryOp::IAdd, a, b) if a == x => self.constant(b),
                Op::Binary(BinaryOp::IAdd, a, b) if b == x => self.constant(a),
                _ => None,
            };
            let Some(y) = add.result.filter(|y| used_once(*y)) else {
                continue;
            };
            let Op::Store(MemType::I64, p2, off2, v) = store.op else {
                continue;
            };
            let address = self.constant(p).filter(|a| *a != 0 && self.constant(p2) == Some(*a));
            let (Some(address), Some(step)) = (address, step.and_then(|k| i32::try_from(k as i64).ok())) else {
                continue;
            };
            let Ok(offset) = i32::try_from(off) else { continue };
            if off2 != off || v != y {
                continue;
            }
            self.skipped.insert((bi, w[0]));
            self.skipped.insert((bi, w[1]));
            self.counters.insert((bi, w[2]), Counter { address, offset, step });
        }
    }
}

/// How many times each value is read: as an operand, or by a snapshot.
fn use_counts(trace: &Trace) -> Vec<u32> {
    let mut uses = vec![0u32; trace.value_types.len()];
    let mut count = |v: Value| {
        if let Some(u) = uses.get_mut(v.index()) {
            *u += 1;
        }
    };
    for inst in trace.blocks.iter().flat_map(|b| &b.insts) {
        inst.op.for_each_arg(&mut count);
        if let Some(s) = inst.op.snapshot() {
            trace.snapshot(s).for_each_value(&mut count);
        }
    }
    uses
}
