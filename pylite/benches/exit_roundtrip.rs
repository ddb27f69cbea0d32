//! Exit round-trip benchmark: what one entry into compiled code and the exit back to
//! pylite's interpreter cost, measured where it matters — a 9-iteration inner loop
//! entered once per row by an outer loop that stays interpreted (`data_driven.py`'s
//! row counting has this shape).
//!
//! `cargo bench -p pylite --bench exit_roundtrip` runs the program under the
//! interpreter and under the JIT (with `short_loop=0`, so the inner loop is never
//! given up and every row is a round trip), interleaved, and prints the medians, the
//! JIT's loop entries and the extra time per entry over interpreting the same rows.

use pylite::jit::{JitConfig, Params};
use std::time::Instant;

const ROWS: u32 = 200_000;

fn program() -> String {
    format!(
        "def main():\n    total = 0\n    for i in range({ROWS}):\n        row = []\n        \
         for j in range(9):\n            total += j * i\n    print(total)\n\nmain()\n"
    )
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let src = program();
    let jit = JitConfig::with_params(Params::parse("short_loop=0").expect("params"));
    let off = JitConfig::off();
    let (mut t_jit, mut t_off, mut entries) = (Vec::new(), Vec::new(), 0);
    for _ in 0..7 {
        for (config, times) in [(&off, &mut t_off), (&jit, &mut t_jit)] {
            let t0 = Instant::now();
            let (out, res, report) = pylite::run_capture_with(&src, "roundtrip.py", &[], config);
            times.push(t0.elapsed().as_secs_f64());
            res.expect("runs");
            assert!(!out.is_empty());
            if config.enabled {
                entries = report.loop_entries;
            }
        }
    }
    let (j, o) = (median(t_jit), median(t_off));
    println!("| runtime | median s | loop entries | extra per entry |");
    println!("|---|---:|---:|---:|");
    println!("| interpreter | {o:.4} | - | - |");
    println!(
        "| JIT (short_loop=0) | {j:.4} | {entries} | {:.0} ns |",
        (j - o) * 1e9 / entries.max(1) as f64
    );
}
