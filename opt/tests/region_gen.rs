//! Region formation on generated root traces and arms: for every generated case the
//! region as formed, the region after the whole optimizer pipeline, and the pieces run
//! one after another without merging (`common::run_pieces`, what an engine with plain
//! bridges would do) must leave the loop through the same recorded guard with the same
//! host state.
//!
//! A case is a loop over three `i64` slots (a counter, a pseudo-random state and an
//! accumulator). Each *stage* tests a bit of the state (a guard), updates the
//! accumulator and notes a merge point; the loop's end advances the state and the
//! counter. Arms leave at a stage's guard, update the accumulator their own way
//! (sometimes through a guard and a nested arm of their own) and rejoin at that stage's
//! merge point, a later one, or the loop header. Every value after a merge point comes
//! from the slots, as the recorder's host obligation requires.

mod common;

use common::{run_pieces, run_region};
use leones_ir::interp::Val;
use leones_opt::region::{form_region, Arm};
use leones_opt::{default_pipeline, optimize, OptContext};

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes IR text with fresh value names.
struct Text {
    out: String,
    next: usize,
}

impl Text {
    fn new(params: usize) -> Text {
        Text {
            out: String::new(),
            next: params,
        }
    }
    fn op(&mut self, rhs: &str) -> String {
        let v = format!("v{}", self.next);
        self.next += 1;
        self.out += &format!("    {v} = {rhs}\n");
        v
    }
    fn line(&mut self, s: &str) {
        self.out += &format!("    {s}\n");
    }
}

const HEADER: &str = "trace loop\nframe main code 0x1 slots 3\n";

/// One stage's body: `acc = acc <op> (state & mask) + k`; returns the new accumulator.
fn update(t: &mut Text, rng: &mut Rng, state: &str, acc: &str) -> String {
    let mask = t.op(&format!("const {}", 1 + rng.below(255)));
    let bits = t.op(&format!("iand {state}, {mask}"));
    let k = t.op(&format!("const {}", rng.below(1000) as i64 - 500));
    let sum = t.op(&format!("iadd {bits}, {k}"));
    let op = ["iadd", "isub", "ixor", "imul"][rng.below(4) as usize];
    t.op(&format!("{op} {acc}, {sum}"))
}

/// `guard_true/false ((state >> bit) & 1 == 0)` at `pc`.
fn bit_guard(t: &mut Text, rng: &mut Rng, slots: &[String; 3], pc: u32) {
    let bit = t.op(&format!("const {}", 1 << rng.below(20)));
    let and = t.op(&format!("iand {}, {bit}", slots[1]));
    let zero = t.op("const 0");
    let c = t.op(&format!("ieq {and}, {zero}"));
    let kind = if rng.below(2) == 0 { "guard_true" } else { "guard_false" };
    t.line(&format!(
        "{kind} {c} [main@{pc}({}, {}, {})]",
        slots[0], slots[1], slots[2]
    ));
}

/// A generated case: the root, its arms (trace text, parent, guard ordinal) and inputs.
struct Case {
    root: String,
    arms: Vec<(String, usize, u32)>,
    inputs: Vec<Vec<Val>>,
}

fn gen_case(seed: u64) -> Case {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let stages = 1 + rng.below(4) as usize;
    let mut t = Text::new(3);
    let mut slots = ["v0".to_string(), "v1".to_string(), "v2".to_string()];
    t.line("guard_no_interrupt [main@0(v0, v1, v2)]");
    // Guard ordinal of each stage's guard (0 is the interrupt poll).
    for k in 0..stages {
        bit_guard(&mut t, &mut rng, &slots, 10 * k as u32 + 1);
        slots[2] = update(&mut t, &mut rng, &slots[1], &slots[2]);
        t.line(&format!(
            "merge_point [main@{}({}, {}, {})]",
            10 * k + 2,
            slots[0],
            slots[1],
            slots[2]
        ));
    }
    // The loop's end: the state advances, the counter counts up to a limit.
    let a = t.op("const 1103515245");
    let m = t.op(&format!("imul {}, {a}", slots[1]));
    let c = t.op("const 12345");
    slots[1] = t.op(&format!("iadd {m}, {c}"));
    let one = t.op("const 1");
    slots[0] = t.op(&format!("iadd {}, {one}", slots[0]));
    let limit = t.op(&format!("const {}", 5 + rng.below(60)));
    let more = t.op(&format!("ilt {}, {limit}", slots[0]));
    t.line(&format!(
        "guard_true {more} [main@99({}, {}, {})]",
        slots[0], slots[1], slots[2]
    ));
    t.line(&format!("jump block0({}, {}, {})", slots[0], slots[1], slots[2]));
    let root = format!("{HEADER}\nblock0(v0: i64, v1: i64, v2: i64):\n{}", t.out);

    let mut arms = Vec::new();
    for k in 0..stages {
        if rng.below(4) == 0 {
            continue; // this stage's guard stays a guard
        }
        let guard = 1 + k as u32;
        // Rejoin at this stage's merge point, a later one, or the loop header.
        let to = k + rng.below((stages - k) as u64 + 1) as usize;
        let (arm, sub) = gen_arm(&mut rng, &format!("arm{}", arms.len() + 1), to, stages);
        let parent = arms.len() + 1;
        arms.push((arm, 0, guard));
        if let Some(sub) = sub {
            // The nested arm leaves the arm's guard 0 and rejoins the arm's merge point.
            arms.push((sub, parent, 0));
        }
    }
    let inputs = (0..3)
        .map(|_| {
            vec![
                Val::I64(0),
                Val::I64(rng.next() as i64),
                Val::I64(rng.below(100) as i64),
            ]
        })
        .collect();
    Case { root, arms, inputs }
}

/// An arm named `name` rejoining the root's merge point `to` (`stages`: the loop
/// header), sometimes with a guard and merge point of its own and a nested arm.
fn gen_arm(rng: &mut Rng, name: &str, to: usize, stages: usize) -> (String, Option<String>) {
    let mut t = Text::new(3);
    let mut slots = ["v0".to_string(), "v1".to_string(), "v2".to_string()];
    let nested = rng.below(3) == 0;
    if nested {
        bit_guard(&mut t, rng, &slots, 50);
    }
    slots[2] = update(&mut t, rng, &slots[1], &slots[2]);
    if nested {
        t.line(&format!(
            "merge_point [main@51({}, {}, {})]",
            slots[0], slots[1], slots[2]
        ));
    }
    let target = if to == stages {
        // Back to the loop header: the arm does the loop's end itself.
        let a = t.op("const 1103515245");
        let m = t.op(&format!("imul {}, {a}", slots[1]));
        slots[1] = m;
        let one = t.op("const 1");
        slots[0] = t.op(&format!("iadd {}, {one}", slots[0]));
        let limit = t.op("const 40");
        let more = t.op(&format!("ilt {}, {limit}", slots[0]));
        t.line(&format!(
            "guard_true {more} [main@98({}, {}, {})]",
            slots[0], slots[1], slots[2]
        ));
        "loop".to_string()
    } else {
        format!("loop__m{to}")
    };
    t.line(&format!("jump @{target}({}, {}, {})", slots[0], slots[1], slots[2]));
    let arm = format!(
        "trace {name}\nframe main code 0x1 slots 3\ntarget {target}(i64, i64, i64)\n\nblock0(v0: i64, v1: i64, v2: i64):\n{}",
        t.out
    );
    let sub = nested.then(|| {
        let mut s = Text::new(3);
        let acc = update(&mut s, rng, "v1", "v2");
        s.line(&format!("jump @{name}__m0(v0, v1, {acc})"));
        format!(
            "trace {name}_sub\nframe main code 0x1 slots 3\ntarget {name}__m0(i64, i64, i64)\n\nblock0(v0: i64, v1: i64, v2: i64):\n{}",
            s.out
        )
    });
    (arm, sub)
}

#[test]
fn generated_regions_agree_with_their_pieces() {
    let (mut formed, mut branches) = (0, 0);
    for seed in 1..=400u64 {
        let case = gen_case(seed);
        let root = leones_ir::parse(&case.root).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", case.root));
        let traces: Vec<_> = case
            .arms
            .iter()
            .map(|(text, ..)| leones_ir::parse(text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}")))
            .collect();
        let arms: Vec<Arm> = case
            .arms
            .iter()
            .zip(&traces)
            .map(|((_, parent, guard), trace)| Arm {
                trace,
                parent: *parent,
                guard: *guard,
                weights: Some((1, 1)),
            })
            .collect();
        let region = form_region(&root, &arms).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", case.root));
        formed += 1;
        branches += region.trace.blocks.len() - 1;
        let ctx = OptContext {
            verify_each_pass: true,
            ..OptContext::default()
        };
        let optimized = optimize(&region.trace, &default_pipeline(), &ctx)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"))
            .0;
        for inputs in &case.inputs {
            let want = run_pieces(&root, &arms, inputs).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            for (what, t) in [("formed", &region.trace), ("optimized", &optimized)] {
                let got = run_region(t, &region.origins, inputs).unwrap_or_else(|e| panic!("seed {seed} {what}: {e}"));
                assert_eq!(
                    got,
                    want,
                    "seed {seed}: the {what} region differs from its pieces\n{}",
                    leones_ir::print(&region.trace)
                );
            }
        }
    }
    // The cases have control flow worth the name.
    assert_eq!(formed, 400);
    assert!(branches > 1500, "{branches} blocks beyond the entry in 400 regions");
}
