//! # The example host: a register VM with the Leones engine
//!
//! The language — instructions, objects, the plain interpreter [`interpret`], the
//! recorder hooks and the program generator — is in `lang.rs` (shared with the tracer's
//! tests); this file is the engine driver. [`Vm::run`] is the VM with the JIT: loops and
//! bridges are recorded, optimized, compiled by LLVM and run natively, and side exits
//! resume the interpreter. (This is `tracer/tests/regvm`, moved from the reference
//! interpreter onto the engine.)

#![allow(dead_code)]

#[path = "lang.rs"]
mod lang;
pub use lang::*;

use leones::engine::{Engine, EngineConfig, EngineStats, Entered, FrameRef, HeaderAction, HeapMaterializer};
use leones_ir::interp::Val;
use leones_tracer::{Abort, Location, Params, Registry};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The register VM as a Leones host: the interpreter above plus an [`Engine`].
///
/// At a loop header (the target of a backward branch) the VM calls
/// [`Engine::on_loop_header`]; while the engine records, each instruction is reported
/// through [`record`] before it executes; when compiled code exists it calls
/// [`Engine::enter`] and continues from the frame the exit hands back — executing the
/// instruction at the resume pc in the interpreter first, even at a header.
pub struct Vm {
    pub engine: Engine,
    pub frame: FrameRef,
    cell: Cell,
    /// The heap and object registers (of the last run).
    pub objs: Objects,
    /// Interrupt exits the VM handled (it clears the flag and carries on).
    pub interrupts: u64,
    /// Set just before each native entry (lets another thread wait for compiled code).
    pub entered: Arc<AtomicBool>,
}

impl Vm {
    /// A VM whose engine is set up as `config` says.
    pub fn new(config: EngineConfig) -> Vm {
        let reg = Registry::new();
        let frame = reg.frame("vm", 0, (NREGS + NOBJ) as u32).unwrap();
        let cell = Cell::register(&reg);
        Vm {
            engine: Engine::with_config(reg, config).expect("engine"),
            frame,
            cell,
            objs: Objects::new(),
            interrupts: 0,
            entered: Arc::new(AtomicBool::new(false)),
        }
    }

    fn frame_vals(regs: &[i64], objs: &[u64]) -> Vec<Option<Val>> {
        let ints = regs.iter().map(|&r| Some(Val::I64(r)));
        ints.chain(objs.iter().map(|&o| Some(Val::Ref(o)))).collect()
    }

    /// Runs `code` from `regs` with the JIT.
    pub fn run(&mut self, code: &[Ins], mut regs: Vec<i64>) -> (Vec<i64>, Stop) {
        self.objs = Objects::new();
        let headers: HashSet<u32> = code
            .iter()
            .enumerate()
            .filter_map(|(pc, i)| match *i {
                Ins::BrLt(_, _, t) if t as usize <= pc => Some(t),
                _ => None,
            })
            .collect();
        // Where forward branches land: the paths of the program join there, so a
        // recording notes a merge point (an arm may rejoin its loop there).
        let joins: HashSet<u32> = code
            .iter()
            .enumerate()
            .filter_map(|(pc, i)| match *i {
                Ins::BrLt(_, _, t) if t as usize > pc && !headers.contains(&t) => Some(t),
                _ => None,
            })
            .collect();
        let mut pc = 0u32;
        let mut resumed = false;
        loop {
            // After an exit the instruction at the resume pc runs in the interpreter
            // first, even at a header: re-entering right away would fail the same guard.
            let just_resumed = std::mem::take(&mut resumed);
            if headers.contains(&pc) && !just_resumed {
                let vals = Self::frame_vals(&regs, &self.objs.regs);
                let loc = Location(pc.into());
                if self.engine.on_loop_header(loc, self.frame, pc, &vals) == HeaderAction::Enter {
                    self.entered.store(true, Ordering::SeqCst);
                    let reg = self.engine.registry().clone();
                    let mut mem = HeapMaterializer {
                        registry: &reg,
                        heap: &mut self.objs.heap,
                    };
                    match self.engine.enter(loc, &vals, &mut mem) {
                        Ok(Entered::Exit(exit)) => {
                            let f = &exit.frames[0];
                            for (r, v) in regs.iter_mut().zip(&f.slots) {
                                *r = v.and_then(|v| v.as_i64()).expect("every register is live");
                            }
                            for (o, v) in self.objs.regs.iter_mut().zip(&f.slots[NREGS..]) {
                                *o = v.and_then(|v| v.as_addr()).expect("every object register is live");
                            }
                            pc = f.pc;
                            resumed = true;
                            if exit.interrupted {
                                self.interrupts += 1;
                                self.engine.interrupt_flag().store(0, Ordering::SeqCst);
                            }
                            continue;
                        }
                        Ok(Entered::NotEntered) => {}
                        Ok(Entered::Finish(_)) => unreachable!("loops never finish"),
                        // The unit is retired and the registers are untouched: interpret.
                        Err(e) => eprintln!("regvm: {e}"),
                    }
                }
            }
            if joins.contains(&pc) {
                if let Some(rec) = self.engine.recorder() {
                    let _ = rec.set_pc(pc);
                    self.engine.merge_point(Location(pc.into()));
                }
            }
            if let Some(rec) = self.engine.recorder() {
                if let Err(why) = record(rec, self.cell, code, &regs, pc) {
                    self.engine.abort_recording(why);
                }
            }
            match step(code, &mut regs, &mut self.objs, pc) {
                Ok(next) => pc = next,
                Err(stop) => {
                    if self.engine.is_recording() {
                        self.engine.abort_recording(Abort::Host("the program stopped".into()));
                    }
                    return (regs, stop);
                }
            }
        }
    }
}

/// The VM with the JIT: the final registers, how it stopped, and the engine's counters.
pub fn run_jit(code: &[Ins], regs: Vec<i64>, params: Params) -> (Vec<i64>, Stop, EngineStats) {
    let mut vm = Vm::new(EngineConfig::new(params));
    let (r, s) = vm.run(code, regs);
    (r, s, vm.engine.stats())
}

/// `sum += i` for i in 0..n, with a branch at pc 5 taken while i < 10 (recorded taken),
/// then never: its guard fails, gets hot and gets a bridge back into the loop.
pub fn bridge_program(n: i64) -> Vec<Ins> {
    vec![
        Ins::Const(1, 0),
        Ins::Const(2, n),
        Ins::Const(3, 10),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1),  // 4: header
        Ins::BrLt(1, 3, 7), // 5
        Ins::Mul(0, 0, 6),  // 6
        Ins::Add(1, 1, 6),  // 7
        Ins::BrLt(1, 2, 4), // 8
        Ins::Halt,
    ]
}
