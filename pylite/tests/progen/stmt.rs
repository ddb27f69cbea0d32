//! # Statements and loops
//!
//! Every statement kind keeps the invariants of `ctx.rs` (types, value bounds, names
//! assigned before use) so the program stays inside pylite's subset and raises
//! nothing unplanned. The kinds are chosen for what a tracing JIT finds hard:
//!
//! * data-dependent `if`/`elif`/`else`, `break`, `continue` — side exits and bridges;
//! * augmented assignments followed by a clamp (`if v > 2**20 ...: v = v % p`) — a
//!   branch that is rarely taken, so it becomes a bridge late;
//! * `x is None` branches whose `else` uses `x` as a float — type guards;
//! * `try: ... // (w % k)` / `except ZeroDivisionError` — exceptions leaving
//!   compiled code;
//! * objects: new instances in loops (escape analysis), field writes, method calls on
//!   objects of two classes (polymorphic call sites), list appends and stores, tuple
//!   packing and unpacking;
//! * nested `for`/`while` loops over ranges, lists, `enumerate`, tuples and objects,
//!   with constant and data-dependent trip counts.

use super::ctx::*;

impl Ctx {
    /// `n` statements in the current scope.
    pub fn stmts(&mut self, n: i64, depth: u32) {
        for _ in 0..n {
            self.stmt(depth);
        }
    }

    /// A block of `n` statements; names it introduces end with it.
    pub fn block(&mut self, n: i64, depth: u32) {
        self.scoped(|c| c.stmts(n, depth));
    }

    /// One random statement (at least one line).
    pub fn stmt(&mut self, depth: u32) {
        let in_loop = !self.loops.is_empty();
        let nest = depth < 3;
        let can_loop = nest && self.loops.len() < self.max_loops;
        let weights = [
            8,                            // new int
            10,                           // assign int
            10,                           // augmented int
            5,                            // new float
            8,                            // assign float
            9,                            // augmented float
            if nest { 10 } else { 0 },    // if
            if can_loop { 8 } else { 0 }, // nested loop
            6,                            // lists
            6,                            // objects
            5,                            // optional values
            6,                            // `is None` branch
            if in_loop { 3 } else { 1 },  // print
            if in_loop { 4 } else { 0 },  // break / continue
            3,                            // try / except
            4,                            // tuples
        ];
        let done = match self.rng.weighted(&weights) {
            0 => self.new_int(),
            1 => self.assign_int(),
            2 => self.aug_int(),
            3 => self.new_float(),
            4 => self.assign_float(),
            5 => self.aug_float(),
            6 => self.if_stmt(depth),
            7 => self.loop_stmt(depth),
            8 => self.list_stmt(),
            9 => self.obj_stmt(),
            10 => self.opt_assign(),
            11 => self.opt_branch(depth),
            12 => self.print_stmt(),
            13 => self.break_stmt(),
            14 => self.try_stmt(),
            _ => self.tuple_stmt(),
        };
        if !done {
            self.new_int();
        }
    }

    pub fn new_int(&mut self) -> bool {
        let name = self.fresh("v");
        let e = self.int_value(2);
        self.line(format!("{} = {}", name, e.code));
        self.declare(&name, Ty::Int, INT_VAR, true);
        true
    }

    pub fn new_float(&mut self) -> bool {
        let name = self.fresh("f");
        let e = self.float_value(2);
        self.line(format!("{} = {}", name, e.code));
        self.declare(&name, Ty::Float, FLOAT_VAR, true);
        true
    }

    fn assign_int(&mut self) -> bool {
        let Some(v) = self.pick_var(Ty::Int, true) else {
            return false;
        };
        let e = if self.rng.chance(30) {
            let e = self.int(1);
            let p = self.prime_below(INT_VAR);
            E::new(format!("(({} * 31 + {}) % {})", v.name, e.code, p), p as f64)
        } else {
            self.int_value(2)
        };
        self.line(format!("{} = {}", v.name, e.code));
        true
    }

    fn assign_float(&mut self) -> bool {
        let Some(v) = self.pick_var(Ty::Float, true) else {
            return false;
        };
        let e = self.float_value(2);
        self.line(format!("{} = {}", v.name, e.code));
        true
    }

    /// `if v > 2**20 or v < -2**20: v = v % p` — restores an int variable's bound.
    fn clamp_int(&mut self, v: &str) {
        let p = self.prime_below(INT_VAR);
        self.open(format!("if {} > 1048576 or {} < -1048576:", v, v));
        if self.rng.chance(50) {
            self.line(format!("{} = {} % {}", v, v, p));
        } else {
            self.line(format!("{} %= {}", v, p));
        }
        self.close();
    }

    /// The same for a float variable.
    fn clamp_float(&mut self, v: &str) {
        self.open(format!("if {} > 1000000.0 or {} < -1000000.0:", v, v));
        let c = *self.rng.pick(&["997.0", "1000.5", "123.25"]);
        self.line(format!("{} = {} % {}", v, v, c));
        self.close();
    }

    fn aug_int(&mut self) -> bool {
        let Some(v) = self.pick_var(Ty::Int, true) else {
            return false;
        };
        match self.rng.below(4) {
            0 | 1 => {
                let op = *self.rng.pick(&["+=", "-=", "*="]);
                let e = self.int(2);
                self.line(format!("{} {} {}", v.name, op, e.code));
                self.clamp_int(&v.name);
            }
            2 => {
                let (div, _) = self.int_divisor(1);
                let op = *self.rng.pick(&["//=", "%="]);
                self.line(format!("{} {} {}", v.name, op, div));
            }
            _ => {
                let e = self.int(1);
                let s = self.rng.range(1, 6);
                match self.rng.below(4) {
                    0 => self.line(format!("{} ^= {}", v.name, e.code)),
                    1 => self.line(format!("{} |= {}", v.name, e.code)),
                    2 => self.line(format!("{} <<= {}", v.name, s)),
                    _ => self.line(format!("{} >>= {}", v.name, s)),
                }
                self.clamp_int(&v.name);
            }
        }
        true
    }

    fn aug_float(&mut self) -> bool {
        let Some(v) = self.pick_var(Ty::Float, true) else {
            return false;
        };
        if self.rng.chance(80) {
            let op = *self.rng.pick(&["+=", "-=", "*=", "+="]);
            let e = self.float(2);
            self.line(format!("{} {} {}", v.name, op, e.code));
            self.clamp_float(&v.name);
        } else {
            let div = match self.rng.below(3) {
                0 => self.rng.pick(&["2.0", "-4.0", "1.5", "3.0"]).to_string(),
                1 => format!("(abs({}) + 1.0)", self.float(1).code),
                _ => {
                    let (d, _) = self.int_divisor(1);
                    d
                }
            };
            self.line(format!("{} /= {}", v.name, div));
        }
        true
    }

    fn if_stmt(&mut self, depth: u32) -> bool {
        let c = self.cond(2);
        self.open(format!("if {}:", c));
        let n = self.rng.range(1, 3);
        self.block(n, depth + 1);
        self.close();
        for _ in 0..self.rng.range(0, 2) {
            let c = self.cond(2);
            self.open(format!("elif {}:", c));
            let n = self.rng.range(1, 2);
            self.block(n, depth + 1);
            self.close();
        }
        if self.rng.chance(50) {
            self.open("else:");
            let n = self.rng.range(1, 2);
            self.block(n, depth + 1);
            self.close();
        }
        true
    }

    fn list_stmt(&mut self) -> bool {
        match self.rng.below(4) {
            0 | 1 => {
                let Some(l) = self.pick_list(Ty::IntList, true) else {
                    return false;
                };
                let e = self.int_value(2);
                self.line(format!("{}.append({})", l.name, e.code));
            }
            2 => {
                let growable = self.rng.chance(50);
                let Some(l) = self.pick_list(Ty::IntList, growable) else {
                    return false;
                };
                let i = self.int(1);
                let e = self.int_value(2);
                self.line(format!("{}[{} % len({})] = {}", l.name, i.code, l.name, e.code));
            }
            _ => {
                let name = self.fresh("l");
                let n = self.rng.range(1, 3);
                let items: Vec<String> = (0..n).map(|_| self.int_value(1).code).collect();
                self.line(format!("{} = [{}]", name, items.join(", ")));
                self.vars.push(Var {
                    name,
                    ty: Ty::IntList,
                    bound: n as f64,
                    assignable: false,
                    growable: true,
                });
            }
        }
        true
    }

    /// `K(a, b)` or `K(a)` for a random generated class.
    pub fn new_object(&mut self) -> Option<String> {
        if self.classes.is_empty() {
            return None;
        }
        let k = self.rng.pick(&self.classes).clone();
        let a = self.int_value(1).code;
        Some(if self.rng.chance(30) {
            format!("{}({})", k, a)
        } else {
            format!("{}({}, {})", k, a, self.float_value(1).code)
        })
    }

    fn obj_stmt(&mut self) -> bool {
        match self.rng.below(3) {
            0 => {
                let Some(o) = self.pick_var(Ty::Obj, false) else {
                    return false;
                };
                let k = self.int_value(1);
                self.line(format!("{}.step({})", o.name, k.code));
            }
            1 => {
                let Some(obj) = self.new_object() else { return false };
                let name = self.fresh("o");
                self.line(format!("{} = {}", name, obj));
                self.declare_obj(&name);
            }
            _ => {
                let Some(l) = self.pick_list(Ty::ObjList, false) else {
                    return false;
                };
                let i = self.int(1);
                let e = self.int_value(1);
                self.line(format!("{}[{} % len({})].a = {}", l.name, i.code, l.name, e.code));
            }
        }
        true
    }

    /// Whether `name` is narrowed to a float in the current block (an `else` of
    /// `if name is None`): assigning it there could make the narrowed reads fail.
    fn is_narrowed(&self, name: &str) -> bool {
        self.vars.iter().any(|w| w.ty == Ty::Float && w.name == name)
    }

    fn opt_assign(&mut self) -> bool {
        let target = match self.pick_var(Ty::Opt, true) {
            Some(v) if !self.is_narrowed(&v.name) => v.name,
            Some(_) => return false,
            None => {
                let name = self.fresh("x");
                self.line(format!("{} = None", name));
                self.declare(&name, Ty::Opt, FLOAT_VAR, true);
                name
            }
        };
        let value = match self.rng.below(3) {
            0 => "None".to_string(),
            1 => self.float_value(2).code,
            _ => {
                let c = self.cond(1);
                format!("(None if {} else {})", c, self.float_value(1).code)
            }
        };
        self.line(format!("{} = {}", target, value));
        true
    }

    /// A block in which the optional local `x` is known to hold a float.
    fn narrowed_block(&mut self, x: &str, depth: u32) {
        self.scoped(|c| {
            c.declare(x, Ty::Float, FLOAT_VAR, false);
            let target = match c.pick_var(Ty::Float, true) {
                Some(t) => t.name,
                None => {
                    let t = c.fresh("f");
                    c.line(format!("{} = 0.0", t));
                    c.declare(&t, Ty::Float, FLOAT_VAR, true);
                    t
                }
            };
            let op = *c.rng.pick(&["+", "-", "*"]);
            let e = c.float(1);
            let sum = E::new(
                format!("({} + ({} {} {}))", target, x, op, e.code),
                FLOAT_VAR + FLOAT_VAR * e.bound.max(1.0),
            );
            let sum = c.fit_float(sum, FLOAT_VAR);
            c.line(format!("{} = {}", target, sum.code));
            let n = c.rng.range(0, 2);
            c.stmts(n, depth + 1);
        });
    }

    /// `if x is None: ... else: <x used as a float>` (or the `is not None` form).
    pub fn opt_branch_on(&mut self, x: &str, depth: u32) {
        if self.rng.chance(50) {
            self.open(format!("if {} is None:", x));
            let n = self.rng.range(1, 2);
            self.block(n, depth + 1);
            self.close();
            self.open("else:");
            self.narrowed_block(x, depth);
            self.close();
        } else {
            self.open(format!("if {} is not None:", x));
            self.narrowed_block(x, depth);
            self.close();
            if self.rng.chance(50) {
                self.open("else:");
                let n = self.rng.range(1, 2);
                self.block(n, depth + 1);
                self.close();
            }
        }
    }

    fn opt_branch(&mut self, depth: u32) -> bool {
        if depth >= 3 {
            return false;
        }
        // Only local names: a call cannot reset them to None behind the branch's back.
        let locals: Vec<String> = self
            .vars
            .iter()
            .filter(|v| v.ty == Ty::Opt && !v.name.contains('.'))
            .map(|v| v.name.clone())
            .collect();
        if locals.is_empty() {
            return false;
        }
        let x = self.rng.pick(&locals).clone();
        self.opt_branch_on(&x, depth);
        true
    }

    /// Scalars worth printing: up to four variables or small expressions.
    fn print_items(&mut self) -> Vec<String> {
        let n = self.rng.range(1, 4);
        (0..n)
            .map(|_| match self.rng.below(5) {
                0 => self.int(1).code,
                1 => self.float(1).code,
                2 => self
                    .pick_var(Ty::Opt, false)
                    .map(|v| v.name)
                    .unwrap_or_else(|| "None".into()),
                3 => self
                    .pick_var(Ty::Pair, false)
                    .map(|v| v.name)
                    .unwrap_or_else(|| "0".into()),
                _ => self
                    .pick_var(Ty::Float, false)
                    .map(|v| v.name)
                    .unwrap_or_else(|| "1.5".into()),
            })
            .collect()
    }

    fn print_stmt(&mut self) -> bool {
        let tag = self.fresh("p");
        let items = self.print_items();
        let text = format!("print('{}', {})", tag, items.join(", "));
        match self.counter() {
            Some(i) => {
                let every = (self.multiplicity() / 8).max(1).min(97);
                self.open(format!("if {} % {} == 0:", i, every));
                self.line(text);
                self.close();
            }
            None if self.loops.is_empty() => self.line(text),
            None => return false,
        }
        true
    }

    fn break_stmt(&mut self) -> bool {
        let c = self.cond(2);
        self.open(format!("if {}:", c));
        let jump = if self.rng.chance(50) { "break" } else { "continue" };
        self.line(jump);
        self.close();
        true
    }

    /// `try: t = e // (w % k)` / `except ZeroDivisionError: t = c` (or the float form).
    fn try_stmt(&mut self) -> bool {
        let w = self.int(1);
        let k = self.rng.range(2, 6);
        let (target, value, fallback) = if self.rng.chance(60) {
            let Some(t) = self.pick_var(Ty::Int, true) else {
                return false;
            };
            let e = self.int(1);
            let q = E::new(format!("({} // ({} % {}))", e.code, w.code, k), e.bound.max(1.0));
            let q = self.fit_int(q, INT_VAR);
            (t.name, q.code, self.rng.range(-9, 9).to_string())
        } else {
            let Some(t) = self.pick_var(Ty::Float, true) else {
                return false;
            };
            let e = self.float(1);
            let q = E::new(format!("({} / ({} % {}))", e.code, w.code, k), e.bound);
            let q = self.fit_float(q, FLOAT_VAR);
            (t.name, q.code, "-1.0".to_string())
        };
        self.open("try:");
        self.line(format!("{} = {}", target, value));
        self.close();
        self.open("except ZeroDivisionError:");
        self.line(format!("{} = {}", target, fallback));
        self.close();
        true
    }

    /// Where an `(int, float)` pair can come from.
    fn pair_source(&mut self) -> Option<String> {
        match self.rng.below(3) {
            0 => self.pick_var(Ty::Pair, false).map(|p| p.name),
            1 => self.call_helper(Ty::Pair, 2).map(|e| e.code),
            _ => {
                let l = self.pick_list(Ty::PairList, false)?;
                let i = self.int(1);
                Some(format!("{}[{} % len({})]", l.name, i.code, l.name))
            }
        }
    }

    fn tuple_stmt(&mut self) -> bool {
        match self.rng.below(3) {
            0 => {
                let ty = if self.rng.chance(60) { Ty::Int } else { Ty::Float };
                let (Some(a), Some(b)) = (self.pick_var(ty, true), self.pick_var(ty, true)) else {
                    return false;
                };
                if a.name == b.name {
                    return false;
                }
                self.line(format!("{}, {} = {}, {}", a.name, b.name, b.name, a.name));
            }
            1 => {
                let name = self.fresh("t");
                let (i, f) = (self.int_value(1), self.float_value(1));
                self.line(format!("{} = ({}, {})", name, i.code, f.code));
                self.declare(&name, Ty::Pair, 0.0, false);
            }
            _ => {
                let Some(src) = self.pair_source() else { return false };
                let existing = (self.pick_var(Ty::Int, true), self.pick_var(Ty::Float, true));
                match existing {
                    (Some(a), Some(b)) if self.rng.chance(50) => {
                        self.line(format!("{}, {} = {}", a.name, b.name, src));
                    }
                    _ => {
                        let (a, b) = (self.fresh("v"), self.fresh("f"));
                        self.line(format!("{}, {} = {}", a, b, src));
                        self.declare(&a, Ty::Int, INT_VAR, true);
                        self.declare(&b, Ty::Float, FLOAT_VAR, true);
                    }
                }
            }
        }
        true
    }

    /// The trip-count range of a new loop here.
    fn trip_range(&self) -> (i64, i64) {
        match (self.place, self.loops.len()) {
            (Place::Main, 0) => (50, 300),
            (Place::Main, 1) => (2, 12),
            (Place::Main, _) => (2, 4),
            _ => (1, 6),
        }
    }

    /// A loop with its body; false when no loop fits here.
    pub fn loop_stmt(&mut self, depth: u32) -> bool {
        if self.loops.len() >= self.max_loops {
            return false;
        }
        let (lo, hi) = self.trip_range();
        let budget = (MAX_ITERS / self.multiplicity()) as i64;
        let hi = hi.min(budget);
        if hi < lo {
            return false;
        }
        let trips = self.rng.range(lo, hi);
        let done = match self.rng.weighted(&[4, 2, 2, 2, 1, 2]) {
            1 => self.while_loop(trips, depth),
            2 => self.int_list_loop(budget, depth),
            3 => self.opt_list_loop(budget, depth),
            4 => self.pair_list_loop(budget, depth),
            5 => self.obj_list_loop(budget, depth),
            _ => false,
        };
        if !done {
            self.range_loop(trips, depth);
        }
        true
    }

    /// Writes `header`, then the body: `decls` declared, `prelude` lines, random
    /// statements, and in `main`'s outermost loops the running checksum.
    fn loop_body(&mut self, header: String, trips: i64, counter: Option<String>, decls: &[(String, Ty)], depth: u32) {
        self.loop_body_with(header, trips, counter, decls, &[], depth)
    }

    fn loop_body_with(
        &mut self,
        header: String,
        trips: i64,
        counter: Option<String>,
        decls: &[(String, Ty)],
        prelude: &[String],
        depth: u32,
    ) {
        let outermost = self.place == Place::Main && self.loops.is_empty();
        self.open(header);
        self.loops.push(LoopInfo {
            trips: trips.max(1) as u64,
            counter: counter.clone(),
        });
        self.scoped(|c| {
            for (name, ty) in decls {
                match ty {
                    Ty::Obj => c.declare_obj(name),
                    Ty::Float | Ty::Opt => c.declare(name, *ty, FLOAT_VAR, false),
                    _ => c.declare(name, *ty, INT_VAR, false),
                }
            }
            for l in prelude {
                c.line(l);
            }
            if let Some((x, Ty::Opt)) = decls.first() {
                if c.rng.chance(70) {
                    c.opt_branch_on(x, depth + 1);
                }
            }
            let n = if outermost {
                c.rng.range(3, 6)
            } else {
                c.rng.range(1, 4)
            };
            c.stmts(n, depth + 1);
            if outermost {
                let e = c.int_value(1);
                c.line(format!("chk = (chk * 31 + {}) % 1000003", e.code));
                if let Some(i) = &counter {
                    let every = (trips / c.rng.range(3, 8)).max(1);
                    c.open(format!("if {} % {} == 0:", i, every));
                    c.line(format!("print('chk', {}, chk)", i));
                    c.close();
                }
            }
        });
        self.loops.pop();
        self.close();
    }

    fn range_loop(&mut self, trips: i64, depth: u32) {
        let i = self.fresh("i");
        let s = self.rng.range(-50, 50);
        // Every form runs exactly `trips` times (or up to it, for the data-dependent one);
        // counters stay far below INT_VAR.
        let range = match self.rng.below(6) {
            0 | 1 => format!("range({})", trips),
            2 => format!("range({}, {})", s, s + trips),
            3 => format!("range({}, {}, -1)", s + trips, s),
            4 => {
                let st = self.rng.range(2, 4);
                format!("range({}, {}, {})", s, s + trips * st, st)
            }
            _ if !self.loops.is_empty() || self.place != Place::Main => {
                let e = self.int(1);
                format!("range(({} % {}) + 1)", e.code, trips)
            }
            _ => format!("range({})", trips),
        };
        let header = format!("for {} in {}:", i, range);
        self.loop_body(header, trips, Some(i.clone()), &[(i, Ty::Int)], depth);
    }

    fn while_loop(&mut self, trips: i64, depth: u32) -> bool {
        let k = self.fresh("k");
        self.line(format!("{} = 0", k));
        self.declare(&k, Ty::Int, trips as f64, false);
        let step = format!("{} += 1", k);
        let (header, prelude) = match self.rng.below(3) {
            0 => (format!("while {} < {}:", k, trips), vec![step]),
            1 => (
                "while True:".to_string(),
                vec![step, format!("if {} > {}:", k, trips), "    break".to_string()],
            ),
            _ => {
                let c = self.cond(1);
                (format!("while {} < {} and {}:", k, trips, c), vec![step])
            }
        };
        self.loop_body_with(header, trips, Some(k), &[], &prelude, depth);
        true
    }

    fn int_list_loop(&mut self, budget: i64, depth: u32) -> bool {
        let Some(l) = self.pick_list(Ty::IntList, false) else {
            return false;
        };
        let n = l.bound as i64;
        if n > budget {
            return false;
        }
        let x = self.fresh("x");
        match self.rng.below(3) {
            0 => {
                let j = self.fresh("j");
                let header = format!("for {}, {} in enumerate({}):", j, x, l.name);
                let decls = [(j.clone(), Ty::Int), (x, Ty::Int)];
                self.loop_body(header, n, Some(j), &decls, depth);
            }
            1 => {
                let j = self.fresh("j");
                let header = format!("for {} in range(len({})):", j, l.name);
                self.loop_body(header, n, Some(j.clone()), &[(j, Ty::Int)], depth);
            }
            _ => {
                let header = format!("for {} in {}:", x, l.name);
                self.loop_body(header, n, None, &[(x, Ty::Int)], depth);
            }
        }
        true
    }

    fn opt_list_loop(&mut self, budget: i64, depth: u32) -> bool {
        let Some(l) = self.pick_list(Ty::OptList, false) else {
            return false;
        };
        if l.bound as i64 > budget {
            return false;
        }
        let x = self.fresh("x");
        let header = format!("for {} in {}:", x, l.name);
        self.loop_body(header, l.bound as i64, None, &[(x, Ty::Opt)], depth);
        true
    }

    fn pair_list_loop(&mut self, budget: i64, depth: u32) -> bool {
        let Some(l) = self.pick_list(Ty::PairList, false) else {
            return false;
        };
        if l.bound as i64 > budget {
            return false;
        }
        let (a, b) = (self.fresh("a"), self.fresh("b"));
        let header = format!("for {}, {} in {}:", a, b, l.name);
        self.loop_body(header, l.bound as i64, None, &[(a, Ty::Int), (b, Ty::Float)], depth);
        true
    }

    fn obj_list_loop(&mut self, budget: i64, depth: u32) -> bool {
        let Some(l) = self.pick_list(Ty::ObjList, false) else {
            return false;
        };
        if l.bound as i64 > budget {
            return false;
        }
        let o = self.fresh("o");
        let header = format!("for {} in {}:", o, l.name);
        self.loop_body(header, l.bound as i64, None, &[(o, Ty::Obj)], depth);
        true
    }
}
