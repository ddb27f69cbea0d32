//! `pylite bench --warmup` on one program at the small size: the report has the
//! warm-up fields (time to the first compiled iteration, compile share, curves) and
//! a plot with a line per runtime. (That the warm-up variants print what the talk
//! programs print is `tests/programs.rs`.)

/// The number after `"key": ` at its first occurrence after `from` in `json`
/// (`None` for `null` or no such key).
fn number_after(json: &str, from: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(from)?..];
    let rest = &rest[rest.find(&format!("\"{}\": ", key))? + key.len() + 4..];
    rest.split([',', '\n']).next()?.trim().parse().ok()
}

#[test]
fn warmup_mode_reports_first_compiled_compile_share_and_curves() {
    let dir = std::env::temp_dir().join(format!("pylite-warmup-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (json, md, plots) = (dir.join("b.json"), dir.join("b.md"), dir.join("plots"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pylite"))
        .args(["bench", "--warmup", "--size", "small", "--runs", "1", "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg("--plots")
        .arg(&plots)
        .arg("pi.py")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("warm-up (first compiled"), "{}", stdout);
    assert!(stdout.contains("compile time under 10% of the JIT run's wall time (small size)"));

    let json = std::fs::read_to_string(&json).unwrap();
    assert!(json.contains("\"warmup_only\": true"));
    let first = number_after(&json, "\"jit\": {", "first_compiled_ms").expect("first_compiled_ms");
    let wall = number_after(&json, "\"jit\": {", "jit_wall_secs").expect("jit_wall_secs");
    let share = number_after(&json, "\"jit\": {", "compile_share_of_jit_wall").expect("compile share");
    let compile_ms = number_after(&json, "\"jit\": {", "compile_ms").unwrap();
    assert!(first > 0.0 && first < wall * 1000.0, "{} ms of {} s", first, wall);
    assert!(
        (share - compile_ms / 1000.0 / wall).abs() < 1e-9,
        "{} {} {}",
        share,
        compile_ms,
        wall
    );
    let curves = &json[json.find("\"warmup_curves\"").unwrap()..];
    for runtime in ["interp", "jit"] {
        let key = format!("\"{}\": {{", runtime);
        assert_eq!(number_after(curves, &key, "runs"), Some(1.0), "{}", curves);
        let steady = number_after(curves, &key, "steady_secs_per_iteration").unwrap();
        assert!(steady > 0.0, "{}", curves);
    }

    let svg = std::fs::read_to_string(plots.join("pi.svg")).unwrap();
    let runtimes = json.split("\"runtimes\": {").nth(1).unwrap();
    let installed = runtimes.split('}').next().unwrap().matches(": \"").count();
    assert_eq!(
        svg.matches("<polyline").count(),
        installed,
        "one line per installed runtime"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("## Warm-up"));
    assert!(md.contains("![pi: time per iteration](plots/pi.svg)"), "{}", md);
    let _ = std::fs::remove_dir_all(&dir);
}
