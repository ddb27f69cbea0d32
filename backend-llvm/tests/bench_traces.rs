//! The compile-latency bench's real units (`benches/traces/*.trace`, written by the
//! engine for the talk's programs) stay valid inputs: each parses, verifies and
//! compiles at both levels. They embed the host addresses of the run that wrote them,
//! so they are compiled here, never run. Without this test an IR change that breaks
//! them would surface only when someone runs the bench.

use leones_backend_llvm::{Backend, Level, UnitOptions};
use std::path::Path;

#[test]
fn the_bench_traces_parse_verify_and_compile_at_both_levels() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/traces");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("benches/traces is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the talk programs' units in {dir:?}, found {files:?}"
    );
    let mut backends: Vec<Backend> = Level::ALL.iter().map(|&l| Backend::new(l).unwrap()).collect();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let trace = leones_ir::parse(&text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        leones_ir::verify(&trace).unwrap_or_else(|e| panic!("{file:?}: {e:?}"));
        for backend in backends.iter_mut() {
            let unit = (backend.compile(&trace, &UnitOptions::default()))
                .unwrap_or_else(|e| panic!("{file:?} at {:?}: {e}", backend.level()));
            assert!(unit.code_bytes > 0, "{file:?}: no code");
            backend.remove(unit.id).unwrap();
        }
    }
}
