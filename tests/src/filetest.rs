//! Parsing filetest directives and rendering interpreter outcomes in their syntax.

use leones_ir::interp::{CallResult, ExitValue, Fault, FnTable, Heap, Interpreter, Outcome, Val};
use leones_ir::MemType;
use leones_ir::Trace;
use std::collections::HashMap;

/// One `; run:` with its `; expect:`.
#[derive(Debug, Clone)]
pub struct RunCase {
    pub inputs: Vec<String>,
    pub expect: String,
    pub line: usize,
}

/// The directives of a filetest.
#[derive(Debug, Clone, Default)]
pub struct Directives {
    pub runs: Vec<RunCase>,
    /// `; error: ...` (invalid filetests).
    pub error: Option<String>,
}

/// Reads the `; run:`, `; expect:` and `; error:` comment lines of a file.
pub fn directives(text: &str) -> Result<Directives, String> {
    let mut d = Directives::default();
    let mut pending: Option<(Vec<String>, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let Some(rest) = line.trim().strip_prefix(';') else {
            continue;
        };
        let rest = rest.trim();
        if let Some(inputs) = rest.strip_prefix("run:") {
            if pending.is_some() {
                return Err(format!("line {}: `run:` without `expect:`", n + 1));
            }
            let inputs = inputs
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            pending = Some((inputs, n + 1));
        } else if let Some(expect) = rest.strip_prefix("expect:") {
            let (inputs, line) = pending
                .take()
                .ok_or_else(|| format!("line {}: `expect:` without `run:`", n + 1))?;
            d.runs.push(RunCase {
                inputs,
                expect: normalize(expect),
                line,
            });
        } else if let Some(err) = rest.strip_prefix("error:") {
            d.error = Some(normalize(err));
        }
    }
    if pending.is_some() {
        return Err("a `run:` has no `expect:`".into());
    }
    Ok(d)
}

/// Collapses white space so layout does not matter.
pub fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds the inputs of a run case, allocating objects in `heap`.
pub fn build_inputs(trace: &Trace, heap: &mut Heap, inputs: &[String]) -> Result<Vec<Val>, String> {
    inputs
        .iter()
        .map(|s| {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                ["new", layout] => {
                    let l = trace.layout_named(layout).ok_or(format!("no layout {layout}"))?;
                    Ok(Val::Ref(heap.alloc_object(trace.layout(l))))
                }
                ["array", name, len] => {
                    let a = trace.array_named(name).ok_or(format!("no array {name}"))?;
                    let len: usize = len.parse().map_err(|_| format!("bad length {len}"))?;
                    Ok(Val::Ref(heap.alloc_array(trace.array(a), len)))
                }
                ["raw", size] => Ok(Val::Ptr(
                    heap.alloc_raw(size.parse().map_err(|_| format!("bad size {size}"))?),
                )),
                _ => leones::cli::parse_input(s).map_err(|e| e.to_string()),
            }
        })
        .collect()
}

/// Runs a case and renders its outcome in the `expect:` syntax.
pub fn run_case(trace: &Trace, case: &RunCase) -> Result<String, String> {
    let mut heap = Heap::new();
    let inputs = build_inputs(trace, &mut heap, &case.inputs)?;
    let mut interp = Interpreter::new(trace).with_heap(heap).with_host(filetest_host());
    interp.set_step_limit(1_000_000);
    Ok(match interp.run(&inputs) {
        Ok(outcome) => render_outcome(trace, &outcome),
        Err(fault) => format!("fault {}", fault_kind(&fault)),
    })
}

/// The host functions filetests may declare and call, by name:
///
/// | name | signature | does |
/// |---|---|---|
/// | `add` | `(i64, i64) -> i64` | wrapping sum |
/// | `hypot` | `(f64, f64) -> f64` | `sqrt(a*a + b*b)` |
/// | `check` | `(i64) -> i64` | raises if negative, else returns `2 * x` |
/// | `getx` | `(ref) -> f64` | reads the f64 at offset 8 of an object |
/// | `tick` | `()` | nothing |
pub fn filetest_host() -> FnTable {
    let ok = |v: Option<Val>| {
        Ok(CallResult {
            value: v,
            raised: false,
        })
    };
    let mut t = FnTable::new();
    t.insert("add", move |_, a: &[Val]| match a {
        [Val::I64(x), Val::I64(y)] => ok(Some(Val::I64(x.wrapping_add(*y)))),
        _ => Err(Fault::Host("add: bad arguments".into())),
    });
    t.insert("hypot", move |_, a: &[Val]| match a {
        [Val::F64(x), Val::F64(y)] => ok(Some(Val::F64((x * x + y * y).sqrt()))),
        _ => Err(Fault::Host("hypot: bad arguments".into())),
    });
    t.insert("check", move |_, a: &[Val]| match a {
        [Val::I64(x)] if *x < 0 => Ok(CallResult {
            value: Some(Val::I64(0)),
            raised: true,
        }),
        [Val::I64(x)] => ok(Some(Val::I64(x.wrapping_mul(2)))),
        _ => Err(Fault::Host("check: bad arguments".into())),
    });
    t.insert("getx", move |heap: &mut Heap, a: &[Val]| match a {
        [Val::Ref(p)] => ok(Some(heap.load(p.wrapping_add(8), MemType::F64)?)),
        _ => Err(Fault::Host("getx: bad arguments".into())),
    });
    t.insert("tick", move |_, _: &[Val]| ok(None));
    t
}

/// A fault's kind, as filetests name it.
pub fn fault_kind(f: &Fault) -> String {
    let dbg = format!("{f:?}");
    let name: String = dbg.chars().take_while(|c| c.is_alphanumeric()).collect();
    name
}

/// Renders an outcome in the `expect:` syntax.
pub fn render_outcome(trace: &Trace, outcome: &Outcome) -> String {
    let mut r = Renderer::default();
    let s = match outcome {
        Outcome::Finish(vals) => {
            let vs: Vec<_> = vals.iter().map(|v| r.val(*v)).collect();
            if vs.is_empty() {
                "finish".to_string()
            } else {
                format!("finish {}", vs.join(", "))
            }
        }
        Outcome::Jump { target, args } => {
            let vs: Vec<_> = args.iter().map(|v| r.val(*v)).collect();
            format!("jump @{}({})", trace.target(*target).name, vs.join(", "))
        }
        Outcome::Exit(exit) => {
            let frames: Vec<_> = exit
                .frames
                .iter()
                .map(|f| {
                    let slots: Vec<_> = f.slots.iter().map(|s| r.exit_value(s)).collect();
                    format!("{}@{}({})", trace.frame(f.frame).name, f.pc, slots.join(", "))
                })
                .collect();
            let mut s = format!("exit g{} [{}]", exit.guard.0, frames.join(", "));
            if !exit.virtuals.is_empty() {
                let virts: Vec<_> = exit
                    .virtuals
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let fields: Vec<_> = v
                            .fields
                            .iter()
                            .map(|(f, x)| format!("{}: {}", trace.field(*f).name, r.exit_value(x)))
                            .collect();
                        format!("&{i} = {}{{{}}}", trace.layout(v.layout).name, fields.join(", "))
                    })
                    .collect();
                s.push_str(&format!(" {{{}}}", virts.join(", ")));
            }
            if exit.exception_pending {
                s.push_str(" exception");
            }
            s
        }
    };
    normalize(&s)
}

#[derive(Default)]
struct Renderer {
    addrs: HashMap<u64, usize>,
}

impl Renderer {
    fn val(&mut self, v: Val) -> String {
        match v {
            Val::Ref(0) => "null".into(),
            Val::Ref(a) | Val::Ptr(a) => {
                let n = self.addrs.len();
                let k = *self.addrs.entry(a).or_insert(n);
                format!("{}#{k}", if matches!(v, Val::Ref(_)) { "ref" } else { "ptr" })
            }
            other => other.to_string(),
        }
    }
    fn exit_value(&mut self, v: &ExitValue) -> String {
        match v {
            ExitValue::Val(x) => self.val(*x),
            ExitValue::Virtual(id) => id.to_string(),
            ExitValue::Dead => "_".into(),
        }
    }
}
