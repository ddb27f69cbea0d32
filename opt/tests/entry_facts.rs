//! Entry facts: a bridge optimized with what its parent proved about the exit values
//! drops its re-checks, and still computes what the unoptimized bridge computes on
//! every input the facts describe.

use leones_ir::interp::{Heap, Interpreter, Val};
use leones_ir::{Const, Trace};
use leones_opt::{default_pipeline, optimize, EntryFact, OptContext};

/// A bridge entered with an object, a counter and a promoted constant: it re-checks
/// the object's class and the constant before using them.
const BRIDGE: &str = "\
trace bridge_to_loop0
layout Node size 24 class 0x4e0de
layout Other size 24 class 0x07
field Node.val: i64 @16
frame main code 0x1 slots 3
target loop0(ref, i64, i64)

block0(v0: ref, v1: i64, v2: i64):
    guard_nonnull v0 [main@3(v0, v1, v2)]
    guard_class v0, Node [main@3(v0, v1, v2)]
    v3 = getfield v0, Node.val
    guard_value v2, 7 [main@4(v0, v1, v2)]
    v4 = iadd v1, v3
    v5 = iadd v4, v2
    v6 = const 100
    v7 = ilt v5, v6
    guard_true v7 [main@5(v0, v5, v2)]
    jump @loop0(v0, v5, v2)
";

fn opt(trace: &Trace, facts: &[(usize, EntryFact)]) -> Trace {
    let ctx = OptContext {
        entry_facts: facts,
        verify_each_pass: true,
        ..OptContext::default()
    };
    optimize(trace, &default_pipeline(), &ctx).unwrap().0
}

/// How `trace` leaves on an object of `layout` with `val`, and `i`, `k`.
fn run(trace: &Trace, layout: &str, val: i64, i: i64, k: i64) -> String {
    let mut heap = Heap::new();
    let l = trace.layout(trace.layout_named(layout).unwrap()).clone();
    let o = heap.alloc_object(&l);
    heap.store(o + 16, leones_ir::MemType::I64, Val::I64(val)).unwrap();
    let mut interp = Interpreter::new(trace).with_heap(heap);
    let out = interp.run(&[Val::Ref(o), Val::I64(i), Val::I64(k)]).unwrap();
    // Guard ids are positional and differ after optimization: compare what is rebuilt.
    let text = format!("{out:?}").replace(&format!("Ref({o})"), "Ref(obj)");
    match text.find("frames") {
        Some(at) => text[at..].to_string(),
        None => text,
    }
}

#[test]
fn the_parents_facts_remove_the_bridges_rechecks() {
    let bridge = leones_ir::parse(BRIDGE).unwrap();
    let node = bridge.layout_named("Node").unwrap();
    let plain = leones_ir::print(&opt(&bridge, &[]));
    assert!(plain.contains("guard_class") && plain.contains("guard_nonnull") && plain.contains("guard_value"));

    let facts = [(0, EntryFact::Class(node)), (2, EntryFact::Const(Const::I64(7)))];
    let with = opt(&bridge, &facts);
    let text = leones_ir::print(&with);
    assert!(!text.contains("guard_class"), "{text}");
    assert!(!text.contains("guard_nonnull"), "implied by the class: {text}");
    assert!(!text.contains("guard_value"), "{text}");
    assert!(text.contains("guard_true"), "the bridge's own guard stays: {text}");

    // NonNull alone removes only the null check.
    let text = leones_ir::print(&opt(&bridge, &[(0, EntryFact::NonNull)]));
    assert!(
        !text.contains("guard_nonnull") && text.contains("guard_class"),
        "{text}"
    );

    // Facts about parameters that do not exist, or of the wrong type, are ignored.
    let odd = [(9, EntryFact::NonNull), (1, EntryFact::Const(Const::Bool(true)))];
    assert_eq!(leones_ir::print(&opt(&bridge, &odd)), plain);
}

#[test]
fn a_bridge_optimized_with_true_facts_computes_what_it_did() {
    let bridge = leones_ir::parse(BRIDGE).unwrap();
    let node = bridge.layout_named("Node").unwrap();
    let facts = [(0, EntryFact::Class(node)), (2, EntryFact::Const(Const::I64(7)))];
    let with = opt(&bridge, &facts);
    // Every input the facts describe (a Node, k = 7): same outcome, frames and values.
    for val in [-50, -1, 0, 3, 40, 92, 93, 1000] {
        for i in [-10, 0, 5, 50, 99] {
            let want = run(&bridge, "Node", val, i, 7);
            assert_eq!(run(&with, "Node", val, i, 7), want, "val {val}, i {i}");
        }
    }
    // Inputs the facts exclude are where the optimized bridge differs: the caller must
    // only state facts that hold (here, the unoptimized bridge exits on the class).
    assert!(!run(&bridge, "Other", 1, 1, 7).contains("Jump"), "it exits");
}
