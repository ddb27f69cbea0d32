//! # RawBuf: a growable buffer with a C layout
//!
//! `Vec<T>`'s field order is unspecified, but compiled code needs to find a list's
//! item pointer and length at fixed offsets. [`RawBuf`] is `#[repr(C)]`
//! `{ ptr, len, cap }` and borrows `Vec`'s allocator logic by round-tripping
//! through `Vec::from_raw_parts` for growth and freeing.
//!
//! Invariant: `(ptr, len, cap)` always came from a `Vec<T>` (or is the dangling
//! empty triple), so reconstituting the `Vec` is sound. `T: Copy`, so no element
//! destructors are ever needed.

use std::mem::ManuallyDrop;

/// A `#[repr(C)]` vector of `Copy` elements: pointer at offset 0, length at 8.
#[repr(C)]
pub struct RawBuf<T: Copy> {
    /// Pointer to the first element.
    pub ptr: *mut T,
    /// Number of initialized elements.
    pub len: usize,
    /// Allocated capacity.
    pub cap: usize,
}

impl<T: Copy> RawBuf<T> {
    /// Takes ownership of a `Vec`.
    pub fn from_vec(v: Vec<T>) -> Self {
        let mut v = ManuallyDrop::new(v);
        RawBuf {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }
    /// An empty buffer.
    pub fn new() -> Self {
        Self::from_vec(Vec::new())
    }
    /// Runs `f` on the buffer viewed as a `Vec`, then takes it back.
    #[inline]
    pub fn with_vec<R>(&mut self, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        // SAFETY: (ptr, len, cap) came from a Vec<T> (type invariant).
        let mut v = unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) };
        let r = f(&mut v);
        let mut v = ManuallyDrop::new(v);
        // Plain field writes: the old triple is owned by `v` now and must not be dropped.
        self.ptr = v.as_mut_ptr();
        self.len = v.len();
        self.cap = v.capacity();
        r
    }
    /// The elements as a slice.
    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: ptr is valid for len initialized elements (type invariant).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
    /// The elements as a mutable slice.
    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as above, and we hold &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
    /// Appends one element.
    #[inline]
    pub fn push(&mut self, x: T) {
        if self.len < self.cap {
            // SAFETY: len < cap, so the slot is inside the allocation.
            unsafe { self.ptr.add(self.len).write(x) };
            self.len += 1;
        } else {
            self.with_vec(|v| v.push(x));
        }
    }
    /// Number of elements.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether empty.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy> Default for RawBuf<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> Drop for RawBuf<T> {
    fn drop(&mut self) {
        // SAFETY: type invariant; the Vec frees the allocation.
        drop(unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) });
    }
}
