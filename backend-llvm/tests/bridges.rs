//! Bridges and jump targets wired at run time: a bridge attached to a guard is taken
//! (the parent is not recompiled), a bridge re-entering its loop through
//! `jump @loop(...)` runs the loop again, removing a bridge restores the default exit,
//! and the whole chain agrees with the reference interpreter run unit by unit.

use leones_backend_llvm::abi::exit_types;
use leones_backend_llvm::{Backend, BackendError, HostHooks, Level, UnitOptions};
use leones_ir::interp::{ExitValue, Heap, Interpreter, Outcome, Val};
use leones_ir::{GuardId, TargetId, Trace, Type};

/// Sums `i` for `i` in `0..n`, but leaves through g1 whenever `i` is odd.
const PARENT: &str = "\
trace parent
frame main code 0x1 slots 3

block0(v0: i64, v1: i64, v2: i64):
    v3 = ilt v0, v1
    guard_true v3 [main@1(v0, v1, v2)]
    v4 = const 1
    v5 = iand v0, v4
    v6 = const 0
    v7 = ieq v5, v6
    guard_true v7 [main@2(v0, v1, v2)] 
    v8 = iadd v2, v0
    v9 = iadd v0, v4
    jump block0(v9, v1, v8)
";

/// The bridge of g1: adds `10 * i` instead, then re-enters the loop at `i + 1`.
const BRIDGE_LOOP: &str = "\
trace bridge_loop
target parent(i64, i64, i64)

block0(v0: i64, v1: i64, v2: i64):
    v3 = const 10
    v4 = imul v0, v3
    v5 = iadd v2, v4
    v6 = const 1
    v7 = iadd v0, v6
    jump @parent(v7, v1, v5)
";

/// A bridge of g1 that just finishes with the values it got.
const BRIDGE_FINISH: &str = "\
trace bridge_finish

block0(v0: i64, v1: i64, v2: i64):
    v3 = const 1000
    v4 = iadd v2, v3
    finish v0, v4
";

fn parse(s: &str) -> Trace {
    leones_ir::parse(s).unwrap()
}

fn exit_vals(out: &Outcome) -> Vec<Val> {
    let Outcome::Exit(e) = out else {
        panic!("not an exit: {out:?}")
    };
    e.frames
        .iter()
        .flat_map(|f| &f.slots)
        .filter_map(|s| if let ExitValue::Val(v) = s { Some(*v) } else { None })
        .collect()
}

/// The interpreter's view of the chain: parent, and bridge on g1 (jumping back).
fn interpret_chain(parent: &Trace, bridge: &Trace, inputs: Vec<Val>) -> Outcome {
    let mut args = inputs;
    loop {
        let out = Interpreter::new(parent).run(&args).unwrap();
        match &out {
            Outcome::Exit(e) if e.guard == GuardId(1) => {
                let b = Interpreter::new(bridge).run(&exit_vals(&out)).unwrap();
                match b {
                    Outcome::Jump { args: a, .. } => args = a,
                    other => return other,
                }
            }
            _ => return out,
        }
    }
}

fn run(backend: &Backend, unit: leones_backend_llvm::UnitId, inputs: &[Val]) -> (leones_backend_llvm::UnitId, Outcome) {
    let mut heap = Heap::new();
    // SAFETY: these traces touch no memory.
    let out = unsafe { backend.run(unit, inputs, &mut heap, &HostHooks::default()) }.unwrap();
    (out.unit, out.outcome)
}

#[test]
fn bridges_attached_at_run_time_are_taken_and_detached_on_removal() {
    for level in Level::ALL {
        let mut backend = Backend::new(level).unwrap();
        let parent = parse(PARENT);
        let inputs = vec![Val::I64(0), Val::I64(7), Val::I64(0)];
        let p = backend.compile(&parent, &UnitOptions::default()).unwrap();

        // No bridge: g1 exits at i = 1 with the guard id as return code.
        let (who, out) = run(&backend, p.id, &inputs);
        assert_eq!(who, p.id);
        assert_eq!(out, Interpreter::new(&parent).run(&inputs).unwrap());

        // A finishing bridge on g1: the parent's exit enters it.
        let bf = parse(BRIDGE_FINISH);
        let g1 = GuardId(1);
        assert_eq!(
            exit_types(&parent, parent.snapshot(parent.guards()[1].snapshot)),
            vec![Type::I64; 3]
        );
        let b1 = backend.compile(&bf, &UnitOptions::default()).unwrap();
        backend.attach_bridge(p.id, g1, b1.id).unwrap();
        let (who, out) = run(&backend, p.id, &inputs);
        assert_eq!(who, b1.id);
        assert_eq!(out, Outcome::Finish(vec![Val::I64(1), Val::I64(1000)]));

        // Removing the bridge detaches it: the default exit is back.
        backend.remove(b1.id).unwrap();
        let (who, out) = run(&backend, p.id, &inputs);
        assert_eq!((who, &out), (p.id, &Interpreter::new(&parent).run(&inputs).unwrap()));

        // A bridge that re-enters the loop through `jump @parent`.
        let bl = parse(BRIDGE_LOOP);
        let b2 = backend.compile(&bl, &UnitOptions::default()).unwrap();
        backend.attach_bridge(p.id, g1, b2.id).unwrap();
        backend.link_target(b2.id, TargetId(0), p.id).unwrap();
        let (who, out) = run(&backend, p.id, &inputs);
        assert_eq!(who, p.id, "the loop itself leaves through g0 at the end");
        let expected = interpret_chain(&parent, &bl, inputs.clone());
        assert_eq!(out, expected);
        // 0 + 10*1 + 2 + 10*3 + 4 + 10*5 + 6 = 102
        assert_eq!(exit_vals(&out), vec![Val::I64(7), Val::I64(7), Val::I64(102)]);

        // Removing the parent unlinks the bridge's jump: it reports the jump instead.
        backend.remove(p.id).unwrap();
        let (who, out) = run(&backend, b2.id, &[Val::I64(1), Val::I64(7), Val::I64(0)]);
        assert_eq!(who, b2.id);
        assert!(matches!(
            out,
            Outcome::Jump {
                target: TargetId(0),
                ..
            }
        ));
    }
}

#[test]
fn mismatched_bridges_and_targets_are_refused() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    let p = backend.compile(&parse(PARENT), &UnitOptions::default()).unwrap();
    let wrong = parse("trace w\n\nblock0(v0: f64):\n    finish v0\n");
    let w = backend.compile(&wrong, &UnitOptions::default()).unwrap();
    assert!(matches!(
        backend.attach_bridge(p.id, GuardId(1), w.id),
        Err(BackendError::Signature(_))
    ));
    assert!(matches!(
        backend.attach_bridge(p.id, GuardId(9), w.id),
        Err(BackendError::NoSuchGuard { .. })
    ));
    let bl = backend.compile(&parse(BRIDGE_LOOP), &UnitOptions::default()).unwrap();
    assert!(matches!(
        backend.link_target(bl.id, TargetId(0), w.id),
        Err(BackendError::Signature(_))
    ));
    backend.remove(w.id).unwrap();
    assert!(matches!(backend.remove(w.id), Err(BackendError::NoSuchUnit(_))));
}

#[test]
fn llvm_failures_are_errors_not_aborts() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    // Fails the IR verifier.
    let bad = parse("trace bad\n\nblock0(v0: i64):\n    finish v0\n");
    let mut broken = bad.clone();
    broken.blocks[0].insts.clear();
    assert!(matches!(
        backend.compile(&broken, &UnitOptions::default()),
        Err(BackendError::InvalidTrace(_))
    ));
    // A call without an address cannot be compiled natively.
    let noaddr =
        parse("trace c\ncall f(i64) -> i64 effects(pure)\n\nblock0(v0: i64):\n    v1 = call f(v0)\n    finish v1\n");
    assert!(matches!(
        backend.compile(&noaddr, &UnitOptions::default()),
        Err(BackendError::NoCallAddress { .. })
    ));
    // The backend is still usable.
    assert!(backend.compile(&bad, &UnitOptions::default()).is_ok());
}

#[test]
fn emit_llvm_shows_the_protocol() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    let text = backend.emit_llvm(&parse(PARENT), &UnitOptions::default()).unwrap();
    assert!(text.contains("musttail call i64"), "{text}");
    // Both guards store the same values: one exit block, the guard id as a phi, and
    // one shared dispatch block makes the tail call.
    assert!(text.contains("exit_g0"), "{text}");
    assert!(!text.contains("exit_g1:"), "{text}");
    assert!(text.contains("phi i64 [ 0, %block0 ], [ 1, %"), "{text}");
    assert_eq!(text.matches("musttail call").count(), 1, "{text}");
    let opt = backend
        .emit_llvm_optimized(&parse(PARENT), &UnitOptions::default())
        .unwrap();
    assert!(opt.contains("musttail"), "{opt}");
    let sel = parse(
        "trace s\n\nblock0(v0: bool, v1: f64, v2: f64):\n    v3 = select.unpredictable v0, v1, v2\n    finish v3\n",
    );
    let text = backend.emit_llvm(&sel, &UnitOptions::default()).unwrap();
    assert!(text.contains("!unpredictable"), "{text}");
}

/// Branchless rewriting relies on both: a `br`'s profile weights reach LLVM as
/// `branch_weights`, and a `select.unpredictable` stays a select marked
/// `!unpredictable` through LLVM's optimizations (so codegen keeps a `cmov`).
#[test]
fn branch_weights_and_unpredictable_selects_reach_llvm() {
    let mut backend = Backend::new(Level::Optimized).unwrap();
    let br = parse(
        "trace w\n\nblock0(v0: bool, v1: i64):\n    br v0, block1(), block2(v1) weights(30, 70)\n\nblock1():\n    \
         v2 = ineg v1\n    goto block2(v2)\n\nblock2(v3: i64):\n    finish v3\n",
    );
    let text = backend.emit_llvm(&br, &UnitOptions::default()).unwrap();
    assert!(text.contains("!\"branch_weights\", i32 30, i32 70}"), "{text}");
    let sel = parse(
        "trace s\n\nblock0(v0: bool, v1: i64, v2: i64):\n    v3 = imul v1, v2\n    v4 = iadd v1, v2\n    \
         v5 = select.unpredictable v0, v3, v4\n    finish v5\n",
    );
    let opt = backend.emit_llvm_optimized(&sel, &UnitOptions::default()).unwrap();
    assert!(opt.contains("select i1") && opt.contains("!unpredictable"), "{opt}");
}

#[test]
fn debugger_support_can_be_enabled() {
    let mut backend = Backend::new(Level::Quick).unwrap();
    match backend.enable_debugger_support() {
        Ok(()) => {
            let u = backend.compile(&parse(PARENT), &UnitOptions::default()).unwrap();
            let (_, out) = run(&backend, u.id, &[Val::I64(0), Val::I64(0), Val::I64(0)]);
            assert!(matches!(out, Outcome::Exit(_)));
            backend.remove(u.id).unwrap();
        }
        // Not every ORC configuration supports it; it must then be an error, not an abort.
        Err(e) => eprintln!("debugger support unavailable: {e}"),
    }
}

/// A loop with a bridge, recompiled at the optimized level on the compiler thread and
/// swapped in with `replace`: the bridge stays on the new unit's exit and jumps to the
/// new unit, the old one can be removed, and the chain still agrees with the
/// interpreter. A unit of another trace is refused as a replacement.
#[test]
fn a_recompiled_loop_built_in_the_background_replaces_the_old_one_with_its_bridges() {
    let mut backend = Backend::new(Level::Optimized).unwrap();
    let parent = parse(PARENT);
    let bl = parse(BRIDGE_LOOP);
    let quick = UnitOptions {
        level: Some(Level::Quick),
        ..UnitOptions::default()
    };
    let p = backend.compile(&parent, &quick).unwrap();
    let b = backend.compile(&bl, &quick).unwrap();
    backend.attach_bridge(p.id, GuardId(1), b.id).unwrap();
    backend.link_target(b.id, TargetId(0), p.id).unwrap();
    let inputs = vec![Val::I64(0), Val::I64(9), Val::I64(0)];
    let expected = interpret_chain(&parent, &bl, inputs.clone());

    let compiler = leones_backend_llvm::Compiler::start().unwrap();
    let trace = backend.trace(p.id).unwrap().clone();
    compiler.submit(backend.prepare(&trace, &UnitOptions::default()));
    let built = compiler.wait_finished().unwrap();
    assert_eq!(compiler.in_flight(), 0);
    let q = backend.install(built).unwrap();
    assert_eq!(q.level, Level::Optimized);
    backend.replace(p.id, q.id).unwrap();
    backend.remove(p.id).unwrap();
    let (who, out) = run(&backend, q.id, &inputs);
    assert_eq!((who, &out), (q.id, &expected));
    // The bridge jumps to the new loop: entering the bridge runs the loop to its end.
    let (who, out) = run(&backend, b.id, &[Val::I64(1), Val::I64(9), Val::I64(0)]);
    assert_eq!(who, q.id, "{out:?}");

    let other = backend.compile(&parse(BRIDGE_FINISH), &quick).unwrap();
    assert!(matches!(
        backend.replace(q.id, other.id),
        Err(BackendError::Signature(_))
    ));
}
