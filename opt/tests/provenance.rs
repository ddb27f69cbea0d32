//! Every guard of the peeled loop keeps the provenance (`Snapshot::origin`) of the
//! recorded guard it copies: not part of the text format, so not in the filetests.

use leones_opt::{optimize, passes_named, OptContext};

#[test]
fn peel_keeps_each_guards_origin_in_both_copies() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/filetests/peel/two_back_edges.ir")).unwrap();
    let input = text.split("; ---- expect ----").next().unwrap();
    let mut trace = leones_ir::parse(input).unwrap();
    for (k, s) in trace.snapshots.iter_mut().enumerate() {
        s.origin = Some(100 + k as u32);
    }
    let recorded: Vec<u32> = trace.snapshots.iter().filter_map(|s| s.origin).collect();
    let ctx = OptContext {
        verify_each_pass: true,
        ..OptContext::default()
    };
    let (peeled, _) = optimize(&trace, &passes_named(&["peel"]).unwrap(), &ctx).unwrap();
    let mut origins: Vec<Option<u32>> = peeled
        .guards()
        .iter()
        .map(|g| peeled.snapshot(g.snapshot).origin)
        .collect();
    origins.sort_unstable();
    let mut want: Vec<Option<u32>> = recorded.iter().chain(&recorded).map(|&o| Some(o)).collect();
    want.sort_unstable();
    assert_eq!(
        origins, want,
        "each recorded guard appears once in the preamble and once in the loop"
    );
}
