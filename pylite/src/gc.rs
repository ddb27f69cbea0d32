//! # The collector: non-moving mark & sweep at safepoints
//!
//! Every object is allocated individually (so its address never changes) and
//! recorded in `Heap::objects`. Allocation only counts bytes; it never collects.
//! The interpreter polls [`Heap::wants_gc`] at *safepoints* — loop back-edges and
//! function entry — and only there calls `Vm::collect`, which marks from the
//! precise roots (the live part of the register stack, every frame's generator,
//! globals, code constants, permanent objects, native temp roots, the in-flight
//! exception) and sweeps the rest.
//!
//! Consequences (the invariants native code relies on):
//! * Native code (builtins) may hold raw `Value`s in Rust locals freely, because
//!   no collection happens while it runs — unless it calls back into Python
//!   (`Vm::call_value`), in which case it must push values it still needs onto
//!   `Vm::temp_roots` first.
//! * Frame slots that are not yet written must hold `UNDEF`, never stale values:
//!   the interpreter clears a frame's slots when it pushes it.
//!
//! The threshold adapts: after each collection it is twice the surviving bytes
//! (at least `MIN_THRESHOLD`), so memory stays bounded on long runs.

use crate::bytecode::Code;
use crate::object::*;
use crate::value::Value;
use std::alloc::{alloc, dealloc, Layout};

const MIN_THRESHOLD: usize = 8 << 20;

/// The heap: the registry of all objects and the allocation counter.
pub struct Heap {
    objects: Vec<*mut Header>,
    /// Bytes allocated since the last collection (approximate).
    pub bytes_since_gc: usize,
    /// Collect when `bytes_since_gc` exceeds this.
    pub threshold: usize,
    mark_stack: Vec<*mut Header>,
    /// Number of collections run.
    pub collections: usize,
    /// Objects allocated so far (all time).
    pub allocations: u64,
}

impl Default for Heap {
    fn default() -> Self {
        Heap {
            objects: Vec::new(),
            bytes_since_gc: 0,
            threshold: MIN_THRESHOLD,
            mark_stack: Vec::new(),
            collections: 0,
            allocations: 0,
        }
    }
}

/// The allocation of an object with `n` inline values after a fixed part of `head` bytes.
fn inline_layout(head: usize, n: usize) -> Layout {
    Layout::from_size_align(head + 16 * n, 8).expect("inline object layout")
}

fn instance_layout(nslots: u32) -> Layout {
    inline_layout(INSTANCE_SLOTS_OFFSET, nslots as usize)
}

fn approx_size(p: *mut Header) -> usize {
    // SAFETY: p is a live registered object; kind selects the right struct.
    unsafe {
        match (*p).kind {
            Kind::Str => 32 + (*(p as *mut StrObj)).data.cap,
            Kind::Bytes => 32 + (*(p as *mut BytesObj)).data.cap,
            Kind::Tuple => TUPLE_ITEMS_OFFSET + 16 * (*(p as *mut TupleObj)).len,
            Kind::List => 48 + 16 * (*(p as *mut ListObj)).items.cap,
            Kind::Instance => INSTANCE_SLOTS_OFFSET + 16 * (*(p as *mut Instance)).nslots as usize,
            Kind::Generator => GEN_SLOTS_OFFSET + 16 * (*(p as *mut GeneratorObj)).nslots as usize,
            Kind::Class | Kind::Module => 256,
            _ => 48,
        }
    }
}

impl Heap {
    /// Allocates a fixed-layout object.
    #[inline]
    pub fn alloc<T: HeapObj>(&mut self, obj: T) -> *mut T {
        let p = Box::into_raw(Box::new(obj));
        self.objects.push(p as *mut Header);
        self.allocations += 1;
        self.bytes_since_gc += std::mem::size_of::<T>() + 16;
        p
    }
    /// Accounts for extra payload bytes (e.g. a buffer grown after allocation).
    #[inline]
    pub fn account(&mut self, bytes: usize) {
        self.bytes_since_gc += bytes;
    }
    /// Allocates an instance of `class` with all slots `UNDEF`. Crate-internal: it reads
    /// `class` through the raw pointer, so callers must hand it a live class object.
    pub(crate) fn alloc_instance(&mut self, class: *mut ClassObj) -> *mut Instance {
        // SAFETY: class is a live class object (caller).
        let nslots = unsafe { (*class).nslots };
        let layout = instance_layout(nslots);
        // SAFETY: layout has non-zero size; we initialize the header and every slot.
        let p = unsafe { alloc(layout) } as *mut Instance;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        unsafe {
            p.write(Instance::header(class, nslots));
            for i in 0..nslots as usize {
                Instance::slot_ptr(p, i).write(Value::UNDEF);
            }
        }
        self.register(p as *mut Header, layout.size());
        p
    }
    /// Allocates a tuple holding `items`.
    pub fn alloc_tuple(&mut self, items: &[Value]) -> *mut TupleObj {
        let layout = inline_layout(TUPLE_ITEMS_OFFSET, items.len());
        // SAFETY: non-zero size; the header and every item are written before use.
        let p = unsafe { alloc(layout) } as *mut TupleObj;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        unsafe {
            p.write(TupleObj::header(items.len()));
            let first = (p as *mut u8).add(TUPLE_ITEMS_OFFSET) as *mut Value;
            std::ptr::copy_nonoverlapping(items.as_ptr(), first, items.len());
        }
        self.register(p as *mut Header, layout.size());
        p
    }
    /// Allocates a suspended generator running `code`, its frame slots `slots`.
    pub fn alloc_generator(&mut self, code: *const Code, slots: &[Value]) -> *mut GeneratorObj {
        let n = u16::try_from(slots.len()).expect("a frame has at most 65535 slots");
        let layout = inline_layout(GEN_SLOTS_OFFSET, slots.len());
        // SAFETY: non-zero size; the header and every slot are written before use.
        let p = unsafe { alloc(layout) } as *mut GeneratorObj;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        unsafe {
            p.write(GeneratorObj::header(code, n));
            std::ptr::copy_nonoverlapping(slots.as_ptr(), GeneratorObj::slots_ptr(p), slots.len());
        }
        self.register(p as *mut Header, layout.size());
        p
    }
    /// Allocates `size` zeroed bytes for an object whose header compiled code writes
    /// (a JIT's `new` of an instance or tuple layout: both are a 32-byte fixed part
    /// and 16-byte values). No collection runs before the header is written.
    pub fn alloc_zeroed_object(&mut self, size: usize) -> *mut Header {
        let layout = Layout::from_size_align(size.max(TUPLE_ITEMS_OFFSET), 8).expect("object layout");
        // SAFETY: non-zero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout) } as *mut Header;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        self.register(p, layout.size());
        p
    }
    fn register(&mut self, p: *mut Header, size: usize) {
        self.objects.push(p);
        self.allocations += 1;
        self.bytes_since_gc += size + 16;
    }
    /// Whether a collection is due (polled at safepoints).
    #[inline(always)]
    pub fn wants_gc(&self) -> bool {
        self.bytes_since_gc > self.threshold
    }
    /// Number of live (registered) objects.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }
    /// Marks a root value (collection phase 1; call `finish_collection` after all roots).
    #[inline]
    pub fn mark_value(&mut self, v: Value) {
        if v.is_obj() {
            self.mark_ptr(v.as_ptr());
        }
    }
    #[inline]
    fn mark_ptr(&mut self, p: *mut Header) {
        // SAFETY: p is a live registered object (roots and traced fields only hold those).
        unsafe {
            if !p.is_null() && (*p).mark == 0 {
                (*p).mark = 1;
                self.mark_stack.push(p);
            }
        }
    }
    /// Traces everything reachable from the marked roots, then frees the rest.
    pub fn finish_collection(&mut self) {
        while let Some(p) = self.mark_stack.pop() {
            self.trace(p);
        }
        let mut live = 0usize;
        let mut i = 0;
        while i < self.objects.len() {
            let p = self.objects[i];
            // SAFETY: p is registered and live until freed right here.
            if unsafe { (*p).mark } != 0 {
                unsafe { (*p).mark = 0 };
                live += approx_size(p);
                i += 1;
            } else {
                self.objects.swap_remove(i);
                // SAFETY: unreachable from every root, so nothing refers to it any more.
                unsafe { free_object(p) };
            }
        }
        self.collections += 1;
        self.bytes_since_gc = 0;
        self.threshold = MIN_THRESHOLD.max(live * 2);
    }

    fn mark_all(&mut self, vs: &[Value]) {
        for &v in vs {
            self.mark_value(v);
        }
    }

    fn trace(&mut self, p: *mut Header) {
        // SAFETY: p is a live marked object; each arm reads the struct of its kind.
        unsafe {
            match (*p).kind {
                Kind::Str | Kind::Bytes | Kind::Builtin | Kind::File | Kind::Range | Kind::RangeIter => {}
                Kind::Tuple => self.mark_all(TupleObj::items(p as *mut TupleObj)),
                Kind::List => self.mark_all((*(p as *mut ListObj)).items.as_slice()),
                Kind::Instance => {
                    let inst = p as *mut Instance;
                    self.mark_ptr((*p).class as *mut Header);
                    for i in 0..(*inst).nslots as usize {
                        self.mark_value(*Instance::slot_ptr(inst, i));
                    }
                    if !(*inst).extra.is_null() {
                        for &(_, v) in (*(*inst).extra).iter() {
                            self.mark_value(v);
                        }
                    }
                }
                Kind::Class => {
                    let c = p as *mut ClassObj;
                    self.mark_ptr((*c).base as *mut Header);
                    let vals: Vec<Value> = (*c).attrs.values().copied().collect();
                    self.mark_all(&vals);
                }
                Kind::Function => self.mark_all((*(p as *mut FunctionObj)).defaults.as_slice()),
                Kind::Generator => self.mark_all(GeneratorObj::slots(p as *mut GeneratorObj)),
                Kind::Module => {
                    let vals: Vec<Value> = (*(p as *mut ModuleObj)).attrs.iter().map(|a| a.1).collect();
                    self.mark_all(&vals);
                }
                Kind::Property => self.mark_value((*(p as *mut PropertyObj)).getter),
                Kind::BoundMethod => {
                    let b = p as *mut BoundMethodObj;
                    self.mark_value((*b).func);
                    self.mark_value((*b).recv);
                }
                Kind::SeqIter => self.mark_value((*(p as *mut SeqIterObj)).seq),
            }
        }
    }
}

/// Frees one object.
///
/// # Safety
/// `p` must be a registered object that nothing refers to any more.
unsafe fn free_object(p: *mut Header) {
    macro_rules! free_box {
        ($t:ty) => {
            drop(Box::from_raw(p as *mut $t))
        };
    }
    match (*p).kind {
        Kind::Str => free_box!(StrObj),
        Kind::Bytes => free_box!(BytesObj),
        Kind::Tuple => dealloc(
            p as *mut u8,
            inline_layout(TUPLE_ITEMS_OFFSET, (*(p as *mut TupleObj)).len),
        ),
        Kind::List => free_box!(ListObj),
        Kind::Instance => {
            let inst = p as *mut Instance;
            if !(*inst).extra.is_null() {
                drop(Box::from_raw((*inst).extra));
            }
            dealloc(p as *mut u8, instance_layout((*inst).nslots));
        }
        Kind::Class => free_box!(ClassObj),
        Kind::Function => free_box!(FunctionObj),
        Kind::Builtin => free_box!(BuiltinObj),
        Kind::Generator => dealloc(
            p as *mut u8,
            inline_layout(GEN_SLOTS_OFFSET, (*(p as *mut GeneratorObj)).nslots as usize),
        ),
        Kind::Module => free_box!(ModuleObj),
        Kind::File => free_box!(FileObj),
        Kind::Property => free_box!(PropertyObj),
        Kind::BoundMethod => free_box!(BoundMethodObj),
        Kind::Range => free_box!(RangeObj),
        Kind::RangeIter => free_box!(RangeIterObj),
        Kind::SeqIter => free_box!(SeqIterObj),
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        for &p in &self.objects {
            // SAFETY: the heap is going away with the VM; nothing can use these now.
            unsafe { free_object(p) };
        }
    }
}
