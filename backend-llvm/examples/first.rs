use leones_backend_llvm::{Backend, Level, UnitOptions};
use leones_ir::Trace;
use std::fmt::Write;
fn trace_of(ops: usize) -> Trace {
    let mut s = String::from(
        "trace bench\nlayout P size 24 class 0x51\nfield P.x: f64 @8\nfield P.n: i64 @16\n\
         frame main code 0x1 slots 4\nframe inner code 0x2 slots 2\n\n\
         block0(v0: i64, v1: i64, v2: i64, v3: f64, v4: ref):\n",
    );
    let mut n = 5; // next value number
    let mut count = 0;
    let (mut acc, mut facc) = (2usize, 3usize);
    let mut pc = 0;
    let mut v = |s: &mut String, text: String| -> usize {
        let _ = writeln!(s, "    v{n} = {text}");
        n += 1;
        n - 1
    };
    while count + 13 + 3 <= ops {
        let c = v(&mut s, format!("const {}", 3 + pc));
        let a = v(&mut s, format!("iadd v{acc}, v0"));
        let b = v(&mut s, format!("imul v{a}, v{c}"));
        let x = v(&mut s, format!("ixor v{b}, v1"));
        let cmp = v(&mut s, "ilt v0, v1".into());
        let _ = writeln!(
            s,
            "    guard_true v{cmp} [main@{pc}(v0, v1, v{x}, v{facc}), inner@{pc}(v4, 7)]"
        );
        let fx = v(&mut s, format!("i2f v{x}"));
        let half = v(&mut s, "const 0.5".into());
        let f1 = v(&mut s, format!("fmul v{fx}, v{half}"));
        let old = v(&mut s, "getfield v4, P.x".into());
        let f2 = v(&mut s, format!("fadd v{old}, v{f1}"));
        let _ = writeln!(s, "    setfield v4, P.x, v{f2}");
        let sh = v(&mut s, format!("ishr v{x}, v{c}"));
        acc = sh;
        facc = f2;
        count += 13;
        pc += 1;
    }
    // Pad with cheap integer ops so the trace has exactly `ops` instructions
    // (the last three are `const 1`, the increment and the `jump`).
    while count + 3 < ops {
        acc = v(&mut s, format!("iadd v{acc}, v1"));
        count += 1;
    }
    let one = v(&mut s, "const 1".into());
    let next = v(&mut s, format!("iadd v0, v{one}"));
    let _ = writeln!(s, "    jump block0(v{next}, v1, v{acc}, v{facc}, v4)");
    leones_ir::parse(&s).expect("benchmark trace parses")
}

fn main() {
    let t0 = std::time::Instant::now();
    let mut b = Backend::new(Level::Quick).unwrap();
    println!("new {:?}", t0.elapsed());
    let tr = trace_of(100);
    for level in [
        Level::Quick,
        Level::Quick,
        Level::Optimized,
        Level::Optimized,
        Level::Quick,
        Level::Optimized,
    ] {
        let o = UnitOptions {
            level: Some(level),
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let u = b.compile(&tr, &o).unwrap();
        println!("{:?} wall {:?} {:?}", level, t.elapsed(), u.timings);
    }
}
