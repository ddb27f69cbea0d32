//! # The descriptor registry: what the host tells Leones once
//!
//! A host describes its world once, up front or as classes appear: object layouts and
//! their fields, array shapes, the functions a trace may call (with their
//! [`EffectInfo`]) and the kinds of frames a snapshot rebuilds. Each registration
//! returns a small handle ([`LayoutRef`], [`FieldRef`], ...) that the host keeps and
//! passes to the [`Recorder`](crate::Recorder). The recorder *interns* the descriptors
//! a trace actually uses into that trace's own tables (so a trace stays
//! self-contained and prints only what it uses), and [`resume`](crate::resume) maps
//! trace descriptors back to handles by name.
//!
//! Invariants: names are unique per kind (fields per layout) and are text-format
//! identifiers; registering the very same descriptor twice returns the same handle,
//! registering a different one under a taken name is an error. Handles are only
//! meaningful for the registry that issued them.
//!
//! The registry is a cheap-to-clone shared handle (`Arc`), so the host may keep
//! registering while a recording holds a clone.
//!
//! A call's [`EffectInfo`] names fields and arrays by handle: build its sets with
//! [`Registry::heap_set`].

use leones_ir::descr::{ArrayDescr, CallDescr, EffectInfo, FieldDescr, FrameDescr, HeapSet, Layout};
use leones_ir::{ArrayId, FieldId, FrameId, LayoutId, Trace, Type};
use std::sync::{Arc, RwLock, RwLockReadGuard};

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u32);
        impl $name {
            fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

handle!(
    /// A registered object layout.
    LayoutRef);
handle!(
    /// A registered field.
    FieldRef);
handle!(
    /// A registered array shape.
    ArrayRef);
handle!(
    /// A registered host function.
    CallRef);
handle!(
    /// A registered kind of host frame.
    FrameRef);

/// A registration the registry refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("`{0}` is not an identifier ([A-Za-z_][A-Za-z0-9_]*)")]
    BadName(String),
    #[error("a different {kind} named `{name}` is already registered")]
    Duplicate { kind: &'static str, name: String },
    #[error("field `{name}` at {offset} does not fit its layout: {why}")]
    BadField {
        name: String,
        offset: u32,
        why: &'static str,
    },
    #[error("{0}")]
    Bad(String),
}

/// The tables, in registry numbering (field layouts and effect sets use registry ids).
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) layouts: Vec<Layout>,
    pub(crate) fields: Vec<FieldDescr>,
    pub(crate) arrays: Vec<ArrayDescr>,
    pub(crate) calls: Vec<CallDescr>,
    pub(crate) frames: Vec<FrameDescr>,
}

/// The host's descriptors; see the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct Registry {
    inner: Arc<RwLock<Tables>>,
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Registers `item` in `table` unless an equal one with the same key exists.
fn intern<T: PartialEq>(
    table: &mut Vec<T>,
    item: T,
    same_key: impl Fn(&T) -> bool,
    kind: &'static str,
    name: &str,
) -> Result<u32, RegistryError> {
    if !is_ident(name) {
        return Err(RegistryError::BadName(name.to_string()));
    }
    match table.iter().position(same_key) {
        Some(i) if table[i] == item => Ok(i as u32),
        Some(_) => Err(RegistryError::Duplicate {
            kind,
            name: name.to_string(),
        }),
        None => {
            table.push(item);
            Ok(table.len() as u32 - 1)
        }
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write<R>(&self, f: impl FnOnce(&mut Tables) -> R) -> R {
        f(&mut self.inner.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// Registers an object layout of `size` bytes; with `class`, objects carry that
    /// class word at offset 0.
    pub fn layout(&self, name: &str, size: u32, class: Option<u64>) -> Result<LayoutRef, RegistryError> {
        let item = Layout {
            name: name.to_string(),
            size,
            class,
        };
        self.write(|t| intern(&mut t.layouts, item, |l| l.name == name, "layout", name))
            .map(LayoutRef)
    }

    /// Registers field `name` of `layout` at byte `offset`.
    pub fn field(
        &self,
        layout: LayoutRef,
        name: &str,
        offset: u32,
        ty: Type,
        immutable: bool,
    ) -> Result<FieldRef, RegistryError> {
        self.write(|t| {
            let l = t
                .layouts
                .get(layout.index())
                .ok_or_else(|| RegistryError::Bad("unknown layout handle".into()))?;
            let bad = |why| {
                Err(RegistryError::BadField {
                    name: name.to_string(),
                    offset,
                    why,
                })
            };
            if l.class.is_some() && offset < 8 {
                return bad("it overlaps the class word");
            }
            if u64::from(offset) + u64::from(ty.mem_size()) > u64::from(l.size) {
                return bad("it extends past the layout's size");
            }
            let lid = LayoutId::new(layout.index());
            let item = FieldDescr {
                layout: lid,
                name: name.to_string(),
                offset,
                ty,
                immutable,
            };
            intern(
                &mut t.fields,
                item,
                |f| f.layout == lid && f.name == name,
                "field",
                name,
            )
        })
        .map(FieldRef)
    }

    /// Registers an array shape: an `i64` length word at `len_offset`, items of `elem`
    /// from `items_offset`.
    pub fn array(&self, name: &str, elem: Type, len_offset: u32, items_offset: u32) -> Result<ArrayRef, RegistryError> {
        let item = ArrayDescr {
            name: name.to_string(),
            elem,
            len_offset,
            items_offset,
        };
        self.write(|t| intern(&mut t.arrays, item, |a| a.name == name, "array", name))
            .map(ArrayRef)
    }

    /// The effect set of these fields and arrays, for a call's [`EffectInfo`].
    pub fn heap_set(fields: &[FieldRef], arrays: &[ArrayRef]) -> HeapSet {
        HeapSet::of(
            fields.iter().map(|f| FieldId::new(f.index())).collect(),
            arrays.iter().map(|a| ArrayId::new(a.index())).collect(),
        )
    }

    /// Registers a host function. `addr` is its `extern "C"` address (0 for functions
    /// only the reference interpreter calls, by name); `effects` names fields and
    /// arrays through [`Registry::heap_set`].
    pub fn call(
        &self,
        name: &str,
        addr: u64,
        params: &[Type],
        ret: Option<Type>,
        effects: EffectInfo,
    ) -> Result<CallRef, RegistryError> {
        self.write(|t| {
            let ok = |s: &HeapSet| match s {
                HeapSet::Some { fields, arrays } => {
                    fields.iter().all(|f| f.index() < t.fields.len())
                        && arrays.iter().all(|a| a.index() < t.arrays.len())
                }
                _ => true,
            };
            if !ok(&effects.reads) || !ok(&effects.writes) {
                return Err(RegistryError::Bad(format!(
                    "call `{name}`: an effect names an unknown handle"
                )));
            }
            let item = CallDescr {
                name: name.to_string(),
                addr,
                params: params.to_vec(),
                ret,
                effects,
            };
            intern(&mut t.calls, item, |c| c.name == name, "call", name)
        })
        .map(CallRef)
    }

    /// Registers a kind of host frame with `slots` slots; `code` is the host's id for
    /// the code it runs.
    pub fn frame(&self, name: &str, code: u64, slots: u32) -> Result<FrameRef, RegistryError> {
        let item = FrameDescr {
            name: name.to_string(),
            code,
            slots,
        };
        self.write(|t| intern(&mut t.frames, item, |f| f.name == name, "frame", name))
            .map(FrameRef)
    }

    /// A copy of a registered layout.
    pub fn layout_descr(&self, r: LayoutRef) -> Option<Layout> {
        self.read().layouts.get(r.index()).cloned()
    }
    /// A registered field's byte offset and type: what storing into it needs (no
    /// name copied — materializing a virtual object stores every field).
    pub fn field_slot(&self, r: FieldRef) -> Option<(u32, Type)> {
        self.read().fields.get(r.index()).map(|f| (f.offset, f.ty))
    }
    /// A registered field's (layout, name, offset, type).
    pub fn field_info(&self, r: FieldRef) -> Option<(LayoutRef, String, u32, Type)> {
        let t = self.read();
        let f = t.fields.get(r.index())?;
        Some((LayoutRef(f.layout.0), f.name.clone(), f.offset, f.ty))
    }
    /// A copy of a registered array shape.
    pub fn array_descr(&self, r: ArrayRef) -> Option<ArrayDescr> {
        self.read().arrays.get(r.index()).cloned()
    }
    /// A registered frame kind's slot count.
    pub fn frame_slots(&self, r: FrameRef) -> Option<u32> {
        self.read().frames.get(r.index()).map(|f| f.slots)
    }

    /// The handle of `trace`'s layout `id` (descriptors are matched by name).
    pub fn layout_of(&self, trace: &Trace, id: LayoutId) -> Option<LayoutRef> {
        let name = &trace.layouts.get(id.index())?.name;
        let p = self.read().layouts.iter().position(|l| &l.name == name)?;
        Some(LayoutRef(p as u32))
    }
    /// The handle of `trace`'s field `id`.
    pub fn field_of(&self, trace: &Trace, id: FieldId) -> Option<FieldRef> {
        let f = trace.fields.get(id.index())?;
        let layout = self.layout_of(trace, f.layout)?;
        let lid = LayoutId::new(layout.index());
        let p = self
            .read()
            .fields
            .iter()
            .position(|g| g.layout == lid && g.name == f.name)?;
        Some(FieldRef(p as u32))
    }
    /// The handle of `trace`'s frame kind `id`.
    pub fn frame_of(&self, trace: &Trace, id: FrameId) -> Option<FrameRef> {
        let name = &trace.frames.get(id.index())?.name;
        let p = self.read().frames.iter().position(|f| &f.name == name)?;
        Some(FrameRef(p as u32))
    }
}

/// Maps registry handles to a trace's own descriptor ids, copying each descriptor into
/// the trace the first time it is used.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    layouts: Vec<Option<LayoutId>>,
    fields: Vec<Option<FieldId>>,
    arrays: Vec<Option<ArrayId>>,
    calls: Vec<Option<leones_ir::CallId>>,
    frames: Vec<Option<FrameId>>,
}

/// Looks `idx` up in `map`, or pushes `make()` onto `table` and remembers its index.
fn memo<Id: Copy, T>(
    map: &mut Vec<Option<Id>>,
    idx: usize,
    table: &mut Vec<T>,
    new_id: fn(usize) -> Id,
    make: impl FnOnce() -> T,
) -> Id {
    if map.len() <= idx {
        map.resize(idx + 1, None);
    }
    if let Some(id) = map[idx] {
        return id;
    }
    let item = make();
    table.push(item);
    let id = new_id(table.len() - 1);
    map[idx] = Some(id);
    id
}

/// A handle the registry did not issue.
pub(crate) fn unknown(what: &str) -> crate::Abort {
    crate::Abort::Invalid(format!("unknown {what} handle (not from this registry)"))
}

impl Interner {
    pub(crate) fn layout(&mut self, t: &Tables, trace: &mut Trace, r: LayoutRef) -> Result<LayoutId, crate::Abort> {
        let l = t.layouts.get(r.index()).ok_or_else(|| unknown("layout"))?;
        Ok(memo(
            &mut self.layouts,
            r.index(),
            &mut trace.layouts,
            LayoutId::new,
            || l.clone(),
        ))
    }

    pub(crate) fn field(&mut self, t: &Tables, trace: &mut Trace, r: FieldRef) -> Result<FieldId, crate::Abort> {
        let f = t.fields.get(r.index()).ok_or_else(|| unknown("field"))?;
        let layout = self.layout(t, trace, LayoutRef(f.layout.0))?;
        Ok(memo(
            &mut self.fields,
            r.index(),
            &mut trace.fields,
            FieldId::new,
            || FieldDescr { layout, ..f.clone() },
        ))
    }

    pub(crate) fn array(&mut self, t: &Tables, trace: &mut Trace, r: ArrayRef) -> Result<ArrayId, crate::Abort> {
        let a = t.arrays.get(r.index()).ok_or_else(|| unknown("array"))?;
        Ok(memo(
            &mut self.arrays,
            r.index(),
            &mut trace.arrays,
            ArrayId::new,
            || a.clone(),
        ))
    }

    pub(crate) fn frame(&mut self, t: &Tables, trace: &mut Trace, r: FrameRef) -> Result<FrameId, crate::Abort> {
        let f = t.frames.get(r.index()).ok_or_else(|| unknown("frame"))?;
        Ok(memo(
            &mut self.frames,
            r.index(),
            &mut trace.frames,
            FrameId::new,
            || f.clone(),
        ))
    }

    fn heap_set(&mut self, t: &Tables, trace: &mut Trace, s: &HeapSet) -> Result<HeapSet, crate::Abort> {
        Ok(match s {
            HeapSet::Some { fields, arrays } => {
                let fs = fields
                    .iter()
                    .map(|f| self.field(t, trace, FieldRef(f.0)))
                    .collect::<Result<_, _>>()?;
                let arrs = arrays
                    .iter()
                    .map(|a| self.array(t, trace, ArrayRef(a.0)))
                    .collect::<Result<_, _>>()?;
                HeapSet::of(fs, arrs)
            }
            other => other.clone(),
        })
    }

    pub(crate) fn call(
        &mut self,
        t: &Tables,
        trace: &mut Trace,
        r: CallRef,
    ) -> Result<leones_ir::CallId, crate::Abort> {
        let c = t.calls.get(r.index()).ok_or_else(|| unknown("call"))?;
        if let Some(Some(id)) = self.calls.get(r.index()) {
            return Ok(*id);
        }
        let reads = self.heap_set(t, trace, &c.effects.reads)?;
        let writes = self.heap_set(t, trace, &c.effects.writes)?;
        let effects = EffectInfo {
            reads,
            writes,
            ..c.effects.clone()
        };
        Ok(memo(
            &mut self.calls,
            r.index(),
            &mut trace.calls,
            leones_ir::CallId::new,
            || CallDescr { effects, ..c.clone() },
        ))
    }
}
