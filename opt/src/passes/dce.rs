//! # `dce`: dead-code elimination
//!
//! **Idea.** An instruction whose result nobody uses and that has no effect is
//! removed. "Uses" include snapshot slots and virtual-object fields of surviving
//! guards: a value the host needs to rebuild its frame on exit is alive even if the
//! trace itself never reads it again. Effect-free means: pure arithmetic, `const`,
//! `select`, loads (`getfield`, `getitem`, `arraylen`, `load`), `new`, `idiv`/`irem`
//! by a nonzero constant, and calls whose `EffectInfo` is `pure` and cannot raise (a
//! `guard_no_exception` after such a call goes with it: the call cannot raise).
//!
//! **Invariants.** Stores, guards, terminators, calls with effects and possibly
//! faulting divisions stay. Every use is dominated by its definition and blocks are in
//! dominance order, so one backward walk over the blocks computes liveness exactly.
//!
//! **Example.**
//! ```text
//! v1 = imul v0, v0                    
//! v2 = iadd v0, v0                    v2 = iadd v0, v0
//! v3 = getfield v9, P.x        =>     guard_true v4 [main@1(v2)]
//! guard_true v4 [main@1(v2)]          finish v0
//! finish v0
//! ```
//!
//! **Source.** Classic mark-and-sweep DCE (Cytron et al.); PyPy's backend-side
//! "remove unused operations", LuaJIT's `lj_opt_dce.c` (marks from snapshots and
//! PHIs).

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::ConstTable;
use leones_ir::FastHashSet as HashSet;
use leones_ir::{BinaryOp, Inst, Op, Trace, Value};

pub struct Dce;

/// Whether `inst` may be deleted when its result is unused.
pub(crate) fn removable(t: &Trace, inst: &Inst, nonzero: &dyn Fn(Value) -> bool) -> bool {
    match &inst.op {
        Op::Call(c, _) => {
            let e = &t.call(*c).effects;
            e.pure && !e.may_raise
        }
        Op::Binary(BinaryOp::IDiv | BinaryOp::IRem, _, d) => nonzero(*d),
        op => !op.has_side_effect(),
    }
}

impl Pass for Dce {
    fn name(&self) -> &'static str {
        "dce"
    }
    fn run(&self, t: &mut Trace, _ctx: &OptContext) {
        let consts = ConstTable::of(t);
        let nonzero = |v: Value| consts.get(&v).is_some_and(|k| k.bits() != 0);
        let mut used: HashSet<Value> = HashSet::default();
        for b in (0..t.blocks.len()).rev() {
            let insts = std::mem::take(&mut t.blocks[b].insts);
            let mut keep = vec![true; insts.len()];
            for i in (0..insts.len()).rev() {
                let inst = &insts[i];
                let dead = inst.result.is_none_or(|r| !used.contains(&r)) && removable(t, inst, &nonzero);
                if dead {
                    keep[i] = false;
                    if matches!(inst.op, Op::Call(..)) && crate::util::followed_by_exc_guard(&insts, i) {
                        keep[i + 1] = false;
                    }
                    continue;
                }
                if !keep[i] {
                    continue;
                }
                inst.op.for_each_arg(|v| {
                    used.insert(v);
                });
                if let Some(s) = inst.op.snapshot() {
                    t.snapshot(s).for_each_value(|v| {
                        used.insert(v);
                    });
                }
            }
            t.blocks[b].insts = insts
                .into_iter()
                .zip(keep)
                .filter_map(|(i, k)| k.then_some(i))
                .collect();
        }
    }
}
