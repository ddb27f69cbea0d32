//! # `cse`: common-subexpression elimination by value numbering
//!
//! **Idea.** Two pure computations of the same op on the same operands give the same
//! value, so the later one is replaced by the earlier one when the earlier one
//! dominates it. Keys are the op and its operands (commutative operands sorted);
//! constants are numbered by type and bits, so duplicate constants merge. `pure` calls
//! that cannot raise are keyed by descriptor and arguments. A pure call whose
//! arguments are all constants is evaluated at compile time through the engine's
//! [`PureCallEvaluator`](crate::PureCallEvaluator) hook. An `*_ovf` op equal to a
//! dominating one cannot overflow (the earlier guard passed), so it goes with its
//! `guard_no_overflow`; likewise a division equal to one that did not fault.
//!
//! **Invariants.** Only ops without effects (or whose effect — a fault, an overflow
//! exit — already happened at the dominating twin) are numbered. The table is scoped
//! by the dominator tree: a block starts from its immediate dominator's table at that
//! block's end, so a replacement always dominates the replaced use.
//!
//! **Example.**
//! ```text
//! v2 = imul v0, v1                    v2 = imul v0, v1
//! v3 = imul v1, v0             =>     v5 = iadd v2, v2
//! v4 = call sqrt(v1)  ; pure          v4 = call sqrt(v1)
//! v6 = call sqrt(v1)                  finish v5, v4
//! v5 = iadd v2, v3
//! finish v5, v6
//! ```
//!
//! **Source.** Global value numbering over the dominator tree (Alpern, Wegman &
//! Zadeck; Click's "GVN"); PyPy's `optimizeopt/pure.py` (`OptPure`, CSE of pure
//! operations and calls, `call_pure` results with constant arguments); LuaJIT's CSE in
//! `lj_opt_fold.c`.

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::{cfg::Cfg, rewrite_blocks, subst::Subst, ConstPool, ConstTable};
use leones_ir::FastHashMap as HashMap;
use leones_ir::{BinaryOp, CallId, Const, Inst, Op, Trace, UnaryOp, Value};

pub struct Cse;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Const(Const),
    Unary(UnaryOp, Value),
    Binary(BinaryOp, Value, Value),
    Select(Value, Value, Value, bool),
    Call(CallId, Vec<Value>),
}

fn key(t: &Trace, op: &Op) -> Option<Key> {
    Some(match op {
        Op::Const(k) => Key::Const(*k),
        Op::Unary(u, a) => Key::Unary(*u, *a),
        Op::Binary(b, x, y) => {
            let (x, y) = if b.is_commutative() && y < x {
                (*y, *x)
            } else {
                (*x, *y)
            };
            Key::Binary(*b, x, y)
        }
        Op::Select {
            cond,
            if_true,
            if_false,
            unpredictable,
        } => Key::Select(*cond, *if_true, *if_false, *unpredictable),
        Op::Call(c, args) => {
            let cd = t.call(*c);
            if !cd.effects.pure || cd.effects.may_raise || cd.ret.is_none() {
                return None;
            }
            Key::Call(*c, args.clone())
        }
        _ => return None,
    })
}

impl Pass for Cse {
    fn name(&self) -> &'static str {
        "cse"
    }
    fn run(&self, t: &mut Trace, ctx: &OptContext) {
        let cfg = Cfg::new(t);
        let consts = ConstTable::of(t);
        // Every kept value by key, with its block: a value is available where its block
        // dominates (its own block included, as blocks are rewritten in order). At most
        // one candidate of a key dominates any block, or the later one would have been
        // replaced. (Copying the idom's whole table into each block was quadratic on
        // long block chains.)
        let mut avail: HashMap<Key, Vec<(Value, usize)>> = HashMap::default();
        let mut subst = Subst::new();
        let mut pool = ConstPool::default();
        let mut drop_ovf_guard: Option<Value> = None;
        rewrite_blocks(t, |t, b, mut inst: Inst, out| {
            if let Some(d) = drop_ovf_guard.take() {
                if crate::util::is_paired_guard(&inst.op, d) {
                    return;
                }
            }
            subst.op(&mut inst.op);
            if let Some(s) = inst.op.snapshot() {
                subst.snapshot(&mut t.snapshots[s.index()]);
            }
            if let (Some(r), Op::Call(c, args)) = (inst.result, &inst.op) {
                if let Some(k) = fold_pure_call(t, ctx, *c, args, &consts, &subst) {
                    let v = pool.get(t, k);
                    subst.set(r, v);
                    drop_ovf_guard = Some(r);
                    return;
                }
            }
            let (Some(r), Some(k)) = (inst.result, key(t, &inst.op)) else {
                out.push(inst);
                return;
            };
            let candidates = avail.entry(k).or_default();
            match candidates.iter().find(|&&(_, at)| cfg.dominates(at, b)) {
                Some(&(earlier, _)) => {
                    subst.set(r, earlier);
                    drop_ovf_guard = Some(r);
                }
                None => {
                    candidates.push((r, b));
                    out.push(inst);
                }
            }
        });
        pool.flush(t);
        // No `subst.apply(t)`: blocks go in index order, where every block's dominators
        // come first (`util::cfg`), and each substitution is set at the definition it
        // replaces, so every use it dominates was rewritten as it was visited.
    }
}

/// Evaluates a pure call with constant arguments through the engine's hook.
fn fold_pure_call(
    t: &Trace,
    ctx: &OptContext,
    c: CallId,
    args: &[Value],
    consts: &ConstTable,
    subst: &Subst,
) -> Option<Const> {
    let eval = ctx.pure_calls?;
    let cd = t.call(c);
    if !cd.effects.pure || cd.effects.may_raise {
        return None;
    }
    let ks: Option<Vec<Const>> = args.iter().map(|a| consts.get(&subst.get(*a)).copied()).collect();
    let k = eval.eval(cd, &ks?)?;
    (Some(k.ty()) == cd.ret).then_some(k)
}
