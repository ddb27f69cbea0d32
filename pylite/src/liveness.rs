//! # Liveness: which slots a code object may still read
//!
//! A frame slot is *live* at a pc when some path from that pc (normal control flow or
//! an exception) reads it before writing it. Everywhere else its value is
//! unobservable: no instruction reads it before it is written again (pylite has no
//! `del`, no `locals()`, no closures, and an `UnboundLocalError` comes only from
//! `CheckBound`, which reads). The JIT uses this where it hands state to Leones — merge
//! points, loop headers, a generator's resume point — so a slot that is dead there (the
//! `x` of `for x in row: if x is None: ...` after the `if`, a local holding an int on
//! one path and a float on another after its last read) need not have the same type or
//! constant on every path, and is not kept alive in snapshots.
//!
//! **The analysis** is the textbook backward dataflow over the instruction graph:
//!
//! ```text
//! live_in(i) = reads(i) ∪ (live_in(fallthrough) − kills(i)) ∪ live_in(jump target)
//!                       ∪ live_in(handler of i)
//! ```
//!
//! iterated to a fixpoint, over every slot: locals, register constants and
//! temporaries alike. Temporaries matter too: a join inside one statement
//! (`b = None if c else x`, `a or b`) carries the value of the expression in a
//! temporary across the join.
//!
//! **Being exact about the instruction set.** [`effects`] is one exhaustive match (a new
//! instruction does not compile until its effect is written down). Reads include whole
//! operand windows (a call's callee and arguments, a tuple's items). A kill is a write
//! that certainly happened when control reaches the successor it applies to: `ForIter`
//! and `ForRange` write their target only when they do not jump to the loop's exit, so
//! the kill is on the fallthrough edge only; `Yield` writes its result on resumption
//! (pc + 1); an instruction that raises writes nothing, so a handler's live set reaches
//! the instruction unreduced. `MakeFunction` reads a defaults window whose size is the
//! other code object's, so every slot from its start is taken as read. Where an
//! instruction can raise is not modelled: every instruction inside a `try` range may
//! reach the range's innermost handler (pylite's unwinding looks up exactly that one;
//! an outer handler is reached through the inner handler's own instructions, which
//! re-raise).
//!
//! **Generators** need nothing special: a frame suspended at a `yield` resumes at the
//! next instruction, which is the `yield`'s successor here, so a slot read after a
//! resume is live across the `yield`.
//!
//! Results are per pc (the live set *before* the instruction executes), one bit set per
//! instruction; the JIT caches one [`Liveness`] per code object. [`Poisoner`] checks the
//! analysis dynamically (see `tests/liveness.rs`).

use crate::bytecode::{Code, Instr, R};

/// What one instruction does to slots.
#[derive(Default, Debug, PartialEq)]
struct Effects {
    /// Slots it may read.
    reads: Vec<u32>,
    /// Slots it certainly writes before control reaches its fallthrough successor.
    kills: Vec<u32>,
    /// The fallthrough successor exists (not a `Jump`, `Loop`, `Return`, `Raise`...).
    falls_through: bool,
    /// Its jump target, reached without any of `kills` written.
    target: Option<u32>,
}

/// A window of `n` slots from `base` (slots past the frame, as from `NO_REG`, are
/// dropped by [`Liveness::of`]).
fn window(base: R, n: u32) -> impl Iterator<Item = u32> {
    (base as u32..).take(n as usize)
}

/// The effect of `ins` on slots (see the module docs). `nslots` bounds open windows.
fn effects(ins: Instr, nslots: u32) -> Effects {
    use Instr::*;
    let mut e = Effects {
        falls_through: true,
        target: ins.target().map(u32::from),
        ..Effects::default()
    };
    let r = |rs: &[R]| rs.iter().map(|&r| r as u32).collect::<Vec<_>>();
    match ins {
        Nop | KwNames { .. } | LoadGlobal { .. } | Import { .. } | GetExc { .. } | LoadConst { .. } => {}
        Jump { .. } | Loop { .. } => e.falls_through = false,
        Move { src, .. }
        | StoreGlobal { src, .. }
        | Neg { src, .. }
        | Pos { src, .. }
        | Invert { src, .. }
        | Not { src, .. }
        | GetIter { src, .. }
        | Format { src, .. } => e.reads = r(&[src]),
        CheckBound { r: x } | BrTrue { a: x, .. } | BrFalse { a: x, .. } | BrNone { a: x, .. } => e.reads = r(&[x]),
        BrNotNone { a, .. } | ImportFrom { module: a, .. } | WithExit { ctx: a } | WithEnter { ctx: a, .. } => {
            e.reads = r(&[a])
        }
        Add { a, b, .. }
        | Sub { a, b, .. }
        | Mul { a, b, .. }
        | Div { a, b, .. }
        | FloorDiv { a, b, .. }
        | Mod { a, b, .. }
        | Pow { a, b, .. }
        | Shl { a, b, .. }
        | Shr { a, b, .. }
        | BitAnd { a, b, .. }
        | BitOr { a, b, .. }
        | BitXor { a, b, .. }
        | Lt { a, b, .. }
        | Le { a, b, .. }
        | Gt { a, b, .. }
        | Ge { a, b, .. }
        | Eq { a, b, .. }
        | Ne { a, b, .. }
        | Is { a, b, .. }
        | IsNot { a, b, .. }
        | In { a, b, .. }
        | NotIn { a, b, .. }
        | BrLt { a, b, .. }
        | BrLe { a, b, .. }
        | BrGt { a, b, .. }
        | BrGe { a, b, .. }
        | BrEq { a, b, .. }
        | BrNe { a, b, .. }
        | BrNLt { a, b, .. }
        | BrNLe { a, b, .. }
        | BrNGt { a, b, .. }
        | BrNGe { a, b, .. }
        | BrIs { a, b, .. }
        | BrIsNot { a, b, .. }
        | ExcMatch { exc: a, cls: b, .. } => e.reads = r(&[a, b]),
        ListAppend { list, src } => e.reads = r(&[list, src]),
        GetItem { obj, idx, .. } => e.reads = r(&[obj, idx]),
        SetItem { obj, idx, src } => e.reads = r(&[obj, idx, src]),
        GetSlice { obj, base, .. } => e.reads = [obj as u32].into_iter().chain(window(base, 2)).collect(),
        GetAttr { obj, .. } => e.reads = r(&[obj]),
        SetAttr { obj, src, .. } => e.reads = r(&[obj, src]),
        LoadMethod { obj, .. } => e.reads = r(&[obj]),
        ClassSet { cls, src, .. } => e.reads = r(&[cls, src]),
        MakeClass { base, .. } => e.reads = r(&[base]),
        // The defaults window's size is the created function's: all of it from there.
        MakeFunction { defaults, .. } => e.reads = (defaults as u32..nslots).collect(),
        Call { base, n, .. } | CallKw { base, n, .. } => e.reads = window(base, n as u32 + 1).collect(),
        // Callee, receiver (or unbound marker), then the arguments.
        CallMethod { base, n, .. } => e.reads = window(base, n as u32 + 2).collect(),
        // Callee, the positional arguments, then the `*` iterable.
        CallStar { base, n, .. } => e.reads = window(base, n as u32 + 2).collect(),
        BuildTuple { base, n, .. } | BuildList { base, n, .. } | BuildString { base, n, .. } => {
            e.reads = window(base, n as u32).collect()
        }
        Unpack { src, .. } => e.reads = r(&[src]),
        RangeInit { base } => e.reads = window(base, 3).collect(),
        ForRange { base, .. } => e.reads = window(base, 3).collect(),
        ForIter { it, .. } => e.reads = r(&[it]),
        Yield { src, .. } => e.reads = r(&[src]),
        Return { src } | Raise { src } | Reraise { src } | AssertFail { msg: src } => {
            e.reads = r(&[src]);
            e.falls_through = false;
        }
    }
    e.kills = match ins {
        Move { dst, .. }
        | LoadConst { dst, .. }
        | LoadGlobal { dst, .. }
        | Add { dst, .. }
        | Sub { dst, .. }
        | Mul { dst, .. }
        | Div { dst, .. }
        | FloorDiv { dst, .. }
        | Mod { dst, .. }
        | Pow { dst, .. }
        | Shl { dst, .. }
        | Shr { dst, .. }
        | BitAnd { dst, .. }
        | BitOr { dst, .. }
        | BitXor { dst, .. }
        | Neg { dst, .. }
        | Pos { dst, .. }
        | Invert { dst, .. }
        | Not { dst, .. }
        | Lt { dst, .. }
        | Le { dst, .. }
        | Gt { dst, .. }
        | Ge { dst, .. }
        | Eq { dst, .. }
        | Ne { dst, .. }
        | Is { dst, .. }
        | IsNot { dst, .. }
        | In { dst, .. }
        | NotIn { dst, .. }
        | GetIter { dst, .. }
        | ForIter { dst, .. }
        | Call { dst, .. }
        | CallMethod { dst, .. }
        | CallStar { dst, .. }
        | CallKw { dst, .. }
        | Yield { dst, .. }
        | BuildTuple { dst, .. }
        | BuildList { dst, .. }
        | GetItem { dst, .. }
        | GetSlice { dst, .. }
        | GetAttr { dst, .. }
        | MakeFunction { dst, .. }
        | MakeClass { dst, .. }
        | Import { dst, .. }
        | ImportFrom { dst, .. }
        | GetExc { dst }
        | ExcMatch { dst, .. }
        | WithEnter { dst, .. }
        | Format { dst, .. }
        | BuildString { dst, .. } => vec![dst as u32],
        // The counter is read (above) and written; the target only when not at the end.
        ForRange { base, dst, .. } => vec![base as u32, dst as u32],
        Unpack { base, n, .. } => window(base, n as u32).collect(),
        LoadMethod { base, .. } => window(base, 2).collect(),
        _ => Vec::new(),
    };
    e
}

/// The live slots of one code object at every pc.
#[derive(Clone, Debug)]
pub struct Liveness {
    nslots: usize,
    /// 64-bit words per pc.
    stride: usize,
    /// `live_in` of pc `p` is `bits[p * stride .. (p + 1) * stride]`.
    bits: Vec<u64>,
}

impl Liveness {
    /// Computes the live slots of `code` at every pc.
    pub fn of(code: &Code) -> Liveness {
        let n = code.instrs.len();
        let nslots = code.nslots as usize;
        let stride = nslots.div_ceil(64);
        let mut lv = Liveness {
            nslots,
            stride,
            bits: vec![0; stride * (n + 1)],
        };
        if stride == 0 {
            return lv;
        }
        // Out-of-range operands (`NO_REG`, a window past the frame) are no slots.
        let in_frame = |s: &u32| (*s as usize) < nslots;
        let fx: Vec<Effects> = code
            .instrs
            .iter()
            .map(|&i| {
                let mut e = effects(i, nslots as u32);
                e.reads.retain(in_frame);
                e.kills.retain(in_frame);
                e
            })
            .collect();
        let handler: Vec<Option<usize>> = (0..n)
            .map(|pc| code.find_handler(pc as u32).map(|h| h as usize))
            .collect();
        let mut set = vec![0u64; stride];
        let mut changed = true;
        while changed {
            changed = false;
            for pc in (0..n).rev() {
                let e = &fx[pc];
                set.iter_mut().for_each(|w| *w = 0);
                if e.falls_through {
                    lv.union_into(&mut set, pc + 1);
                    for &k in &e.kills {
                        set[k as usize / 64] &= !(1 << (k % 64));
                    }
                }
                for succ in e.target.into_iter().map(|t| t as usize).chain(handler[pc]) {
                    lv.union_into(&mut set, succ);
                }
                for &r in &e.reads {
                    set[r as usize / 64] |= 1 << (r % 64);
                }
                let at = &mut lv.bits[pc * stride..(pc + 1) * stride];
                if at != set.as_slice() {
                    at.copy_from_slice(&set);
                    changed = true;
                }
            }
        }
        lv
    }

    /// Or's the live set at `pc` into `set` (a pc past the end, which a well-formed code
    /// object never reaches, has nothing live).
    fn union_into(&self, set: &mut [u64], pc: usize) {
        if let Some(w) = self.bits.get(pc * self.stride..(pc + 1) * self.stride) {
            set.iter_mut().zip(w).for_each(|(s, w)| *s |= w);
        }
    }

    /// Whether `slot` may be read, before being written, once the instruction at `pc`
    /// is about to execute (`false` for a slot outside the frame).
    pub fn is_live(&self, pc: usize, slot: usize) -> bool {
        slot < self.nslots
            && self
                .bits
                .get(pc * self.stride + slot / 64)
                .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// The slots live at `pc`, in slot order.
    pub fn live_at(&self, pc: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.nslots).filter(move |&s| self.is_live(pc, s))
    }
}

/// The value [`Poisoner`] writes into dead slots: an int no test program computes, so
/// a read of it shows up in the output (a wrong number, a wrong branch, an error)
/// rather than as a crash.
pub const POISON: i64 = -0x5EAD_DEAD_0BAD;

/// A checking mode for the analysis itself (`JitConfig::poisoning_dead_locals`): before
/// every instruction of the program's own interpreter run, each slot dead at that pc
/// (local, register constant or temporary) is overwritten with [`POISON`]. If the
/// analysis called a slot dead that some path still reads, the program computes
/// something else — which the tests compare against a plain run.
#[derive(Default)]
pub(crate) struct Poisoner {
    codes: std::collections::HashMap<usize, Liveness>,
}

impl Poisoner {
    /// Poisons the slots of the frame at `regs` (a frame of `code`) dead at `pc`.
    ///
    /// # Safety
    /// `regs` points at a frame of `code` (its `nslots` values).
    pub(crate) unsafe fn poison(&mut self, code: &Code, pc: usize, regs: *mut crate::Value) {
        let lv = self
            .codes
            .entry(code as *const Code as usize)
            .or_insert_with(|| Liveness::of(code));
        for i in (0..lv.nslots).filter(|&i| !lv.is_live(pc, i)) {
            // SAFETY: a slot of this frame (the caller's promise).
            unsafe { *regs.add(i) = crate::Value::int(POISON) };
        }
    }
}

#[cfg(test)]
#[path = "liveness_tests.rs"]
mod tests;
