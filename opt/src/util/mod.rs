//! Helpers shared by the passes: value substitution, constant evaluation, the CFG.

pub mod cfg;
pub mod eval;
pub mod import;
pub mod range;
pub mod subst;
pub mod virtuals;

use leones_ir::FastHashMap as HashMap;
use leones_ir::{Const, Op, Trace, Value};

/// The constant each value holds, by value index: the trace's `const` definitions
/// ([`Trace::constants`], the table the backends read too; SSA makes them valid
/// everywhere) and whatever a pass learns on top of them (a folded result, a guarded
/// value). Values a pass makes grow it.
#[derive(Clone, Default)]
pub struct ConstTable(Vec<Option<Const>>);

impl ConstTable {
    /// The constants `t`'s `const` ops define.
    pub fn of(t: &Trace) -> ConstTable {
        ConstTable(t.constants())
    }
    /// The constant `v` holds, if known.
    pub fn get(&self, v: &Value) -> Option<&Const> {
        self.0.get(v.index())?.as_ref()
    }
    /// Records that `v` holds `k`; returns what was recorded before.
    pub fn insert(&mut self, v: Value, k: Const) -> Option<Const> {
        if self.0.len() <= v.index() {
            self.0.resize(v.index() + 1, None);
        }
        self.0[v.index()].replace(k)
    }
    /// Forgets `v`'s constant; returns it.
    pub fn remove(&mut self, v: &Value) -> Option<Const> {
        self.0.get_mut(v.index())?.take()
    }
    /// The values with a known constant, in index order.
    pub fn keys(&self) -> impl Iterator<Item = Value> + '_ {
        (self.0.iter().enumerate()).filter_map(|(i, k)| k.map(|_| Value::new(i)))
    }
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
