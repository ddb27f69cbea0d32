//! # The baseline's register cache: values kept in registers, homes kept exact
//!
//! Baseline code gives every SSA value a frame word (its *home*) and keeps it
//! exact: an op's result is stored there when it is computed. That is what makes
//! exits, block arguments and calls simple — any of them may read any home. What
//! it costs is on the path between ops: every operand read is a load of a word
//! stored a few instructions earlier, so a chain of dependent ops waits for the
//! store-to-load forwarding on every link (~4-5 cycles each on x86 cores).
//!
//! The cache removes those loads without giving up exact homes: a result is also
//! copied into one of a few registers (*write-through*), a read-only operand is
//! loaded into one (a loop's parameters are read many times), and a later read of
//! the value takes the register instead of the home. Nothing ever reads a register that
//! the cache does not know to hold the value, so the cache only has to be *sound*,
//! never complete — forgetting an entry is always allowed, and is what happens at
//! every point whose state the emitter cannot see in straight-line order:
//!
//! - a block's start (it may be reached from several places): the cache is empty;
//! - a host call: the caller-saved registers of the pool are forgotten after it;
//! - a store to a block parameter's home (a `br`'s arguments are copied on one edge
//!   only): that parameter's entry is forgotten, and parameter stores never enter
//!   the cache;
//! - cold code (exit stubs and faults, emitted after all blocks) reads homes only.
//!
//! The pool is `rbx, r12-r15` (callee-saved: they survive host calls; the prologue
//! saves them in the frame and every way out of the unit restores them) and
//! `r10, r11` (caller-saved and never argument registers: usable while a call's
//! arguments are set up). `rax, rcx, rdx` and `xmm0-1` stay the ops' scratch
//! registers, `rdi, rsi` the exit sequences'. Eviction is least-recently-used: an
//! op reads mostly what the last few ops produced.
//!
//! With the cache, `v2 = iadd v0, v1` where `v0` was computed just before:
//!
//! ```text
//!     mov rax, rbx            ; v0, cached (into scratch: `add` overwrites it)
//!     mov r12, [rbp-72]       ; v1, not cached: from its home, cached from now on
//!     add rax, r12
//!     mov [rbp-80], rax       ; home of v2 (write-through)
//!     mov r13, rax            ; v2 cached
//! ```

use iced_x86::code_asm::*;
use leones_ir::Value;

/// The registers values are cached in, callee-saved first.
pub(super) const POOL: [AsmRegister64; 7] = [rbx, r12, r13, r14, r15, r10, r11];
/// How many of [`POOL`]'s registers are callee-saved (saved by the prologue).
pub(super) const CALLEE_SAVED: usize = 5;

/// Which value each pool register holds, and when it was last used.
#[derive(Default)]
pub(super) struct RegCache {
    holds: [Option<Value>; POOL.len()],
    used: [u64; POOL.len()],
    clock: u64,
}

impl RegCache {
    /// The register holding `v`, if any (and marks it used).
    pub(super) fn lookup(&mut self, v: Value) -> Option<AsmRegister64> {
        let i = self.holds.iter().position(|h| *h == Some(v))?;
        self.clock += 1;
        self.used[i] = self.clock;
        Some(POOL[i])
    }

    /// A register for `v`, which the caller fills: a free one, else the least
    /// recently used (whose value is forgotten).
    pub(super) fn insert(&mut self, v: Value) -> AsmRegister64 {
        self.forget(v);
        let i = match self.holds.iter().position(Option::is_none) {
            Some(i) => i,
            None => (0..POOL.len()).min_by_key(|i| self.used[*i]).unwrap_or(0),
        };
        self.clock += 1;
        self.holds[i] = Some(v);
        self.used[i] = self.clock;
        POOL[i]
    }

    /// Forgets `v` (its home is about to change).
    pub(super) fn forget(&mut self, v: Value) {
        for h in self.holds.iter_mut().filter(|h| **h == Some(v)) {
            *h = None;
        }
    }

    /// Forgets everything (a block's start).
    pub(super) fn clear(&mut self) {
        self.holds = [None; POOL.len()];
    }

    /// Forgets what a host call clobbers.
    pub(super) fn after_call(&mut self) {
        for h in &mut self.holds[CALLEE_SAVED..] {
            *h = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_and_forgets_across_calls() {
        let mut c = RegCache::default();
        let vals: Vec<Value> = (0..POOL.len() + 1).map(Value::new).collect();
        for v in &vals[..POOL.len()] {
            c.insert(*v);
        }
        // Touch v0 so that v1 is the oldest; the next insert takes v1's register.
        assert_eq!(c.lookup(vals[0]), Some(POOL[0]));
        assert_eq!(c.insert(vals[POOL.len()]), POOL[1]);
        assert_eq!(c.lookup(vals[1]), None);
        // r10/r11 (the last two) do not survive a call; callee-saved ones do.
        c.after_call();
        assert_eq!(c.lookup(vals[POOL.len() - 1]), None);
        assert_eq!(c.lookup(vals[0]), Some(POOL[0]));
        c.clear();
        assert_eq!(c.lookup(vals[0]), None);
    }
}
