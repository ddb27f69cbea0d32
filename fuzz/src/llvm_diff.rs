//! # `llvm_diff`: native code computes what the interpreter computes
//!
//! Each input builds a generated trace (see [`crate::input`]) and checks it twice.
//!
//! 1. **The trace alone**, compiled at both levels (`Quick`, `Optimized`), run on a
//!    heap built like the interpreter's, compared with the backend tests' own oracle
//!    ([`differential`]): finish values, the exit guard, exit frames and virtuals, the
//!    exception flag, `jump @target` arguments and the reachable heap.
//! 2. **A chain wired at run time** ([`Chain`]), at the level a control byte picks:
//!    when the interpreter leaves the trace through guard `g`, a generated bridge for
//!    `g`'s exit values ([`arb_bridge`]) is attached to `g`'s exit slot, and the
//!    bridge's `jump @t_num` / `jump @t_ref` are linked to two more generated units.
//!    For a loop trace and a guard inside the loop body, the bridge also loops back:
//!    the guard's snapshot gets one more frame holding the loop's next counter and its
//!    other parameters, and every `finish` of the bridge becomes `jump @loop(...)`
//!    with those values, which re-enters the parent. The counter only goes down, so
//!    the chain ends within `max_loop_iters` trips. The interpreter runs the same
//!    chain unit by unit on one heap; the unit that left, its outcome and the inputs'
//!    reachable heap must agree.
//!
//! The backend is not `Send`: one per level lives in a thread-local for the process,
//! and every unit is removed after its run so that memory stays bounded.

use crate::input::{test_case, Input};
use crate::llvm_oracle::{backends, differential};
use leones_backend_llvm::abi::{exit_types, exit_values};
use leones_backend_llvm::{Backend, HostHooks, RunError, UnitId, UnitOptions};
use leones_ir::gen::world::{leones_gen_take_exception, TARGETS};
use leones_ir::gen::{arb_bridge, take_native_exception, test_host, GenConfig, Shape, TestCase};
use leones_ir::interp::{describe_outcome, ExitState, ExitValue, Heap, Interpreter, Outcome, Val};
use leones_ir::{
    BinaryOp, FrameDescr, FrameId, GuardId, GuardInfo, GuardKind, JumpTarget, Op, SlotValue, SnapshotFrame,
    TargetDescr, TargetId, Trace, Value,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the chains exercised, for the crate's sanity test (a harness that never
/// builds a chain, or never loops back, would still pass every input).
pub static CHAINS_RUN: AtomicU64 = AtomicU64::new(0);
/// Chains whose bridge re-enters the parent (`jump @loop`).
pub static LOOP_BACKS: AtomicU64 = AtomicU64::new(0);
/// Chains whose bridge jumps to a linked `t_num`/`t_ref` unit.
pub static TARGET_LINKS: AtomicU64 = AtomicU64::new(0);
/// Chains that ended in a unit other than the parent (control reached the bridge).
pub static LEFT_FROM_CHILD: AtomicU64 = AtomicU64::new(0);

/// Interpreter step limit per unit run (generated traces need far fewer).
const STEP_LIMIT: u64 = 1_000_000;
/// Most unit runs in one interpreted chain (loop-back trips are bounded far below).
const MAX_RUNS: usize = 64;

/// Unit roles in a chain, as indices into [`Chain::units`]; world target `k`
/// (`t_num`, `t_ref`) enters unit `FIRST_TARGET + k`.
const PARENT: usize = 0;
const BRIDGE: usize = 1;
const FIRST_TARGET: usize = 2;

thread_local! {
    static BACKENDS: RefCell<Vec<Backend>> = RefCell::new(backends());
}

fn hooks() -> HostHooks {
    HostHooks {
        take_exception: Some(leones_gen_take_exception),
        interrupt: None,
    }
}

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let chain_level = usize::from(input.byte());
    let Some((cfg, case)) = test_case(&mut input) else {
        return;
    };
    BACKENDS.with(|cell| {
        let mut backends = cell.borrow_mut();
        for backend in backends.iter_mut() {
            take_native_exception();
            let inputs = |h: &mut Heap| case.build_inputs(h);
            if let Err(e) = differential(
                backend,
                &UnitOptions::default(),
                &case.trace,
                &case.trace,
                &inputs,
                test_host(),
                &hooks(),
                STEP_LIMIT,
            ) {
                panic!("{e}\n{case:?}");
            }
        }
        if let Some(chain) = Chain::build(&cfg, case, &mut input) {
            let n = backends.len();
            chain.check(&mut backends[chain_level % n]);
        }
    });
}

/// A parent trace, a bridge on one of its guards and the units the bridge jumps to.
pub struct Chain {
    /// The parent's inputs; its trace is `units[PARENT]`.
    case: TestCase,
    /// The guard the bridge is attached to.
    guard: GuardId,
    /// Parent, bridge, then the `t_num` and `t_ref` units (absent if not jumped to).
    units: Vec<Option<Trace>>,
    /// The bridge's target that re-enters the parent, if it loops back.
    loop_target: Option<TargetId>,
}

/// How a run ended: the unit that left and the description of its outcome and of the
/// heap reachable from the inputs.
type Ending = (usize, String);

impl Chain {
    /// Builds the chain for `case` if the interpreter leaves it through a guard.
    pub fn build(cfg: &GenConfig, mut case: TestCase, input: &mut Input) -> Option<Chain> {
        let mut heap = Heap::new();
        let args = case.build_inputs(&mut heap);
        let Ok(Outcome::Exit(exit)) = interpret(&case.trace, heap, &args).0 else {
            return None;
        };
        let info = case.trace.guards()[exit.guard.index()];
        let loop_args = loop_back_values(&case, &info);
        if let Some(vals) = &loop_args {
            let frame = FrameId::new(case.trace.frames.len());
            case.trace.frames.push(FrameDescr {
                name: "loop_args".into(),
                code: 0x400,
                slots: vals.len() as u32,
            });
            case.trace.snapshots[info.snapshot.index()].frames.push(SnapshotFrame {
                frame,
                pc: 0,
                slots: vals.iter().map(|&v| SlotValue::Value(v)).collect(),
            });
        }
        let parent = &case.trace;
        let snapshot = parent.snapshot(info.snapshot);
        let mut bridge = input.generate(arb_bridge(cfg.clone(), exit_types(parent, snapshot)))?;
        let loop_target = loop_args.map(|vals| {
            let order = exit_values(snapshot);
            let params = bridge.blocks[0].params.clone();
            let args: Vec<Value> = vals
                .iter()
                .map(|v| params[order.iter().position(|o| o == v).expect("a snapshot value")])
                .collect();
            let t = TargetId::new(bridge.targets.len());
            let types = parent.blocks[0].params.iter().map(|&p| parent.value_type(p)).collect();
            bridge.targets.push(TargetDescr {
                name: "loop".into(),
                params: types,
            });
            for inst in bridge.blocks.iter_mut().filter_map(|b| b.insts.last_mut()) {
                if matches!(inst.op, Op::Finish(_)) {
                    inst.op = Op::Jump(JumpTarget::Unit(t), args.clone());
                }
            }
            t
        });
        let mut units = vec![Some(case.trace.clone()), Some(bridge)];
        for (k, (_, params)) in TARGETS.iter().enumerate() {
            let used = jumps_to(units[BRIDGE].as_ref().expect("bridge"), TargetId::new(k));
            units.push(match used {
                true => Some(input.generate(arb_bridge(cfg.clone(), params.to_vec()))?),
                false => None,
            });
        }
        for t in units.iter().flatten() {
            if let Err(e) = leones_ir::verify(t) {
                panic!("the harness built an invalid unit: {e}\n{}", leones_ir::print(t));
            }
        }
        Some(Chain {
            case,
            guard: exit.guard,
            units,
            loop_target,
        })
    }

    fn unit(&self, k: usize) -> &Trace {
        self.units[k].as_ref().expect("a unit of the chain")
    }

    /// Runs the chain natively and in the interpreter and panics if they differ.
    pub fn check(&self, backend: &mut Backend) {
        let Some(expected) = self.interpret() else {
            return; // the interpreter faulted or ran too long: nothing to compare
        };
        let mut ids = Vec::new();
        let got = self.run_native(backend, &mut ids);
        for id in ids.into_iter().flatten() {
            backend.remove(id).expect("remove a unit");
        }
        CHAINS_RUN.fetch_add(1, Relaxed);
        LOOP_BACKS.fetch_add(u64::from(self.loop_target.is_some()), Relaxed);
        TARGET_LINKS.fetch_add(
            u64::from(self.units[FIRST_TARGET..].iter().any(Option::is_some)),
            Relaxed,
        );
        LEFT_FROM_CHILD.fetch_add(u64::from(expected.0 != PARENT), Relaxed);
        match got {
            Ok(got) if got == expected => {}
            got => panic!(
                "level {:?}: the chain disagrees\n--- interpreter:\n{expected:?}\n--- native:\n{got:?}\n{}",
                backend.level(),
                self.describe_units()
            ),
        }
    }

    fn describe_units(&self) -> String {
        let mut s = format!(
            "bridge on g{}, loop target {:?}\n{:?}\n",
            self.guard.0, self.loop_target, self.case
        );
        for (k, t) in self.units.iter().enumerate().skip(1) {
            if let Some(t) = t {
                s.push_str(&format!("--- unit {k}:\n{}", leones_ir::print(t)));
            }
        }
        s
    }

    /// The interpreter's run of the chain, unit by unit on one heap.
    fn interpret(&self) -> Option<Ending> {
        let mut heap = Heap::new();
        let inputs = self.case.build_inputs(&mut heap);
        let mut args = inputs.clone();
        let mut unit = PARENT;
        for _ in 0..MAX_RUNS {
            let (out, h) = interpret(self.unit(unit), heap, &args);
            heap = h;
            let out = out.ok()?;
            match self.next_unit(unit, &out) {
                Some((next, next_args)) => (unit, args) = (next, next_args),
                None => return Some((unit, describe(self.unit(unit), &heap, &out, &inputs))),
            }
        }
        None
    }

    /// Where control goes after `unit` left with `out`, and with which arguments.
    fn next_unit(&self, unit: usize, out: &Outcome) -> Option<(usize, Vec<Val>)> {
        match (unit, out) {
            (PARENT, Outcome::Exit(e)) if e.guard == self.guard => Some((BRIDGE, self.bridge_args(e))),
            (BRIDGE, Outcome::Jump { target, args }) if Some(*target) == self.loop_target => {
                Some((PARENT, args.clone()))
            }
            (BRIDGE, Outcome::Jump { target, args }) => {
                let k = FIRST_TARGET + target.index();
                self.units.get(k)?.as_ref()?;
                Some((k, args.clone()))
            }
            _ => None,
        }
    }

    /// The bridge's arguments for the parent's exit `e`: the snapshot's live values in
    /// the ABI's order ([`exit_values`]), read off the evaluated snapshot.
    fn bridge_args(&self, e: &ExitState) -> Vec<Val> {
        let parent = self.unit(PARENT);
        let snapshot = parent.snapshot(parent.guards()[self.guard.index()].snapshot);
        let held = e.frames.iter().flat_map(|f| f.slots.iter());
        let held = held.chain(e.virtuals.iter().flat_map(|v| v.fields.iter().map(|(_, x)| x)));
        let mut vals = HashMap::new();
        for (s, x) in snapshot.all_slots().zip(held) {
            if let (SlotValue::Value(v), ExitValue::Val(x)) = (s, x) {
                vals.insert(*v, *x);
            }
        }
        exit_values(snapshot).iter().map(|v| vals[v]).collect()
    }

    /// Compiles, wires and runs the chain natively; `ids` collects the units made.
    fn run_native(&self, backend: &mut Backend, ids: &mut Vec<Option<UnitId>>) -> Result<Ending, String> {
        for t in &self.units {
            let id = match t {
                Some(t) => Some(
                    backend
                        .compile(t, &UnitOptions::default())
                        .map_err(|e| format!("compile failed: {e}\n{}", leones_ir::print(t)))?
                        .id,
                ),
                None => None,
            };
            ids.push(id);
        }
        let id = |k: usize| ids[k].expect("compiled");
        let wire = |backend: &mut Backend| -> Result<(), leones_backend_llvm::BackendError> {
            backend.attach_bridge(id(PARENT), self.guard, id(BRIDGE))?;
            for k in 0..TARGETS.len() {
                if let Some(to) = ids[FIRST_TARGET + k] {
                    backend.link_target(id(BRIDGE), TargetId::new(k), to)?;
                }
            }
            if let Some(t) = self.loop_target {
                backend.link_target(id(BRIDGE), t, id(PARENT))?;
            }
            Ok(())
        };
        wire(backend).map_err(|e| format!("wiring failed: {e}"))?;
        take_native_exception();
        let mut heap = Heap::new();
        let inputs = self.case.build_inputs(&mut heap);
        // SAFETY: the interpreter ran this very chain on an identically built heap
        // without a fault, so every access native code makes is to live memory.
        let out = unsafe { backend.run(id(PARENT), &inputs, &mut heap, &hooks()) };
        match out {
            Ok(o) => {
                let k = ids
                    .iter()
                    .position(|&u| u == Some(o.unit))
                    .expect("a unit of the chain");
                Ok((k, describe(self.unit(k), &heap, &o.outcome, &inputs)))
            }
            Err(RunError::Fault { unit, fault }) => Err(format!("unit {unit} faulted: {fault}")),
            Err(e) => Err(format!("run failed: {e}")),
        }
    }
}

/// Runs `trace` on `args` in `heap` with the test host; hands the heap back.
fn interpret(trace: &Trace, heap: Heap, args: &[Val]) -> (Result<Outcome, leones_ir::interp::Fault>, Heap) {
    let mut it = Interpreter::new(trace)
        .with_heap(heap)
        .with_host(test_host())
        .with_step_limit(STEP_LIMIT);
    let out = it.run(args);
    (out, it.into_heap())
}

/// The outcome, then the heap reachable from the inputs (what side effects left).
fn describe(trace: &Trace, heap: &Heap, out: &Outcome, inputs: &[Val]) -> String {
    format!(
        "{}\ninputs: {}",
        describe_outcome(trace, heap, out),
        describe_outcome(trace, heap, &Outcome::Finish(inputs.to_vec()))
    )
}

/// Whether some block of `t` ends in `jump @target`.
fn jumps_to(t: &Trace, target: TargetId) -> bool {
    t.blocks
        .iter()
        .filter_map(|b| b.insts.last())
        .any(|i| matches!(i.op, Op::Jump(JumpTarget::Unit(x), _) if x == target))
}

/// For a loop trace (`block0` is the header: `next = isub n, 1`, then the loop test
/// `guard_true (iult next, K)`) and a guard after that test: the values a bridge
/// re-entering the loop passes, the next counter and the other loop parameters.
fn loop_back_values(case: &TestCase, g: &GuardInfo) -> Option<Vec<Value>> {
    if case.shape != Shape::Loop {
        return None;
    }
    let b0 = &case.trace.blocks[0];
    let counter = *b0.params.first()?;
    let (next_at, next) = b0.insts.iter().enumerate().find_map(|(i, inst)| match inst.op {
        Op::Binary(BinaryOp::ISub, a, _) if a == counter => Some((i, inst.result?)),
        _ => None,
    })?;
    let test_at = (next_at..b0.insts.len()).find(|&i| matches!(b0.insts[i].op, Op::Guard(GuardKind::True(_), _)))?;
    if g.block.index() == 0 && g.inst <= test_at {
        return None;
    }
    let mut vals = vec![next];
    vals.extend(&b0.params[1..]);
    Some(vals)
}
