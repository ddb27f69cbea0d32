//! # Which slots hold state where pylite hands a frame to Leones
//!
//! At a loop header, a merge point and a generator's resume point the JIT tells
//! Leones which frame slots are state: only those take part in a loop's entry shape,
//! must fit when an arm rejoins its parent ([`MergeShape`](leones_tracer::MergeShape)),
//! are guarded and loaded when a generator resumes, and stay alive in snapshots after
//! that. Everything else is dead (`None`) and may hold any value of any type on any
//! path — which is what lets `if x is None: x = 0.25` paths rejoin once `x` is no longer
//! read, and an int path rejoin a float path after the last read of the local whose
//! type differed.
//!
//! A slot is live at pc `p` when
//! - [`Liveness`] says it may be read after `p` before being written (locals and
//!   temporaries alike: a `for` loop's iterator, a `with` block's context, the value of
//!   `a if c else b` across its join);
//! - it is a **register constant** at a merge point (the recorder holds them as
//!   constants, which always fit). At loop headers they are never carried: they are
//!   constants in every trace, and an exit writes them back from the code's constants;
//! - it is slot 0 of an **`__init__` frame**: the interpreter returns it as the call's
//!   value (`Frame::init_self`), and an exit rebuilding such a frame reads it from the
//!   snapshot, so it must stay in every snapshot of the frame.
//!
//! **Why a dead slot may be dropped.** An exit writes a dead slot back unbound. Dropping
//! a slot at `p` removes it from every later snapshot of the path until it is written
//! again; each such snapshot's pc `q` is reached from `p` without writing the slot, so
//! it is dead at `q` too (a read after `q` would be a read after `p`), and the
//! interpreter resumed at `q` never reads the unbound value. A generator `yield` skips
//! dead slots; the slot is dead at the resume point as well, which then neither guards
//! nor loads it.

use crate::bytecode::Code;
use crate::liveness::Liveness;
use std::ops::Range;

/// The liveness of each code object's slots, computed once per code object.
#[derive(Default)]
pub(crate) struct LiveCache {
    codes: leones_tracer::FastHashMap<usize, Liveness>,
}

/// Where a frame is handed over (what happens to register constants).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// A loop header or a generator's resume point: register constants are not carried.
    Header,
    /// A merge point: register constants count as live.
    Merge,
}

/// The live slots of one frame at one pc (see the module docs).
pub(crate) struct LiveSlots<'a> {
    liveness: &'a Liveness,
    pc: usize,
    init_self: bool,
    consts: Range<usize>,
    site: Site,
}

impl LiveSlots<'_> {
    /// Whether slot `i` holds state here.
    pub fn is_live(&self, i: usize) -> bool {
        if self.consts.contains(&i) {
            return self.site == Site::Merge;
        }
        self.liveness.is_live(self.pc, i) || (i == 0 && self.init_self)
    }
}

impl LiveCache {
    /// The live slots of a frame of `code` about to execute `pc`; `init_frame` when the
    /// frame is an `__init__` call's (its slot 0 is the call's result).
    pub fn at(&mut self, code: &Code, pc: usize, site: Site, init_frame: bool) -> LiveSlots<'_> {
        let liveness = self
            .codes
            .entry(code as *const Code as usize)
            .or_insert_with(|| Liveness::of(code));
        let nl = code.nlocals as usize;
        LiveSlots {
            liveness,
            pc,
            init_self: init_frame,
            consts: nl..nl + code.nregconsts as usize,
            site,
        }
    }
}
