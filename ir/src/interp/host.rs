//! Host calls: how `call` reaches the outside world.
//!
//! The interpreter finds host functions through a [`HostCalls`] implementation, by the
//! [`CallDescr`] of the call (the reference interpreter never calls through `addr`).
//! [`FnTable`] is the usual one: Rust closures by name.

use super::{Fault, Heap, Val};
use crate::descr::CallDescr;
use std::collections::HashMap;
use std::fmt;

/// What a host function did: its result (required when the descriptor has a return
/// type, unless it raised) and whether it raised a host exception. A raise sets the
/// exception-pending flag that `guard_no_exception` checks.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CallResult {
    pub value: Option<Val>,
    pub raised: bool,
}

impl CallResult {
    /// Returned normally with `v`.
    pub fn ret(v: Val) -> CallResult {
        CallResult {
            value: Some(v),
            raised: false,
        }
    }
    /// Returned normally, no value.
    pub fn unit() -> CallResult {
        CallResult {
            value: None,
            raised: false,
        }
    }
    /// Raised a host exception.
    pub fn raise() -> CallResult {
        CallResult {
            value: None,
            raised: true,
        }
    }
}

/// The host functions a trace may call.
pub trait HostCalls {
    /// Calls `call` with `args` (typed as its descriptor says). May use the heap.
    fn call(&mut self, heap: &mut Heap, call: &CallDescr, args: &[Val]) -> Result<CallResult, Fault>;
}

impl<H: HostCalls + ?Sized> HostCalls for &mut H {
    fn call(&mut self, heap: &mut Heap, call: &CallDescr, args: &[Val]) -> Result<CallResult, Fault> {
        (**self).call(heap, call, args)
    }
}

impl<H: HostCalls + ?Sized> HostCalls for Box<H> {
    fn call(&mut self, heap: &mut Heap, call: &CallDescr, args: &[Val]) -> Result<CallResult, Fault> {
        (**self).call(heap, call, args)
    }
}

/// A host function in a [`FnTable`].
pub type HostFn = Box<dyn FnMut(&mut Heap, &[Val]) -> Result<CallResult, Fault>>;

/// Host functions by name. Calling a name that is not in the table is
/// [`Fault::UnknownCall`].
///
/// ```
/// use leones_ir::interp::{CallResult, FnTable, Val};
/// let table = FnTable::new().add("twice", |_heap, args| match args {
///     [Val::I64(x)] => Ok(CallResult::ret(Val::I64(x.wrapping_mul(2)))),
///     _ => unreachable!("the verifier checked the signature"),
/// });
/// assert!(table.contains("twice"));
/// ```
#[derive(Default)]
pub struct FnTable {
    fns: HashMap<String, HostFn>,
}

impl FnTable {
    /// An empty table.
    pub fn new() -> FnTable {
        FnTable::default()
    }

    /// Adds (or replaces) the function `name`; builder style.
    pub fn add(
        mut self,
        name: impl Into<String>,
        f: impl FnMut(&mut Heap, &[Val]) -> Result<CallResult, Fault> + 'static,
    ) -> FnTable {
        self.insert(name, f);
        self
    }

    /// Adds (or replaces) the function `name`.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        f: impl FnMut(&mut Heap, &[Val]) -> Result<CallResult, Fault> + 'static,
    ) {
        self.fns.insert(name.into(), Box::new(f));
    }

    /// Whether `name` is in the table.
    pub fn contains(&self, name: &str) -> bool {
        self.fns.contains_key(name)
    }
}

impl fmt::Debug for FnTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.fns.keys().collect();
        names.sort();
        f.debug_struct("FnTable").field("fns", &names).finish()
    }
}

impl HostCalls for FnTable {
    fn call(&mut self, heap: &mut Heap, call: &CallDescr, args: &[Val]) -> Result<CallResult, Fault> {
        match self.fns.get_mut(&call.name) {
            Some(f) => f(heap, args),
            None => Err(Fault::UnknownCall(call.name.clone())),
        }
    }
}
