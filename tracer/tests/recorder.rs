//! The recorder: folding, snapshots, loop closing, promote, inlining, calls, bridges.

use leones_ir::descr::EffectInfo;
use leones_ir::interp::{CallResult, ExitState, FnTable, Heap, Interpreter, Outcome, Val};
use leones_ir::{print, BinaryOp, Type};
use leones_tracer::*;

const HEADER: Location = Location(0);

fn params() -> Params {
    Params::default()
}

fn run_exit(rec: &Recorded, inputs: &[Val]) -> ExitState {
    match Interpreter::new(&rec.trace).run(inputs).unwrap() {
        Outcome::Exit(e) => e,
        other => panic!("expected an exit, got {other:?}"),
    }
}

fn resume_heap(reg: &Registry, rec: &Recorded, exit: &ExitState) -> Resumed {
    let mut heap = Heap::new();
    resume(
        reg,
        &rec.trace,
        exit,
        &mut HeapMaterializer {
            registry: reg,
            heap: &mut heap,
        },
    )
    .unwrap()
}

/// Records one iteration of `s += i; i += 1; if i < n: loop` (slots i, n, s) starting
/// from the given concrete state; returns the recording.
fn record_sum_loop(reg: &Registry, i: i64, n: i64, s: i64) -> Recorded {
    let main = reg.frame("main", 0x10, 3).unwrap();
    let vals = [Some(Val::I64(i)), Some(Val::I64(n)), Some(Val::I64(s))];
    let mut r = Recorder::start_loop(reg, &params(), HEADER, ShapeFrame::of(main, 0, &vals)).unwrap();
    r.set_pc(0).unwrap();
    let (iv, sv) = (r.slot(0).unwrap(), r.slot(2).unwrap());
    let s2 = r.binary(BinaryOp::IAdd, sv, iv).unwrap();
    r.set_slot(2, s2).unwrap();
    r.set_pc(1).unwrap();
    let one = r.constant(1i64);
    let i2 = r.binary_ovf(BinaryOp::IAddOvf, iv, one, false).unwrap();
    r.set_slot(0, i2).unwrap();
    r.set_pc(2).unwrap();
    let nv = r.slot(1).unwrap();
    let c = r.binary(BinaryOp::ILt, i2, nv).unwrap();
    r.guard(c, i + 1 < n).unwrap();
    r.at_header(HEADER).unwrap().expect("closes")
}

/// The host's own interpreter for the same loop, from (i, n, s) to the exit state.
fn host_sum_loop(mut i: i64, n: i64, mut s: i64) -> (i64, i64, i64) {
    loop {
        s += i;
        i += 1;
        if i >= n {
            return (i, n, s);
        }
    }
}

#[test]
fn recorded_loop_runs_and_resumes_like_the_host() {
    let reg = Registry::new();
    let rec = record_sum_loop(&reg, 0, 10, 0);
    let text = print(&rec.trace);
    assert!(text.contains("guard_no_interrupt [main@0(v0, v1, v2)]"), "{text}");
    assert!(text.contains("jump block0("), "{text}");
    assert_eq!(rec.kind, UnitKind::Loop);
    for (i, n, s) in [(0, 10, 0), (3, 100, 7), (0, 1, 5)] {
        let inputs = rec
            .entry
            .inputs(&[&[Some(Val::I64(i)), Some(Val::I64(n)), Some(Val::I64(s))]])
            .unwrap();
        let exit = run_exit(&rec, &inputs);
        let back = resume_heap(&reg, &rec, &exit);
        let (hi, hn, hs) = host_sum_loop(i, n, s);
        assert_eq!(back.frames.len(), 1);
        assert_eq!(back.frames[0].pc, 2, "the loop leaves at the branch");
        assert_eq!(
            back.frames[0].slots,
            vec![Some(Val::I64(hi)), Some(Val::I64(hn)), Some(Val::I64(hs))]
        );
    }
}

#[test]
fn constants_fold_and_constant_guards_vanish() {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 1).unwrap();
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, ShapeFrame::of(main, 0, &[Some(Val::I64(1))])).unwrap();
    let (two, three) = (r.constant(2i64), r.constant(3i64));
    let five = r.binary(BinaryOp::IAdd, two, three).unwrap();
    assert_eq!(five.as_const(), Some(leones_ir::Const::I64(5)));
    let c = r.binary(BinaryOp::ILt, two, five).unwrap();
    r.guard(c, true).unwrap(); // holds: dropped
    let seven = r.binary_ovf(BinaryOp::IAddOvf, two, five, false).unwrap();
    assert_eq!(seven.as_const(), Some(leones_ir::Const::I64(7)));
    let rec = r.at_header(HEADER).unwrap().unwrap();
    // Only the header guard and the jump.
    assert_eq!(rec.trace.inst_count(), 2, "{}", print(&rec.trace));

    let mut r = Recorder::start_loop(&reg, &params(), HEADER, ShapeFrame::of(main, 0, &[Some(Val::I64(1))])).unwrap();
    let c = r.binary(BinaryOp::IGt, two, five).unwrap();
    assert_eq!(r.guard(c, true), Err(Abort::GuardAlwaysFails));
    // The abort sticks.
    assert_eq!(r.slot(0), Err(Abort::GuardAlwaysFails));
}

#[test]
fn overflow_and_exception_paths_abort() {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 1).unwrap();
    let entry = ShapeFrame::of(main, 0, &[Some(Val::I64(i64::MAX))]);
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, entry.clone()).unwrap();
    let (x, one) = (r.slot(0).unwrap(), r.constant(1i64));
    assert_eq!(r.binary_ovf(BinaryOp::IAddOvf, x, one, true), Err(Abort::Overflow));

    let f = reg
        .call("may_fail", 0, &[Type::I64], Some(Type::I64), EffectInfo::opaque())
        .unwrap();
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, entry).unwrap();
    let x = r.slot(0).unwrap();
    assert_eq!(r.call(f, &[x], true), Err(Abort::ExceptionPath));
}

#[test]
fn a_different_shape_does_not_close() {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 2).unwrap();
    let p = Params::parse("loop_unroll=2").unwrap();
    let entry = ShapeFrame::of(main, 0, &[Some(Val::I64(1)), None]);
    let mut r = Recorder::start_loop(&reg, &p, HEADER, entry).unwrap();
    // Slot 0 becomes a float: the loop cannot jump back to block0(i64).
    let x = r.slot(0).unwrap();
    let f = r.unary(leones_ir::UnaryOp::I2F, x).unwrap();
    r.set_slot(0, f).unwrap();
    assert!(r.at_header(HEADER).unwrap().is_none());
    // Another location is not the start: nothing happens.
    assert!(r.at_header(Location(99)).unwrap().is_none());
    // An inlined frame at the header is a different stack shape too.
    let g = r.unary(leones_ir::UnaryOp::F2I, f).unwrap();
    r.set_slot(0, g).unwrap();
    r.push_frame(main, 5, &[g]).unwrap();
    assert!(r.at_header(HEADER).unwrap().is_none());
    assert!(matches!(r.at_header(HEADER), Err(Abort::ShapeMismatch)));

    // Back to i64 after an unrolled iteration: closes (slot 1 was dead at entry, so
    // whatever it holds now does not matter).
    let mut r = Recorder::start_loop(&reg, &p, HEADER, ShapeFrame::of(main, 0, &[Some(Val::I64(1)), None])).unwrap();
    let x = r.slot(0).unwrap();
    let f = r.unary(leones_ir::UnaryOp::I2F, x).unwrap();
    r.set_slot(0, f).unwrap();
    r.set_slot(1, f).unwrap();
    assert!(r.at_header(HEADER).unwrap().is_none());
    let g = r.unary(leones_ir::UnaryOp::F2I, f).unwrap();
    r.set_slot(0, g).unwrap();
    let rec = r.at_header(HEADER).unwrap().expect("closes once the shape matches");
    assert!(print(&rec.trace).contains("jump block0("));
}

#[test]
fn promote_guards_the_value_and_makes_it_constant() {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 2).unwrap();
    let entry = ShapeFrame::of(main, 0, &[Some(Val::I64(4)), Some(Val::I64(0))]);
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, entry).unwrap();
    r.set_pc(3).unwrap();
    let k = r.slot(0).unwrap();
    let k4 = r.promote(k, Val::I64(4)).unwrap();
    assert_eq!(k4.as_const(), Some(leones_ir::Const::I64(4)));
    // The slot that held the promoted value now holds the constant.
    assert_eq!(r.slot(0).unwrap(), k4);
    // Arithmetic on it folds.
    let (acc, eight) = (r.slot(1).unwrap(), r.binary(BinaryOp::IMul, k4, k4).unwrap());
    assert_eq!(eight.as_const(), Some(leones_ir::Const::I64(16)));
    let acc2 = r.binary(BinaryOp::IAdd, acc, eight).unwrap();
    r.set_slot(1, acc2).unwrap();
    // Promoting a known constant again emits nothing.
    assert!(r.promote(k4, Val::I64(4)).is_ok());
    let rec = r.at_header(HEADER).unwrap().unwrap();
    let text = print(&rec.trace);
    assert!(text.contains("guard_value v0, 4 [main@3(v0, v1)]"), "{text}");
    // Run with another value: the guard fails at pc 3 with the entry state.
    let exit = run_exit(&rec, &[Val::I64(5), Val::I64(0)]);
    assert_eq!(exit.frames[0].pc, 3);
    // With the promoted value: loops, adding 16 until the interrupt poll stops it.
    let mut it = Interpreter::new(&rec.trace);
    it.set_interrupt_after(Some(20));
    let Outcome::Exit(e) = it.run(&[Val::I64(4), Val::I64(0)]).unwrap() else {
        panic!()
    };
    assert_eq!(e.frames[0].slots[0], leones_ir::interp::ExitValue::Val(Val::I64(4)));
}

#[test]
fn inlined_call_gives_a_two_frame_snapshot() {
    let reg = Registry::new();
    let main = reg.frame("main", 1, 2).unwrap();
    let callee = reg.frame("callee", 2, 2).unwrap();
    // main: x = slot0; y = callee(x) (at pc 4, resuming at 5); slot1 = y
    // callee(a): if a < 100 { return a * 2 }
    let mut r = Recorder::start_loop(
        &reg,
        &params(),
        HEADER,
        ShapeFrame::of(main, 0, &[Some(Val::I64(3)), Some(Val::I64(0))]),
    )
    .unwrap();
    r.set_pc(4).unwrap();
    let x = r.slot(0).unwrap();
    r.push_frame(callee, 5, &[x]).unwrap();
    assert_eq!(r.depth(), 2);
    r.set_pc(1).unwrap();
    let a = r.slot(0).unwrap();
    let hundred = r.constant(100i64);
    let c = r.binary(BinaryOp::ILt, a, hundred).unwrap();
    r.guard(c, true).unwrap();
    let two = r.constant(2i64);
    let y = r.binary(BinaryOp::IMul, a, two).unwrap();
    r.pop_frame().unwrap();
    r.set_slot(1, y).unwrap();
    r.set_slot(0, y).unwrap();
    let rec = r.at_header(HEADER).unwrap().unwrap();
    let text = print(&rec.trace);
    assert!(text.contains("[main@5(v0, v1), callee@1(v0, _)]"), "{text}");
    // Start at 150: the callee's guard fails; resume gives both frames.
    let exit = run_exit(&rec, &[Val::I64(150), Val::I64(0)]);
    let back = resume_heap(&reg, &rec, &exit);
    assert_eq!(back.frames.len(), 2);
    assert_eq!((back.frames[0].frame, back.frames[0].pc), (main, 5));
    assert_eq!((back.frames[1].frame, back.frames[1].pc), (callee, 1));
    assert_eq!(back.frames[1].slots, vec![Some(Val::I64(150)), None]);
    // 3 -> 6 -> ... -> 192: the exit after the doubling passes 100.
    let exit = run_exit(&rec, &[Val::I64(3), Val::I64(0)]);
    assert_eq!(
        exit.frames[1].slots[0],
        leones_ir::interp::ExitValue::Val(Val::I64(192))
    );
}

#[test]
fn inlining_depth_is_limited() {
    let reg = Registry::new();
    let f = reg.frame("f", 0, 1).unwrap();
    let p = Params::parse("inline_depth=2").unwrap();
    let mut r = Recorder::start_loop(&reg, &p, HEADER, ShapeFrame::of(f, 0, &[Some(Val::I64(0))])).unwrap();
    let x = r.slot(0).unwrap();
    r.push_frame(f, 1, &[x]).unwrap();
    r.push_frame(f, 1, &[x]).unwrap();
    assert_eq!(r.push_frame(f, 1, &[x]), Err(Abort::InlineTooDeep { limit: 2 }));
}

#[test]
fn residual_calls_and_objects() {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 2).unwrap();
    let point = reg.layout("Point", 24, Some(0x51)).unwrap();
    let px = reg.field(point, "x", 8, Type::I64, false).unwrap();
    let arr = reg.array("Ints", Type::I64, 8, 16).unwrap();
    let effects = EffectInfo {
        reads: Registry::heap_set(&[px], &[arr]),
        may_raise: true,
        ..EffectInfo::none()
    };
    let get = reg.call("get", 0, &[Type::Ref], Some(Type::I64), effects).unwrap();
    let mut heap = Heap::new();
    let obj = heap.alloc_object(&reg.layout_descr(point).unwrap());
    let entry = [Some(Val::Ref(obj)), Some(Val::I64(0))];
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, ShapeFrame::of(main, 0, &entry)).unwrap();
    r.set_pc(1).unwrap();
    let o = r.slot(0).unwrap();
    r.guard_null(o, false).unwrap();
    r.guard_class(o, point).unwrap();
    let x = r.getfield(o, px).unwrap();
    let one = r.constant(1i64);
    let x1 = r.binary(BinaryOp::IAdd, x, one).unwrap();
    r.setfield(o, px, x1).unwrap();
    let n = r.new_object(point).unwrap();
    r.setfield(n, px, x1).unwrap();
    let got = r.call(get, &[n], false).unwrap().unwrap();
    r.set_slot(1, got).unwrap();
    let rec = r.at_header(HEADER).unwrap().unwrap();
    let text = print(&rec.trace);
    assert!(
        text.contains("call get(ref) -> i64 effects(reads=[Point.x, Ints], raise)"),
        "{text}"
    );
    assert!(text.contains("guard_no_exception"), "{text}");
    // Run it: the host function raises on the third call.
    let mut calls = 0;
    let table = FnTable::new().add("get", move |heap: &mut Heap, args: &[Val]| {
        calls += 1;
        if calls == 3 {
            return Ok(CallResult::raise());
        }
        let Val::Ref(a) = args[0] else { unreachable!() };
        heap.load(a + 8, leones_ir::MemType::I64).map(CallResult::ret)
    });
    let mut it = Interpreter::new(&rec.trace).with_heap(heap).with_host(table);
    let Outcome::Exit(e) = it.run(&[Val::Ref(obj), Val::I64(0)]).unwrap() else {
        panic!()
    };
    assert!(e.exception_pending);
    assert_eq!(e.frames[0].pc, 1);
    assert_eq!(e.frames[0].slots[1], leones_ir::interp::ExitValue::Val(Val::I64(2)));
}

#[test]
fn type_errors_are_aborts() {
    let reg = Registry::new();
    let main = reg.frame("main", 0, 1).unwrap();
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, ShapeFrame::of(main, 0, &[Some(Val::I64(0))])).unwrap();
    let x = r.slot(0).unwrap();
    let f = r.constant(1.5f64);
    assert!(matches!(r.binary(BinaryOp::IAdd, x, f), Err(Abort::Invalid(_))));
    let mut r = Recorder::start_loop(&reg, &params(), HEADER, ShapeFrame::of(main, 0, &[None])).unwrap();
    assert!(matches!(r.slot(0), Err(Abort::Invalid(_))));
    let other = Registry::new();
    other.frame("a", 0, 1).unwrap();
    let foreign = other.frame("b", 0, 1).unwrap();
    assert!(Recorder::start_loop(&reg, &params(), HEADER, ShapeFrame::of(foreign, 0, &[None])).is_err());
}

#[test]
fn bridge_ends_in_a_jump_to_its_loop() {
    let reg = Registry::new();
    // The loop: s += i; i += 1; while i < n. Its exit at i == n.
    let lp = record_sum_loop(&reg, 0, 10, 0);
    let target = lp.target().unwrap();
    let exit = run_exit(&lp, &[Val::I64(0), Val::I64(3), Val::I64(0)]);
    let state = resume_heap(&reg, &lp, &exit);
    let (shape, inputs) = state.shape();
    // The bridge (host code after the loop): n += 10; goto header.
    let mut r = Recorder::start_bridge(&reg, &params(), shape, &target).unwrap();
    let n = r.slot(1).unwrap();
    let ten = r.constant(10i64);
    let n2 = r.binary(BinaryOp::IAdd, n, ten).unwrap();
    r.set_slot(1, n2).unwrap();
    let br = r.at_header(target.location).unwrap().expect("the bridge closes");
    assert_eq!(br.kind, UnitKind::Bridge);
    let text = print(&br.trace);
    assert!(text.contains(&format!("jump @{}(", target.name)), "{text}");
    assert!(
        text.contains(&format!("target {}(i64, i64, i64)", target.name)),
        "{text}"
    );
    let Outcome::Jump { args, .. } = Interpreter::new(&br.trace).run(&inputs).unwrap() else {
        panic!()
    };
    // i = 3, n = 13, s = 0 + 1 + 2.
    assert_eq!(args, vec![Val::I64(3), Val::I64(13), Val::I64(3)]);
    // Continuing in the loop from the bridge's jump finishes the host's computation.
    let exit = run_exit(&lp, &args);
    let back = resume_heap(&reg, &lp, &exit);
    let (hi, hn, hs) = host_sum_loop(3, 13, 3);
    assert_eq!(
        back.frames[0].slots,
        vec![Some(Val::I64(hi)), Some(Val::I64(hn)), Some(Val::I64(hs))]
    );
}

#[test]
fn a_bridge_that_returns_out_of_its_entry_frame_can_inline_again() {
    // A bridge starting two frames deep (an exit inside an inlined call) returns from
    // the callee, reads the caller's slot on the way, then inlines calls again: its
    // inlining depth counts from the frames left, not from the entry's.
    let reg = Registry::new();
    let main = reg.frame("main", 0x10, 2).unwrap();
    let callee = reg.frame("callee", 0x20, 1).unwrap();
    let target = LoopTarget {
        name: "loop0".into(),
        location: HEADER,
        shape: Shape::single(ShapeFrame::of(main, 0, &[Some(Val::I64(0)), Some(Val::I64(0))])),
    };
    let entry = Shape {
        frames: vec![
            ShapeFrame::of(main, 3, &[Some(Val::I64(0)), Some(Val::I64(0))]),
            ShapeFrame::of(callee, 1, &[Some(Val::I64(0))]),
        ],
    };
    let p = Params {
        inline_depth: 2,
        ..params()
    };
    let mut r = Recorder::start_bridge(&reg, &p, entry, &target).unwrap();
    let caller_x = r.frame_slot(0, 0).unwrap();
    assert_eq!(r.slots().unwrap().len(), 1);
    r.pop_frame().unwrap();
    for _ in 0..2 {
        r.push_frame(callee, 3, &[caller_x]).unwrap();
    }
    assert!(matches!(
        r.push_frame(callee, 3, &[]),
        Err(Abort::InlineTooDeep { limit: 2 })
    ));
}
