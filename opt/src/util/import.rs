//! Moving code between traces: every trace has its own descriptor tables (layouts,
//! fields, arrays, calls, frames), so an instruction copied from one trace into another
//! must have its descriptor ids translated. Descriptors are matched **by name** (fields
//! by layout name and field name); one the destination lacks is copied in. Two
//! descriptors with the same name but different definitions are an error: the traces
//! were recorded against different host worlds and must not be mixed.

use leones_ir::{ArrayId, CallId, FieldId, FrameId, GuardKind, LayoutId, Op, Snapshot, Trace};

/// How `src`'s descriptor ids read in the destination trace.
#[derive(Clone, Debug, Default)]
pub struct DescrMap {
    layouts: Vec<LayoutId>,
    fields: Vec<FieldId>,
    arrays: Vec<ArrayId>,
    calls: Vec<CallId>,
    frames: Vec<FrameId>,
}

/// Finds `item` (by `same_name`) in `table` or appends it; errors if the named entry
/// differs.
fn import_one<T: Clone + PartialEq>(
    table: &mut Vec<T>,
    item: &T,
    same_name: impl Fn(&T) -> bool,
    what: &str,
    name: &str,
) -> Result<usize, String> {
    match table.iter().position(same_name) {
        Some(i) if table[i] == *item => Ok(i),
        Some(_) => Err(format!("{what} `{name}` is defined differently in the two traces")),
        None => {
            table.push(item.clone());
            Ok(table.len() - 1)
        }
    }
}

impl DescrMap {
    /// Imports every descriptor of `src` into `dst`.
    pub fn import(src: &Trace, dst: &mut Trace) -> Result<DescrMap, String> {
        let mut m = DescrMap::default();
        for l in &src.layouts {
            let i = import_one(&mut dst.layouts, l, |x| x.name == l.name, "layout", &l.name)?;
            m.layouts.push(LayoutId::new(i));
        }
        for f in &src.fields {
            let mut f2 = f.clone();
            f2.layout = m.layouts[f.layout.index()];
            let name = format!("{}.{}", src.layout(f.layout).name, f.name);
            let i = import_one(
                &mut dst.fields,
                &f2,
                |x| x.layout == f2.layout && x.name == f2.name,
                "field",
                &name,
            )?;
            m.fields.push(FieldId::new(i));
        }
        for a in &src.arrays {
            let i = import_one(&mut dst.arrays, a, |x| x.name == a.name, "array", &a.name)?;
            m.arrays.push(ArrayId::new(i));
        }
        for c in &src.calls {
            let i = import_one(&mut dst.calls, c, |x| x.name == c.name, "call", &c.name)?;
            m.calls.push(CallId::new(i));
        }
        for fr in &src.frames {
            let i = import_one(&mut dst.frames, fr, |x| x.name == fr.name, "frame", &fr.name)?;
            m.frames.push(FrameId::new(i));
        }
        Ok(m)
    }

    /// The destination's id of `src`'s layout `l`.
    pub fn layout(&self, l: LayoutId) -> LayoutId {
        self.layouts[l.index()]
    }

    /// Rewrites the descriptor ids of `op` (not its values, not its snapshot).
    pub fn op(&self, op: &mut Op) {
        match op {
            Op::New(l) | Op::Guard(GuardKind::Class(_, l), _) => *l = self.layouts[l.index()],
            Op::GetField(_, f) | Op::SetField(_, f, _) => *f = self.fields[f.index()],
            Op::GetItem(a, ..) | Op::SetItem(a, ..) | Op::ArrayLen(a, _) => *a = self.arrays[a.index()],
            Op::Call(c, _) => *c = self.calls[c.index()],
            _ => {}
        }
    }

    /// Rewrites the descriptor ids of `snap` (frames, virtual layouts and fields).
    pub fn snapshot(&self, snap: &mut Snapshot) {
        for f in &mut snap.frames {
            f.frame = self.frames[f.frame.index()];
        }
        for vo in &mut snap.virtuals {
            vo.layout = self.layouts[vo.layout.index()];
            for (f, _) in &mut vo.fields {
                *f = self.fields[f.index()];
            }
        }
    }
}
