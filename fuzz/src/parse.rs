//! # `parse`: hostile text into the parser, the verifier and beyond
//!
//! Any byte string (made UTF-8 lossily, as a file read by a tool might be) goes
//! through `parse_with_source_map` and `verify_with_source`. Both must return, never
//! panic or overflow the stack. A trace that parses and verifies must print to a text
//! that parses again to a trace printing identically (the canonical form is a fixed
//! point), and that verifies too.
//!
//! A valid trace is then what a host or the CLI could hand to the rest of Leones, so
//! it also goes through the optimizer's default pipeline (which must succeed or
//! return an error, never panic) and the reference interpreter on zero inputs, with a
//! step limit (an outcome or a fault, never a panic). Whether the optimized trace
//! behaves the same is `opt_diff`'s business: arbitrary traces may fault, and a pass
//! may legally remove an unused faulting load.

use leones_ir::interp::{Interpreter, Val};
use leones_ir::{parse, parse_with_source_map, print, verify, verify_with_source};
use leones_opt::{default_pipeline, optimize, OptContext};

/// Interpreter step limit: hostile loops must stop quickly.
const STEP_LIMIT: u64 = 10_000;

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok((trace, map)) = parse_with_source_map(&text) else {
        return;
    };
    if verify_with_source(&trace, &map).is_err() {
        return;
    }
    let printed = print(&trace);
    let reparsed = parse(&printed).unwrap_or_else(|e| panic!("the printed trace does not parse: {e}\n{printed}"));
    if let Err(e) = verify(&reparsed) {
        panic!("the printed trace does not verify: {e}\n{printed}");
    }
    let again = print(&reparsed);
    assert_eq!(printed, again, "print∘parse∘print differs from print");

    let ctx = OptContext {
        pure_calls: None,
        verify_each_pass: true,
        entry_facts: &[],
        ..OptContext::default()
    };
    let _ = optimize(&trace, &default_pipeline(), &ctx);

    let inputs: Vec<Val> = trace.blocks[0]
        .params
        .iter()
        .map(|&p| Val::zero(trace.value_type(p)))
        .collect();
    let _ = Interpreter::new(&trace).with_step_limit(STEP_LIMIT).run(&inputs);
}
