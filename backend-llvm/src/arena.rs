//! # The code arena: baseline units without a linker
//!
//! A baseline unit's machine code refers to nothing outside itself by relocation:
//! its branches are internal and relative, host addresses and tables are 64-bit
//! immediates (`crate::baseline`). Linking it through ORC — wrapping it in an ELF
//! object, JITLink's graph, a fresh mapping and an `mprotect` per unit, symbol
//! tables — cost 35 µs per unit in a warm loop and 40-240 µs inside pylite (the
//! install runs on the host's thread, while the compiler thread shares the address
//! space, so every `mprotect` is a TLB shoot-down too): about 2 ms of pythagorean's
//! ~30 ms of compile time, for ~25 units that are mostly small bridges. The arena
//! installs such code with one copy.
//!
//! **Two views of the same pages.** A chunk is one shared anonymous mapping seen
//! twice: a read-write view the arena writes code through, and a read-execute view
//! units run from (a second mapping of the same pages, made with `mremap` and an
//! old size of 0). So no page is ever writable and executable at once, and
//! installing a unit makes no system call at all: copy into the write view, hand out
//! the address in the execute view. x86-64 keeps instruction fetch coherent with
//! stores, and the address reaches running code only through the engine's own
//! release stores (exit slots, targets), after the copy. The execute view is
//! `/dev/zero (deleted)` in `/proc/self/maps`, which `perf` treats as anonymous
//! memory, so the perf map names baseline units as before.
//!
//! **Allocation.** First fit over each chunk's free list (sorted, coalesced on
//! free), 16-byte aligned: a few dozen to a few thousand units of 0.3-12 KiB. A freed
//! block is filled with `int3`, so a jump into removed code traps instead of
//! running whatever comes next; a chunk left empty (and not the last) is unmapped,
//! so evicting units returns memory as ORC's trackers do. A unit larger than a
//! chunk gets a chunk of its own size.
//!
//! **fork.** Shared mappings stay shared with a child process. Were either process
//! to reuse a block the other still runs, it would rewrite the other's code. So a
//! `pthread_atfork` handler bumps a generation counter, and an arena that sees a new
//! generation *seals* its chunks, in the parent and the child alike: no more
//! allocation in them, frees only forget; new code goes to chunks mapped after the
//! fork, which are private to the process that mapped them.
//!
//! Invariants: a [`CodeBlock`] is freed at most once, by the arena that made it,
//! and only when no thread can be running it (the backend frees a unit's block in
//! `Backend::remove`, under the engine's rule for removing code); the arena
//! outlives its blocks' use (the backend drops its units first).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// Bytes per chunk (a multiple of the page size): room for ~100 typical regions.
const CHUNK_BYTES: usize = 1 << 20;
/// Alignment of every block: a function's usual alignment on x86-64.
const ALIGN: usize = 16;
/// `int3`: what freed and never-used code bytes hold.
const TRAP: u8 = 0xCC;

/// Bumped in every `fork` (see the module docs).
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_fork() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// One installed unit's code in the arena.
#[derive(Debug)]
pub(crate) struct CodeBlock {
    /// Where it runs (in the execute view).
    pub addr: u64,
    /// Its length in bytes, before alignment.
    pub len: usize,
}

/// One shared mapping, seen read-write and read-execute.
struct Chunk {
    rw: *mut u8,
    rx: *mut u8,
    size: usize,
    /// Free ranges `(offset, len)`, sorted by offset, never adjacent.
    free: Vec<(usize, usize)>,
    /// Blocks handed out and not yet freed.
    live: usize,
    /// Mapped before a fork this process went through: no allocation in it any more.
    sealed: bool,
}

impl Chunk {
    fn map(size: usize) -> Option<Chunk> {
        // SAFETY: fresh anonymous mappings owned by the chunk; every failure unmaps
        // what was mapped before it. `mremap` with an old size of 0 maps the same
        // shared pages a second time.
        unsafe {
            let rw = libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if rw == libc::MAP_FAILED {
                return None;
            }
            let rx = libc::mremap(rw, 0, size, libc::MREMAP_MAYMOVE);
            if rx == libc::MAP_FAILED {
                libc::munmap(rw, size);
                return None;
            }
            if libc::mprotect(rx, size, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                libc::munmap(rx, size);
                libc::munmap(rw, size);
                return None;
            }
            std::ptr::write_bytes(rw.cast::<u8>(), TRAP, size);
            Some(Chunk {
                rw: rw.cast(),
                rx: rx.cast(),
                size,
                free: vec![(0, size)],
                live: 0,
                sealed: false,
            })
        }
    }

    /// First fit: the offset of `len` (aligned) bytes taken from the free list.
    fn take(&mut self, len: usize) -> Option<usize> {
        if self.sealed {
            return None;
        }
        let i = self.free.iter().position(|&(_, n)| n >= len)?;
        let (off, n) = self.free[i];
        if n == len {
            self.free.remove(i);
        } else {
            self.free[i] = (off + len, n - len);
        }
        self.live += 1;
        Some(off)
    }

    /// Returns `[off, off + len)` to the free list, merged with its neighbours.
    fn give_back(&mut self, off: usize, len: usize) {
        self.live -= 1;
        if self.sealed {
            return;
        }
        // SAFETY: the range lies in this chunk's write view and no thread runs it.
        unsafe { std::ptr::write_bytes(self.rw.add(off), TRAP, len) };
        let i = self.free.partition_point(|&(o, _)| o < off);
        let (mut start, mut end) = (off, off + len);
        if i < self.free.len() && self.free[i].0 == end {
            end += self.free.remove(i).1;
        }
        if i > 0 && self.free[i - 1].0 + self.free[i - 1].1 == start {
            start = self.free[i - 1].0;
            self.free[i - 1] = (start, end - start);
        } else {
            self.free.insert(i, (start, end - start));
        }
    }

    fn contains(&self, addr: u64) -> bool {
        (self.rx as u64..self.rx as u64 + self.size as u64).contains(&addr)
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: both views were mapped by `Chunk::map` with this size.
        unsafe {
            libc::munmap(self.rx.cast(), self.size);
            libc::munmap(self.rw.cast(), self.size);
        }
    }
}

/// Executable memory for relocation-free code (the baseline level's). See the
/// [module docs](self).
pub(crate) struct CodeArena {
    chunks: Vec<Chunk>,
    /// The fork generation the chunks were last checked against.
    generation: u64,
}

// SAFETY: the raw pointers are mappings the arena owns; it is used by one thread at a
// time (the backend's owner).
unsafe impl Send for CodeArena {}

impl CodeArena {
    /// An arena with one chunk mapped; `None` where the system refuses the mappings
    /// (the backend then links every unit through ORC).
    pub(crate) fn new() -> Option<CodeArena> {
        static AT_FORK: Once = Once::new();
        // SAFETY: registers a handler that only increments an atomic.
        AT_FORK.call_once(|| unsafe {
            libc::pthread_atfork(Some(on_fork), None, None);
        });
        let first = Chunk::map(CHUNK_BYTES)?;
        Some(CodeArena {
            chunks: vec![first],
            generation: FORK_GENERATION.load(Ordering::SeqCst),
        })
    }

    /// Copies `code` into the arena; `None` when no memory can be mapped.
    pub(crate) fn install(&mut self, code: &[u8]) -> Option<CodeBlock> {
        self.seal_after_fork();
        let len = code.len().max(1).next_multiple_of(ALIGN);
        let (chunk, off) = match self.chunks.iter_mut().find_map(|c| c.take(len).map(|off| (c, off))) {
            Some(found) => found,
            None => {
                let mut chunk = Chunk::map(len.max(CHUNK_BYTES).next_multiple_of(page_size()))?;
                let off = chunk.take(len).expect("a fresh chunk holds the block");
                self.chunks.push(chunk);
                let chunk = self.chunks.last_mut().expect("just pushed");
                (chunk, off)
            }
        };
        // SAFETY: `[off, off + len)` was just taken from the chunk's free list, inside
        // its write view; `code.len() <= len`.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), chunk.rw.add(off), code.len()) };
        Some(CodeBlock {
            addr: chunk.rx as u64 + off as u64,
            len: code.len(),
        })
    }

    /// Frees `block` (no thread may be running it). A chunk left empty is unmapped
    /// unless it is the only one that can still be allocated from.
    pub(crate) fn free(&mut self, block: CodeBlock) {
        self.seal_after_fork();
        let Some(i) = self.chunks.iter().position(|c| c.contains(block.addr)) else {
            return;
        };
        let chunk = &mut self.chunks[i];
        let off = (block.addr - chunk.rx as u64) as usize;
        chunk.give_back(off, block.len.max(1).next_multiple_of(ALIGN));
        let open = self.chunks.iter().filter(|c| !c.sealed).count();
        let chunk = &self.chunks[i];
        if chunk.live == 0 && (chunk.sealed || open > 1) {
            self.chunks.remove(i);
        }
    }

    /// Bytes mapped for code (both views count once).
    #[cfg(test)]
    pub(crate) fn mapped_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.size).sum()
    }

    /// After a fork: seal every chunk mapped before it (see the module docs).
    fn seal_after_fork(&mut self) {
        let now = FORK_GENERATION.load(Ordering::SeqCst);
        if now != self.generation {
            self.generation = now;
            for c in &mut self.chunks {
                c.sealed = true;
            }
            self.chunks.retain(|c| c.live > 0);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mov eax, 42; ret`
    const RETURN_42: [u8; 6] = [0xB8, 42, 0, 0, 0, 0xC3];

    #[test]
    fn installed_code_runs_from_the_execute_view() {
        let mut arena = CodeArena::new().expect("mappings");
        let block = arena.install(&RETURN_42).unwrap();
        // SAFETY: the block holds a complete function returning 42.
        let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(block.addr as usize) };
        assert_eq!(f(), 42);
        arena.free(block);
    }

    #[test]
    fn freed_blocks_are_reused_and_trap_filled() {
        let mut arena = CodeArena::new().unwrap();
        let a = arena.install(&[0x90; 40]).unwrap();
        let b = arena.install(&RETURN_42).unwrap();
        assert_eq!(b.addr, a.addr + 48, "16-byte aligned, first fit");
        let a_addr = a.addr;
        arena.free(a);
        // SAFETY: reading the execute view (readable) of a freed block.
        let bytes = unsafe { std::slice::from_raw_parts(a_addr as *const u8, 48) };
        assert!(bytes.iter().all(|&x| x == TRAP));
        let c = arena.install(&RETURN_42).unwrap();
        assert_eq!(c.addr, a_addr, "the freed block is the first fit");
        arena.free(b);
        arena.free(c);
        assert_eq!(
            arena.chunks[0].free,
            vec![(0, CHUNK_BYTES)],
            "coalesced back to one range"
        );
    }

    #[test]
    fn a_unit_larger_than_a_chunk_gets_its_own_and_empty_chunks_are_unmapped() {
        let mut arena = CodeArena::new().unwrap();
        let big = arena.install(&vec![0x90; CHUNK_BYTES + 1]).unwrap();
        assert_eq!(arena.chunks.len(), 2);
        assert!(arena.mapped_bytes() > 2 * CHUNK_BYTES);
        arena.free(big);
        assert_eq!(arena.chunks.len(), 1);
        assert_eq!(arena.mapped_bytes(), CHUNK_BYTES);
    }

    #[test]
    fn a_fork_seals_the_chunks_mapped_before_it() {
        let mut arena = CodeArena::new().unwrap();
        let before = arena.install(&RETURN_42).unwrap();
        // What the atfork handler's counter tells the arena, without forking (and
        // without sealing the arenas of tests running beside this one).
        arena.generation = arena.generation.wrapping_sub(1);
        let after = arena.install(&RETURN_42).unwrap();
        assert!(!arena.chunks[0].contains(after.addr), "new code goes to a new chunk");
        assert!(arena.chunks[0].sealed);
        arena.free(before);
        assert_eq!(arena.chunks.len(), 1, "the sealed chunk is unmapped once empty");
        assert!(arena.chunks[0].contains(after.addr));
        arena.free(after);
    }
}
