//! # Operator semantics (the slow paths)
//!
//! The dispatch loop handles `int op int` and `float op float` inline; every
//! other combination lands here: mixed int/float (bools count as ints), sequence
//! concatenation and repetition, `str % args`, comparisons of strings, bytes,
//! tuples and lists, membership, indexing and slicing, truthiness, and the exact
//! Python error messages for everything else. Ints are 64-bit: any result that
//! does not fit raises `OverflowError` instead of wrapping.

use crate::ast::CmpOp;
use crate::error::ExcType;
use crate::object::*;
use crate::value::*;
use crate::vm::Vm;
use std::cmp::Ordering;

/// 2^63 as an `f64` (exact): the first float past `i64::MAX`, and `-TWO_POW_63` is
/// `i64::MIN`.
pub(crate) const TWO_POW_63: f64 = (1u64 << 63) as f64;

/// The arithmetic operators handled here.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Shl,
    Shr,
    And,
    Or,
    Xor,
}

impl Arith {
    fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::FloorDiv => "//",
            Arith::Mod => "%",
            Arith::Pow => "** or pow()",
            Arith::Shl => "<<",
            Arith::Shr => ">>",
            Arith::And => "&",
            Arith::Or => "|",
            Arith::Xor => "^",
        }
    }
}

/// Python's float floor division and modulo.
pub fn float_divmod(vx: f64, wx: f64) -> (f64, f64) {
    let mut m = vx % wx;
    let mut div = (vx - m) / wx;
    if m != 0.0 {
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(wx);
    }
    let fd = if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0.0f64.copysign(vx / wx)
    };
    (fd, m)
}

impl Vm {
    pub(crate) fn overflow(&mut self) -> Value {
        self.err(ExcType::OverflowError, "integer overflow (pylite ints are 64-bit)")
    }

    /// Integer arithmetic with Python semantics and overflow checks.
    pub(crate) fn int_arith(&mut self, op: Arith, a: i64, b: i64) -> PyResult<Value> {
        let r = match op {
            Arith::Add => a.checked_add(b),
            Arith::Sub => a.checked_sub(b),
            Arith::Mul => a.checked_mul(b),
            Arith::Div => {
                if b == 0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "division by zero"));
                }
                return Ok(Value::float(a as f64 / b as f64));
            }
            Arith::FloorDiv => {
                if b == 0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "integer division or modulo by zero"));
                }
                a.checked_div_euclid(b).map(|_| {
                    let q = a / b;
                    if (a % b != 0) && ((a < 0) != (b < 0)) {
                        q - 1
                    } else {
                        q
                    }
                })
            }
            Arith::Mod => {
                if b == 0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "integer modulo by zero"));
                }
                if b == -1 {
                    Some(0)
                } else {
                    let m = a % b;
                    Some(if m != 0 && ((m < 0) != (b < 0)) { m + b } else { m })
                }
            }
            Arith::Pow => {
                if b < 0 {
                    if a == 0 {
                        return Err(self.err(ExcType::ZeroDivisionError, "0.0 cannot be raised to a negative power"));
                    }
                    return Ok(Value::float((a as f64).powf(b as f64)));
                }
                match a {
                    0 | 1 => Some(if b == 0 { 1 } else { a }),
                    -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
                    _ => u32::try_from(b).ok().and_then(|e| a.checked_pow(e)),
                }
            }
            Arith::Shl => {
                if b < 0 {
                    return Err(self.err(ExcType::ValueError, "negative shift count"));
                }
                if a == 0 {
                    Some(0)
                } else if b >= 64 {
                    None
                } else {
                    let r = a << b;
                    if (r >> b) == a {
                        Some(r)
                    } else {
                        None
                    }
                }
            }
            Arith::Shr => {
                if b < 0 {
                    return Err(self.err(ExcType::ValueError, "negative shift count"));
                }
                Some(if b >= 64 {
                    if a < 0 {
                        -1
                    } else {
                        0
                    }
                } else {
                    a >> b
                })
            }
            Arith::And => Some(a & b),
            Arith::Or => Some(a | b),
            Arith::Xor => Some(a ^ b),
        };
        match r {
            Some(v) => Ok(Value::int(v)),
            None => Err(self.overflow()),
        }
    }

    /// Float arithmetic with Python semantics.
    pub(crate) fn float_arith(&mut self, op: Arith, a: f64, b: f64) -> PyResult<Value> {
        Ok(Value::float(match op {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => {
                if b == 0.0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "float division by zero"));
                }
                a / b
            }
            Arith::FloorDiv => {
                if b == 0.0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "float floor division by zero"));
                }
                float_divmod(a, b).0
            }
            Arith::Mod => {
                if b == 0.0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "float modulo"));
                }
                float_divmod(a, b).1
            }
            Arith::Pow => {
                if a == 0.0 && b < 0.0 {
                    return Err(self.err(ExcType::ZeroDivisionError, "0.0 cannot be raised to a negative power"));
                }
                if a < 0.0 && b.fract() != 0.0 && b.is_finite() {
                    return Err(self.err(ExcType::ValueError, "complex results are not supported by pylite"));
                }
                let r = a.powf(b);
                if r.is_infinite() && a.is_finite() && b.is_finite() {
                    return Err(self.err(ExcType::OverflowError, "(34, 'Numerical result out of range')"));
                }
                r
            }
            _ => return Err(self.binop_type_error(op, Value::float(a), Value::float(b))),
        }))
    }

    fn binop_type_error(&mut self, op: Arith, a: Value, b: Value) -> Value {
        let (ta, tb) = (self.type_name(a), self.type_name(b));
        self.err(
            ExcType::TypeError,
            format!("unsupported operand type(s) for {}: '{}' and '{}'", op.symbol(), ta, tb),
        )
    }

    /// Generic binary operation (all type combinations).
    pub(crate) fn binary(&mut self, op: Arith, a: Value, b: Value) -> PyResult<Value> {
        if let (Some(x), Some(y)) = (a.as_intlike(), b.as_intlike()) {
            return self.int_arith(op, x, y);
        }
        if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
            return self.float_arith(op, x, y);
        }
        self.check_bound(a)?;
        self.check_bound(b)?;
        match (op, a.kind(), b.kind()) {
            (Arith::Add, Some(Kind::Str), Some(Kind::Str)) => {
                let mut s = String::with_capacity(as_str(a).unwrap().len() + as_str(b).unwrap().len());
                s.push_str(as_str(a).unwrap());
                s.push_str(as_str(b).unwrap());
                Ok(self.new_string(s))
            }
            (Arith::Add, Some(Kind::Str), _) => {
                let tb = self.type_name(b);
                Err(self.err(
                    ExcType::TypeError,
                    format!("can only concatenate str (not \"{}\") to str", tb),
                ))
            }
            (Arith::Add, Some(Kind::Bytes), Some(Kind::Bytes)) => {
                let mut v = as_bytes(a).unwrap().to_vec();
                v.extend_from_slice(as_bytes(b).unwrap());
                Ok(self.new_bytes(v))
            }
            (Arith::Add, Some(Kind::Tuple), Some(Kind::Tuple)) => {
                let mut v = as_seq(a).unwrap().to_vec();
                v.extend_from_slice(as_seq(b).unwrap());
                Ok(self.new_tuple(v))
            }
            (Arith::Add, Some(Kind::List), Some(Kind::List)) => {
                let mut v = as_seq(a).unwrap().to_vec();
                v.extend_from_slice(as_seq(b).unwrap());
                Ok(self.new_list(v))
            }
            (Arith::Add, Some(k @ (Kind::Tuple | Kind::List)), _) => {
                let (ta, tb) = (self.type_name(a), self.type_name(b));
                let _ = k;
                Err(self.err(
                    ExcType::TypeError,
                    format!("can only concatenate {} (not \"{}\") to {}", ta, tb, ta),
                ))
            }
            (Arith::Mul, Some(ka), kb)
                if matches!(ka, Kind::Str | Kind::Bytes | Kind::Tuple | Kind::List)
                    && b.as_intlike().is_none()
                    && kb.is_some() =>
            {
                let tb = self.type_name(b);
                Err(self.err(
                    ExcType::TypeError,
                    format!("can't multiply sequence by non-int of type '{}'", tb),
                ))
            }
            (Arith::Mul, Some(_), None) | (Arith::Mul, None, Some(_)) => {
                let (seq, n) = if a.is_obj() { (a, b) } else { (b, a) };
                let Some(n) = n.as_intlike() else {
                    let tn = self.type_name(n);
                    return Err(self.err(
                        ExcType::TypeError,
                        format!("can't multiply sequence by non-int of type '{}'", tn),
                    ));
                };
                self.repeat(seq, n)
            }
            (Arith::Mod, Some(Kind::Str), _) => {
                let s = as_str(a).unwrap().to_string();
                let r = crate::format::percent_format(self, &s, b)?;
                Ok(self.new_string(r))
            }
            _ => Err(self.binop_type_error(op, a, b)),
        }
    }

    fn repeat(&mut self, seq: Value, n: i64) -> PyResult<Value> {
        let n = n.max(0) as usize;
        let len = self.len_of(seq).unwrap_or(0);
        if len.saturating_mul(n) > (1 << 31) {
            return Err(self.err(ExcType::OverflowError, "repeated sequence is too long"));
        }
        match seq.kind() {
            Some(Kind::Str) => Ok(self.new_string(as_str(seq).unwrap().repeat(n))),
            Some(Kind::Bytes) => Ok(self.new_bytes(as_bytes(seq).unwrap().repeat(n))),
            Some(Kind::Tuple) => Ok(self.new_tuple(as_seq(seq).unwrap().repeat(n))),
            Some(Kind::List) => Ok(self.new_list(as_seq(seq).unwrap().repeat(n))),
            _ => {
                let t = self.type_name(seq);
                Err(self.err(
                    ExcType::TypeError,
                    format!("can't multiply sequence by non-int of type '{}'", t),
                ))
            }
        }
    }

    /// Unary minus, plus, invert.
    pub(crate) fn unary(&mut self, op: u8, a: Value) -> PyResult<Value> {
        self.check_bound(a)?;
        match (op, a.tag) {
            (b'-', TAG_INT | TAG_BOOL) => match a.as_intlike().unwrap().checked_neg() {
                Some(v) => Ok(Value::int(v)),
                None => Err(self.overflow()),
            },
            (b'-', TAG_FLOAT) => Ok(Value::float(-a.as_float())),
            (b'+', TAG_INT | TAG_BOOL) => Ok(Value::int(a.as_intlike().unwrap())),
            (b'+', TAG_FLOAT) => Ok(a),
            (b'~', TAG_INT | TAG_BOOL) => Ok(Value::int(!a.as_intlike().unwrap())),
            _ => {
                let t = self.type_name(a);
                Err(self.err(
                    ExcType::TypeError,
                    format!("bad operand type for unary {}: '{}'", op as char, t),
                ))
            }
        }
    }

    /// Raises if `v` is an unbound slot value (defensive; the compiler emits `CheckBound`).
    #[inline]
    pub(crate) fn check_bound(&mut self, v: Value) -> PyResult<()> {
        if v.is_undef() {
            return Err(self.err(
                ExcType::UnboundLocalError,
                "local variable referenced before assignment",
            ));
        }
        Ok(())
    }

    /// Python truthiness.
    pub(crate) fn truthy(&self, v: Value) -> bool {
        match v.tag {
            TAG_NONE | TAG_UNDEF => false,
            TAG_BOOL | TAG_INT => v.payload != 0,
            TAG_FLOAT => v.as_float() != 0.0,
            _ => match v.kind() {
                Some(Kind::Str) | Some(Kind::Bytes) | Some(Kind::Tuple) | Some(Kind::List) | Some(Kind::Range) => {
                    self.len_of(v).unwrap_or(1) != 0
                }
                _ => true,
            },
        }
    }

    /// `len()` of sized built-ins.
    pub(crate) fn len_of(&self, v: Value) -> Option<usize> {
        match v.kind()? {
            Kind::Str => {
                let s = as_str(v).unwrap();
                Some(if s.is_ascii() { s.len() } else { s.chars().count() })
            }
            Kind::Bytes => Some(as_bytes(v).unwrap().len()),
            Kind::Tuple | Kind::List => Some(as_seq(v).unwrap().len()),
            Kind::Range => {
                let r = cast::<RangeObj>(v).unwrap();
                Some(range_len(r.start, r.stop, r.step) as usize)
            }
            _ => None,
        }
    }

    /// Python `==`, raising `RecursionError` for data nested too deeply to compare
    /// ([`crate::nesting`]).
    pub(crate) fn equals_checked(&mut self, a: Value, b: Value) -> PyResult<bool> {
        crate::nesting::take_exceeded();
        let r = self.equals(a, b);
        self.nesting_checked(r, "in comparison")
    }

    /// Python `==`.
    pub(crate) fn equals(&mut self, a: Value, b: Value) -> bool {
        if a.tag == b.tag && a.payload == b.payload && a.tag != TAG_FLOAT {
            return true;
        }
        if let (Some(x), Some(y)) = (a.as_intlike(), b.as_intlike()) {
            return x == y;
        }
        if a.tag == TAG_FLOAT || b.tag == TAG_FLOAT {
            return num_cmp(a, b) == Some(Ordering::Equal);
        }
        match (a.kind(), b.kind()) {
            (Some(Kind::Str), Some(Kind::Str)) => as_str(a) == as_str(b),
            (Some(Kind::Bytes), Some(Kind::Bytes)) => as_bytes(a) == as_bytes(b),
            (Some(ka @ (Kind::Tuple | Kind::List)), Some(kb)) if ka == kb => {
                let Some(_level) = crate::nesting::enter() else {
                    return false; // too deep: a RecursionError for checked callers
                };
                let (x, y) = (as_seq(a).unwrap(), as_seq(b).unwrap());
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| self.equals(*p, *q))
            }
            (Some(Kind::Range), Some(Kind::Range)) => {
                let (x, y) = (cast::<RangeObj>(a).unwrap(), cast::<RangeObj>(b).unwrap());
                (x.start, x.stop, x.step) == (y.start, y.stop, y.step)
            }
            _ => false,
        }
    }

    /// Ordering comparison (`<`, `<=`, `>`, `>=`).
    pub(crate) fn compare(&mut self, op: CmpOp, a: Value, b: Value) -> PyResult<bool> {
        crate::nesting::take_exceeded();
        let ord = self.partial_order(a, b);
        let ord = match self.nesting_checked(ord, "in comparison")? {
            Ok(o) => o,
            Err(()) => {
                self.check_bound(a)?;
                self.check_bound(b)?;
                let sym = match op {
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    _ => ">=",
                };
                let (ta, tb) = (self.type_name(a), self.type_name(b));
                return Err(self.err(
                    ExcType::TypeError,
                    format!("'{}' not supported between instances of '{}' and '{}'", sym, ta, tb),
                ));
            }
        };
        Ok(match (op, ord) {
            (_, None) => false,
            (CmpOp::Lt, Some(o)) => o == Ordering::Less,
            (CmpOp::Le, Some(o)) => o != Ordering::Greater,
            (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
            (_, Some(o)) => o != Ordering::Less,
        })
    }

    /// `Ok(None)` for unordered (NaN), `Err` for incomparable types.
    fn partial_order(&mut self, a: Value, b: Value) -> Result<Option<Ordering>, ()> {
        if a.as_number().is_some() && b.as_number().is_some() {
            return Ok(num_cmp(a, b));
        }
        match (a.kind(), b.kind()) {
            (Some(Kind::Str), Some(Kind::Str)) => Ok(Some(as_str(a).unwrap().cmp(as_str(b).unwrap()))),
            (Some(Kind::Bytes), Some(Kind::Bytes)) => Ok(Some(as_bytes(a).unwrap().cmp(as_bytes(b).unwrap()))),
            (Some(ka @ (Kind::Tuple | Kind::List)), Some(kb)) if ka == kb => {
                let Some(_level) = crate::nesting::enter() else {
                    return Ok(None); // too deep: a RecursionError for `compare`
                };
                let (x, y) = (as_seq(a).unwrap(), as_seq(b).unwrap());
                for (p, q) in x.iter().zip(y) {
                    if !self.equals(*p, *q) {
                        return self.partial_order(*p, *q);
                    }
                }
                Ok(Some(x.len().cmp(&y.len())))
            }
            _ => Err(()),
        }
    }

    /// `item in container`.
    pub(crate) fn contains(&mut self, container: Value, item: Value) -> PyResult<bool> {
        match container.kind() {
            Some(Kind::Tuple) | Some(Kind::List) => {
                crate::nesting::take_exceeded();
                let items = as_seq(container).unwrap();
                let found = items.iter().any(|x| self.equals(*x, item));
                self.nesting_checked(found, "in comparison")
            }
            Some(Kind::Str) => match as_str(item) {
                Some(s) => Ok(as_str(container).unwrap().contains(s)),
                None => {
                    let t = self.type_name(item);
                    Err(self.err(
                        ExcType::TypeError,
                        format!("'in <string>' requires string as left operand, not {}", t),
                    ))
                }
            },
            Some(Kind::Bytes) => {
                let hay = as_bytes(container).unwrap();
                if let Some(i) = item.as_intlike() {
                    return Ok(hay.contains(&(i as u8)) && (0..256).contains(&i));
                }
                match as_bytes(item) {
                    Some(n) => Ok(n.is_empty() || hay.windows(n.len()).any(|w| w == n)),
                    None => Err(self.err(ExcType::TypeError, "a bytes-like object is required")),
                }
            }
            Some(Kind::Range) => {
                let r = cast::<RangeObj>(container).unwrap();
                let Some(i) = item.as_intlike() else { return Ok(false) };
                let inside = if r.step > 0 {
                    r.start <= i && i < r.stop
                } else {
                    r.stop < i && i <= r.start
                };
                Ok(inside && (i - r.start) % r.step == 0)
            }
            _ => {
                let t = self.type_name(container);
                Err(self.err(ExcType::TypeError, format!("argument of type '{}' is not iterable", t)))
            }
        }
    }

    fn index_of(&mut self, len: usize, idx: Value, what: &str) -> PyResult<usize> {
        let Some(i) = idx.as_intlike() else {
            let t = self.type_name(idx);
            return Err(self.err(
                ExcType::TypeError,
                format!("{} indices must be integers or slices, not {}", what, t),
            ));
        };
        let j = if i < 0 { i + len as i64 } else { i };
        if j < 0 || j >= len as i64 {
            let msg = match what {
                "list" => "list index out of range",
                "tuple" => "tuple index out of range",
                "string" => "string index out of range",
                _ => "index out of range",
            };
            return Err(self.err(ExcType::IndexError, msg));
        }
        Ok(j as usize)
    }

    /// `obj[idx]`.
    pub(crate) fn get_item(&mut self, obj: Value, idx: Value) -> PyResult<Value> {
        match obj.kind() {
            Some(Kind::List) => {
                let items = as_seq(obj).unwrap();
                let i = self.index_of(items.len(), idx, "list")?;
                Ok(items[i])
            }
            Some(Kind::Tuple) => {
                let items = as_seq(obj).unwrap();
                let i = self.index_of(items.len(), idx, "tuple")?;
                Ok(items[i])
            }
            Some(Kind::Bytes) => {
                let b = as_bytes(obj).unwrap();
                let i = self.index_of(b.len(), idx, "byte")?;
                Ok(Value::int(b[i] as i64))
            }
            Some(Kind::Str) => {
                let s = as_str(obj).unwrap();
                if s.is_ascii() {
                    let i = self.index_of(s.len(), idx, "string")?;
                    return Ok(self.new_str(&s[i..i + 1]));
                }
                let chars: Vec<char> = s.chars().collect();
                let i = self.index_of(chars.len(), idx, "string")?;
                Ok(self.new_string(chars[i].to_string()))
            }
            Some(Kind::Range) => {
                let r = cast::<RangeObj>(obj).unwrap();
                let (start, step, len) = (r.start, r.step, range_len(r.start, r.stop, r.step));
                let i = self.index_of(len as usize, idx, "range object")?;
                Ok(Value::int(start + step * i as i64))
            }
            _ => {
                self.check_bound(obj)?;
                let t = self.type_name(obj);
                Err(self.err(ExcType::TypeError, format!("'{}' object is not subscriptable", t)))
            }
        }
    }

    /// `obj[idx] = v`.
    pub(crate) fn set_item(&mut self, obj: Value, idx: Value, v: Value) -> PyResult<()> {
        if let Some(l) = cast::<ListObj>(obj) {
            let len = l.items.len();
            let i = self.index_of(len, idx, "list")?;
            l.items.as_mut_slice()[i] = v;
            return Ok(());
        }
        let t = self.type_name(obj);
        Err(self.err(
            ExcType::TypeError,
            format!("'{}' object does not support item assignment", t),
        ))
    }

    /// `obj[lo:hi]`.
    pub(crate) fn get_slice(&mut self, obj: Value, lo: Value, hi: Value) -> PyResult<Value> {
        let Some(len) = self.len_of(obj).filter(|_| !obj.is_kind(Kind::Range)) else {
            let t = self.type_name(obj);
            return Err(self.err(ExcType::TypeError, format!("'{}' object is not subscriptable", t)));
        };
        let mut bound = |v: Value, dflt: usize| -> PyResult<usize> {
            if v.is_none() {
                return Ok(dflt);
            }
            let Some(i) = v.as_intlike() else {
                return Err(self.err(ExcType::TypeError, "slice indices must be integers or None"));
            };
            let j = if i < 0 { i + len as i64 } else { i };
            Ok(j.clamp(0, len as i64) as usize)
        };
        let a = bound(lo, 0)?;
        let b = bound(hi, len)?.max(a);
        Ok(match obj.kind().unwrap() {
            Kind::Str => {
                let s = as_str(obj).unwrap();
                let sub: String = if s.is_ascii() {
                    s[a..b].to_string()
                } else {
                    s.chars().skip(a).take(b - a).collect()
                };
                self.new_string(sub)
            }
            Kind::Bytes => {
                let v = as_bytes(obj).unwrap()[a..b].to_vec();
                self.new_bytes(v)
            }
            Kind::Tuple => {
                let v = as_seq(obj).unwrap()[a..b].to_vec();
                self.new_tuple(v)
            }
            _ => {
                let v = as_seq(obj).unwrap()[a..b].to_vec();
                self.new_list(v)
            }
        })
    }
}

/// Number of elements of `range(start, stop, step)`.
pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    let (lo, hi, st) = if step > 0 {
        (start as i128, stop as i128, step as i128)
    } else {
        (stop as i128, start as i128, -(step as i128))
    };
    if lo >= hi {
        0
    } else {
        ((hi - lo + st - 1) / st) as i64
    }
}

/// Exact comparison of two numbers (ints, bools, floats); `None` if NaN is involved.
pub fn num_cmp(a: Value, b: Value) -> Option<Ordering> {
    match (a.as_intlike(), b.as_intlike()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        (Some(x), None) => int_float_cmp(x, b.as_number()?),
        (None, Some(y)) => int_float_cmp(y, a.as_number()?).map(|o| o.reverse()),
        (None, None) => a.as_number()?.partial_cmp(&b.as_number()?),
    }
}

fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - t)),
        o => Some(o),
    }
}
