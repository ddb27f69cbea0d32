//! # `fold`: constant folding and algebraic simplification
//!
//! **Idea.** Every op whose operands are constants is computed now, with exactly the
//! reference interpreter's semantics (wrapping integers, shifts mod 64, IEEE floats,
//! saturating `f2i`); identities (`x + 0`, `x * 1`, `x - x`, `x & x`, `x == x`,
//! `bnot (bnot x)`, `bits2f (f2bits x)`, `i2ref (ref2i r)`, `ine (b2i c), 0`, `select c, a, a`, ...) replace an op by one of its operands or a
//! constant. An `*_ovf` op whose result is known not to overflow (constant operands,
//! `x + 0`, `x * 1`, `x * 0`) disappears together with its `guard_no_overflow`; one
//! that always overflows is kept (its guard always exits). Guards on constants that
//! always hold are dropped; `guard_true (bnot c)` becomes `guard_false c`. Commutative
//! ops put a constant operand second, so value numbering sees one form.
//!
//! **Invariants.** A value is only replaced by one that is equal on every execution
//! and dominates it (constants are hoisted to the top of `block0`). Ops that may fault
//! (`idiv`/`irem` by zero) are never folded into a constant. Float identities are not
//! applied (they would change NaN payloads or the sign of zero). The verifier's
//! pairing rule holds: an `*_ovf` op is either kept with its guard or both go.
//!
//! **Example.**
//! ```text
//! v1 = const 2                        v1 = const 2      ; (block0 top)
//! v2 = const 3                        v4 = const 5
//! v3 = iadd_ovf v1, v2         =>     v5 = iadd v0, v4
//! guard_no_overflow v3 [...]          finish v5
//! v5 = iadd v0, v3
//! v6 = imul v5, v7   ; v7 = 1   =>    (v6 replaced by v5)
//! ```
//!
//! **Source.** PyPy's `optimizeopt/rewrite.py` and `intbounds.py` (ovf ops become plain
//! ops), LuaJIT's `lj_opt_fold.c` (fold rules keyed on op and operand kinds).

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::{eval, rewrite_blocks, subst::Subst, ConstPool, ConstTable};
use leones_ir::FastHashMap as HashMap;
use leones_ir::{BinaryOp, Const, GuardKind, Inst, Op, Trace, UnaryOp, Value};

pub struct Fold;

/// What an op simplifies to.
pub(crate) enum Simple {
    /// Keep (possibly rewritten in place).
    Keep,
    /// The result equals this value.
    Value(Value),
    /// The result is this constant.
    Const(Const),
    /// A guard that always holds: drop it.
    DropGuard,
}

/// Simplifies `op` given the constants known so far and the defining ops of values.
/// Rewrites `op` in place for canonicalization (operand order, guard polarity).
pub(crate) fn simplify(op: &mut Op, consts: &ConstTable, defs: &HashMap<Value, Op>) -> Simple {
    let k = |v: &Value| consts.get(v).copied();
    match op {
        Op::Unary(u, a) => {
            if let Some(ka) = k(a) {
                return Simple::Const(eval::unary(*u, ka));
            }
            if let Some(Op::Unary(inner, x)) = defs.get(a) {
                if inner == u && matches!(u, UnaryOp::INeg | UnaryOp::INot | UnaryOp::BNot | UnaryOp::FNeg) {
                    return Simple::Value(*x);
                }
                if reinterprets_back(*inner, *u) {
                    return Simple::Value(*x);
                }
            }
            Simple::Keep
        }
        Op::Binary(b, x, y) => {
            if b.is_commutative() && k(x).is_some() && k(y).is_none() {
                std::mem::swap(x, y);
            }
            // `ine (b2i c), 0` is `c`: how a host reads back a bool it stored as a word.
            if let (BinaryOp::INe, Some(Op::Unary(UnaryOp::B2I, c)), Some(Const::I64(0))) = (*b, defs.get(x), k(y)) {
                return Simple::Value(*c);
            }
            binary(*b, *x, *y, k(x), k(y))
        }
        Op::Select {
            cond,
            if_true,
            if_false,
            ..
        } => match k(cond) {
            Some(c) => Simple::Value(if c.bits() != 0 { *if_true } else { *if_false }),
            None if if_true == if_false => Simple::Value(*if_true),
            None => Simple::Keep,
        },
        Op::Guard(kind, _) => guard(kind, consts, defs),
        _ => Simple::Keep,
    }
}

/// Whether `outer (inner x)` is `x` bit for bit: a value stored as a 64-bit word and
/// read back (`bits2f (f2bits x)`, `i2ref (ref2i r)`, ...). NaN payloads survive, since
/// both directions only reinterpret bits.
fn reinterprets_back(inner: UnaryOp, outer: UnaryOp) -> bool {
    use UnaryOp::*;
    matches!(
        (inner, outer),
        (F2Bits, Bits2F) | (Bits2F, F2Bits) | (Ref2I, I2Ref) | (I2Ref, Ref2I) | (Ptr2I, I2Ptr) | (I2Ptr, Ptr2I)
    )
}

fn binary(op: BinaryOp, x: Value, y: Value, kx: Option<Const>, ky: Option<Const>) -> Simple {
    use BinaryOp::*;
    if let (Some(a), Some(b)) = (kx, ky) {
        return match eval::binary(op, a, b) {
            Some((r, false)) => Simple::Const(r),
            _ => Simple::Keep,
        };
    }
    let same = x == y;
    let ky = ky.map(|c| c.bits() as i64);
    let t = |b: bool| Simple::Const(Const::Bool(b));
    let i = |n: i64| Simple::Const(Const::I64(n));
    match (op, ky) {
        (IAdd | ISub | IAddOvf | ISubOvf | IOr | IXor | IShl | IShr | IUShr, Some(0)) => Simple::Value(x),
        (IMul | IMulOvf | IDiv, Some(1)) => Simple::Value(x),
        (IMul | IMulOvf | IAnd, Some(0)) => i(0),
        (IRem, Some(1 | -1)) => i(0),
        (IAnd, Some(-1)) => Simple::Value(x),
        (IOr, Some(-1)) => i(-1),
        (BAnd, Some(1)) | (BOr | BXor, Some(0)) => Simple::Value(x),
        (BAnd, Some(0)) => t(false),
        (BOr, Some(1)) => t(true),
        (ISub | ISubOvf | IXor, _) if same => i(0),
        (IAnd | IOr | BAnd | BOr, _) if same => Simple::Value(x),
        (BXor, _) if same => t(false),
        (IEq | ILe | IGe | IULe | IUGe | REq, _) if same => t(true),
        (INe | ILt | IGt | IULt | IUGt | RNe, _) if same => t(false),
        _ => Simple::Keep,
    }
}

fn guard(kind: &mut GuardKind, consts: &ConstTable, defs: &HashMap<Value, Op>) -> Simple {
    let Some(v) = kind.operand() else { return Simple::Keep };
    if let Some(c) = consts.get(&v) {
        let holds = match kind {
            GuardKind::True(_) | GuardKind::NonNull(_) => c.bits() != 0,
            GuardKind::False(_) | GuardKind::IsNull(_) => c.bits() == 0,
            GuardKind::Value(_, k) => k == c,
            _ => false,
        };
        return if holds { Simple::DropGuard } else { Simple::Keep };
    }
    if let Some(Op::Unary(UnaryOp::BNot, x)) = defs.get(&v) {
        match kind {
            GuardKind::True(_) => *kind = GuardKind::False(*x),
            GuardKind::False(_) => *kind = GuardKind::True(*x),
            _ => {}
        }
    }
    Simple::Keep
}

impl Pass for Fold {
    fn name(&self) -> &'static str {
        "fold"
    }
    fn run(&self, t: &mut Trace, _ctx: &OptContext) {
        let mut consts = ConstTable::of(t);
        let mut defs: HashMap<Value, Op> = HashMap::default();
        let mut subst = Subst::new();
        let mut pool = ConstPool::default();
        // The result of an `*_ovf` op that became a plain op or a constant: its
        // `guard_no_overflow` goes too.
        let mut drop_ovf_guard: Option<Value> = None;
        rewrite_blocks(t, |t, _b, mut inst: Inst, out| {
            if let (Op::Guard(GuardKind::NoOverflow(v), _), Some(d)) = (&inst.op, drop_ovf_guard) {
                if *v == d {
                    drop_ovf_guard = None;
                    return;
                }
            }
            // Operands now, for `simplify`; snapshots once at the end (`subst.apply`).
            subst.op(&mut inst.op);
            let is_ovf = matches!(inst.op, Op::Binary(b, ..) if b.is_ovf());
            match simplify(&mut inst.op, &consts, &defs) {
                Simple::Keep => {
                    // `simplify` only looks through unary definitions.
                    if let (Some(r), Op::Unary(..)) = (inst.result, &inst.op) {
                        defs.insert(r, inst.op.clone());
                    }
                    out.push(inst)
                }
                Simple::DropGuard => {}
                Simple::Value(v) => {
                    let r = inst.result.expect("simplified ops have results");
                    subst.set(r, v);
                    drop_ovf_guard = is_ovf.then_some(r);
                }
                Simple::Const(k) => {
                    let r = inst.result.expect("simplified ops have results");
                    let c = pool.get(t, k);
                    consts.insert(c, k);
                    subst.set(r, c);
                    drop_ovf_guard = is_ovf.then_some(r);
                }
            }
        });
        pool.flush(t);
        subst.apply(t);
    }
}
