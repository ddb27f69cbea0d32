//! `cargo run --example regvm [SEEDS]`: runs the example register VM on a hand-written
//! program and on generated ones, interpreted and with the JIT, checks they agree and
//! prints the engine's summary (`LEONES_LOG=summary,exit,...` logs more).

mod vm;

use leones::engine::EngineConfig;
use leones_tracer::Params;
use vm::*;

fn main() {
    // r0 = sum, r1 = i, r2 = n, r3 = 10, r6 = 1: for i in 0..100_000 { sum += i; if i >= 10 { sum *= 1 } }
    let code = vec![
        Ins::Const(1, 0),
        Ins::Const(2, 100_000),
        Ins::Const(3, 10),
        Ins::Const(6, 1),
        Ins::Add(0, 0, 1),
        Ins::BrLt(1, 3, 7),
        Ins::Mul(0, 0, 6),
        Ins::Add(1, 1, 6),
        Ins::BrLt(1, 2, 4),
        Ins::Halt,
    ];
    let params = Params::parse("threshold=5,bridge_threshold=3").unwrap();
    let config = EngineConfig::from_env(params.clone()).expect("LEONES_PARAMS / LEONES_LOG");
    let mut vm = Vm::new(config);
    let want = interpret(&code, vec![0; NREGS]);
    let got = vm.run(&code, vec![0; NREGS]);
    assert_eq!(got, want);
    println!("sum = {}", got.0[0]);
    println!("{}", vm.engine.summary());
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    for seed in 1..=seeds {
        let (code, regs) = gen_program(seed);
        let want = interpret(&code, regs.clone());
        let (r, s, _) = run_jit(&code, regs, params.clone());
        assert_eq!((r, s), want, "seed {seed}");
    }
    println!("{seeds} generated programs agree");
}
