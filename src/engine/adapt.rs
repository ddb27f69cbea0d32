//! # Trace surgery the engine does between the recorder and the backend
//!
//! Two small rewrites, each leaving a trace that verifies (the caller re-verifies):
//!
//! - [`adapt_bridge`]: a bridge is recorded from the *resumed* host state, so its
//!   `block0` takes one parameter per live host slot. Native code, however, enters an
//!   attached bridge with the parent guard's **exit values** in the slot buffer
//!   ([`exit_values`]: distinct SSA values, constants and virtuals excluded). The adapter
//!   gives the bridge exactly those parameters and rewrites every slot parameter to
//!   the exit value it came from, or to a `const` for a slot the snapshot knew as a
//!   constant. A snapshot slot holding a *virtual* object would need the bridge to
//!   allocate it on entry; that is not done yet, so such a bridge is not attachable
//!   (the exit keeps returning to the interpreter; counted as `bridges unattachable`).
//!
//!   ```text
//!   parent guard:  guard_true v9 [vm@5(v3, 1, v3)]      exit values: (v3)
//!   recorded:      block0(v0: i64, v1: i64, v2: i64): ...
//!   adapted:       block0(v7: i64): v8 = const 1 ... (v0 -> v7, v1 -> v8, v2 -> v7)
//!   ```
//!
//! - [`count_entries`]: prepends `*counter += 1` (a raw `load`/`iadd`/`store` on a
//!   constant address the engine owns), so the engine can tell how often native code
//!   entered a bridge through an exit slot, which it never sees otherwise.

use leones_backend_llvm::abi::exit_values;
use leones_ir::{BinaryOp, Const, Inst, MemType, Op, SlotValue, Snapshot, Trace, Type, Value};
use leones_opt::util::subst::Subst;
use std::collections::HashMap;

/// Rewrites `bridge` (recorded from the resumed state of the exit with `snapshot`, a
/// snapshot of `parent`) to take the exit's live values; `None` if it cannot.
pub(crate) fn adapt_bridge(parent: &Trace, snapshot: &Snapshot, bridge: &Trace) -> Option<Trace> {
    let mut t = bridge.clone();
    let old = t.blocks.first()?.params.clone();
    let live = exit_values(snapshot);
    let fresh: Vec<Value> = live.iter().map(|v| t.new_value(parent.value_type(*v))).collect();
    let by_exit: HashMap<Value, Value> = live.iter().copied().zip(fresh.iter().copied()).collect();
    let mut subst = Subst::new();
    let mut prologue = Vec::new();
    let mut k = 0;
    for slot in snapshot.frames.iter().flat_map(|f| f.slots.iter()) {
        let to = match *slot {
            SlotValue::Dead => continue,
            SlotValue::Virtual(_) => return None,
            SlotValue::Value(v) => *by_exit.get(&v)?,
            SlotValue::Const(c) => {
                let v = t.new_value(c.ty());
                prologue.push(Inst {
                    result: Some(v),
                    op: Op::Const(c),
                });
                v
            }
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

/// Prepends `*(counter as *mut i64) += 1` to `trace`'s entry block.
pub(crate) fn count_entries(trace: &mut Trace, counter: u64) {
    let p = trace.new_value(Type::Ptr);
    let x = trace.new_value(Type::I64);
    let one = trace.new_value(Type::I64);
    let y = trace.new_value(Type::I64);
    let insts = vec![
        Inst {
            result: Some(p),
            op: Op::Const(Const::Ptr(counter)),
        },
        Inst {
            result: Some(x),
            op: Op::Load(MemType::I64, p, 0),
        },
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
    ];
    trace.blocks[0].insts.splice(0..0, insts);
}
