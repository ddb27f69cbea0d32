//! Pictures of trace trees (`leones::engine::graph`): the graph of a register-VM run
//! holds the units the engine built with the counts its stats report, the DOT draws
//! them, and the files are written with or without Graphviz.

#[path = "support/regvm_programs.rs"]
mod programs;
#[path = "../examples/regvm/vm.rs"]
mod regvm;

use leones::engine::graph::dot::Limits;
use leones::engine::graph::{Graphviz, Rejoin};
use leones::engine::{EngineConfig, TreeGraph};
use leones_tracer::{LogConfig, Params};
use programs::{bridge_program, data_driven_program};
use regvm::*;
use std::path::PathBuf;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leones-graph-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every exit the graph knows of: the live units' and the retired ones'.
fn exits_in(g: &TreeGraph) -> u64 {
    let live = g.unit.iter().chain(g.bridges.iter().map(|b| &b.node));
    let live: u64 = live.flat_map(|u| &u.exits).map(|e| e.count).sum();
    live + g.retired.iter().map(|r| r.exits).sum::<u64>()
}

/// `code` run with the JIT under `params` (low thresholds), checked against the
/// interpreter.
fn jit_run(code: &[Ins], params: &str) -> Vm {
    let mut vm = Vm::new(EngineConfig::new(
        Params::parse(&format!("background=off,{params}")).unwrap(),
    ));
    assert_eq!(vm.run(code, vec![0; NREGS]), interpret(code, vec![0; NREGS]));
    vm
}

fn bridge_run() -> Vm {
    jit_run(
        &bridge_program(5000),
        "threshold=2,bridge_threshold=2,trace_limit=300,merge=off",
    )
}

fn region_run() -> Vm {
    jit_run(
        &data_driven_program(20_000),
        "threshold=2,bridge_threshold=2,trace_limit=300",
    )
}

/// The run's one tree (these programs have one loop).
fn only_tree(vm: &Vm) -> TreeGraph {
    let mut graphs = vm.engine.tree_graphs();
    assert_eq!(graphs.len(), 1, "{graphs:?}");
    graphs.remove(0)
}

#[test]
fn a_bridge_hangs_off_its_guard_with_the_engines_counts() {
    let vm = bridge_run();
    let s = vm.engine.stats();
    let g = &only_tree(&vm);
    let unit = g.unit.as_ref().expect("the loop is installed");
    assert!(!g.is_region() && g.arms.is_empty() && g.retired.is_empty(), "{g:?}");
    assert_eq!(g.entries, s.loop_entries);
    assert_eq!(g.iterations, None, "merge=off does not count iterations");
    assert_eq!(g.bridges.len() as u64, s.bridges_attached);
    let bridge = &g.bridges[0];
    assert_eq!(bridge.entries, s.bridge_entries);
    assert!(bridge.entries > 4900, "{bridge:?}");
    // It hangs off the loop unit's guard that exited until it was attached.
    let (parent, guard) = bridge.parent.expect("attached");
    assert_eq!(parent, unit.unit);
    let before = unit
        .exits
        .iter()
        .find(|e| e.guard == guard)
        .expect("the bridged guard exited");
    assert_eq!(before.count, 2, "bridge_threshold=2 exits, then the bridge");
    assert_eq!(exits_in(g), s.exits);
    assert_eq!(vm.engine.tracer_stats().guard_failures, s.exits);

    let dot = g.to_dot();
    assert!(dot.starts_with(&format!("digraph \"{}\" {{", g.root)), "{dot}");
    assert!(
        dot.contains(&format!("entries {}, iterations not counted", s.loop_entries)),
        "{dot}"
    );
    let edge = format!(
        "root -> u{} [label=\"g{guard} {} {}\\n2 exits before the bridge\"]",
        bridge.node.unit, bridge.guard_kind, bridge.at
    );
    assert_eq!(bridge.guard_kind, before.kind);
    assert!(dot.contains(&edge), "no `{edge}` in\n{dot}");
    assert!(dot.contains(&format!("entries {}", s.bridge_entries)), "{dot}");
    assert!(
        dot.contains(&format!("1 live bridges ({} entries)", s.bridge_entries)),
        "{dot}"
    );
    // The loop's end is reached inside the bridge: a red edge to the interpreter.
    let end = bridge.node.exits.first().expect("the bridge exits at the loop's end");
    assert!(
        dot.contains(&format!("g{} {}\\n{} exits", end.guard, end.kind, end.count)),
        "{dot}"
    );
}

#[test]
fn a_region_shows_its_arms_and_the_units_it_retired() {
    let vm = region_run();
    let s = vm.engine.stats();
    let g = &only_tree(&vm);
    assert!(g.is_region(), "{g:?}");
    assert_eq!(g.arms.iter().filter(|a| a.merged).count() as u64, s.arms_merged);
    assert_eq!(g.retired.len() as u64 + g.retired_dropped, s.units_retired);
    assert_eq!(g.entries, s.loop_entries);
    // Every one of the 20000 iterations but the few interpreted ones ran natively.
    let iterations = g.iterations.expect("counted with merging on");
    assert!(iterations <= 20_000 && iterations > 19_000, "{iterations}");
    assert_eq!(exits_in(g), s.exits);
    let bridge_entries: u64 = g.bridges.iter().map(|b| b.entries).sum();
    assert_eq!(bridge_entries, s.bridge_entries);
    // The arm leaves the root's branch guard and rejoins the root at the join (pc 9).
    let arm = &g.arms[0];
    assert_eq!(arm.from.0, 0);
    assert!(
        matches!(&arm.rejoin, Rejoin::MergePoint { piece: 0, at, .. } if at.ends_with("@9")),
        "{arm:?}"
    );
    assert!(arm.taken_when_recorded > 0 && arm.passed_when_recorded > 0, "{arm:?}");

    let dot = g.to_dot();
    assert!(dot.contains("subgraph cluster_region"), "{dot}");
    assert!(
        dot.contains(&format!("root -> a1 [label=\"recorded g{}\"]", arm.from.1)),
        "{dot}"
    );
    let taken = format!(
        "taken {} of {}",
        arm.taken_when_recorded,
        arm.taken_when_recorded + arm.passed_when_recorded
    );
    assert!(dot.contains(&taken), "{dot}");
    assert!(
        dot.contains(&format!("retired (latest {} of {})", g.retired.len(), s.units_retired)),
        "{dot}"
    );
    for r in &g.retired {
        assert!(dot.contains(&format!("r{} [label=", r.unit)), "{dot}");
    }
}

#[test]
fn what_is_not_drawn_is_counted_in_the_title() {
    // Peeled, the loop keeps a second copy of the bridged guard whose exits go to the
    // interpreter: an exit edge to leave out (unpeeled, its one guard has the bridge).
    let vm = jit_run(
        &bridge_program(5000),
        "threshold=2,bridge_threshold=2,trace_limit=300,merge=off,peel=2",
    );
    let g = &vm.engine.tree_graphs()[0];
    let none = Limits {
        bridges: 0,
        exit_edges: 0,
        arms: 0,
        retired: 0,
    };
    let dot = g.to_dot_with(&none);
    let entries = g.bridges[0].entries;
    assert!(dot.contains(&format!("1 more bridges\\nentries {entries}")), "{dot}");
    assert!(
        dot.contains(&format!("1 bridges not drawn ({entries} entries)")),
        "{dot}"
    );
    assert!(!dot.contains(&format!("u{} [", g.bridges[0].node.unit)), "{dot}");
    assert!(!dot.contains("interpreter"), "no exit edges: {dot}");
    assert!(dot.contains("exit edges not drawn"), "{dot}");
}

#[test]
fn write_graphs_writes_dot_and_degrades_without_graphviz() {
    let vm = region_run();
    let dir = scratch("write");
    let done = vm.engine.write_graphs_with(&dir, None).unwrap();
    let g = &vm.engine.tree_graphs()[0];
    assert_eq!(done.dot, vec![dir.join(format!("{}.dot", g.root))]);
    assert!(done.svg.is_empty() && !done.graphviz);
    assert_eq!(std::fs::read_to_string(&done.dot[0]).unwrap(), g.to_dot());
    assert!(!dir.join(format!("{}.svg", g.root)).exists());
    assert!(done.describe(&dir).contains("DOT only"), "{}", done.describe(&dir));

    // A Graphviz that cannot run: the DOT is still written, the failure reported.
    let broken = Graphviz {
        program: dir.join("no-such-dot"),
    };
    let done = vm.engine.write_graphs_with(&dir, Some(&broken)).unwrap();
    assert_eq!((done.dot.len(), done.svg.len(), done.render_errors.len()), (1, 0, 1));
    assert!(done.render_errors[0].contains("cannot run"), "{:?}", done.render_errors);

    // With Graphviz installed, the SVG is rendered next to the DOT.
    if let Some(gv) = Graphviz::find() {
        let done = vm.engine.write_graphs_with(&dir, Some(&gv)).unwrap();
        assert!(done.render_errors.is_empty(), "{:?}", done.render_errors);
        let svg = std::fs::read_to_string(&done.svg[0]).unwrap();
        assert!(svg.contains("<svg") && svg.contains("region"), "{svg}");
    }
}

#[test]
fn leones_log_graph_writes_the_graphs_when_the_engine_is_dropped() {
    let dir = scratch("log");
    let log = dir.with_extension("log");
    let _ = std::fs::remove_file(&log);
    let spec = format!("graph={}:{}", dir.display(), log.display());
    let params = Params::parse("background=off,threshold=2,bridge_threshold=2,trace_limit=300,merge=off").unwrap();
    let mut vm = Vm::new(EngineConfig {
        log: LogConfig::parse(&spec).unwrap(),
        ..EngineConfig::new(params)
    });
    vm.run(&bridge_program(1000), vec![0; NREGS]);
    let dot = vm.engine.tree_graphs()[0].to_dot();
    let root = vm.engine.tree_graphs()[0].root.clone();
    drop(vm);
    assert_eq!(std::fs::read_to_string(dir.join(format!("{root}.dot"))).unwrap(), dot);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("; graphs: 1 root(s)").count(), 1, "{text}");
    assert_eq!(text.contains("DOT only"), Graphviz::find().is_none(), "{text}");
}
