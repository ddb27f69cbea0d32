//! Region formation filetests: `opt/filetests/region/*.ir`.
//!
//! Format: the root trace; then one section per arm, headed
//! `; ---- arm from PIECE guard N [weights(RAN, HELD)] ----` (PIECE 0 is the root, k the
//! k-th arm), holding the arm's trace; then `; ---- expect ----` and the region's
//! canonical text, or `; ---- expect error ----` and a substring of the error. A line
//! `; passes: a, b` in the root section runs those passes on the region before
//! comparing (default: none — the formed region as is). Every formed region is also run
//! by the reference interpreter on the `; run:` inputs given in the root section, and
//! must agree with running the pieces one after another (`common::run_pieces`).

mod common;

use leones_ir::interp::Val;
use leones_opt::region::{form_region, Arm};
use leones_opt::{optimize, passes_named, OptContext};
use std::path::Path;

const ARM: &str = "; ---- arm from ";
const EXPECT: &str = "; ---- expect ----";
const EXPECT_ERROR: &str = "; ---- expect error ----";

struct ArmSpec {
    parent: usize,
    guard: u32,
    weights: Option<(u32, u32)>,
    text: String,
}

fn parse_arm_header(h: &str) -> Result<(usize, u32, Option<(u32, u32)>), String> {
    let h = h.trim().trim_end_matches("----").trim();
    let words: Vec<&str> = h.split_whitespace().collect();
    let bad = || format!("bad arm header `{h}`");
    if words.len() < 3 || words[1] != "guard" {
        return Err(bad());
    }
    let parent = words[0].parse().map_err(|_| bad())?;
    let guard = words[2].parse().map_err(|_| bad())?;
    let weights = match words.get(3..) {
        Some(rest) if !rest.is_empty() => {
            let w = rest.join(" ");
            let inner = w
                .strip_prefix("weights(")
                .and_then(|x| x.strip_suffix(')'))
                .ok_or_else(bad)?;
            let (a, b) = inner.split_once(',').ok_or_else(bad)?;
            Some((
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ))
        }
        _ => None,
    };
    Ok((parent, guard, weights))
}

fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (pieces_text, expected, want_error) = match text.split_once(EXPECT_ERROR) {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = text.split_once(EXPECT).ok_or("no expect line")?;
            (a, b, false)
        }
    };
    let mut sections = pieces_text.split(ARM);
    let root_text = sections.next().ok_or("no root")?;
    let mut specs = Vec::new();
    for sec in sections {
        let (header, body) = sec.split_once('\n').ok_or("an empty arm section")?;
        let (parent, guard, weights) = parse_arm_header(header)?;
        specs.push(ArmSpec {
            parent,
            guard,
            weights,
            text: body.to_string(),
        });
    }
    let root = leones_ir::parse(root_text).map_err(|e| format!("root: {e}"))?;
    let arm_traces: Vec<_> = specs
        .iter()
        .enumerate()
        .map(|(k, s)| leones_ir::parse(&s.text).map_err(|e| format!("arm {k}: {e}")))
        .collect::<Result<_, _>>()?;
    let arms: Vec<Arm> = specs
        .iter()
        .zip(&arm_traces)
        .map(|(s, t)| Arm {
            trace: t,
            parent: s.parent,
            guard: s.guard,
            weights: s.weights,
        })
        .collect();
    let formed = form_region(&root, &arms);
    let norm = |s: &str| s.trim().lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    if want_error {
        let e = match formed {
            Ok(r) => return Err(format!("expected an error, got:\n{}", leones_ir::print(&r.trace))),
            Err(e) => e.to_string(),
        };
        let want = norm(expected);
        return if e.contains(&want) {
            Ok(())
        } else {
            Err(format!("expected an error containing `{want}`, got `{e}`"))
        };
    }
    let region = formed.map_err(|e| e.to_string())?;
    let mut trace = region.trace.clone();
    if let Some(line) = root_text.lines().find_map(|l| l.trim().strip_prefix("; passes:")) {
        let names: Vec<&str> = line.split(',').map(str::trim).collect();
        let passes = passes_named(&names).map_err(|e| e.to_string())?;
        let ctx = OptContext {
            verify_each_pass: true,
            ..OptContext::default()
        };
        trace = optimize(&trace, &passes, &ctx).map_err(|e| e.to_string())?.0;
    }
    // Semantics: the region (as formed and after its passes) agrees with the pieces.
    for line in root_text.lines().filter_map(|l| l.trim().strip_prefix("; run:")) {
        let inputs: Vec<Val> = common::parse_vals(line)?;
        let want = common::run_pieces(&root, &arms, &inputs)?;
        for (what, t) in [("formed", &region.trace), ("optimized", &trace)] {
            let got = common::run_region(t, &region.origins, &inputs)?;
            if got != want {
                return Err(format!(
                    "run {line}: the {what} region gives\n{got}\nthe pieces give\n{want}"
                ));
            }
        }
    }
    let got = leones_ir::print(&trace);
    if norm(&got) != norm(expected) {
        return Err(format!("expected:\n{}\n\ngot:\n{}", norm(expected), norm(&got)));
    }
    Ok(())
}

#[test]
fn region_filetests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("filetests/region");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    let mut failed = Vec::new();
    let mut ran = 0;
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "ir")) {
        ran += 1;
        if let Err(e) = run_file(f) {
            failed.push(format!("--- {}:\n{e}", f.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {ran} failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    assert!(ran >= 4, "expected at least 4 region filetests, found {ran}");
    assert!(
        failed.is_empty(),
        "{} of {ran} failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}
