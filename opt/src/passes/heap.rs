//! # `heap`: the heap cache — load forwarding, duplicate loads, dead and redundant stores
//!
//! **Idea.** Remember, along the trace, what each heap location is known to hold: an
//! object field `(obj, F)`, an array item `(arr, A, index)`, an array length, a raw
//! word `(ptr, offset, type)`. A load of a known location is replaced by the known
//! value (a `setfield` followed by a `getfield` forwards the stored value; two equal
//! loads become one; a fresh `new` object's fields are known to be zero). A store of
//! the value the location already holds is dropped, and a store overwritten by a later
//! store to the same location with nothing in between that could observe it (a load
//! of that field, a guard — exits see the heap —, a call, the block's end) is removed.
//! A value a passed `guard_value` pinned to a constant is that constant here, so
//! storing the constant back where the value was loaded from is such a store.
//!
//! **Invalidation.** A store to `(o, F)` forgets `(x, F)` for every `x` that may be
//! `o` (two different `new` results are never the same object) and nothing about
//! other fields. A call forgets exactly what its `EffectInfo::writes` names: a call
//! that writes nothing keeps every fact, one that writes field `F` forgets only `F`,
//! `writes=any` (and an unannotated call) forgets everything; immutable fields survive
//! every call. Raw stores forget raw words that may overlap.
//!
//! **Across blocks.** A block starts from what holds on *every* way in: with one
//! forward predecessor, that predecessor's facts at the edge; at a join (the end of a
//! `br` diamond), the **intersection** of its predecessors' facts — a location is
//! known only if every predecessor knows it to hold the same value (the same SSA
//! value, or equal constants, which are then re-made in `block0` so they dominate the
//! join). A location stored in one arm only is therefore reloaded after the join; one
//! stored with the same value in both arms is forwarded; a call in one arm kills its
//! facts after the join. A loop header (a block some `jump` returns to) starts from
//! the intersection over its forward entries, minus every fact the loop's blocks
//! (header to last back edge) might overwrite, so what survives holds on every
//! iteration — which is how loop-invariant loads leave the loop: the peeled loop's
//! load is replaced by the preamble's. Pending stores never cross a block boundary
//! (every terminator observes them), so dead-store elimination stays block-local.
//!
//! **Fields carried around the loop.** A field the loop body both reads and writes,
//! of one loop-invariant object — every store to that field in the body is to that
//! same object, and no call in it may write the field — is carried in a register: the
//! loop block gets a parameter holding the field's value, the preamble's `goto`
//! passes what the preamble knew it to be and the back edge what the body last stored.
//! The body's loads become the parameter; the stores stay (the object is real: calls
//! and exits see it). A parameter whose two incoming values are the same is that
//! value. This is what keeps the state of an object the loop updates in place — a
//! generator's resume point and locals, an iterator's index — in registers
//! (PyPy gets the same from its short preamble).
//!
//! **Example.**
//! ```text
//! setfield v0, P.x, v1                setfield v0, P.x, v1
//! v2 = getfield v0, P.x               call log()        ; effects()
//! call log()    ; effects()    =>     v5 = iadd v1, v1
//! v3 = getfield v0, P.x               finish v5
//! v5 = iadd v2, v3
//! finish v5
//! ```
//!
//! **Source.** PyPy's `optimizeopt/heap.py` (`OptHeap`: cached fields, lazy setfields,
//! effect-info-driven invalidation), LuaJIT's `lj_opt_mem.c` (alias analysis for
//! load forwarding and dead-store elimination).

use crate::context::OptContext;
use crate::pass::Pass;
use crate::util::{cfg::Cfg, subst::Subst, ConstPool, ConstTable};
use leones_ir::{ArrayId, Const, EffectInfo, FieldId, GuardKind, Inst, MemType, Op, Trace, Value};
use leones_ir::{FastHashMap as HashMap, FastHashSet as HashSet};

pub struct HeapCache;

/// Known heap contents.
#[derive(Clone, Default)]
struct Known {
    fields: HashMap<(Value, FieldId), Value>,
    items: HashMap<(Value, ArrayId, Value), Value>,
    lens: HashMap<(Value, ArrayId), Value>,
    raw: HashMap<(Value, i64, MemType), Value>,
    /// Values a passed `guard_value` pinned to a constant (facts about SSA values, so
    /// no store or call kills them; they follow the blocks like the rest).
    pinned: HashMap<Value, Const>,
}

impl Known {
    fn kill_effects(&mut self, t: &Trace, e: &EffectInfo) {
        self.fields
            .retain(|(_, f), _| t.field(*f).immutable || !e.writes.has_field(*f));
        self.items.retain(|(_, a, _), _| !e.writes.has_array(*a));
        self.lens.retain(|(_, a), _| !e.writes.has_array(*a));
        if e.writes.has_raw() {
            self.raw.clear();
        }
    }
    /// Forgets whatever the instructions of a loop body might overwrite.
    fn kill_body(&mut self, t: &Trace, insts: &[Inst]) {
        for inst in insts {
            match &inst.op {
                Op::SetField(_, f, _) => self.fields.retain(|(_, g), _| g != f),
                Op::SetItem(a, ..) => self.items.retain(|(_, b, _), _| b != a),
                Op::Store(..) => self.raw.clear(),
                Op::Call(c, _) => self.kill_effects(t, &t.call(*c).effects),
                _ => {}
            }
        }
    }
}

struct Walk {
    known: Known,
    fresh: HashSet<Value>,
    consts: ConstTable,
    subst: Subst,
    pool: ConstPool,
    /// Stores not yet observed: location → index in the block's output.
    pending: HashMap<(Value, FieldId), usize>,
}

impl Walk {
    fn may_alias(&self, a: Value, b: Value) -> bool {
        a == b || !(self.fresh.contains(&a) && self.fresh.contains(&b))
    }
    fn same_value(&self, a: Value, b: Value) -> bool {
        let k = |v: Value| self.consts.get(&v).or_else(|| self.known.pinned.get(&v));
        a == b || matches!((k(a), k(b)), (Some(x), Some(y)) if x == y)
    }
    fn distinct_index(&self, i: Value, j: Value) -> bool {
        matches!((self.consts.get(&i), self.consts.get(&j)), (Some(x), Some(y)) if x != y)
    }
    /// A load whose result is `r` of location `key`: forward or remember.
    fn load<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Value>, subst: &mut Subst, key: K, r: Value) -> bool {
        match map.get(&key) {
            Some(&v) => {
                subst.set(r, v);
                false
            }
            None => {
                map.insert(key, r);
                true
            }
        }
    }

    /// Processes one instruction; returns whether to keep it. `dead` collects indices
    /// of earlier stores found dead.
    fn inst(&mut self, t: &mut Trace, inst: &Inst, at: usize, dead: &mut Vec<usize>) -> bool {
        let r = inst.result;
        match inst.op {
            Op::New(l) => {
                let r = r.expect("new has a result");
                self.fresh.insert(r);
                let fields: Vec<FieldId> = (0..t.fields.len())
                    .map(FieldId::new)
                    .filter(|f| t.field(*f).layout == l)
                    .collect();
                for f in fields {
                    let z = self.pool.get(t, leones_ir::Const::zero(t.field(f).ty));
                    self.consts.insert(z, leones_ir::Const::zero(t.field(f).ty));
                    self.known.fields.insert((r, f), z);
                }
            }
            Op::GetField(o, f) => {
                self.pending.retain(|(_, g), _| *g != f);
                return Self::load(&mut self.known.fields, &mut self.subst, (o, f), r.expect("getfield"));
            }
            Op::SetField(o, f, v) => {
                if self.known.fields.get(&(o, f)).is_some_and(|&w| self.same_value(v, w)) {
                    return false;
                }
                if let Some(prev) = self.pending.insert((o, f), at) {
                    dead.push(prev);
                }
                let fresh = &self.fresh;
                let may = |x: Value| x == o || !(fresh.contains(&x) && fresh.contains(&o));
                self.known.fields.retain(|(x, g), _| *g != f || !may(*x));
                self.known.fields.insert((o, f), v);
            }
            Op::GetItem(a, arr, i) => {
                return Self::load(&mut self.known.items, &mut self.subst, (arr, a, i), r.expect("getitem"));
            }
            Op::SetItem(a, arr, i, v) => {
                let keep: Vec<_> = self
                    .known
                    .items
                    .iter()
                    .filter(|((x, b, j), _)| {
                        *b != a || !self.may_alias(*x, arr) || (*x == arr && self.distinct_index(*j, i))
                    })
                    .map(|(k, v)| (*k, *v))
                    .collect();
                self.known.items = keep.into_iter().collect();
                self.known.items.insert((arr, a, i), v);
            }
            Op::ArrayLen(a, arr) => {
                return Self::load(&mut self.known.lens, &mut self.subst, (arr, a), r.expect("arraylen"));
            }
            Op::Load(mt, p, off) => {
                return Self::load(&mut self.known.raw, &mut self.subst, (p, off, mt), r.expect("load"));
            }
            Op::Store(mt, p, off, v) => {
                let end = off.saturating_add(i64::from(mt.size()));
                self.known
                    .raw
                    .retain(|(q, o2, m2), _| *q == p && (o2.saturating_add(i64::from(m2.size())) <= off || *o2 >= end));
                if !matches!(mt, MemType::F32) && mt.size() == 8 || mt == MemType::Bool {
                    self.known.raw.insert((p, off, mt), v);
                }
            }
            Op::Call(c, _) => {
                self.pending.clear();
                let e = t.call(c).effects.clone();
                self.known.kill_effects(t, &e);
            }
            Op::Guard(GuardKind::Value(x, k), _) => {
                self.pending.clear();
                self.known.pinned.insert(x, k);
            }
            Op::Guard(..) | Op::Jump(..) | Op::Goto(_) | Op::Br { .. } | Op::Finish(_) => self.pending.clear(),
            _ => {}
        }
        true
    }
}

impl Walk {
    /// What holds on entry to block `b`: the intersection of its forward
    /// predecessors' facts at their ends; for a loop header, minus whatever the loop
    /// might overwrite.
    fn entry_facts(&mut self, t: &mut Trace, cfg: &Cfg, b: usize, ends: &[Known]) -> Known {
        let mut fwd = cfg.preds[b].iter().filter(|&&(p, f)| f && p < b).map(|&(p, _)| p);
        let Some(first) = fwd.next() else {
            return Known::default();
        };
        let mut k = ends[first].clone();
        for p in fwd {
            self.intersect(t, &mut k, &ends[p]);
        }
        if let Some(last) = cfg.preds[b].iter().filter(|&&(_, f)| !f).map(|&(p, _)| p).max() {
            for body in b..=last {
                k.kill_body(t, &t.blocks[body].insts);
            }
        }
        k
    }

    /// Keeps in `k` only the facts `other` agrees with.
    fn intersect(&mut self, t: &mut Trace, k: &mut Known, other: &Known) {
        let mut agree = |t: &mut Trace, a: Value, b: Option<&Value>| -> Option<Value> {
            let b = *b?;
            if a == b {
                return Some(a);
            }
            match (self.consts.get(&a), self.consts.get(&b)) {
                (Some(x), Some(y)) if x == y => {
                    let x = *x;
                    let v = self.pool.get(t, x);
                    self.consts.insert(v, x);
                    Some(v)
                }
                _ => None,
            }
        };
        fn keep<K: std::hash::Hash + Eq + Copy>(
            t: &mut Trace,
            mine: &mut HashMap<K, Value>,
            theirs: &HashMap<K, Value>,
            agree: &mut impl FnMut(&mut Trace, Value, Option<&Value>) -> Option<Value>,
        ) {
            let old = std::mem::take(mine);
            for (key, v) in old {
                if let Some(v) = agree(t, v, theirs.get(&key)) {
                    mine.insert(key, v);
                }
            }
        }
        keep(t, &mut k.fields, &other.fields, &mut agree);
        keep(t, &mut k.items, &other.items, &mut agree);
        keep(t, &mut k.lens, &other.lens, &mut agree);
        keep(t, &mut k.raw, &other.raw, &mut agree);
        k.pinned.retain(|v, c| other.pinned.get(v) == Some(c));
    }
}

impl Pass for HeapCache {
    fn name(&self) -> &'static str {
        "heap"
    }
    fn run(&self, t: &mut Trace, _ctx: &OptContext) {
        let cfg = Cfg::new(t);
        let mut w = Walk {
            known: Known::default(),
            fresh: HashSet::default(),
            consts: ConstTable::of(t),
            subst: Subst::new(),
            pool: ConstPool::default(),
            pending: HashMap::default(),
        };
        let mut ends: Vec<Known> = Vec::with_capacity(t.blocks.len());
        // Whether a substitution was set after uses of its value were rewritten (a
        // carried field's parameter dropped at the back edge): only then does the final
        // whole-trace pass find work, as blocks go in index order, where every block's
        // dominators come first (`util::cfg`).
        let mut late = false;
        for b in 0..t.blocks.len() {
            let mut carried = Vec::new();
            if let Some((p, true)) = cfg.single_entry(b) {
                // The peeled loop: one way in, one back edge, from itself.
                carried = carry_fields(t, &w.subst, &ends[p], p, b);
                late |= !carried.is_empty();
            }
            w.known = w.entry_facts(t, &cfg, b, &ends);
            for c in &carried {
                w.known.fields.insert((c.obj, c.field), c.param);
            }
            w.pending.clear();
            let insts = std::mem::take(&mut t.blocks[b].insts);
            let mut out: Vec<Option<Inst>> = Vec::with_capacity(insts.len());
            let mut dead = Vec::new();
            for mut inst in insts {
                w.subst.op(&mut inst.op);
                if let Some(s) = inst.op.snapshot() {
                    w.subst.snapshot(&mut t.snapshots[s.index()]);
                }
                let at = out.len();
                if w.inst(t, &inst, at, &mut dead) {
                    out.push(Some(inst));
                }
            }
            for i in dead {
                out[i] = None;
            }
            t.blocks[b].insts = out.into_iter().flatten().collect();
            close_carried(t, &mut w, b, &carried);
            ends.push(std::mem::take(&mut w.known));
        }
        w.pool.flush(t);
        if late {
            w.subst.apply(t);
        }
    }
}

/// A field carried around a loop in a block parameter (see the module docs).
struct Carried {
    obj: Value,
    field: FieldId,
    param: Value,
    /// What the preamble's `goto` passes.
    entry: Value,
}

/// The fields the self-looping block `b` (entered from `pred` only) carries in new
/// parameters, given `known`, the facts at the end of `pred`. The parameters and the
/// `goto`'s arguments are added here; the back edge's in [`close_carried`].
fn carry_fields(t: &mut Trace, subst: &Subst, known: &Known, pred: usize, b: usize) -> Vec<Carried> {
    let goto_ok = matches!(t.blocks[pred].insts.last().map(|i| &i.op), Some(Op::Goto(c)) if c.block.index() == b);
    let jump_ok = matches!(
        t.blocks[b].insts.last().map(|i| &i.op),
        Some(Op::Jump(leones_ir::JumpTarget::Block(j), _)) if j.index() == b
    );
    if !goto_ok || !jump_ok {
        return Vec::new();
    }
    // Per field: the one object the body stores it into (None: several, or a call may
    // write it), and the objects the body loads it from.
    let mut stored: HashMap<FieldId, Option<Value>> = HashMap::default();
    let mut loaded: HashSet<(Value, FieldId)> = HashSet::default();
    let resolve = |v: Value| subst.get(v);
    for inst in &t.blocks[b].insts {
        match &inst.op {
            Op::SetField(o, f, _) => {
                let o = resolve(*o);
                let e = stored.entry(*f).or_insert(Some(o));
                if *e != Some(o) {
                    *e = None;
                }
            }
            Op::GetField(o, f) => {
                loaded.insert((resolve(*o), *f));
            }
            Op::Call(c, _) => {
                let e = &t.call(*c).effects;
                for f in (0..t.fields.len()).map(FieldId::new).filter(|f| e.writes.has_field(*f)) {
                    stored.insert(f, None);
                }
            }
            _ => {}
        }
    }
    let mut carried: Vec<Carried> = known
        .fields
        .iter()
        .filter(|((o, f), _)| !t.field(*f).immutable && stored.get(f) == Some(&Some(*o)) && loaded.contains(&(*o, *f)))
        .map(|(&(obj, field), &entry)| Carried {
            obj,
            field,
            param: entry,
            entry,
        })
        .collect();
    carried.sort_by_key(|c| (c.obj, c.field));
    for c in &mut carried {
        c.param = t.new_value(t.field(c.field).ty);
        t.blocks[b].params.push(c.param);
        if let Some(Op::Goto(call)) = t.blocks[pred].insts.last_mut().map(|i| &mut i.op) {
            call.args.push(c.entry);
        }
    }
    carried
}

/// Adds the back edge's arguments for the fields block `b` carries (what the body
/// last stored); a parameter whose incoming values agree is replaced by its value.
fn close_carried(t: &mut Trace, w: &mut Walk, b: usize, carried: &[Carried]) {
    for c in carried {
        let back = match w.known.fields.get(&(c.obj, c.field)) {
            Some(&v) => v,
            None => {
                // Killed after all (cannot happen with the checks above, but the value
                // is still in memory): reload it before the back edge.
                let r = t.new_value(t.field(c.field).ty);
                let at = t.blocks[b].insts.len() - 1;
                t.blocks[b].insts.insert(
                    at,
                    Inst {
                        result: Some(r),
                        op: Op::GetField(c.obj, c.field),
                    },
                );
                r
            }
        };
        if let Some(Op::Jump(_, args)) = t.blocks[b].insts.last_mut().map(|i| &mut i.op) {
            args.push(back);
        }
        if back == c.param || w.same_value(back, c.entry) {
            drop_param(t, b, c.param);
            w.subst.set(c.param, c.entry);
        }
    }
}

/// Removes parameter `p` of self-looping block `b` and its argument on both edges.
fn drop_param(t: &mut Trace, b: usize, p: Value) {
    let Some(k) = t.blocks[b].params.iter().position(|&x| x == p) else {
        return;
    };
    t.blocks[b].params.remove(k);
    for blk in t.blocks.iter_mut() {
        if let Some(inst) = blk.insts.last_mut() {
            match &mut inst.op {
                Op::Goto(c) if c.block.index() == b => {
                    c.args.remove(k);
                }
                Op::Jump(leones_ir::JumpTarget::Block(j), args) if j.index() == b => {
                    args.remove(k);
                }
                _ => {}
            }
        }
    }
}
