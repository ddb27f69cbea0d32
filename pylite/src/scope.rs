//! # Scope analysis
//!
//! Python decides at compile time which names are local to a function: every
//! name bound anywhere in its body (assignment, `for` target, `def`, `class`,
//! `import`, `except ... as`, `with ... as`) unless declared `global`. This module
//! walks a body once (not descending into nested `def`/`class` bodies, whose
//! names alone are bindings) and reports the locals in first-binding order, the
//! `global` declarations and whether the body contains `yield`.
//!
//! It also computes a class's *shape*: the attribute names assigned through the
//! first parameter of its methods (`self.x = ...`), `__init__` first, which
//! become the fixed instance slots; and it collects the literal constants of a
//! body so the compiler can give them register slots before compiling.

use crate::ast::*;

/// What a function body binds.
#[derive(Default, Debug)]
pub struct ScopeInfo {
    pub locals: Vec<String>,
    pub globals: Vec<String>,
    pub is_generator: bool,
}

impl ScopeInfo {
    fn bind(&mut self, n: &str) {
        if !self.locals.iter().any(|l| l == n) {
            self.locals.push(n.to_string());
        }
    }
}

/// Analyses a function body with the given parameters.
pub fn analyze_function(params: &[String], body: &[Stmt]) -> ScopeInfo {
    let mut s = ScopeInfo::default();
    for p in params {
        s.bind(p);
    }
    stmts(body, &mut s);
    let globals = s.globals.clone();
    s.locals.retain(|l| !globals.contains(l));
    s
}

/// Whether a module binds `name` anywhere at top level or in a `global` scope
/// (used to decide whether `range` can be specialised).
pub fn module_binds(body: &[Stmt], name: &str) -> bool {
    let mut s = ScopeInfo::default();
    stmts(body, &mut s);
    s.locals.iter().any(|l| l == name) || binds_anywhere(body, name)
}

fn binds_anywhere(body: &[Stmt], name: &str) -> bool {
    body.iter().any(|st| match &st.kind {
        StmtKind::Def(f) => f.name == name || binds_anywhere(&f.body, name),
        StmtKind::Class(c) => c.name == name || binds_anywhere(&c.body, name),
        StmtKind::Global(ns) => ns.iter().any(|n| n == name),
        StmtKind::If(arms, e) => {
            arms.iter().any(|a| binds_anywhere(&a.1, name)) || e.as_ref().is_some_and(|b| binds_anywhere(b, name))
        }
        StmtKind::While(_, b, e) | StmtKind::For(_, _, b, e) => {
            binds_anywhere(b, name) || e.as_ref().is_some_and(|b| binds_anywhere(b, name))
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            binds_anywhere(body, name)
                || handlers.iter().any(|h| binds_anywhere(&h.body, name))
                || orelse.as_ref().is_some_and(|b| binds_anywhere(b, name))
                || finally.as_ref().is_some_and(|b| binds_anywhere(b, name))
        }
        StmtKind::With(_, _, b) => binds_anywhere(b, name),
        _ => false,
    })
}

fn target(e: &Expr, s: &mut ScopeInfo) {
    match &e.kind {
        ExprKind::Name(n) => s.bind(n),
        ExprKind::Tuple(items) | ExprKind::List(items) => items.iter().for_each(|i| target(i, s)),
        _ => {}
    }
}

fn stmts(body: &[Stmt], s: &mut ScopeInfo) {
    for st in body {
        stmt(st, s);
    }
}

fn stmt(st: &Stmt, s: &mut ScopeInfo) {
    match &st.kind {
        StmtKind::Expr(e) => expr(e, s),
        StmtKind::Assign(ts, v) => {
            ts.iter().for_each(|t| {
                target(t, s);
                expr(t, s)
            });
            expr(v, s);
        }
        StmtKind::AugAssign(t, _, v) => {
            target(t, s);
            expr(t, s);
            expr(v, s);
        }
        StmtKind::Return(Some(e)) | StmtKind::Raise(Some(e)) => expr(e, s),
        StmtKind::Global(ns) => s.globals.extend(ns.iter().cloned()),
        StmtKind::Import(ms) => {
            for (m, alias) in ms {
                s.bind(alias.as_deref().unwrap_or_else(|| m.split('.').next().unwrap()));
            }
        }
        StmtKind::ImportFrom(_, ns) => {
            for (n, alias) in ns {
                s.bind(alias.as_deref().unwrap_or(n));
            }
        }
        StmtKind::Assert(c, m) => {
            expr(c, s);
            if let Some(m) = m {
                expr(m, s)
            }
        }
        StmtKind::If(arms, orelse) => {
            for (c, b) in arms {
                expr(c, s);
                stmts(b, s);
            }
            if let Some(b) = orelse {
                stmts(b, s)
            }
        }
        StmtKind::While(c, b, e) => {
            expr(c, s);
            stmts(b, s);
            if let Some(b) = e {
                stmts(b, s)
            }
        }
        StmtKind::For(t, it, b, e) => {
            target(t, s);
            expr(it, s);
            stmts(b, s);
            if let Some(b) = e {
                stmts(b, s)
            }
        }
        StmtKind::Def(f) => {
            f.defaults.iter().chain(f.decorators.iter()).for_each(|e| expr(e, s));
            s.bind(&f.name);
        }
        StmtKind::Class(c) => {
            if let Some(b) = &c.base {
                expr(b, s)
            }
            s.bind(&c.name);
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            stmts(body, s);
            for h in handlers {
                if let Some(t) = &h.ty {
                    expr(t, s)
                }
                if let Some(n) = &h.name {
                    s.bind(n)
                }
                stmts(&h.body, s);
            }
            if let Some(b) = orelse {
                stmts(b, s)
            }
            if let Some(b) = finally {
                stmts(b, s)
            }
        }
        StmtKind::With(c, t, b) => {
            expr(c, s);
            if let Some(t) = t {
                target(t, s)
            }
            stmts(b, s);
        }
        _ => {}
    }
}

/// Visits every sub-expression (not entering nested scopes).
pub fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::FString(parts) => {
            for p in parts {
                if let FPart::Expr(x, _, _) = p {
                    walk_expr(x, f)
                }
            }
        }
        ExprKind::Tuple(v) | ExprKind::List(v) => v.iter().for_each(|x| walk_expr(x, f)),
        ExprKind::Bin(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Subscript(a, b) => {
            walk_expr(a, f);
            walk_expr(b, f)
        }
        ExprKind::Unary(_, a) | ExprKind::Attr(a, _) => walk_expr(a, f),
        ExprKind::Compare(a, rest) => {
            walk_expr(a, f);
            rest.iter().for_each(|(_, x)| walk_expr(x, f))
        }
        ExprKind::Call {
            func,
            args,
            star,
            kwargs,
        } => {
            walk_expr(func, f);
            args.iter().for_each(|x| walk_expr(x, f));
            if let Some(s) = star {
                walk_expr(s, f)
            }
            kwargs.iter().for_each(|(_, x)| walk_expr(x, f));
        }
        ExprKind::Slice(o, lo, hi) => {
            walk_expr(o, f);
            if let Some(x) = lo {
                walk_expr(x, f)
            }
            if let Some(x) = hi {
                walk_expr(x, f)
            }
        }
        ExprKind::IfExp(c, a, b) => {
            walk_expr(c, f);
            walk_expr(a, f);
            walk_expr(b, f)
        }
        ExprKind::Yield(Some(v)) => walk_expr(v, f),
        ExprKind::ListComp {
            elt,
            target,
            iter,
            conds,
        } => {
            walk_expr(elt, f);
            walk_expr(target, f);
            walk_expr(iter, f);
            conds.iter().for_each(|x| walk_expr(x, f))
        }
        _ => {}
    }
}

fn expr(e: &Expr, s: &mut ScopeInfo) {
    walk_expr(e, &mut |x| {
        if let ExprKind::Yield(_) = x.kind {
            s.is_generator = true
        }
    });
}

/// Visits every statement of a body, descending into blocks but not nested scopes.
pub fn walk_stmts(body: &[Stmt], f: &mut dyn FnMut(&Stmt)) {
    for st in body {
        f(st);
        match &st.kind {
            StmtKind::If(arms, e) => {
                arms.iter().for_each(|a| walk_stmts(&a.1, f));
                if let Some(b) = e {
                    walk_stmts(b, f)
                }
            }
            StmtKind::While(_, b, e) | StmtKind::For(_, _, b, e) => {
                walk_stmts(b, f);
                if let Some(b) = e {
                    walk_stmts(b, f)
                }
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                walk_stmts(body, f);
                handlers.iter().for_each(|h| walk_stmts(&h.body, f));
                if let Some(b) = orelse {
                    walk_stmts(b, f)
                }
                if let Some(b) = finally {
                    walk_stmts(b, f)
                }
            }
            StmtKind::With(_, _, b) => walk_stmts(b, f),
            _ => {}
        }
    }
}

/// The attribute names a class assigns through `self` in its methods (`__init__` first).
pub fn class_slots(body: &[Stmt]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut defs: Vec<&FuncDef> = body
        .iter()
        .filter_map(|s| {
            if let StmtKind::Def(f) = &s.kind {
                Some(&**f)
            } else {
                None
            }
        })
        .collect();
    defs.sort_by_key(|f| f.name != "__init__");
    for f in defs {
        let Some(me) = f.params.first() else { continue };
        let mut add = |t: &Expr| {
            let mut stack = vec![t];
            while let Some(t) = stack.pop() {
                match &t.kind {
                    ExprKind::Attr(o, n) if matches!(&o.kind, ExprKind::Name(x) if x == me) && !out.contains(n) => {
                        out.push(n.clone())
                    }
                    ExprKind::Tuple(items) | ExprKind::List(items) => stack.extend(items.iter().rev()),
                    _ => {}
                }
            }
        };
        walk_stmts(&f.body, &mut |st| match &st.kind {
            StmtKind::Assign(ts, _) => ts.iter().for_each(&mut add),
            StmtKind::AugAssign(t, _, _) => add(t),
            StmtKind::For(t, ..) => add(t),
            _ => {}
        });
    }
    out
}

/// A literal constant, as a hashable key.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ConstKey {
    None,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
    Bytes(Vec<u8>),
}

impl ConstKey {
    /// The constant of a literal expression, if it is one.
    pub fn of(e: &Expr) -> Option<ConstKey> {
        Some(match &e.kind {
            ExprKind::NoneLit => ConstKey::None,
            ExprKind::Bool(b) => ConstKey::Bool(*b),
            ExprKind::Int(i) => ConstKey::Int(*i),
            ExprKind::Float(f) => ConstKey::Float(f.to_bits()),
            ExprKind::Str(s) => ConstKey::Str(s.clone()),
            ExprKind::Bytes(b) => ConstKey::Bytes(b.clone()),
            _ => return None,
        })
    }
}

/// The literal constants used by a body, in first-use order (not entering nested scopes).
pub fn collect_consts(body: &[Stmt]) -> Vec<ConstKey> {
    let mut out: Vec<ConstKey> = vec![ConstKey::None];
    let add_expr = |e: &Expr, out: &mut Vec<ConstKey>| {
        walk_expr(e, &mut |x| {
            if let Some(k) = ConstKey::of(x) {
                if !out.contains(&k) {
                    out.push(k)
                }
            }
        })
    };
    walk_stmts(body, &mut |st| match &st.kind {
        StmtKind::Expr(e) | StmtKind::Return(Some(e)) | StmtKind::Raise(Some(e)) => add_expr(e, &mut out),
        StmtKind::Assign(ts, v) => {
            ts.iter().for_each(|t| add_expr(t, &mut out));
            add_expr(v, &mut out)
        }
        StmtKind::AugAssign(t, _, v) => {
            add_expr(t, &mut out);
            add_expr(v, &mut out)
        }
        StmtKind::Assert(c, m) => {
            add_expr(c, &mut out);
            if let Some(m) = m {
                add_expr(m, &mut out)
            }
        }
        StmtKind::If(arms, _) => arms.iter().for_each(|a| add_expr(&a.0, &mut out)),
        StmtKind::While(c, _, _) => add_expr(c, &mut out),
        StmtKind::For(t, it, _, _) => {
            add_expr(t, &mut out);
            add_expr(it, &mut out)
        }
        StmtKind::With(c, _, _) => add_expr(c, &mut out),
        _ => {}
    });
    out
}
