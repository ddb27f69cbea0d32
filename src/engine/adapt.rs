//! # Trace surgery the engine does between the recorder and the backend
//!
//! Two small rewrites, each leaving a trace that verifies (the caller re-verifies),
//! and one analysis:
//!
//! - [`adapt_bridge`]: a bridge is recorded from the *resumed* host state, so its
//!   `block0` takes one parameter per live host slot. Native code, however, enters an
//!   attached bridge with the parent guard's **exit values** in the slot buffer
//!   ([`exit_values`]: distinct SSA values, constants and virtuals excluded). The adapter
//!   gives the bridge exactly those parameters and rewrites every slot parameter to
//!   the exit value it came from, or to a `const` for a slot the snapshot knew as a
//!   constant. A slot holding a *virtual* object (the host saw a materialized object
//!   there when the bridge was recorded) is rebuilt at the bridge's entry from the
//!   exit values: every virtual of the snapshot is allocated first (`new`), then
//!   their fields are set (`setfield`), so virtuals referring to each other, cycles
//!   included, come out as they would from [`resume`](leones_tracer::resume). The
//!   bridge's recorded ops then see a real object; the optimizer's escape analysis
//!   keeps it virtual again where it does not escape. Layouts and fields the bridge
//!   did not record are copied into its descriptor tables (matched by name).
//!
//!   ```text
//!   parent guard:  guard_true v9 [vm@5(v3, 1, v3, &0)] {&0 = Node{val: v4, next: &0}}
//!                                                   exit values: (v3, v4)
//!   recorded:      block0(v0: i64, v1: i64, v2: i64, v3: ref): ...
//!   adapted:       block0(v7: i64, v8: i64): v9 = const 1; v10 = new Node;
//!                  setfield v10, Node.val, v8; setfield v10, Node.next, v10; ...
//!                  (v0 -> v7, v1 -> v9, v2 -> v7, v3 -> v10)
//!   ```
//!
//! - [`entry_facts`]: what the parent trace proved about the exit values before the
//!   exit (classes, non-null, constants), for the bridge's optimizer to drop its
//!   re-checks of them.
//!
//! - [`count_entries`]: prepends `*counter += 1` (a raw `load`/`iadd`/`store` on a
//!   constant address the engine owns), so the engine can tell how often native code
//!   entered a bridge through an exit slot, which it never sees otherwise;
//!   [`count_guard_passes`] does the same before guards, so the engine knows how
//!   often a guard was reached, not only how often it failed (the branch weights of
//!   merged arms, see `merge.rs`).

use leones_backend_llvm::abi::exit_values;
use leones_ir::{
    BinaryOp, Const, FieldId, GuardInfo, GuardKind, Inst, JumpTarget, LayoutId, MemType, Op, SlotValue, Snapshot,
    Trace, Type, Value,
};
use leones_opt::util::{cfg::Cfg, subst::Subst};
use leones_opt::EntryFact;
use std::collections::HashMap;

/// Rewrites `bridge` (recorded from the resumed state of the exit with `snapshot`, a
/// snapshot of `parent`) to take the exit's live values; `None` if it cannot.
pub(crate) fn adapt_bridge(parent: &Trace, snapshot: &Snapshot, bridge: &Trace) -> Option<Trace> {
    let mut t = bridge.clone();
    let old = t.blocks.first()?.params.clone();
    let live = exit_values(snapshot);
    let fresh: Vec<Value> = live.iter().map(|v| t.new_value(parent.value_type(*v))).collect();
    let by_exit: HashMap<Value, Value> = live.iter().copied().zip(fresh.iter().copied()).collect();
    let mut prologue = Vec::new();
    // All virtuals first (so fields may refer to any of them), then their fields.
    let mut objects = Vec::with_capacity(snapshot.virtuals.len());
    for vo in &snapshot.virtuals {
        let l = import_layout(parent, &mut t, vo.layout);
        let v = t.new_value(Type::Ref);
        prologue.push(Inst {
            result: Some(v),
            op: Op::New(l),
        });
        objects.push(v);
    }
    let value_of = |t: &mut Trace, prologue: &mut Vec<Inst>, slot: SlotValue| -> Option<Option<Value>> {
        Some(Some(match slot {
            SlotValue::Dead => return Some(None),
            SlotValue::Virtual(k) => *objects.get(k.index())?,
            SlotValue::Value(v) => *by_exit.get(&v)?,
            SlotValue::Const(c) => {
                let v = t.new_value(c.ty());
                prologue.push(Inst {
                    result: Some(v),
                    op: Op::Const(c),
                });
                v
            }
        }))
    };
    for (vo, &obj) in snapshot.virtuals.iter().zip(&objects) {
        for &(f, slot) in &vo.fields {
            let Some(x) = value_of(&mut t, &mut prologue, slot)? else {
                continue;
            };
            let field = import_field(parent, &mut t, f);
            if t.value_type(x) != t.field(field).ty {
                return None;
            }
            prologue.push(Inst {
                result: None,
                op: Op::SetField(obj, field, x),
            });
        }
    }
    let mut subst = Subst::new();
    let mut k = 0;
    for slot in snapshot.frames.iter().flat_map(|f| f.slots.iter()) {
        let Some(to) = value_of(&mut t, &mut prologue, *slot)? else {
            continue;
        };
        let p = *old.get(k)?;
        if t.value_type(p) != t.value_type(to) {
            return None;
        }
        subst.set(p, to);
        k += 1;
    }
    if k != old.len() {
        return None;
    }
    t.blocks[0].params = fresh;
    t.blocks[0].insts.splice(0..0, prologue);
    subst.apply(&mut t);
    leones_ir::verify(&t).ok()?;
    Some(t)
}

/// The id in `t` of `parent`'s layout `l` (matched by name; copied if `t` lacks it).
fn import_layout(parent: &Trace, t: &mut Trace, l: LayoutId) -> LayoutId {
    let layout = parent.layout(l);
    t.layout_named(&layout.name).unwrap_or_else(|| {
        t.layouts.push(layout.clone());
        LayoutId::new(t.layouts.len() - 1)
    })
}

/// The id in `t` of `parent`'s field `f` (matched by layout and name; copied if absent).
fn import_field(parent: &Trace, t: &mut Trace, f: FieldId) -> FieldId {
    let fd = parent.field(f);
    let l = import_layout(parent, t, fd.layout);
    t.field_named(l, &fd.name).unwrap_or_else(|| {
        let mut copy = fd.clone();
        copy.layout = l;
        t.fields.push(copy);
        FieldId::new(t.fields.len() - 1)
    })
}

/// What `parent` proved about the exit values of guard `exit` before that guard, as
/// facts about the adapted bridge's `block0` parameters (exit value `j` is parameter
/// `j`, see [`adapt_bridge`]): `guard_class` / `new` give the class, `guard_nonnull`
/// non-null, `guard_value` the constant. Only guards that dominate the exit count —
/// those earlier in its block and in the blocks on its dominator chain — so every fact
/// holds whenever the exit is taken. A class whose layout `bridge` does not have is
/// stated as non-null only (the bridge cannot test it anyway).
pub(crate) fn entry_facts(parent: &Trace, exit: &GuardInfo, bridge: &Trace) -> Vec<(usize, EntryFact)> {
    let live = exit_values(parent.snapshot(exit.snapshot));
    let param = |v: Value| live.iter().position(|x| *x == v);
    let class = |l: LayoutId| match bridge.layout_named(&parent.layout(l).name) {
        Some(b) => EntryFact::Class(b),
        None => EntryFact::NonNull,
    };
    let cfg = Cfg::new(parent);
    let mut facts = Vec::new();
    let mut b = exit.block.index();
    loop {
        let insts = &parent.blocks[b].insts;
        let upto = if b == exit.block.index() {
            exit.inst
        } else {
            insts.len()
        };
        for inst in &insts[..upto] {
            let (v, fact) = match inst.op {
                Op::Guard(GuardKind::Class(v, l), _) => (v, class(l)),
                Op::Guard(GuardKind::NonNull(v), _) => (v, EntryFact::NonNull),
                Op::Guard(GuardKind::Value(v, k), _) => (v, EntryFact::Const(k)),
                Op::New(l) => match inst.result {
                    Some(r) => (r, class(l)),
                    None => continue,
                },
                _ => continue,
            };
            if let Some(j) = param(v) {
                facts.push((j, fact));
            }
        }
        if b == 0 {
            break;
        }
        b = cfg.idom[b];
    }
    facts
}

/// Prepends `*(counter as *mut i64) += 1` to `trace`'s entry block.
pub(crate) fn count_entries(trace: &mut Trace, counter: u64) {
    prepend_counter(trace, 0, counter);
}

/// Prepends `*(counter as *mut i64) += 1` to block `block` of `trace`; returns the
/// value holding the counter's new value and how many instructions now come first.
pub(crate) fn prepend_counter(trace: &mut Trace, block: usize, counter: u64) -> (Value, usize) {
    let (insts, y) = increment(trace, counter);
    let n = insts.len();
    trace.blocks[block].insts.splice(0..0, insts);
    (y, n)
}

/// Prepends a read of `*(counter as *mut i64)` to block `block` of `trace`; returns the
/// value read and how many instructions now come first.
pub(crate) fn prepend_counter_read(trace: &mut Trace, block: usize, counter: u64) -> (Value, usize) {
    let (insts, _, x) = read_counter(trace, counter);
    let n = insts.len();
    trace.blocks[block].insts.splice(0..0, insts);
    (x, n)
}

/// Puts `*(counter as *mut i64) += 1` before every `jump block{header}` of `trace`.
pub(crate) fn count_back_edges(trace: &mut Trace, header: usize, counter: u64) {
    for b in 0..trace.blocks.len() {
        let jumps_back = matches!(
            trace.blocks[b].insts.last().map(|i| &i.op),
            Some(Op::Jump(JumpTarget::Block(h), _)) if h.index() == header
        );
        if jumps_back {
            let (insts, _) = increment(trace, counter);
            let at = trace.blocks[b].insts.len() - 1;
            trace.blocks[b].insts.splice(at..at, insts);
        }
    }
}

/// Puts `*(counter as *mut i64) += 1` right before every guard for which
/// `counter_of(guard op, its snapshot)` names a counter: how often native code
/// *reached* that guard (its passes plus its exits).
pub(crate) fn count_guard_passes(trace: &mut Trace, counter_of: impl Fn(&Op, &Snapshot) -> Option<u64>) {
    for b in 0..trace.blocks.len() {
        let old = std::mem::take(&mut trace.blocks[b].insts);
        let mut insts = Vec::with_capacity(old.len());
        for inst in old {
            let counter = inst.op.snapshot().and_then(|s| counter_of(&inst.op, trace.snapshot(s)));
            if let Some(c) = counter {
                insts.extend(increment(trace, c).0);
            }
            insts.push(inst);
        }
        trace.blocks[b].insts = insts;
    }
}

/// Removes the counter increments [`count_guard_passes`] put in `trace` for the
/// counters `drop` names (each is its five instructions, still contiguous: no pass
/// runs after instrumenting).
pub(crate) fn strip_guard_counters(trace: &mut Trace, mut drop: impl FnMut(u64) -> bool) {
    for block in &mut trace.blocks {
        let mut i = 0;
        while i < block.insts.len() {
            match block.insts[i].op {
                Op::Const(Const::Ptr(c)) if drop(c) && i + 5 <= block.insts.len() => {
                    block.insts.drain(i..i + 5);
                }
                _ => i += 1,
            }
        }
    }
}

/// `*(counter as *mut i64) += 1` as five instructions, and the new value.
fn increment(trace: &mut Trace, counter: u64) -> (Vec<Inst>, Value) {
    let (read, p, x) = read_counter(trace, counter);
    let one = trace.new_value(Type::I64);
    let y = trace.new_value(Type::I64);
    let mut insts = read.to_vec();
    insts.extend([
        Inst {
            result: Some(one),
            op: Op::Const(Const::I64(1)),
        },
        Inst {
            result: Some(y),
            op: Op::Binary(BinaryOp::IAdd, x, one),
        },
        Inst {
            result: None,
            op: Op::Store(MemType::I64, p, 0, y),
        },
    ]);
    (insts, y)
}

/// `p = const counter; x = load.i64 p`, and `p` and `x`.
fn read_counter(trace: &mut Trace, counter: u64) -> ([Inst; 2], Value, Value) {
    let p = trace.new_value(Type::Ptr);
    let x = trace.new_value(Type::I64);
    let insts = [
        Inst {
            result: Some(p),
            op: Op::Const(Const::Ptr(counter)),
        },
        Inst {
            result: Some(x),
            op: Op::Load(MemType::I64, p, 0),
        },
    ];
    (insts, p, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "trace t\nblock0(v0: i64, v1: bool):\n    guard_true v1 []\n    v2 = iadd v0, v0\n    guard_value v2, 4 []\n    finish v2\n";

    fn is_value_guard(op: &Op) -> bool {
        matches!(op, Op::Guard(GuardKind::Value(..), _))
    }

    #[test]
    fn a_pass_counter_goes_right_before_each_guard_asked_for() {
        let t = leones_ir::parse(TRACE).expect("parses");
        let mut counted = t.clone();
        count_guard_passes(&mut counted, |op, _| is_value_guard(op).then_some(0x1000));
        leones_ir::verify(&counted).expect("still verifies");
        let insts = &counted.blocks[0].insts;
        assert_eq!(insts.len(), t.blocks[0].insts.len() + 5);
        assert!(
            matches!(insts[0].op, Op::Guard(GuardKind::True(_), _)),
            "not before guard_true"
        );
        assert!(matches!(insts[2].op, Op::Const(Const::Ptr(0x1000))));
        assert!(matches!(insts[3].op, Op::Load(MemType::I64, _, 0)));
        assert!(matches!(insts[6].op, Op::Store(MemType::I64, _, 0, _)));
        assert!(is_value_guard(&insts[7].op));
    }

    #[test]
    fn stripping_removes_only_the_counters_named() {
        let t = leones_ir::parse(TRACE).expect("parses");
        let mut counted = t.clone();
        count_guard_passes(&mut counted, |op, _| {
            Some(if is_value_guard(op) { 0x2000 } else { 0x1000 })
        });
        strip_guard_counters(&mut counted, |c| c == 0x2000);
        leones_ir::verify(&counted).expect("still verifies");
        let insts = &counted.blocks[0].insts;
        assert_eq!(insts.len(), t.blocks[0].insts.len() + 5, "one counter left");
        assert!(matches!(insts[0].op, Op::Const(Const::Ptr(0x1000))));
        assert!(matches!(insts[5].op, Op::Guard(GuardKind::True(_), _)));
        strip_guard_counters(&mut counted, |_| true);
        let ops = |t: &Trace| t.blocks[0].insts.iter().map(|i| i.op.clone()).collect::<Vec<_>>();
        assert_eq!(ops(&counted), ops(&t));
    }
}
