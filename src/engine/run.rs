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
        if let Some(tree) = self.trees.get_mut(&loc) {
            tree.entries += 1;
        }
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
                Outcome::Exit(exit) => return Ok(Entered::Exit(self.exited(left, &exit, memory)?)),
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
        let entry = backend.unit(unit).ok_or((unit, "no such unit".to_string()))?.entry;
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
        let trace = backend.trace(left).ok_or((left, format!("unknown unit {left} left")))?;
        decode_outcome(trace, code, &state, &self.slots)
            .map(|o| (left, o))
            .map_err(|f| (left, f.to_string()))
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
        let back = resume(&self.registry, trace, exit, memory).map_err(|e| EngineError::Fault(e.to_string()))?;
        let guard = back.guard;
        let info = trace.guards().into_iter().nth(guard.index());
        let origin = info.and_then(|g| trace.snapshot(g.snapshot).origin);
        let exit_snapshot = info.map(|g| trace.snapshot(g.snapshot).clone());
        let interrupted = info.is_some_and(|g| {
            matches!(
                trace.blocks[g.block.index()].insts[g.inst].op,
                Op::Guard(GuardKind::NoInterrupt, _)
            )
        });
        self.stats.exits += 1;
        let Some(meta) = self.units.get(&left) else {
            return Err(EngineError::Fault(format!("unit {left} is not the engine's")));
        };
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
        let mut recording_bridge = false;
        if tier_guard == Some(guard) {
            self.tier_up(root);
            return Ok(Exit {
                frames: back.frames,
                exception_pending: back.exception_pending,
                interrupted,
                recording_bridge,
            });
        }
        let key = if interrupted {
            None
        } else {
            self.count_tree_exit(root, left, origin)
        };
        if interrupted {
            self.stats.interrupts += 1;
        } else if self.hot.exit_taken(UnitId(left.0.into()), guard) == Action::Record
            && self.recording.is_none()
            && !self.no_bridge.contains(&(left, guard))
        {
            let decision = key.map_or(MergeDecision::Bridge, |k| self.merge_decision(root, k));
            if let (MergeDecision::Arm, Some(key)) = (decision, key) {
                recording_bridge = self.start_arm(root, left, guard, key, back.shape().0);
            } else if decision == MergeDecision::Wait {
                // Not enough iterations to tell a data-driven guard from a rare exit.
            } else if decision == MergeDecision::Reform {
                self.reform(root, false);
            } else if let Some(target) = self.loops.get(&root).map(|l| l.target.clone()) {
                match Recorder::start_bridge(&self.registry, &self.params, back.shape().0, &target) {
                    Ok(mut r) => {
                        if let Some(s) = &exit_snapshot {
                            let _ = r.assume_snapshot_facts(s);
                        }
                        let mode = Mode::Bridge {
                            parent: left,
                            guard,
                            root,
                        };
                        self.recording = Some((r, mode));
                        recording_bridge = true;
                    }
                    Err(why) => drop(self.hot.bridge_aborted(UnitId(left.0.into()), guard, &why)),
                }
            }
        }
        Ok(Exit {
            frames: back.frames,
            exception_pending: back.exception_pending,
            interrupted,
            recording_bridge,
        })
    }
}
