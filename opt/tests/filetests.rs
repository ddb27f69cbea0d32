//! "This trace becomes that trace": every `opt/filetests/<dir>/*.ir`.
//!
//! Format: the input trace, then a line `; ---- expect ----`, then the expected
//! canonical text (what `leones_ir::print` writes for the optimized trace). A line
//! `; passes: a, b, c` anywhere before the marker picks the passes (default: the
//! directory's name; `pipeline` means the default pipeline); a line `; peel:
//! when-it-pays` (or `never`; default `always`) sets [`PeelPolicy`]. Comparison is exact, up
//! to trailing white space. Pure calls are evaluated with the generator's test host.
//! Semantics are covered by the property tests (`differential.rs`); filetests check
//! the shape of the result.

mod common;

use leones_opt::{default_pipeline, optimize, passes_named, OptContext, PeelPolicy};
use std::path::Path;

const MARKER: &str = "; ---- expect ----";

fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (input, expected) = text.split_once(MARKER).ok_or("no `; ---- expect ----` line")?;
    let dir = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let passes_line = input
        .lines()
        .find_map(|l| l.trim().strip_prefix("; passes:"))
        .map(str::trim);
    let names: Vec<&str> = passes_line.unwrap_or(dir).split(',').map(str::trim).collect();
    let passes = if names == ["pipeline"] {
        default_pipeline()
    } else {
        passes_named(&names).map_err(|e| e.to_string())?
    };
    let peel = match input
        .lines()
        .find_map(|l| l.trim().strip_prefix("; peel:"))
        .map(str::trim)
    {
        None | Some("always") => PeelPolicy::Always,
        Some("when-it-pays") => PeelPolicy::WhenItPays,
        Some("never") => PeelPolicy::Never,
        Some(other) => return Err(format!("`; peel: {other}`: expected always, when-it-pays or never")),
    };
    let trace = leones_ir::parse(input).map_err(|e| format!("input: {e}"))?;
    let eval = common::TestHostEval;
    let ctx = OptContext {
        pure_calls: Some(&eval),
        verify_each_pass: true,
        entry_facts: &[],
        peel,
        ..OptContext::default()
    };
    let (out, _) = optimize(&trace, &passes, &ctx).map_err(|e| e.to_string())?;
    let got = leones_ir::print(&out);
    let norm = |s: &str| s.trim().lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    if norm(&got) != norm(expected) {
        return Err(format!("expected:\n{}\n\ngot:\n{}", norm(expected), norm(&got)));
    }
    // The expected text is itself a valid trace.
    let reparsed = leones_ir::parse(expected).map_err(|e| format!("expected text: {e}"))?;
    leones_ir::verify(&reparsed).map_err(|e| format!("expected text: {e}"))?;
    Ok(())
}

#[test]
fn filetests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("filetests");
    let filter = std::env::var("FILETEST").unwrap_or_default();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        // `region/` has its own format and runner (tests/region.rs).
        .filter(|p| !p.ends_with("region"))
        .collect();
    dirs.sort();
    let (mut ran, mut failed) = (0, Vec::new());
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "ir")) {
            if !f.to_string_lossy().contains(&filter) {
                continue;
            }
            ran += 1;
            if let Err(e) = run_file(&f) {
                failed.push(format!("--- {}:\n{e}", f.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {ran} filetests failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    eprintln!("{ran} filetests passed");
}
