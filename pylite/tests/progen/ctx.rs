//! # The generator's state: scope, types, value bounds and the output buffer
//!
//! The generator writes Python text directly, one indented line at a time, while it
//! keeps just enough static knowledge to stay inside what pylite runs without
//! surprises:
//!
//! * **Types.** Every visible variable has a [`Ty`]; expressions are generated for a
//!   wanted type from variables of that type, so no program raises `TypeError`.
//! * **Bounds.** pylite's ints are 64-bit and raise `OverflowError` where CPython's
//!   would grow, so every int expression carries an upper bound on its magnitude. An
//!   int variable holds at most [`INT_VAR`] at statement boundaries; a composite
//!   expression whose bound passes [`INT_EXPR`] is wrapped in `% p`. Products of two
//!   operands below 2^31 cannot overflow, so no program overflows by accident; the
//!   programs that should raise do so on purpose (see `program.rs`). Floats carry
//!   bounds too, so they never become `inf`/`nan` and `int(f)` is always defined.
//! * **Scope.** Names are fresh per program; a variable introduced inside a block is
//!   forgotten when the block ends (`Ctx::scoped`), so nothing is read before it is
//!   surely assigned.
//! * **Trip counts.** Enclosing loops are on a stack; their product is kept under
//!   [`MAX_ITERS`] so every program finishes in milliseconds.

use super::rng::Rng;

/// Largest magnitude of an int variable, field, parameter or return value (2^20).
pub const INT_VAR: f64 = 1_048_576.0;
/// Composite int expressions are wrapped with `% p` above this (2^31).
pub const INT_EXPR: f64 = 2_147_483_648.0;
/// Largest magnitude of a float variable, field, parameter or return value.
pub const FLOAT_VAR: f64 = 1.0e6;
/// Composite float expressions are wrapped with `% c` above this.
pub const FLOAT_EXPR: f64 = 1.0e9;
/// Upper bound on the product of the trip counts of nested loops in `main`.
pub const MAX_ITERS: u64 = 15_000;

/// Primes used to wrap int values back into range.
const PRIMES: [i64; 11] = [7, 13, 17, 97, 101, 997, 1009, 7919, 10007, 65521, 1_000_003];

/// The static type of a generated variable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    Int,
    Float,
    /// `None` or a float.
    Opt,
    /// A tuple `(int, float)`.
    Pair,
    /// An instance of one of the generated classes (fields `a`, `b`, `last`).
    Obj,
    IntList,
    OptList,
    PairList,
    ObjList,
}

/// A visible name.
#[derive(Clone, Debug)]
pub struct Var {
    /// The Python text that reads it (`v3`, `o2.a`, `self.b`).
    pub name: String,
    pub ty: Ty,
    /// Bound on the magnitude (ints and floats), or the exact length (fixed lists).
    pub bound: f64,
    /// The generator may assign to it.
    pub assignable: bool,
    /// A list that statements append to (never iterated); other lists are fixed.
    pub growable: bool,
}

/// A generated expression and the bound on its magnitude.
#[derive(Clone, Debug)]
pub struct E {
    pub code: String,
    pub bound: f64,
}

impl E {
    pub fn new(code: impl Into<String>, bound: f64) -> E {
        E {
            code: code.into(),
            bound,
        }
    }
}

/// A parameter of a generated helper function.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    /// `Int`, `Float` or `Opt`.
    pub ty: Ty,
    /// The default's text, when the parameter has one.
    pub default: Option<String>,
    /// Call sites keep int arguments below this (recursive helpers want small ones).
    pub arg_bound: f64,
}

/// A generated helper function, callable from code generated after it.
#[derive(Clone, Debug)]
pub struct Helper {
    pub name: String,
    pub params: Vec<Param>,
    /// `Int`, `Float` or `Pair`.
    pub ret: Ty,
    /// Its body loops (such helpers are not called from other helpers or methods).
    pub has_loop: bool,
}

/// An enclosing loop.
#[derive(Clone, Debug)]
pub struct LoopInfo {
    pub trips: u64,
    /// An int that changes every iteration (for `if i % K == 0: print(...)`).
    pub counter: Option<String>,
}

/// Where the code being generated lives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    Main,
    Helper,
    Method,
}

/// The generator's whole state.
pub struct Ctx {
    pub rng: Rng,
    pub vars: Vec<Var>,
    pub helpers: Vec<Helper>,
    /// Generated class names; `classes[0]` is the base class.
    pub classes: Vec<String>,
    pub loops: Vec<LoopInfo>,
    pub place: Place,
    /// How many loops may be open at once here.
    pub max_loops: usize,
    pub uses_math: bool,
    fresh: usize,
    lines: Vec<String>,
    indent: usize,
}

impl Ctx {
    pub fn new(rng: Rng) -> Ctx {
        Ctx {
            rng,
            vars: Vec::new(),
            helpers: Vec::new(),
            classes: Vec::new(),
            loops: Vec::new(),
            place: Place::Main,
            max_loops: 3,
            uses_math: false,
            fresh: 0,
            lines: Vec::new(),
            indent: 0,
        }
    }

    /// A name never used before in this program.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{}{}", prefix, self.fresh)
    }

    /// Writes one line at the current indentation.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.lines
            .push(format!("{}{}", "    ".repeat(self.indent), text.as_ref()));
    }

    /// Writes a block header (`if ...:`) and indents.
    pub fn open(&mut self, header: impl AsRef<str>) {
        self.line(header);
        self.indent += 1;
    }

    /// Ends the innermost block.
    pub fn close(&mut self) {
        self.indent -= 1;
    }

    /// The lines written so far (and forgets them): one section of the program.
    pub fn take_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.lines)
    }

    /// Runs `f`, then forgets the variables it declared.
    pub fn scoped<R>(&mut self, f: impl FnOnce(&mut Ctx) -> R) -> R {
        let mark = self.vars.len();
        let r = f(self);
        self.vars.truncate(mark);
        r
    }

    /// Declares a variable (visible until the enclosing `scoped` ends).
    pub fn declare(&mut self, name: &str, ty: Ty, bound: f64, assignable: bool) {
        self.vars.push(Var {
            name: name.to_string(),
            ty,
            bound,
            assignable,
            growable: false,
        });
    }

    /// Declares an object and its fields `a` (int), `b` (float), `last` (float or None).
    pub fn declare_obj(&mut self, name: &str) {
        self.declare(name, Ty::Obj, 0.0, false);
        self.declare_fields(name);
    }

    /// Declares the fields of the object `obj` (`self` in methods).
    pub fn declare_fields(&mut self, obj: &str) {
        self.declare(&format!("{}.a", obj), Ty::Int, INT_VAR, true);
        self.declare(&format!("{}.b", obj), Ty::Float, FLOAT_VAR, true);
        self.declare(&format!("{}.last", obj), Ty::Opt, FLOAT_VAR, true);
    }

    /// A random visible variable of type `ty` (only assignable ones when asked).
    pub fn pick_var(&mut self, ty: Ty, assignable: bool) -> Option<Var> {
        let n = self
            .vars
            .iter()
            .filter(|v| v.ty == ty && (v.assignable || !assignable))
            .count();
        if n == 0 {
            return None;
        }
        let k = self.rng.below(n);
        self.vars
            .iter()
            .filter(|v| v.ty == ty && (v.assignable || !assignable))
            .nth(k)
            .cloned()
    }

    /// A random visible list of type `ty` that is (or is not) growable.
    pub fn pick_list(&mut self, ty: Ty, growable: bool) -> Option<Var> {
        let found: Vec<Var> = self
            .vars
            .iter()
            .filter(|v| v.ty == ty && v.growable == growable)
            .cloned()
            .collect();
        if found.is_empty() {
            None
        } else {
            Some(self.rng.pick(&found).clone())
        }
    }

    /// The product of the enclosing loops' trip counts.
    pub fn multiplicity(&self) -> u64 {
        self.loops.iter().map(|l| l.trips.max(1)).product()
    }

    /// A random prime not above `limit` (at least 7).
    pub fn prime_below(&mut self, limit: f64) -> i64 {
        let fitting: Vec<i64> = PRIMES.iter().copied().filter(|&p| p as f64 <= limit).collect();
        if fitting.is_empty() {
            PRIMES[0]
        } else {
            *self.rng.pick(&fitting)
        }
    }

    /// `e`, wrapped with `% p` when its bound exceeds `limit`.
    pub fn fit_int(&mut self, e: E, limit: f64) -> E {
        if e.bound <= limit {
            return e;
        }
        let p = self.prime_below(limit);
        E::new(format!("({} % {})", e.code, p), p as f64)
    }

    /// `e`, wrapped with `% c` when its bound exceeds `limit`.
    pub fn fit_float(&mut self, e: E, limit: f64) -> E {
        if e.bound <= limit {
            return e;
        }
        let c = *self.rng.pick(&["997.0", "1000.5", "123.25", "9.75"]);
        E::new(format!("({} % {})", e.code, c), c.parse::<f64>().unwrap_or(1000.5))
    }
}
