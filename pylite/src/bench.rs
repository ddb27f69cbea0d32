//! # `pylite bench`: pylite vs CPython on the talk's programs
//!
//! Runs each program in `programs/` at its default size, `runs` times under
//! pylite (this binary, in a fresh process each time) and under `python3`,
//! takes the median of each timing line (`name: X.XXXX secs`) and prints a
//! table with the ratio pylite/CPython. Both interpreters are measured in the
//! same invocation, interleaved, so machine noise affects both alike.

use std::collections::BTreeMap;
use std::process::Command;

/// Parses `name: 1.2345 secs` lines.
pub fn parse_timings(out: &str) -> Vec<(String, f64)> {
    out.lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let secs = rest.trim().strip_suffix("secs")?.trim().parse().ok()?;
            Some((name.trim().to_string(), secs))
        })
        .collect()
}

fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {}", cmd, e))?;
    if !out.status.success() {
        return Err(format!(
            "{} {:?} failed: {}",
            cmd,
            args,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Runs the benchmark; returns the printed table.
pub fn run_bench(programs_dir: &str, runs: usize, only: Option<&str>) -> Result<String, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let me = me.to_str().ok_or("bad exe path")?.to_string();
    let programs = [
        "pi.py",
        "pi_blocker.py",
        "data_driven.py",
        "pythagorean.py",
        "readpoly.py",
    ];
    let mut table = String::from(format!(
        "{:<16} {:>12} {:>12} {:>8}\n",
        "benchmark", "pylite (s)", "python3 (s)", "ratio"
    ));
    for p in programs {
        if only.is_some_and(|o| !p.starts_with(o)) {
            continue;
        }
        let path = format!("{}/{}", programs_dir, p);
        let mut ours: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut theirs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut order = Vec::new();
        for _ in 0..runs {
            for (name, secs) in parse_timings(&run(&me, &["run", &path])?) {
                if !order.contains(&name) {
                    order.push(name.clone());
                }
                ours.entry(name).or_default().push(secs);
            }
            for (name, secs) in parse_timings(&run("python3", &[&path])?) {
                theirs.entry(name).or_default().push(secs);
            }
        }
        for name in order {
            let a = median(ours.get_mut(&name).unwrap());
            let b = theirs.get_mut(&name).map(|v| median(v)).unwrap_or(f64::NAN);
            let line = format!("{:<16} {:>12.4} {:>12.4} {:>7.2}x\n", name, a, b, a / b);
            eprint!("{}", line);
            table.push_str(&line);
        }
    }
    Ok(table)
}
