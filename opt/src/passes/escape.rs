//! # `escape`: escape analysis and allocation removal
//!
//! **Idea.** A `new` whose object does not escape need not exist. The pass walks each
//! block keeping such objects *virtual*: a layout plus the SSA value last written to
//! each field. `setfield` on a virtual updates the abstract state, `getfield` folds to
//! the field's value (or zero, as `new` zeroes), `guard_nonnull` and a matching
//! `guard_class` on it vanish, and `req`/`rne` with it are decided (a fresh object is
//! identical only to itself). An object *escapes* when it is passed to a call, stored
//! into a real object, returned, passed to another block, compared in a way we do not
//! model, or inspected by a `may_force` call (which can look at the host frame: every
//! virtual the next guard's snapshot refers to is forced first). At that point it is
//! *materialized*: `new` plus one `setfield` per written field, emitted right there,
//! recursively for virtual fields, cycles included.
//!
//! **Snapshots.** Every guard passed while objects are virtual gets a snapshot in
//! which slots referring to them are snapshot virtuals `&k` with their current field
//! values (recursively; a cycle becomes a cycle of `&k`s), so an exit rebuilds exactly
//! the objects the unoptimized trace would have had in the heap.
//!
//! **Across the loop edge.** For a loop block entered by one `goto` from its preamble
//! and looping on itself (what `peel` produces), an argument that is virtual both at
//! the `goto` and at the back edge (same layout, no virtual fields) stays virtual: the
//! loop block's parameter is replaced by one parameter per field of the layout and
//! both edges pass field values. So an object carried around the loop — an iterator
//! re-created each iteration — is never allocated (PyPy: virtual state at the jump).
//! The header of a peeled multi-block loop (several preamble exits or back edges from
//! other blocks) is not such a loop block: it is walked like any other block, so
//! virtuals passed on its edges are materialized there (conservative, not optimal).
//!
//! **Invariants.** Only allocations whose every use (snapshots included) lies in
//! their own block are candidates. A virtual's identity is never observed except by
//! `req`/`rne`, which are decided exactly. Materialization happens before the first
//! instruction that could observe the object, so the heap the host sees — at calls,
//! exits and the end — holds the same objects with the same contents.
//!
//! **Example.**
//! ```text
//! v1 = new Point                            guard_true v3 [main@4(&0)] {&0 = Point{x: v0}}
//! setfield v1, Point.x, v0          =>      v5 = fadd v0, v0
//! guard_true v3 [main@4(v1)]                finish v5
//! v4 = getfield v1, Point.x
//! v5 = fadd v4, v4
//! finish v5
//! ```
//!
//! **Source.** PyPy's `optimizeopt/virtualize.py` and `virtualstate.py` (Bolz et al.,
//! "Allocation Removal by Partial Evaluation in a Tracing JIT", PEPM 2011); LuaJIT's
//! `lj_opt_sink.c` (allocation sinking with snapshot-time materialization).

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::virtuals::{layout_fields, VObj, Virtuals};
use crate::util::{cfg::Cfg, subst::Subst, ConstPool};
use leones_ir::{BinaryOp, BlockCall, Const, GuardKind, Inst, JumpTarget, LayoutId, Op, SnapshotId, Trace, Value};
use std::collections::{HashMap, HashSet};

pub struct Escape;

struct Walk {
    subst: Subst,
    pool: ConstPool,
    v: Virtuals,
    /// Values used (operands or snapshots) outside their defining block.
    nonlocal: HashSet<Value>,
}

impl Walk {
    fn is_v(&self, x: Value) -> bool {
        self.v.is_virtual(&self.subst, x)
    }
    fn mat(&mut self, t: &mut Trace, out: &mut Vec<Inst>, x: Value) -> Value {
        self.v.materialize(t, &mut self.subst, out, x)
    }

    /// Processes one non-terminator instruction (or a terminator that is not a loop
    /// edge). `next_snap` is the snapshot of the next guard in the block.
    fn inst(&mut self, t: &mut Trace, mut inst: Inst, next_snap: Option<SnapshotId>, out: &mut Vec<Inst>) {
        self.subst.op(&mut inst.op);
        match inst.op {
            Op::New(l) if inst.result.is_some_and(|r| !self.nonlocal.contains(&r)) => {
                let r = inst.result.expect("checked");
                self.v.objs.insert(
                    r,
                    VObj {
                        layout: l,
                        fields: Vec::new(),
                    },
                );
                return;
            }
            Op::SetField(o, f, x) if self.is_v(o) => {
                self.v.objs.get_mut(&o).expect("virtual").set(f, x);
                return;
            }
            Op::GetField(o, f) if self.is_v(o) => {
                let x = self.v.read(t, &mut self.pool, &self.subst, o, f);
                self.subst.set(inst.result.expect("getfield has a result"), x);
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
                if let Some(s) = next_snap {
                    let mut vals = Vec::new();
                    t.snapshot(s).for_each_value(|x| vals.push(x));
                    for x in vals {
                        self.mat(t, out, x);
                    }
                }
            }
            _ => {}
        }
        for a in inst.op.args() {
            if self.is_v(a) {
                self.mat(t, out, a);
            }
        }
        self.subst.op(&mut inst.op);
        if let Op::Guard(_, snap) = &mut inst.op {
            let enc = self.v.encode_snapshot(&self.subst, t.snapshot(*snap));
            *snap = t.add_snapshot(enc);
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
        // A value used by later blocks that turned out to be a virtual (a `getfield`
        // that folded to one) must be real when the block ends.
        let escaping: Vec<Value> = insts
            .iter()
            .filter_map(|i| i.result)
            .filter(|r| self.nonlocal.contains(r))
            .collect();
        for r in escaping {
            if self.is_v(r) {
                self.mat(t, out, r);
            }
        }
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
        let loops = loop_edges(t, &cfg);
        let mut w = Walk {
            subst: Subst::new(),
            pool: ConstPool::default(),
            v: Virtuals::default(),
            nonlocal: nonlocal_values(t),
        };
        // Virtual state at a preamble's `goto` into a loop block, by loop block.
        let mut stash: HashMap<usize, Virtuals> = HashMap::new();
        for b in 0..t.blocks.len() {
            let insts = std::mem::take(&mut t.blocks[b].insts);
            if let (Some(p), Some(entry)) = (loops[b], stash.remove(&b)) {
                loop_block(t, &mut w, b, p, entry, insts);
                continue;
            }
            w.v = Virtuals::default();
            let mut out = Vec::with_capacity(insts.len());
            w.body(t, &insts, &mut out);
            let mut term = insts.last().expect("blocks end in a terminator").clone();
            let into_loop = match &term.op {
                Op::Goto(bc) if loops[bc.block.index()] == Some(b) => Some(bc.block.index()),
                _ => None,
            };
            match into_loop {
                Some(h) => {
                    w.subst.op(&mut term.op);
                    stash.insert(h, std::mem::take(&mut w.v));
                    out.push(term);
                }
                None => w.inst(t, term, None, &mut out),
            }
            t.blocks[b].insts = out;
        }
        w.pool.flush(t);
        w.subst.apply(t);
    }
}

/// For each block `h`: `Some(p)` if `h` is entered only by `goto h` from `p` and by
/// its own back edge `jump h`.
fn loop_edges(t: &Trace, cfg: &Cfg) -> Vec<Option<usize>> {
    (0..t.blocks.len())
        .map(|h| {
            let (p, self_loop) = cfg.single_entry(h)?;
            let enters = matches!(t.blocks[p].insts.last().map(|i| &i.op), Some(Op::Goto(bc)) if bc.block.index() == h);
            let loops = matches!(t.blocks[h].insts.last().map(|i| &i.op), Some(Op::Jump(JumpTarget::Block(b), _)) if b.index() == h);
            (self_loop && enters && loops).then_some(p)
        })
        .collect()
}

/// Values used in a block other than the one defining them.
fn nonlocal_values(t: &Trace) -> HashSet<Value> {
    let mut def = HashMap::new();
    for (b, bd) in t.blocks.iter().enumerate() {
        bd.params.iter().for_each(|p| {
            def.insert(*p, b);
        });
        bd.insts.iter().filter_map(|i| i.result).for_each(|r| {
            def.insert(r, b);
        });
    }
    let mut out = HashSet::new();
    for (b, bd) in t.blocks.iter().enumerate() {
        for inst in &bd.insts {
            let mut note = |v: Value| {
                if def.get(&v) != Some(&b) {
                    out.insert(v);
                }
            };
            inst.op.for_each_arg(&mut note);
            if let Some(s) = inst.op.snapshot() {
                t.snapshot(s).for_each_value(&mut note);
            }
        }
    }
    out
}

/// Which arguments of a loop edge can stay virtual: a virtual object of the expected
/// layout (`want`), passed only once on the edge, without virtual fields, and not
/// referenced by any other virtual object. The last two keep identity: an exploded
/// object is rebuilt as a *new* object wherever it is needed, so it must not also be
/// reachable through an object that gets materialized (passed twice, or stored in a
/// field of another virtual — which the edge may materialize — it would exist twice).
fn explodable(w: &Walk, args: &[Value], want: &[Option<LayoutId>]) -> Vec<Option<LayoutId>> {
    let args: Vec<Value> = args.iter().map(|a| w.subst.get(*a)).collect();
    let once = |a: Value| args.iter().filter(|&&b| b == a).count() == 1;
    let referenced: HashSet<Value> =
        w.v.objs
            .values()
            .flat_map(|o| o.fields.iter().map(|(_, x)| w.subst.get(*x)))
            .collect();
    args.iter()
        .zip(want)
        .map(|(&a, &l)| {
            let obj = w.v.objs.get(&a)?;
            let nested = obj.fields.iter().any(|(_, x)| w.is_v(*x));
            let ok = l.map_or(true, |l| l == obj.layout) && !nested && once(a) && !referenced.contains(&a);
            ok.then_some(obj.layout)
        })
        .collect()
}

/// Field values of virtual `o` (all fields of its layout, zero when unwritten).
fn field_values(t: &mut Trace, w: &mut Walk, o: Value) -> Vec<Value> {
    let l = w.v.objs[&o].layout;
    layout_fields(t, l)
        .into_iter()
        .map(|f| w.v.read(t, &mut w.pool, &w.subst, o, f))
        .collect()
}

/// Edge arguments under `plan`: field values for exploded objects, real values else.
fn edge_args(
    t: &mut Trace,
    w: &mut Walk,
    args: &[Value],
    plan: &[Option<LayoutId>],
    out: &mut Vec<Inst>,
) -> Vec<Value> {
    let mut raw: Vec<Value> = Vec::new();
    for (&a, p) in args.iter().zip(plan) {
        match p {
            Some(_) => raw.extend(field_values(t, w, w.subst.get(a))),
            None => raw.push(a),
        }
    }
    raw.into_iter().map(|x| w.mat(t, out, x)).collect()
}

/// Processes loop block `h` entered from `p`, keeping loop-carried objects virtual.
fn loop_block(t: &mut Trace, w: &mut Walk, h: usize, p: usize, entry: Virtuals, insts: Vec<Inst>) {
    let params = t.blocks[h].params.clone();
    let Some(Op::Goto(goto)) = t.blocks[p].insts.last().map(|i| i.op.clone()) else {
        unreachable!("loop_edges checked")
    };
    let entry_walk = Walk {
        subst: w.subst.clone(),
        pool: ConstPool::default(),
        v: entry,
        nonlocal: HashSet::new(),
    };
    let mut plan = explodable(&entry_walk, &goto.args, &vec![None; params.len()]);
    for (k, p) in params.iter().enumerate() {
        if w.nonlocal.contains(p) {
            plan[k] = None;
        }
    }
    let saved = w.subst.clone();
    let (new_params, out, back_args) = loop {
        w.subst = saved.clone();
        w.v = Virtuals::default();
        let mut new_params = Vec::new();
        for (&param, l) in params.iter().zip(&plan) {
            let Some(l) = *l else {
                new_params.push(param);
                continue;
            };
            let fields = layout_fields(t, l);
            let mut obj = VObj {
                layout: l,
                fields: Vec::new(),
            };
            for f in fields {
                let fp = t.new_value(t.field(f).ty);
                new_params.push(fp);
                obj.fields.push((f, fp));
            }
            w.v.objs.insert(param, obj);
        }
        let mut out = Vec::with_capacity(insts.len());
        w.body(t, &insts, &mut out);
        let Some(Op::Jump(_, args)) = insts.last().map(|i| i.op.clone()) else {
            unreachable!("loop_edges checked")
        };
        let ok: Vec<_> = explodable(w, &args, &plan)
            .into_iter()
            .zip(&plan)
            .map(|(o, p)| p.and(o))
            .collect();
        if ok != plan {
            plan = plan
                .iter()
                .zip(&ok)
                .map(|(a, b)| if a == b { *a } else { None })
                .collect();
            continue;
        }
        let back = edge_args(t, w, &args, &plan, &mut out);
        break (new_params, out, back);
    };
    let mut out = out;
    out.push(Inst {
        result: None,
        op: Op::Jump(JumpTarget::Block(leones_ir::Block::new(h)), back_args),
    });
    t.blocks[h].params = new_params;
    t.blocks[h].insts = out;
    // Patch the preamble's goto.
    let mut pre = std::mem::take(&mut t.blocks[p].insts);
    pre.pop();
    let mut ew = Walk {
        subst: std::mem::take(&mut w.subst),
        pool: std::mem::take(&mut w.pool),
        v: entry_walk.v,
        nonlocal: HashSet::new(),
    };
    let args = edge_args(t, &mut ew, &goto.args, &plan, &mut pre);
    pre.push(Inst {
        result: None,
        op: Op::Goto(BlockCall {
            block: goto.block,
            args,
        }),
    });
    t.blocks[p].insts = pre;
    w.subst = ew.subst;
    w.pool = ew.pool;
}
