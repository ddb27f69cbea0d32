//! Hostile input to the text format and the verifier: huge and deeply nested traces
//! must be checked in about linear time and without deep recursion, and the answers
//! must stay right (a value from one arm of a diamond deep in a long chain is still
//! not available after the join). Inputs the `parse` fuzzer found are pinned here.

use leones_ir::{parse, verify, VerifyErrorKind};
use std::time::{Duration, Instant};

/// `n` blocks in a chain of `goto`s, each passing block0's `v0` on; the last block
/// finishes with `v0` itself (a use dominated from `n` blocks up). With `diamond_at`,
/// block `k` branches into two arms, the first of which defines `v(n+10)` — and the
/// last block finishes with that value instead, which the join does not see.
fn chain(n: usize, diamond_at: Option<usize>) -> String {
    let mut s = String::from("trace chain\n\nblock0(v0: i64, v1: bool):\n");
    let mut b = 0;
    for k in 0..n {
        if diamond_at == Some(k) {
            s += &format!(
                "    br v1, block{}(), block{}()\n\nblock{}():\n    v{} = const 7\n    goto block{}()\n\nblock{}():\n    goto block{}()\n\nblock{}():\n",
                b + 1,
                b + 2,
                b + 1,
                n + 10,
                b + 3,
                b + 2,
                b + 3,
                b + 3
            );
            b += 3;
        }
        s += &format!("    goto block{}(v0)\n\nblock{}(v{}: i64):\n", b + 1, b + 1, k + 2);
        b += 1;
    }
    let last = if diamond_at.is_some() {
        format!("v{}", n + 10)
    } else {
        "v0".into()
    };
    s + &format!("    finish {last}\n")
}

#[test]
fn a_long_block_chain_verifies_in_linear_time() {
    let text = chain(200_000, None);
    let trace = parse(&text).expect("parses");
    let start = Instant::now();
    verify(&trace).expect("valid");
    // Linear: well under a second in release builds. The dominance check used to
    // walk the dominator tree up from every use: about 40 s for this trace.
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
}

#[test]
fn deep_in_a_chain_a_value_from_one_arm_is_not_available_after_the_join() {
    for at in [0, 1, 5_000, 9_999] {
        let trace = parse(&chain(10_000, Some(at))).expect("parses");
        let e = verify(&trace).expect_err("the arm's value does not dominate the last block");
        assert_eq!(e.kind, VerifyErrorKind::UseNotDominated, "diamond at {at}: {e}");
    }
    verify(&parse(&chain(10_000, None)).unwrap()).expect("v0 dominates everything");
}
