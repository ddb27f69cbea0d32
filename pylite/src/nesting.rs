//! # Bounded Rust recursion over Python data
//!
//! `repr`/`str`, `==` and ordering of lists and tuples recurse in Rust, one level per
//! level of nesting of the data. A program can nest far deeper than the Rust stack
//! allows (`x = [x]` in a loop) or build a cycle (`x.append(x)`), and both used to
//! abort the process with a stack overflow. CPython prints a list that contains itself
//! as `[...]` and raises `RecursionError` past its recursion limit; pylite does the
//! same:
//!
//! - a walk takes a [`Level`] per container it descends into; past
//!   [`MAX_NESTING`] levels it gets none, records that it went too deep, and gives a
//!   placeholder answer (`...`, unequal, unordered) instead of descending;
//! - the entry points that can raise (`repr()`, `str()`, `print`, f-strings, `==`,
//!   `in`, comparisons: the `*_checked` methods and `compare`) then turn the record
//!   into a `RecursionError` ([`take_exceeded`]);
//! - `repr` marks the containers it is printing ([`Printing`]) and writes a container
//!   it meets again inside itself as `[...]` / `(...)`.
//!
//! The state is per thread (one VM runs on one thread at a time) and restored by
//! guards' `Drop`, so an early return cannot leave it unbalanced.

use std::cell::{Cell, RefCell};

/// Deepest nesting a walk descends into (CPython's default recursion limit).
pub(crate) const MAX_NESTING: usize = crate::vm::MAX_DEPTH;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static EXCEEDED: Cell<bool> = const { Cell::new(false) };
    static PRINTING: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// One level of a walk; dropping it leaves the level.
pub(crate) struct Level(());

impl Drop for Level {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// Enters one more level of nesting, or records that the walk went too deep.
pub(crate) fn enter() -> Option<Level> {
    DEPTH.with(|d| {
        if d.get() >= MAX_NESTING {
            EXCEEDED.with(|e| e.set(true));
            None
        } else {
            d.set(d.get() + 1);
            Some(Level(()))
        }
    })
}

/// Whether a walk went too deep since the last call; clears the record.
pub(crate) fn take_exceeded() -> bool {
    EXCEEDED.with(|e| e.replace(false))
}

/// A container `repr` is printing; dropping it ends that.
pub(crate) struct Printing(u64);

impl Drop for Printing {
    fn drop(&mut self) {
        PRINTING.with(|p| {
            let mut p = p.borrow_mut();
            if let Some(i) = p.iter().rposition(|&a| a == self.0) {
                p.remove(i);
            }
        });
    }
}

/// Starts printing the container at `addr`; `None` if it is already being printed
/// (the container contains itself).
pub(crate) fn printing(addr: u64) -> Option<Printing> {
    PRINTING.with(|p| {
        let mut p = p.borrow_mut();
        if p.contains(&addr) {
            None
        } else {
            p.push(addr);
            Some(Printing(addr))
        }
    })
}
