//! # `branchless`: if-conversion of unpredictable diamonds
//!
//! **Idea.** Region formation turns a guard that fails often into a real branch: a
//! diamond `br c, T(..), F(..)` whose arms meet again at a join block `J` through its
//! parameters. When the profile says `c` goes both ways a good share of the time
//! (data-driven control flow: a row's field is `None` or not, a value is negative or
//! not, at random), the hardware branch predictor cannot learn it, and every
//! misprediction throws away the work in flight. If both arms are a few cheap
//! instructions that cannot fail, it is cheaper to execute *both* and pick the results:
//! the arms' instructions are hoisted (speculated) into the branching block, `J`'s
//! parameters are fed by `select.unpredictable c, then_value, else_value` (no select
//! where both arms pass the same value), and the block ends in `goto J(...)`. A
//! *triangle* — one side goes straight to `J` — is the same with an empty arm.
//!
//! **Cost model.** A mispredicted branch costs about 15–20 cycles on current x86 and
//! ARM cores (the pipeline refill); a branch taken with probability `p` on data the
//! predictor cannot learn mispredicts about `min(p, 1-p)` of the time. Executing both
//! arms costs their instructions — a handful of cycles for a few ALU ops on a
//! superscalar core, which runs independent arms in parallel — plus one `cmov` per
//! join parameter, with no misprediction ever. So:
//! - the arms must be *short*: at most [`DEFAULT_MAX_ARM_COST`] instructions each
//!   (constants are free: they are immediates; every other instruction, selects
//!   included, costs 1). Long arms would cost more than the mispredictions they save,
//!   and a predictable branch costs nothing at all;
//! - the condition must be *unpredictable*: the profile's `weights(taken,
//!   not_taken)` must give the less frequent direction at least
//!   [`DEFAULT_MIN_MINORITY_PERCENT`] percent. A biased branch (say 97/3) is predicted
//!   right almost always, and speculating the rare arm would tax every iteration; a
//!   `br` without weights is left alone (no evidence). At 10% the expected
//!   misprediction cost is 1.5–2 cycles per execution before counting the patterns a
//!   predictor *can* learn, so a budget of 8 cheap instructions per arm breaks about
//!   even at the threshold and wins clearly near 50/50, where the data-driven traces
//!   of issue 8 live. (LLVM's `SimplifyCFG` uses 2–4 instructions for branches it
//!   knows nothing about, and is more aggressive for `!unpredictable` ones.)
//!
//! Both thresholds are fields of [`BranchlessParams`] in the [`OptContext`], with
//! these defaults; `enabled: false` switches the pass off (the engine's
//! `branchless=off`).
//!
//! **What may be speculated.** Only what is safe to execute when the arm would not
//! have run: pure arithmetic, comparisons, conversions and selects; `idiv`/`irem` only
//! by a nonzero constant (any other divisor may be zero on the path not taken);
//! `getfield o, L.f` only when a block dominating the branch (or the branching block
//! itself) already dereferences `o` as an `L` (`getfield`/`setfield` of an `L` field,
//! or `o = new L`): then `o` is a live, non-null `L` and the load cannot fault, and as
//! the arms store nothing it reads what the arm would have read. Never calls, stores,
//! allocations, other loads (array items and raw memory may be out of bounds on the
//! path not taken), or `*_ovf` ops.
//!
//! **Guards are widened, not speculated.** An exit on the path not taken would be
//! wrong, so a guard of the arm entered when `c` holds becomes, in the branching block,
//! `guard_true (!c | holds)` with the same snapshot: it exits exactly when the
//! original would have (`c` and the guarded condition false), with the same state,
//! since nothing between the branch and the guard has effects. That is what makes
//! type dispatch branchless: `if x is None: x = 1.25` over a slot that is a float or
//! `None` is a diamond whose `None` arm guards "not a float, so `None`" — widened, the
//! arm is a constant and the join a `select`. Allowed: `guard_true`, `guard_false`,
//! `guard_value` on an `i64`, `bool`, `ref` or `ptr`, `guard_nonnull`,
//! `guard_isnull` (conditions computable without touching memory), whose snapshot
//! does not mention the arm's own block parameters. A guard costs 3 (a compare, the
//! `bor`, the guard's test and branch). LLVM's `GuardWidening` pass does the same for
//! its guard intrinsics.
//!
//! **Shape.** Each arm is a chain of blocks, each with the previous one as its only
//! predecessor, linked by `goto`, the last one going to `J` (an empty chain is the
//! direct edge of a triangle); `J`'s only predecessors are the two chain ends, and it
//! is not a loop header. Branching blocks are visited from the last to the first, so
//! an inner diamond is converted first and the outer one then sees it as a chain of
//! plain blocks (nested diamonds become nested selects). The arm blocks disappear.
//!
//! **Invariants.** What the trace computes is unchanged: the speculated instructions
//! have no effects and cannot fault, their results reach `J` only through the selects,
//! which pick what the taken arm passed; exits are untouched (a widened guard exits in
//! exactly the same cases, with the same snapshot; see above). Values defined in an
//! arm were only visible in the arm and, through its arguments, in `J`; hoisted into
//! the branching block they dominate everything they did before.
//!
//! **Where in the pipeline.** Late: after `fold`, `cse`, `heap` and `escape` have
//! shrunk the arms (a forwarded load, a removed allocation, a folded guard can turn an
//! arm that had to stay a branch into a few ALU ops), and after `guards`, which uses
//! the facts each arm's path implies (they are lost once the arms are merged). Before
//! `dce`, which removes speculated instructions whose results no select keeps.
//!
//! **Example.**
//! ```text
//! block0(v0: i64, v1: i64):                   block0(v0: i64, v1: i64):
//!     v2 = ilt v0, v1                             v2 = ilt v0, v1
//!     br v2, block1(), block2(v1) weights(40, 60)  v3 = isub v1, v0
//! block1():                                ==>    v4 = select.unpredictable v2, v3, v1
//!     v3 = isub v1, v0                            goto block1(v4)
//!     goto block2(v3)                         block1(v5: i64):
//! block2(v4: i64):                                finish v5
//!     finish v4
//! ```
//!
//! **Source.** LLVM's `SimplifyCFG` (`FoldTwoEntryPHINode` for diamonds,
//! `SpeculativelyExecuteBB` for triangles, a per-arm speculation budget, profile
//! weights and `!unpredictable` deciding) and x86 codegen's `cmov` selection; the
//! classic if-conversion of Allen, Kennedy, Porterfield and Warren (POPL 1983).
//! Cranelift and LuaJIT do no if-conversion in their optimizers (LuaJIT's traces have
//! no diamonds to convert).

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::cfg::{remove_blocks, Cfg};
use crate::util::{subst::Subst, ConstTable};
use leones_ir::{BinaryOp, BlockCall, Const, GuardKind, Inst, Op, Snapshot, SnapshotId, Trace, Type, UnaryOp, Value};

/// Default of [`BranchlessParams::max_arm_cost`]: at most this many instructions
/// (constants not counted) in each arm.
pub const DEFAULT_MAX_ARM_COST: usize = 8;

/// Default of [`BranchlessParams::min_minority_percent`]: the less frequent direction
/// of the branch must be taken at least this often (percent of its executions).
pub const DEFAULT_MIN_MINORITY_PERCENT: u32 = 10;

/// How far up the dominator tree to look for a dereference that makes a `getfield`
/// safe to speculate (instructions scanned per query; beyond it, not speculated).
const DEREF_SCAN_LIMIT: usize = 2000;

/// The knobs of branchless rewriting (see the module docs for the cost model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchlessParams {
    /// Off: every branch stays a branch.
    pub enabled: bool,
    /// Most instructions per arm (constants are free).
    pub max_arm_cost: usize,
    /// Least share, in percent, of the less frequent direction.
    pub min_minority_percent: u32,
}

impl Default for BranchlessParams {
    fn default() -> Self {
        BranchlessParams {
            enabled: true,
            max_arm_cost: DEFAULT_MAX_ARM_COST,
            min_minority_percent: DEFAULT_MIN_MINORITY_PERCENT,
        }
    }
}

impl BranchlessParams {
    /// Whether profile weights `(taken, not_taken)` say the branch is unpredictable.
    pub fn unpredictable(&self, weights: Option<(u32, u32)>) -> bool {
        let Some((taken, not_taken)) = weights else {
            return false;
        };
        let total = u64::from(taken) + u64::from(not_taken);
        let minority = u64::from(taken.min(not_taken));
        total > 0 && minority * 100 >= u64::from(self.min_minority_percent) * total
    }
}

pub struct Branchless;

impl Pass for Branchless {
    fn name(&self) -> &'static str {
        "branchless"
    }
    fn run(&self, t: &mut Trace, ctx: &OptContext) {
        let params = ctx.branchless;
        if !params.enabled {
            return;
        }
        let cfg = Cfg::new(t);
        let mut rw = Rewriter {
            params,
            consts: ConstTable::of(t),
            preds: cfg.preds.clone(),
            cfg,
            dead: vec![false; t.blocks.len()],
        };
        for b in (0..t.blocks.len()).rev() {
            if !rw.dead[b] {
                rw.try_block(t, b);
            }
        }
        if rw.dead.contains(&true) {
            remove_blocks(t, &rw.dead);
        }
    }
}

struct Rewriter {
    params: BranchlessParams,
    consts: ConstTable,
    /// Predecessor edges (block, is forward), kept up to date as diamonds collapse.
    preds: Vec<Vec<(usize, bool)>>,
    /// Dominators of the input; rewriting keeps them for every block that survives.
    cfg: Cfg,
    dead: Vec<bool>,
}

/// What an arm's guard costs once widened: a compare, the `bor`, the guard.
const WIDENED_GUARD_COST: usize = 3;

/// An instruction of an arm, ready to hoist.
enum Hoisted {
    /// Speculated as it is.
    Inst(Inst),
    /// A guard to widen: its kind (operands substituted) and snapshot (substituted;
    /// `Err` keeps the original id when nothing in it changed).
    Guard(GuardKind, Result<Snapshot, SnapshotId>),
}

/// One side of a diamond, ready to hoist.
struct Arm {
    /// The arm's instructions, parameters replaced by their incoming arguments.
    hoisted: Vec<Hoisted>,
    /// The blocks the arm consists of (empty for a triangle's direct edge).
    blocks: Vec<usize>,
    /// The block the arm ends in, and the arguments it passes there.
    join: usize,
    join_args: Vec<Value>,
    /// The block whose edge enters `join` (the branching block for a direct edge).
    tail: usize,
}

impl Rewriter {
    fn try_block(&mut self, t: &mut Trace, b: usize) {
        let Some(Op::Br {
            cond,
            then_,
            else_,
            weights,
        }) = t.blocks[b].insts.last().map(|i| &i.op)
        else {
            return;
        };
        if !self.params.unpredictable(*weights) {
            return;
        }
        let (cond, then_, else_) = (*cond, then_.clone(), else_.clone());
        let Some(then_arm) = self.arm(t, b, &then_) else {
            return;
        };
        let Some(else_arm) = self.arm(t, b, &else_) else {
            return;
        };
        let join = then_arm.join;
        let mut entering = vec![(then_arm.tail, true), (else_arm.tail, true)];
        let mut have = self.preds[join].clone();
        entering.sort_unstable();
        have.sort_unstable();
        if else_arm.join != join || have != entering {
            return;
        }
        let mut out = std::mem::take(&mut t.blocks[b].insts);
        out.pop();
        // The then-arm runs when `cond` holds: its guards are widened with `!cond`.
        let not_cond = if then_arm.hoisted.iter().any(|h| matches!(h, Hoisted::Guard(..))) {
            let r = t.new_value(Type::Bool);
            out.push(Inst {
                result: Some(r),
                op: Op::Unary(UnaryOp::BNot, cond),
            });
            Some(r)
        } else {
            None
        };
        for (arm, skipped) in [(then_arm.hoisted, not_cond), (else_arm.hoisted, Some(cond))] {
            for h in arm {
                match h {
                    Hoisted::Inst(i) => out.push(i),
                    Hoisted::Guard(kind, snap) => {
                        let skipped = skipped.expect("made when the arm has guards");
                        widen_guard(t, &mut out, skipped, &kind, snap);
                    }
                }
            }
        }
        let mut args = Vec::with_capacity(then_arm.join_args.len());
        for (&x, &y) in then_arm.join_args.iter().zip(&else_arm.join_args) {
            if x == y {
                args.push(x);
                continue;
            }
            let r = t.new_value(t.value_type(x));
            out.push(Inst {
                result: Some(r),
                op: Op::Select {
                    cond,
                    if_true: x,
                    if_false: y,
                    unpredictable: true,
                },
            });
            args.push(r);
        }
        out.push(Inst {
            result: None,
            op: Op::Goto(BlockCall {
                block: leones_ir::Block::new(join),
                args,
            }),
        });
        t.blocks[b].insts = out;
        for &a in then_arm.blocks.iter().chain(&else_arm.blocks) {
            self.dead[a] = true;
        }
        self.preds[join] = vec![(b, true)];
    }

    /// Follows the edge `start` out of branching block `b` through blocks that only it
    /// (and then the previous block) enters, collecting their instructions; `None` when
    /// something in them may not be speculated or they cost too much.
    fn arm(&self, t: &Trace, b: usize, start: &BlockCall) -> Option<Arm> {
        let mut arm = Arm {
            hoisted: Vec::new(),
            blocks: Vec::new(),
            join: start.block.index(),
            join_args: start.args.clone(),
            tail: b,
        };
        let mut cost = 0;
        let mut subst = Subst::new();
        loop {
            let cur = arm.join;
            let block = &t.blocks[cur];
            let Some(Op::Goto(next)) = block.insts.last().map(|i| &i.op) else {
                return Some(arm);
            };
            if self.preds[cur] != [(arm.tail, true)] {
                return Some(arm);
            }
            for (&p, &a) in block.params.iter().zip(&arm.join_args) {
                subst.set(p, a);
            }
            for inst in &block.insts[..block.insts.len() - 1] {
                let mut inst = inst.clone();
                subst.op(&mut inst.op);
                if let Op::Guard(kind, snap) = inst.op {
                    cost += WIDENED_GUARD_COST;
                    arm.hoisted
                        .push(Hoisted::Guard(kind, widenable(t, &kind, snap, &subst)?));
                } else {
                    cost += self.speculation_cost(t, b, &inst.op)?;
                    arm.hoisted.push(Hoisted::Inst(inst));
                }
                if cost > self.params.max_arm_cost {
                    return None;
                }
            }
            arm.blocks.push(cur);
            arm.tail = cur;
            arm.join = next.block.index();
            arm.join_args = next.args.iter().map(|&a| subst.get(a)).collect();
        }
    }

    /// What executing `op` on a path where it would not have run costs, or `None` if
    /// that is not safe (see the module docs). `b` is the block it would move to.
    fn speculation_cost(&self, t: &Trace, b: usize, op: &Op) -> Option<usize> {
        match *op {
            Op::Const(_) => Some(0),
            Op::Unary(..) | Op::Select { .. } => Some(1),
            Op::Binary(bin, ..) if bin.is_ovf() => None,
            Op::Binary(BinaryOp::IDiv | BinaryOp::IRem, _, d) => match self.consts.get(&d) {
                Some(Const::I64(k)) if *k != 0 => Some(1),
                _ => None,
            },
            Op::Binary(..) => Some(1),
            Op::GetField(o, f) if self.dereferenced(t, b, o, t.field(f).layout) => Some(1),
            _ => None,
        }
    }

    /// Whether `o` is dereferenced as an object of `layout` in `b` or a block
    /// dominating it (so it is a live, non-null object of that layout at `b`'s end).
    fn dereferenced(&self, t: &Trace, b: usize, o: Value, layout: leones_ir::LayoutId) -> bool {
        let mut budget = DEREF_SCAN_LIMIT;
        let mut cur = b;
        loop {
            for inst in &t.blocks[cur].insts {
                let proves = match inst.op {
                    Op::GetField(x, f) | Op::SetField(x, f, _) => x == o && t.field(f).layout == layout,
                    Op::New(l) => inst.result == Some(o) && l == layout,
                    _ => false,
                };
                if proves {
                    return true;
                }
                budget = budget.saturating_sub(1);
                if budget == 0 {
                    return false;
                }
            }
            if cur == 0 {
                return false;
            }
            cur = self.cfg.idom[cur];
        }
    }
}

/// Whether a guard of kind `kind` (operands substituted) with snapshot `snap` can be
/// widened (see the module docs); its snapshot with `subst` applied (`Err(snap)` when
/// unchanged).
fn widenable(t: &Trace, kind: &GuardKind, snap: SnapshotId, subst: &Subst) -> Option<Result<Snapshot, SnapshotId>> {
    let ok = match *kind {
        GuardKind::True(_) | GuardKind::False(_) | GuardKind::NonNull(_) | GuardKind::IsNull(_) => true,
        GuardKind::Value(v, _) => matches!(t.value_type(v), Type::I64 | Type::Bool | Type::Ref | Type::Ptr),
        _ => false,
    };
    if !ok {
        return None;
    }
    if subst.is_empty() {
        return Some(Err(snap));
    }
    let original = t.snapshot(snap);
    let mut substituted = original.clone();
    subst.snapshot(&mut substituted);
    Some(if substituted == *original {
        Err(snap)
    } else {
        Ok(substituted)
    })
}

/// Appends to `out` the widened form of guard `kind`: `guard_true (skipped | holds)`,
/// where `skipped` says the guard's arm was not taken.
fn widen_guard(
    t: &mut Trace,
    out: &mut Vec<Inst>,
    skipped: Value,
    kind: &GuardKind,
    snap: Result<Snapshot, SnapshotId>,
) {
    let mut push = |t: &mut Trace, op: Op, ty: Type| {
        let r = t.new_value(ty);
        out.push(Inst { result: Some(r), op });
        r
    };
    let holds = match *kind {
        GuardKind::True(v) => v,
        GuardKind::False(v) => push(t, Op::Unary(UnaryOp::BNot, v), Type::Bool),
        GuardKind::Value(v, k) => {
            let ty = t.value_type(v);
            let k = push(t, Op::Const(k), ty);
            let eq = match ty {
                Type::I64 => BinaryOp::IEq,
                Type::Bool => BinaryOp::BXor,
                _ => BinaryOp::REq,
            };
            let r = push(t, Op::Binary(eq, v, k), Type::Bool);
            // `bxor` is true when the bools differ: negate it.
            if ty == Type::Bool {
                push(t, Op::Unary(UnaryOp::BNot, r), Type::Bool)
            } else {
                r
            }
        }
        GuardKind::NonNull(v) | GuardKind::IsNull(v) => {
            let ty = t.value_type(v);
            let null = push(
                t,
                Op::Const(if ty == Type::Ref { Const::Ref(0) } else { Const::Ptr(0) }),
                ty,
            );
            let op = if matches!(kind, GuardKind::NonNull(_)) {
                BinaryOp::RNe
            } else {
                BinaryOp::REq
            };
            push(t, Op::Binary(op, v, null), Type::Bool)
        }
        _ => unreachable!("only widenable guards are hoisted"),
    };
    let ok = push(t, Op::Binary(BinaryOp::BOr, skipped, holds), Type::Bool);
    let snap = match snap {
        Ok(s) => t.add_snapshot(s),
        Err(id) => id,
    };
    out.push(Inst {
        result: None,
        op: Op::Guard(GuardKind::True(ok), snap),
    });
}
