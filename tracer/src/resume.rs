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
use leones_ir::{GuardId, MemType, Trace, Type};

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
/// [module docs](self).
pub fn resume(
    reg: &Registry,
    trace: &Trace,
    exit: &ExitState,
    host: &mut impl Materialize,
) -> Result<Resumed, ResumeError> {
    let addrs = exit
        .virtuals
        .iter()
        .map(|v| {
            let l = reg
                .layout_of(trace, v.layout)
                .ok_or(ResumeError::Unregistered("layout"))?;
            host.allocate(l).map_err(ResumeError::Host)
        })
        .collect::<Result<Vec<u64>, _>>()?;
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
            let field = reg.field_of(trace, *f).ok_or(ResumeError::Unregistered("field"))?;
            if let Some(x) = value(fv)? {
                host.set_field(*obj, field, x).map_err(ResumeError::Host)?;
            }
        }
    }
    let frames = exit
        .frames
        .iter()
        .map(|f| {
            Ok(ResumeFrame {
                frame: reg.frame_of(trace, f.frame).ok_or(ResumeError::Unregistered("frame"))?,
                pc: f.pc,
                slots: f.slots.iter().map(&value).collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<_, ResumeError>>()?;
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
        let (_, _, offset, ty) = self.registry.field_info(field).ok_or("unknown field")?;
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
