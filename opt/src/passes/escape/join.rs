//! A block's entry state from its forward edges: the partial-escape merge.
//!
//! **Idea.** Each forward edge into block `j` carries its predecessor's state (what is
//! virtual, what was materialized as what) and its arguments. With one edge the block
//! simply continues the predecessor's path. With several, the states meet (Stadler et
//! al., merge processing): names live after the join that are virtual everywhere stay
//! virtual, their differing fields becoming parameters; names virtual only somewhere
//! are materialized where they still are; parameters receiving virtuals of one layout
//! everywhere are exploded. Deciding one of these may materialize something in a
//! predecessor (just before its terminator), which can change another decision, so the
//! merge repeats until it needs nothing more materialized — at most once per object.
//!
//! A loop header is entered the same way, except that nothing stays virtual by name
//! (the back edges cannot be merged before the loop is walked) and only parameters the
//! loop's current attempt allows ([`super::loop_edge::LoopHeader`]) are exploded, with
//! every field a parameter; what it decided is recorded there for the back edges.
//!
//! Materializing "before the edge" means before the predecessor's terminator. For a
//! `br` that is before both of its edges: if the other successor was walked already
//! with the object virtual, that path allocates an object nothing refers to (harmless,
//! never wrong — region formation gives arms their own blocks, so it is rare).
//!
//! **Invariants.** A parameter is exploded only if, on every edge, its object is
//! passed once, is in no other virtual's field and is not live by name after the join,
//! so the object exists after the join only as that parameter. Names and parameters
//! are visited in value order, so the output does not depend on hashing.

use super::loop_edge::explodable;
use super::Walk;
use crate::util::cfg::Cfg;
use crate::util::virtuals::{layout_fields, VObj, Virtuals};
use leones_ir::{BlockCall, FieldId, LayoutId, Op, Trace, Type, Value};
use std::collections::BTreeSet;

/// One forward edge into a block: its predecessor and which block call of the
/// predecessor's terminator it is (a `br` may target the same block twice).
#[derive(Copy, Clone)]
pub(super) struct Edge {
    pub pred: usize,
    arm: usize,
}

fn calls(op: &Op) -> Vec<&BlockCall> {
    match op {
        Op::Goto(bc) => vec![bc],
        Op::Br { then_, else_, .. } => vec![then_, else_],
        _ => Vec::new(),
    }
}

/// The forward edges into `j`, by predecessor.
pub(super) fn edges_into(t: &Trace, cfg: &Cfg, j: usize) -> Vec<Edge> {
    let mut preds: Vec<usize> = cfg.preds[j]
        .iter()
        .filter(|&&(p, f)| f && p < j)
        .map(|&(p, _)| p)
        .collect();
    preds.sort_unstable();
    preds.dedup();
    let mut out = Vec::new();
    for p in preds {
        let Some(term) = t.blocks[p].insts.last() else { continue };
        for (arm, bc) in calls(&term.op).into_iter().enumerate() {
            if bc.block.index() == j {
                out.push(Edge { pred: p, arm });
            }
        }
    }
    out
}

/// The arguments edge `e` passes.
pub(super) fn edge_call(t: &Trace, e: Edge) -> &BlockCall {
    calls(&t.blocks[e.pred].insts.last().expect("walked").op)[e.arm]
}

fn set_edge_args(t: &mut Trace, e: Edge, args: Vec<Value>) {
    let op = &mut t.blocks[e.pred].insts.last_mut().expect("walked").op;
    match (op, e.arm) {
        (Op::Goto(bc), 0) | (Op::Br { then_: bc, .. }, 0) | (Op::Br { else_: bc, .. }, 1) => bc.args = args,
        _ => unreachable!("edges_into found this arm"),
    }
}

/// What becomes of one of the block's parameters.
#[derive(Copy, Clone, PartialEq)]
enum Param {
    /// Receives real values (virtual ones are materialized on their edge).
    Keep,
    /// Receives the same name on every edge: it is that name.
    Same(Value),
    /// Receives a virtual of this layout on every edge: names a virtual object.
    Explode(LayoutId),
}

/// A field of objects meeting at a join: one value everywhere, or one per edge.
enum FieldMerge {
    Same(Value),
    Differ(Vec<Value>),
}

/// The state block `j` starts from, after merging its forward edges (rewriting their
/// arguments and `j`'s parameters).
pub(super) fn entry(t: &mut Trace, w: &mut Walk, cfg: &Cfg, j: usize) -> Virtuals {
    let edges = edges_into(t, cfg, j);
    if edges.is_empty() {
        return Virtuals::default();
    }
    let header = w.loops.get(&j).map(|h| h.may_explode.clone());
    if let ([e], None) = (&edges[..], &header) {
        if !cfg.is_loop_header(leones_ir::Block::new(j)) {
            return continue_path(t, w, j, *e);
        }
    }
    loop {
        let m = Merge::decide(t, w, j, &edges, header.as_deref());
        if m.need.is_empty() {
            let state = m.build(t, w, j, &edges);
            // A predecessor whose forward successors are all walked is not needed again.
            for e in &edges {
                let term = &t.blocks[e.pred].insts.last().expect("walked").op;
                if calls(term).iter().all(|bc| bc.block.index() <= j) {
                    w.exits[e.pred] = None;
                }
            }
            return state;
        }
        for (i, x) in m.need {
            let p = edges[i].pred;
            let mut insts = std::mem::take(&mut t.blocks[p].insts);
            let term = insts.pop().expect("walked blocks end in a terminator");
            let state = w.exits[p].as_mut().expect("walked");
            state.materialize(t, &w.subst, &mut insts, x);
            insts.push(term);
            t.blocks[p].insts = insts;
        }
    }
}

/// The entry state of a block (not a loop header) with one forward edge: the
/// predecessor's path goes on. What [`Merge`] would decide for one edge, without its
/// per-edge copies (most blocks of a region have one way in): a parameter receiving a
/// name the path knows (virtual or materialized) is that name; the others stay, passed
/// as real values; the state keeps what is live from `j` on and what live virtuals'
/// fields refer to.
fn continue_path(t: &mut Trace, w: &mut Walk, j: usize, e: Edge) -> Virtuals {
    let last_use_of_state = calls(&t.blocks[e.pred].insts.last().expect("walked").op)
        .iter()
        .all(|bc| bc.block.index() <= j);
    let mut state = if last_use_of_state {
        w.exits[e.pred].take().expect("walked")
    } else {
        w.exits[e.pred].clone().expect("walked")
    };
    let args: Vec<Value> = edge_call(t, e).args.iter().map(|a| w.subst.get(*a)).collect();
    let (mut params, mut passed) = (Vec::new(), Vec::new());
    for (&p, &x) in t.blocks[j].params.clone().iter().zip(&args) {
        if state.knows(x) {
            w.alias(p, x);
        } else {
            params.push(p);
            passed.push(state.resolve(&w.subst, x));
        }
    }
    t.blocks[j].params = params;
    set_edge_args(t, e, passed);
    let mut live: BTreeSet<Value> = state
        .objs
        .keys()
        .chain(state.real.keys())
        .copied()
        .filter(|&x| w.live_at(x, j))
        .collect();
    close_over_fields(std::slice::from_ref(&state), &mut live, &w.subst);
    state.objs.retain(|x, _| live.contains(x));
    state.real.retain(|x, _| live.contains(x));
    state
}

/// One round of decisions at a join.
struct Merge {
    /// Per edge: its predecessor's state, and its arguments (after `subst`).
    states: Vec<Virtuals>,
    args: Vec<Vec<Value>>,
    params: Vec<Param>,
    /// Names live after the join that every edge knows, in value order.
    live: Vec<Value>,
    /// Whether the block is a loop header (nothing stays virtual by name; exploded
    /// parameters take every field).
    is_loop: bool,
    /// (edge, name) pairs to materialize before the merge can be built.
    need: Vec<(usize, Value)>,
}

impl Merge {
    fn decide(t: &mut Trace, w: &mut Walk, j: usize, edges: &[Edge], header: Option<&[bool]>) -> Merge {
        let states: Vec<Virtuals> = edges.iter().map(|e| w.exits[e.pred].clone().expect("walked")).collect();
        let args: Vec<Vec<Value>> = edges
            .iter()
            .map(|&e| edge_call(t, e).args.iter().map(|a| w.subst.get(*a)).collect())
            .collect();
        let params_now = t.blocks[j].params.clone();
        let knows_all = |x: Value| states.iter().all(|s| s.knows(x));
        let mut live: BTreeSet<Value> = states[0]
            .objs
            .keys()
            .chain(states[0].real.keys())
            .copied()
            .filter(|&x| w.live_at(x, j) && knows_all(x))
            .collect();
        let mut params = vec![Param::Keep; params_now.len()];
        for (k, &p) in params_now.iter().enumerate() {
            let x = args[0][k];
            if header.is_none() && args.iter().all(|a| a[k] == x) && states.iter().any(|s| s.knows(x)) {
                params[k] = Param::Same(x);
                if w.live_at(p, j) && knows_all(x) {
                    live.insert(x);
                }
            }
        }
        close_over_fields(&states, &mut live, &w.subst);
        let allow_nested = header.is_none();
        let per_edge: Vec<Vec<Option<LayoutId>>> = states
            .iter()
            .zip(&args)
            .map(|(s, a)| explodable(s, &w.subst, a, allow_nested))
            .collect();
        for k in 0..params.len() {
            let l = per_edge[0][k];
            let allowed = header.is_none_or(|h| h[k]);
            let fits = l.is_some() && per_edge.iter().all(|e| e[k] == l) && args.iter().all(|a| !live.contains(&a[k]));
            if params[k] == Param::Keep && allowed && fits {
                params[k] = Param::Explode(l.expect("checked"));
                // What the exploded object's fields refer to survives the join.
                for (s, a) in states.iter().zip(&args) {
                    for &(_, y) in &s.objs[&a[k]].fields {
                        let y = w.subst.get(y);
                        if knows_all(y) {
                            live.insert(y);
                        }
                    }
                }
            }
        }
        close_over_fields(&states, &mut live, &w.subst);
        let mut m = Merge {
            states,
            args,
            params,
            live: live.into_iter().collect(),
            is_loop: header.is_some(),
            need: Vec::new(),
        };
        m.collect_needs(t, w);
        m
    }

    /// Everything that must be real on its edge before the merge can be built.
    fn collect_needs(&mut self, t: &mut Trace, w: &mut Walk) {
        let mut need = Vec::new();
        for (k, p) in self.params.iter().enumerate() {
            match p {
                Param::Keep => {
                    for (i, s) in self.states.iter().enumerate() {
                        if s.objs.contains_key(&self.args[i][k]) {
                            need.push((i, self.args[i][k]));
                        }
                    }
                }
                Param::Explode(_) => {
                    let objs: Vec<VObj> = (0..self.states.len()).map(|i| self.obj(i, self.args[i][k])).collect();
                    need.extend(self.differing_virtuals(t, w, &objs));
                }
                Param::Same(_) => {}
            }
        }
        for &x in &self.live {
            let virt: Vec<usize> = (0..self.states.len())
                .filter(|&i| self.states[i].objs.contains_key(&x))
                .collect();
            if virt.len() == self.states.len() && !self.is_loop {
                let objs: Vec<VObj> = (0..self.states.len()).map(|i| self.obj(i, x)).collect();
                need.extend(self.differing_virtuals(t, w, &objs));
            } else {
                need.extend(virt.into_iter().map(|i| (i, x)));
            }
        }
        self.need = need;
    }

    fn obj(&self, i: usize, x: Value) -> VObj {
        self.states[i].objs[&x].clone()
    }

    /// The fields of `objs` (one per edge) as they meet: in a loop header every field
    /// of the layout is a parameter; elsewhere a field keeps a value all edges agree on.
    fn fields(&self, t: &mut Trace, w: &mut Walk, objs: &[VObj]) -> Vec<(FieldId, FieldMerge)> {
        let mut order: Vec<FieldId> = Vec::new();
        if self.is_loop {
            order = layout_fields(t, objs[0].layout);
        } else {
            for f in objs.iter().flat_map(|o| o.fields.iter().map(|(f, _)| *f)) {
                if !order.contains(&f) {
                    order.push(f);
                }
            }
        }
        order
            .into_iter()
            .map(|f| {
                let vals: Vec<Value> = objs.iter().map(|o| o.read(t, &mut w.pool, &w.subst, f)).collect();
                let same = !self.is_loop && vals.iter().all(|&v| v == vals[0]);
                (
                    f,
                    if same {
                        FieldMerge::Same(vals[0])
                    } else {
                        FieldMerge::Differ(vals)
                    },
                )
            })
            .collect()
    }

    /// Field values that become parameters but are virtual on their edge.
    fn differing_virtuals(&self, t: &mut Trace, w: &mut Walk, objs: &[VObj]) -> Vec<(usize, Value)> {
        let mut out = Vec::new();
        for (_, fm) in self.fields(t, w, objs) {
            if let FieldMerge::Differ(vals) = fm {
                for (i, v) in vals.into_iter().enumerate() {
                    if self.states[i].objs.contains_key(&v) {
                        out.push((i, v));
                    }
                }
            }
        }
        out
    }

    /// Builds the merged state: new parameters for `j`, new arguments for each edge.
    fn build(self, t: &mut Trace, w: &mut Walk, j: usize, edges: &[Edge]) -> Virtuals {
        let old_params = t.blocks[j].params.clone();
        let mut b = Builder {
            params: Vec::new(),
            args: vec![Vec::new(); edges.len()],
            state: Virtuals::default(),
        };
        let mut plan = vec![None; old_params.len()];
        for (k, &p) in old_params.iter().enumerate() {
            match self.params[k] {
                Param::Same(x) => w.alias(p, x),
                Param::Keep => {
                    b.params.push(p);
                    let vals = (0..edges.len()).map(|i| self.args[i][k]).collect();
                    b.pass(&self.states, &w.subst, vals);
                }
                Param::Explode(l) => {
                    plan[k] = Some(l);
                    let objs: Vec<VObj> = (0..edges.len()).map(|i| self.obj(i, self.args[i][k])).collect();
                    let obj = self.merged(t, w, &mut b, l, &objs);
                    b.state.objs.insert(p, obj);
                }
            }
        }
        let mut carried = Vec::new();
        for &x in &self.live {
            if self.states.iter().all(|s| s.objs.contains_key(&x)) {
                let objs: Vec<VObj> = (0..edges.len()).map(|i| self.obj(i, x)).collect();
                let obj = self.merged(t, w, &mut b, objs[0].layout, &objs);
                b.state.objs.insert(x, obj);
                continue;
            }
            let reals: Vec<Value> = self.states.iter().map(|s| s.resolve(&w.subst, x)).collect();
            if reals.iter().all(|&r| r == reals[0]) {
                if reals[0] != x {
                    b.state.real.insert(x, reals[0]);
                }
                continue;
            }
            let p = t.new_value(Type::Ref);
            b.params.push(p);
            b.pass(&self.states, &w.subst, vec![x; edges.len()]);
            b.state.real.insert(x, p);
            carried.push(x);
        }
        t.blocks[j].params = b.params;
        for (&e, a) in edges.iter().zip(b.args) {
            set_edge_args(t, e, a);
        }
        if let Some(h) = w.loops.get_mut(&j) {
            h.plan = plan;
            h.carried = carried;
        }
        b.state
    }

    /// The object `objs` (one per edge) become after the join.
    fn merged(&self, t: &mut Trace, w: &mut Walk, b: &mut Builder, layout: LayoutId, objs: &[VObj]) -> VObj {
        let mut obj = VObj {
            layout,
            fields: Vec::new(),
        };
        for (f, fm) in self.fields(t, w, objs) {
            let v = match fm {
                FieldMerge::Same(v) => v,
                FieldMerge::Differ(vals) => {
                    let p = t.new_value(t.field(f).ty);
                    b.params.push(p);
                    b.pass(&self.states, &w.subst, vals);
                    p
                }
            };
            obj.fields.push((f, v));
        }
        obj
    }
}

/// The join's new parameters, edge arguments and state, as they are built.
struct Builder {
    params: Vec<Value>,
    args: Vec<Vec<Value>>,
    state: Virtuals,
}

impl Builder {
    /// Each edge passes its value of a new (or kept) parameter, as a real value.
    fn pass(&mut self, states: &[Virtuals], subst: &crate::util::subst::Subst, vals: Vec<Value>) {
        for (i, v) in vals.into_iter().enumerate() {
            self.args[i].push(states[i].resolve(subst, v));
        }
    }
}

/// Adds to `live` every name reachable from it through virtual objects' fields that
/// every edge knows: those objects survive the join with them.
fn close_over_fields(states: &[Virtuals], live: &mut BTreeSet<Value>, subst: &crate::util::subst::Subst) {
    let mut todo: Vec<Value> = live.iter().copied().collect();
    while let Some(x) = todo.pop() {
        for s in states {
            let Some(obj) = s.objs.get(&x) else { continue };
            for &(_, y) in &obj.fields {
                let y = subst.get(y);
                if states.iter().all(|s| s.knows(y)) && live.insert(y) {
                    todo.push(y);
                }
            }
        }
    }
}
