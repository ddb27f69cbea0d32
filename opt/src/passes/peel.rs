//! # `peel`: loop peeling
//!
//! **Idea.** A loop trace — `block0` is the loop header, and one or more `jump
//! block0(args)` back edges end the iteration — becomes a *preamble* (the original
//! blocks: one copy of the body, every `jump block0(args)` turned into a forward `goto`
//! to the loop) followed by the *loop* (a second copy of all the blocks, whose back
//! edges `jump` to the copy of the header). The loop copy is dominated by the
//! preamble's entry, so the passes that run afterwards optimize it with everything the
//! preamble proved on every path into the loop: a pure computation on loop-invariant
//! values is already available (CSE), a guard on them already passed (guard
//! elimination), a field of an invariant object already loaded and not written in the
//! loop (heap cache), an object re-created every iteration never needs allocating
//! (escape analysis keeps it virtual across the back edge). What is left in the loop
//! is the work that really changes per iteration.
//!
//! The body may have several blocks: a region (a root trace with its bridges merged
//! in) has diamonds joined through block parameters, arms that leave the trace, and
//! several back edges (two arms that both end the iteration). All of it is copied as
//! is; forward edges stay forward (the copy's blocks follow the preamble's in the same
//! order), a `jump` to an inner loop header `blockK` becomes `jump` to its copy.
//!
//! Parameters the loop passes back unchanged are *invariant*: parameter `K` is
//! invariant when *every* `jump block0(...)` passes `block0`'s own `K`-th parameter in
//! position `K`. The loop header does not take them and the loop uses the preamble's
//! value directly, which is what makes the rest of the loop's invariants visible as
//! invariant. One back edge that changes it (a parameter varying on one path only) is
//! enough to make it a loop parameter.
//!
//! **Invariants.** The preamble and the loop together run exactly the original
//! iterations in order (the first in the preamble); every guard of each copy keeps its
//! snapshot (cloned and renamed, `origin` included, so the engine can tell which
//! recorded guard the loop's copy stands for), so exits rebuild the same host state.
//! The verifier's rules hold by construction: the preamble reaches the loop header
//! only by forward `goto`s (from however many blocks ended the first iteration), the
//! loop's `jump`s go back to the copy's header, which dominates every loop block (the
//! only way into the copy is through it), and `block0`'s parameters, which the loop
//! shares, dominate everything. Traces with no `jump block0` are left alone.
//!
//! **Example.** A one-block loop; a diamond loop is in `opt/filetests/peel/diamond.ir`.
//! ```text
//! block0(v0: i64, v1: i64):            block0(v0: i64, v1: i64):
//!     v2 = ilt v0, v1                      v2 = ilt v0, v1
//!     guard_true v2 [main@1(v0)]   =>      guard_true v2 [main@1(v0)]
//!     v3 = const 1                         v3 = const 1
//!     v4 = iadd v0, v3                     v4 = iadd v0, v3
//!     jump block0(v4, v1)                  goto block1(v4)
//!                                      block1(v5: i64):
//!                                          v6 = ilt v5, v1
//!                                          guard_true v6 [main@1(v5)]
//!                                          v7 = const 1
//!                                          v8 = iadd v5, v7
//!                                          jump block1(v8)
//! ```
//!
//! **When peeling is undone.** Peeling doubles the trace, and everything after the
//! optimizer (LLVM above all) pays for the copy. On many loops the copy buys nothing:
//! every value the loop uses changes per iteration, so the loop comes out exactly as
//! long as the preamble. Under [`PeelPolicy::WhenItPays`] (the engine's default)
//! [`crate::optimize`] therefore checks the optimized trace ([`unpaid_loop_start`]):
//! if its loop is not cheaper than its preamble, the trace is optimized again without
//! peeling, and that version is kept unless its one loop costs more than the peeled
//! loop did (a value the preamble kept virtual across the back edge, say, now
//! allocated every iteration). The cost is [`work`]: instructions other than constants, which become
//! immediates. Only a loop that is not cheaper at all is unpeeled: a loop a few
//! instructions cheaper can still be much faster when it is throughput-bound
//! (data_driven's main loop is 6% cheaper and ran 6% faster peeled), and the time
//! that decides it is not known here.
//!
//! **Source.** PyPy's `optimizeopt/unroll.py` (Ardö, Bolz, Fijałkowski, "Loop-Aware
//! Optimizations in PyPy's Tracing JIT", DLS 2012); LuaJIT's `lj_opt_loop.c` (copy-
//! substitution of the loop body after the recorded iteration). Both peel one block;
//! copying a whole region is the same idea over a CFG (loop peeling in any
//! textbook compiler, e.g. LLVM's `LoopPeel.cpp`).

use crate::context::OptContext;
use crate::pass::Pass;
use leones_ir::FastHashMap as HashMap;
use leones_ir::{Block, BlockCall, BlockData, JumpTarget, Op, Trace, Value};

/// Whether [`crate::optimize`] keeps a peeled loop (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PeelPolicy {
    /// Keep the peeled trace whatever it bought: the pipeline does what it names
    /// (filetests, `leones opt --passes`).
    #[default]
    Always,
    /// Keep it when the loop came out cheaper than the preamble; otherwise optimize
    /// the trace again without `peel` (the engine's default).
    WhenItPays,
    /// Run the pipeline without `peel`.
    Never,
}

impl PeelPolicy {
    /// For a tool that runs the default pipeline or passes it was given by name
    /// (`leones opt`): the default pipeline keeps a peeled loop only when it pays, as
    /// the engine does; named passes run as named.
    pub fn for_pipeline(named_passes: bool) -> PeelPolicy {
        if named_passes {
            PeelPolicy::Always
        } else {
            PeelPolicy::WhenItPays
        }
    }
}

pub struct Peel;

impl Pass for Peel {
    fn name(&self) -> &'static str {
        "peel"
    }
    fn run(&self, t: &mut Trace, _ctx: &OptContext) {
        let Some(carried) = carried_params(t) else {
            return;
        };
        let n = t.blocks.len();
        let header_copy = Block::new(n);
        let copy = loop_renaming(t, &carried);
        let mut loop_blocks = Vec::with_capacity(n);
        for (b, block) in t.blocks.iter().enumerate() {
            let params = if b == 0 {
                carried.iter().map(|&k| copy.get(block.params[k])).collect()
            } else {
                block.params.iter().map(|&p| copy.get(p)).collect()
            };
            loop_blocks.push(BlockData {
                params,
                insts: block.insts.clone(),
            });
        }
        for block in &mut loop_blocks {
            for inst in &mut block.insts {
                inst.result = inst.result.map(|r| copy.get(r));
                inst.op.for_each_arg_mut(|v| *v = copy.get(*v));
                retarget_loop_copy(&mut inst.op, n, &carried);
                if let Op::Guard(_, snap) | Op::MergePoint(snap) = &mut inst.op {
                    let mut s = t.snapshots[snap.index()].clone(); // keeps `origin`
                    s.for_each_value_mut(|v| *v = copy.get(*v));
                    *snap = t.add_snapshot(s);
                }
            }
        }
        for block in &mut t.blocks {
            let Some(last) = block.insts.last_mut() else {
                continue;
            };
            if let Op::Jump(JumpTarget::Block(h), args) = &last.op {
                if h.index() == 0 {
                    let args = carried.iter().map(|&k| args[k]).collect();
                    last.op = Op::Goto(BlockCall {
                        block: header_copy,
                        args,
                    });
                }
            }
        }
        t.blocks.extend(loop_blocks);
    }
}

/// The indices of `block0`'s parameters that some back edge changes, or `None` when
/// the trace is not a loop on `block0` (no `jump block0`).
fn carried_params(t: &Trace) -> Option<Vec<usize>> {
    let params = &t.blocks.first()?.params;
    let mut back_edges = t.blocks.iter().filter_map(|b| match b.insts.last().map(|i| &i.op) {
        Some(Op::Jump(JumpTarget::Block(h), args)) if h.index() == 0 => Some(args),
        _ => None,
    });
    let first = back_edges.next()?;
    let mut varies: Vec<bool> = params.iter().zip(first).map(|(p, a)| p != a).collect();
    for args in back_edges {
        for (k, (p, a)) in params.iter().zip(args).enumerate() {
            varies[k] |= p != a;
        }
    }
    Some((0..params.len()).filter(|&k| varies[k]).collect())
}

/// Fresh names for the loop copy: every block parameter and result gets a new value,
/// except `block0`'s invariant parameters, which the loop shares with the preamble.
struct Renaming(HashMap<Value, Value>);

impl Renaming {
    fn get(&self, v: Value) -> Value {
        self.0.get(&v).copied().unwrap_or(v)
    }
}

fn loop_renaming(t: &mut Trace, carried: &[usize]) -> Renaming {
    let mut defs: Vec<Value> = carried.iter().map(|&k| t.blocks[0].params[k]).collect();
    for (b, block) in t.blocks.iter().enumerate() {
        if b > 0 {
            defs.extend(&block.params);
        }
        defs.extend(block.insts.iter().filter_map(|i| i.result));
    }
    let map = defs
        .into_iter()
        .map(|v| {
            let ty = t.value_type(v);
            (v, t.new_value(ty))
        })
        .collect();
    Renaming(map)
}

/// Points a loop-copy terminator at the copy's blocks (`n` blocks later); a back edge
/// to the header passes only the carried parameters.
fn retarget_loop_copy(op: &mut Op, n: usize, carried: &[usize]) {
    let shift = |b: &mut Block| *b = Block::new(b.index() + n);
    match op {
        Op::Jump(JumpTarget::Block(h), args) => {
            if h.index() == 0 {
                *args = carried.iter().map(|&k| args[k]).collect();
            }
            shift(h);
        }
        Op::Goto(bc) => shift(&mut bc.block),
        Op::Br { then_, else_, .. } => {
            shift(&mut then_.block);
            shift(&mut else_.block);
        }
        _ => {}
    }
}

/// What executing `blocks` once costs, as the peeling decision counts it: every
/// instruction but constants (which become immediates or are shared).
pub fn work(blocks: &[BlockData]) -> usize {
    blocks
        .iter()
        .flat_map(|b| &b.insts)
        .filter(|i| !matches!(i.op, Op::Const(_)))
        .count()
}

/// Where the loop of a peeled trace starts (in `leones_ir::cfg`, shared with the
/// backend, which compiles a peeled loop's preamble apart from its loop).
pub use leones_ir::cfg::loop_start;

/// Where the loop of a peeled trace starts ([`loop_start`]) when it is not cheaper
/// than its preamble ([`work`]); `None` when it is, or when the trace was not peeled.
pub fn unpaid_loop_start(t: &Trace) -> Option<usize> {
    loop_start(t).filter(|&s| work(&t.blocks[s..]) >= work(&t.blocks[..s]))
}
