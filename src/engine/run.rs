//! # Entering native code and leaving it
//!
//! [`Engine::enter`] runs a loop unit on the host's slot values until native code
//! leaves: a `Finish`, a `jump` to a unit that was not linked (entered here), or an
//! exit. An exit is decoded from the slot buffer, resumed into host frames (virtual
//! objects materialized through the host's callbacks), counted, logged, and — past
//! `bridge_threshold` — starts a bridge recording from its state.

use super::merge::MergeDecision;
use super::*;

unsafe extern "C" fn alloc_trampoline<M: HostMemory>(ctx: *mut c_void, size: u64) -> u64 {
    // SAFETY: `run_native` passes the `&mut M` it holds exclusively for the call.
    unsafe { (*(ctx as *mut M)).alloc_raw(size) }
}

impl Engine {
    /// Runs the compiled loop at `loc` natively from the header frame's `slots`, with
    /// `memory` serving allocations and exits, until it leaves.
    pub fn enter<M: HostMemory>(
        &mut self,
        loc: Location,
        slots: &[Option<Val>],
        memory: &mut M,
    ) -> Result<Entered, EngineError> {
        let Some(lp) = self.loops.get(&loc) else {
            return Ok(Entered::NotEntered);
        };
        let Ok(mut inputs) = lp.target.shape.inputs(&[slots]) else {
            return Ok(Entered::NotEntered);
        };
        let mut unit = lp.unit;
        self.stats.loop_entries += 1;
        self.last_exit = None;
        let before = self.trees.get_mut(&loc).map(|tree| {
            let before = tree.iterations();
            tree.entries += 1;
            before
        });
        loop {
            let (left, outcome) = match self.run_native(unit, &inputs, memory) {
                Ok(x) => x,
                Err((left, msg)) => {
                    self.stats.native_faults += 1;
                    self.retire(left);
                    return Err(EngineError::Fault(msg));
                }
            };
            match outcome {
                Outcome::Finish(vals) => return Ok(Entered::Finish(vals)),
                Outcome::Jump { target, args } => {
                    // A target that was not linked (or was unlinked): enter it here.
                    let name = self
                        .backend()
                        .trace(left)
                        .and_then(|t| t.targets.get(target.index()))
                        .map(|t| t.name.clone());
                    let to = self.loops.values().find(|l| Some(&l.target.name) == name.as_ref());
                    match to {
                        Some(l) => {
                            unit = l.unit;
                            inputs = args;
                        }
                        None => return Err(EngineError::Fault(format!("jump to unknown unit {name:?}"))),
                    }
                }
                Outcome::Exit(exit) => {
                    let ran = before.zip(self.trees.get(&loc)).map(|(b, t)| t.iterations() - b);
                    let exit = self.exited(left, &exit, memory)?;
                    self.last_exit = ran.filter(|_| !exit.recording_bridge).map(|ran| (loc, ran));
                    return Ok(Entered::Exit(exit));
                }
            }
        }
    }

    pub(super) fn backend(&self) -> &Backend {
        self.backend.as_ref().expect("units exist only with a backend")
    }

    /// One native run of `unit`: which unit left, and how.
    fn run_native<M: HostMemory>(
        &mut self,
        unit: BUnit,
        inputs: &[Val],
        memory: &mut M,
    ) -> Result<(BUnit, Outcome), (BUnit, String)> {
        let backend = self.backend.as_ref().expect("units exist only with a backend");
        let entry = backend
            .unit(unit)
            .ok_or_else(|| (unit, "no such unit".to_string()))?
            .entry;
        let n = backend.max_slots_needed().max(inputs.len());
        if self.slots.len() < n {
            self.slots.resize(n, 0);
        }
        for (s, v) in self.slots.iter_mut().zip(inputs) {
            *s = v.to_bits();
        }
        let mut state = JitState::new(&mut self.slots);
        state.alloc = alloc_trampoline::<M>;
        state.alloc_ctx = memory as *mut M as *mut c_void;
        state.interrupt = Arc::as_ptr(&self.interrupt);
        if let Some(f) = self.take_exception {
            state.take_exception = f;
        }
        // SAFETY: the unit was compiled from a trace the host recorded over its own
        // objects; inputs fit its entry shape (checked by the caller); the state, slot
        // buffer, memory and interrupt word outlive the call.
        let code = unsafe { entry(&mut state) };
        let left = BUnit(state.unit as u32);
        backend
            .decode(left, code, &state, &self.slots)
            .map(|o| (left, o))
            .map_err(|f| match backend.trace(left) {
                Some(_) => (left, f.to_string()),
                None => (left, format!("unknown unit {left} left")),
            })
    }

    /// Resumes an exit of unit `left`, counts it and maybe starts a bridge recording.
    fn exited<M: HostMemory>(
        &mut self,
        left: BUnit,
        exit: &leones_ir::interp::ExitState,
        memory: &mut M,
    ) -> Result<Exit, EngineError> {
        let backend = self.backend.as_ref().expect("units exist only with a backend");
        let trace = backend.trace(left).expect("the unit that left is installed");
        let Some(meta) = self.units.get(&left) else {
            return Err(EngineError::Fault(format!("unit {left} is not the engine's")));
        };
        let back = resume_mapped(&meta.resume, exit, memory).map_err(|e| EngineError::Fault(e.to_string()))?;
        let guard = back.guard;
        let info = backend.guard_info(left, guard);
        let origin = info.and_then(|g| trace.snapshot(g.snapshot).origin);
        let snapshot = info.map(|g| g.snapshot);
        let interrupted = info.is_some_and(|g| {
            matches!(
                trace.blocks[g.block.index()].insts[g.inst].op,
                Op::Guard(GuardKind::NoInterrupt, _)
            )
        });
        self.stats.exits += 1;
        self.history.count_exit(left, guard);
        let root = meta.root;
        let tier_guard = meta.tier_guard;
        if meta.kind == UnitKind::Bridge {
            self.stats.bridge_exits += 1;
        }
        if self.log.exit {
            let mut s = format!(
                "; exit {} guard {guard}{}:",
                trace.name,
                if interrupted { " (interrupt)" } else { "" }
            );
            for f in &back.frames {
                let _ = write!(s, " {:?}@{} {:?}", f.frame, f.pc, f.slots);
            }
            self.emit_log(&s);
        }
        let recording_bridge = if tier_guard == Some(guard) {
            self.tier_exit(root, left);
            false
        } else if interrupted {
            self.stats.interrupts += 1;
            false
        } else {
            let key = self.count_tree_exit(root, left, origin);
            !self.judge_exit(root)
                && self.hot.exit_taken(UnitId(left.0.into()), guard) == Action::Record
                && self
                    .hot_exit(root, left, guard, key, snapshot, &back)
                    .unwrap_or_else(|| {
                        // Nothing attempted: the summary's `recordings` counts recordings started.
                        self.hot.record_declined();
                        false
                    })
        };
        Ok(Exit {
            frames: back.frames,
            exception_pending: back.exception_pending,
            interrupted,
            recording_bridge,
        })
    }

    /// A hot side exit of `left` at `guard` (recorded guard `key` of `root`'s tree, if
    /// it is the loop unit's; the hotness counters said to record) with the resumed
    /// state `back`: records an arm or a bridge from it, waits, or re-forms the region,
    /// as [`Engine::merge_decision`] says. Returns `None` when it attempts no
    /// recording, else whether the one it attempted started. (The entry shape is only
    /// built when a recording starts: most exits record nothing.)
    fn hot_exit(
        &mut self,
        root: Location,
        left: BUnit,
        guard: GuardId,
        key: Option<(usize, u32)>,
        snapshot: Option<leones_ir::SnapshotId>,
        back: &leones_tracer::Resumed,
    ) -> Option<bool> {
        if self.recording.is_some()
            || self.no_bridge.contains(&(left, guard))
            || self.bridging.contains(&(left, guard))
            || !self.may_compile()
        {
            return None;
        }
        let decision = key.map_or(MergeDecision::Bridge, |k| self.merge_decision(root, k));
        match (decision, key) {
            (MergeDecision::Arm, Some(key)) => return self.start_arm(root, left, guard, key, back.shape().0),
            // Not enough iterations to tell a data-driven guard from a rare exit.
            (MergeDecision::Wait, _) => return None,
            (MergeDecision::Reform, _) => {
                self.reform(root);
                return None;
            }
            (MergeDecision::BridgeTiered, _) => self.stats.rare_exits_bridged += 1,
            _ => {}
        }
        if self.at_bridge_cap(root) {
            self.note_capped(root);
            return None;
        }
        let target = self.loops.get(&root).map(|l| l.target.clone())?;
        let started = Recorder::start_bridge(&self.registry, &self.params, back.shape().0, &target);
        let facts = snapshot.and_then(|s| self.backend().trace(left).map(|t| t.snapshot(s).clone()));
        Some(self.begin_recording(
            started,
            facts.as_ref(),
            Mode::Bridge {
                parent: left,
                guard,
                root,
            },
        ))
    }

    /// Makes a started bridge or arm recording (from exit `guard` of unit `parent` in
    /// `mode`) the current one, assuming the `facts` its entry snapshot proves; a
    /// recording that could not start counts as an abort.
    pub(super) fn begin_recording(
        &mut self,
        started: Result<Recorder, Abort>,
        facts: Option<&leones_ir::Snapshot>,
        mode: Mode,
    ) -> bool {
        match started {
            Ok(mut r) => {
                if let Some(s) = facts {
                    let _ = r.assume_snapshot_facts(s);
                }
                self.recording = Some((r, mode));
                true
            }
            Err(why) => {
                self.note_abort(mode, &why);
                false
            }
        }
    }
}
