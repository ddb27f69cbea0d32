//! Merge points: a loop notes them; an arm stops at the first one it reaches with a
//! fitting state, and only then (types, constants and shared values must match).

use leones_ir::interp::{Interpreter, Outcome, Val};
use leones_ir::{print, BinaryOp};
use leones_tracer::*;

const HEADER: Location = Location(0);
const JOIN: Location = Location(2);

/// Records `if x != 0 { acc += 2.0 }` ... join (pc 2): `i += 1` (slots i, x, acc),
/// starting from x = 1 (the guard is `x != 0`), noting the join as a merge point.
fn record_loop(reg: &Registry) -> Recorded {
    let main = reg.frame("main", 0x10, 3).unwrap();
    let vals = [Some(Val::I64(0)), Some(Val::I64(1)), Some(Val::F64(0.0))];
    let mut r = Recorder::start_loop(reg, &Params::default(), HEADER, ShapeFrame::of(main, 0, &vals)).unwrap();
    r.set_pc(1).unwrap();
    let (x, acc) = (r.slot(1).unwrap(), r.slot(2).unwrap());
    let zero = r.constant(0i64);
    let c = r.binary(BinaryOp::INe, x, zero).unwrap();
    r.guard(c, true).unwrap();
    let two = r.constant(2.0f64);
    let acc2 = r.binary(BinaryOp::FAdd, acc, two).unwrap();
    r.set_slot(2, acc2).unwrap();
    r.set_pc(2).unwrap();
    assert!(
        r.merge_point(JOIN).unwrap().is_none(),
        "a loop never closes at a merge point"
    );
    let i = r.slot(0).unwrap();
    let one = r.constant(1i64);
    let i2 = r.binary(BinaryOp::IAdd, i, one).unwrap();
    r.set_slot(0, i2).unwrap();
    r.at_header(HEADER).unwrap().expect("closes")
}

/// An arm from the loop's guard (taken with x == 0) whose body is `set`, then reaches
/// the join.
fn arm(reg: &Registry, lp: &Recorded, set: impl FnOnce(&mut Recorder)) -> (Recorder, Option<Recorded>) {
    let exit = match Interpreter::new(&lp.trace)
        .run(&[Val::I64(0), Val::I64(0), Val::F64(1.0)])
        .unwrap()
    {
        Outcome::Exit(e) => e,
        o => panic!("{o:?}"),
    };
    let mut heap = leones_ir::interp::Heap::new();
    let mut mem = HeapMaterializer {
        registry: reg,
        heap: &mut heap,
    };
    let state = resume(reg, &lp.trace, &exit, &mut mem).unwrap();
    let merges = lp
        .merge_points
        .iter()
        .enumerate()
        .map(|(k, m)| MergeTarget {
            name: format!("{}__m{k}", lp.trace.name),
            location: m.location,
            shape: m.shape.clone(),
        })
        .collect();
    let target = lp.target().unwrap();
    let mut r = Recorder::start_arm(reg, &Params::default(), state.shape().0, &target, "arm1".into(), merges).unwrap();
    r.set_pc(1).unwrap();
    set(&mut r);
    r.set_pc(2).unwrap();
    let done = r.merge_point(JOIN).unwrap();
    (r, done)
}

#[test]
fn a_loop_notes_its_merge_points() {
    let reg = Registry::new();
    let lp = record_loop(&reg);
    assert_eq!(lp.merge_points.len(), 1);
    assert_eq!(lp.merge_points[0].location, JOIN);
    let text = print(&lp.trace);
    assert!(text.contains("merge_point [main@2("), "{text}");
}

#[test]
fn an_arm_with_a_fitting_state_rejoins() {
    let reg = Registry::new();
    let lp = record_loop(&reg);
    let (_, done) = arm(&reg, &lp, |r| {
        let acc = r.slot(2).unwrap();
        let half = r.constant(0.5f64);
        let v = r.binary(BinaryOp::FMul, acc, half).unwrap();
        r.set_slot(2, v).unwrap();
    });
    let arm = done.expect("the arm stops at the join");
    assert_eq!(arm.rejoined.as_deref(), Some("loop0__m0"));
    let text = print(&arm.trace);
    assert!(text.contains("jump @loop0__m0("), "{text}");
    // It runs: from (i, x, acc) = (0, 0, 3.0) to the join with acc halved.
    let Outcome::Jump { args, .. } = Interpreter::new(&arm.trace)
        .run(&[Val::I64(0), Val::I64(0), Val::F64(3.0)])
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(args, vec![Val::I64(0), Val::I64(0), Val::F64(1.5)]);
}

#[test]
fn a_different_type_does_not_rejoin() {
    let reg = Registry::new();
    let lp = record_loop(&reg);
    let (mut r, done) = arm(&reg, &lp, |r| {
        let acc = r.slot(2).unwrap();
        let v = r.unary(leones_ir::UnaryOp::F2I, acc).unwrap();
        r.set_slot(2, v).unwrap();
    });
    assert!(done.is_none(), "an int acc must not merge into the float path");
    // It noted the join as its own merge point instead, and goes on to the header.
    let back = r.at_header(HEADER).unwrap();
    assert!(back.is_none(), "the shape at the header differs too");
}

/// Records a two-slot loop whose body (`body`, at pc 1) runs before the join at pc 2,
/// and returns the join's merge shape and a function starting an arm at pc 1 (from
/// the same host values) that may stop there.
fn loop_with_join(
    reg: &Registry,
    vals: [Option<Val>; 2],
    body: impl FnOnce(&mut Recorder),
) -> (MergeShape, impl Fn() -> Recorder + '_) {
    let main = reg.frame("main", 0x10, 2).unwrap();
    let mut r = Recorder::start_loop(reg, &Params::default(), HEADER, ShapeFrame::of(main, 0, &vals)).unwrap();
    r.set_pc(1).unwrap();
    body(&mut r);
    r.set_pc(2).unwrap();
    r.merge_point(JOIN).unwrap();
    let done = r.at_header(HEADER).unwrap().expect("closes");
    let shape = done.merge_points[0].shape.clone();
    let target = MergeTarget {
        name: "loop0__m0".into(),
        location: JOIN,
        shape: shape.clone(),
    };
    let start_arm = move || {
        let lt = LoopTarget {
            name: "loop0".into(),
            location: HEADER,
            shape: Shape::single(ShapeFrame::of(main, 0, &vals)),
        };
        let entry = Shape::single(ShapeFrame::of(main, 1, &vals));
        Recorder::start_arm(reg, &Params::default(), entry, &lt, "arm1".into(), vec![target.clone()]).unwrap()
    };
    (shape, start_arm)
}

#[test]
fn a_constant_slot_accepts_only_its_constant() {
    let reg = Registry::new();
    // Loop: slot 1 is promoted to the constant 7 before the join.
    let (_, start_arm) = loop_with_join(&reg, [Some(Val::I64(0)), Some(Val::I64(7))], |r| {
        let y = r.slot(1).unwrap();
        r.promote(y, Val::I64(7)).unwrap();
    });
    for (value, fits) in [(7i64, true), (8, false)] {
        let mut a = start_arm();
        a.set_slot(1, a.constant(value)).unwrap();
        a.set_pc(2).unwrap();
        assert_eq!(a.merge_point(JOIN).unwrap().is_some(), fits, "value {value}");
    }
}

#[test]
fn shared_values_must_stay_shared() {
    let reg = Registry::new();
    // Loop: slot 1 = slot 0 before the join (one value in two slots).
    let (shape, start_arm) = loop_with_join(&reg, [Some(Val::I64(1)), Some(Val::I64(1))], |r| {
        let x = r.slot(0).unwrap();
        r.set_slot(1, x).unwrap();
    });
    assert!(matches!(
        shape.frames[0].slots[1],
        MergeSlot::Value { same_as: Some(0), .. }
    ));
    for (same, fits) in [(true, true), (false, false)] {
        let mut a = start_arm();
        if same {
            let x = a.slot(0).unwrap();
            a.set_slot(1, x).unwrap();
        }
        a.set_pc(2).unwrap();
        assert_eq!(a.merge_point(JOIN).unwrap().is_some(), fits, "shared: {same}");
    }
}
