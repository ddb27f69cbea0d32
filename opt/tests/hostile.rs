//! Hostile traces for the optimizer: long chains of blocks must optimize in about
//! linear time and memory, and to a trace that still computes the same result.
//!
//! `cse` copied its table of available expressions into every block (12 s for 20k
//! blocks) and `guards` its facts (killed for lack of memory at 20k blocks); both now
//! share one structure along the dominator tree.

use leones_ir::interp::{Interpreter, Outcome, Val};
use leones_ir::Trace;
use leones_opt::{default_pipeline, optimize, passes_named, OptContext, PassList};
use std::time::{Duration, Instant};

const BLOCKS: usize = 20_000;

/// `BLOCKS` blocks chained by `goto`; each adds a constant to the running value, checks
/// it with a guard (facts for `guards`), stores and reloads it through an object
/// (`heap`), and recomputes the same sum twice (`cse`).
fn chain() -> Trace {
    let mut s = String::from(
        "trace chain\nlayout P size 24 class 0x5\nfield P.x: i64 @8\nframe main code 0x1 slots 1\n\nblock0(v0: i64):\n    v1 = new P\n",
    );
    let (mut v, mut prev) = (2, 0);
    for i in 0..BLOCKS {
        s += &format!(
            "    v{k} = const {i}\n    v{a} = iadd v{prev}, v{k}\n    v{b} = iadd v{prev}, v{k}\n    v{c} = ilt v{a}, v{k}\n    guard_false v{c} [main@{pc}(v{a})]\n    setfield v1, P.x, v{b}\n    v{g} = getfield v1, P.x\n    goto block{next}(v{g})\n\nblock{next}(v{p}: i64):\n",
            k = v,
            a = v + 1,
            b = v + 2,
            c = v + 3,
            g = v + 4,
            p = v + 5,
            pc = i % 7,
            next = i + 1,
        );
        prev = v + 5;
        v += 6;
    }
    s += &format!("    finish v{prev}\n");
    leones_ir::parse(&s).expect("parses")
}

fn run(t: &Trace, x: i64) -> Outcome {
    Interpreter::new(t).run(&[Val::I64(x)]).expect("runs")
}

fn check(passes: &PassList, what: &str) {
    let t = chain();
    let ctx = OptContext {
        pure_calls: None,
        verify_each_pass: false,
        entry_facts: &[],
        ..OptContext::default()
    };
    let start = Instant::now();
    let (opt, _) = optimize(&t, passes, &ctx).expect("optimizes");
    let took = start.elapsed();
    // Linear: a fraction of a second in release builds.
    assert!(took < Duration::from_secs(5), "{what} took {took:?}");
    for x in [0, 5, -1, i64::MAX] {
        assert_eq!(run(&t, x), run(&opt, x), "{what}, input {x}");
    }
}

#[test]
fn cse_on_a_long_chain_is_linear() {
    check(&passes_named(&["cse"]).unwrap(), "cse");
}

#[test]
fn guards_on_a_long_chain_is_linear() {
    check(&passes_named(&["guards"]).unwrap(), "guards");
}

#[test]
fn the_pipeline_on_a_long_chain_is_linear() {
    check(&default_pipeline(), "the default pipeline");
}

/// `DEPTH` nested loops. Each header receives a fresh object from its forward entry
/// (worth exploding), and each back edge passes an object that escaped (refusing it),
/// so every loop would be walked twice per walk of its enclosing loop: 2^DEPTH walks
/// without the escape pass's retry budget.
fn nested_refusing_loops(depth: usize) -> Trace {
    let mut s = String::from(
        "trace nest\nlayout P size 16 class 0x5\nfield P.x: i64 @8\ncall use(ref) effects()\nframe main code 0x1 slots 1\n\nblock0(v0: i64, v1: bool):\n    v2 = new P\n    goto block1(v2)\n",
    );
    let mut v = 3;
    for k in 1..=depth {
        s += &format!("\nblock{k}(v{p}: ref):\n    v{o} = new P\n", p = v, o = v + 1);
        s += &format!(
            "    setfield v{o}, P.x, v0\n    goto block{next}(v{o})\n",
            o = v + 1,
            next = k + 1
        );
        v += 2;
    }
    // Tails, innermost first: tail_k escapes a new object and either loops back to
    // header k (through its jump block) or leaves to the enclosing loop's tail.
    s = s.replacen(
        &format!("goto block{}(v{})", depth + 1, v - 1),
        &format!("goto block{}()", depth + 1),
        1,
    );
    for k in (1..=depth).rev() {
        let tail = depth + 1 + 2 * (depth - k);
        s += &format!(
            "\nblock{tail}():\n    v{n} = new P\n    call use(v{n})\n    br v1, block{j}(), block{next}()\n\nblock{j}():\n    jump block{k}(v{n})\n",
            n = v,
            j = tail + 1,
            next = tail + 2,
        );
        v += 1;
    }
    s += &format!("\nblock{}():\n    finish v0\n", 3 * depth + 1);
    leones_ir::parse(&s).expect("parses")
}

#[test]
fn escape_on_nested_refusing_loops_is_bounded() {
    let t = nested_refusing_loops(40);
    leones_ir::verify(&t).expect("valid");
    let ctx = OptContext {
        pure_calls: None,
        verify_each_pass: true,
        entry_facts: &[],
        ..OptContext::default()
    };
    let start = Instant::now();
    optimize(&t, &passes_named(&["escape"]).unwrap(), &ctx).expect("optimizes");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "escape took {took:?}");
}
