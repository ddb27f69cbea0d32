//! # Built-in modules: `math`, `time`, `sys`, `struct`, `pylite_builtins`
//!
//! Modules are permanent [`ModuleObj`]s holding a small (name, value) table;
//! `import` binds them, `from m import x` reads one member, and member access
//! through `m.x` is cached per instruction (`IC_MODVAL`).
//!
//! `pylite_builtins` holds the two *trace blockers* of the talk's experiment:
//! `opaque_noop()` is a native function that does nothing — to a JIT it is an
//! opaque call into native code (a C extension's analogue); `opaque_call(f,
//! *args)` calls a Python function *through* a native frame, i.e. a residual
//! call the tracer must not inline (PyPy's `residual_call`).

use crate::builtins::arity;
use crate::error::ExcType;
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;
use std::sync::OnceLock;

static START: OnceLock<std::time::Instant> = OnceLock::new();

type Member = (&'static str, NativeFn);

fn add_module(vm: &mut Vm, name: &str, funcs: &[Member], values: Vec<(&str, Value)>) -> Value {
    let mut attrs = Vec::new();
    for &(n, f) in funcs {
        let v = vm.new_builtin(n, f, 0);
        attrs.push((vm.interner.intern(n), v));
    }
    for (n, v) in values {
        attrs.push((vm.interner.intern(n), v));
    }
    let p = vm.heap.alloc(ModuleObj {
        h: Header::new(Kind::Module),
        name: name.to_string(),
        attrs,
    });
    let m = Value::obj(p);
    vm.permanent.push(m);
    vm.modules.push((name.to_string(), m));
    m
}

/// Creates the built-in modules.
pub(crate) fn install(vm: &mut Vm) {
    START.get_or_init(std::time::Instant::now);
    add_module(
        vm,
        "math",
        &[
            ("isqrt", m_isqrt),
            ("gcd", m_gcd),
            ("sqrt", m_sqrt),
            ("floor", m_floor),
            ("ceil", m_ceil),
            ("fabs", m_fabs),
            ("exp", m_exp),
            ("log", m_log),
            ("sin", m_sin),
            ("cos", m_cos),
        ],
        vec![
            ("pi", Value::float(std::f64::consts::PI)),
            ("e", Value::float(std::f64::consts::E)),
            ("inf", Value::float(f64::INFINITY)),
            ("nan", Value::float(f64::NAN)),
        ],
    );
    add_module(
        vm,
        "time",
        &[("perf_counter", t_perf_counter), ("time", t_time)],
        vec![],
    );
    let argv = vm.new_list(Vec::new());
    add_module(vm, "sys", &[("exit", s_exit)], vec![("argv", argv)]);
    let err = Value::obj(vm.exc_classes[ExcType::StructError as usize]);
    add_module(
        vm,
        "struct",
        &[
            ("unpack_from", crate::structmod::unpack_from),
            ("unpack", crate::structmod::unpack),
            ("pack", crate::structmod::pack),
            ("calcsize", crate::structmod::calcsize),
        ],
        vec![("error", err)],
    );
    add_module(
        vm,
        "pylite_builtins",
        &[("opaque_noop", p_noop), ("opaque_call", p_call)],
        vec![],
    );
    refresh_argv(vm);
}

/// Rebuilds `sys.argv` from `vm.argv`.
pub(crate) fn refresh_argv(vm: &mut Vm) {
    let items: Vec<Value> = vm.argv.clone().iter().map(|a| vm.new_str(a)).collect();
    let list = vm.new_list(items);
    let sym = vm.interner.intern("argv");
    if let Some(&(_, m)) = vm.modules.iter().find(|(n, _)| n == "sys") {
        let module = cast::<ModuleObj>(m).unwrap();
        if let Some(e) = module.attrs.iter_mut().find(|(k, _)| *k == sym) {
            e.1 = list;
        }
    }
}

impl Vm {
    /// `import name`.
    pub(crate) fn import(&mut self, name: Sym) -> PyResult<Value> {
        let n = self.interner.name(name).to_string();
        match self.modules.iter().find(|(m, _)| *m == n) {
            Some(&(_, m)) => Ok(m),
            None => Err(self.err(ExcType::ModuleNotFoundError, format!("No module named '{}'", n))),
        }
    }

    /// `from module import name`.
    pub(crate) fn import_from(&mut self, module: Value, name: Sym) -> PyResult<Value> {
        let m = cast::<ModuleObj>(module).unwrap();
        match m.attrs.iter().find(|(k, _)| *k == name) {
            Some(&(_, v)) => Ok(v),
            None => {
                let msg = format!(
                    "cannot import name '{}' from '{}' (unknown location)",
                    self.interner.name(name),
                    m.name
                );
                Err(self.err(ExcType::ImportError, msg))
            }
        }
    }
}

fn num_arg(vm: &mut Vm, v: Value) -> PyResult<f64> {
    match v.as_number() {
        Some(f) => Ok(f),
        None => {
            let t = vm.type_name(v);
            Err(vm.err(ExcType::TypeError, format!("must be real number, not {}", t)))
        }
    }
}

fn m_isqrt(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "isqrt", a, 1, 1)?;
    let n = crate::builtins::int_arg(vm, a[0])?;
    if n < 0 {
        return Err(vm.err(ExcType::ValueError, "isqrt() argument must be nonnegative"));
    }
    let mut r = (n as f64).sqrt() as i64;
    while r > 0 && (r as i128) * (r as i128) > n as i128 {
        r -= 1;
    }
    while ((r + 1) as i128) * ((r + 1) as i128) <= n as i128 {
        r += 1;
    }
    Ok(Value::int(r))
}

fn m_gcd(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    let mut g: i64 = 0;
    for &v in a {
        let mut x = crate::builtins::int_arg(vm, v)?.unsigned_abs();
        let mut y = g as u64;
        while x != 0 {
            let t = y % x;
            y = x;
            x = t;
        }
        g = match i64::try_from(y) {
            Ok(v) => v,
            Err(_) => return Err(vm.overflow()),
        };
    }
    Ok(Value::int(g))
}

fn m_sqrt(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "sqrt", a, 1, 1)?;
    let x = num_arg(vm, a[0])?;
    if x < 0.0 {
        return Err(vm.err(ExcType::ValueError, "math domain error"));
    }
    Ok(Value::float(x.sqrt()))
}

fn m_floor(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "floor", a, 1, 1)?;
    if let Some(i) = a[0].as_intlike() {
        return Ok(Value::int(i));
    }
    let x = num_arg(vm, a[0])?;
    Ok(Value::int(crate::builtins::float_to_int(vm, x.floor())?))
}

fn m_ceil(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "ceil", a, 1, 1)?;
    if let Some(i) = a[0].as_intlike() {
        return Ok(Value::int(i));
    }
    let x = num_arg(vm, a[0])?;
    Ok(Value::int(crate::builtins::float_to_int(vm, x.ceil())?))
}

macro_rules! float_fn {
    ($name:ident, $py:expr, $f:expr, $domain:expr) => {
        fn $name(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
            arity(vm, $py, a, 1, 1)?;
            let x = num_arg(vm, a[0])?;
            let d: fn(f64) -> bool = $domain;
            if !d(x) {
                return Err(vm.err(ExcType::ValueError, "math domain error"));
            }
            let f: fn(f64) -> f64 = $f;
            let r = f(x);
            if r.is_infinite() && x.is_finite() {
                return Err(vm.err(ExcType::OverflowError, "math range error"));
            }
            Ok(Value::float(r))
        }
    };
}

float_fn!(m_fabs, "fabs", f64::abs, |_| true);
float_fn!(m_exp, "exp", f64::exp, |_| true);
float_fn!(m_log, "log", f64::ln, |x| x > 0.0);
float_fn!(m_sin, "sin", f64::sin, |x| x.is_finite());
float_fn!(m_cos, "cos", f64::cos, |x| x.is_finite());

fn t_perf_counter(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "perf_counter", a, 0, 0)?;
    Ok(Value::float(
        START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64(),
    ))
}

fn t_time(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "time", a, 0, 0)?;
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Value::float(d.as_secs_f64()))
}

fn s_exit(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "exit", a, 0, 1)?;
    let cls = vm.exc_classes[ExcType::SystemExit as usize];
    Err(vm.new_exception(cls, a.to_vec()))
}

/// A native no-op: an opaque call for a JIT.
fn p_noop(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "opaque_noop", a, 0, 0)?;
    Ok(Value::NONE)
}

/// Calls `f(*args)` through native code: a residual call for a JIT.
fn p_call(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    if a.is_empty() {
        return Err(vm.err(ExcType::TypeError, "opaque_call() missing the function argument"));
    }
    vm.call_value(a[0], &a[1..])
}
