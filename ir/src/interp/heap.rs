//! [`Heap`]: real, bounds-checked memory for host objects, arrays and raw buffers.
//!
//! Every allocation is a zeroed, 8-byte-aligned buffer owned by the heap and never
//! freed before the heap is dropped; its real address is the `ref`/`ptr` value the
//! trace sees, so native code compiled from the same trace can work on the very same
//! objects. Every access the interpreter makes goes through [`Heap::load`] /
//! [`Heap::store`], which look the address up in the registry of live allocations
//! (start → allocation, found by range) and refuse anything that is not entirely inside
//! one: a wild address is a [`Fault`], never undefined behaviour.
//!
//! The buffers are only ever touched through the raw pointers they were created with
//! (no Rust references into them exist), so code outside Rust may write them between
//! runs without invalidating anything.

use super::{Fault, Val};
use crate::descr::{ArrayDescr, Layout};
use crate::types::MemType;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::{self, Write};
use std::ptr::{self, NonNull};

/// One live allocation.
struct Alloc {
    /// The buffer, from `Box<[u64]>::into_raw`.
    ptr: NonNull<u64>,
    /// Its length in words (at least 1, so every allocation has its own address).
    words: usize,
    /// The size in bytes accesses are checked against (may be 0).
    size: u64,
}

impl Alloc {
    /// Word `k` of the buffer, or 0 past its end.
    fn word(&self, k: usize) -> u64 {
        if k >= self.words {
            return 0;
        }
        // SAFETY: `k < words`: inside the live, 8-aligned buffer.
        unsafe { self.ptr.as_ptr().add(k).read() }
    }
}

/// Memory for the objects a trace works on. See the module docs.
#[derive(Default)]
pub struct Heap {
    allocs: BTreeMap<u64, Alloc>,
}

// SAFETY: a `Heap` owns its buffers exclusively, like a `Vec<Box<[u64]>>` would; the
// raw pointers are only an implementation detail of that ownership.
unsafe impl Send for Heap {}

impl Drop for Heap {
    fn drop(&mut self) {
        for a in self.allocs.values() {
            // SAFETY: `ptr`/`words` came from `Box::into_raw` of a `[u64]` of that
            // length in `alloc_raw`, and each allocation is dropped exactly once.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(a.ptr.as_ptr(), a.words)) });
        }
    }
}

impl fmt::Debug for Heap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heap").field("allocations", &self.allocs.len()).finish()
    }
}

impl Heap {
    /// An empty heap.
    pub fn new() -> Heap {
        Heap::default()
    }

    /// Allocates a zeroed buffer of `size` bytes and returns its address (8-aligned,
    /// never 0, distinct from every other live allocation's).
    pub fn alloc_raw(&mut self, size: usize) -> u64 {
        let words = size.div_ceil(8).max(1);
        let buf: Box<[u64]> = vec![0u64; words].into_boxed_slice();
        let raw = Box::into_raw(buf) as *mut u64;
        // A boxed slice of non-zero length is never null.
        let ptr = NonNull::new(raw).unwrap_or(NonNull::dangling());
        let addr = ptr.as_ptr() as u64;
        self.allocs.insert(
            addr,
            Alloc {
                ptr,
                words,
                size: size as u64,
            },
        );
        addr
    }

    /// Allocates a zeroed object of `layout`, with its class word at offset 0 if the
    /// layout has one.
    pub fn alloc_object(&mut self, layout: &Layout) -> u64 {
        let addr = self.alloc_raw(layout.size as usize);
        if let Some(class) = layout.class {
            // Ignored error: a layout with a class but size < 8 is rejected by the
            // verifier; for such a host-made layout the word is simply not written.
            let _ = self.store_bits(addr, MemType::I64, class);
        }
        addr
    }

    /// Allocates a zeroed array of `len` items of shape `array`, its length word set.
    /// The size is `max(len_offset + 8, items_offset + len * item size)`.
    ///
    /// Panics only if that size does not fit in memory (as `Vec` would).
    pub fn alloc_array(&mut self, array: &ArrayDescr, len: usize) -> u64 {
        let items = (len as u64)
            .checked_mul(u64::from(array.elem.mem_size()))
            .and_then(|n| n.checked_add(u64::from(array.items_offset)))
            .expect("array size overflows");
        let size = items.max(u64::from(array.len_offset) + 8);
        let addr = self.alloc_raw(usize::try_from(size).expect("array size overflows"));
        let _ = self.store_bits(addr + u64::from(array.len_offset), MemType::I64, len as u64);
        addr
    }

    /// Whether `[addr, addr + size)` lies entirely inside one live allocation.
    pub fn contains(&self, addr: u64, size: u64) -> bool {
        self.locate(addr, size).is_some()
    }

    /// The number of live allocations.
    pub fn allocation_count(&self) -> usize {
        self.allocs.len()
    }

    /// The start and size of the allocation containing `addr`, if any (an address
    /// equal to the start of a zero-sized allocation counts as inside it).
    pub fn allocation_of(&self, addr: u64) -> Option<(u64, u64)> {
        let (&start, a) = self.allocs.range(..=addr).next_back()?;
        (addr - start < a.size.max(1)).then_some((start, a.size))
    }

    /// Reads a value of memory type `mt` at `addr`: narrow integers sign- or
    /// zero-extend, `f32` widens to `f64`, a `bool` byte is true iff non-zero.
    pub fn load(&self, addr: u64, mt: MemType) -> Result<Val, Fault> {
        self.load_bits(addr, mt)
            .map(|bits| Val::from_bits(mt.value_type(), bits))
    }

    /// Writes `v` at `addr` as memory type `mt`: narrow integers truncate, `f32`
    /// rounds to nearest, a `bool` is one byte 0/1. `v` must have `mt`'s value type.
    pub fn store(&mut self, addr: u64, mt: MemType, v: Val) -> Result<(), Fault> {
        if v.ty() != mt.value_type() {
            return Err(Fault::StoreType { mem: mt, got: v.ty() });
        }
        self.store_bits(addr, mt, v.to_bits())
    }

    /// The address of `[addr, addr + size)` if it is inside one live allocation.
    fn locate(&self, addr: u64, size: u64) -> Option<*mut u8> {
        let (&start, a) = self.allocs.range(..=addr).next_back()?;
        let off = addr - start;
        if off.checked_add(size)? > a.size {
            return None;
        }
        // In bounds of the buffer: `off + size <= a.size <= 8 * a.words`.
        Some(a.ptr.as_ptr().cast::<u8>().wrapping_add(off as usize))
    }

    fn read_bytes<const N: usize>(&self, addr: u64) -> Result<[u8; N], Fault> {
        let p = self.locate(addr, N as u64).ok_or(Fault::BadAccess {
            addr,
            size: N as u64,
            at: None,
        })?;
        let mut out = [0u8; N];
        // SAFETY: `locate` checked that the N bytes at `p` lie inside a live buffer;
        // `out` is a distinct local.
        unsafe { ptr::copy_nonoverlapping(p, out.as_mut_ptr(), N) };
        Ok(out)
    }

    fn write_bytes<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> Result<(), Fault> {
        let p = self.locate(addr, N as u64).ok_or(Fault::BadAccess {
            addr,
            size: N as u64,
            at: None,
        })?;
        // SAFETY: as in `read_bytes`; `&mut self` means no other access through us.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, N) };
        Ok(())
    }

    /// [`Heap::load`] producing the raw register bits of `mt.value_type()`.
    pub(crate) fn load_bits(&self, addr: u64, mt: MemType) -> Result<u64, Fault> {
        Ok(match mt {
            MemType::I8S => i8::from_ne_bytes(self.read_bytes(addr)?) as i64 as u64,
            MemType::I8U => u8::from_ne_bytes(self.read_bytes(addr)?) as u64,
            MemType::Bool => (u8::from_ne_bytes(self.read_bytes(addr)?) != 0) as u64,
            MemType::I16S => i16::from_ne_bytes(self.read_bytes(addr)?) as i64 as u64,
            MemType::I16U => u16::from_ne_bytes(self.read_bytes(addr)?) as u64,
            MemType::I32S => i32::from_ne_bytes(self.read_bytes(addr)?) as i64 as u64,
            MemType::I32U => u32::from_ne_bytes(self.read_bytes(addr)?) as u64,
            MemType::F32 => (f32::from_ne_bytes(self.read_bytes(addr)?) as f64).to_bits(),
            MemType::I64 | MemType::F64 | MemType::Ref | MemType::Ptr => u64::from_ne_bytes(self.read_bytes(addr)?),
        })
    }

    /// [`Heap::store`] taking the raw register bits of `mt.value_type()`.
    pub(crate) fn store_bits(&mut self, addr: u64, mt: MemType, bits: u64) -> Result<(), Fault> {
        match mt {
            MemType::I8S | MemType::I8U => self.write_bytes(addr, (bits as u8).to_ne_bytes()),
            MemType::Bool => self.write_bytes(addr, [(bits != 0) as u8]),
            MemType::I16S | MemType::I16U => self.write_bytes(addr, (bits as u16).to_ne_bytes()),
            MemType::I32S | MemType::I32U => self.write_bytes(addr, (bits as u32).to_ne_bytes()),
            MemType::F32 => self.write_bytes(addr, (f64::from_bits(bits) as f32).to_ne_bytes()),
            MemType::I64 | MemType::F64 | MemType::Ref | MemType::Ptr => self.write_bytes(addr, bits.to_ne_bytes()),
        }
    }

    /// Numbers the allocations reachable from `roots` (addresses inside allocations)
    /// in breadth-first visit order, following every word that points into one.
    pub(crate) fn numbering(&self, roots: impl IntoIterator<Item = u64>) -> Numbering {
        let mut n = Numbering::default();
        let mut queue = VecDeque::new();
        let visit = |n: &mut Numbering, addr: u64, queue: &mut VecDeque<u64>| {
            if let Some((start, _)) = self.allocation_of(addr) {
                if !n.index.contains_key(&start) {
                    n.index.insert(start, n.order.len());
                    n.order.push(start);
                    queue.push_back(start);
                }
            }
        };
        for r in roots {
            visit(&mut n, r, &mut queue);
        }
        while let Some(start) = queue.pop_front() {
            let a = &self.allocs[&start];
            for k in 0..a.size.div_ceil(8) as usize {
                visit(&mut n, a.word(k), &mut queue);
            }
        }
        n
    }

    /// `@k` or `@k+off` for an address inside a numbered allocation.
    pub(crate) fn name_of(&self, n: &Numbering, addr: u64) -> Option<String> {
        let (start, _) = self.allocation_of(addr)?;
        let k = n.index.get(&start)?;
        Some(match addr - start {
            0 => format!("@{k}"),
            off => format!("@{k}+{off}"),
        })
    }

    /// The dump of the numbered allocations, one line each: `@k size N: w0 w1 ...`,
    /// words in hex, pointers into numbered allocations as `@k` / `@k+off`.
    pub(crate) fn dump_numbered(&self, n: &Numbering) -> String {
        let mut s = String::new();
        for (k, start) in n.order.iter().enumerate() {
            let a = &self.allocs[start];
            let _ = write!(s, "@{k} size {}:", a.size);
            for j in 0..a.size.div_ceil(8) as usize {
                let w = a.word(j);
                match self.name_of(n, w) {
                    Some(name) => {
                        let _ = write!(s, " {name}");
                    }
                    None => {
                        let _ = write!(s, " {w:#x}");
                    }
                }
            }
            s.push('\n');
        }
        s
    }

    /// A canonical text dump of everything reachable from `roots` (their `ref`/`ptr`
    /// values; other values are ignored): allocations numbered in breadth-first visit
    /// order, each line `@k size N: words...`, where a word pointing into a live
    /// allocation prints as `@k` (its start) or `@k+off`, and other words in hex. Two
    /// heaps built the same way by different runs dump the same text.
    pub fn dump_reachable(&self, roots: &[Val]) -> String {
        let roots = roots
            .iter()
            .filter(|v| matches!(v, Val::Ref(_) | Val::Ptr(_)))
            .map(|v| v.to_bits());
        self.dump_numbered(&self.numbering(roots))
    }
}

/// A visit-order numbering of allocations (see [`Heap::dump_reachable`]).
#[derive(Default)]
pub(crate) struct Numbering {
    order: Vec<u64>,
    index: HashMap<u64, usize>,
}
