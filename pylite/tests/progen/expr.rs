//! # Expressions: ints, floats and conditions, with bounds
//!
//! Each generator takes a depth budget and returns an [`E`]: fully parenthesized text
//! (so precedence never matters) and a bound on the value's magnitude. What they
//! produce:
//!
//! * ints — constants, variables, loop counters, fields, list elements and lengths,
//!   tuple items, helper and method calls; `+ - * // % & | ^ << >>`, unary minus,
//!   `abs`, `min`, `max`, `int(f)`, `round(f)`, conditional expressions. Divisors are
//!   non-zero by construction (constants, or `(e % k) + 1`), including negative ones so
//!   floor division and modulo of mixed signs are covered.
//! * floats — constants, variables, fields, `float(i)`, properties, method and helper
//!   calls; mixed int/float arithmetic, true division, float `//` and `%`, `abs`,
//!   `min`, `max`, `math.sqrt`, `round(f, 2)`.
//! * conditions — data-dependent ones above all (`i % 3 == 0`, float comparisons,
//!   `x is None`, chained comparisons, `isinstance`, int truthiness), combined with
//!   `and`/`or`/`not`.
//!
//! Calls may have side effects (`o.step(k)` writes a field, a helper may bump a
//! global); both implementations evaluate left to right, so that is fine — and it is
//! exactly what a JIT's heap caching must get right.

use super::ctx::*;

const FLOAT_CONSTS: [&str; 10] = [
    "0.5", "1.25", "-0.75", "2.0", "0.1", "3.5", "-1.5", "0.001", "250.0", "7.0",
];
/// Non-zero float divisors and their magnitudes.
const FLOAT_DIVISORS: [(&str, f64); 6] = [
    ("2.0", 2.0),
    ("0.5", 0.5),
    ("-4.0", 4.0),
    ("1.5", 1.5),
    ("3.0", 3.0),
    ("-2.5", 2.5),
];

impl Ctx {
    /// An int constant.
    fn int_const(&mut self) -> E {
        let v = if self.rng.chance(85) {
            self.rng.range(-20, 100)
        } else {
            self.rng.range(1000, 100_000)
        };
        let code = if v < 0 { format!("({})", v) } else { v.to_string() };
        E::new(code, v.unsigned_abs() as f64)
    }

    /// A non-zero int divisor: its text and the largest magnitude it can have.
    pub fn int_divisor(&mut self, depth: u32) -> (String, f64) {
        if self.rng.chance(50) {
            let d = *self.rng.pick(&[2i64, 3, 5, 7, 10, 13, -1, -3, -7]);
            let code = if d < 0 { format!("({})", d) } else { d.to_string() };
            (code, d.unsigned_abs() as f64)
        } else {
            let k = self.rng.range(2, 9);
            let e = self.int(depth.saturating_sub(1));
            (format!("(({} % {}) + 1)", e.code, k), k as f64)
        }
    }

    /// An index expression valid for the list `l` (non-empty by construction).
    fn index_into(&mut self, l: &str, depth: u32) -> String {
        match self.rng.below(4) {
            0 => "0".to_string(),
            1 => "(-1)".to_string(),
            _ => {
                let e = self.int(depth.saturating_sub(1));
                format!("({} % len({}))", e.code, l)
            }
        }
    }

    /// The innermost enclosing loop's counter, if it has one.
    pub fn counter(&self) -> Option<String> {
        self.loops.iter().rev().find_map(|l| l.counter.clone())
    }

    /// A leaf int expression (or a call).
    fn int_atom(&mut self, depth: u32) -> E {
        if self.rng.chance(25) {
            if let Some(i) = self.counter() {
                return E::new(i, INT_VAR);
            }
        }
        for _ in 0..4 {
            let got = match self.rng.below(12) {
                0 | 1 => Some(self.int_const()),
                2..=6 => self.pick_var(Ty::Int, false).map(|v| E::new(v.name, v.bound)),
                7 => self
                    .pick_any_list()
                    .map(|l| E::new(format!("len({})", l.name), list_len_bound(&l))),
                8 => {
                    let growable = self.rng.chance(50);
                    self.pick_list(Ty::IntList, growable).map(|l| {
                        let i = self.index_into(&l.name, depth);
                        E::new(format!("{}[{}]", l.name, i), INT_VAR)
                    })
                }
                9 => self
                    .pick_var(Ty::Pair, false)
                    .map(|p| E::new(format!("{}[0]", p.name), INT_VAR)),
                10 if depth > 0 => self.call_helper(Ty::Int, depth),
                11 if depth > 0 => self.pick_var(Ty::Obj, false).map(|o| {
                    let k = self.int_arg(depth);
                    E::new(format!("{}.step({})", o.name, k), INT_VAR)
                }),
                _ => None,
            };
            if let Some(e) = got {
                return e;
            }
        }
        self.int_const()
    }

    /// An int expression.
    pub fn int(&mut self, depth: u32) -> E {
        if depth == 0 || self.rng.chance(30) {
            return self.int_atom(depth);
        }
        let d = depth - 1;
        let e = match self.rng.below(13) {
            0..=3 => {
                let (a, b) = (self.int(d), self.int(d));
                let op = *self.rng.pick(&["+", "-", "*"]);
                let bound = if op == "*" {
                    a.bound * b.bound
                } else {
                    a.bound + b.bound
                };
                E::new(format!("({} {} {})", a.code, op, b.code), bound)
            }
            4 => {
                let a = self.int(d);
                let (div, _) = self.int_divisor(d);
                E::new(format!("({} // {})", a.code, div), a.bound.max(1.0))
            }
            5 => {
                let a = self.int(d);
                let (div, m) = self.int_divisor(d);
                E::new(format!("({} % {})", a.code, div), m)
            }
            6 => {
                let (a, b) = (self.int(d), self.int(d));
                let op = *self.rng.pick(&["&", "|", "^"]);
                E::new(
                    format!("({} {} {})", a.code, op, b.code),
                    2.0 * a.bound.max(b.bound).max(1.0),
                )
            }
            7 => {
                let a = self.int(d);
                let s = self.rng.range(0, 4);
                if self.rng.chance(50) {
                    E::new(format!("({} >> {})", a.code, s), a.bound)
                } else {
                    E::new(format!("({} << {})", a.code, s), a.bound * (1u64 << s) as f64)
                }
            }
            8 => {
                let a = self.int(d);
                if self.rng.chance(50) {
                    E::new(format!("abs({})", a.code), a.bound)
                } else {
                    E::new(format!("(-{})", a.code), a.bound)
                }
            }
            9 => {
                let (a, b) = (self.int(d), self.int(d));
                let f = *self.rng.pick(&["min", "max"]);
                E::new(format!("{}({}, {})", f, a.code, b.code), a.bound.max(b.bound))
            }
            10 => {
                let c = self.cond(d);
                let (a, b) = (self.int(d), self.int(d));
                E::new(format!("({} if {} else {})", a.code, c, b.code), a.bound.max(b.bound))
            }
            11 => {
                let f = self.float(d);
                let f = self.fit_float(f, INT_EXPR / 2.0);
                if self.rng.chance(50) {
                    E::new(format!("int({})", f.code), f.bound)
                } else {
                    E::new(format!("round({})", f.code), f.bound + 1.0)
                }
            }
            _ => self.int_atom(depth),
        };
        self.fit_int(e, INT_EXPR)
    }

    /// An int expression whose value fits an int variable.
    pub fn int_value(&mut self, depth: u32) -> E {
        let e = self.int(depth);
        self.fit_int(e, INT_VAR)
    }

    /// The text of an int argument for a call.
    fn int_arg(&mut self, depth: u32) -> String {
        self.int_value(depth.saturating_sub(1)).code
    }

    /// A leaf float expression (or a call).
    fn float_atom(&mut self, depth: u32) -> E {
        for _ in 0..4 {
            let got = match self.rng.below(12) {
                0 | 1 => {
                    let c = *self.rng.pick(&FLOAT_CONSTS);
                    let b = c.parse::<f64>().map(f64::abs).unwrap_or(FLOAT_VAR);
                    let code = if c.starts_with('-') {
                        format!("({})", c)
                    } else {
                        c.to_string()
                    };
                    Some(E::new(code, b))
                }
                2..=5 => self.pick_var(Ty::Float, false).map(|v| E::new(v.name, v.bound)),
                6 => {
                    let i = self.int(depth.saturating_sub(1));
                    Some(E::new(format!("float({})", i.code), i.bound))
                }
                7 => self
                    .pick_var(Ty::Pair, false)
                    .map(|p| E::new(format!("{}[1]", p.name), FLOAT_VAR)),
                8 if depth > 0 => self.call_helper(Ty::Float, depth),
                9 => self
                    .pick_var(Ty::Obj, false)
                    .map(|o| E::new(format!("{}.total", o.name), FLOAT_VAR)),
                10 if depth > 0 => self.pick_var(Ty::Obj, false).map(|o| {
                    let arg = if self.rng.chance(40) {
                        String::new()
                    } else {
                        self.float_value(depth - 1).code
                    };
                    E::new(format!("{}.scale({})", o.name, arg), FLOAT_VAR)
                }),
                11 => self.pick_list(Ty::PairList, false).map(|l| {
                    let i = self.index_into(&l.name, depth);
                    E::new(format!("{}[{}][1]", l.name, i), FLOAT_VAR)
                }),
                _ => None,
            };
            if let Some(e) = got {
                return e;
            }
        }
        E::new("0.5", 0.5)
    }

    /// An operand of mixed arithmetic: usually a float, sometimes an int.
    fn float_or_int(&mut self, depth: u32) -> (E, bool) {
        if self.rng.chance(30) {
            (self.int(depth), false)
        } else {
            (self.float(depth), true)
        }
    }

    /// A float expression.
    pub fn float(&mut self, depth: u32) -> E {
        if depth == 0 || self.rng.chance(30) {
            return self.float_atom(depth);
        }
        let d = depth - 1;
        let e = match self.rng.below(12) {
            0..=3 => {
                let (a, a_float) = self.float_or_int(d);
                let b = if a_float { self.float_or_int(d).0 } else { self.float(d) };
                let op = *self.rng.pick(&["+", "-", "*"]);
                let bound = if op == "*" {
                    a.bound * b.bound
                } else {
                    a.bound + b.bound
                };
                E::new(format!("({} {} {})", a.code, op, b.code), bound)
            }
            4 => {
                let (a, _) = self.float_or_int(d);
                let (div, m) = match self.rng.below(3) {
                    0 => {
                        let (c, m) = *self.rng.pick(&FLOAT_DIVISORS);
                        (c.to_string(), m)
                    }
                    1 => {
                        let x = self.float(d);
                        (format!("(abs({}) + 1.0)", x.code), 1.0)
                    }
                    _ => {
                        let (div, _) = self.int_divisor(d);
                        (div, 1.0)
                    }
                };
                E::new(format!("({} / {})", a.code, div), a.bound / m)
            }
            5 => {
                let a = self.float(d);
                let (c, m) = *self.rng.pick(&FLOAT_DIVISORS);
                if self.rng.chance(50) {
                    E::new(format!("({} // {})", a.code, c), a.bound / m + 1.0)
                } else {
                    E::new(format!("({} % {})", a.code, c), m)
                }
            }
            6 => {
                let a = self.float(d);
                if self.rng.chance(50) {
                    E::new(format!("abs({})", a.code), a.bound)
                } else {
                    E::new(format!("(-{})", a.code), a.bound)
                }
            }
            7 => {
                let (a, b) = (self.float(d), self.float(d));
                let f = *self.rng.pick(&["min", "max"]);
                E::new(format!("{}({}, {})", f, a.code, b.code), a.bound.max(b.bound))
            }
            8 => {
                let a = self.float(d);
                self.uses_math = true;
                E::new(format!("math.sqrt(abs({}))", a.code), a.bound.sqrt() + 1.0)
            }
            9 => {
                let c = self.cond(d);
                let (a, b) = (self.float(d), self.float(d));
                E::new(format!("({} if {} else {})", a.code, c, b.code), a.bound.max(b.bound))
            }
            10 => {
                let a = self.float(d);
                E::new(format!("round({}, 2)", a.code), a.bound + 0.01)
            }
            _ => self.float_atom(depth),
        };
        self.fit_float(e, FLOAT_EXPR)
    }

    /// A float expression whose value fits a float variable.
    pub fn float_value(&mut self, depth: u32) -> E {
        let e = self.float(depth);
        self.fit_float(e, FLOAT_VAR)
    }

    /// A condition.
    pub fn cond(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.rng.below(12) {
            0 | 1 => {
                let e = match self.counter() {
                    Some(i) if self.rng.chance(50) => E::new(i, INT_VAR),
                    _ => self.int(d),
                };
                let k = self.rng.range(2, 7);
                let r = self.rng.range(0, k - 1);
                let op = if self.rng.chance(75) { "==" } else { "!=" };
                format!("({} % {} {} {})", e.code, k, op, r)
            }
            2 | 3 => {
                let (a, b) = (self.int(d), self.int(d));
                let op = *self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                format!("({} {} {})", a.code, op, b.code)
            }
            4 | 5 => {
                let (a, _) = self.float_or_int(d);
                let b = self.float(d);
                let op = *self.rng.pick(&["<", "<=", ">", ">="]);
                format!("({} {} {})", a.code, op, b.code)
            }
            6 | 7 => match self.opt_source(d) {
                Some(x) => {
                    let op = if self.rng.chance(50) { "is" } else { "is not" };
                    format!("({} {} None)", x, op)
                }
                None => self.cond(d),
            },
            8 if depth > 0 => match self.rng.below(3) {
                0 => format!("(not {})", self.cond(d)),
                1 => format!("({} and {})", self.cond(d), self.cond(d)),
                _ => format!("({} or {})", self.cond(d), self.cond(d)),
            },
            9 => {
                let lo = self.rng.range(-5, 5);
                let hi = lo + self.rng.range(1, 20);
                let e = self.int(d);
                format!("({} <= {} < {})", lo, e.code, hi)
            }
            10 if self.classes.len() > 1 => match self.pick_var(Ty::Obj, false) {
                Some(o) => {
                    let k = self.rng.pick(&self.classes).clone();
                    format!("isinstance({}, {})", o.name, k)
                }
                None => self.cond(d),
            },
            _ => {
                let e = self.int(d);
                let m = self.rng.range(1, 16);
                format!("({} & {})", e.code, m)
            }
        }
    }

    /// Something that may be `None`: an optional variable or field, or an element of
    /// an optional list.
    pub fn opt_source(&mut self, depth: u32) -> Option<String> {
        if self.rng.chance(70) {
            if let Some(v) = self.pick_var(Ty::Opt, false) {
                return Some(v.name);
            }
        }
        let l = self.pick_list(Ty::OptList, false)?;
        let i = self.index_into(&l.name, depth);
        Some(format!("{}[{}]", l.name, i))
    }

    /// A random visible list of any kind.
    fn pick_any_list(&mut self) -> Option<Var> {
        let lists: Vec<Var> = self
            .vars
            .iter()
            .filter(|v| matches!(v.ty, Ty::IntList | Ty::OptList | Ty::PairList | Ty::ObjList))
            .cloned()
            .collect();
        if lists.is_empty() {
            None
        } else {
            Some(self.rng.pick(&lists).clone())
        }
    }

    /// Whether a helper may be called from the code being generated.
    fn callable(&self, h: &Helper) -> bool {
        self.place == Place::Main || !h.has_loop
    }

    /// A call of a helper returning `ret`, with positional, keyword and omitted
    /// (defaulted) arguments.
    pub fn call_helper(&mut self, ret: Ty, depth: u32) -> Option<E> {
        let found: Vec<Helper> = self
            .helpers
            .iter()
            .filter(|h| h.ret == ret && self.callable(h))
            .cloned()
            .collect();
        if found.is_empty() {
            return None;
        }
        let h = self.rng.pick(&found).clone();
        let d = depth.saturating_sub(1);
        let mut args = Vec::new();
        let mut positional_ok = true;
        for p in &h.params {
            if p.default.is_some() && self.rng.chance(35) {
                positional_ok = false;
                continue;
            }
            let value = match p.ty {
                Ty::Int => {
                    let e = self.int(d);
                    self.fit_int(e, p.arg_bound).code
                }
                Ty::Opt if self.rng.chance(45) => "None".to_string(),
                _ => self.float_value(d).code,
            };
            if p.default.is_some() && (!positional_ok || self.rng.chance(40)) {
                positional_ok = false;
                args.push(format!("{}={}", p.name, value));
            } else {
                args.push(value);
            }
        }
        let bound = match ret {
            Ty::Float => FLOAT_VAR,
            _ => INT_VAR,
        };
        Some(E::new(format!("{}({})", h.name, args.join(", ")), bound))
    }
}

/// The largest length a list variable can have.
pub fn list_len_bound(l: &Var) -> f64 {
    if l.growable {
        // Appends run at most MAX_ITERS times per statement, and there are few.
        l.bound + 1.0e6
    } else {
        l.bound
    }
}
