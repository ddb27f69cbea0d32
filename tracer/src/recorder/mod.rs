//! # The recorder: the host's interpreter writes a trace as it runs
//!
//! Recording is LuaJIT/TraceMonkey style, not meta-tracing: the host's interpreter keeps
//! executing normally, and for every operation it performs it also tells the
//! [`Recorder`] what it did, with traced operands ([`Tv`]) and the concrete outcome
//! where a path was chosen (which way a branch went, whether an add overflowed, whether
//! a call raised). The recorder emits IR into one block of a [`Trace`], and:
//!
//! - **folds constants** as it goes, with [`leones_ir::fold`] (the one definition of
//!   every pure op): `iadd 2, 3` is the constant 5 and emits nothing; a guard on a
//!   constant that holds is dropped, one that fails aborts (the host went the other way);
//! - **mirrors the host's frames** ([`frame`]): slot → traced value, a resume pc per
//!   frame, one extra frame per inlined call;
//! - **snapshots every guard** from all live frames, so a failing guard rebuilds the
//!   host's exact state *before* the instruction that checked it (the host resumes by
//!   re-executing that instruction — it must therefore report a guard before it writes
//!   the instruction's result slot);
//! - **closes the loop** when the host is back at the start location with a compatible
//!   frame stack: `jump block0(current values of the entry's live slots)`. A different
//!   shape does not close; recording goes on (unrolling one more iteration) up to
//!   `loop_unroll` times, then aborts with [`Abort::ShapeMismatch`];
//! - **aborts** cleanly (every method returns `Result<_, Abort>`, and once aborted every
//!   later call returns the same abort) on a too-long trace, too-deep inlining, an
//!   exception or overflow path, or anything unsupported.
//!
//! The result is verified with [`leones_ir::verify`] before it is handed out; a trace
//! that does not verify is an [`Abort::Invalid`], never a panic.
//!
//! ## The trace of `i += 1; while i < n`
//!
//! ```text
//! trace loop0
//! frame main code 0x0 slots 2
//!
//! block0(v0: i64, v1: i64):                  ; the entry frame's live slots: i, n
//!     guard_no_interrupt [main@0(v0, v1)]    ; the loop header's poll
//!     v2 = const 1
//!     v3 = iadd_ovf v0, v2
//!     guard_no_overflow v3 [main@0(v0, v1)]  ; resume *at* the add, state before it
//!     v4 = ilt v3, v1
//!     guard_true v4 [main@1(v3, v1)]         ; the loop exit
//!     jump block0(v3, v1)
//! ```
//!
//! ## Bridges
//! [`Recorder::start_bridge`] starts from a side exit's state (its live slots become
//! `block0`'s parameters, possibly several frames deep) and ends with
//! `jump @loop(args)` when the host reaches the target loop's header with a stack that
//! fits the loop's entry shape.

pub mod frame;
pub mod merge;
mod ops;

pub use frame::{Shape, ShapeFrame, Tv};
pub use merge::{MergeFrame, MergePointInfo, MergeShape, MergeSlot, MergeTarget};

use crate::abort::Abort;
use crate::hotness::Location;
use crate::params::Params;
use crate::registry::{FrameRef, Interner, Registry};
use frame::{AbsFrame, Repr};
use leones_ir::descr::TargetDescr;
use leones_ir::{Block, Const, GuardKind, JumpTarget, Op, Snapshot, Trace, Type, Value};
use std::collections::HashMap;

/// What kind of unit a recording produced.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnitKind {
    /// A loop trace: `block0(...) ... jump block0(...)`.
    Loop,
    /// A bridge from a side exit: `block0(...) ... jump @target(...)`.
    Bridge,
}

/// A finished, verified recording.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The trace (verified).
    pub trace: Trace,
    pub kind: UnitKind,
    /// The loop header the unit ends at (its own start for a loop).
    pub location: Location,
    /// The entry shape: what `block0`'s parameters are.
    pub entry: Shape,
    /// The merge points noted in the trace (`merge_point` ops), in order.
    pub merge_points: Vec<MergePointInfo>,
    /// For an arm that stopped at a merge point: the target it jumps to.
    pub rejoined: Option<String>,
}

impl Recorded {
    /// How a bridge names this loop when it jumps back to it (loops only).
    pub fn target(&self) -> Option<LoopTarget> {
        (self.kind == UnitKind::Loop).then(|| LoopTarget {
            name: self.trace.name.clone(),
            location: self.location,
            shape: self.entry.clone(),
        })
    }
}

/// A compiled loop a bridge may end at: `jump @name(args)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopTarget {
    /// The [`TargetDescr`] name (the loop trace's name).
    pub name: String,
    /// The loop's header.
    pub location: Location,
    /// The loop's entry shape (one frame).
    pub shape: Shape,
}

/// Where a recording ends.
#[derive(Clone, Debug)]
struct Closing {
    location: Location,
    shape: Shape,
    jump: JumpTarget,
    kind: UnitKind,
}

/// Records one trace; see the [module docs](self).
#[derive(Debug)]
pub struct Recorder {
    reg: Registry,
    trace_limit: u32,
    inline_depth: u32,
    loop_unroll: u32,
    trace: Trace,
    interner: Interner,
    frames: Vec<AbsFrame>,
    /// How many frames the unit starts with (inlining depth counts above these).
    base_depth: usize,
    entry: Shape,
    closing: Closing,
    consts: HashMap<Const, Value>,
    mismatches: u32,
    /// Guards emitted so far (the next guard's ordinal).
    guards: u32,
    /// Merge points an arm may stop at (empty unless recording an arm).
    merge_targets: Vec<MergeTarget>,
    /// Merge points noted so far.
    merge_points: Vec<MergePointInfo>,
    state: Result<(), Abort>,
}

impl Recorder {
    fn new(reg: &Registry, p: &Params, name: String, entry: Shape, closing: Closing) -> Result<Recorder, Abort> {
        let mut r = Recorder {
            reg: reg.clone(),
            trace_limit: p.trace_limit,
            inline_depth: p.inline_depth,
            loop_unroll: p.loop_unroll,
            trace: Trace::new(name),
            interner: Interner::default(),
            frames: Vec::new(),
            base_depth: entry.frames.len(),
            entry: entry.clone(),
            closing,
            consts: HashMap::new(),
            mismatches: 0,
            guards: 0,
            merge_targets: Vec::new(),
            merge_points: Vec::new(),
            state: Ok(()),
        };
        let block0 = r.trace.add_block();
        for sf in &entry.frames {
            let id = r.intern_frame(sf.frame)?;
            if sf.slots.len() != r.trace.frame(id).slots as usize {
                return Err(Abort::Invalid(format!(
                    "frame {} has {} slots, the entry gives {}",
                    r.trace.frame(id).name,
                    r.trace.frame(id).slots,
                    sf.slots.len()
                )));
            }
            let slots = sf
                .slots
                .iter()
                .map(|t| t.map(|t| Tv::value(r.trace.add_block_param(block0, t), t)))
                .collect();
            r.frames.push(AbsFrame {
                frame: sf.frame,
                id,
                pc: sf.pc,
                slots,
            });
        }
        Ok(r)
    }

    /// Starts recording a loop at `location`, whose entry frame is `entry` (its kind,
    /// the header's pc, and the types of its live slots — see [`ShapeFrame::of`]).
    /// Emits the header's `guard_no_interrupt`.
    pub fn start_loop(reg: &Registry, p: &Params, location: Location, entry: ShapeFrame) -> Result<Recorder, Abort> {
        let shape = Shape::single(entry);
        let closing = Closing {
            location,
            shape: shape.clone(),
            jump: JumpTarget::Block(Block::new(0)),
            kind: UnitKind::Loop,
        };
        let mut r = Recorder::new(reg, p, format!("loop{}", location.0), shape, closing)?;
        r.guard_kind(GuardKind::NoInterrupt)?;
        Ok(r)
    }

    /// Starts recording a bridge from a side exit whose state has shape `entry` (see
    /// [`Resumed::shape`](crate::Resumed::shape)), ending at loop `target`.
    pub fn start_bridge(reg: &Registry, p: &Params, entry: Shape, target: &LoopTarget) -> Result<Recorder, Abort> {
        if target.shape.frames.len() != 1 {
            return Err(Abort::Invalid("a loop target has exactly one frame".into()));
        }
        let closing = Closing {
            location: target.location,
            shape: target.shape.clone(),
            jump: JumpTarget::Unit(leones_ir::TargetId::new(0)),
            kind: UnitKind::Bridge,
        };
        let mut r = Recorder::new(reg, p, format!("bridge_to_{}", target.name), entry, closing)?;
        r.trace.targets.push(TargetDescr {
            name: target.name.clone(),
            params: target.shape.param_types(),
        });
        Ok(r)
    }

    /// Starts recording an *arm*: a bridge named `name` that stops at the first of
    /// `merges` the host reaches with a fitting state ([`Recorder::merge_point`]), or
    /// else, like a bridge, at `target`'s header.
    pub fn start_arm(
        reg: &Registry,
        p: &Params,
        entry: Shape,
        target: &LoopTarget,
        name: String,
        merges: Vec<MergeTarget>,
    ) -> Result<Recorder, Abort> {
        let mut r = Recorder::start_bridge(reg, p, entry, target)?;
        r.trace.name = name;
        r.merge_targets = merges;
        Ok(r)
    }

    /// The host is about to execute the instruction at `location` (its pc already set
    /// with [`Recorder::set_pc`]), a place where paths of its control flow join. An arm
    /// whose state fits one of its merge targets closes here (the spent recorder hands
    /// out the arm); otherwise the recorder notes a merge point in the trace.
    pub fn merge_point(&mut self, location: Location) -> Result<Option<Recorded>, Abort> {
        self.run(|r| {
            let fit = r.merge_targets.iter().find_map(|m| {
                (m.location == location)
                    .then(|| {
                        m.shape
                            .accepts(&r.frames)
                            .map(|args| (m.name.clone(), m.shape.param_types(), args))
                    })
                    .flatten()
            });
            if let Some((name, params, args)) = fit {
                let args = args
                    .into_iter()
                    .map(|tv| r.value_of(tv))
                    .collect::<Result<Vec<_>, _>>()?;
                r.trace.targets.push(TargetDescr {
                    name: name.clone(),
                    params,
                });
                let t = leones_ir::TargetId::new(r.trace.targets.len() - 1);
                r.emit(Op::Jump(JumpTarget::Unit(t), args), None)?;
                return r.seal(UnitKind::Bridge, Some(name)).map(Some);
            }
            let snap = r.trace.add_snapshot(r.snapshot());
            r.emit(Op::MergePoint(snap), None)?;
            r.merge_points.push(MergePointInfo {
                location,
                shape: MergeShape::of(&r.frames),
            });
            Ok(None)
        })
    }

    /// Runs `f` unless the recording already stopped; an abort sticks.
    fn run<R>(&mut self, f: impl FnOnce(&mut Recorder) -> Result<R, Abort>) -> Result<R, Abort> {
        self.state.clone()?;
        let out = f(self);
        if let Err(e) = &out {
            self.state = Err(e.clone());
        }
        out
    }

    /// Gives up the recording with a host-chosen reason (e.g. an instruction the host
    /// never traces). Returns the abort to pass to [`Hotness::aborted`](crate::Hotness::aborted).
    pub fn abort(&mut self, why: impl Into<String>) -> Abort {
        let a = Abort::Host(why.into());
        self.state = Err(a.clone());
        a
    }

    /// The trace recorded so far (for logging a failed recording).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// How many frames are live (entry frames plus inlined calls).
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    fn intern_frame(&mut self, f: FrameRef) -> Result<leones_ir::FrameId, Abort> {
        let reg = self.reg.clone();
        let t = reg.read();
        self.interner.frame(&t, &mut self.trace, f)
    }

    /// Appends an instruction, enforcing the trace limit.
    fn emit(&mut self, op: Op, ty: Option<Type>) -> Result<Option<Value>, Abort> {
        if self.trace.blocks[0].insts.len() >= self.trace_limit as usize {
            return Err(Abort::TraceTooLong {
                limit: self.trace_limit,
            });
        }
        Ok(self.trace.push(Block::new(0), op, ty))
    }

    /// Appends a value-producing instruction.
    fn emit_value(&mut self, op: Op, ty: Type) -> Result<Tv, Abort> {
        let v = self
            .emit(op, Some(ty))?
            .ok_or_else(|| Abort::Invalid("no result".into()))?;
        Ok(Tv::value(v, ty))
    }

    /// The SSA value of a traced value, materializing a constant once per trace.
    fn value_of(&mut self, tv: Tv) -> Result<Value, Abort> {
        match tv.0 {
            Repr::Value(v, _) => Ok(v),
            Repr::Const(k) => {
                if let Some(v) = self.consts.get(&k) {
                    return Ok(*v);
                }
                let v = self.emit_value(Op::Const(k), k.ty())?;
                let v = self.value_of(v)?;
                self.consts.insert(k, v);
                Ok(v)
            }
        }
    }

    /// The snapshot of the current frame stack.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            frames: self.frames.iter().map(AbsFrame::snapshot).collect(),
            virtuals: Vec::new(),
            origin: None,
        }
    }

    /// Emits a guard with a snapshot of the current state. The snapshot's origin is the
    /// guard's ordinal in the recording (0, 1, ...), which survives optimization.
    fn guard_kind(&mut self, kind: GuardKind) -> Result<(), Abort> {
        let snap = Snapshot {
            origin: Some(self.guards),
            ..self.snapshot()
        };
        let snap = self.trace.add_snapshot(snap);
        self.emit(Op::Guard(kind, snap), None)?;
        self.guards += 1;
        Ok(())
    }

    fn top(&mut self) -> Result<&mut AbsFrame, Abort> {
        self.frames.last_mut().ok_or_else(|| Abort::Invalid("no frame".into()))
    }

    /// Sets the pc of the innermost frame: the instruction the host is about to execute.
    /// Guards resume there.
    pub fn set_pc(&mut self, pc: u32) -> Result<(), Abort> {
        self.run(|r| {
            r.top()?.pc = pc;
            Ok(())
        })
    }

    /// The traced value in slot `i` of the innermost frame.
    pub fn slot(&mut self, i: usize) -> Result<Tv, Abort> {
        self.run(|r| {
            let f = r.top()?;
            match f.slots.get(i) {
                Some(Some(tv)) => Ok(*tv),
                Some(None) => Err(Abort::Invalid(format!("slot {i} is dead"))),
                None => Err(Abort::Invalid(format!("slot {i} is out of range"))),
            }
        })
    }

    /// The traced values of every slot of the innermost frame (`None`: dead), for a host
    /// that copies a whole frame into an object (pylite's generators at `yield`).
    pub fn slots(&mut self) -> Result<Vec<Option<Tv>>, Abort> {
        self.run(|r| Ok(r.top()?.slots.clone()))
    }

    /// Gives slot `i` of the innermost frame, if it holds a constant, an SSA value of
    /// its own holding that constant (a `const` not shared with the constant's other
    /// uses). A host calls it at a merge point for slots whose constant is a choice of
    /// this path (`x = 1.25` after `if x is None`): the code after the merge point then
    /// reads the slot's own value, which a region's join can replace with the value
    /// another path brings — a shared constant could not be replaced.
    pub fn unfold_constant(&mut self, i: usize) -> Result<(), Abort> {
        self.run(|r| {
            let Some(Some(Tv(Repr::Const(k)))) = r.top()?.slots.get(i).copied() else {
                return Ok(());
            };
            let v = r.emit_value(Op::Const(k), k.ty())?;
            r.top()?.slots[i] = Some(v);
            Ok(())
        })
    }

    /// Starts a bridge from what the side exit's snapshot knew (`snapshot` is that
    /// exit's; its frames match the entry shape): slots it held as constants are
    /// constants again, and slots it held as one SSA value hold one traced value. The
    /// bridge then folds what its parent folded, and its state at a merge point looks
    /// like the parent's (same constants, same shared values).
    pub fn assume_snapshot_facts(&mut self, snapshot: &Snapshot) -> Result<(), Abort> {
        self.run(|r| {
            if snapshot.frames.len() != r.frames.len() {
                return Err(Abort::Invalid("the snapshot does not match the entry frames".into()));
            }
            let mut first: HashMap<Value, Tv> = HashMap::new();
            for (f, sf) in r.frames.iter_mut().zip(&snapshot.frames) {
                for (slot, sv) in f.slots.iter_mut().zip(&sf.slots) {
                    let Some(tv) = slot.as_mut() else { continue };
                    match *sv {
                        leones_ir::SlotValue::Const(k) if tv.ty() == k.ty() => *tv = Tv(Repr::Const(k)),
                        leones_ir::SlotValue::Value(v) => match first.get(&v) {
                            Some(same) if same.ty() == tv.ty() => *tv = *same,
                            Some(_) => {}
                            None => {
                                first.insert(v, *tv);
                            }
                        },
                        _ => {}
                    }
                }
            }
            Ok(())
        })
    }

    /// The traced value in slot `i` of frame `k` (0 = the outermost).
    pub fn frame_slot(&mut self, k: usize, i: usize) -> Result<Tv, Abort> {
        self.run(|r| match r.frames.get(k).map(|f| f.slots.get(i)) {
            Some(Some(Some(tv))) => Ok(*tv),
            Some(Some(None)) => Err(Abort::Invalid(format!("slot {i} of frame {k} is dead"))),
            _ => Err(Abort::Invalid(format!("no slot {i} in frame {k}"))),
        })
    }

    /// Writes slot `i` of the innermost frame (`None` kills it).
    pub fn set_slot(&mut self, i: usize, tv: impl Into<Option<Tv>>) -> Result<(), Abort> {
        let tv = tv.into();
        self.run(|r| {
            let f = r.top()?;
            let s = f
                .slots
                .get_mut(i)
                .ok_or_else(|| Abort::Invalid(format!("slot {i} is out of range")))?;
            *s = tv;
            Ok(())
        })
    }

    /// Enters an inlined call: the caller resumes at `return_pc` (a snapshot taken in
    /// the callee rebuilds the caller there), the callee is a frame of kind `frame`
    /// whose first slots are `args` (the rest dead) and whose pc starts at 0.
    pub fn push_frame(&mut self, frame: FrameRef, return_pc: u32, args: &[Tv]) -> Result<(), Abort> {
        self.run(|r| {
            if r.frames.len() - r.base_depth >= r.inline_depth as usize {
                return Err(Abort::InlineTooDeep { limit: r.inline_depth });
            }
            let id = r.intern_frame(frame)?;
            let n = r.trace.frame(id).slots as usize;
            if args.len() > n {
                return Err(Abort::Invalid(format!(
                    "{} arguments for a frame of {n} slots",
                    args.len()
                )));
            }
            r.top()?.pc = return_pc;
            let mut slots: Vec<Option<Tv>> = args.iter().copied().map(Some).collect();
            slots.resize(n, None);
            r.frames.push(AbsFrame {
                frame,
                id,
                pc: 0,
                slots,
            });
            Ok(())
        })
    }

    /// Leaves an inlined call; the host then stores the result in the caller itself.
    pub fn pop_frame(&mut self) -> Result<(), Abort> {
        self.run(|r| {
            if r.frames.len() <= 1 {
                return Err(Abort::Unsupported("return from the trace's outermost frame".into()));
            }
            r.frames.pop();
            // A bridge may return out of the frames it started in (an exit inside an
            // inlined call): inlining depth then counts from the frames left.
            r.base_depth = r.base_depth.min(r.frames.len());
            Ok(())
        })
    }

    /// The host's interpreter is at loop header `location` (call it each time it
    /// arrives at one, but not on the arrival that started the recording). If this is
    /// where the unit ends and the frames fit, the trace is closed, verified and
    /// returned; the recorder is then spent.
    pub fn at_header(&mut self, location: Location) -> Result<Option<Recorded>, Abort> {
        self.run(|r| {
            if location != r.closing.location {
                return Ok(None);
            }
            let c = &r.closing;
            let fits =
                r.frames.len() == c.shape.frames.len() && r.frames.iter().zip(&c.shape.frames).all(|(f, s)| f.fits(s));
            if !fits {
                r.mismatches += 1;
                return if r.mismatches > r.loop_unroll {
                    Err(Abort::ShapeMismatch)
                } else {
                    Ok(None)
                };
            }
            r.close().map(Some)
        })
    }

    /// Emits the closing jump, verifies, and hands the trace out.
    fn close(&mut self) -> Result<Recorded, Abort> {
        let live: Vec<Tv> = self
            .frames
            .iter()
            .zip(&self.closing.shape.frames)
            .flat_map(|(f, s)| {
                f.slots
                    .iter()
                    .zip(&s.slots)
                    .filter(|(_, t)| t.is_some())
                    .map(|(tv, _)| *tv)
            })
            .collect::<Option<Vec<Tv>>>()
            .ok_or_else(|| Abort::Invalid("a live slot is dead at the loop header".into()))?;
        let args = live
            .into_iter()
            .map(|tv| self.value_of(tv))
            .collect::<Result<Vec<_>, _>>()?;
        self.emit(Op::Jump(self.closing.jump.clone(), args), None)?;
        self.seal(self.closing.kind, None)
    }

    /// Verifies the finished trace and hands it out; the recorder is then spent.
    fn seal(&mut self, kind: UnitKind, rejoined: Option<String>) -> Result<Recorded, Abort> {
        let trace = std::mem::take(&mut self.trace);
        leones_ir::verify(&trace).map_err(|e| Abort::Invalid(format!("the recorded trace does not verify: {e}")))?;
        self.state = Err(Abort::Invalid("the recording is finished".into()));
        Ok(Recorded {
            trace,
            kind,
            location: self.closing.location,
            entry: self.entry.clone(),
            merge_points: std::mem::take(&mut self.merge_points),
            rejoined,
        })
    }
}
