//! Resume: exits with inlined frames and a cyclic graph of virtual objects.

use leones_ir::interp::{ExitFrame, ExitState, ExitValue, ExitVirtual, Heap, Interpreter, Outcome, Val};
use leones_ir::{parse, FieldId, FrameId, GuardId, LayoutId, MemType, Type, VirtualId};
use leones_tracer::*;

const TRACE: &str = "\
trace cyc
layout Node size 24 class 0x77
field Node.next: ref @8
field Node.val: i64 @16
frame main code 0x1 slots 2
frame callee code 0x2 slots 2

block0(v0: i64, v1: i64):
    v2 = ilt v0, v1
    guard_true v2 [main@3(v0, &0), callee@7(&1, v1)] {&0 = Node{next: &1}, &1 = Node{next: &0, val: v0}}
    finish v0
";

fn registry() -> (Registry, LayoutRef, FieldRef, FieldRef, FrameRef, FrameRef) {
    let reg = Registry::new();
    // Registered in a different order than the trace's tables: resume matches by name.
    let callee = reg.frame("callee", 2, 2).unwrap();
    let main = reg.frame("main", 1, 2).unwrap();
    let node = reg.layout("Node", 24, Some(0x77)).unwrap();
    let val = reg.field(node, "val", 16, Type::I64, false).unwrap();
    let next = reg.field(node, "next", 8, Type::Ref, false).unwrap();
    (reg, node, next, val, main, callee)
}

#[test]
fn cyclic_virtuals_and_two_frames_from_the_interpreter() {
    let (reg, _node, _next, _val, main, callee) = registry();
    let trace = parse(TRACE).unwrap();
    let Outcome::Exit(exit) = Interpreter::new(&trace).run(&[Val::I64(9), Val::I64(4)]).unwrap() else {
        panic!()
    };
    let mut heap = Heap::new();
    let back = resume(
        &reg,
        &trace,
        &exit,
        &mut HeapMaterializer {
            registry: &reg,
            heap: &mut heap,
        },
    )
    .unwrap();
    assert_eq!(back.frames.len(), 2);
    assert_eq!((back.frames[0].frame, back.frames[0].pc), (main, 3));
    assert_eq!((back.frames[1].frame, back.frames[1].pc), (callee, 7));
    let Some(Val::Ref(a)) = back.frames[0].slots[1] else {
        panic!("{back:?}")
    };
    let Some(Val::Ref(b)) = back.frames[1].slots[0] else {
        panic!("{back:?}")
    };
    assert_eq!(back.frames[0].slots[0], Some(Val::I64(9)));
    assert_eq!(back.frames[1].slots[1], Some(Val::I64(4)));
    assert_ne!(a, b);
    // a.next == b, b.next == a: the cycle is rebuilt.
    assert_eq!(heap.load(a + 8, MemType::Ref).unwrap(), Val::Ref(b));
    assert_eq!(heap.load(b + 8, MemType::Ref).unwrap(), Val::Ref(a));
    assert_eq!(heap.load(b + 16, MemType::I64).unwrap(), Val::I64(9));
    // Fields not listed are zero; class words are written.
    assert_eq!(heap.load(a + 16, MemType::I64).unwrap(), Val::I64(0));
    assert_eq!(heap.load(a, MemType::I64).unwrap(), Val::I64(0x77));
}

/// A host that records the order of its callbacks.
#[derive(Default)]
struct Log {
    events: Vec<String>,
    next: u64,
}

impl Materialize for Log {
    fn allocate(&mut self, _layout: LayoutRef) -> Result<u64, String> {
        self.next += 0x100;
        self.events.push(format!("alloc {:#x}", self.next));
        Ok(self.next)
    }
    fn set_field(&mut self, obj: u64, _field: FieldRef, value: Val) -> Result<(), String> {
        self.events.push(format!("set {obj:#x} = {value}"));
        Ok(())
    }
}

#[test]
fn all_objects_are_allocated_before_any_field_is_filled() {
    let (reg, ..) = registry();
    let trace = parse(TRACE).unwrap();
    // A hand-built exit: three objects in a ring, a dead slot, a pending exception.
    let (f_next, node) = (FieldId(0), LayoutId(0));
    let ring = |to: u32| ExitVirtual {
        layout: node,
        fields: vec![(f_next, ExitValue::Virtual(VirtualId(to)))],
    };
    let exit = ExitState {
        guard: GuardId(0),
        frames: vec![ExitFrame {
            frame: FrameId(0),
            pc: 11,
            slots: vec![ExitValue::Virtual(VirtualId(2)), ExitValue::Dead],
        }],
        virtuals: vec![ring(1), ring(2), ring(0)],
        exception_pending: true,
    };
    let mut host = Log::default();
    let back = resume(&reg, &trace, &exit, &mut host).unwrap();
    assert_eq!(
        host.events,
        vec![
            "alloc 0x100",
            "alloc 0x200",
            "alloc 0x300",
            "set 0x100 = ref(0x200)",
            "set 0x200 = ref(0x300)",
            "set 0x300 = ref(0x100)",
        ]
    );
    assert!(back.exception_pending);
    assert_eq!(back.frames[0].slots, vec![Some(Val::Ref(0x300)), None]);
    assert_eq!(back.frames[0].pc, 11);

    // Unregistered descriptors and missing virtuals are errors, not panics.
    let mut bad = exit.clone();
    bad.frames[0].slots[0] = ExitValue::Virtual(VirtualId(9));
    assert_eq!(
        resume(&reg, &trace, &bad, &mut Log::default()),
        Err(ResumeError::BadVirtual(9))
    );
    let empty = Registry::new();
    assert!(matches!(
        resume(&empty, &trace, &exit, &mut Log::default()),
        Err(ResumeError::Unregistered(_))
    ));
}
