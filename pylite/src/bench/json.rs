//! # The benchmark as JSON (`pylite bench --json PATH`)
//!
//! The same data as the tables, for tools: machine, date, command, runtimes (with
//! `null` for the ones not installed), and per program its arguments, every timing
//! row (raw samples, medians, speed-ups), the JIT summary with its warm-up figures,
//! the process wall times, and the warm-up curves (per timing and runtime: the
//! median curve's chunk ends and seconds per iteration, and its summary). pylite has no JSON
//! dependency, so a small value type renders itself, pretty-printed; non-finite
//! numbers become `null` (JSON has no NaN).

use super::stats::JitSummary;
use super::warmup::{summarize, TimingCurves};
use super::{Bench, Column, ProgramResult, Row, COLUMNS};

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(u64),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs, in order.
    pub(crate) fn obj(fields: Vec<(&str, Json)>) -> Json {
        Json::Obj(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    fn opt(v: Option<f64>) -> Json {
        v.map_or(Json::Null, Json::Num)
    }

    /// Pretty-printed text (two-space indentation), ending without a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => out.push_str(&i.to_string()),
            Json::Num(x) if x.is_finite() => out.push_str(&format!("{}", x)),
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => write_string(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Arr(items) if items.iter().all(|i| !matches!(i, Json::Arr(_) | Json::Obj(_))) => {
                let parts: Vec<String> = items.iter().map(Json::render).collect();
                out.push_str(&format!("[{}]", parts.join(", ")));
            }
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push_str("{\n");
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    write_string(out, k);
                    out.push_str(": ");
                    v.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

/// A JSON string literal.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn row_json(r: &Row) -> Json {
    let medians = COLUMNS.iter().map(|&c| (c.key(), Json::opt(r.median(c)))).collect();
    let samples = COLUMNS
        .iter()
        .map(|&c| {
            (
                c.key(),
                Json::Arr(r.samples[c as usize].iter().map(|&x| Json::Num(x)).collect()),
            )
        })
        .collect();
    Json::obj(vec![
        ("name", Json::str(&r.name)),
        ("median_secs", Json::obj(medians)),
        (
            "jit_speedup_vs_python3",
            Json::opt(r.speedup(Column::Jit, Column::Python3)),
        ),
        (
            "interp_speedup_vs_python3",
            Json::opt(r.speedup(Column::Interp, Column::Python3)),
        ),
        (
            "jit_speedup_vs_interp",
            Json::opt(r.speedup(Column::Jit, Column::Interp)),
        ),
        ("samples_secs", Json::obj(samples)),
    ])
}

fn jit_json(s: &JitSummary) -> Json {
    Json::obj(vec![
        ("loops", Json::Int(s.loops)),
        ("bridges", Json::Int(s.bridges)),
        ("aborts", Json::Int(s.aborts)),
        ("compile_ms", Json::Num(s.compile_ms)),
        ("code_bytes", Json::Int(s.code_bytes)),
        ("loop_entries", Json::Int(s.loop_entries)),
        ("exits", Json::Int(s.exits)),
        ("allocations", Json::Int(s.allocations)),
        ("interp_loop_iterations_jit_run", Json::Int(s.interp_iterations_jit_run)),
        ("loop_iterations_interp_only_run", Json::Int(s.loop_iterations)),
        ("compiled_iteration_share", Json::opt(s.compiled_share())),
        (
            "objects_allocated_per_loop_iteration_whole_run",
            Json::opt(s.allocations_per_iteration()),
        ),
        ("first_compiled_ms", Json::opt(s.first_compiled_ms)),
        ("llvm_warm_up_ms", Json::Num(s.llvm_warm_up_ms)),
        ("jit_wall_secs", Json::opt(s.wall_secs)),
        ("compile_share_of_jit_wall", Json::opt(s.compile_share)),
    ])
}

/// Per runtime with samples: the median and the samples.
fn walls_json(p: &ProgramResult) -> Json {
    let per_runtime = COLUMNS
        .iter()
        .filter(|&&c| !p.wall[c as usize].is_empty())
        .map(|&c| {
            let samples = p.wall[c as usize].iter().map(|&x| Json::Num(x)).collect();
            (
                c.key(),
                Json::obj(vec![
                    ("median", Json::opt(p.median_wall(c))),
                    ("samples", Json::Arr(samples)),
                ]),
            )
        })
        .collect();
    Json::obj(per_runtime)
}

/// One timing's median curves and their summaries, per runtime with a curve.
fn curves_json(t: &TimingCurves) -> Json {
    let per_runtime = COLUMNS
        .iter()
        .filter_map(|&c| {
            let curve = t.median_curve(c);
            let s = summarize(&curve)?;
            Some((
                c.key(),
                Json::obj(vec![
                    ("runs", Json::Int(t.runs[c as usize].len() as u64)),
                    (
                        "chunk_end_iterations",
                        Json::Arr(curve.iter().map(|k| Json::Int(k.end)).collect()),
                    ),
                    (
                        "secs_per_iteration",
                        Json::Arr(curve.iter().map(|k| Json::Num(k.secs_per_iteration())).collect()),
                    ),
                    ("first_chunk_secs_per_iteration", Json::Num(s.first)),
                    ("steady_secs_per_iteration", Json::Num(s.steady)),
                    ("within_2x_steady_after_iterations", Json::Int(s.steady_after)),
                    ("warmup_cost_secs", Json::Num(s.excess_secs)),
                ]),
            ))
        })
        .collect();
    Json::obj(vec![
        ("timing", Json::str(&t.name)),
        ("runtimes", Json::obj(per_runtime)),
    ])
}

fn program_json(p: &ProgramResult) -> Json {
    Json::obj(vec![
        ("program", Json::str(&p.file)),
        ("args", Json::Arr(p.args.iter().map(|a| Json::str(a)).collect())),
        ("rows", Json::Arr(p.rows.iter().map(row_json).collect())),
        ("jit", p.jit.as_ref().map_or(Json::Null, jit_json)),
        ("wall_secs", walls_json(p)),
        ("warmup_curves", Json::Arr(p.curves.iter().map(curves_json).collect())),
        ("notes", Json::Arr(p.notes.iter().map(|n| Json::str(n)).collect())),
    ])
}

/// The whole benchmark.
pub fn bench_json(b: &Bench) -> Json {
    let runtimes = COLUMNS
        .iter()
        .map(|&c| {
            let cmd = if b.available.contains(&c) {
                Json::str(&c.command())
            } else {
                Json::Null
            };
            (c.key(), cmd)
        })
        .collect();
    Json::obj(vec![
        (
            "machine",
            Json::obj(vec![
                ("cpu", Json::str(&b.machine.cpu)),
                ("cores", Json::Int(b.machine.cores as u64)),
            ]),
        ),
        ("date", Json::str(&b.date)),
        ("command", Json::str(&b.command)),
        ("size", Json::str(b.size.name())),
        ("runs", Json::Int(b.runs as u64)),
        ("runtimes", Json::obj(runtimes)),
        ("warmup_only", Json::Bool(b.warmup_only)),
        (
            "plots",
            Json::obj(
                b.plots
                    .iter()
                    .map(|(name, path)| (name.as_str(), Json::str(path)))
                    .collect(),
            ),
        ),
        ("programs", Json::Arr(b.programs.iter().map(program_json).collect())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_values() {
        let v = Json::obj(vec![
            ("a", Json::Int(1)),
            ("b", Json::Arr(vec![Json::Num(0.5), Json::Num(f64::NAN)])),
            ("c", Json::obj(vec![("d", Json::Null), ("e", Json::Bool(true))])),
            ("f", Json::Arr(vec![])),
            ("g", Json::Arr(vec![Json::str("x")])),
            ("h", Json::Arr(vec![Json::obj(vec![])])),
        ]);
        assert_eq!(
            v.render(),
            "{\n  \"a\": 1,\n  \"b\": [0.5, null],\n  \"c\": {\n    \"d\": null,\n    \"e\": true\n  },\n  \"f\": [],\n  \"g\": [\"x\"],\n  \"h\": [\n    {}\n  ]\n}"
        );
    }

    #[test]
    fn escapes_strings() {
        assert_eq!(Json::str("a\"b\\c\nd\u{1}é").render(), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn rows_carry_medians_speedups_and_samples() {
        let r = Row {
            name: "pi".into(),
            samples: [vec![2.0], vec![0.5], vec![4.0], vec![]],
        };
        let text = row_json(&r).render();
        assert!(text.contains("\"jit_speedup_vs_python3\": 8"), "{}", text);
        assert!(text.contains("\"interp_speedup_vs_python3\": 2"), "{}", text);
        assert!(text.contains("\"jit_speedup_vs_interp\": 4"), "{}", text);
        assert!(text.contains("\"pypy3\": null"), "{}", text);
        assert!(text.contains("\"pypy3\": []"), "{}", text);
    }
}
