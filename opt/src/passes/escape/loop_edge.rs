//! Virtual objects around loops: exploded header parameters and back edges.
//!
//! **Idea.** A loop header's parameter that receives a virtual object of one layout on
//! its forward entry *and* on every back edge can stay virtual: the header takes one
//! parameter per field of the layout and every edge passes field values, so an object
//! re-created each iteration (an iterator, a boxed counter) is never allocated. Whether
//! every back edge agrees is known only after walking the loop, so [`walk_loop`] walks
//! the header and the blocks up to its last back edge with every parameter allowed to
//! explode, and if some back edge [refuses](LoopHeader::refused) one, restores the trace
//! and walks again without it — at most once per parameter, and at most
//! `RETRY_BUDGET` times in one run of the pass (then loops explode nothing).
//!
//! **Invariants.** An exploded object is rebuilt as a *new* object wherever it is
//! needed, so it must be reachable only through that parameter: it is passed once on
//! the edge, is in no other virtual's field, has no virtual fields of its own (they
//! would be materialized on the edge while still reachable through it), and is not live
//! by name after the edge ([`explodable`]). Names the header knows as materialized
//! with a different value per entry become extra parameters (`carried`), which every
//! back edge passes unchanged.
//!
//! **Example.** See `peel/iterator.ir`: `block1(v8: i64, v9: i64)` are the fields of
//! the iterator that both the preamble's `goto` and the loop's `jump` pass virtual.

use super::join::{edge_call, edges_into};
use super::Walk;
use crate::util::cfg::Cfg;
use crate::util::subst::Subst;
use crate::util::virtuals::{layout_fields, Virtuals};
use leones_ir::FastHashSet as HashSet;
use leones_ir::{Inst, LayoutId, Trace, Value};

/// How many times one run of the pass may walk a loop again.
const RETRY_BUDGET: u32 = 64;

/// What the walk of a loop header decided, for the back edges to follow.
#[derive(Clone)]
pub(super) struct LoopHeader {
    /// Parameters the current attempt may explode.
    pub may_explode: Vec<bool>,
    /// Per original parameter: the layout of the exploded object, if it was exploded.
    pub plan: Vec<Option<LayoutId>>,
    /// Names materialized before the loop under different values per entry; the
    /// header's last parameters, in this order.
    pub carried: Vec<Value>,
    /// Parameters a back edge could not pass virtual.
    pub refused: Vec<bool>,
}

/// The last block with a back edge to `h`, if `h` is a loop header.
pub(super) fn latch(cfg: &Cfg, h: usize) -> Option<usize> {
    cfg.preds[h].iter().filter(|&&(_, fwd)| !fwd).map(|&(p, _)| p).max()
}

/// Which edge arguments could be exploded, with their layouts: virtual objects
/// passed only once, referenced by no other virtual's field, and (unless
/// `allow_nested`) without virtual fields.
pub(super) fn explodable(v: &Virtuals, subst: &Subst, args: &[Value], allow_nested: bool) -> Vec<Option<LayoutId>> {
    let args: Vec<Value> = args.iter().map(|a| subst.get(*a)).collect();
    let once = |a: Value| args.iter().filter(|&&b| b == a).count() == 1;
    let referenced: HashSet<Value> = v
        .objs
        .values()
        .flat_map(|o| o.fields.iter().map(|(_, x)| subst.get(*x)))
        .collect();
    args.iter()
        .map(|&a| {
            let obj = v.objs.get(&a)?;
            let nested = obj.fields.iter().any(|(_, x)| v.is_virtual(subst, *x));
            let ok = (allow_nested || !nested) && once(a) && !referenced.contains(&a);
            ok.then_some(obj.layout)
        })
        .collect()
}

/// Back-edge arguments under `plan`: every field value of exploded objects (in layout
/// order), real values else; all materialized.
fn edge_args(
    t: &mut Trace,
    w: &mut Walk,
    args: &[Value],
    plan: &[Option<LayoutId>],
    out: &mut Vec<Inst>,
) -> Vec<Value> {
    let mut raw: Vec<Value> = Vec::new();
    for (&a, p) in args.iter().zip(plan) {
        let a = w.subst.get(a);
        match p {
            Some(l) => {
                for f in layout_fields(t, *l) {
                    raw.push(w.v.read(t, &mut w.pool, &w.subst, a, f));
                }
            }
            None => raw.push(a),
        }
    }
    raw.into_iter().map(|x| w.mat(t, out, x)).collect()
}

/// The arguments of `jump h(args)` from the current path: exploded parameters as
/// field values, the header's carried names. A planned parameter this edge cannot
/// pass virtual is refused (the loop is walked again without it).
pub(super) fn back_edge(t: &mut Trace, w: &mut Walk, h: usize, args: &[Value], out: &mut Vec<Inst>) -> Vec<Value> {
    let Some(info) = w.loops.get(&h).cloned() else {
        return args.iter().map(|&a| w.mat(t, out, a)).collect();
    };
    let ok = explodable(&w.v, &w.subst, args, false);
    let mut plan = info.plan.clone();
    for (k, p) in plan.iter_mut().enumerate() {
        if p.is_some() && ok.get(k).copied().flatten() != *p {
            *p = None;
            w.loops.get_mut(&h).expect("present").refused[k] = true;
        }
    }
    let mut res = edge_args(t, w, args, &plan, out);
    for x in info.carried {
        res.push(w.mat(t, out, x));
    }
    res
}

/// Walks loop header `h` and the blocks up to `last` (its last back edge), again with
/// fewer exploded parameters while some back edge refuses one. Returns the first block
/// not walked.
pub(super) fn walk_loop(t: &mut Trace, w: &mut Walk, cfg: &Cfg, h: usize, last: usize) -> usize {
    // Once the pass has walked loops again `RETRY_BUDGET` times, loops explode
    // nothing: nested loops that keep refusing would otherwise cost a walk per
    // combination of attempts.
    let mut may = vec![w.retries.get() < RETRY_BUDGET; t.blocks[h].params.len()];
    loop {
        let virtual_entry = edges_into(t, cfg, h).into_iter().any(|e| {
            let state = w.exits[e.pred].as_ref().expect("walked");
            edge_call(t, e).args.iter().any(|&a| state.is_virtual(&w.subst, a))
        });
        let saved = (virtual_entry && may.iter().any(|&m| m)).then(|| (t.clone(), w.clone()));
        w.loops.insert(h, LoopHeader::new(may.clone()));
        w.block(t, cfg, h);
        let next = w.blocks(t, cfg, h + 1, last);
        let refused = w.loops[&h].refused.clone();
        let Some((saved_t, saved_w)) = saved.filter(|_| refused.contains(&true)) else {
            return next;
        };
        *t = saved_t;
        *w = saved_w;
        w.retries.set(w.retries.get() + 1);
        for (m, r) in may.iter_mut().zip(refused) {
            *m &= !r;
        }
    }
}

impl LoopHeader {
    /// A header no attempt has walked yet.
    fn new(may_explode: Vec<bool>) -> LoopHeader {
        let n = may_explode.len();
        LoopHeader {
            may_explode,
            plan: vec![None; n],
            carried: Vec::new(),
            refused: vec![false; n],
        }
    }
}
