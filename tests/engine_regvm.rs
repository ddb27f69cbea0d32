//! The example host (`examples/regvm`) on the engine: loops and bridges recorded,
//! optimized, compiled by LLVM and run natively must compute exactly what the plain
//! interpreter computes.

#[path = "support/regvm_programs.rs"]
mod programs;
#[path = "../examples/regvm/vm.rs"]
mod regvm;

use leones::engine::{EngineConfig, EngineStats};
use leones_backend_llvm::Level;
use leones_tracer::Params;
use programs::{bridge_program, data_driven_program};
use regvm::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Low thresholds; trace merging off (these tests are about plain bridges).
fn jit_params() -> Params {
    Params::parse("background=off,threshold=2,bridge_threshold=2,blacklist_after=2,trace_limit=300,merge=off").unwrap()
}

/// Low thresholds with trace merging deciding after one iteration.
fn merge_params() -> Params {
    Params::parse("background=off,threshold=2,bridge_threshold=2,blacklist_after=2,trace_limit=300,merge_samples=1,merge_bridges=1")
        .unwrap()
}

/// Runs the 500 generated programs with the JIT under `params`: each must end with the
/// interpreter's registers, stop and heap graph, without any compile failure; `each`
/// sees every program and its engine counters.
fn five_hundred_programs(params: Params, mut each: impl FnMut(&[Ins], &EngineStats)) {
    for seed in 1..=500u64 {
        let (code, regs) = gen_program(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (want_regs, want_stop, want_objs) = interpret_objects(&code, regs.clone());
        let mut vm = Vm::new(EngineConfig::new(params.clone()));
        let got = vm.run(&code, regs);
        assert_eq!(got, (want_regs, want_stop), "seed {seed}: {code:?}");
        // The final heap, as reachable from the object registers, is the same graph.
        assert_eq!(vm.objs.dump(), want_objs.dump(), "seed {seed}: {code:?}");
        let s = vm.engine.stats();
        assert_eq!(
            (s.verify_failures, s.opt_failures, s.backend_failures, s.native_faults),
            (0, 0, 0, 0),
            "seed {seed}: {s:?}"
        );
        each(&code, &s);
    }
}

#[test]
fn five_hundred_generated_programs_agree_with_the_interpreter() {
    let mut total = EngineStats::default();
    let mut objects = 0;
    five_hundred_programs(jit_params(), |code, s| {
        objects += code.iter().any(|i| matches!(i, Ins::New(_) | Ins::SetNext(..))) as u64;
        total.loops_compiled += s.loops_compiled;
        total.bridges_attached += s.bridges_attached;
        total.loop_entries += s.loop_entries;
        total.bridge_entries += s.bridge_entries;
        total.exits += s.exits;
        total.bridge_exits += s.bridge_exits;
        total.bridges_unattachable += s.bridges_unattachable;
        total.bridges_from_virtuals += s.bridges_from_virtuals;
    });
    eprintln!("{total:?}; {objects} programs allocate or link objects");
    assert!(objects > 100, "{objects}");
    // Exits holding virtual objects get bridges too (the bridge allocates them).
    assert!(total.bridges_from_virtuals > 3, "{total:?}");
    assert_eq!(total.bridges_unattachable, 0, "{total:?}");
    assert!(total.loops_compiled > 300, "{total:?}");
    assert!(total.bridges_attached > 20, "{total:?}");
    assert!(total.loop_entries > 500, "{total:?}");
    assert!(total.bridge_entries > 200, "{total:?}");
    assert!(total.bridge_exits > 5, "{total:?}");
}

#[test]
fn a_bridge_is_attached_and_taken_natively() {
    let code = bridge_program(5000);
    let want = interpret(&code, vec![0; NREGS]);
    let mut vm = Vm::new(EngineConfig::new(jit_params()));
    let got = vm.run(&code, vec![0; NREGS]);
    assert_eq!(got, want);
    assert_eq!(got.0[0], (0..5000).sum::<i64>());
    let s = vm.engine.stats();
    assert_eq!((s.loops_compiled, s.bridges_attached), (1, 1), "{s:?}");
    // Every iteration from i = 10 on runs the bridge, which jumps back into the loop
    // unit natively: the host sees only the few exits before the bridge existed and
    // the final one.
    assert!(s.bridge_entries > 4900, "{s:?}");
    assert!(s.exits <= 5, "{s:?}");
    assert_eq!(s.bridge_exits, 1, "the loop's end is reached inside the bridge: {s:?}");
}

#[test]
fn the_summary_reports_the_counts() {
    let code = bridge_program(1000);
    let mut vm = Vm::new(EngineConfig::new(jit_params()));
    vm.run(&code, vec![0; NREGS]);
    let text = vm.engine.summary();
    eprintln!("{text}");
    let line = |name: &str| -> String {
        let l = text
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no `{name}` line in\n{text}"));
        l.trim_start()[name.len()..].trim().to_string()
    };
    let s = vm.engine.stats();
    let t = vm.engine.tracer_stats().clone();
    // Recorded with threshold 2: one loop; its branch guard fails twice (bridge
    // threshold 2), then a bridge; the last exit is the loop's end in the bridge.
    assert_eq!(line("loops"), "1");
    assert_eq!(line("bridges"), "1");
    assert_eq!(line("recordings"), "2");
    assert_eq!(line("aborts"), "0");
    assert_eq!(line("blacklisted"), "0");
    assert_eq!(line("guard failures"), t.guard_failures.to_string());
    assert_eq!(t.guard_failures, s.exits);
    assert_eq!(line("units"), "1 loops, 1 bridges");
    assert_eq!(line("loop entries"), s.loop_entries.to_string());
    assert_eq!(line("bridge entries"), s.bridge_entries.to_string());
    assert_eq!(line("exits"), s.exits.to_string());
    assert_eq!(line("interrupts"), "0");
    assert_eq!(line("failures"), "verify 0, optimize 0, backend 0, native 0");
    assert!(line("compile quick").ends_with("ms"));
    assert!(line("compile opt").ends_with("ms"));
    assert!(s.bridge_entries >= 980, "{s:?}");
    // Two units of machine code, each some tens to hundreds of bytes.
    let code: u64 = line("code bytes").parse().expect("a number of code bytes");
    assert_eq!(code, s.code_bytes);
    assert_eq!(code, t.code_bytes);
    assert!(code > 64 && code < 64 * 1024, "{code} code bytes");
}

#[test]
fn an_interrupt_set_from_another_thread_leaves_compiled_code() {
    // r0 = r0 + r1 (i), i from 0 to n: long enough that native code is running when
    // the flag is set.
    let n: i64 = 400_000_000;
    let code = vec![
        Ins::Const(1, 0),
        Ins::Const(2, n),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1), // 3: header
        Ins::Add(1, 1, 6),
        Ins::BrLt(1, 2, 3),
        Ins::Halt,
    ];
    let mut vm = Vm::new(EngineConfig::new(jit_params()));
    let flag = vm.engine.interrupt_flag();
    let entered = vm.entered.clone();
    let setter = std::thread::spawn(move || {
        while !entered.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_millis(5));
        flag.store(1, Ordering::SeqCst);
    });
    let (regs, stop) = vm.run(&code, vec![0; NREGS]);
    setter.join().unwrap();
    assert_eq!(stop, Stop::Halt);
    assert_eq!(regs[1], n);
    assert_eq!(regs[0], (n - 1) * n / 2);
    let s = vm.engine.stats();
    assert_eq!(vm.interrupts, 1, "{s:?}");
    assert_eq!(s.interrupts, 1, "{s:?}");
    // The VM cleared the flag and re-entered the loop after one interpreted step.
    assert!(s.loop_entries >= 2, "{s:?}");
    assert_eq!(vm.engine.tracer_stats().bridges, 0, "interrupt exits never get bridges");
}

#[test]
fn a_data_driven_branch_is_merged_into_a_region() {
    let code = data_driven_program(20_000);
    let want = interpret(&code, vec![0; NREGS]);
    let params = Params::parse("background=off,threshold=2,bridge_threshold=2,trace_limit=300").unwrap();
    let mut merged = Vm::new(EngineConfig::new(params.clone()));
    assert_eq!(merged.run(&code, vec![0; NREGS]), want);
    let s = merged.engine.stats();
    assert_eq!(
        (s.loops_compiled, s.regions_compiled, s.arms_refused),
        (1, 1, 0),
        "{s:?}"
    );
    // Once the region exists both ways stay in native code: the exits are the few
    // before it (while the rate was being sampled) and the loop's end.
    assert!(s.exits < 80, "{s:?}");
    let mut plain = Vm::new(EngineConfig::new(Params { merge: 0, ..params }));
    assert_eq!(plain.run(&code, vec![0; NREGS]), want);
    let p = plain.engine.stats();
    assert!(p.regions_compiled == 0 && p.bridges_attached >= 1, "{p:?}");
}

/// Runs the data-driven program with first-tier units (at `first`) tiering up after
/// 200 iterations at `background` (on/off), optionally injecting a tier-up failure.
fn tiered_run(background: &str, inject: Option<leones::engine::InjectFailure>, first: Level) -> EngineStats {
    let code = data_driven_program(20_000);
    let want = interpret(&code, vec![0; NREGS]);
    let spec = format!("background={background},threshold=2,bridge_threshold=2,trace_limit=300,tier_up=200");
    let mut config = EngineConfig::new(Params::parse(&spec).unwrap());
    config.level = Level::Optimized;
    config.first_level = first;
    config.inject = inject;
    let mut vm = Vm::new(config);
    assert_eq!(vm.run(&code, vec![0; NREGS]), want);
    vm.engine.stats()
}

#[test]
fn first_tier_units_tier_up_and_are_swapped_in_without_exit_storms() {
    for first in [Level::Quick, Level::Baseline] {
        let s = tiered_run("off", None, first);
        assert!(s.tier_ups >= 1 && s.regions_compiled >= 1, "{first:?}: {s:?}");
        assert_eq!(s.backend_failures, 0, "{first:?}: {s:?}");
        // One tier-guard exit per tier-up, plus the few before the region existed.
        assert!(s.exits < 200, "{first:?}: {s:?}");
        // In the background the same happens, later: same result, no failures.
        let b = tiered_run("on", None, first);
        assert_eq!((b.backend_failures, b.native_faults), (0, 0), "{first:?}: {b:?}");
        // The compiler thread warmed LLVM up before it built the first unit (a unit
        // that landed was built after it) — the optimized level when the first tier
        // is not LLVM's; without the thread nothing is warmed.
        assert!(b.loops_compiled == 0 || b.llvm_warm_up_us > 0, "{first:?}: {b:?}");
        assert_eq!(s.llvm_warm_up_us, 0, "{first:?}: {s:?}");
    }
}

#[test]
fn a_failed_tier_up_keeps_the_first_tier_unit_running_without_exits() {
    for first in [Level::Quick, Level::Baseline] {
        let s = tiered_run("off", Some(leones::engine::InjectFailure::TierUp), first);
        assert!(s.backend_failures >= 1 && s.tier_ups == 0, "{first:?}: {s:?}");
        // Without the fallback every iteration after the limit would exit.
        assert!(s.exits < 200, "{first:?}: {s:?}");
    }
}

#[test]
fn five_hundred_generated_programs_agree_with_merging_on() {
    let mut total = EngineStats::default();
    five_hundred_programs(merge_params(), |_, s| {
        total.regions_compiled += s.regions_compiled;
        total.arms_merged += s.arms_merged;
        total.arms_refused += s.arms_refused;
        total.bridges_attached += s.bridges_attached;
    });
    eprintln!("{total:?}");
    assert!(total.regions_compiled > 50, "{total:?}");
}

/// Runs `code` tiering from the baseline level up to the optimized one under `spec`
/// (background off): it must compute what the interpreter computes.
fn run_tiered(code: &[Ins], spec: &str) -> EngineStats {
    let want = interpret(code, vec![0; NREGS]);
    let mut config = EngineConfig::new(Params::parse(spec).unwrap());
    config.level = Level::Optimized;
    config.first_level = Level::Baseline;
    let mut vm = Vm::new(config);
    assert_eq!(vm.run(code, vec![0; NREGS]), want);
    let s = vm.engine.stats();
    assert_eq!((s.backend_failures, s.native_faults), (0, 0), "{s:?}");
    s
}

#[test]
fn a_tiered_tree_bridges_its_rare_exits_instead_of_re_forming() {
    // The two data-driven arms merge early, the loop tiers up after 200 iterations,
    // the late path starts at 5000: a rare exit of tiered-up code.
    let code = programs::late_path_program(20_000, 5_000);
    let spec = "background=off,threshold=2,bridge_threshold=2,trace_limit=300";
    let s = run_tiered(&code, &format!("{spec},tier_up=200"));
    assert!(s.rare_exits_bridged >= 1 && s.bridges_attached >= 1, "{s:?}");
    assert_eq!((s.tier_ups, s.arms_merged), (1, 2), "{s:?}");
    // Without tiers the same exit is one more arm, and the region is re-formed.
    let flat = run_tiered(&code, &format!("{spec},tier_up=0"));
    assert_eq!(flat.rare_exits_bridged, 0, "{flat:?}");
    assert!(
        flat.arms_merged >= 3 && flat.regions_compiled > s.regions_compiled,
        "{flat:?}"
    );
}

#[test]
fn a_tree_with_pending_arms_folds_them_in_before_it_tiers_up() {
    // The two data-driven arms merge first; the rare path's arm, recorded next, waits
    // for more (a pending arm's own exits would re-form the region only after 100000):
    // it is pending when the loop reaches its tier limit.
    let code = programs::rare_path_program(20_000);
    let spec = "background=off,threshold=2,bridge_threshold=2,trace_limit=300,tier_up=2000,reform_exits=100000";
    let s = run_tiered(&code, spec);
    assert!(s.tier_ups_deferred >= 1, "{s:?}");
    // The pending arm was merged at the first tier, and only that region tiered up.
    assert_eq!((s.arms_merged, s.tier_ups), (3, 1), "{s:?}");
}
