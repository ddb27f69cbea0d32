//! Runs every filetest under `tests/filetests/`: run cases against the reference
//! interpreter, and invalid files against the parser and verifier.

use leones_ir::{parse_with_source_map, verify_with_source};
use leones_tests::filetest::{directives, run_case};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    v.sort();
    v
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("filetests")
}

#[test]
fn run_filetests() {
    let files = files(&root());
    assert!(
        files.len() >= 20,
        "expected at least 20 run filetests, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut cases = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let d = directives(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!d.runs.is_empty(), "{}: no `; run:` directive", path.display());
        let (trace, map) = parse_with_source_map(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(e) = verify_with_source(&trace, &map) {
            panic!("{}: {e}", path.display());
        }
        // The canonical text must round-trip too.
        let printed = leones_ir::print(&trace);
        assert_eq!(
            leones_ir::print(&leones_ir::parse(&printed).unwrap()),
            printed,
            "{}",
            path.display()
        );
        for case in &d.runs {
            cases += 1;
            let got = run_case(&trace, case).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), case.line));
            if got != case.expect {
                failures.push(format!(
                    "{}:{}:\n  expected: {}\n  got:      {}",
                    path.display(),
                    case.line,
                    case.expect,
                    got
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} run cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_filetests() {
    let files = files(&root().join("invalid"));
    assert!(
        files.len() >= 15,
        "expected at least 15 invalid filetests, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let want = directives(&text)
            .unwrap()
            .error
            .unwrap_or_else(|| panic!("{}: no `; error:`", path.display()));
        let got = match parse_with_source_map(&text) {
            Err(e) => format!("parse {:?} {}", e.kind, e.pos),
            Ok((trace, map)) => match verify_with_source(&trace, &map) {
                Ok(()) => "no error".to_string(),
                Err(e) => format!(
                    "verify {:?} {}",
                    e.kind,
                    e.pos(&map).map_or("-".into(), |p| p.to_string())
                ),
            },
        };
        if got != want {
            failures.push(format!("{}:\n  expected: {want}\n  got:      {got}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} invalid filetests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
