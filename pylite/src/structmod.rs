//! # The `struct` module
//!
//! Formats are parsed once and cached by their text (`Vm::struct_cache`), so
//! the hot `unpack_from('d', buf, off)` path is: look up the cached layout,
//! bounds-check, decode each field with `from_le_bytes`/`from_be_bytes`, build
//! one tuple. Supported codes: `x b B ? h H i I l L q Q n N f d s` with repeat
//! counts, and the byte-order prefixes `@ = < > !` (`@`, the default, uses
//! native sizes and alignment like CPython).

use crate::builtins::arity;
use crate::error::ExcType;
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;
use std::rc::Rc;

/// One field of a parsed format.
#[derive(Clone, Copy, Debug)]
struct Field {
    code: u8,
    offset: usize,
    /// Byte length for `s`, otherwise the item size.
    size: usize,
}

/// A parsed struct format.
#[derive(Debug)]
pub struct StructFmt {
    fields: Vec<Field>,
    size: usize,
    little: bool,
}

fn item_size(code: u8) -> Option<usize> {
    Some(match code {
        b'x' | b'b' | b'B' | b'?' | b'c' | b's' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'l' | b'L' | b'f' => 4,
        b'q' | b'Q' | b'n' | b'N' | b'd' => 8,
        _ => return None,
    })
}

/// Parses a format string.
pub fn parse(fmt: &str) -> Result<StructFmt, String> {
    let b = fmt.as_bytes();
    let mut i = 0;
    let (little, align) = match b.first() {
        Some(b'@') => {
            i = 1;
            (cfg!(target_endian = "little"), true)
        }
        Some(b'=') => {
            i = 1;
            (cfg!(target_endian = "little"), false)
        }
        Some(b'<') => {
            i = 1;
            (true, false)
        }
        Some(b'>') | Some(b'!') => {
            i = 1;
            (false, false)
        }
        _ => (cfg!(target_endian = "little"), true),
    };
    let mut fields = Vec::new();
    let mut off = 0usize;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let count: usize = if i > start {
            fmt[start..i]
                .parse()
                .map_err(|_| "repeat count too large".to_string())?
        } else {
            1
        };
        let Some(&code) = b.get(i) else {
            return Err("repeat count given without format specifier".into());
        };
        i += 1;
        let Some(sz) = item_size(code) else {
            return Err("bad char in struct format".into());
        };
        if align && sz > 1 && code != b's' {
            off = off.div_ceil(sz) * sz;
        }
        match code {
            b'x' => off += count,
            b's' => {
                fields.push(Field {
                    code,
                    offset: off,
                    size: count,
                });
                off += count;
            }
            _ => {
                for _ in 0..count {
                    fields.push(Field {
                        code,
                        offset: off,
                        size: sz,
                    });
                    off += sz;
                }
            }
        }
    }
    Ok(StructFmt {
        fields,
        size: off,
        little,
    })
}

fn struct_error(vm: &mut Vm, msg: impl Into<String>) -> Value {
    vm.err(ExcType::StructError, msg)
}

fn get_fmt(vm: &mut Vm, v: Value) -> PyResult<Rc<StructFmt>> {
    let s = match (as_str(v), as_bytes(v)) {
        (Some(s), _) => s,
        (None, Some(b)) => std::str::from_utf8(b).unwrap_or("?"),
        _ => {
            let t = vm.type_name(v);
            return Err(vm.err(
                ExcType::TypeError,
                format!("Struct() argument 1 must be a str or bytes object, not {}", t),
            ));
        }
    };
    if let Some((_, f)) = vm.struct_cache.iter().find(|(k, _)| k == s) {
        return Ok(f.clone());
    }
    match parse(s) {
        Ok(f) => {
            let f = Rc::new(f);
            if vm.struct_cache.len() < 64 {
                vm.struct_cache.push((s.to_string(), f.clone()));
            }
            Ok(f)
        }
        Err(m) => Err(struct_error(vm, m)),
    }
}

macro_rules! rd {
    ($t:ty, $bytes:expr, $little:expr) => {{
        let arr: [u8; std::mem::size_of::<$t>()] = $bytes.try_into().unwrap();
        if $little {
            <$t>::from_le_bytes(arr)
        } else {
            <$t>::from_be_bytes(arr)
        }
    }};
}

fn decode(vm: &mut Vm, f: &StructFmt, buf: &[u8]) -> PyResult<Value> {
    let mut out = Vec::with_capacity(f.fields.len());
    for fl in &f.fields {
        let b = &buf[fl.offset..fl.offset + fl.size];
        let l = f.little;
        let v = match fl.code {
            b'd' => Value::float(rd!(f64, b, l)),
            b'f' => Value::float(rd!(f32, b, l) as f64),
            b'q' | b'n' => Value::int(rd!(i64, b, l)),
            b'Q' | b'N' => {
                let u = rd!(u64, b, l);
                match i64::try_from(u) {
                    Ok(i) => Value::int(i),
                    Err(_) => return Err(vm.overflow()),
                }
            }
            b'i' | b'l' => Value::int(rd!(i32, b, l) as i64),
            b'I' | b'L' => Value::int(rd!(u32, b, l) as i64),
            b'h' => Value::int(rd!(i16, b, l) as i64),
            b'H' => Value::int(rd!(u16, b, l) as i64),
            b'b' => Value::int(b[0] as i8 as i64),
            b'B' => Value::int(b[0] as i64),
            b'?' => Value::bool(b[0] != 0),
            b'c' | b's' => vm.new_bytes(b.to_vec()),
            _ => Value::NONE,
        };
        out.push(v);
    }
    Ok(vm.new_tuple(out))
}

fn buffer_arg<'a>(vm: &mut Vm, v: Value) -> PyResult<&'a [u8]> {
    match as_bytes(v) {
        Some(b) => Ok(b),
        None => {
            let t = vm.type_name(v);
            Err(vm.err(
                ExcType::TypeError,
                format!("a bytes-like object is required, not '{}'", t),
            ))
        }
    }
}

/// `struct.unpack_from(fmt, buffer, offset=0)`.
pub(crate) fn unpack_from(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "unpack_from", a, 2, 3)?;
    let f = get_fmt(vm, a[0])?;
    let buf = buffer_arg(vm, a[1])?;
    let off = if a.len() == 3 {
        crate::builtins::int_arg(vm, a[2])?
    } else {
        0
    };
    let off = if off < 0 { off + buf.len() as i64 } else { off };
    if off < 0 || off as usize + f.size > buf.len() {
        let msg = format!(
            "unpack_from requires a buffer of at least {} bytes for unpacking {} bytes at offset {} (actual buffer size is {})",
            f.size as i64 + off.max(0),
            f.size,
            off,
            buf.len()
        );
        return Err(struct_error(vm, msg));
    }
    decode(vm, &f, &buf[off as usize..])
}

/// `struct.unpack(fmt, buffer)`.
pub(crate) fn unpack(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "unpack", a, 2, 2)?;
    let f = get_fmt(vm, a[0])?;
    let buf = buffer_arg(vm, a[1])?;
    if buf.len() != f.size {
        return Err(struct_error(
            vm,
            format!("unpack requires a buffer of {} bytes", f.size),
        ));
    }
    decode(vm, &f, buf)
}

/// `struct.calcsize(fmt)`.
pub(crate) fn calcsize(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "calcsize", a, 1, 1)?;
    let f = get_fmt(vm, a[0])?;
    Ok(Value::int(f.size as i64))
}

macro_rules! wr {
    ($out:expr, $off:expr, $v:expr, $little:expr) => {{
        let bytes = if $little { $v.to_le_bytes() } else { $v.to_be_bytes() };
        $out[$off..$off + bytes.len()].copy_from_slice(&bytes);
    }};
}

/// `struct.pack(fmt, *values)`.
pub(crate) fn pack(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    if a.is_empty() {
        return Err(vm.err(ExcType::TypeError, "pack expected at least 1 argument, got 0"));
    }
    let f = get_fmt(vm, a[0])?;
    let vals = &a[1..];
    if vals.len() != f.fields.len() {
        return Err(struct_error(
            vm,
            format!(
                "pack expected {} items for packing (got {})",
                f.fields.len(),
                vals.len()
            ),
        ));
    }
    let mut out = vec![0u8; f.size];
    let l = f.little;
    for (fl, &v) in f.fields.iter().zip(vals) {
        let o = fl.offset;
        match fl.code {
            b'd' | b'f' => {
                let Some(x) = v.as_number() else {
                    return Err(struct_error(vm, "required argument is not a float"));
                };
                if fl.code == b'd' {
                    wr!(out, o, x, l)
                } else {
                    wr!(out, o, (x as f32), l)
                }
            }
            b's' | b'c' => {
                let Some(b) = as_bytes(v) else {
                    return Err(struct_error(vm, "argument for 's' must be a bytes object"));
                };
                let n = b.len().min(fl.size);
                out[o..o + n].copy_from_slice(&b[..n]);
            }
            code => {
                let Some(x) = v.as_intlike() else {
                    return Err(struct_error(vm, "required argument is not an integer"));
                };
                let (lo, hi): (i128, i128) = match code {
                    b'b' => (-128, 127),
                    b'B' => (0, 255),
                    b'?' => (i128::MIN, i128::MAX),
                    b'h' => (-32768, 32767),
                    b'H' => (0, 65535),
                    b'i' | b'l' => (i32::MIN as i128, i32::MAX as i128),
                    b'I' | b'L' => (0, u32::MAX as i128),
                    b'Q' | b'N' => (0, u64::MAX as i128),
                    _ => (i64::MIN as i128, i64::MAX as i128),
                };
                if (x as i128) < lo || (x as i128) > hi {
                    let msg = format!("'{}' format requires {} <= number <= {}", code as char, lo, hi);
                    return Err(struct_error(vm, msg));
                }
                match fl.size {
                    1 => out[o] = if code == b'?' { (x != 0) as u8 } else { x as u8 },
                    2 => wr!(out, o, (x as i16), l),
                    4 => wr!(out, o, (x as i32), l),
                    _ => wr!(out, o, x, l),
                }
            }
        }
    }
    Ok(vm.new_bytes(out))
}
