//! # Recording generators and iterator classes
//!
//! A pylite generator *is* its frame: a [`GeneratorObj`] holds the code, the resume
//! point and the frame's slots inline, and resuming it pushes a frame whose registers
//! are the object's own slots. To the JIT a generator of code `C` is an object of
//! layout `g<C>` ([`GenLayout`]) whose fields are those slots, plus one `resume` word
//! (`pc | state << 32 | nslots << 48`).
//!
//! **`for x in gen`** (`ForIter` on a generator) is recorded as an inlined call of
//! the generator's body from its resume point to the next `yield`:
//!
//! ```text
//! guard_true kind(g) == Generator & g.code == C & g.resume == (pc, SUSPENDED, n)
//! guard_true (g.t<0> == T0) & (g.t<1> == T1) & ...   ; every slot's tag, one guard
//! setfield g.resume, (pc, RUNNING, n)          ; the body runs: next(g) inside it raises
//! push frame C@pc, slot i = g.w<i> as type T<i>
//!   ... the body, recorded like any inlined frame ...
//! yield v:  setfield g.t<i>/g.w<i> for every live slot; setfield g.resume, (pc', SUSPENDED, n)
//!           pop frame; x = v
//! ```
//!
//! So the generator's state is ordinary fields: when the generator does not escape
//! the trace (a `new g<C>` in it, from calling the generator function), escape
//! analysis keeps it virtual and its slots are SSA values; when it does, the heap
//! cache forwards the stores of one `yield` to the loads of the next resume.
//!
//! **Exits** inside the inlined body have two frames in their snapshot, the loop's
//! and the generator's. The host rebuilds the generator's as a real generator frame
//! (`host::resume_frames`): the caller's `ForIter` names the generator (its `it`
//! register, materialized first if it was virtual), the frame's registers are the
//! generator's slots, and the slot values of the snapshot are written into them.
//!
//! **Slots.** Register constants are constants (the compiler never writes them);
//! a slot unbound at the resume point is guarded unbound and is dead in the frame
//! (an exit writes it back unbound, which is what it is); a slot dead at the resume
//! point ([`super::live`]) is neither guarded nor loaded. A `yield` stores only live
//! slots: a dead one was unbound at the resume and nothing wrote it since, or a merge
//! point found it dead — then it is dead at the next resume point too, which does not
//! read it.
//!
//! **Iterator classes.** `ForIter` on an instance whose class defines a Python
//! `__next__` is an inlined method call (the frame is an `IterNext` frame when rebuilt).
//! `raise StopIteration` is not traced (an exception aborts a recording); the branch
//! that leads to it is a guard, so the end of the iteration is a guard exit and the
//! interpreter raises, catches and leaves the loop.

use super::live::Site;
use super::record::Rec;
use super::values::const_tv;
use super::world::{kind_word, GenLayout};
use crate::bytecode::{Code, Instr};
use crate::object::*;
use crate::value::*;
use crate::vm::FrameKind;
use leones_ir::interp::Val;
use leones_ir::BinaryOp;
use leones_tracer::{Abort, Tv};
use std::mem::offset_of;

// The fields the JIT reads and writes as 8-byte words.
const _: () = assert!(offset_of!(GeneratorObj, code) == 16);
const _: () = assert!(offset_of!(GeneratorObj, pc) == 24);
const _: () = assert!(offset_of!(GeneratorObj, state) == 28);
const _: () = assert!(offset_of!(GeneratorObj, nslots) == 30);
const _: () = assert!(GEN_SLOTS_OFFSET == 32);
// Every heap object has at least 32 bytes, so the words at 8, 16 and 24 can be read
// from any object before its kind is known (the resume guard does).
const _: () = {
    use std::mem::size_of;
    let sizes = [
        size_of::<StrObj>(),
        size_of::<BytesObj>(),
        size_of::<TupleObj>(),
        size_of::<ListObj>(),
        size_of::<Instance>(),
        size_of::<ClassObj>(),
        size_of::<FunctionObj>(),
        size_of::<BuiltinObj>(),
        size_of::<GeneratorObj>(),
        size_of::<ModuleObj>(),
        size_of::<FileObj>(),
        size_of::<PropertyObj>(),
        size_of::<BoundMethodObj>(),
        size_of::<RangeObj>(),
        size_of::<RangeIterObj>(),
        size_of::<SeqIterObj>(),
    ];
    let mut i = 0;
    while i < sizes.len() {
        assert!(sizes[i] >= 32);
        i += 1;
    }
};

/// The `resume` word of a generator at `pc` in `state` with `nslots` slots (the
/// little-endian word at offset 24: `pc: u32`, `state: u8`, padding, `nslots: u16`).
pub(crate) fn resume_word(pc: u32, state: u8, nslots: u16) -> i64 {
    (pc as u64 | (state as u64) << 32 | (nslots as u64) << 48) as i64
}

/// What the recording loaded from a generator when it inlined the generator's frame
/// (at recorder depth `depth`): per slot, the traced value and the tag it was guarded
/// to have. At the `yield` a slot still holding that value is not stored back (the
/// object still holds it), and one of the same tag gets only its payload word stored.
#[derive(Clone, Debug)]
pub(crate) struct GenResume {
    depth: usize,
    loaded: Vec<Option<(Tv, u64)>>,
}

fn unsupported(what: impl Into<String>) -> Abort {
    Abort::Unsupported(what.into())
}

impl Rec<'_> {
    /// Guards that `tv` (seen as generator `g`) is a generator running `g`'s code; its
    /// layout.
    pub(super) fn guard_generator(&mut self, tv: Tv, g: *mut GeneratorObj) -> Result<GenLayout, Abort> {
        // SAFETY: a live generator (the caller checked the kind).
        let code = unsafe { (*g).code };
        let gl = self.w.generator(code).map_err(Abort::Invalid)?;
        self.r.guard_null(tv, false)?;
        let k = self.r.getfield(tv, gl.kind)?;
        self.guard_eq(k, kind_word(Kind::Generator))?;
        let c = self.r.getfield(tv, gl.code)?;
        self.guard_eq(c, code as i64)?;
        Ok(gl)
    }

    /// Writes value `v` (seen as `seen`) into slot `i` of generator `g`.
    fn store_gen_slot(&mut self, g: Tv, gl: &GenLayout, i: usize, v: Tv, seen: Value) -> Result<(), Abort> {
        let (tag, word) = self.value_words(v, seen)?;
        let f = gl.values[i];
        let t = self.int(tag as i64);
        self.r.setfield(g, f.tag, t)?;
        self.r.setfield(g, f.word, word)
    }

    /// Calling generator function `f` with `args` (seen): a new suspended generator,
    /// its parameters bound, in `dst` — what `call_function` does for a generator.
    pub(super) fn new_generator(&mut self, dst: u16, f: *mut FunctionObj, args: &[(Tv, Value)]) -> Result<(), Abort> {
        // SAFETY: live function; VM-owned code.
        let code: &Code = unsafe { &*(*f).code };
        let tvs: Vec<Tv> = args.iter().map(|a| a.0).collect();
        let bound = self.bind_args(f, &tvs)?;
        let gl = self.w.generator(code).map_err(Abort::Invalid)?;
        let g = self.r.new_object(gl.layout)?;
        let k = self.int(kind_word(Kind::Generator));
        self.r.setfield(g, gl.kind, k)?;
        let c = self.int(code as *const Code as i64);
        self.r.setfield(g, gl.code, c)?;
        let resume = self.int(resume_word(0, GEN_SUSPENDED, code.nslots));
        self.r.setfield(g, gl.resume, resume)?;
        // SAFETY: live function.
        let defaults = unsafe { (*f).defaults.as_slice() };
        let np = bound.len();
        for (i, &tv) in bound.iter().enumerate() {
            if self.is_lazy(tv) {
                // An item of `f(*row)` passed lazily (super::lazy): its words are copied
                // as they are; the body guards the tag where it reads the slot.
                let (from, to) = (self.w.lazy.values[0], gl.values[i]);
                let tag = self.r.getfield(tv, from.tag)?;
                let word = self.r.getfield(tv, from.word)?;
                self.r.setfield(g, to.tag, tag)?;
                self.r.setfield(g, to.word, word)?;
                continue;
            }
            let seen = match args.get(i) {
                Some(a) => a.1,
                None => defaults[i - (np - defaults.len())],
            };
            self.store_gen_slot(g, &gl, i, tv, seen)?;
        }
        // The register constants (`bind_args` writes them too); other slots are unbound,
        // which is the zero the new object starts with.
        let nl = code.nlocals as usize;
        for (i, &k) in code.consts[..code.nregconsts as usize].iter().enumerate() {
            if let Some(tv) = const_tv(k) {
                self.keep(k);
                self.store_gen_slot(g, &gl, nl + i, tv, k)?;
            }
        }
        self.set(dst, g)
    }

    /// `ForIter` at `pc` on generator `gv` (traced as `gtv`): the generator's body from
    /// its resume point, inlined (see the module docs).
    pub(super) fn resume_generator(&mut self, pc: usize, gtv: Tv, gv: Value) -> Result<(), Abort> {
        let g = gv.as_ptr::<GeneratorObj>();
        // SAFETY: kind checked by the caller; a live generator.
        let (code, gpc, state, n) = unsafe { ((*g).code, (*g).pc, (*g).state, (*g).nslots) };
        if state == GEN_RUNNING {
            return Err(unsupported("a for over a running generator"));
        }
        // Kind, code and resume point in one guard: the three words are at offsets 8,
        // 16 and 24, inside every pylite object (the smallest are 32 bytes), so they
        // can be read before the object is known to be a generator.
        let gl = self.w.generator(code).map_err(Abort::Invalid)?;
        self.r.guard_null(gtv, false)?;
        let mut same = Tv::constant(true);
        for (f, want) in [
            (gl.kind, kind_word(Kind::Generator)),
            (gl.code, code as i64),
            (gl.resume, resume_word(gpc, state, n)),
        ] {
            let w = self.r.getfield(gtv, f)?;
            let eq = self.eq_const(w, want)?;
            same = self.bin(BinaryOp::BAnd, same, eq)?;
        }
        self.r.guard(same, true)?;
        if state == GEN_DONE {
            return Ok(()); // the loop ends: the interpreter jumps to the exit
        }
        // SAFETY: VM-owned code; the generator's slots are its frame.
        let (c, slots) = unsafe { (&*code, GeneratorObj::slots(g).to_vec()) };
        let consts = c.nlocals as usize..(c.nlocals + c.nregconsts) as usize;
        // Register constants, and slots dead at the resume point, are neither guarded
        // nor loaded (a dead slot's value is never read; a `yield` skips it too).
        let live = self.w.live.at(c, gpc as usize, Site::Header, false);
        let skip: Vec<bool> = (0..slots.len()).map(|i| !live.is_live(i)).collect();
        // The slots' tags, all checked by one guard (its exit resumes at the ForIter,
        // the generator untouched): one exit instead of one per slot keeps the code
        // small; the object is known to be a generator of this code, so the loads are
        // in bounds.
        let mut same = Tv::constant(true);
        for (i, seen) in slots.iter().enumerate().filter(|(i, _)| !skip[*i]) {
            let tag = self.r.getfield(gtv, gl.values[i].tag)?;
            let eq = self.eq_const(tag, seen.tag as i64)?;
            same = self.bin(BinaryOp::BAnd, same, eq)?;
        }
        self.r.guard(same, true)?;
        let running = self.int(resume_word(gpc, GEN_RUNNING, n));
        self.r.setfield(gtv, gl.resume, running)?;
        let frame = self.w.frame(c).map_err(Abort::Invalid)?;
        self.r.push_frame(frame, pc as u32, &[])?;
        let depth = self.r.depth();
        self.gens.retain(|g| g.depth < depth);
        let mut loaded = vec![None; slots.len()];
        for (i, &seen) in slots.iter().enumerate() {
            if consts.contains(&i) {
                let k = c.consts[i - consts.start];
                self.r.set_slot(i, const_tv(k))?;
                continue;
            }
            if seen.is_undef() || skip[i] {
                continue; // unbound, as the guard says, or dead: dead in the frame
            }
            let f = gl.values[i];
            let v = self.typed_word(|s| s.r.getfield(gtv, f.word), seen)?;
            self.r.set_slot(i, v)?;
            loaded[i] = Some((v, seen.tag));
        }
        self.gens.push(GenResume { depth, loaded });
        Ok(())
    }

    /// The generator the innermost (generator) frame runs: the caller's `ForIter`
    /// register, traced, with its layout and the caller's result register.
    fn running_generator(&mut self) -> Result<(Tv, GenLayout, u16), Abort> {
        let n = self.vm.frames.len();
        let (top, caller) = match (
            self.vm.frames.get(n.wrapping_sub(1)),
            self.vm.frames.get(n.wrapping_sub(2)),
        ) {
            (Some(t), Some(c)) if t.kind == FrameKind::Gen && !t.entry => (*t, *c),
            _ => return Err(unsupported("a generator frame not resumed by a for loop")),
        };
        // SAFETY: VM-owned code; the caller saved its pc past the `ForIter`. The borrow
        // is explicit: an implicit one of a raw pointer's target is an error lint.
        #[allow(clippy::needless_borrow)]
        let ins = unsafe {
            (&(*caller.code).instrs)
                .get((caller.pc as usize).wrapping_sub(1))
                .copied()
        };
        let Some(Instr::ForIter { it, .. }) = ins else {
            return Err(unsupported("a generator resumed by something other than ForIter"));
        };
        let caller_depth = self
            .r
            .depth()
            .checked_sub(2)
            .ok_or_else(|| unsupported("no caller frame in the trace"))?;
        let gtv = self.r.frame_slot(caller_depth, it as usize)?;
        let gl = self.w.generator(top.code).map_err(Abort::Invalid)?;
        Ok((gtv, gl, top.ret_dst))
    }

    /// `Yield { dst, src }` at `pc` in an inlined generator frame.
    pub(super) fn record_yield(&mut self, pc: usize, dst: u16, src: u16) -> Result<(), Abort> {
        if self.r.depth() <= 1 {
            return Err(unsupported("a yield from the trace's outermost frame"));
        }
        let (gtv, gl, ret_dst) = self.running_generator()?;
        let v = self.slot(src)?;
        // The value of the `yield` expression is None (no send()).
        self.set(dst, Tv::constant(Val::Ref(0)))?;
        let slots = self.r.slots()?;
        let depth = self.r.depth();
        let loaded = match self.gens.iter().position(|g| g.depth == depth) {
            Some(k) => self.gens.swap_remove(k).loaded,
            None => Vec::new(), // a bridge that started inside the generator: store all
        };
        let (nl, nk) = (self.code.nlocals as usize, self.code.nregconsts as usize);
        for (i, tv) in slots.iter().enumerate() {
            let Some(mut tv) = *tv else { continue };
            if (nl..nl + nk).contains(&i) {
                continue;
            }
            if self.is_lazy(tv) {
                tv = self.force_lazy(i as u16, tv)?; // lazy values live only in frames
            }
            let seen = if i == dst as usize {
                Value::NONE
            } else {
                self.reg(i as u16)
            };
            match loaded.get(i).copied().flatten() {
                Some((was, _)) if was == tv => {}
                Some((_, tag)) if tag == seen.tag && seen.tag != TAG_NONE => {
                    let (_, word) = self.value_words(tv, seen)?;
                    self.r.setfield(gtv, gl.values[i].word, word)?;
                }
                _ => self.store_gen_slot(gtv, &gl, i, tv, seen)?,
            }
        }
        let n = self.code.nslots;
        let resume = self.int(resume_word(pc as u32 + 1, GEN_SUSPENDED, n));
        self.r.setfield(gtv, gl.resume, resume)?;
        self.r.pop_frame()?;
        self.set(ret_dst, v)
    }

    /// `Return` in an inlined generator frame: the generator is done, and the caller's
    /// loop ends (the interpreter jumps to the loop's exit).
    pub(super) fn record_generator_return(&mut self) -> Result<(), Abort> {
        let (gtv, gl, _) = self.running_generator()?;
        let top = self
            .vm
            .frames
            .last()
            .copied()
            .ok_or_else(|| Abort::Invalid("no frame".into()))?;
        // SAFETY: a live generator (the frame runs it); its pc is the resume point.
        let gpc = unsafe { (*top.gen).pc };
        let done = self.int(resume_word(gpc, GEN_DONE, self.code.nslots));
        self.r.setfield(gtv, gl.resume, done)?;
        self.r.pop_frame()
    }

    /// `ForIter` at `pc` on an instance whose class defines a Python `__next__`.
    pub(super) fn iter_next_call(&mut self, pc: usize, tv: Tv, v: Value) -> Result<(), Abort> {
        let cls = class_of(v).ok_or_else(|| unsupported("not an instance"))?;
        // SAFETY: a live class.
        let m = unsafe { (*cls).attrs.get(&self.vm.names.next).copied() };
        let Some(m) = m.filter(|m| m.is_kind(Kind::Function)) else {
            return Err(unsupported("an iterator without a Python __next__"));
        };
        self.guard_instance(tv, v)?;
        self.guard_epoch()?;
        self.keep(m);
        self.inline_call(pc, m.as_ptr(), &[tv])
    }
}
