//! # `guards`: guard elimination and strengthening
//!
//! **Idea.** Walk the trace in dominance order, learning facts from every guard that
//! passed, every `br` edge that is a block's only way in (a merged region's arm
//! re-checks its guard's condition, known there), and every op: known constants (`guard_value`, `guard_isnull`, a guarded
//! `ieq`), known classes (`guard_class`, `new`), non-null refs (`guard_nonnull`,
//! `guard_class`, `new`), known truths of conditions, and integer ranges (constants,
//! masks, remainders, guarded comparisons, additions that cannot overflow). A guard the
//! facts already imply is removed; a comparison the ranges decide becomes a constant;
//! an `*_ovf` op whose operand ranges cannot overflow becomes the plain op and its
//! `guard_no_overflow` goes. Strengthening: `guard_true (ieq x, K)` becomes
//! `guard_value x, K` (and `guard_false (ine x, K)` too), after which `x` is known to
//! be `K` and later uses of `x` read the constant.
//!
//! **Invariants.** A fact is used only where the guard or op that established it
//! dominates: facts live in a table scoped by the dominator tree (a block starts from
//! its immediate dominator's table). Facts are about SSA values, which never change,
//! so they hold at loop headers too. Replacing `x` by `K` after `guard_value x, K` is
//! local to the dominated region (operands are rewritten as they are visited);
//! results of decided comparisons are replaced everywhere (their uses are dominated
//! by them). A removed guard never changes what an exit rebuilds: other guards'
//! snapshots are untouched except for values replaced by equal constants.
//!
//! **Example.**
//! ```text
//! v2 = ilt v0, v1   ; v1 = 10              v2 = ilt v0, v1
//! guard_true v2 [...]                       guard_true v2 [...]
//! v4 = ilt v0, v3   ; v3 = 20       =>      v5 = iadd v0, v6   ; v6 = 1
//! guard_true v4 [...]                       guard_class v7, P [...]
//! v5 = iadd_ovf v0, v6  ; needs v0 >= ...
//! guard_no_overflow v5 [...]                ...
//! guard_class v7, P [...]
//! guard_class v7, P [...]
//! ```
//! (`v0 < 10` implies `v0 < 20`; `v0 + 1` cannot overflow once `v0 < 10`; the second
//! class guard is implied by the first.)
//!
//! **Entry facts.** Facts the caller vouches for about `block0`'s parameters
//! ([`OptContext::entry_facts`]) seed the table every block starts from: a bridge
//! whose parent already ran `guard_class v, P` on an exit value enters with its
//! parameter known to be a `P`, and its own `guard_class` of it goes.
//!
//! **Source.** PyPy's `optimizeopt/intbounds.py` (integer bounds, `_ovf` removal) and
//! `rewrite.py` (`guard_class`/`guard_nonnull` known from earlier guards,
//! `guard_true (int_eq)` → `guard_value`); LuaJIT's `lj_opt_narrow.c` and loop-guard
//! elimination by implication.

use crate::context::{EntryFact, OptContext};
use crate::pass::Pass;
use crate::util::range::Range;
use crate::util::{cfg::Cfg, subst::Subst, ConstPool, ConstTable};
use leones_ir::{BinaryOp, Const, GuardKind, Inst, Op, SlotValue, Trace, Type, UnaryOp, Value};
use leones_ir::{FastHashMap as HashMap, FastHashSet as HashSet};

pub struct Guards;

/// What is known at a program point.
#[derive(Default)]
struct Facts {
    consts: ConstTable,
    class: HashMap<Value, u64>,
    nonnull: HashSet<Value>,
    ranges: HashMap<Value, Range>,
    /// What each change overwrote, newest last: blocks are visited in a depth-first
    /// walk of the dominator tree, and a block starts from its idom's facts by undoing
    /// the changes made since that block ended ([`Facts::undo_to`]). (Copying the idom's
    /// facts into every block was quadratic in time and memory on long block chains.)
    log: Vec<Undo>,
}

/// The previous state of one fact, to restore.
enum Undo {
    Const(Value, Option<Const>),
    Class(Value, Option<u64>),
    NonNull(Value, bool),
    Range(Value, Option<Range>),
}

impl Facts {
    fn mark(&self) -> usize {
        self.log.len()
    }
    /// Restores the facts as they were when [`Facts::mark`] returned `mark`.
    fn undo_to(&mut self, mark: usize) {
        while self.log.len() > mark {
            match self.log.pop().expect("above the mark") {
                Undo::Const(v, Some(k)) => drop(self.consts.insert(v, k)),
                Undo::Const(v, None) => drop(self.consts.remove(&v)),
                Undo::Class(v, c) => restore(&mut self.class, v, c),
                Undo::Range(v, r) => restore(&mut self.ranges, v, r),
                Undo::NonNull(v, was) => {
                    if !was {
                        self.nonnull.remove(&v);
                    }
                }
            }
        }
    }
    fn set_class(&mut self, v: Value, c: u64) {
        let old = self.class.insert(v, c);
        self.log.push(Undo::Class(v, old));
    }
    /// Records that `v` is not null; returns whether that is news.
    fn set_nonnull(&mut self, v: Value) -> bool {
        let new = self.nonnull.insert(v);
        self.log.push(Undo::NonNull(v, !new));
        new
    }
    fn range(&self, v: Value) -> Range {
        match self.consts.get(&v) {
            Some(Const::I64(k)) => Range::point(*k),
            _ => self.ranges.get(&v).copied().unwrap_or(Range::FULL),
        }
    }
    fn set_range(&mut self, v: Value, r: Range) {
        let r = self.range(v).intersect(r);
        let old = self.ranges.insert(v, r);
        self.log.push(Undo::Range(v, old));
    }
    fn set_const(&mut self, v: Value, k: Const) {
        let old = self.consts.insert(v, k);
        self.log.push(Undo::Const(v, old));
        if k.bits() != 0 && matches!(k, Const::Ref(_) | Const::Ptr(_)) {
            self.set_nonnull(v);
        }
    }
}

fn restore<T>(map: &mut HashMap<Value, T>, v: Value, old: Option<T>) {
    match old {
        Some(x) => drop(map.insert(v, x)),
        None => drop(map.remove(&v)),
    }
}

struct Walk<'a> {
    defs: HashMap<Value, Op>,
    facts: Facts,
    pool: ConstPool,
    subst: Subst,
    t_layout_class: &'a dyn Fn(leones_ir::LayoutId) -> Option<u64>,
    /// The result of an `*_ovf` op just turned into a plain op.
    drop_ovf_guard: Option<Value>,
    /// Values defined by `const` ops (never rewritten).
    const_vals: HashSet<Value>,
}

impl Walk<'_> {
    /// Rewrites operands that facts say are constants (local to the dominated region).
    fn use_known_consts(&mut self, t: &mut Trace, op: &mut Op) {
        if matches!(op, Op::Guard(..)) {
            return; // keep the guard's operand, so that its fact is visible
        }
        let mut args = Vec::new();
        op.for_each_arg(|v| args.push(v));
        for v in args {
            if self.const_vals.contains(&v) {
                continue;
            }
            if let Some(k) = self.facts.consts.get(&v).copied() {
                if !matches!(t.value_type(v), Type::Ref | Type::Ptr) || k.bits() == 0 {
                    let c = self.konst(t, k);
                    op.for_each_arg_mut(|x| {
                        if *x == v {
                            *x = c
                        }
                    });
                }
            }
        }
    }

    /// A value holding `k`, known as such from here on.
    fn konst(&mut self, t: &mut Trace, k: Const) -> Value {
        let c = self.pool.get(t, k);
        self.const_vals.insert(c);
        self.facts.set_const(c, k);
        c
    }

    fn snapshot_consts(&self, t: &mut Trace, snap: leones_ir::SnapshotId) {
        let facts = &self.facts;
        let s = &mut t.snapshots[snap.index()];
        for slot in s
            .frames
            .iter_mut()
            .flat_map(|f| f.slots.iter_mut())
            .chain(s.virtuals.iter_mut().flat_map(|v| v.fields.iter_mut().map(|(_, s)| s)))
        {
            if let SlotValue::Value(v) = slot {
                if let Some(k) = facts.consts.get(v) {
                    *slot = SlotValue::Const(*k);
                }
            }
        }
    }

    /// Processes one instruction; returns whether to keep it.
    fn inst(&mut self, t: &mut Trace, inst: &mut Inst, out: &mut [Inst]) -> bool {
        if let Some(d) = self.drop_ovf_guard.take() {
            if crate::util::is_paired_guard(&inst.op, d) {
                return false;
            }
        }
        self.subst.op(&mut inst.op);
        self.use_known_consts(t, &mut inst.op);
        if let Op::Guard(kind, snap) = &mut inst.op {
            self.subst.snapshot(&mut t.snapshots[snap.index()]);
            self.snapshot_consts(t, *snap);
            return self.guard(t, kind, out);
        }
        let Some(r) = inst.result else { return true };
        match &inst.op {
            Op::Const(k) => self.facts.set_const(r, *k),
            Op::New(l) => {
                self.facts.set_nonnull(r);
                if let Some(c) = (self.t_layout_class)(*l) {
                    self.facts.set_class(r, c);
                }
            }
            Op::Unary(UnaryOp::B2I, _) => self.facts.set_range(r, Range { lo: 0, hi: 1 }),
            Op::ArrayLen(..) => self.facts.set_range(r, Range { lo: 0, hi: i64::MAX }),
            Op::Binary(op, a, b) => {
                let (ra, rb) = (self.facts.range(*a), self.facts.range(*b));
                if let Some(truth) = Range::compare(*op, ra, rb) {
                    let k = self.konst(t, Const::Bool(truth));
                    self.subst.set(r, k);
                    return false;
                }
                if let Some(rr) = Range::derived(*op, ra, rb) {
                    self.facts.set_range(r, rr);
                }
            }
            _ => {}
        }
        // Guards refine the operands of binary definitions only (`Walk::guard`).
        if let Op::Binary(..) = inst.op {
            self.defs.insert(r, inst.op.clone());
        }
        true
    }

    /// Learns that condition `c` is `want` from here on (a guard on it passed, or the
    /// block is only entered through that edge of a `br` on it): its value, the
    /// ranges of its compare's operands, and for an equality with a constant that
    /// constant, which is returned (a guard on `c` can become a `guard_value`).
    fn learn_condition(&mut self, t: &Trace, c: Value, want: bool) -> Option<(Value, Const)> {
        let f = &mut self.facts;
        f.set_const(c, Const::Bool(want));
        let Some(Op::Binary(op, a, b)) = self.defs.get(&c).cloned() else {
            return None;
        };
        let (ra, rb) = Range::refine(op, want, f.range(a), f.range(b));
        if t.value_type(a) == Type::I64 {
            f.set_range(a, ra);
            f.set_range(b, rb);
        }
        let eq = matches!((op, want), (BinaryOp::IEq, true) | (BinaryOp::INe, false));
        let k = f.consts.get(&b).copied().filter(|_| eq)?;
        f.set_const(a, k);
        Some((a, k))
    }

    /// At the start of block `b`: when its only way in is one edge of a `br` (so the
    /// `br`'s block is its immediate dominator), the branch condition is known there.
    /// A merged region's arm starts with its guard's own check again — this removes it.
    fn learn_edge(&mut self, t: &Trace, cfg: &Cfg, b: usize) {
        let Some((p, false)) = cfg.single_entry(b) else { return };
        let Some(Op::Br { cond, then_, else_, .. }) = t.blocks[p].insts.last().map(|i| &i.op) else {
            return;
        };
        if then_.block == else_.block || self.facts.consts.get(cond).is_some() {
            return; // both edges come here, or the other edge is dead: nothing to learn
        }
        self.learn_condition(t, *cond, then_.block.index() == b);
    }

    fn guard(&mut self, t: &mut Trace, kind: &mut GuardKind, out: &mut [Inst]) -> bool {
        match *kind {
            GuardKind::True(c) | GuardKind::False(c) => {
                let want = matches!(kind, GuardKind::True(_));
                if let Some(k) = self.facts.consts.get(&c) {
                    return (k.bits() != 0) != want; // keep only a guard that always fails
                }
                if let Some((a, k)) = self.learn_condition(t, c, want) {
                    *kind = GuardKind::Value(a, k);
                }
                true
            }
            _ => self.other_guard(t, kind, out),
        }
    }

    fn other_guard(&mut self, t: &mut Trace, kind: &mut GuardKind, out: &mut [Inst]) -> bool {
        let f = &mut self.facts;
        match *kind {
            GuardKind::True(_) | GuardKind::False(_) => true,
            GuardKind::Value(v, k) => {
                if f.consts.get(&v) == Some(&k) {
                    return false;
                }
                f.set_const(v, k);
                true
            }
            GuardKind::Class(v, l) => {
                let c = (self.t_layout_class)(l);
                if c.is_some() && f.class.get(&v).copied() == c {
                    return false;
                }
                if let Some(c) = c {
                    f.set_class(v, c);
                }
                f.set_nonnull(v);
                true
            }
            GuardKind::NonNull(v) => f.set_nonnull(v),
            GuardKind::IsNull(v) => {
                let null = if t.value_type(v) == Type::Ptr {
                    Const::Ptr(0)
                } else {
                    Const::Ref(0)
                };
                if f.consts.get(&v) == Some(&null) {
                    return false;
                }
                f.set_const(v, null);
                true
            }
            GuardKind::NoOverflow(v) => {
                let Some(last) = out.last_mut() else { return true };
                let Op::Binary(op, a, b) = last.op else { return true };
                match Range::arith(op, f.range(a), f.range(b)) {
                    Some(rr) => {
                        last.op = Op::Binary(plain(op), a, b);
                        f.set_range(v, rr);
                        false
                    }
                    None => true,
                }
            }
            GuardKind::NoException | GuardKind::NoInterrupt => true,
        }
    }
}

fn plain(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::IAddOvf => BinaryOp::IAdd,
        BinaryOp::ISubOvf => BinaryOp::ISub,
        BinaryOp::IMulOvf => BinaryOp::IMul,
        other => other,
    }
}

impl Pass for Guards {
    fn name(&self) -> &'static str {
        "guards"
    }
    fn run(&self, t: &mut Trace, ctx: &OptContext) {
        let cfg = Cfg::new(t);
        let layouts: Vec<Option<u64>> = t.layouts.iter().map(|l| l.class).collect();
        let class_of = |l: leones_ir::LayoutId| layouts.get(l.index()).copied().flatten();
        let mut w = Walk {
            defs: HashMap::default(),
            facts: Facts {
                consts: ConstTable::of(t),
                ..Facts::default()
            },
            pool: ConstPool::default(),
            subst: Subst::new(),
            t_layout_class: &class_of,
            drop_ovf_guard: None,
            const_vals: HashSet::default(),
        };
        w.const_vals = w.facts.consts.keys().collect();
        let params = t.blocks.first().map(|b| b.params.clone()).unwrap_or_default();
        for &(i, fact) in ctx.entry_facts {
            let Some(&p) = params.get(i) else { continue };
            let f = &mut w.facts;
            match fact {
                EntryFact::Class(l) => {
                    if let Some(c) = class_of(l) {
                        f.set_class(p, c);
                    }
                    f.set_nonnull(p);
                }
                EntryFact::NonNull => drop(f.set_nonnull(p)),
                EntryFact::Const(k) if k.ty() == t.value_type(p) => f.set_const(p, k),
                EntryFact::Const(_) => {}
            }
        }
        let globals = w.facts.mark();
        let mut ends = vec![0usize; t.blocks.len()];
        for b in cfg.dominator_preorder() {
            w.facts.undo_to(if b == 0 { globals } else { ends[cfg.idom[b]] });
            w.learn_edge(t, &cfg, b);
            let insts = std::mem::take(&mut t.blocks[b].insts);
            let mut out: Vec<Inst> = Vec::with_capacity(insts.len());
            for mut inst in insts {
                if w.inst(t, &mut inst, &mut out) {
                    out.push(inst);
                }
            }
            t.blocks[b].insts = out;
            ends[b] = w.facts.mark();
        }
        w.pool.flush(t);
        // No `w.subst.apply(t)`: blocks went in dominator preorder and every
        // substitution is set at the definition it replaces, so each use (operand or
        // snapshot slot) was rewritten when its instruction was processed.
    }
}
