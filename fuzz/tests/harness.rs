//! Tests of the fuzz harness itself (`cargo test --release` in `fuzz/`; not part of
//! the main workspace's `make test`): every checked-in corpus file replays without a
//! finding — so an input saved there from a fixed crash is a regression test — and
//! the differential targets really exercise what they claim (chains are built, some
//! bridges loop back into their parent or jump to linked units, control reaches the
//! bridges; pylite's JIT compiles loops, attaches bridges and leaves compiled code).

use leones_fuzz::llvm_diff::{CHAINS_RUN, LEFT_FROM_CHILD, LOOP_BACKS, TARGET_LINKS};
use std::sync::atomic::Ordering::Relaxed;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        check(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 0, "no corpus in {}", dir.display());
}

#[test]
fn the_corpora_replay_without_findings() {
    replay("parse", leones_fuzz::parse::check);
    replay("opt_diff", leones_fuzz::opt_diff::check);
    replay("llvm_diff", leones_fuzz::llvm_diff::check);
    replay("pylite_diff", leones_fuzz::pylite_diff::check);
}

#[test]
fn pylite_programs_compile_loops_attach_bridges_and_exit() {
    use leones_fuzz::pylite_diff::{BRIDGES, EXITS, LOOPS};
    for k in 0..16u32 {
        let data: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(k * 2 + 1) >> 3) as u8).collect();
        leones_fuzz::pylite_diff::check(&data);
    }
    let counts = [&LOOPS, &BRIDGES, &EXITS].map(|c| c.load(Relaxed));
    eprintln!("pylite loops, bridges, exits: {counts:?}");
    assert!(counts.iter().all(|&c| c >= 10), "{counts:?}");
}

#[test]
fn llvm_chains_exercise_bridges_loop_backs_and_links() {
    for k in 0..300u32 {
        let mut data = vec![(k % 2) as u8, (k % 5) as u8];
        data.extend_from_slice(&k.wrapping_mul(0x9E37_79B9).to_le_bytes());
        leones_fuzz::llvm_diff::check(&data);
    }
    let counts = [&CHAINS_RUN, &LOOP_BACKS, &TARGET_LINKS, &LEFT_FROM_CHILD].map(|c| c.load(Relaxed));
    eprintln!("chains, loop-backs, target links, ended in a child: {counts:?}");
    assert!(counts[0] >= 100, "{counts:?}");
    assert!(counts.iter().all(|&c| c >= 10), "{counts:?}");
}
