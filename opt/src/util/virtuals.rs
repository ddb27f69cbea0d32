//! Virtual objects: allocations escape analysis has removed, kept as abstract state —
//! a layout and the SSA values of the fields written so far — until they escape.
//!
//! A [`Virtuals`] is the state of one *path*: which objects are virtual there, and
//! which were materialized there and under what value (`real`). The value that named
//! a virtual object (its `new`'s result, or a block parameter) keeps naming it; every
//! use is rewritten through [`Virtuals::resolve`], so the same name can be virtual in
//! one arm of a diamond and materialized in the other.
//!
//! [`Virtuals::materialize`] emits the `new` and the `setfield`s where an object
//! escapes (recursively: fields that are themselves virtual are materialized first;
//! cycles end because an object counts as materialized before its fields are
//! written). [`Virtuals::encode_snapshot`] rewrites a guard's snapshot so that slots
//! and fields referring to virtual objects become snapshot virtuals `&k` with their
//! current field values, recursively, cycles included.

use super::{subst::Subst, ConstPool};
use leones_ir::FastHashMap as HashMap;
use leones_ir::{FieldId, Inst, LayoutId, Op, SlotValue, Snapshot, Trace, Type, Value, VirtualId, VirtualObject};

/// One virtual object.
#[derive(Clone, Debug)]
pub struct VObj {
    pub layout: LayoutId,
    /// Fields written so far, in first-write order (others are zero).
    pub fields: Vec<(FieldId, Value)>,
}

impl VObj {
    pub fn get(&self, f: FieldId) -> Option<Value> {
        self.fields.iter().find(|(g, _)| *g == f).map(|(_, v)| *v)
    }
    /// Field `f`'s value (after `subst`), or the zero constant when never written.
    pub fn read(&self, t: &mut Trace, pool: &mut ConstPool, subst: &Subst, f: FieldId) -> Value {
        match self.get(f) {
            Some(v) => subst.get(v),
            None => pool.get(t, leones_ir::Const::zero(t.field(f).ty)),
        }
    }
    pub fn set(&mut self, f: FieldId, v: Value) {
        match self.fields.iter_mut().find(|(g, _)| *g == f) {
            Some(slot) => slot.1 = v,
            None => self.fields.push((f, v)),
        }
    }
}

/// The virtual objects of one path, by the value that names them, and the objects
/// materialized on it (name → the `new` that made it real, or a join's parameter).
/// A name is in at most one of the two maps.
#[derive(Clone, Default, Debug)]
pub struct Virtuals {
    pub objs: HashMap<Value, VObj>,
    pub real: HashMap<Value, Value>,
}

impl Virtuals {
    pub fn is_virtual(&self, subst: &Subst, v: Value) -> bool {
        self.objs.contains_key(&subst.get(v))
    }

    /// What `v` is on this path as a real value: the materialized object for a name
    /// materialized here, `v` itself (after `subst`) otherwise.
    pub fn resolve(&self, subst: &Subst, v: Value) -> Value {
        let v = subst.get(v);
        self.real.get(&v).copied().unwrap_or(v)
    }

    /// Whether `v` names an object this path knows about (virtual or materialized).
    pub fn knows(&self, v: Value) -> bool {
        self.objs.contains_key(&v) || self.real.contains_key(&v)
    }

    /// Field `f` of virtual `o`: its value, or the zero constant.
    pub fn read(&self, t: &mut Trace, pool: &mut ConstPool, subst: &Subst, o: Value, f: FieldId) -> Value {
        self.objs[&o].read(t, pool, subst, f)
    }

    /// Makes `v` real if it is virtual, emitting into `out`; returns the real value.
    pub fn materialize(&mut self, t: &mut Trace, subst: &Subst, out: &mut Vec<Inst>, v: Value) -> Value {
        let v = subst.get(v);
        let Some(obj) = self.objs.remove(&v) else {
            return self.resolve(subst, v);
        };
        let m = t.new_value(Type::Ref);
        out.push(Inst {
            result: Some(m),
            op: Op::New(obj.layout),
        });
        self.real.insert(v, m);
        for (f, x) in obj.fields {
            let x = self.materialize(t, subst, out, x);
            out.push(Inst {
                result: None,
                op: Op::SetField(m, f, x),
            });
        }
        m
    }

    /// Whether [`Virtuals::encode_snapshot`] would change `snap` beyond the
    /// substitution (which the pass applies to every snapshot in the end): some value
    /// of it is virtual or materialized on this path.
    pub fn touches(&self, subst: &Subst, snap: &Snapshot) -> bool {
        if self.objs.is_empty() && self.real.is_empty() {
            return false;
        }
        let mut touched = false;
        snap.for_each_value(|v| {
            let v = subst.get(v);
            touched |= self.objs.contains_key(&v) || self.real.contains_key(&v);
        });
        touched
    }

    /// A copy of `snap` whose references to virtual objects are snapshot virtuals.
    pub fn encode_snapshot(&self, subst: &Subst, snap: &Snapshot) -> Snapshot {
        let mut enc = Encoder {
            v: self,
            subst,
            ids: HashMap::default(),
            out: snap.clone(),
            todo: Vec::new(),
        };
        for fi in 0..enc.out.frames.len() {
            for si in 0..enc.out.frames[fi].slots.len() {
                let s = enc.slot(enc.out.frames[fi].slots[si]);
                enc.out.frames[fi].slots[si] = s;
            }
        }
        for vi in 0..snap.virtuals.len() {
            for fi in 0..enc.out.virtuals[vi].fields.len() {
                let s = enc.slot(enc.out.virtuals[vi].fields[fi].1);
                enc.out.virtuals[vi].fields[fi].1 = s;
            }
        }
        while let Some((v, id)) = enc.todo.pop() {
            let obj = &self.objs[&v];
            let fields = obj
                .fields
                .iter()
                .map(|(f, x)| (*f, enc.slot(SlotValue::Value(*x))))
                .collect();
            enc.out.virtuals[id.index()] = VirtualObject {
                layout: obj.layout,
                fields,
            };
        }
        enc.out
    }
}

struct Encoder<'a> {
    v: &'a Virtuals,
    subst: &'a Subst,
    ids: HashMap<Value, VirtualId>,
    out: Snapshot,
    todo: Vec<(Value, VirtualId)>,
}

impl Encoder<'_> {
    fn slot(&mut self, s: SlotValue) -> SlotValue {
        let SlotValue::Value(v) = s else { return s };
        let v = self.subst.get(v);
        let Some(obj) = self.v.objs.get(&v) else {
            return SlotValue::Value(self.v.resolve(self.subst, v));
        };
        if let Some(id) = self.ids.get(&v) {
            return SlotValue::Virtual(*id);
        }
        let id = VirtualId::new(self.out.virtuals.len());
        self.out.virtuals.push(VirtualObject {
            layout: obj.layout,
            fields: Vec::new(),
        });
        self.ids.insert(v, id);
        self.todo.push((v, id));
        SlotValue::Virtual(id)
    }
}

/// All fields of a layout, in table order.
pub fn layout_fields(t: &Trace, l: LayoutId) -> Vec<FieldId> {
    (0..t.fields.len())
        .map(FieldId::new)
        .filter(|f| t.field(*f).layout == l)
        .collect()
}
