//! Profiler names through the engine (`src/engine/names.rs`), on the example host
//! (`examples/regvm`): with `EngineConfig::perf_map` on, every unit the engine
//! compiles — loop, bridge, region — is a line of the process's perf map named
//! `leones <kind>.<tier> <the host's name for its root> (<trace>)`; without it, no map
//! is written.
//!
//! One test in its own binary: the map is the process's `/tmp/perf-<pid>.map`.

#[path = "../examples/regvm/vm.rs"]
mod regvm;

use leones::engine::EngineConfig;
use leones_backend_llvm::perf_map_path;
use leones_tracer::{Location, Params};
use regvm::*;

/// A VM whose engine writes the perf map and names locations `regvm@<pc>`.
fn mapped_vm(params: &str) -> Vm {
    let mut vm = Vm::new(EngineConfig {
        perf_map: true,
        // Built on this thread, so each run's units are known when it returns.
        ..EngineConfig::new(Params::parse(&format!("background=off,{params}")).unwrap())
    });
    vm.engine
        .set_location_namer(Some(Box::new(|loc: Location| format!("regvm@{}", loc.0))));
    vm
}

/// The names in the map, in file order.
fn map_names() -> Vec<String> {
    let text = std::fs::read_to_string(perf_map_path()).unwrap_or_default();
    text.lines()
        .map(|l| l.splitn(3, ' ').nth(2).expect("START SIZE NAME").to_string())
        .collect()
}

/// `leones <kind>.quick regvm@<digits> (<trace>)` with a known kind: the kind.
fn kind_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("leones ")?;
    let (kind, rest) = rest.split_once(".quick regvm@")?;
    let (pc, trace) = rest.split_once(' ')?;
    let ok = pc.bytes().all(|b| b.is_ascii_digit()) && trace.starts_with('(') && trace.ends_with(')');
    (ok && ["loop", "bridge", "region"].contains(&kind)).then_some(kind)
}

#[test]
fn the_perf_map_names_loops_bridges_and_regions_after_the_hosts_locations() {
    let path = perf_map_path();
    let _ = std::fs::remove_file(&path);

    // Off by default: units compile, no map appears, locations have raw names.
    let mut vm = Vm::new(EngineConfig::new(
        Params::parse("background=off,threshold=2,bridge_threshold=2,merge=off").unwrap(),
    ));
    vm.run(&bridge_program(100), vec![0; NREGS]);
    assert_eq!(vm.engine.stats().bridges_attached, 1);
    assert!(!path.exists(), "a perf map was written without being asked for");
    assert_eq!(vm.engine.location_name(Location(4)), "loc4");
    drop(vm);

    // A loop and its bridge, both rooted at the header (pc 4).
    let mut vm = mapped_vm("threshold=2,bridge_threshold=2,merge=off");
    vm.run(&bridge_program(100), vec![0; NREGS]);
    let s = vm.engine.stats();
    assert_eq!((s.loops_compiled, s.bridges_attached), (1, 1), "{s:?}");
    assert_eq!(
        map_names(),
        [
            "leones loop.quick regvm@4 (loop4)",
            "leones bridge.quick regvm@4 (bridge_to_loop4)"
        ]
    );
    drop(vm);

    // Regions: generated programs with merging deciding early, until one forms a
    // region. Every line of the map (the earlier ones too) is a well-formed label.
    let params = "threshold=2,bridge_threshold=2,blacklist_after=2,trace_limit=300,merge_samples=1,merge_bridges=1";
    let mut regions = 0;
    for seed in 1..=200 {
        let (code, regs) = gen_program(seed);
        let mut vm = mapped_vm(params);
        vm.run(&code, regs);
        regions += vm.engine.stats().regions_compiled;
        if regions > 0 {
            break;
        }
    }
    assert!(regions > 0, "no generated program formed a region");
    let names = map_names();
    let _ = std::fs::remove_file(&path);
    let kinds: Vec<&str> = names
        .iter()
        .map(|n| kind_of(n).unwrap_or_else(|| panic!("not a unit label: {n:?}")))
        .collect();
    assert!(kinds.contains(&"region"), "{names:?}");
}
