//! # `escape`: partial escape analysis and allocation removal
//!
//! **Idea.** A `new` whose object does not escape need not exist. The pass walks the
//! blocks in order keeping such objects *virtual*: a layout plus the SSA value last
//! written to each field. `setfield` on a virtual updates the abstract state, `getfield`
//! folds to the field's value (or zero, as `new` zeroes), `guard_nonnull` and a
//! matching `guard_class` on it vanish, and `req`/`rne` with it are decided (a fresh
//! object is identical only to itself). An object *escapes* when it is passed to a
//! call, stored into a real object, returned, passed back around a loop in a way the
//! loop cannot keep virtual, or inspected by a `may_force` call (which can look at the
//! host frame: every virtual the next guard's snapshot refers to is forced first — or,
//! when that guard is in a later block, every virtual still live). At
//! that point it is *materialized*: `new` plus one `setfield` per written field,
//! emitted right there, recursively for virtual fields, cycles included.
//!
//! **Partial: per path.** The virtual state belongs to a path, not to the trace
//! ([`Virtuals`]: the objects virtual on this path, and those materialized on it under
//! which value). A block with one way in starts from its predecessor's state at the
//! edge, so each arm of a `br` goes on alone: an object may escape in one arm and stay
//! virtual in the other. At a join ([`join`]) the states meet by the partial-escape
//! rule (Stadler et al.):
//! - an object virtual in every predecessor stays virtual; a field with the same value
//!   everywhere keeps it, a field whose values differ becomes a new block parameter
//!   (each predecessor passes its value, materialized if it is itself virtual there);
//! - an object virtual in some predecessors and materialized in others is materialized
//!   in the predecessors where it is still virtual, just before their edge, and after
//!   the join it is the materialized object: one value if every predecessor has the
//!   same, else a new `ref` parameter;
//! - a block parameter that receives a virtual object of one layout from every
//!   predecessor (passed nowhere else, in no other object's field, not used by name
//!   after the join) is *exploded*: the parameter names a virtual object whose
//!   differing fields are parameters; one that receives the same value on every edge
//!   is that value; any other receives real values.
//!
//! **Loops.** A loop header (a block some `jump` returns to) must hold on every
//! iteration, so it keeps nothing virtual by name across its forward entry; only its
//! parameters may be exploded, if every back edge passes a virtual of the same layout
//! too (PyPy's virtual state at the jump). That is only known after the loop's blocks
//! have been walked, so [`loop_edge`] walks the loop optimistically and walks it again
//! with fewer exploded parameters until every back edge agrees. So an object carried
//! around the peeled loop — an iterator re-created each iteration — is never
//! allocated, also when the loop body has diamonds and several back edges.
//!
//! **Snapshots.** Every guard passed while objects are virtual gets a snapshot in
//! which slots referring to them are snapshot virtuals `&k` with their current field
//! values (recursively; a cycle becomes a cycle of `&k`s), so an exit rebuilds exactly
//! the objects the unoptimized trace would have had in the heap — in any block, with
//! the virtuals of that block's path.
//!
//! **Invariants.** An object never exists twice: on a path it is either virtual or
//! materialized once, a join makes it one or the other on all its edges, and a
//! parameter is exploded only if the object it receives is reachable after the join
//! through that parameter alone. A virtual's identity is never observed except by
//! `req`/`rne`, which are decided only when one side is virtual on this path (so the
//! other is a different object, or the same name). Every value in a path's state
//! dominates the path's current point (values that differ at a join become its
//! parameters). Materialization happens before the first instruction that could
//! observe the object, so the heap the host sees — at calls, exits and the end — holds
//! the same objects with the same contents.
//!
//! **Example.** (`escape/join_field_differs.ir`: virtual in both arms, field `x`
//! written differently, so `x` becomes the join's parameter; the guard after the join
//! rebuilds the object from it.)
//! ```text
//! block0(v0: i64, v1: bool, v2: bool):       block0(v0: i64, v1: bool, v2: bool):
//!     v3 = new P                                 br v1, block1(), block2()
//!     setfield v3, P.y, v0                   block1():
//!     br v1, block1(), block2()                  goto block3(v0)
//! block1():                                  block2():
//!     setfield v3, P.x, v0           =>          v3 = const 5
//!     goto block3()                              goto block3(v3)
//! block2():                                  block3(v4: i64):
//!     v4 = const 5                               guard_true v2 [main@1(&0, v0)]
//!     setfield v3, P.x, v4                           {&0 = P{y: v0, x: v4}}
//!     goto block3()                              finish v4
//! block3():
//!     guard_true v2 [main@1(v3, v0)]
//!     v5 = getfield v3, P.x
//!     finish v5
//! ```
//!
//! **Source.** Stadler, Würthinger, Mössenböck, "Partial Escape Analysis and Scalar
//! Replacement for Java" (CGO 2014): per-branch virtual state, merge processing with
//! phis for virtual fields, materialization in the predecessors that need it. PyPy's
//! `optimizeopt/virtualize.py` and `virtualstate.py` (Bolz et al., "Allocation Removal
//! by Partial Evaluation in a Tracing JIT", PEPM 2011); LuaJIT's `lj_opt_sink.c`
//! (allocation sinking with snapshot-time materialization).

mod join;
mod loop_edge;

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::virtuals::{VObj, Virtuals};
use crate::util::{cfg::Cfg, subst::Subst, ConstPool};
use leones_ir::FastHashMap as HashMap;
use leones_ir::{BinaryOp, Const, GuardKind, Inst, JumpTarget, LayoutId, Op, SnapshotId, Trace, Value};

pub struct Escape;

/// The walk's state: substitutions valid everywhere, the current path's virtuals, and
/// what later blocks need from earlier ones.
#[derive(Clone)]
struct Walk {
    /// Results replaced everywhere (folded `getfield`s, decided `req`s, parameters
    /// that always receive the same value).
    subst: Subst,
    pool: ConstPool,
    /// The current path's virtual state.
    v: Virtuals,
    /// Each walked block's state at its end, before its terminator: what its forward
    /// edges carry.
    exits: Vec<Option<Virtuals>>,
    /// The last block using each value (operands and snapshots, after `subst`): a name
    /// is live at block `j` if it is used in `j` or later.
    last_use: HashMap<Value, usize>,
    /// The exploded parameters of each loop header walked so far.
    loops: HashMap<usize, loop_edge::LoopHeader>,
    /// The block being walked.
    cur: usize,
    /// How often loops were walked again, shared by every copy of the walk (a retry
    /// restores the walk, not this count).
    retries: std::rc::Rc<std::cell::Cell<u32>>,
}

impl Walk {
    fn is_v(&self, x: Value) -> bool {
        self.v.is_virtual(&self.subst, x)
    }
    fn mat(&mut self, t: &mut Trace, out: &mut Vec<Inst>, x: Value) -> Value {
        self.v.materialize(t, &self.subst, out, x)
    }
    fn live_at(&self, x: Value, b: usize) -> bool {
        self.last_use.get(&x).is_some_and(|&u| u >= b)
    }
    /// Makes `from` mean `to` everywhere; `to` inherits `from`'s uses.
    fn alias(&mut self, from: Value, to: Value) {
        let to = self.subst.get(to);
        self.subst.set(from, to);
        if let Some(&u) = self.last_use.get(&from) {
            let e = self.last_use.entry(to).or_insert(u);
            *e = (*e).max(u);
        }
    }

    /// Processes one non-terminator instruction (or a terminator that leaves the
    /// trace). `next_snap` is the snapshot of the next guard in the block.
    fn inst(&mut self, t: &mut Trace, mut inst: Inst, next_snap: Option<SnapshotId>, out: &mut Vec<Inst>) {
        self.subst.op(&mut inst.op);
        match inst.op {
            Op::New(l) => {
                let r = inst.result.expect("new has a result");
                let obj = VObj {
                    layout: l,
                    fields: Vec::new(),
                };
                self.v.objs.insert(r, obj);
                return;
            }
            Op::SetField(o, f, x) if self.is_v(o) => {
                self.v.objs.get_mut(&o).expect("virtual").set(f, x);
                return;
            }
            Op::GetField(o, f) if self.is_v(o) => {
                let x = self.v.read(t, &mut self.pool, &self.subst, o, f);
                self.alias(inst.result.expect("getfield has a result"), x);
                return;
            }
            Op::Binary(op @ (BinaryOp::REq | BinaryOp::RNe), a, b) if self.is_v(a) || self.is_v(b) => {
                let k = self.pool.get(t, Const::Bool((a == b) == (op == BinaryOp::REq)));
                self.subst.set(inst.result.expect("req has a result"), k);
                return;
            }
            Op::Guard(GuardKind::NonNull(o), _) if self.is_v(o) => return,
            Op::Guard(GuardKind::Class(o, l), _) if self.is_v(o) && class_matches(t, self.v.objs[&o].layout, l) => {
                return
            }
            Op::Call(c, _) if t.call(c).effects.may_force => {
                let mut vals = Vec::new();
                match next_snap {
                    Some(s) => t.snapshot(s).for_each_value(|x| vals.push(x)),
                    // The frame is described by a snapshot in a later block: force
                    // every virtual still live.
                    None => vals.extend(self.v.objs.keys().filter(|&&x| self.live_at(x, self.cur))),
                }
                vals.sort_unstable();
                for x in vals {
                    self.mat(t, out, x);
                }
            }
            _ => {}
        }
        for a in inst.op.args() {
            if self.is_v(a) {
                self.mat(t, out, a);
            }
        }
        let (v, subst) = (&self.v, &self.subst);
        inst.op.for_each_arg_mut(|x| *x = v.resolve(subst, *x));
        if let Op::Guard(_, snap) = &mut inst.op {
            // A snapshot without virtual or materialized values is kept as it is (the
            // final substitution rewrites it): no copy per guard.
            if self.v.touches(&self.subst, t.snapshot(*snap)) {
                let enc = self.v.encode_snapshot(&self.subst, t.snapshot(*snap));
                *snap = t.add_snapshot(enc);
            }
        }
        out.push(inst);
    }

    /// Runs the instructions of `insts` except the terminator.
    fn body(&mut self, t: &mut Trace, insts: &[Inst], out: &mut Vec<Inst>) {
        let n = insts.len() - 1;
        let mut next_snap = vec![None; n];
        let mut cur = None;
        for i in (0..n).rev() {
            next_snap[i] = cur;
            if let Some(s) = insts[i].op.snapshot() {
                cur = Some(s);
            }
        }
        for (i, inst) in insts[..n].iter().enumerate() {
            self.inst(t, inst.clone(), next_snap[i], out);
        }
    }

    /// Walks block `b`: its entry state (from its predecessors' edges), its body, and
    /// its terminator. Forward edges keep their arguments as names; the successor's
    /// join rewrites them.
    fn block(&mut self, t: &mut Trace, cfg: &Cfg, b: usize) {
        self.cur = b;
        self.v = join::entry(t, self, cfg, b);
        let insts = std::mem::take(&mut t.blocks[b].insts);
        let mut out = Vec::with_capacity(insts.len());
        self.body(t, &insts, &mut out);
        self.exits[b] = Some(self.v.clone());
        let mut term = insts.last().expect("blocks end in a terminator").clone();
        match &mut term.op {
            Op::Goto(_) | Op::Br { .. } => {
                self.subst.op(&mut term.op);
                out.push(term);
            }
            Op::Jump(JumpTarget::Block(h), args) => {
                let (h, args) = (h.index(), args.clone());
                let args = loop_edge::back_edge(t, self, h, &args, &mut out);
                out.push(Inst {
                    result: None,
                    op: Op::Jump(JumpTarget::Block(leones_ir::Block::new(h)), args),
                });
            }
            _ => self.inst(t, term, None, &mut out),
        }
        t.blocks[b].insts = out;
    }

    /// Walks blocks `from..=to` in order (at least), loops as wholes; returns the
    /// first block not walked.
    fn blocks(&mut self, t: &mut Trace, cfg: &Cfg, from: usize, to: usize) -> usize {
        let mut b = from;
        while b <= to && b < t.blocks.len() {
            b = match loop_edge::latch(cfg, b) {
                Some(last) => loop_edge::walk_loop(t, self, cfg, b, last),
                None => {
                    self.block(t, cfg, b);
                    b + 1
                }
            };
        }
        b
    }
}

fn class_matches(t: &Trace, have: LayoutId, want: LayoutId) -> bool {
    let c = t.layout(have).class.unwrap_or(0);
    t.layout(want).class == Some(c)
}

impl Pass for Escape {
    fn name(&self) -> &'static str {
        "escape"
    }
    fn run(&self, t: &mut Trace, _ctx: &OptContext) {
        let cfg = Cfg::new(t);
        let mut w = Walk {
            subst: Subst::new(),
            pool: ConstPool::default(),
            v: Virtuals::default(),
            exits: vec![None; t.blocks.len()],
            last_use: last_uses(t),
            loops: HashMap::default(),
            cur: 0,
            retries: Default::default(),
        };
        let n = t.blocks.len();
        w.blocks(t, &cfg, 0, n.saturating_sub(1));
        w.pool.flush(t);
        w.subst.apply(t);
    }
}

/// The last block using each value (operands and snapshots).
fn last_uses(t: &Trace) -> HashMap<Value, usize> {
    let mut out = HashMap::default();
    for (b, bd) in t.blocks.iter().enumerate() {
        for inst in &bd.insts {
            let mut note = |v: Value| {
                out.insert(v, b);
            };
            inst.op.for_each_arg(&mut note);
            if let Some(s) = inst.op.snapshot() {
                t.snapshot(s).for_each_value(&mut note);
            }
        }
    }
    out
}
