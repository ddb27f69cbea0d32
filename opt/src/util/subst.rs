//! Value substitution: "from now on, `a` means `b`".
//!
//! Passes replace a value by an equal one (a constant, an earlier equal computation, a
//! forwarded load). SSA makes this global: the replacement is valid at every use the
//! original reached, snapshot slots included, as long as the replacement dominates the
//! original's definition — which every pass guarantees by only substituting values
//! defined earlier in dominance order.

use leones_ir::{Op, SlotValue, Snapshot, Trace, Value};

#[derive(Clone, Default)]
pub struct Subst {
    map: Vec<Option<Value>>,
}

impl Subst {
    pub fn new() -> Self {
        Subst::default()
    }
    /// Makes `from` mean `to`.
    pub fn set(&mut self, from: Value, to: Value) {
        if from == to {
            return;
        }
        if self.map.len() <= from.index() {
            self.map.resize(from.index() + 1, None);
        }
        self.map[from.index()] = Some(to);
    }
    /// What `v` means now (following chains).
    pub fn get(&self, mut v: Value) -> Value {
        while let Some(Some(to)) = self.map.get(v.index()) {
            v = *to;
        }
        v
    }
    pub fn is_empty(&self) -> bool {
        self.map.iter().all(Option::is_none)
    }
    /// Rewrites the operands of `op`.
    pub fn op(&self, op: &mut Op) {
        op.for_each_arg_mut(|v| *v = self.get(*v));
    }
    /// Rewrites the values a snapshot uses.
    pub fn snapshot(&self, s: &mut Snapshot) {
        s.for_each_value_mut(|v| *v = self.get(*v));
    }
    /// Rewrites a slot.
    pub fn slot(&self, s: SlotValue) -> SlotValue {
        match s {
            SlotValue::Value(v) => SlotValue::Value(self.get(v)),
            other => other,
        }
    }
    /// Rewrites every use in the whole trace (operands and all snapshots).
    pub fn apply(&self, t: &mut Trace) {
        if self.is_empty() {
            return;
        }
        for b in &mut t.blocks {
            for inst in &mut b.insts {
                self.op(&mut inst.op);
            }
        }
        for s in &mut t.snapshots {
            self.snapshot(s);
        }
    }
}
