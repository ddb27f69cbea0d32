//! The example register VM: interpreted alone vs with the tracing "JIT" (recorded traces
//! run by the reference interpreter, resumed through `resume`) must agree, on the
//! registers and on the final object heap.

mod regvm;

use leones_tracer::Params;
use proptest::prelude::*;
use regvm::*;

fn jit_params() -> Params {
    Params::parse("threshold=2,bridge_threshold=2,blacklist_after=2,trace_limit=300").unwrap()
}

#[test]
fn counting_loop_with_a_data_dependent_branch() {
    // r0 = sum, r1 = i, r2 = n, r3 = 3, r6 = 1
    //   0: r1 = 0        1: r2 = 40      2: r3 = 3     3: r6 = 1
    //   4: r0 = r0 + r1  (header)
    //   5: if r1 < r3 goto 7   (taken for i < 3: a side exit that gets a bridge)
    //   6: r0 = r0 + r6
    //   7: r1 = r1 + r6
    //   8: if r1 < r2 goto 4
    //   9: halt
    let code = vec![
        Ins::Const(1, 0),
        Ins::Const(2, 40),
        Ins::Const(3, 3),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1),
        Ins::BrLt(1, 3, 7),
        Ins::Add(0, 0, 6),
        Ins::Add(1, 1, 6),
        Ins::BrLt(1, 2, 4),
        Ins::Halt,
    ];
    let regs = vec![0; NREGS];
    let (want, stop, objs) = interpret_objects(&code, regs.clone());
    let (got, jstop, jobjs, report) = run_jit_objects(&code, regs, jit_params());
    assert_eq!((got, jstop), (want.clone(), stop));
    assert_eq!(jobjs.dump(), objs.dump());
    assert_eq!(want[0], (0..40).sum::<i64>() + 37);
    assert_eq!(report.stats.loops, 1, "{report:?}");
    assert!(report.loop_entries >= 1, "{report:?}");
    eprintln!("{}", report.stats);
}

#[test]
fn bridges_are_recorded_and_entered() {
    // The branch at 5 is taken for i < 10 (so the loop is recorded with it taken) and
    // not taken afterwards: its guard fails, gets hot, and gets a bridge that runs the
    // other arm and jumps back to the loop.
    let code = vec![
        Ins::Const(1, 0),
        Ins::Const(2, 60),
        Ins::Const(3, 10),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1),  // 4: header
        Ins::BrLt(1, 3, 7), // 5: taken while i < 10 (recorded), then never: the guard fails
        Ins::Mul(0, 0, 6),  // 6
        Ins::Add(1, 1, 6),  // 7
        Ins::BrLt(1, 2, 4), // 8
        Ins::Halt,
    ];
    let regs = vec![0; NREGS];
    let (want, stop, objs) = interpret_objects(&code, regs.clone());
    let (got, jstop, jobjs, report) = run_jit_objects(&code, regs, jit_params());
    assert_eq!((got, jstop), (want, stop));
    assert_eq!(jobjs.dump(), objs.dump());
    assert_eq!(report.stats.bridges, 1, "{report:?}");
    assert!(report.bridge_entries > 10, "{report:?}");
}

#[test]
fn generated_programs_smoke() {
    let (mut traced, mut bridges, mut bridge_entries) = (0, 0, 0);
    for seed in 1..200u64 {
        let (code, regs) = gen_program(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if std::env::var("REGVM_DEBUG").is_ok() {
            eprintln!("seed {seed}: {code:?} {regs:?}");
        }
        let (want_r, want_s, want_objs) = interpret_objects(&code, regs.clone());
        let (r, s, objs, report) = run_jit_objects(&code, regs, jit_params());
        assert_eq!((r, s), (want_r, want_s), "seed {seed}: {code:?}");
        assert_eq!(objs.dump(), want_objs.dump(), "seed {seed}: {code:?}");
        traced += report.stats.loops;
        bridges += report.stats.bridges;
        bridge_entries += report.bridge_entries;
    }
    eprintln!("{traced} loops, {bridges} bridges, {bridge_entries} bridge entries");
    assert!(traced > 50, "only {traced} loops were traced");
    assert!(
        bridges > 5 && bridge_entries > 5,
        "{bridges} bridges, entered {bridge_entries} times"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn jit_agrees_with_the_interpreter(seed in any::<u64>(), threshold in 1u32..4, bridge in 1u32..4) {
        let (code, regs) = gen_program(seed);
        let p = Params::parse(&format!("threshold={threshold},bridge_threshold={bridge},trace_limit=200")).unwrap();
        let (want_r, want_s, want_objs) = interpret_objects(&code, regs.clone());
        let (r, s, objs, _) = run_jit_objects(&code, regs, p);
        prop_assert_eq!((r, s), (want_r, want_s), "{:?}", code);
        prop_assert_eq!(objs.dump(), want_objs.dump(), "{:?}", code);
    }
}
