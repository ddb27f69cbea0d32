//! Reference interpreter: control flow, guards and snapshots, calls, limits, faults,
//! and the canonical outcome description.

use leones_ir::interp::{
    describe_outcome, CallResult, ExitValue, Fault, FnTable, Heap, HostCalls, Interpreter, Outcome, Site, Val,
};
use leones_ir::{parse, Block, CallDescr, FrameId, GuardId, MemType, TargetId, Trace, VerifyErrorKind, VirtualId};
use std::cell::RefCell;
use std::rc::Rc;

fn trace(text: &str) -> Trace {
    parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn exit_of(out: Outcome) -> leones_ir::interp::ExitState {
    match out {
        Outcome::Exit(e) => e,
        other => panic!("expected an exit, got {other:?}"),
    }
}

fn v(x: i64) -> ExitValue {
    ExitValue::Val(Val::I64(x))
}

const SWAP: &str = "trace swap
frame main code 0x1 slots 3

block0(v0: i64, v1: i64, v2: i64):
    v3 = const 0
    v4 = igt v2, v3
    guard_true v4 [main@1(v0, v1, _)]
    v5 = const 1
    v6 = isub v2, v5
    jump block0(v1, v0, v6)
";

#[test]
fn jump_arguments_are_a_parallel_copy() {
    let t = trace(SWAP);
    let mut it = Interpreter::new(&t);
    let e = exit_of(it.run(&[Val::I64(1), Val::I64(2), Val::I64(3)]).unwrap());
    assert_eq!(e.guard, GuardId(0));
    assert_eq!(e.frames.len(), 1);
    assert_eq!((e.frames[0].frame, e.frames[0].pc), (FrameId(0), 1));
    assert_eq!(e.frames[0].slots, vec![v(2), v(1), ExitValue::Dead]);
    assert!(!e.exception_pending && e.virtuals.is_empty());
    // 3 iterations of 6 instructions, then 3 up to the failing guard.
    assert_eq!(it.steps(), 21);
    // Runs are independent: steps restart.
    it.run(&[Val::I64(1), Val::I64(2), Val::I64(0)]).unwrap();
    assert_eq!(it.steps(), 3);
}

const DIAMOND: &str = "trace diamond

block0(v0: i64, v1: i64):
    v2 = ilt v0, v1
    br v2, block1(v1, v0), block2(v1) weights(3, 1)

block1(v3: i64, v4: i64):
    v5 = isub v3, v4
    goto block3(v5)

block2(v6: i64):
    goto block3(v6)

block3(v7: i64):
    finish v7
";

#[test]
fn branches_and_forward_edges() {
    let t = trace(DIAMOND);
    let mut it = Interpreter::new(&t);
    assert_eq!(
        it.run(&[Val::I64(3), Val::I64(10)]).unwrap(),
        Outcome::Finish(vec![Val::I64(7)])
    );
    assert_eq!(it.steps(), 5);
    assert_eq!(
        it.run(&[Val::I64(10), Val::I64(3)]).unwrap(),
        Outcome::Finish(vec![Val::I64(3)])
    );
    assert_eq!(it.steps(), 4);
}

const PEELED: &str = "trace peeled

block0(v0: i64):
    v1 = const 0
    goto block1(v1, v0)

block1(v2: i64, v3: i64):
    v4 = const 0
    v5 = ieq v3, v4
    br v5, block2(v2), block3()

block2(v6: i64):
    finish v6

block3():
    v7 = iadd v2, v3
    v8 = const 1
    v9 = isub v3, v8
    jump block1(v7, v9)
";

#[test]
fn loop_to_a_later_header() {
    let t = trace(PEELED);
    let mut it = Interpreter::new(&t);
    assert_eq!(it.run(&[Val::I64(100)]).unwrap(), Outcome::Finish(vec![Val::I64(5050)]));
    assert_eq!(it.run(&[Val::I64(0)]).unwrap(), Outcome::Finish(vec![Val::I64(0)]));
}

const LIST: &str = "trace list
layout Node size 24 class 0x77
field Node.val: i64 @8
field Node.next: ref @16
frame main code 0x1 slots 3

block0(v0: i64, v1: i64, v2: ref):
    guard_no_interrupt [main@0(v0, v1, v2)]
    v3 = ilt v0, v1
    guard_true v3 [main@3(v0, &0, v2)] {&0 = Node{val: v0, next: &1}, &1 = Node{next: &0, val: 7}}
    v4 = new Node
    setfield v4, Node.val, v0
    setfield v4, Node.next, v2
    v5 = const 1
    v6 = iadd v0, v5
    jump block0(v6, v1, v4)
";

const LIST_EXIT: &str = "exit g1
  main@3(3, &0, @0)
  &0 = Node{val: 3, next: &1}
  &1 = Node{next: &0, val: 7}
heap:
@0 size 24: 0x77 0x2 @1
@1 size 24: 0x77 0x1 @2
@2 size 24: 0x77 0x0 0x0
";

#[test]
fn loop_exits_through_a_snapshot_with_a_virtual_cycle() {
    let t = trace(LIST);
    let mut it = Interpreter::new(&t);
    let out = it.run(&[Val::I64(0), Val::I64(3), Val::Ref(0)]).unwrap();
    let e = exit_of(out.clone());
    assert_eq!(e.guard, GuardId(1));
    assert_eq!(e.guard, t.guards()[1].id);
    let slots = &e.frames[0].slots;
    assert_eq!(slots[..2], [v(3), ExitValue::Virtual(VirtualId(0))]);
    let ExitValue::Val(Val::Ref(head)) = slots[2] else {
        panic!("{slots:?}")
    };
    assert_eq!(it.heap().load(head + 8, MemType::I64).unwrap(), Val::I64(2));
    assert_eq!(e.virtuals.len(), 2);
    assert_eq!(e.virtuals[0].fields[1].1, ExitValue::Virtual(VirtualId(1)));
    assert_eq!(e.virtuals[1].fields[0].1, ExitValue::Virtual(VirtualId(0)));
    assert_eq!(e.virtuals[1].fields[1].1, v(7));
    assert_eq!(it.heap().allocation_count(), 3);
    assert_eq!(describe_outcome(&t, it.heap(), &out), LIST_EXIT);
}

#[test]
fn describe_outcome_does_not_depend_on_addresses() {
    let t = trace(LIST);
    let mut heap = Heap::new();
    for size in [8, 100, 24, 0] {
        heap.alloc_raw(size);
    }
    let mut it = Interpreter::new(&t).with_heap(heap);
    let out = it.run(&[Val::I64(0), Val::I64(3), Val::Ref(0)]).unwrap();
    assert_eq!(it.heap().allocation_count(), 7);
    assert_eq!(describe_outcome(&t, it.heap(), &out), LIST_EXIT);
}

#[test]
fn interrupt_fails_guard_no_interrupt() {
    let t = trace(LIST);
    let mut it = Interpreter::new(&t);
    let inputs = [Val::I64(0), Val::I64(100), Val::Ref(0)];
    it.set_interrupt_after(Some(0));
    let e = exit_of(it.run(&inputs).unwrap());
    assert_eq!((e.guard, e.frames[0].pc), (GuardId(0), 0));
    assert_eq!(e.frames[0].slots, vec![v(0), v(100), ExitValue::Val(Val::Ref(0))]);
    // Iterations are 9 steps: the guard sees 0, 9, then 18 >= 10 steps before it.
    it.set_interrupt_after(Some(10));
    let e = exit_of(it.run(&inputs).unwrap());
    assert_eq!((e.guard, e.frames[0].slots[0]), (GuardId(0), v(2)));
    assert_eq!(it.steps(), 19);
    it.set_interrupt_after(None);
    assert_eq!(exit_of(it.run(&inputs).unwrap()).guard, GuardId(1));
}

const GUARDS: &str = "trace guards
layout P size 16 class 0x51
layout Q size 16 class 0x52
frame f code 0x2 slots 2

block0(v0: i64, v1: f64, v2: ref, v3: ptr, v4: bool):
    guard_value v0, 5 [f@1(v0, _)]
    guard_value v1, 0.0 [f@2(v1, -0.0)]
    guard_nonnull v2 [f@3(v2, null)]
    guard_class v2, P [f@4(v2, ptr(0x8))]
    guard_isnull v3 [f@5(v3, true)]
    guard_false v4 [f@6(v4, 1.5)]
    finish
";

#[test]
fn every_guard_kind() {
    let t = trace(GUARDS);
    let mut heap = Heap::new();
    let p = heap.alloc_object(&t.layouts[0]);
    let q = heap.alloc_object(&t.layouts[1]);
    let mut it = Interpreter::new(&t).with_heap(heap);
    let good = [Val::I64(5), Val::F64(0.0), Val::Ref(p), Val::Ptr(0), Val::Bool(false)];
    assert_eq!(it.run(&good).unwrap(), Outcome::Finish(vec![]));
    let cases: [(usize, Val, u32, ExitValue); 6] = [
        (0, Val::I64(6), 1, ExitValue::Dead),
        (1, Val::F64(-0.0), 2, ExitValue::Val(Val::F64(-0.0))),
        (2, Val::Ref(0), 3, ExitValue::Val(Val::Ref(0))),
        (2, Val::Ref(q), 4, ExitValue::Val(Val::Ptr(8))),
        (3, Val::Ptr(p), 5, ExitValue::Val(Val::Bool(true))),
        (4, Val::Bool(true), 6, ExitValue::Val(Val::F64(1.5))),
    ];
    for (k, (input, bad, pc, second)) in cases.into_iter().enumerate() {
        let mut inputs = good;
        inputs[input] = bad;
        let e = exit_of(it.run(&inputs).unwrap());
        assert_eq!(e.guard, GuardId(k as u32), "case {k}");
        assert_eq!(e.frames[0].pc, pc);
        assert_eq!(e.frames[0].slots, vec![ExitValue::Val(inputs[input]), second]);
    }
}

#[test]
fn guard_class_through_null_or_a_wild_ref_faults() {
    let t = trace("trace t\nlayout P size 8 class 0x51\nframe f code 0x2 slots 0\n\nblock0(v0: ref):\n    guard_class v0, P [f@1()]\n    finish\n");
    let mut it = Interpreter::new(&t);
    assert_eq!(
        it.run(&[Val::Ref(0)]).unwrap_err(),
        Fault::NullAccess {
            block: Block(0),
            inst: 0
        }
    );
    let at = Some(Site {
        block: Block(0),
        inst: 0,
    });
    assert_eq!(
        it.run(&[Val::Ref(0x1000)]).unwrap_err(),
        Fault::BadAccess {
            addr: 0x1000,
            size: 8,
            at
        }
    );
}

#[test]
fn guard_ids_count_across_blocks() {
    let text = "trace t\nframe f code 0x2 slots 1\n\nblock0(v0: bool):\n    guard_true v0 [f@1(v0)]\n    goto block1()\n\nblock1():\n    v1 = bnot v0\n    guard_true v1 [f@2(v1)]\n    finish\n";
    let t = trace(text);
    let e = exit_of(Interpreter::new(&t).run(&[Val::Bool(true)]).unwrap());
    assert_eq!(e.guard, GuardId(1));
    assert_eq!(e.guard, t.guards()[1].id);
    assert_eq!(e.frames[0].slots, vec![ExitValue::Val(Val::Bool(false))]);
}

const CALLS: &str = "trace calls
layout P size 16
field P.x: i64 @8
call add1(i64) -> i64 effects(pure)
call boom(i64) -> i64 effects(raise)
call mk() -> ref effects(alloc)
call log(i64)
frame f code 0x1 slots 2

block0(v0: i64):
    v1 = call add1(v0)
    v2 = call boom(v1)
    guard_no_exception [f@7(v1, v2)]
    v3 = call mk()
    call log(v2)
    v4 = getfield v3, P.x
    finish v1, v2, v4
";

fn call_table(log: Rc<RefCell<Vec<i64>>>) -> FnTable {
    FnTable::new()
        .add("add1", |_, args| {
            Ok(CallResult::ret(Val::I64(args[0].as_i64().unwrap() + 1)))
        })
        .add("boom", |_, args| {
            let x = args[0].as_i64().unwrap();
            Ok(if x > 10 {
                CallResult::raise()
            } else {
                CallResult::ret(Val::I64(x * 2))
            })
        })
        .add("mk", |heap: &mut Heap, _: &[Val]| {
            let obj = heap.alloc_raw(16);
            heap.store(obj + 8, MemType::I64, Val::I64(99))?;
            Ok(CallResult::ret(Val::Ref(obj)))
        })
        .add("log", move |_, args| {
            log.borrow_mut().push(args[0].as_i64().unwrap());
            Ok(CallResult::unit())
        })
}

#[test]
fn calls_and_exceptions() {
    let t = trace(CALLS);
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut it = Interpreter::new(&t).with_host(call_table(log.clone()));
    assert_eq!(
        it.run(&[Val::I64(1)]).unwrap(),
        Outcome::Finish(vec![Val::I64(2), Val::I64(4), Val::I64(99)])
    );
    assert_eq!(*log.borrow(), vec![4]);
    let e = exit_of(it.run(&[Val::I64(20)]).unwrap());
    assert!(e.exception_pending);
    // A raising call's result reads as zero.
    assert_eq!(e.frames[0].slots, vec![v(21), v(0)]);
    assert_eq!(*log.borrow(), vec![4]);
    let out = Outcome::Exit(e);
    assert_eq!(
        describe_outcome(&t, it.heap(), &out),
        "exit g0 exception\n  f@7(21, 0)\nheap:\n"
    );
}

#[test]
fn host_faults() {
    let t = trace(CALLS);
    let mut it = Interpreter::new(&t);
    assert_eq!(it.run(&[Val::I64(1)]).unwrap_err(), Fault::UnknownCall("add1".into()));
    let table = FnTable::new().add("add1", |_, _| Ok(CallResult::ret(Val::F64(1.0))));
    let e = Interpreter::new(&t).with_host(table).run(&[Val::I64(1)]).unwrap_err();
    let site = Site {
        block: Block(0),
        inst: 0,
    };
    let want = Fault::BadCallResult {
        call: "add1".into(),
        expected: Some(leones_ir::Type::I64),
        got: Some(leones_ir::Type::F64),
        at: Some(site),
    };
    assert_eq!(e, want);
    assert!(
        e.to_string().contains("add1") && e.to_string().contains("block0, instruction 0"),
        "{e}"
    );
    let table = FnTable::new().add("add1", |heap: &mut Heap, _: &[Val]| {
        Err(heap.load(0x8, MemType::I64).unwrap_err())
    });
    let e = Interpreter::new(&t).with_host(table).run(&[Val::I64(1)]).unwrap_err();
    assert_eq!(
        e,
        Fault::BadAccess {
            addr: 8,
            size: 8,
            at: Some(site)
        }
    );
    let table = FnTable::new().add("add1", |_, _| Err(Fault::Host("no".into())));
    assert_eq!(
        Interpreter::new(&t).with_host(table).run(&[Val::I64(1)]).unwrap_err(),
        Fault::Host("no".into())
    );
}

/// A host that borrows its state instead of owning it.
struct Counting<'a>(&'a mut u32);

impl HostCalls for Counting<'_> {
    fn call(&mut self, _: &mut Heap, call: &CallDescr, _: &[Val]) -> Result<CallResult, Fault> {
        *self.0 += 1;
        assert_eq!(call.name, "tick");
        Ok(CallResult::unit())
    }
}

#[test]
fn custom_host_with_borrowed_state() {
    let t = trace("trace t\ncall tick()\n\nblock0():\n    call tick()\n    call tick()\n    finish\n");
    let mut n = 0;
    let mut it = Interpreter::new(&t).with_host(Counting(&mut n));
    it.run(&[]).unwrap();
    drop(it);
    assert_eq!(n, 2);
}

#[test]
fn jump_to_another_unit() {
    let t = trace("trace t\ntarget other(i64, f64, ref)\n\nblock0(v0: i64, v1: f64):\n    v2 = const null\n    jump @other(v0, v1, v2)\n");
    let mut it = Interpreter::new(&t);
    let out = it.run(&[Val::I64(1), Val::F64(2.5)]).unwrap();
    assert_eq!(
        out,
        Outcome::Jump {
            target: TargetId(0),
            args: vec![Val::I64(1), Val::F64(2.5), Val::Ref(0)]
        }
    );
    assert_eq!(
        describe_outcome(&t, it.heap(), &out),
        "jump @other(1, 2.5, null)\nheap:\n"
    );
}

#[test]
fn inputs_must_match_block0() {
    let t = trace("trace t\n\nblock0(v0: i64, v1: f64):\n    finish v0\n");
    let mut it = Interpreter::new(&t);
    let e = it.run(&[Val::I64(1)]).unwrap_err();
    assert!(
        matches!(&e, Fault::InputMismatch { expected, got } if expected.len() == 2 && got.len() == 1),
        "{e:?}"
    );
    let e = it.run(&[Val::I64(1), Val::I64(2)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the inputs (i64, i64) do not match block0's parameters (i64, f64)"
    );
    assert_eq!(
        it.run(&[Val::I64(1), Val::F64(2.0)]).unwrap(),
        Outcome::Finish(vec![Val::I64(1)])
    );
}

#[test]
fn invalid_traces_are_refused() {
    let t = trace("trace t\n\nblock0(v0: i64):\n    v1 = fneg v0\n    finish v1\n");
    let mut it = Interpreter::new(&t);
    for _ in 0..2 {
        match it.run(&[Val::I64(1)]) {
            Err(Fault::Invalid(e)) => assert_eq!(e.kind, VerifyErrorKind::TypeMismatch),
            other => panic!("{other:?}"),
        }
    }
    // Even a hand-built trace with no blocks.
    let empty = Trace::new("empty");
    assert!(matches!(Interpreter::new(&empty).run(&[]), Err(Fault::Invalid(_))));
}

#[test]
fn step_limit_stops_infinite_loops() {
    let t = trace("trace t\n\nblock0(v0: i64):\n    jump block0(v0)\n");
    let mut it = Interpreter::new(&t);
    it.set_step_limit(1000);
    assert_eq!(it.run(&[Val::I64(0)]).unwrap_err(), Fault::StepLimit(1000));
    assert_eq!(it.steps(), 1000);
    // Exactly as many steps as instructions is fine; one fewer is not.
    let t = trace("trace t\n\nblock0(v0: i64):\n    v1 = iadd v0, v0\n    v2 = iadd v1, v1\n    finish v2\n");
    let mut it = Interpreter::new(&t).with_step_limit(3);
    assert_eq!(it.run(&[Val::I64(1)]).unwrap(), Outcome::Finish(vec![Val::I64(4)]));
    it.set_step_limit(2);
    assert_eq!(it.run(&[Val::I64(1)]).unwrap_err(), Fault::StepLimit(2));
}

#[test]
fn heap_dump_names_pointers_canonically() {
    let build = |junk: usize| {
        let mut h = Heap::new();
        for _ in 0..junk {
            h.alloc_raw(32);
        }
        let a = h.alloc_raw(16);
        let b = h.alloc_raw(12);
        h.store(a, MemType::Ref, Val::Ref(b)).unwrap();
        h.store(a + 8, MemType::Ptr, Val::Ptr(b + 4)).unwrap();
        h.store(b, MemType::Ref, Val::Ref(a)).unwrap();
        h.store(b + 8, MemType::I32U, Val::I64(-1)).unwrap();
        (h, a, b)
    };
    let (h1, a1, b1) = build(0);
    let (h2, a2, b2) = build(5);
    let want = "@0 size 16: @1 @1+4\n@1 size 12: @0 0xffffffff\n";
    assert_eq!(h1.dump_reachable(&[Val::Ref(a1)]), want);
    assert_eq!(h2.dump_reachable(&[Val::Ref(a2), Val::I64(7)]), want);
    assert_eq!(
        h2.dump_reachable(&[Val::Ptr(b2 + 8)]),
        "@0 size 12: @1 0xffffffff\n@1 size 16: @0 @0+4\n"
    );
    assert_eq!(h1.dump_reachable(&[Val::Ref(0), Val::I64(a1 as i64)]), "");
    // Values in outcomes are named the same way.
    let t = Trace::new("t");
    let out = Outcome::Finish(vec![Val::Ptr(b1 + 4), Val::Ref(a1), Val::Ref(0x10)]);
    let text = describe_outcome(&t, &h1, &out);
    assert_eq!(
        text,
        "finish ptr(@0+4), @1, ref(0x10)\nheap:\n@0 size 12: @1 0xffffffff\n@1 size 16: @0 @0+4\n"
    );
    assert!(h1.contains(b1, 12) && !h1.contains(b1 + 8, 8) && h2.allocation_count() == 7);
    assert_eq!(h1.allocation_of(b1 + 11), Some((b1, 12)));
}

#[test]
fn describe_outcome_survives_foreign_ids() {
    let t = Trace::new("t");
    let e = leones_ir::interp::ExitState {
        guard: GuardId(3),
        frames: vec![leones_ir::interp::ExitFrame {
            frame: FrameId(9),
            pc: 2,
            slots: vec![ExitValue::Dead],
        }],
        virtuals: vec![leones_ir::interp::ExitVirtual {
            layout: leones_ir::LayoutId(4),
            fields: vec![(leones_ir::FieldId(1), v(1))],
        }],
        exception_pending: false,
    };
    let text = describe_outcome(&t, &Heap::new(), &Outcome::Exit(e));
    assert_eq!(text, "exit g3\n  ?frame9@2(_)\n  &0 = ?layout4{?field1: 1}\nheap:\n");
}

const LEIBNIZ: &str = "trace leibniz
frame main code 0x1 slots 3

block0(v0: i64, v1: i64, v2: f64):
    v3 = ilt v0, v1
    guard_true v3 [main@7(v0, v1, v2)]
    v4 = const 2
    v5 = imul v0, v4
    v6 = const 1
    v7 = iadd v5, v6
    v8 = i2f v7
    v9 = irem v0, v4
    v10 = const 0
    v11 = ieq v9, v10
    v12 = const 1.0
    v13 = const -1.0
    v14 = select v11, v12, v13
    v15 = fdiv v14, v8
    v16 = fadd v2, v15
    v17 = iadd v0, v6
    jump block0(v17, v1, v16)
";

#[test]
fn a_longer_loop_matches_rust() {
    let t = trace(LEIBNIZ);
    let n = 200_000;
    let mut it = Interpreter::new(&t);
    let e = exit_of(it.run(&[Val::I64(0), Val::I64(n), Val::F64(0.0)]).unwrap());
    let mut pi = 0.0f64;
    for i in 0..n {
        pi += if i % 2 == 0 { 1.0 } else { -1.0 } / (2 * i + 1) as f64;
    }
    assert_eq!(e.frames[0].slots[2], ExitValue::Val(Val::F64(pi)));
    assert_eq!(it.steps(), n as u64 * 17 + 2);
}
