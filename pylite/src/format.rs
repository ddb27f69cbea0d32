//! # Formatting: `str()`, `repr()`, format specs and `%`
//!
//! Float `repr` must match CPython byte for byte: the shortest digit string that
//! round-trips (Rust's `{:e}` produces those digits, except that it rounds exact
//! ties up where CPython rounds them to even — `shortest_digits` corrects that), laid out
//! with Python's rule — positional notation when the decimal exponent is in
//! `[-4, 16)`, otherwise `d.ddde±XX` — and a trailing `.0` for integral values.
//! Fixed-precision output (`{:.4f}`, `%.2f`) uses Rust's correctly rounded
//! formatting, which agrees with CPython's (both round the exact binary value,
//! ties to even). Format specs follow the mini-language
//! `[[fill]align][sign][#][0][width][,|_][.precision][type]`.

use crate::error::ExcType;
use crate::object::*;
use crate::value::*;
use crate::vm::Vm;

/// Python's `repr(float)`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (digits, exp) = shortest_digits(f.abs());
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let e = exp as usize;
            if digits.len() > e + 1 {
                out.push_str(&digits[..e + 1]);
                out.push('.');
                out.push_str(&digits[e + 1..]);
            } else {
                out.push_str(&digits);
                for _ in digits.len()..e + 1 {
                    out.push('0');
                }
                out.push_str(".0");
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()));
    }
    out
}

/// The significant digits and decimal exponent of `e` formatting (`{:e}`, `{:.Ne}`).
fn sci_digits(s: &str) -> (String, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    (
        mant.chars().filter(|c| c.is_ascii_digit()).collect(),
        exp.parse().unwrap_or(0),
    )
}

/// The shortest round-tripping digits of a positive finite `f`, and its decimal
/// exponent, as CPython's `repr` chooses them. Rust's `{:e}` gives the shortest digits
/// too, but when `f` lies exactly halfway between two shortest candidates it rounds
/// up, where CPython (David Gay's `dtoa`) rounds to even: `404147248749.3577 % 997.0`
/// is exactly 763.35772705078125, which CPython prints as `763.3577270507812`.
fn shortest_digits(f: f64) -> (String, i32) {
    let (digits, exp) = sci_digits(&format!("{:e}", f));
    let n = digits.len();
    let last = digits.as_bytes()[n - 1];
    if (last - b'0').is_multiple_of(2) {
        return (digits, exp);
    }
    let mut down = digits.clone().into_bytes();
    down[n - 1] -= 1;
    let down = String::from_utf8(down).unwrap_or_default();
    // A tie: the exact value is `down` followed by a 5 and nothing else. One more
    // digit rounded is a cheap filter; the exact expansion (at most 767 significant
    // digits) decides.
    let (next, next_exp) = sci_digits(&format!("{:.*e}", n, f));
    if next_exp != exp || next != format!("{}5", down) {
        return (digits, exp);
    }
    let (exact, _) = sci_digits(&format!("{:.800e}", f));
    if !exact.starts_with(&next) || exact[n + 1..].bytes().any(|b| b != b'0') {
        return (digits, exp);
    }
    let candidate = if n == 1 {
        format!("{}e{}", down, exp)
    } else {
        format!("{}.{}e{}", &down[..1], &down[1..], exp)
    };
    if candidate.parse::<f64>() != Ok(f) {
        return (digits, exp);
    }
    let trimmed = down.trim_end_matches('0');
    if trimmed.is_empty() {
        return (digits, exp);
    }
    (trimmed.to_string(), exp)
}

/// Python's `repr(str)`.
pub fn str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c)
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Python's `repr(bytes)`.
pub fn bytes_repr(b: &[u8]) -> String {
    let q = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(q as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c as char)
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{:02x}", c)),
        }
    }
    out.push(q as char);
    out
}

impl Vm {
    /// `str(v)`.
    pub fn to_str(&mut self, v: Value) -> String {
        match v.kind() {
            Some(Kind::Str) => as_str(v).unwrap().to_string(),
            Some(Kind::Instance) if self.is_exception(v) => {
                let args = self.exc_args(v);
                match args.len() {
                    0 => String::new(),
                    1 if self.exc_is(v, crate::error::ExcType::KeyError) => self.repr(args[0]),
                    1 => self.to_str(args[0]),
                    _ => {
                        let t = self.new_tuple(args);
                        self.repr(t)
                    }
                }
            }
            _ => self.repr(v),
        }
    }

    /// `repr(v)`, raising `RecursionError` for data nested too deeply to print
    /// ([`crate::nesting`]).
    pub fn repr_checked(&mut self, v: Value) -> PyResult<String> {
        crate::nesting::take_exceeded();
        let s = self.repr(v);
        self.nesting_checked(s, "while getting the repr of an object")
    }

    /// `str(v)`, raising `RecursionError` like [`Vm::repr_checked`].
    pub fn to_str_checked(&mut self, v: Value) -> PyResult<String> {
        crate::nesting::take_exceeded();
        let s = self.to_str(v);
        self.nesting_checked(s, "while getting the str of an object")
    }

    /// `x`, or the `RecursionError` of a walk over data that went too deep.
    pub(crate) fn nesting_checked<T>(&mut self, x: T, what: &str) -> PyResult<T> {
        if crate::nesting::take_exceeded() {
            let msg = format!("maximum recursion depth exceeded {what}");
            return Err(self.err(crate::error::ExcType::RecursionError, msg));
        }
        Ok(x)
    }

    /// `repr(v)`.
    pub fn repr(&mut self, v: Value) -> String {
        match v.tag {
            TAG_UNDEF => "<unbound>".into(),
            TAG_NONE => "None".into(),
            TAG_BOOL => if v.payload != 0 { "True" } else { "False" }.into(),
            TAG_INT => v.as_int().to_string(),
            TAG_FLOAT => float_repr(v.as_float()),
            _ => self.obj_repr(v),
        }
    }

    fn obj_repr(&mut self, v: Value) -> String {
        let addr = v.payload;
        match v.kind().unwrap() {
            Kind::Str => str_repr(as_str(v).unwrap()),
            Kind::Bytes => bytes_repr(as_bytes(v).unwrap()),
            Kind::Tuple | Kind::List => {
                let list = v.kind() == Some(Kind::List);
                let (Some(_level), Some(_printing)) = (crate::nesting::enter(), crate::nesting::printing(addr)) else {
                    // Too deep (a RecursionError for checked callers), or a container
                    // inside itself.
                    return if list { "[...]" } else { "(...)" }.into();
                };
                let items = as_seq(v).unwrap().to_vec();
                let parts: Vec<String> = items.iter().map(|x| self.repr(*x)).collect();
                match (list, parts.len()) {
                    (true, _) => format!("[{}]", parts.join(", ")),
                    (false, 1) => format!("({},)", parts[0]),
                    (false, _) => format!("({})", parts.join(", ")),
                }
            }
            Kind::Instance => {
                let cls = class_of(v).unwrap();
                // SAFETY: instances always have a live class.
                let name = unsafe { (*cls).name.clone() };
                if self.is_exception(v) {
                    let args = self.exc_args(v);
                    let parts: Vec<String> = args.iter().map(|x| self.repr(*x)).collect();
                    return format!("{}({})", name, parts.join(", "));
                }
                format!("<__main__.{} object at {:#x}>", name, addr)
            }
            Kind::Class => {
                let c = cast::<ClassObj>(v).unwrap();
                if c.flags & CLASS_EXCEPTION != 0 && c.attrs.is_empty() && self.is_builtin_exc_class(v) {
                    format!("<class '{}'>", c.name)
                } else {
                    format!("<class '__main__.{}'>", c.name)
                }
            }
            Kind::Function => {
                // SAFETY: functions point at VM-owned code.
                let name = unsafe { (*cast::<FunctionObj>(v).unwrap().code).name.clone() };
                format!("<function {} at {:#x}>", name, addr)
            }
            Kind::Builtin => {
                let b = cast::<BuiltinObj>(v).unwrap();
                if crate::builtins::is_type_builtin(b.id) {
                    format!("<class '{}'>", b.name)
                } else {
                    format!("<built-in function {}>", b.name)
                }
            }
            Kind::Generator => {
                // SAFETY: generators point at VM-owned code.
                let name = unsafe { (*cast::<GeneratorObj>(v).unwrap().code).name.clone() };
                format!("<generator object {} at {:#x}>", name, addr)
            }
            Kind::Module => format!("<module '{}' (built-in)>", cast::<ModuleObj>(v).unwrap().name),
            Kind::File => format!("<_io.BufferedReader at {:#x}>", addr),
            Kind::Property => format!("<property object at {:#x}>", addr),
            Kind::BoundMethod => format!("<bound method at {:#x}>", addr),
            Kind::Range => {
                let r = cast::<RangeObj>(v).unwrap();
                if r.step == 1 {
                    format!("range({}, {})", r.start, r.stop)
                } else {
                    format!("range({}, {}, {})", r.start, r.stop, r.step)
                }
            }
            Kind::RangeIter => format!("<range_iterator object at {:#x}>", addr),
            Kind::SeqIter => format!("<iterator object at {:#x}>", addr),
        }
    }

    /// `format(v, spec)`.
    pub fn format_value(&mut self, v: Value, spec: &str) -> PyResult<String> {
        if spec.is_empty() {
            return Ok(self.to_str(v));
        }
        let Some(sp) = Spec::parse(spec) else {
            return Err(self.err(ExcType::ValueError, format!("Invalid format specifier '{}'", spec)));
        };
        let body = match (v.tag, sp.ty) {
            (TAG_INT | TAG_BOOL, None | Some('d')) if !(v.tag == TAG_BOOL && sp.ty.is_none()) => {
                let i = v.as_intlike().unwrap();
                sign_str(i < 0, sp.sign) + &group(&i.unsigned_abs().to_string(), sp.grouping)
            }
            (TAG_INT | TAG_BOOL, Some(t @ ('x' | 'X' | 'o' | 'b'))) => {
                let i = v.as_intlike().unwrap();
                let a = i.unsigned_abs();
                let digits = match t {
                    'x' => format!("{:x}", a),
                    'X' => format!("{:X}", a),
                    'o' => format!("{:o}", a),
                    _ => format!("{:b}", a),
                };
                let prefix = if sp.alt { format!("0{}", t) } else { String::new() };
                sign_str(i < 0, sp.sign) + &prefix + &digits
            }
            (TAG_INT | TAG_BOOL | TAG_FLOAT, Some('f' | 'F' | 'e' | 'E' | 'g' | 'G' | '%')) | (TAG_FLOAT, None) => {
                let f = v.as_number().unwrap();
                float_format(f, sp.ty, sp.precision, sp.sign, sp.grouping, sp.alt)
            }
            (_, None | Some('s')) if v.tag != TAG_INT && v.tag != TAG_FLOAT => {
                let mut s = self.to_str(v);
                if let Some(p) = sp.precision {
                    s = s.chars().take(p).collect();
                }
                s
            }
            _ => {
                let t = self.type_name(v);
                return Err(self.err(
                    ExcType::ValueError,
                    format!(
                        "Unknown format code '{}' for object of type '{}'",
                        sp.ty.unwrap_or('?'),
                        t
                    ),
                ));
            }
        };
        let numeric = v.as_number().is_some();
        Ok(pad(&body, &sp, numeric))
    }
}

fn sign_str(neg: bool, sign: char) -> String {
    if neg {
        "-".into()
    } else {
        match sign {
            '+' => "+".into(),
            ' ' => " ".into(),
            _ => String::new(),
        }
    }
}

fn group(digits: &str, sep: Option<char>) -> String {
    let Some(sep) = sep else { return digits.to_string() };
    let (int, rest) = match digits.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&digits[..i], &digits[i..]),
        None => (digits, ""),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out + rest
}

/// Python-style exponent: `e+05`.
fn fix_exp(s: &str, upper: bool) -> String {
    let (m, e) = s.split_once('e').unwrap();
    let e: i32 = e.parse().unwrap();
    format!(
        "{}{}{}{:02}",
        m,
        if upper { 'E' } else { 'e' },
        if e < 0 { '-' } else { '+' },
        e.abs()
    )
}

/// Formats a float for presentation types f, e, g, % (and none).
pub fn float_format(
    f: f64,
    ty: Option<char>,
    precision: Option<usize>,
    sign: char,
    grouping: Option<char>,
    alt: bool,
) -> String {
    // As in Python, a negative zero keeps its sign: `format(-0.0, '.1f')` is '-0.0'.
    let neg = f.is_sign_negative();
    let a = f.abs();
    let upper = matches!(ty, Some('F' | 'E' | 'G'));
    let body = if !a.is_finite() {
        let s = if a.is_nan() { "nan" } else { "inf" };
        if upper {
            s.to_uppercase()
        } else {
            s.to_string()
        }
    } else {
        match ty {
            Some('f' | 'F') => group(&format!("{:.*}", precision.unwrap_or(6), a), grouping),
            Some('%') => group(&format!("{:.*}", precision.unwrap_or(6), a * 100.0), grouping) + "%",
            Some('e' | 'E') => fix_exp(&format!("{:.*e}", precision.unwrap_or(6), a), upper),
            Some('g' | 'G') => general(a, precision.unwrap_or(6), upper, alt),
            _ => match precision {
                Some(p) => general(a, p, upper, alt),
                None => group(&float_repr(a), grouping),
            },
        }
    };
    let neg = neg && !(f.is_nan());
    sign_str(neg, sign) + &body
}

fn general(a: f64, p: usize, upper: bool, alt: bool) -> String {
    let p = p.max(1);
    if a == 0.0 {
        return if alt { format!("{:.*}", p - 1, 0.0) } else { "0".into() };
    }
    let e = format!("{:.*e}", p - 1, a);
    let exp: i32 = e.split_once('e').unwrap().1.parse().unwrap();
    let strip = |s: String| -> String {
        if alt || !s.contains('.') {
            return s;
        }
        let t = s.trim_end_matches('0');
        t.trim_end_matches('.').to_string()
    };
    if exp >= -4 && exp < p as i32 {
        strip(format!("{:.*}", (p as i32 - 1 - exp) as usize, a))
    } else {
        let (m, _) = e.split_once('e').unwrap();
        let m = strip(m.to_string());
        fix_exp(&format!("{}e{}", m, exp), upper)
    }
}

fn pad(body: &str, sp: &Spec, numeric: bool) -> String {
    let len = body.chars().count();
    let Some(width) = sp.width.filter(|w| *w > len) else {
        return body.to_string();
    };
    let fill_n = width - len;
    let align = sp.align.unwrap_or(if sp.zero {
        '='
    } else if numeric {
        '>'
    } else {
        '<'
    });
    let fill = if sp.zero && sp.align.is_none() { '0' } else { sp.fill };
    let fills = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    match align {
        '<' => format!("{}{}", body, fills(fill_n)),
        '^' => format!("{}{}{}", fills(fill_n / 2), body, fills(fill_n - fill_n / 2)),
        '=' => {
            let split = body.find(|c: char| c != '-' && c != '+' && c != ' ').unwrap_or(0);
            format!("{}{}{}", &body[..split], fills(fill_n), &body[split..])
        }
        _ => format!("{}{}", fills(fill_n), body),
    }
}

/// A parsed format spec.
#[derive(Debug)]
pub struct Spec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: Option<usize>,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

impl Spec {
    /// Parses the format mini-language; `None` if malformed.
    pub fn parse(s: &str) -> Option<Spec> {
        let c: Vec<char> = s.chars().collect();
        let mut i = 0;
        let mut sp = Spec {
            fill: ' ',
            align: None,
            sign: '-',
            alt: false,
            zero: false,
            width: None,
            grouping: None,
            precision: None,
            ty: None,
        };
        let is_align = |ch: char| matches!(ch, '<' | '>' | '^' | '=');
        if c.len() >= 2 && is_align(c[1]) {
            sp.fill = c[0];
            sp.align = Some(c[1]);
            i = 2;
        } else if !c.is_empty() && is_align(c[0]) {
            sp.align = Some(c[0]);
            i = 1;
        }
        if i < c.len() && matches!(c[i], '+' | '-' | ' ') {
            sp.sign = c[i];
            i += 1;
        }
        if i < c.len() && c[i] == '#' {
            sp.alt = true;
            i += 1;
        }
        if i < c.len() && c[i] == '0' {
            sp.zero = true;
            i += 1;
        }
        let start = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        if i > start {
            sp.width = c[start..i].iter().collect::<String>().parse().ok();
        }
        if i < c.len() && matches!(c[i], ',' | '_') {
            sp.grouping = Some(c[i]);
            i += 1;
        }
        if i < c.len() && c[i] == '.' {
            i += 1;
            let start = i;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
            sp.precision = c[start..i].iter().collect::<String>().parse().ok();
        }
        if i < c.len() {
            sp.ty = Some(c[i]);
            i += 1;
        }
        if i != c.len() {
            return None;
        }
        Some(sp)
    }
}

/// `fmt % args` for str.
pub fn percent_format(vm: &mut Vm, fmt: &str, args: Value) -> PyResult<String> {
    let items: Vec<Value> = match args.kind() {
        Some(Kind::Tuple) => as_seq(args).unwrap().to_vec(),
        _ => vec![args],
    };
    let mut out = String::new();
    let mut it = items.into_iter();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch != '%' {
            out.push(ch);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = String::new();
        let mut flags_left = false;
        let mut flags = String::new();
        while i < chars.len() && "-+ 0#".contains(chars[i]) {
            if chars[i] == '-' {
                flags_left = true;
            } else {
                flags.push(chars[i]);
            }
            i += 1;
        }
        let mut width = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        let mut prec = String::new();
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            prec.push('.');
            while i < chars.len() && chars[i].is_ascii_digit() {
                prec.push(chars[i]);
                i += 1;
            }
            if prec == "." {
                prec.push('0');
            }
        }
        let Some(&conv) = chars.get(i) else {
            return Err(vm.err(ExcType::ValueError, "incomplete format"));
        };
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let Some(v) = it.next() else {
            return Err(vm.err(ExcType::TypeError, "not enough arguments for format string"));
        };
        if flags_left {
            spec.push('<');
        } else if flags.contains('0') && conv != 's' && conv != 'r' {
            spec.push('0');
        } else if !width.is_empty() {
            spec.push('>');
        }
        if flags.contains('+') {
            spec.insert(0, '+');
            if spec.starts_with('+') && spec.len() > 1 {
                spec = format!("{}+", &spec[1..]);
            }
        } else if flags.contains(' ') {
            spec = format!("{} ", spec);
        }
        if flags.contains('#') {
            spec.push('#');
        }
        spec.push_str(&width);
        let piece = match conv {
            's' => {
                let s = vm.to_str(v);
                spec.push_str(&prec);
                let sv = vm.new_string(s);
                vm.format_value(sv, &spec)?
            }
            'r' => {
                let s = vm.repr(v);
                let sv = vm.new_string(s);
                vm.format_value(sv, &spec)?
            }
            'd' | 'i' | 'u' => {
                let n = match v.tag {
                    TAG_FLOAT => Value::int(v.as_float().trunc() as i64),
                    TAG_INT | TAG_BOOL => Value::int(v.as_intlike().unwrap()),
                    _ => {
                        let t = vm.type_name(v);
                        return Err(vm.err(
                            ExcType::TypeError,
                            format!("%{} format: a real number is required, not {}", conv, t),
                        ));
                    }
                };
                spec.push('d');
                vm.format_value(n, &spec)?
            }
            'x' | 'X' | 'o' => {
                if v.as_intlike().is_none() {
                    let t = vm.type_name(v);
                    return Err(vm.err(
                        ExcType::TypeError,
                        format!("%{} format: an integer is required, not {}", conv, t),
                    ));
                }
                spec.push(conv);
                vm.format_value(Value::int(v.as_intlike().unwrap()), &spec)?
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let Some(f) = v.as_number() else {
                    let t = vm.type_name(v);
                    return Err(vm.err(ExcType::TypeError, format!("must be real number, not {}", t)));
                };
                spec.push_str(&prec);
                spec.push(conv);
                vm.format_value(Value::float(f), &spec)?
            }
            c => return Err(vm.err(ExcType::ValueError, format!("unsupported format character '{}'", c))),
        };
        out.push_str(&piece);
    }
    if it.next().is_some() {
        return Err(vm.err(
            ExcType::TypeError,
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{float_format, float_repr};

    #[test]
    fn float_format_keeps_the_sign_of_negative_zero() {
        // CPython: f"{-0.0:.1f}" == '-0.0', f"{-0.0:g}" == '-0', f"{0.0:+.1f}" == '+0.0'.
        assert_eq!(float_format(-0.0, Some('f'), Some(1), '-', None, false), "-0.0");
        assert_eq!(float_format(-0.0, Some('g'), None, '-', None, false), "-0");
        assert_eq!(float_format(0.0, Some('f'), Some(1), '+', None, false), "+0.0");
    }

    #[test]
    fn float_repr_matches_cpython_on_exact_ties() {
        // Exactly halfway between two shortest candidates: CPython takes the even one.
        assert_eq!(float_repr(404147248749.3577 % 997.0), "763.3577270507812");
        assert_eq!(float_repr(11711463.290039062), "11711463.290039062");
        assert_eq!(float_repr(1574862418310.7812), "1574862418310.7812");
        assert_eq!(float_repr(1.5497207641601562e-06), "1.5497207641601562e-06");
        assert_eq!(float_repr(-1.5497207641601562e-06), "-1.5497207641601562e-06");
    }

    #[test]
    fn float_repr_keeps_ordinary_shortest_digits() {
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(2.5), "2.5");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123456789.125), "123456789.125");
        assert_eq!(float_repr(5e-324), "5e-324");
        assert_eq!(float_repr(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(float_repr(-0.0), "-0.0");
    }
}
