//! Trace merging on data-driven control flow (issue 8): the talk's `data_driven.py`
//! and variants that are not its exact shape — more parameters, skewed probabilities,
//! ints on some rows and floats on others — give the interpreter's output with the JIT
//! on (merging on and off, default and low thresholds), and with merging on the JIT
//! really forms regions.

use pylite::jit::{JitConfig, JitReport, Params};

/// A data-driven program: `fn` with `nparams` optional arguments, each `None` with its
/// percentage in `none_percent` (cycled), called as `fn(*row)` over `rows` generated
/// rows, `repeat` times. With `ints`, a non-None argument is an int on some rows.
fn variant(nparams: usize, none_percent: &[u32], ints: bool, rows: usize, repeat: usize) -> String {
    let names: Vec<String> = (0..nparams).map(|i| format!("p{i}")).collect();
    let mut src = String::new();
    src.push_str(&format!(
        "def fn({}):\n",
        names.iter().map(|n| format!("{n}=None")).collect::<Vec<_>>().join(", ")
    ));
    for (i, n) in names.iter().enumerate() {
        src.push_str(&format!("    if {n} is None: {n} = {}.25\n", i % 5));
    }
    // A data-dependent clamp after the defaults, like the talk's `if y < f: y = f`.
    src.push_str(&format!("    y = {}\n", names.join(" + ")));
    src.push_str("    if y < 2.0: y = 2.0\n    if y > 9.0: y = 9.0\n    return y\n\n");
    let percents = none_percent
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    src.push_str(&format!(
        "def main():\n    percents = [{percents}]\n    s = 12345\n    data = []\n    for r in range({rows}):\n        row = []\n        for j in range({nparams}):\n            s = (s * 1103515245 + 12345) & 0x7FFFFFFF\n            if s % 100 < percents[j % len(percents)]:\n                row.append(None)\n"
    ));
    if ints {
        src.push_str("            elif (s >> 8) % 3 == 0:\n                row.append((s >> 12) % 7)\n");
    }
    src.push_str(&format!(
        "            else:\n                row.append(((s >> 8) % 1000) / 250.0)\n        data.append(tuple(row))\n    acc = 0.0\n    for k in range({repeat}):\n        for row in data:\n            acc += fn(*row)\n    print(acc)\n\nmain()\n"
    ));
    src
}

fn run(src: &str, config: &JitConfig) -> (String, JitReport) {
    let (out, res, report) = pylite::run_capture_with(src, "variant.py", &[], config);
    if let Err(e) = res {
        panic!("failed ({config:?}): {e}\n{src}");
    }
    (out, report)
}

fn params(spec: &str) -> JitConfig {
    JitConfig::with_params(Params::parse(spec).expect("params"))
}

/// Same output with the JIT off and on (merging on and off, several thresholds);
/// returns the report of the default run with merging on.
fn same_output(src: &str) -> JitReport {
    let (want, _) = run(src, &JitConfig::off());
    let (got, merged) = run(src, &params("background=off"));
    assert_eq!(got, want, "JIT (defaults) differs from the interpreter:\n{src}");
    for spec in [
        "merge=off",
        "threshold=2,bridge_threshold=2,merge_samples=1",
        "threshold=5,bridge_threshold=1,merge_samples=8,merge_bridges=1",
        "threshold=13,bridge_threshold=4,branchless=off",
        "threshold=3,bridge_threshold=3,region_cap=2",
    ] {
        let (got, _) = run(src, &params(spec));
        assert_eq!(got, want, "JIT ({spec}) differs from the interpreter:\n{src}");
    }
    merged
}

#[test]
fn the_talks_program_merges() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("programs/data_driven.py");
    let src = std::fs::read_to_string(&path).expect("source");
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.ends_with(" secs"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let args = ["3000", "2"];
    let (want, res, _) = pylite::run_capture_with(&src, "data_driven.py", &args, &JitConfig::off());
    res.expect("interpreted");
    for spec in [
        "merge=on,background=off",
        "merge=off",
        "threshold=2,bridge_threshold=2,merge_samples=1",
    ] {
        let (got, res, report) = pylite::run_capture_with(&src, "data_driven.py", &args, &params(spec));
        res.expect("with the JIT");
        assert_eq!(strip(&got), strip(&want), "{spec}");
        if spec == "merge=on,background=off" {
            // The setup loop's `x` is dead after its `if` (pylite's liveness), so its
            // paths rejoin too: no plain bridges are left (55 before liveness).
            assert!(report.regions >= 1, "{report:?}");
            assert!(report.loops + report.bridges <= 12, "{report:?}");
        }
    }
}

#[test]
fn a_few_optional_arguments_merge_into_one_region() {
    let report = same_output(&variant(3, &[50], false, 3000, 2));
    assert!(report.regions >= 1 && report.loops >= 1, "{report:?}");
}

#[test]
fn twelve_parameters() {
    same_output(&variant(12, &[50], false, 1500, 2));
}

#[test]
fn skewed_probabilities() {
    // Some arguments None 90% of the time, some 10%, some never.
    same_output(&variant(9, &[90, 10, 0, 50], false, 2000, 2));
}

#[test]
fn ints_on_some_rows_and_floats_on_others() {
    // An int path and a float path never merge; the output must still be exact.
    same_output(&variant(6, &[40], true, 2000, 2));
}

/// Ints and floats mixed independently in six arguments are 3^6 type combinations
/// that merging may not join, one bridge each (plus bridges of bridges: 900 before
/// the cap, 12x slower than the interpreter). With a small bridge cap the loop's
/// tree stops growing, keeps exiting, and is given up — the output stays exact; with
/// no cap (`max_bridges=0`, and no short-loop judgement, which gives up the data
/// generator's 6-iteration inner loop) nothing is given up.
#[test]
fn a_tree_that_keeps_branching_on_types_is_capped_and_given_up() {
    let src = variant(6, &[40], true, 2000, 3);
    let (want, _) = run(&src, &JitConfig::off());
    let (got, capped) = run(&src, &params("background=off,max_bridges=4,give_up_exits=2"));
    assert_eq!(got, want, "capped JIT differs from the interpreter:\n{src}");
    assert!(capped.given_up >= 1, "{capped:?}");
    assert!(capped.bridges <= 3 * 4, "bridges past the cap: {capped:?}");
    let (got, uncapped) = run(&src, &params("background=off,max_bridges=0,short_loop=0"));
    assert_eq!(got, want, "uncapped JIT differs from the interpreter:\n{src}");
    assert_eq!(uncapped.given_up, 0, "{uncapped:?}");
    assert!(uncapped.bridges > 3 * 4, "{uncapped:?}");
}

/// A merged `None` check's branch weights are *measured*: each guard's passes are
/// counted in compiled code, so an argument that is `None` half the time gives a
/// diamond weighted about 1:1, and branchless rewriting turns it into a `select`.
/// (Estimated from the loop's iterations, as before, a guard late in `fn` looked
/// taken 5% of the time — iterations that left at earlier guards counted as passes —
/// and half of the nine checks stayed mispredicted branches.)
#[test]
fn merged_none_checks_carry_measured_weights() {
    let dir = std::env::temp_dir().join(format!("leones-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (program, log) = (dir.join("nine.py"), dir.join("opt.log"));
    std::fs::write(&program, variant(9, &[50], false, 3000, 4)).expect("program");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pylite"))
        .args(["run", "--jit", "on"])
        .arg(&program)
        .env("LEONES_PARAMS", "background=off")
        .env("LEONES_LOG", format!("opt:{}", log.display()))
        .output()
        .expect("pylite runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&log).expect("the opt log");
    let _ = std::fs::remove_dir_all(&dir);
    let last = text.rsplit("; optimized").next().expect("an optimized trace");
    let selects = last.matches("select.unpredictable").count();
    // Nine `None` checks, each at least once (peeling may copy them).
    assert!(selects >= 9, "{selects} selects in the last region:\n{last}");
    // The data-driven branches are the `None` checks (the clamps after them are
    // biased: guards, not arms), so no branch may be left that looks skewed — the
    // estimate gave 173:16, 219:11 and so on here.
    for w in last.split(" weights(").skip(1) {
        let (a, b) = w
            .split_once(')')
            .and_then(|(w, _)| w.split_once(", "))
            .expect("weights(a, b)");
        let (a, b): (u64, u64) = (a.parse().expect("a"), b.parse().expect("b"));
        assert!(
            a.min(b) * 10 >= a.max(b),
            "a branch weighted {a}:{b} in the last region:\n{last}"
        );
    }
}

/// Not a test: prints each variant's compiled units and time with merging on and off
/// and interpreted (`cargo test --release -p pylite --test jit_merge -- --ignored
/// --nocapture`), for the closing note.
#[test]
#[ignore]
fn report_variants() {
    let cases = [
        ("3 params, 50% None", variant(3, &[50], false, 20000, 20)),
        ("12 params, 50% None", variant(12, &[50], false, 20000, 20)),
        (
            "9 params, 90/10/0/50% None",
            variant(9, &[90, 10, 0, 50], false, 20000, 20),
        ),
        ("6 params, ints and floats", variant(6, &[40], true, 20000, 20)),
    ];
    for (name, src) in cases {
        for (label, config) in [
            ("interp", JitConfig::off()),
            ("merge=on", params("merge=on")),
            ("merge=off", params("merge=off")),
        ] {
            let t0 = std::time::Instant::now();
            let (_, r) = run(&src, &config);
            eprintln!(
                "{name:28} {label:9} {:7.3} s  loops {} bridges {} regions {} exits {}",
                t0.elapsed().as_secs_f64(),
                r.loops,
                r.bridges,
                r.regions,
                r.exits
            );
        }
    }
}
