//! # Built-in functions and methods of built-in types
//!
//! Each builtin is a [`NativeFn`]: it receives the VM and a slice of its
//! positional arguments (usually a window of the caller's registers — no
//! copying, no allocation for the call itself). Builtins that also act as types
//! (`int`, `float`, `str`, `tuple`, ...) carry a [`BuiltinId`]-style tag so
//! `isinstance` and `repr` can recognise them.
//!
//! Methods of built-in types (`list.append`, `str.join`, `f.read`) live in
//! `Vm::type_methods`, keyed by (kind, name); `LoadMethod` finds them and passes
//! the receiver as the first argument without allocating a bound method.

use crate::error::ExcType;
use crate::object::*;
use crate::ops::range_len;
use crate::value::*;
use crate::vm::Vm;
use std::io::Write;

/// Builtin ids (0 = ordinary function).
pub const ID_INT: u16 = 1;
pub const ID_FLOAT: u16 = 2;
pub const ID_STR: u16 = 3;
pub const ID_BOOL: u16 = 4;
pub const ID_TUPLE: u16 = 5;
pub const ID_LIST: u16 = 6;
pub const ID_BYTES: u16 = 7;
pub const ID_RANGE: u16 = 8;
pub const ID_PROPERTY: u16 = 9;
pub const ID_PRINT: u16 = 20;

/// Whether a builtin id denotes a type (for `repr` and `isinstance`).
pub fn is_type_builtin(id: u16) -> bool {
    (1..=9).contains(&id)
}

type Reg = (&'static str, NativeFn, u16);

/// Installs the builtins and the built-in type methods.
pub(crate) fn install(vm: &mut Vm) {
    let table: &[Reg] = &[
        ("abs", b_abs, 0),
        ("len", b_len, 0),
        ("int", b_int, ID_INT),
        ("float", b_float, ID_FLOAT),
        ("str", b_str, ID_STR),
        ("bool", b_bool, ID_BOOL),
        ("tuple", b_tuple, ID_TUPLE),
        ("list", b_list, ID_LIST),
        ("bytes", b_bytes, ID_BYTES),
        ("range", b_range, ID_RANGE),
        ("property", b_property, ID_PROPERTY),
        ("print", b_print, ID_PRINT),
        ("repr", b_repr, 0),
        ("isinstance", b_isinstance, 0),
        ("min", b_min, 0),
        ("max", b_max, 0),
        ("sum", b_sum, 0),
        ("round", b_round, 0),
        ("divmod", b_divmod, 0),
        ("iter", b_iter, 0),
        ("next", b_next, 0),
        ("chr", b_chr, 0),
        ("ord", b_ord, 0),
        ("sorted", b_sorted, 0),
        ("enumerate", b_enumerate, 0),
        ("zip", b_zip, 0),
        ("open", crate::fileio::b_open, 0),
    ];
    for &(name, f, id) in table {
        let v = vm.new_builtin(name, f, id);
        vm.builtins.insert(name, v);
    }
    let methods: &[(Kind, &'static str, NativeFn)] = &[
        (Kind::List, "append", m_list_append),
        (Kind::List, "pop", m_list_pop),
        (Kind::List, "extend", m_list_extend),
        (Kind::List, "insert", m_list_insert),
        (Kind::List, "index", m_seq_index),
        (Kind::Tuple, "index", m_seq_index),
        (Kind::List, "reverse", m_list_reverse),
        (Kind::Str, "join", m_str_join),
        (Kind::Str, "split", m_str_split),
        (Kind::Str, "strip", m_str_strip),
        (Kind::Str, "upper", m_str_upper),
        (Kind::Str, "lower", m_str_lower),
        (Kind::Str, "startswith", m_str_startswith),
        (Kind::Str, "endswith", m_str_endswith),
        (Kind::Str, "replace", m_str_replace),
        (Kind::File, "read", crate::fileio::m_read),
        (Kind::File, "write", crate::fileio::m_write),
        (Kind::File, "close", crate::fileio::m_close),
    ];
    for &(k, name, f) in methods {
        let v = vm.new_builtin(name, f, 0);
        let s = vm.interner.intern(name);
        vm.type_methods.insert((k, s), v);
    }
}

/// Checks the argument count of a builtin (inlined: the check is on every builtin
/// call, compiled code's residual calls included; the message is built out of line).
#[inline]
pub(crate) fn arity(vm: &mut Vm, name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    if args.len() < min || args.len() > max {
        return Err(arity_error(vm, name, args, min, max));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn arity_error(vm: &mut Vm, name: &str, args: &[Value], min: usize, max: usize) -> Value {
    let msg = if min == max {
        format!(
            "{}() takes exactly {} argument{} ({} given)",
            name,
            min,
            if min == 1 { "" } else { "s" },
            args.len()
        )
    } else if args.len() < min {
        format!(
            "{}() takes at least {} argument{} ({} given)",
            name,
            min,
            if min == 1 { "" } else { "s" },
            args.len()
        )
    } else {
        format!("{}() takes at most {} arguments ({} given)", name, max, args.len())
    };
    vm.err(ExcType::TypeError, msg)
}

/// An int argument or a TypeError.
pub(crate) fn int_arg(vm: &mut Vm, v: Value) -> PyResult<i64> {
    match v.as_intlike() {
        Some(i) => Ok(i),
        None => {
            let t = vm.type_name(v);
            Err(vm.err(
                ExcType::TypeError,
                format!("'{}' object cannot be interpreted as an integer", t),
            ))
        }
    }
}

fn b_abs(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "abs", a, 1, 1)?;
    let v = a[0];
    match v.tag {
        TAG_FLOAT => Ok(Value::float(v.as_float().abs())),
        TAG_INT | TAG_BOOL => match v.as_intlike().unwrap().checked_abs() {
            Some(x) => Ok(Value::int(x)),
            None => Err(vm.overflow()),
        },
        _ => {
            let t = vm.type_name(v);
            Err(vm.err(ExcType::TypeError, format!("bad operand type for abs(): '{}'", t)))
        }
    }
}

fn b_len(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "len", a, 1, 1)?;
    match vm.len_of(a[0]) {
        Some(n) => Ok(Value::int(n as i64)),
        None => {
            let t = vm.type_name(a[0]);
            Err(vm.err(ExcType::TypeError, format!("object of type '{}' has no len()", t)))
        }
    }
}

pub(crate) fn float_to_int(vm: &mut Vm, f: f64) -> PyResult<i64> {
    if f.is_nan() {
        return Err(vm.err(ExcType::ValueError, "cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(vm.err(ExcType::OverflowError, "cannot convert float infinity to integer"));
    }
    let t = f.trunc();
    if !(-crate::ops::TWO_POW_63..crate::ops::TWO_POW_63).contains(&t) {
        return Err(vm.overflow());
    }
    Ok(t as i64)
}

fn b_int(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "int", a, 0, 2)?;
    if a.is_empty() {
        return Ok(Value::int(0));
    }
    let v = a[0];
    if a.len() == 2 && !v.is_kind(Kind::Str) {
        return Err(vm.err(ExcType::TypeError, "int() can't convert non-string with explicit base"));
    }
    match v.tag {
        TAG_INT | TAG_BOOL => Ok(Value::int(v.as_intlike().unwrap())),
        TAG_FLOAT => Ok(Value::int(float_to_int(vm, v.as_float())?)),
        _ => {
            if let Some(s) = as_str(v) {
                let base = if a.len() == 2 { int_arg(vm, a[1])? } else { 10 };
                let t = s.trim().replace('_', "");
                let (neg, digits) = match t.strip_prefix('-') {
                    Some(r) => (true, r),
                    None => (false, t.strip_prefix('+').unwrap_or(&t)),
                };
                let digits = if base == 16 {
                    digits.trim_start_matches("0x").trim_start_matches("0X")
                } else {
                    digits
                };
                let parsed = if (2..=36).contains(&base) && !digits.is_empty() {
                    i64::from_str_radix(digits, base as u32).ok()
                } else {
                    None
                };
                return match parsed {
                    Some(x) => Ok(Value::int(if neg { -x } else { x })),
                    None => {
                        let r = crate::format::str_repr(s);
                        Err(vm.err(
                            ExcType::ValueError,
                            format!("invalid literal for int() with base {}: {}", base, r),
                        ))
                    }
                };
            }
            let t = vm.type_name(v);
            Err(vm.err(
                ExcType::TypeError,
                format!(
                    "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                    t
                ),
            ))
        }
    }
}

fn b_float(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "float", a, 0, 1)?;
    if a.is_empty() {
        return Ok(Value::float(0.0));
    }
    let v = a[0];
    if let Some(f) = v.as_number() {
        return Ok(Value::float(f));
    }
    if let Some(s) = as_str(v) {
        let t = s.trim().replace('_', "").to_ascii_lowercase();
        let parsed = match t.as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
            "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
            "nan" | "+nan" | "-nan" => Some(f64::NAN),
            _ if t.chars().all(|c| c.is_ascii_digit() || "+-.e".contains(c)) => t.parse::<f64>().ok(),
            _ => None,
        };
        return match parsed {
            Some(f) => Ok(Value::float(f)),
            None => {
                let r = crate::format::str_repr(s);
                Err(vm.err(ExcType::ValueError, format!("could not convert string to float: {}", r)))
            }
        };
    }
    let t = vm.type_name(v);
    Err(vm.err(
        ExcType::TypeError,
        format!("float() argument must be a string or a real number, not '{}'", t),
    ))
}

fn b_str(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "str", a, 0, 1)?;
    if a.is_empty() {
        return Ok(vm.new_str(""));
    }
    if a[0].is_kind(Kind::Str) {
        return Ok(a[0]);
    }
    let s = vm.to_str_checked(a[0])?;
    Ok(vm.new_string(s))
}

fn b_repr(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "repr", a, 1, 1)?;
    let s = vm.repr_checked(a[0])?;
    Ok(vm.new_string(s))
}

fn b_bool(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "bool", a, 0, 1)?;
    Ok(Value::bool(!a.is_empty() && vm.truthy(a[0])))
}

fn b_tuple(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "tuple", a, 0, 1)?;
    if a.is_empty() {
        return Ok(vm.new_tuple(Vec::new()));
    }
    if a[0].is_kind(Kind::Tuple) {
        return Ok(a[0]);
    }
    let items = vm.collect_iterable(a[0])?;
    Ok(vm.new_tuple(items))
}

fn b_list(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "list", a, 0, 1)?;
    let items = if a.is_empty() {
        Vec::new()
    } else {
        vm.collect_iterable(a[0])?
    };
    Ok(vm.new_list(items))
}

fn b_bytes(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "bytes", a, 0, 1)?;
    if a.is_empty() {
        return Ok(vm.new_bytes(Vec::new()));
    }
    if let Some(n) = a[0].as_intlike() {
        if n < 0 {
            return Err(vm.err(ExcType::ValueError, "negative count"));
        }
        return Ok(vm.new_bytes(vec![0; n as usize]));
    }
    if a[0].is_kind(Kind::Bytes) {
        return Ok(a[0]);
    }
    if a[0].is_kind(Kind::Str) {
        return Err(vm.err(ExcType::TypeError, "string argument without an encoding"));
    }
    let items = vm.collect_iterable(a[0])?;
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        match v.as_intlike() {
            Some(b @ 0..=255) => out.push(b as u8),
            Some(_) => return Err(vm.err(ExcType::ValueError, "bytes must be in range(0, 256)")),
            None => {
                let t = vm.type_name(v);
                return Err(vm.err(
                    ExcType::TypeError,
                    format!("'{}' object cannot be interpreted as an integer", t),
                ));
            }
        }
    }
    Ok(vm.new_bytes(out))
}

fn b_range(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "range", a, 1, 3)?;
    let mut n = [0i64, 0, 1];
    for (i, v) in a.iter().enumerate() {
        n[i] = int_arg(vm, *v)?;
    }
    let (start, stop, step) = if a.len() == 1 { (0, n[0], 1) } else { (n[0], n[1], n[2]) };
    if step == 0 {
        return Err(vm.err(ExcType::ValueError, "range() arg 3 must not be zero"));
    }
    let p = vm.heap.alloc(RangeObj {
        h: Header::new(Kind::Range),
        start,
        stop,
        step,
    });
    Ok(Value::obj(p))
}

fn b_property(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "property", a, 1, 1)?;
    let p = vm.heap.alloc(PropertyObj {
        h: Header::new(Kind::Property),
        getter: a[0],
    });
    Ok(Value::obj(p))
}

fn write_out(vm: &mut Vm, s: &str) -> PyResult<()> {
    if vm.out.write_all(s.as_bytes()).is_err() {
        return Err(vm.err(ExcType::OSError, "write to stdout failed"));
    }
    Ok(())
}

fn b_print(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    print_kw(vm, a, &[], &[])
}

/// `print(*args, sep=..., end=..., flush=...)`.
pub(crate) fn print_kw(vm: &mut Vm, a: &[Value], names: &[Sym], vals: &[Value]) -> PyResult<Value> {
    let mut sep = " ".to_string();
    let mut end = "\n".to_string();
    for (n, v) in names.iter().zip(vals) {
        let name = vm.interner.name(*n).to_string();
        let s = if v.is_none() {
            None
        } else {
            as_str(*v).map(|s| s.to_string())
        };
        match (name.as_str(), s) {
            ("sep", Some(s)) => sep = s,
            ("end", Some(s)) => end = s,
            ("sep", None) | ("end", None) if v.is_none() => {}
            ("flush", _) => {}
            ("sep", None) | ("end", None) => {
                let t = vm.type_name(*v);
                return Err(vm.err(
                    ExcType::TypeError,
                    format!("{} must be None or a string, not {}", name, t),
                ));
            }
            _ => {
                return Err(vm.err(
                    ExcType::TypeError,
                    format!("'{}' is an invalid keyword argument for print()", name),
                ))
            }
        }
    }
    let mut line = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            line.push_str(&sep);
        }
        match v.tag {
            TAG_INT => line.push_str(&v.as_int().to_string()),
            _ => match as_str(*v) {
                Some(s) => line.push_str(s),
                None => {
                    let s = vm.to_str_checked(*v)?;
                    line.push_str(&s)
                }
            },
        }
    }
    line.push_str(&end);
    write_out(vm, &line)?;
    Ok(Value::NONE)
}

fn isinstance_one(vm: &mut Vm, v: Value, t: Value) -> PyResult<bool> {
    if let Some(c) = cast::<ClassObj>(t) {
        let c = c as *mut ClassObj;
        return Ok(class_of(v).is_some_and(|vc| vm.class_derives(vc, c)));
    }
    if let Some(b) = cast::<BuiltinObj>(t) {
        let k = v.kind();
        return Ok(match b.id {
            ID_INT => v.tag == TAG_INT || v.tag == TAG_BOOL,
            ID_FLOAT => v.tag == TAG_FLOAT,
            ID_BOOL => v.tag == TAG_BOOL,
            ID_STR => k == Some(Kind::Str),
            ID_TUPLE => k == Some(Kind::Tuple),
            ID_LIST => k == Some(Kind::List),
            ID_BYTES => k == Some(Kind::Bytes),
            ID_RANGE => k == Some(Kind::Range),
            ID_PROPERTY => k == Some(Kind::Property),
            _ => {
                return Err(vm.err(
                    ExcType::TypeError,
                    "isinstance() arg 2 must be a type, a tuple of types, or a union",
                ))
            }
        });
    }
    if t.is_kind(Kind::Tuple) {
        for x in as_seq(t).unwrap().to_vec() {
            if isinstance_one(vm, v, x)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    Err(vm.err(
        ExcType::TypeError,
        "isinstance() arg 2 must be a type, a tuple of types, or a union",
    ))
}

fn b_isinstance(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "isinstance", a, 2, 2)?;
    Ok(Value::bool(isinstance_one(vm, a[0], a[1])?))
}

fn min_max(vm: &mut Vm, a: &[Value], name: &str, want: crate::ast::CmpOp) -> PyResult<Value> {
    if a.is_empty() {
        return Err(vm.err(
            ExcType::TypeError,
            format!("{} expected at least 1 argument, got 0", name),
        ));
    }
    let items = if a.len() == 1 {
        vm.collect_iterable(a[0])?
    } else {
        a.to_vec()
    };
    let Some(mut best) = items.first().copied() else {
        return Err(vm.err(ExcType::ValueError, format!("{}() arg is an empty sequence", name)));
    };
    for &x in &items[1..] {
        if vm.compare(want, x, best)? {
            best = x;
        }
    }
    Ok(best)
}

fn b_min(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    min_max(vm, a, "min", crate::ast::CmpOp::Lt)
}

fn b_max(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    min_max(vm, a, "max", crate::ast::CmpOp::Gt)
}

fn b_sum(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "sum", a, 1, 2)?;
    let items = vm.collect_iterable(a[0])?;
    let mut acc = if a.len() == 2 { a[1] } else { Value::int(0) };
    for x in items {
        acc = vm.binary(crate::ops::Arith::Add, acc, x)?;
    }
    Ok(acc)
}

fn b_round(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "round", a, 1, 2)?;
    let v = a[0];
    let nd = if a.len() == 2 && !a[1].is_none() {
        Some(int_arg(vm, a[1])?)
    } else {
        None
    };
    if let Some(i) = v.as_intlike() {
        return Ok(Value::int(i));
    }
    let Some(f) = v.as_number() else {
        let t = vm.type_name(v);
        return Err(vm.err(
            ExcType::TypeError,
            format!("type {} doesn't define __round__ method", t),
        ));
    };
    match nd {
        None => {
            let r = f.round_ties_even();
            Ok(Value::int(float_to_int(vm, r)?))
        }
        Some(n) if (0..=300).contains(&n) => {
            let s = format!("{:.*}", n as usize, f);
            Ok(Value::float(s.parse().unwrap_or(f)))
        }
        Some(n) => {
            let p = 10f64.powi(-n as i32);
            Ok(Value::float((f / p).round_ties_even() * p))
        }
    }
}

fn b_divmod(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "divmod", a, 2, 2)?;
    let q = vm.binary(crate::ops::Arith::FloorDiv, a[0], a[1])?;
    let r = vm.binary(crate::ops::Arith::Mod, a[0], a[1])?;
    Ok(vm.new_tuple(vec![q, r]))
}

fn b_iter(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "iter", a, 1, 1)?;
    vm.get_iter(a[0])
}

fn b_next(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "next", a, 1, 2)?;
    match vm.iter_next(a[0])? {
        Some(v) => Ok(v),
        None if a.len() == 2 => Ok(a[1]),
        None => Err(vm.err(ExcType::StopIteration, "")),
    }
}

fn b_chr(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "chr", a, 1, 1)?;
    let i = int_arg(vm, a[0])?;
    match u32::try_from(i).ok().and_then(char::from_u32) {
        Some(c) => Ok(vm.new_string(c.to_string())),
        None => Err(vm.err(ExcType::ValueError, "chr() arg not in range(0x110000)")),
    }
}

fn b_ord(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "ord", a, 1, 1)?;
    if let Some(s) = as_str(a[0]) {
        let mut it = s.chars();
        if let (Some(c), None) = (it.next(), it.next()) {
            return Ok(Value::int(c as i64));
        }
        let n = s.chars().count();
        return Err(vm.err(
            ExcType::TypeError,
            format!("ord() expected a character, but string of length {} found", n),
        ));
    }
    let t = vm.type_name(a[0]);
    Err(vm.err(
        ExcType::TypeError,
        format!("ord() expected string of length 1, but {} found", t),
    ))
}

fn b_sorted(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "sorted", a, 1, 1)?;
    let mut items = vm.collect_iterable(a[0])?;
    // Insertion-merge sort that can report comparison errors (stable, like Python's).
    let mut err = None;
    items.sort_by(|x, y| {
        if err.is_some() {
            return std::cmp::Ordering::Equal;
        }
        match vm.compare(crate::ast::CmpOp::Lt, *y, *x) {
            Ok(true) => std::cmp::Ordering::Greater,
            Ok(false) => match vm.compare(crate::ast::CmpOp::Lt, *x, *y) {
                Ok(true) => std::cmp::Ordering::Less,
                Ok(false) => std::cmp::Ordering::Equal,
                Err(e) => {
                    err = Some(e);
                    std::cmp::Ordering::Equal
                }
            },
            Err(e) => {
                err = Some(e);
                std::cmp::Ordering::Equal
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(vm.new_list(items))
}

fn seq_iter_over(vm: &mut Vm, items: Vec<Value>) -> PyResult<Value> {
    let l = vm.new_list(items);
    vm.get_iter(l)
}

fn b_enumerate(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "enumerate", a, 1, 2)?;
    let start = if a.len() == 2 { int_arg(vm, a[1])? } else { 0 };
    let items = vm.collect_iterable(a[0])?;
    let l = vm.new_list(Vec::new());
    vm.temp_roots.push(l);
    for (i, x) in items.into_iter().enumerate() {
        let t = vm.new_tuple(vec![Value::int(start + i as i64), x]);
        cast::<ListObj>(l).unwrap().items.push(t);
    }
    vm.temp_roots.pop();
    vm.get_iter(l)
}

fn b_zip(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    let mut cols = Vec::new();
    for &x in a {
        cols.push(vm.collect_iterable(x)?);
    }
    let n = cols.iter().map(|c| c.len()).min().unwrap_or(0);
    let rows: Vec<Value> = (0..n)
        .map(|i| cols.iter().map(|c| c[i]).collect::<Vec<_>>())
        .map(|r| vm.new_tuple(r))
        .collect();
    seq_iter_over(vm, rows)
}

// ---------------------------------------------------------------------- methods

fn list_of<'a>(v: Value) -> &'a mut ListObj {
    cast::<ListObj>(v).expect("list method on a list")
}

fn m_list_append(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "append", &a[1..], 1, 1)?;
    list_of(a[0]).items.push(a[1]);
    vm.heap.account(16);
    Ok(Value::NONE)
}

fn m_list_pop(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "pop", &a[1..], 0, 1)?;
    let l = list_of(a[0]);
    let len = l.items.len() as i64;
    if len == 0 {
        return Err(vm.err(ExcType::IndexError, "pop from empty list"));
    }
    let i = if a.len() == 2 { int_arg(vm, a[1])? } else { -1 };
    let j = if i < 0 { i + len } else { i };
    if j < 0 || j >= len {
        return Err(vm.err(ExcType::IndexError, "pop index out of range"));
    }
    Ok(l.items.with_vec(|v| v.remove(j as usize)))
}

fn m_list_extend(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "extend", &a[1..], 1, 1)?;
    let items = vm.collect_iterable(a[1])?;
    vm.heap.account(16 * items.len());
    list_of(a[0]).items.with_vec(|v| v.extend(items));
    Ok(Value::NONE)
}

fn m_list_insert(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "insert", &a[1..], 2, 2)?;
    let i = int_arg(vm, a[1])?;
    let l = list_of(a[0]);
    let len = l.items.len() as i64;
    let j = if i < 0 { (i + len).max(0) } else { i.min(len) };
    l.items.with_vec(|v| v.insert(j as usize, a[2]));
    Ok(Value::NONE)
}

fn m_seq_index(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "index", &a[1..], 1, 1)?;
    let items = as_seq(a[0]).unwrap().to_vec();
    for (i, x) in items.iter().enumerate() {
        if vm.equals_checked(*x, a[1])? {
            return Ok(Value::int(i as i64));
        }
    }
    let r = vm.repr_checked(a[1])?;
    let what = if a[0].is_kind(Kind::List) {
        format!("{} is not in list", r)
    } else {
        "tuple.index(x): x not in tuple".into()
    };
    Err(vm.err(ExcType::ValueError, what))
}

fn m_list_reverse(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "reverse", &a[1..], 0, 0)?;
    list_of(a[0]).items.as_mut_slice().reverse();
    Ok(Value::NONE)
}

fn str_arg<'a>(vm: &mut Vm, v: Value, what: &str) -> PyResult<&'a str> {
    match as_str(v) {
        Some(s) => Ok(s),
        None => {
            let t = vm.type_name(v);
            Err(vm.err(ExcType::TypeError, format!("{} must be str, not {}", what, t)))
        }
    }
}

fn m_str_join(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "join", &a[1..], 1, 1)?;
    let sep = as_str(a[0]).unwrap().to_string();
    let items = vm.collect_iterable(a[1])?;
    let mut parts = Vec::with_capacity(items.len());
    for (i, x) in items.iter().enumerate() {
        match as_str(*x) {
            Some(s) => parts.push(s.to_string()),
            None => {
                let t = vm.type_name(*x);
                return Err(vm.err(
                    ExcType::TypeError,
                    format!("sequence item {}: expected str instance, {} found", i, t),
                ));
            }
        }
    }
    Ok(vm.new_string(parts.join(&sep)))
}

fn m_str_split(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "split", &a[1..], 0, 1)?;
    let s = as_str(a[0]).unwrap();
    let parts: Vec<String> = if a.len() == 1 || a[1].is_none() {
        s.split_whitespace().map(str::to_string).collect()
    } else {
        let sep = str_arg(vm, a[1], "separator")?;
        if sep.is_empty() {
            return Err(vm.err(ExcType::ValueError, "empty separator"));
        }
        s.split(sep).map(str::to_string).collect()
    };
    let vals = parts.into_iter().map(|p| vm.new_string(p)).collect();
    Ok(vm.new_list(vals))
}

fn m_str_strip(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "strip", &a[1..], 0, 0)?;
    let s = as_str(a[0]).unwrap().trim().to_string();
    Ok(vm.new_string(s))
}

fn m_str_upper(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    let s = as_str(a[0]).unwrap().to_uppercase();
    Ok(vm.new_string(s))
}

fn m_str_lower(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    let s = as_str(a[0]).unwrap().to_lowercase();
    Ok(vm.new_string(s))
}

fn m_str_startswith(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "startswith", &a[1..], 1, 1)?;
    let p = str_arg(vm, a[1], "startswith arg")?;
    Ok(Value::bool(as_str(a[0]).unwrap().starts_with(p)))
}

fn m_str_endswith(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "endswith", &a[1..], 1, 1)?;
    let p = str_arg(vm, a[1], "endswith arg")?;
    Ok(Value::bool(as_str(a[0]).unwrap().ends_with(p)))
}

fn m_str_replace(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "replace", &a[1..], 2, 2)?;
    let from = str_arg(vm, a[1], "replace arg 1")?;
    let to = str_arg(vm, a[2], "replace arg 2")?;
    let s = as_str(a[0]).unwrap().replace(from, to);
    Ok(vm.new_string(s))
}

/// Number of elements of a range object (used by `len`).
pub fn range_length(r: &RangeObj) -> i64 {
    range_len(r.start, r.stop, r.step)
}
