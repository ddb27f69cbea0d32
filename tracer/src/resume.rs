//! # Resume: from a side exit back to the host interpreter
//!
//! When a guard fails, compiled code (or the reference interpreter standing in for it)
//! hands over an [`ExitState`]: the frames to rebuild, each slot an actual value, a
//! virtual object or dead, and the virtual objects — allocations the optimizer removed —
//! with their field values, which may refer to each other, cycles included. [`resume`]
//! turns that into host terms through the [`Materialize`] callbacks, so a host never
//! reads the IR:
//!
//! 1. **allocate** every virtual object ([`Materialize::allocate`]) — all of them first,
//!    so that a field can point at any of them, whatever the order or cycles;
//! 2. **fill** their fields ([`Materialize::set_field`]), virtual references replaced
//!    by the new objects' addresses;
//! 3. hand back the frames, outermost first: the host's [`FrameRef`], the pc to resume
//!    at and each slot's value (`None` = dead; the host must not read it).
//!
//! ```text
//! exit: [main@7(v3, &0)] {&0 = Node{next: &1}, &1 = Node{next: &0}}
//!   allocate Node -> a, allocate Node -> b
//!   a.next = b, b.next = a
//!   frames: main@7 [Some(v3's value), Some(Ref(a))]
//! ```
//!
//! [`HeapMaterializer`] implements the callbacks on the reference interpreter's
//! [`Heap`], for tests and for hosts that keep their objects there.

use crate::recorder::{Shape, ShapeFrame};
use crate::registry::{FieldRef, FrameRef, LayoutRef, Registry};
use leones_ir::interp::{ExitState, ExitValue, Heap, Val};
use leones_ir::{FieldId, FrameId, GuardId, LayoutId, MemType, Trace, Type};

/// What the host does to materialize virtual objects.
pub trait Materialize {
    /// Allocates a zeroed object of `layout` (class word set, if it has one) and
    /// returns its address.
    fn allocate(&mut self, layout: LayoutRef) -> Result<u64, String>;
    /// Stores `value` in field `field` of the object at `obj`.
    fn set_field(&mut self, obj: u64, field: FieldRef, value: Val) -> Result<(), String>;
}

/// Why an exit could not be resumed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("the exit names a {0} that is not registered")]
    Unregistered(&'static str),
    #[error("the exit refers to virtual &{0}, which it does not have")]
    BadVirtual(usize),
    #[error("the host could not materialize an object: {0}")]
    Host(String),
}

/// A host frame to resume.
#[derive(Clone, Debug, PartialEq)]
pub struct ResumeFrame {
    pub frame: FrameRef,
    pub pc: u32,
    /// Slot values; `None` is dead.
    pub slots: Vec<Option<Val>>,
}

/// The host state at an exit, in host terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Resumed {
    /// The guard that failed (for side-exit counting).
    pub guard: GuardId,
    /// Frames, outermost first; the host continues in the last one.
    pub frames: Vec<ResumeFrame>,
    /// A host call raised and its exception is still pending.
    pub exception_pending: bool,
}

impl Resumed {
    /// The shape of this state (to start a bridge recording from it) and its live
    /// values, which are the bridge's inputs.
    pub fn shape(&self) -> (Shape, Vec<Val>) {
        let frames = self
            .frames
            .iter()
            .map(|f| ShapeFrame::of(f.frame, f.pc, &f.slots))
            .collect();
        let inputs = self
            .frames
            .iter()
            .flat_map(|f| f.slots.iter().flatten().copied())
            .collect();
        (Shape { frames }, inputs)
    }
}

/// Rebuilds the host state of `exit`, a guard failure of `trace`; see the
/// [module docs](self). Resolves the trace's descriptors by name on the way: an
/// engine that resumes many exits of one trace builds a [`ResumeMap`] once and calls
/// [`resume_mapped`].
pub fn resume(
    reg: &Registry,
    trace: &Trace,
    exit: &ExitState,
    host: &mut impl Materialize,
) -> Result<Resumed, ResumeError> {
    resume_mapped(&ResumeMap::new(reg, trace), exit, host)
}

/// A trace's layout, field and frame descriptors resolved to registry handles, once.
/// Registry handles are looked up by name (a trace carries copies of its
/// descriptors), which costs a search per virtual object, field and frame — on every
/// exit, if done there. A descriptor the registry does not know maps to `None`, and
/// resuming an exit that uses it fails with [`ResumeError::Unregistered`].
///
/// ```
/// use leones_tracer::{Registry, ResumeMap};
/// let reg = Registry::new();
/// let main = reg.frame("main", 0x1, 2).unwrap();
/// let t = leones_ir::parse("trace t\nframe main code 0x1 slots 2\n\nblock0(v0: i64):\n    finish\n").unwrap();
/// let map = ResumeMap::new(&reg, &t);
/// assert_eq!(map.frame(leones_ir::FrameId::new(0)), Some(main));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ResumeMap {
    layouts: Vec<Option<LayoutRef>>,
    fields: Vec<Option<FieldRef>>,
    frames: Vec<Option<FrameRef>>,
}

impl ResumeMap {
    /// Resolves every descriptor of `trace` in `reg`.
    pub fn new(reg: &Registry, trace: &Trace) -> ResumeMap {
        ResumeMap {
            layouts: (0..trace.layouts.len())
                .map(|i| reg.layout_of(trace, LayoutId::new(i)))
                .collect(),
            fields: (0..trace.fields.len())
                .map(|i| reg.field_of(trace, FieldId::new(i)))
                .collect(),
            frames: (0..trace.frames.len())
                .map(|i| reg.frame_of(trace, FrameId::new(i)))
                .collect(),
        }
    }

    /// The registry handle of the trace's layout `id`.
    pub fn layout(&self, id: LayoutId) -> Option<LayoutRef> {
        self.layouts.get(id.index()).copied().flatten()
    }

    /// The registry handle of the trace's field `id`.
    pub fn field(&self, id: FieldId) -> Option<FieldRef> {
        self.fields.get(id.index()).copied().flatten()
    }

    /// The registry handle of the trace's frame kind `id`.
    pub fn frame(&self, id: FrameId) -> Option<FrameRef> {
        self.frames.get(id.index()).copied().flatten()
    }
}

/// [`resume`] with the trace's descriptors already resolved in `map`.
pub fn resume_mapped(map: &ResumeMap, exit: &ExitState, host: &mut impl Materialize) -> Result<Resumed, ResumeError> {
    let mut addrs = Vec::with_capacity(exit.virtuals.len());
    for v in &exit.virtuals {
        let l = map.layout(v.layout).ok_or(ResumeError::Unregistered("layout"))?;
        addrs.push(host.allocate(l).map_err(ResumeError::Host)?);
    }
    let value = |v: &ExitValue| -> Result<Option<Val>, ResumeError> {
        Ok(match *v {
            ExitValue::Val(x) => Some(x),
            ExitValue::Virtual(id) => Some(Val::Ref(
                *addrs.get(id.index()).ok_or(ResumeError::BadVirtual(id.index()))?,
            )),
            ExitValue::Dead => None,
        })
    };
    for (obj, v) in addrs.iter().zip(&exit.virtuals) {
        for (f, fv) in &v.fields {
            let field = map.field(*f).ok_or(ResumeError::Unregistered("field"))?;
            if let Some(x) = value(fv)? {
                host.set_field(*obj, field, x).map_err(ResumeError::Host)?;
            }
        }
    }
    // Plain loops into vectors of known size: collecting `Result`s would grow them
    // by reallocation, and this runs on every exit.
    let mut frames = Vec::with_capacity(exit.frames.len());
    for f in &exit.frames {
        let mut slots = Vec::with_capacity(f.slots.len());
        for v in &f.slots {
            slots.push(value(v)?);
        }
        frames.push(ResumeFrame {
            frame: map.frame(f.frame).ok_or(ResumeError::Unregistered("frame"))?,
            pc: f.pc,
            slots,
        });
    }
    Ok(Resumed {
        guard: exit.guard,
        frames,
        exception_pending: exit.exception_pending,
    })
}

/// [`Materialize`] on the reference interpreter's [`Heap`].
#[derive(Debug)]
pub struct HeapMaterializer<'a> {
    pub registry: &'a Registry,
    pub heap: &'a mut Heap,
}

impl Materialize for HeapMaterializer<'_> {
    fn allocate(&mut self, layout: LayoutRef) -> Result<u64, String> {
        let l = self.registry.layout_descr(layout).ok_or("unknown layout")?;
        Ok(self.heap.alloc_object(&l))
    }

    fn set_field(&mut self, obj: u64, field: FieldRef, value: Val) -> Result<(), String> {
        let (offset, ty) = self.registry.field_slot(field).ok_or("unknown field")?;
        let mt = match ty {
            Type::I64 => MemType::I64,
            Type::F64 => MemType::F64,
            Type::Bool => MemType::Bool,
            Type::Ref => MemType::Ref,
            Type::Ptr => MemType::Ptr,
        };
        self.heap
            .store(obj + u64::from(offset), mt, value)
            .map_err(|e| e.to_string())
    }
}
