//! `peel::loop_start`: where the peeled loop begins in an optimized trace, which the
//! peeling decision (`PeelPolicy::WhenItPays`) measures against the preamble.

use leones_opt::passes::peel::{loop_start, unpaid_loop_start, work};
use leones_opt::{optimize, passes_named, OptContext};

fn peeled(src: &str) -> leones_ir::Trace {
    let trace = leones_ir::parse(src).expect("parses");
    optimize(&trace, &passes_named(&["peel"]).unwrap(), &OptContext::default())
        .expect("optimizes")
        .0
}

/// A loop whose body branches on the parity of `v0`; the arms follow.
macro_rules! parity_loop {
    ($name:literal, $arms:literal) => {
        concat!(
            "trace ",
            $name,
            "\nframe main code 0x1 slots 1\n\n",
            "block0(v0: i64, v1: i64):
    v2 = ilt v0, v1
    guard_true v2 [main@1(v0)]
    v3 = const 2
    v4 = irem v0, v3
    v5 = const 0
    v6 = ieq v4, v5
    br v6, block1(), block2() weights(50, 50)
",
            $arms
        )
    };
}

/// The arms end the iteration themselves: two back edges.
const DIAMOND_LOOP: &str = parity_loop!(
    "diamond",
    "
block1():
    v7 = const 1
    v8 = iadd v0, v7
    jump block0(v8, v1)

block2():
    v9 = const 3
    v10 = iadd v0, v9
    jump block0(v10, v1)
"
);

#[test]
fn the_split_is_the_header_copy_and_only_peeled_traces_have_one() {
    let t = peeled(DIAMOND_LOOP);
    assert_eq!(t.blocks.len(), 6);
    assert_eq!(loop_start(&t), Some(3), "{}", leones_ir::print(&t));
    // Peel alone leaves the loop as long as the preamble: it did not pay.
    assert_eq!(work(&t.blocks[..3]), work(&t.blocks[3..]));
    assert_eq!(unpaid_loop_start(&t), Some(3));
    let unpeeled = leones_ir::parse(DIAMOND_LOOP).unwrap();
    assert_eq!(loop_start(&unpeeled), None);
    assert_eq!(unpaid_loop_start(&unpeeled), None, "nothing to undo");
}

#[test]
fn the_split_survives_block_deletion_after_peeling() {
    // Branchless rewriting turns both copies of the diamond into a `select` and deletes
    // their arms: the header copy moves from block4 to block2.
    let src = parity_loop!(
        "select_loop",
        "
block1():
    v7 = const 1
    v8 = iadd v0, v7
    goto block3(v8)

block2():
    v9 = const 3
    v10 = iadd v0, v9
    goto block3(v10)

block3(v11: i64):
    jump block0(v11, v1)
"
    );
    assert_eq!(loop_start(&peeled(src)), Some(4));
    let trace = leones_ir::parse(src).unwrap();
    let (opt, _) = optimize(&trace, &leones_opt::default_pipeline(), &OptContext::default()).unwrap();
    assert_eq!(opt.blocks.len(), 4, "{}", leones_ir::print(&opt));
    assert_eq!(loop_start(&opt), Some(2), "{}", leones_ir::print(&opt));
}

#[test]
fn a_chain_of_loops_is_ambiguous_and_left_alone() {
    // block1 is an inner loop the preamble runs before it reaches the copy of the
    // header; it splits the trace the same way the copy does.
    let src = "trace nested
frame main code 0x1 slots 2

block0(v0: i64, v1: i64):
    goto block1(v1)

block1(v2: i64):
    v3 = const 1
    v4 = iadd v2, v3
    v5 = ilt v4, v0
    br v5, block2(), block3() weights(90, 10)

block2():
    jump block1(v4)

block3():
    v6 = iadd v0, v3
    jump block0(v6, v1)
";
    let t = peeled(src);
    assert_eq!(t.blocks.len(), 8, "{}", leones_ir::print(&t));
    assert_eq!(loop_start(&t), None, "{}", leones_ir::print(&t));
    assert_eq!(unpaid_loop_start(&t), None, "an ambiguous split is kept");
}
