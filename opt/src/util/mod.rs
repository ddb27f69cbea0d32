//! Helpers shared by the passes: value substitution, constant evaluation, the CFG.

pub mod cfg;
pub mod eval;
pub mod import;
pub mod range;
pub mod subst;
pub mod virtuals;

use leones_ir::FastHashMap as HashMap;
use leones_ir::{Const, Op, Trace, Value};

/// The constant each `const` op defines, over the whole trace (SSA: valid everywhere).
pub fn const_table(t: &Trace) -> HashMap<Value, Const> {
    let mut m = HashMap::default();
    for inst in t.blocks.iter().flat_map(|b| &b.insts) {
        if let (Some(r), Op::Const(k)) = (inst.result, &inst.op) {
            m.insert(r, *k);
        }
    }
    m
}

/// Interns constants as `const` instructions at the start of block 0 (hoisted constants
/// dominate everything). Call [`ConstPool::flush`] to insert them.
#[derive(Clone, Default)]
pub struct ConstPool {
    made: HashMap<Const, Value>,
    pending: Vec<(Value, Const)>,
}

impl ConstPool {
    /// A value holding `k`.
    pub fn get(&mut self, t: &mut Trace, k: Const) -> Value {
        if let Some(v) = self.made.get(&k) {
            return *v;
        }
        let v = t.new_value(k.ty());
        self.made.insert(k, v);
        self.pending.push((v, k));
        v
    }
    /// Inserts the new constants at the top of block 0.
    pub fn flush(&mut self, t: &mut Trace) {
        let new: Vec<_> = self
            .pending
            .drain(..)
            .map(|(v, k)| leones_ir::Inst {
                result: Some(v),
                op: Op::Const(k),
            })
            .collect();
        t.blocks[0].insts.splice(0..0, new);
    }
}

/// Rebuilds every block in order: `f(trace, block, inst, out)` sees each instruction
/// once and pushes what replaces it (nothing, itself, or several instructions).
pub fn rewrite_blocks(t: &mut Trace, mut f: impl FnMut(&mut Trace, usize, leones_ir::Inst, &mut Vec<leones_ir::Inst>)) {
    for b in 0..t.blocks.len() {
        let insts = std::mem::take(&mut t.blocks[b].insts);
        let mut out = Vec::with_capacity(insts.len());
        for inst in insts {
            f(t, b, inst, &mut out);
        }
        t.blocks[b].insts = out;
    }
}

/// Whether the instruction right after `i` in `insts` is a `guard_no_exception`.
pub fn followed_by_exc_guard(insts: &[leones_ir::Inst], i: usize) -> bool {
    matches!(
        insts.get(i + 1).map(|n| &n.op),
        Some(Op::Guard(leones_ir::GuardKind::NoException, _))
    )
}

/// Whether `op` is the guard paired with the removed instruction that defined `r`: a
/// `guard_no_overflow r` after an `*_ovf` op, or a `guard_no_exception` after a call.
pub fn is_paired_guard(op: &Op, r: Value) -> bool {
    match op {
        Op::Guard(leones_ir::GuardKind::NoOverflow(v), _) => *v == r,
        Op::Guard(leones_ir::GuardKind::NoException, _) => true,
        _ => false,
    }
}
