//! # `peel`: loop peeling
//!
//! **Idea.** A loop trace `block0(params) ... jump block0(args)` becomes a *preamble*
//! (`block0`: one copy of the body, ending in `goto block1(args)`) followed by the
//! *loop* (`block1`: a second copy, ending in `jump block1(...)`). The loop copy is
//! dominated by the preamble, so the passes that run afterwards optimize it with
//! everything the preamble proved: a pure computation on loop-invariant values is
//! already available (CSE), a guard on them already passed (guard elimination), a
//! field of an invariant object already loaded and not written in the loop (heap
//! cache), an object re-created every iteration never needs allocating (escape
//! analysis keeps it virtual across the back edge). What is left in `block1` is the
//! work that really changes per iteration.
//!
//! Parameters the loop passes back unchanged (`jump block0(..., vK, ...)` with `vK`
//! the K-th parameter) are *invariant*: the loop block does not take them and uses the
//! preamble's value directly, which is what makes the rest of the loop's invariants
//! visible as invariant.
//!
//! **Invariants.** The preamble and the loop together run exactly the original
//! iterations in order (the first in the preamble); every guard of each copy keeps
//! its snapshot (cloned and renamed), so exits rebuild the same host state. The
//! preamble enters the loop with a forward `goto` (the verifier wants `jump` only on
//! back edges). Traces of any other shape are left alone.
//!
//! **Example.**
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
//! **Source.** PyPy's `optimizeopt/unroll.py` (Ardö, Bolz, Fijałkowski, "Loop-Aware
//! Optimizations in PyPy's Tracing JIT", DLS 2012); LuaJIT's `lj_opt_loop.c` (copy-
//! substitution of the loop body after the recorded iteration).

use crate::context::OptContext;
use crate::pass::Pass;
use leones_ir::{Block, BlockCall, BlockData, Inst, JumpTarget, Op, SlotValue, Trace, Value};
use std::collections::HashMap;

pub struct Peel;

impl Pass for Peel {
    fn name(&self) -> &'static str {
        "peel"
    }
    fn run(&self, t: &mut Trace, _ctx: &OptContext) {
        if t.blocks.len() != 1 {
            return;
        }
        let body = std::mem::take(&mut t.blocks[0].insts);
        let params = t.blocks[0].params.clone();
        let Some(Op::Jump(JumpTarget::Block(b0), args)) = body.last().map(|i| i.op.clone()) else {
            t.blocks[0].insts = body;
            return;
        };
        debug_assert_eq!(b0.index(), 0);
        let n = body.len() - 1;
        // Renaming for the loop copy.
        let mut map: HashMap<Value, Value> = HashMap::new();
        let mut loop_params = Vec::new();
        let mut carried = Vec::new();
        for (k, (&p, &a)) in params.iter().zip(&args).enumerate() {
            if a == p {
                continue; // invariant: the loop uses the preamble's value
            }
            let np = t.new_value(t.value_type(p));
            map.insert(p, np);
            loop_params.push(np);
            carried.push(k);
        }
        let rename = |map: &HashMap<Value, Value>, v: Value| map.get(&v).copied().unwrap_or(v);
        let mut loop_insts = Vec::with_capacity(body.len());
        for inst in &body[..n] {
            let mut op = inst.op.clone();
            op.for_each_arg_mut(|v| *v = rename(&map, *v));
            if let Op::Guard(_, snap) = &mut op {
                let mut s = t.snapshot(*snap).clone();
                for slot in s
                    .frames
                    .iter_mut()
                    .flat_map(|f| f.slots.iter_mut())
                    .chain(s.virtuals.iter_mut().flat_map(|v| v.fields.iter_mut().map(|(_, x)| x)))
                {
                    if let SlotValue::Value(v) = slot {
                        *v = rename(&map, *v);
                    }
                }
                *snap = t.add_snapshot(s);
            }
            let result = inst.result.map(|r| {
                let nr = t.new_value(t.value_type(r));
                map.insert(r, nr);
                nr
            });
            loop_insts.push(Inst { result, op });
        }
        let back: Vec<Value> = carried.iter().map(|&k| rename(&map, args[k])).collect();
        loop_insts.push(Inst {
            result: None,
            op: Op::Jump(JumpTarget::Block(Block::new(1)), back),
        });
        let mut pre = body;
        pre.pop();
        let entry: Vec<Value> = carried.iter().map(|&k| args[k]).collect();
        pre.push(Inst {
            result: None,
            op: Op::Goto(BlockCall {
                block: Block::new(1),
                args: entry,
            }),
        });
        t.blocks[0].insts = pre;
        t.blocks.push(BlockData {
            params: loop_params,
            insts: loop_insts,
        });
    }
}
