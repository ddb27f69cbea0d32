//! # Files: `open`, `read`, `write`, `close` and the `with` protocol
//!
//! A [`FileObj`] wraps a buffered reader or writer. Binary mode (`'rb'`,
//! `'wb'`) reads and writes `bytes`; text mode reads and writes `str` (UTF-8).
//! `with` on a file returns the file itself and closes it on exit (flushing
//! writes); `with` on an instance calls its `__enter__`/`__exit__`.

use crate::builtins::{arity, int_arg};
use crate::error::ExcType;
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;
use std::io::{BufReader, BufWriter, Read, Write};

fn os_error(vm: &mut Vm, e: std::io::Error, path: &str) -> Value {
    let (t, msg) = match e.kind() {
        std::io::ErrorKind::NotFound => (
            ExcType::FileNotFoundError,
            format!("[Errno 2] No such file or directory: '{}'", path),
        ),
        _ => (ExcType::OSError, format!("{}: '{}'", e, path)),
    };
    vm.err(t, msg)
}

/// `open(path, mode='r')`.
pub(crate) fn b_open(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "open", a, 1, 2)?;
    let Some(path) = as_str(a[0]).map(str::to_string) else {
        let t = vm.type_name(a[0]);
        return Err(vm.err(
            ExcType::TypeError,
            format!("expected str, bytes or os.PathLike object, not {}", t),
        ));
    };
    let mode = if a.len() == 2 {
        as_str(a[1]).unwrap_or("?").to_string()
    } else {
        "r".into()
    };
    let binary = mode.contains('b');
    let inner = match mode.replace('b', "").as_str() {
        "r" => match std::fs::File::open(&path) {
            Ok(f) => FileInner::Reader(BufReader::with_capacity(64 * 1024, f)),
            Err(e) => return Err(os_error(vm, e, &path)),
        },
        "w" => match std::fs::File::create(&path) {
            Ok(f) => FileInner::Writer(BufWriter::with_capacity(64 * 1024, f)),
            Err(e) => return Err(os_error(vm, e, &path)),
        },
        _ => {
            return Err(vm.err(
                ExcType::ValueError,
                format!("invalid mode: '{}' (pylite supports r, rb, w, wb)", mode),
            ))
        }
    };
    let p = vm.heap.alloc(FileObj {
        h: Header::new(Kind::File),
        inner,
        binary,
    });
    Ok(Value::obj(p))
}

fn closed(vm: &mut Vm) -> Value {
    vm.err(ExcType::ValueError, "I/O operation on closed file.")
}

/// `f.read(n=-1)`.
pub(crate) fn m_read(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "read", &a[1..], 0, 1)?;
    let n = if a.len() == 2 && !a[1].is_none() {
        int_arg(vm, a[1])?
    } else {
        -1
    };
    let f = cast::<FileObj>(a[0]).unwrap();
    let binary = f.binary;
    let r = match &mut f.inner {
        FileInner::Reader(r) => r,
        FileInner::Writer(_) => return Err(vm.err(ExcType::OSError, "File not open for reading")),
        FileInner::Closed => return Err(closed(vm)),
    };
    let mut buf = Vec::new();
    let res = if n < 0 {
        r.read_to_end(&mut buf).map(|_| ())
    } else {
        buf.resize(n as usize, 0);
        let mut got = 0;
        loop {
            match r.read(&mut buf[got..]) {
                Ok(0) => break Ok(()),
                Ok(k) => {
                    got += k;
                    if got == buf.len() {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        }
        .map(|_| buf.truncate(got))
    };
    if let Err(e) = res {
        return Err(vm.err(ExcType::OSError, e.to_string()));
    }
    if binary {
        Ok(vm.new_bytes(buf))
    } else {
        match String::from_utf8(buf) {
            Ok(s) => Ok(vm.new_string(s)),
            Err(_) => Err(vm.err(ExcType::ValueError, "file is not valid UTF-8 (pylite text mode)")),
        }
    }
}

/// `f.write(data)`.
pub(crate) fn m_write(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    arity(vm, "write", &a[1..], 1, 1)?;
    let f = cast::<FileObj>(a[0]).unwrap();
    let data: Vec<u8> = match (f.binary, as_bytes(a[1]), as_str(a[1])) {
        (true, Some(b), _) => b.to_vec(),
        (false, _, Some(s)) => s.as_bytes().to_vec(),
        (true, _, _) => {
            let t = vm.type_name(a[1]);
            return Err(vm.err(
                ExcType::TypeError,
                format!("a bytes-like object is required, not '{}'", t),
            ));
        }
        (false, _, _) => {
            let t = vm.type_name(a[1]);
            return Err(vm.err(ExcType::TypeError, format!("write() argument must be str, not {}", t)));
        }
    };
    let w = match &mut f.inner {
        FileInner::Writer(w) => w,
        FileInner::Reader(_) => return Err(vm.err(ExcType::OSError, "File not open for writing")),
        FileInner::Closed => return Err(closed(vm)),
    };
    if let Err(e) = w.write_all(&data) {
        return Err(vm.err(ExcType::OSError, e.to_string()));
    }
    let n = if f.binary {
        data.len()
    } else {
        as_str(a[1]).unwrap().chars().count()
    };
    Ok(Value::int(n as i64))
}

/// `f.close()`.
pub(crate) fn m_close(vm: &mut Vm, a: &[Value]) -> PyResult<Value> {
    let f = cast::<FileObj>(a[0]).unwrap();
    if let FileInner::Writer(w) = &mut f.inner {
        if let Err(e) = w.flush() {
            return Err(vm.err(ExcType::OSError, e.to_string()));
        }
    }
    f.inner = FileInner::Closed;
    Ok(Value::NONE)
}

impl Vm {
    fn ctx_method(&mut self, ctx: Value, name: &str) -> PyResult<Value> {
        let sym = self.interner.intern(name);
        let m = class_of(ctx).and_then(|c| unsafe { (*c).attrs.get(&sym).copied() });
        match m {
            Some(m) => Ok(m),
            None => {
                let t = self.type_name(ctx);
                Err(self.err(
                    ExcType::TypeError,
                    format!("'{}' object does not support the context manager protocol", t),
                ))
            }
        }
    }

    /// Enters a `with` block.
    pub(crate) fn with_enter(&mut self, ctx: Value) -> PyResult<Value> {
        if ctx.is_kind(Kind::File) {
            return Ok(ctx);
        }
        let m = self.ctx_method(ctx, "__enter__")?;
        self.ctx_method(ctx, "__exit__")?;
        self.call_value(m, &[ctx])
    }

    /// Leaves a `with` block.
    pub(crate) fn with_exit(&mut self, ctx: Value) -> PyResult<()> {
        if ctx.is_kind(Kind::File) {
            m_close(self, &[ctx])?;
            return Ok(());
        }
        let m = self.ctx_method(ctx, "__exit__")?;
        self.call_value(m, &[ctx, Value::NONE, Value::NONE, Value::NONE])?;
        Ok(())
    }
}
