//! The perf map: off by default; once enabled, every linked unit is one
//! `START SIZE NAME` line whose start is the unit's entry, whose size is its entry
//! function's code size and whose name is its label.
//!
//! One test in its own binary (its own process): the map is the process's
//! `/tmp/perf-<pid>.map`, so no other test may switch it on concurrently. The lines
//! are sorted by address only after a rewrite; the test compiles in an order where
//! that does not matter (or checks membership).

use leones_backend_llvm::{perf_map_path, Backend, CompiledUnit, Level, UnitOptions};

const SUM: &str = "trace sum\nframe main code 0x1 slots 2\n\nblock0(v0: i64, v1: i64):\n    v2 = const 0\n    \
                   v3 = igt v0, v2\n    guard_true v3 [main@3(v0, v1)]\n    v4 = iadd v1, v0\n    v5 = const 1\n    \
                   v6 = isub v0, v5\n    jump block0(v6, v4)\n";

/// One parsed map line.
#[derive(Debug, PartialEq)]
struct Line {
    start: u64,
    size: u64,
    name: String,
}

fn parse_map(text: &str) -> Vec<Line> {
    text.lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let mut hex = || u64::from_str_radix(parts.next().expect("a field"), 16).expect("hex");
            let (start, size) = (hex(), hex());
            Line {
                start,
                size,
                name: parts.next().expect("a name").to_string(),
            }
        })
        .collect()
}

#[test]
fn the_perf_map_is_off_by_default_and_names_each_linked_unit() {
    let path = perf_map_path();
    let _ = std::fs::remove_file(&path);
    let trace = leones_ir::parse(SUM).unwrap();
    let mut backend = Backend::new(Level::Quick).unwrap();

    let unmapped = backend.compile(&trace, &UnitOptions::default()).unwrap();
    assert!(!path.exists(), "a perf map was written without being enabled");
    assert_eq!(unmapped.label, "sum", "the label defaults to the trace's name");

    assert_eq!(backend.enable_perf_map().unwrap(), path);
    let labelled = UnitOptions {
        label: Some("leones loop.quick main:3 (sum)".into()),
        ..UnitOptions::default()
    };
    let a = backend.compile(&trace, &labelled).unwrap();
    let optimized = UnitOptions {
        level: Some(Level::Optimized),
        ..UnitOptions::default()
    };
    let b = backend.compile(&trace, &optimized).unwrap();
    // The map is flushed per unit: readable while the backend is alive.
    let lines = parse_map(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(lines, vec![line_of(&a), line_of(&b)]);
    assert_eq!(lines[0].name, "leones loop.quick main:3 (sum)");
    assert_eq!(lines[1].name, "sum");
    for u in [&a, &b] {
        // The entry function is the object's only code, padding aside.
        assert!(u.entry_bytes > 0 && u.entry_bytes <= u.code_bytes, "{u:?}");
    }

    // Units come and go; ORC reuses their memory. The map keeps disjoint lines, and
    // every live unit's line is its own (no stale name at a reused address).
    backend.remove(a.id).unwrap();
    let mut last = None;
    for round in 0..4 {
        if let Some(prev) = last.take() {
            backend.remove(prev).unwrap();
        }
        let opts = UnitOptions {
            label: Some(format!("round {round}")),
            ..UnitOptions::default()
        };
        last = Some(backend.compile(&trace, &opts).unwrap().id);
    }
    let c = backend.unit(last.unwrap()).unwrap().clone();
    let lines = parse_map(&std::fs::read_to_string(&path).unwrap());
    drop(backend);
    let _ = std::fs::remove_file(&path);
    for pair in lines.windows(2) {
        assert!(
            pair[0].start + pair[0].size <= pair[1].start,
            "overlapping lines: {lines:?}"
        );
    }
    for u in [&b, &c] {
        assert!(lines.contains(&line_of(u)), "{u:?} not in {lines:?}");
    }
}

fn line_of(u: &CompiledUnit) -> Line {
    Line {
        start: u.entry as usize as u64,
        size: u.entry_bytes,
        name: u.label.clone(),
    }
}
