//! # Whole programs: globals, helpers, classes, `main`, and planned errors
//!
//! A program is, in order: module constants (read by helpers and `main`), helper
//! functions (parameters with and without defaults, `None` defaults, keyword calls,
//! early returns, small loops, calls of earlier helpers, one recursive helper, one
//! that updates a `global`), up to two classes (`__init__`, a method `step` that
//! writes fields, `scale` with a default, a `@property`, a subclass overriding some of
//! them), then `main` — as a function or at module level — with set-up (ints,
//! floats, `None`, lists, tuples, objects), two to four outer loops that keep a
//! running checksum and print it now and then, and a final print of everything.
//!
//! About one program in four ends with a *planned error* ([`Tail`]): a loop that runs
//! many iterations and then divides by zero (int `//`, `%`, float `/`, inside a helper)
//! or overflows pylite's 64-bit ints (`+`, `-`, `*`, `<<`, `int(f)`, inside a helper).
//! Such a program must raise exactly that exception, after the same output, in every
//! mode.

use super::ctx::*;
use super::rng::Rng;

/// A planned error at the end of `main`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    FloorDiv,
    ModDiv,
    FloatDiv,
    HelperDiv,
    AddOverflow,
    SubOverflow,
    MulOverflow,
    ShiftOverflow,
    FloatToInt,
    HelperAdd,
}

const TAILS: [Tail; 10] = [
    Tail::FloorDiv,
    Tail::ModDiv,
    Tail::FloatDiv,
    Tail::HelperDiv,
    Tail::AddOverflow,
    Tail::SubOverflow,
    Tail::MulOverflow,
    Tail::ShiftOverflow,
    Tail::FloatToInt,
    Tail::HelperAdd,
];

impl Tail {
    /// The exception the program must raise.
    fn exception(self) -> &'static str {
        match self {
            Tail::FloorDiv | Tail::ModDiv | Tail::FloatDiv | Tail::HelperDiv => "ZeroDivisionError",
            _ => "OverflowError",
        }
    }

    /// The helper function the tail calls, if any: its name and definition.
    fn helper(self, c: &mut Ctx) -> Option<(String, Vec<String>)> {
        let body = match self {
            Tail::HelperDiv => "return (a * 7 + 3) // b",
            Tail::HelperAdd => "return a + b",
            _ => return None,
        };
        let name = c.fresh("tail");
        Some((
            name.clone(),
            vec![format!("def {}(a, b):", name), format!("    {}", body)],
        ))
    }

    /// Writes the failing loop at the current position.
    fn emit(self, c: &mut Ctx, helper: Option<&str>) {
        let (z, t) = (c.fresh("z"), c.fresh("t"));
        let trips = match self {
            Tail::ShiftOverflow => c.rng.range(320, 400),
            Tail::FloatToInt => c.rng.range(260, 400),
            _ => c.rng.range(150, 400),
        };
        let k = c.rng.range(trips / 3, trips - 5);
        let step = i64::MAX / k + 1;
        let helper = helper.unwrap_or("abs");
        let body: Vec<String> = match self {
            Tail::FloorDiv => vec![format!("{z} = ({z} + 100000 // ({k} - {t})) % 10007")],
            Tail::ModDiv => vec![format!("{z} = ({z} * 3 + 1000 % ({k} - {t})) % 10007")],
            Tail::FloatDiv => vec![format!("{z} = {z} * 0.5 + 1.0 / ({k} - {t})")],
            Tail::HelperDiv => vec![format!("{z} = ({z} + {helper}({t}, {k} - {t})) % 10007")],
            Tail::AddOverflow => vec![format!("{z} = {z} + {step}")],
            Tail::SubOverflow => vec![format!("{z} = {z} - {step}")],
            Tail::MulOverflow => vec![format!("{z} = {step} * ({t} + 1)")],
            Tail::ShiftOverflow => vec![format!("{z} = 3 << ({t} // 5)")],
            Tail::FloatToInt => vec![format!("w{z} = w{z} * 1.25 + 1.0"), format!("{z} = int(w{z}) % 1000")],
            Tail::HelperAdd => vec![format!("{z} = {helper}({z}, {step})")],
        };
        c.line(format!("{} = {}", z, if self == Tail::FloatDiv { "0.0" } else { "0" }));
        if self == Tail::FloatToInt {
            c.line(format!("w{} = 1.0", z));
        }
        c.open(format!("for {} in range({}):", t, trips));
        for l in body {
            c.line(l);
        }
        c.open(format!("if {} % 25 == 0:", t));
        c.line(format!("print('tail', {}, {})", t, z));
        c.close();
        c.close();
    }
}

/// What a generated program must do under the interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Finish normally.
    Ok,
    /// Raise this exception (class name) out of the program.
    Raises(&'static str),
}

/// A generated program.
#[derive(Clone, Debug)]
pub struct Program {
    /// Where it came from: `seed N`, or a fuzz input.
    pub origin: String,
    pub source: String,
    pub expect: Expect,
}

/// A float constant's text.
fn float_const(c: &mut Ctx) -> String {
    c.rng
        .pick(&["0.5", "1.5", "-2.25", "0.125", "3.0", "10.0", "-0.5"])
        .to_string()
}

/// Module constants `G* = ...` (and the counter `GC` a helper updates).
fn globals(c: &mut Ctx, with_counter: bool) {
    for _ in 0..c.rng.range(0, 2) {
        let g = c.fresh("G");
        if c.rng.chance(60) {
            let v = c.rng.range(1, 50);
            c.line(format!("{} = {}", g, v));
            c.declare(&g, Ty::Int, v as f64, false);
        } else {
            let v = float_const(c);
            c.line(format!("{} = {}", g, v));
            c.declare(&g, Ty::Float, 10.0, false);
        }
    }
    if with_counter {
        c.line("GC = 0");
        c.declare("GC", Ty::Int, 10007.0, false);
    }
}

/// The text of a return value of type `ret`.
fn return_value(c: &mut Ctx, ret: Ty) -> String {
    match ret {
        Ty::Int => c.int_value(2).code,
        Ty::Float => c.float_value(2).code,
        _ => {
            let (i, f) = (c.int_value(1), c.float_value(1));
            format!("({}, {})", i.code, f.code)
        }
    }
}

/// One random helper function.
fn helper(c: &mut Ctx) {
    let name = c.fresh("h");
    let n = c.rng.range(1, 3);
    let n_defaults = c.rng.range(0, n);
    let mut params = Vec::new();
    for k in 0..n {
        let defaulted = k >= n - n_defaults;
        let pname = c.fresh("p");
        let ty = if defaulted && c.rng.chance(35) {
            Ty::Opt
        } else if c.rng.chance(55) {
            Ty::Int
        } else {
            Ty::Float
        };
        let default = defaulted.then(|| match ty {
            Ty::Opt => "None".to_string(),
            Ty::Int => c.rng.range(-5, 30).to_string(),
            _ => float_const(c),
        });
        params.push(Param {
            name: pname,
            ty,
            default,
            arg_bound: INT_VAR,
        });
    }
    let ret = [Ty::Int, Ty::Float, Ty::Pair][c.rng.weighted(&[5, 4, 2])];
    let has_loop = c.rng.chance(50);
    c.place = Place::Helper;
    c.max_loops = has_loop as usize;
    let sig: Vec<String> = params
        .iter()
        .map(|p| match &p.default {
            Some(d) => format!("{}={}", p.name, d),
            None => p.name.clone(),
        })
        .collect();
    c.open(format!("def {}({}):", name, sig.join(", ")));
    c.scoped(|c| {
        for p in &params {
            match p.ty {
                Ty::Opt if c.rng.chance(60) => {
                    c.open(format!("if {} is None:", p.name));
                    let v = float_const(c);
                    c.line(format!("{} = {}", p.name, v));
                    c.close();
                    c.declare(&p.name, Ty::Float, FLOAT_VAR, true);
                }
                Ty::Opt => c.declare(&p.name, Ty::Opt, FLOAT_VAR, true),
                Ty::Int => c.declare(&p.name, Ty::Int, INT_VAR, true),
                _ => c.declare(&p.name, Ty::Float, FLOAT_VAR, true),
            }
        }
        let n = c.rng.range(1, 3);
        c.stmts(n, 1);
        if has_loop {
            c.loop_stmt(1);
        }
        if c.rng.chance(40) {
            let cond = c.cond(1);
            c.open(format!("if {}:", cond));
            let v = return_value(c, ret);
            c.line(format!("return {}", v));
            c.close();
        }
        let v = return_value(c, ret);
        c.line(format!("return {}", v));
    });
    c.close();
    c.helpers.push(Helper {
        name,
        params,
        ret,
        has_loop,
    });
}

/// `def bump(k): global GC; ...` — a helper with a global side effect.
fn bump_helper(c: &mut Ctx) {
    let name = c.fresh("bump");
    let p = c.prime_below(20000.0);
    c.line(format!("def {}(k):", name));
    c.line("    global GC");
    c.line(format!("    GC = (GC + k) % {}", p));
    c.line("    return GC");
    c.helpers.push(Helper {
        name,
        params: vec![Param {
            name: "k".into(),
            ty: Ty::Int,
            default: None,
            arg_bound: INT_VAR,
        }],
        ret: Ty::Int,
        has_loop: false,
    });
}

/// A small recursive helper (called with arguments below 17).
fn recursive_helper(c: &mut Ctx) {
    let name = c.fresh("rsum");
    let w = c.rng.range(1, 5);
    c.line(format!("def {}(n, w={}):", name, w));
    c.line("    if n <= 0:");
    c.line("        return w");
    c.line(format!("    return n * w + {}(n - 1, w)", name));
    c.helpers.push(Helper {
        name,
        params: vec![
            Param {
                name: "n".into(),
                ty: Ty::Int,
                default: None,
                arg_bound: 17.0,
            },
            Param {
                name: "w".into(),
                ty: Ty::Int,
                default: Some(w.to_string()),
                arg_bound: 17.0,
            },
        ],
        ret: Ty::Int,
        has_loop: false,
    });
}

/// A method: `def name(self, params):` with a body generated over the fields.
fn method(c: &mut Ctx, header: &str, params: &[(&str, Ty)], body_stmts: i64, ret: Ty) {
    c.open(header);
    c.scoped(|c| {
        c.declare_fields("self");
        for (p, ty) in params {
            c.declare(p, *ty, if *ty == Ty::Int { INT_VAR } else { FLOAT_VAR }, true);
        }
        c.stmts(body_stmts, 2);
        if body_stmts > 0 && c.rng.chance(30) {
            let cond = c.cond(1);
            c.open(format!("if {}:", cond));
            let v = return_value(c, ret);
            c.line(format!("return {}", v));
            c.close();
        }
        let v = return_value(c, ret);
        c.line(format!("return {}", v));
    });
    c.close();
}

/// `def __init__(self, a, b=...)`: sets `a`, `b`, `last` from the arguments.
fn init_method(c: &mut Ctx) {
    let b = float_const(c);
    c.open(format!("def __init__(self, a, b={}):", b));
    c.scoped(|c| {
        c.declare("a", Ty::Int, INT_VAR, false);
        c.declare("b", Ty::Float, FLOAT_VAR, false);
        let a = if c.rng.chance(60) {
            "a".to_string()
        } else {
            c.int_value(1).code
        };
        c.line(format!("self.a = {}", a));
        let b = if c.rng.chance(60) {
            "b".to_string()
        } else {
            c.float_value(1).code
        };
        c.line(format!("self.b = {}", b));
        let last = if c.rng.chance(70) { "None" } else { "b" };
        c.line(format!("self.last = {}", last));
        c.declare_fields("self");
        if c.rng.chance(40) {
            c.stmt(2);
        }
    });
    c.close();
}

/// The classes: a base with every method, maybe a subclass overriding some.
fn classes(c: &mut Ctx) {
    c.place = Place::Method;
    c.max_loops = 0;
    let base = c.fresh("K");
    c.open(format!("class {}:", base));
    init_method(c);
    let n = c.rng.range(1, 3);
    method(c, "def step(self, k):", &[("k", Ty::Int)], n, Ty::Int);
    let x = float_const(c);
    method(
        c,
        &format!("def scale(self, x={}):", x),
        &[("x", Ty::Float)],
        0,
        Ty::Float,
    );
    c.line("@property");
    method(c, "def total(self):", &[], 0, Ty::Float);
    c.close();
    let mut names = vec![base.clone()];
    if c.rng.chance(60) {
        let sub = c.fresh("K");
        c.open(format!("class {}({}):", sub, base));
        if c.rng.chance(40) {
            init_method(c);
        }
        let n = c.rng.range(1, 3);
        method(c, "def step(self, k):", &[("k", Ty::Int)], n, Ty::Int);
        if c.rng.chance(50) {
            c.line("@property");
            method(c, "def total(self):", &[], 0, Ty::Float);
        }
        c.close();
        names.push(sub);
    }
    c.classes = names;
}

/// Declares a fixed list (never appended to).
fn fixed_list(c: &mut Ctx, name: &str, ty: Ty, len: i64) {
    c.vars.push(Var {
        name: name.to_string(),
        ty,
        bound: len as f64,
        assignable: false,
        growable: false,
    });
}

/// `main`'s set-up: scalars, `None`, lists, tuples and objects.
fn setup(c: &mut Ctx) {
    for _ in 0..c.rng.range(1, 3) {
        c.new_int();
    }
    for _ in 0..c.rng.range(1, 2) {
        c.new_float();
    }
    if c.rng.chance(50) {
        let x = c.fresh("x");
        c.line(format!("{} = None", x));
        c.declare(&x, Ty::Opt, FLOAT_VAR, true);
    }
    if c.rng.chance(50) {
        let l = c.fresh("l");
        let n = c.rng.range(1, 4);
        let items: Vec<String> = (0..n).map(|_| c.rng.range(-9, 99).to_string()).collect();
        c.line(format!("{} = [{}]", l, items.join(", ")));
        c.vars.push(Var {
            name: l,
            ty: Ty::IntList,
            bound: n as f64,
            assignable: false,
            growable: true,
        });
    }
    if c.rng.chance(40) {
        let l = c.fresh("l");
        let n = c.rng.range(3, 8);
        let items: Vec<String> = (0..n).map(|_| c.rng.range(-50, 500).to_string()).collect();
        c.line(format!("{} = [{}]", l, items.join(", ")));
        fixed_list(c, &l, Ty::IntList, n);
    }
    if c.rng.chance(45) {
        opt_list(c);
    }
    if c.rng.chance(30) {
        let l = c.fresh("pl");
        let n = c.rng.range(2, 5);
        let items: Vec<String> = (0..n)
            .map(|_| format!("({}, {})", c.rng.range(-9, 99), float_const(c)))
            .collect();
        c.line(format!("{} = [{}]", l, items.join(", ")));
        fixed_list(c, &l, Ty::PairList, n);
    }
    if c.rng.chance(25) {
        let t = c.fresh("t");
        let (i, f) = (c.rng.range(0, 99), float_const(c));
        c.line(format!("{} = ({}, {})", t, i, f));
        c.declare(&t, Ty::Pair, 0.0, false);
    }
    if !c.classes.is_empty() {
        for _ in 0..c.rng.range(1, 2) {
            if let Some(obj) = c.new_object() {
                let o = c.fresh("o");
                c.line(format!("{} = {}", o, obj));
                c.declare_obj(&o);
            }
        }
        if c.classes.len() > 1 && c.rng.chance(70) {
            let l = c.fresh("ol");
            let n = c.rng.range(2, 5);
            let items: Vec<String> = (0..n).filter_map(|_| c.new_object()).collect();
            c.line(format!("{} = [{}]", l, items.join(", ")));
            fixed_list(c, &l, Ty::ObjList, n);
        }
    }
}

/// A list of floats and `None`s: a literal, or built by a loop on a data-dependent test.
fn opt_list(c: &mut Ctx) {
    let d = c.fresh("d");
    if c.rng.chance(50) {
        let n = c.rng.range(4, 12);
        let items: Vec<String> = (0..n)
            .map(|_| {
                if c.rng.chance(40) {
                    "None".to_string()
                } else {
                    float_const(c)
                }
            })
            .collect();
        c.line(format!("{} = [{}]", d, items.join(", ")));
        fixed_list(c, &d, Ty::OptList, n);
    } else {
        let (k, n) = (c.fresh("k"), c.rng.range(4, 40));
        let (a, b, m) = (c.rng.range(1, 9), c.rng.range(0, 9), c.rng.range(2, 4));
        let (s, o) = (float_const(c), float_const(c));
        c.line(format!("{} = []", d));
        c.open(format!("for {} in range({}):", k, n));
        c.open(format!("if ({} * {} + {}) % {} == 0:", k, a, b, m));
        c.line(format!("{}.append(None)", d));
        c.close();
        c.open("else:");
        c.line(format!("{}.append({} * {} + {})", d, k, s, o));
        c.close();
        c.close();
        fixed_list(c, &d, Ty::OptList, n);
    }
}

/// Prints every variable of `main`'s scope.
fn final_prints(c: &mut Ctx) {
    let vars = c.vars.clone();
    let mut scalars = Vec::new();
    for v in vars.iter().filter(|v| !v.name.contains('.')) {
        let n = &v.name;
        match v.ty {
            Ty::Int | Ty::Float | Ty::Opt | Ty::Pair => scalars.push(n.clone()),
            Ty::IntList if v.growable => c.line(format!("print('list', len({n}), {n}[-1], sum({n}))")),
            Ty::IntList | Ty::OptList | Ty::PairList => c.line(format!("print('list', {n})")),
            Ty::Obj => c.line(format!("print('obj', {n}.a, {n}.b, {n}.last, {n}.total)")),
            Ty::ObjList => {
                let o = c.fresh("q");
                c.line(format!("print('objs', len({n}), sum([{o}.a for {o} in {n}]))"))
            }
        }
    }
    for chunk in scalars.chunks(4) {
        c.line(format!("print('end', {})", chunk.join(", ")));
    }
}

/// Generates the program for `seed`.
pub fn generate(seed: u64) -> Program {
    build(Rng::new(seed), format!("seed {}", seed))
}

/// Generates the program a fuzzer's input steers (see [`Rng::from_bytes`]).
pub fn generate_from_bytes(bytes: &[u8]) -> Program {
    build(
        Rng::from_bytes(0, bytes),
        format!("fuzz input of {} bytes", bytes.len()),
    )
}

/// Generates a program from `rng`'s decisions.
fn build(rng: Rng, origin: String) -> Program {
    let mut c = Ctx::new(rng);
    let with_counter = c.rng.chance(30);
    globals(&mut c, with_counter);
    let globals_text = c.take_lines();
    let tail = if c.rng.chance(25) {
        Some(*c.rng.pick(&TAILS))
    } else {
        None
    };
    let tail_helper = tail.and_then(|t| t.helper(&mut c));
    if with_counter {
        bump_helper(&mut c);
    }
    if c.rng.chance(25) {
        recursive_helper(&mut c);
    }
    for _ in 0..c.rng.range(0, 3) {
        helper(&mut c);
    }
    let helpers_text = c.take_lines();
    if c.rng.chance(60) {
        classes(&mut c);
    }
    let classes_text = c.take_lines();

    c.place = Place::Main;
    c.max_loops = 3;
    let module_level = c.rng.chance(20);
    if !module_level {
        c.open("def main():");
    }
    c.scoped(|c| {
        c.line("chk = 0");
        c.declare("chk", Ty::Int, INT_VAR, true);
        setup(c);
        for k in 0..c.rng.range(2, 4) {
            if k == 0 || c.rng.chance(65) {
                c.loop_stmt(0);
            } else {
                c.stmt(0);
            }
        }
        if let Some(t) = tail {
            t.emit(c, tail_helper.as_ref().map(|h| h.0.as_str()));
        }
        final_prints(c);
    });
    if !module_level {
        c.close();
        c.line("main()");
    }
    let main_text = c.take_lines();

    let mut out = vec![format!("# generated by pylite/tests/progen, {}", origin)];
    if c.uses_math {
        out.push("import math".to_string());
    }
    out.extend(globals_text);
    if let Some((_, lines)) = tail_helper {
        out.extend(lines);
    }
    out.extend(helpers_text);
    out.extend(classes_text);
    out.extend(main_text);
    let mut source = out.join("\n");
    source.push('\n');
    Program {
        origin,
        source,
        expect: tail.map_or(Expect::Ok, |t| Expect::Raises(t.exception())),
    }
}
