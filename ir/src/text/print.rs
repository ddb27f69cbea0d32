//! The printer: [`Trace`] → canonical text.
//!
//! Values are renumbered in definition order (block parameters, then instruction
//! results, block by block), so two traces that differ only in value numbering print
//! the same. That makes the printed form canonical: `print(parse(print(t))) ==
//! print(t)` for every valid trace, and filetests can compare passes' output exactly.
//!
//! The printer never panics, even on an invalid trace: an id outside its table prints
//! as `?name` so that verifier messages can still show the offending op.

use crate::descr::{EffectInfo, HeapSet};
use crate::entity::{ArrayId, Block, CallId, FieldId, FrameId, LayoutId, TargetId, Value};
use crate::op::{BlockCall, GuardKind, Inst, JumpTarget, Op};
use crate::snapshot::{SlotValue, Snapshot};
use crate::trace::Trace;
use std::fmt::Write;

/// Prints a whole trace in the text format.
///
/// ```
/// let text = "trace t\n\nblock0(v0: i64):\n    v1 = iadd v0, v0\n    finish v1\n";
/// let trace = leones_ir::parse(text).unwrap();
/// assert_eq!(leones_ir::print(&trace), text);
/// ```
pub fn print(trace: &Trace) -> String {
    Printer::new(trace).trace()
}

/// Prints one instruction of `trace` (with canonical value names), e.g. for messages.
pub fn print_inst(trace: &Trace, inst: &Inst) -> String {
    let p = Printer::new(trace);
    let mut s = String::new();
    p.inst(&mut s, inst);
    s
}

/// The canonical name (`v3`) of every value id, as [`print`] would write it; ids that
/// no block parameter or instruction defines get `?v<id>`.
pub fn canonical_value_names(trace: &Trace) -> Vec<String> {
    let p = Printer::new(trace);
    (0..trace.value_types.len()).map(|i| p.value(Value::new(i))).collect()
}

struct Printer<'t> {
    t: &'t Trace,
    /// Canonical number of each value id, if defined.
    names: Vec<Option<u32>>,
}

impl<'t> Printer<'t> {
    fn new(t: &'t Trace) -> Self {
        let mut names = vec![None; t.value_types.len()];
        let mut next = 0u32;
        let mut define = |v: Value| {
            if let Some(slot) = names.get_mut(v.index()) {
                if slot.is_none() {
                    *slot = Some(next);
                    next += 1;
                }
            }
        };
        for b in &t.blocks {
            b.params.iter().copied().for_each(&mut define);
            b.insts.iter().filter_map(|i| i.result).for_each(&mut define);
        }
        Printer { t, names }
    }

    fn trace(&self) -> String {
        let t = self.t;
        let mut s = String::new();
        let _ = writeln!(s, "trace {}", t.name);
        for l in &t.layouts {
            let _ = write!(s, "layout {} size {}", l.name, l.size);
            if let Some(c) = l.class {
                let _ = write!(s, " class 0x{c:x}");
            }
            s.push('\n');
        }
        for f in &t.fields {
            let _ = write!(s, "field {}.{}: {} @{}", self.layout(f.layout), f.name, f.ty, f.offset);
            if f.immutable {
                s.push_str(" immutable");
            }
            s.push('\n');
        }
        for a in &t.arrays {
            let _ = writeln!(
                s,
                "array {}: {} len @{} items @{}",
                a.name, a.elem, a.len_offset, a.items_offset
            );
        }
        for c in &t.calls {
            let params: Vec<_> = c.params.iter().map(|p| p.name()).collect();
            let _ = write!(s, "call {}({})", c.name, params.join(", "));
            if let Some(r) = c.ret {
                let _ = write!(s, " -> {r}");
            }
            if c.addr != 0 {
                let _ = write!(s, " addr 0x{:x}", c.addr);
            }
            if !c.effects.is_opaque() {
                let _ = write!(s, " effects({})", self.effects(&c.effects));
            }
            s.push('\n');
        }
        for f in &t.frames {
            let _ = writeln!(s, "frame {} code 0x{:x} slots {}", f.name, f.code, f.slots);
        }
        for g in &t.targets {
            let params: Vec<_> = g.params.iter().map(|p| p.name()).collect();
            let _ = writeln!(s, "target {}({})", g.name, params.join(", "));
        }
        for (b, block) in t.blocks.iter().enumerate() {
            s.push('\n');
            let params: Vec<_> = block
                .params
                .iter()
                .map(|&v| format!("{}: {}", self.value(v), self.ty(v)))
                .collect();
            let _ = writeln!(s, "block{b}({}):", params.join(", "));
            for inst in &block.insts {
                s.push_str("    ");
                self.inst(&mut s, inst);
                s.push('\n');
            }
        }
        s
    }

    fn effects(&self, e: &EffectInfo) -> String {
        let mut items = Vec::new();
        if e.pure {
            items.push("pure".to_string());
        }
        for (label, set) in [("reads", &e.reads), ("writes", &e.writes)] {
            match set {
                HeapSet::None => {}
                HeapSet::Any => items.push(format!("{label}=any")),
                HeapSet::Some { fields, arrays } => {
                    let names: Vec<_> = fields
                        .iter()
                        .map(|&f| self.field(f))
                        .chain(arrays.iter().map(|&a| self.array(a)))
                        .collect();
                    items.push(format!("{label}=[{}]", names.join(", ")));
                }
            }
        }
        for (flag, name) in [(e.may_raise, "raise"), (e.may_force, "force"), (e.may_alloc, "alloc")] {
            if flag {
                items.push(name.to_string());
            }
        }
        items.join(", ")
    }

    fn value(&self, v: Value) -> String {
        match self.names.get(v.index()).copied().flatten() {
            Some(n) => format!("v{n}"),
            None => format!("?v{}", v.0),
        }
    }
    fn ty(&self, v: Value) -> &'static str {
        self.t.value_types.get(v.index()).map_or("?", |t| t.name())
    }
    fn values(&self, vs: &[Value]) -> String {
        vs.iter().map(|&v| self.value(v)).collect::<Vec<_>>().join(", ")
    }
    fn layout(&self, id: LayoutId) -> String {
        self.t
            .layouts
            .get(id.index())
            .map_or(format!("?{id}"), |l| l.name.clone())
    }
    fn field(&self, id: FieldId) -> String {
        match self.t.fields.get(id.index()) {
            Some(f) => format!("{}.{}", self.layout(f.layout), f.name),
            None => format!("?{id}"),
        }
    }
    fn field_short(&self, id: FieldId) -> String {
        self.t
            .fields
            .get(id.index())
            .map_or(format!("?{id}"), |f| f.name.clone())
    }
    fn array(&self, id: ArrayId) -> String {
        self.t
            .arrays
            .get(id.index())
            .map_or(format!("?{id}"), |a| a.name.clone())
    }
    fn call(&self, id: CallId) -> String {
        self.t
            .calls
            .get(id.index())
            .map_or(format!("?{id}"), |c| c.name.clone())
    }
    fn frame(&self, id: FrameId) -> String {
        self.t
            .frames
            .get(id.index())
            .map_or(format!("?{id}"), |f| f.name.clone())
    }
    fn target(&self, id: TargetId) -> String {
        self.t
            .targets
            .get(id.index())
            .map_or(format!("?{id}"), |g| g.name.clone())
    }
    fn block_call(&self, bc: &BlockCall) -> String {
        format!("{}({})", bc.block, self.values(&bc.args))
    }

    fn inst(&self, s: &mut String, inst: &Inst) {
        if let Some(r) = inst.result {
            let _ = write!(s, "{} = ", self.value(r));
        }
        let v = |x: Value| self.value(x);
        let _ = match &inst.op {
            Op::Const(k) => write!(s, "const {k}"),
            Op::Unary(op, a) => write!(s, "{} {}", op.name(), v(*a)),
            Op::Binary(op, a, b) => write!(s, "{} {}, {}", op.name(), v(*a), v(*b)),
            Op::Select {
                cond,
                if_true,
                if_false,
                unpredictable,
            } => {
                let m = if *unpredictable {
                    "select.unpredictable"
                } else {
                    "select"
                };
                write!(s, "{m} {}, {}, {}", v(*cond), v(*if_true), v(*if_false))
            }
            Op::New(l) => write!(s, "new {}", self.layout(*l)),
            Op::GetField(o, f) => write!(s, "getfield {}, {}", v(*o), self.field(*f)),
            Op::SetField(o, f, x) => write!(s, "setfield {}, {}, {}", v(*o), self.field(*f), v(*x)),
            Op::GetItem(a, arr, i) => write!(s, "getitem {}, {}, {}", self.array(*a), v(*arr), v(*i)),
            Op::SetItem(a, arr, i, x) => {
                write!(s, "setitem {}, {}, {}, {}", self.array(*a), v(*arr), v(*i), v(*x))
            }
            Op::ArrayLen(a, arr) => write!(s, "arraylen {}, {}", self.array(*a), v(*arr)),
            Op::Load(m, p, off) => write!(s, "load.{} {}, {off}", m.name(), v(*p)),
            Op::Store(m, p, off, x) => write!(s, "store.{} {}, {off}, {}", m.store_name(), v(*p), v(*x)),
            Op::Call(c, args) => write!(s, "call {}({})", self.call(*c), self.values(args)),
            Op::Guard(kind, snap) => {
                let _ = write!(s, "{}", kind.name());
                let _ = match kind {
                    GuardKind::Value(x, k) => write!(s, " {}, {k}", v(*x)),
                    GuardKind::Class(x, l) => write!(s, " {}, {}", v(*x), self.layout(*l)),
                    _ => match kind.operand() {
                        Some(x) => write!(s, " {}", v(x)),
                        None => Ok(()),
                    },
                };
                match self.t.snapshots.get(snap.index()) {
                    Some(sn) => self.snapshot(s, sn),
                    None => {
                        let _ = write!(s, " ?{snap}");
                    }
                }
                Ok(())
            }
            Op::MergePoint(snap) => {
                let _ = write!(s, "merge_point");
                match self.t.snapshots.get(snap.index()) {
                    Some(sn) => self.snapshot(s, sn),
                    None => {
                        let _ = write!(s, " ?{snap}");
                    }
                }
                Ok(())
            }
            Op::Jump(JumpTarget::Block(b), args) => write!(s, "jump {b}({})", self.values(args)),
            Op::Jump(JumpTarget::Unit(t), args) => write!(s, "jump @{}({})", self.target(*t), self.values(args)),
            Op::Goto(bc) => write!(s, "goto {}", self.block_call(bc)),
            Op::Br {
                cond,
                then_,
                else_,
                weights,
            } => {
                let _ = write!(
                    s,
                    "br {}, {}, {}",
                    v(*cond),
                    self.block_call(then_),
                    self.block_call(else_)
                );
                match weights {
                    Some((a, b)) => write!(s, " weights({a}, {b})"),
                    None => Ok(()),
                }
            }
            Op::Finish(args) if args.is_empty() => write!(s, "finish"),
            Op::Finish(args) => write!(s, "finish {}", self.values(args)),
        };
    }

    fn slot(&self, sv: &SlotValue) -> String {
        match sv {
            SlotValue::Value(x) => self.value(*x),
            SlotValue::Const(k) => k.to_string(),
            SlotValue::Virtual(id) => id.to_string(),
            SlotValue::Dead => "_".to_string(),
        }
    }

    fn snapshot(&self, s: &mut String, sn: &Snapshot) {
        let frames: Vec<_> = sn
            .frames
            .iter()
            .map(|fr| {
                let slots: Vec<_> = fr.slots.iter().map(|x| self.slot(x)).collect();
                format!("{}@{}({})", self.frame(fr.frame), fr.pc, slots.join(", "))
            })
            .collect();
        let _ = write!(s, " [{}]", frames.join(", "));
        if !sn.virtuals.is_empty() {
            let virts: Vec<_> = sn
                .virtuals
                .iter()
                .enumerate()
                .map(|(i, vo)| {
                    let fields: Vec<_> = vo
                        .fields
                        .iter()
                        .map(|(f, x)| format!("{}: {}", self.field_short(*f), self.slot(x)))
                        .collect();
                    format!("&{i} = {}{{{}}}", self.layout(vo.layout), fields.join(", "))
                })
                .collect();
            let _ = write!(s, " {{{}}}", virts.join(", "));
        }
    }
}

/// Prints a block id as used in text (`block3`).
pub fn block_name(b: Block) -> String {
    b.to_string()
}
