//! # Calls, frames and iteration protocol
//!
//! [`Vm::invoke`] is the single entry point for calling any callable from the
//! interpreter. Calling a Python function *pushes a frame* and returns
//! [`Called::Pushed`]; the dispatch loop then simply continues in the new frame
//! (no Rust recursion for Python-to-Python calls). Natives run immediately and
//! return [`Called::Value`]. Native code that needs a Python result uses
//! [`Vm::call_value`], which marks the pushed frame as an *entry* frame and runs
//! a nested dispatch loop until it returns.
//!
//! Frame setup (`bind_args`) writes every slot of the new window: arguments,
//! defaults, `UNDEF` for other locals and temporaries, and the register
//! constants — the GC relies on no stale values being visible.
//!
//! Generators: calling a generator function allocates a [`GeneratorObj`] whose
//! inline slots *are* the frame; resuming pushes a frame whose `base` points into
//! it, so suspension is just popping the record.

use crate::bytecode::Code;
use crate::error::ExcType;
use crate::object::*;
use crate::value::Value;
use crate::vm::{Frame, FrameKind, Vm, MAX_DEPTH, STACK_SLOTS};

/// The outcome of [`Vm::invoke`].
pub(crate) enum Called {
    /// The call completed with this value.
    Value(Value),
    /// A Python frame was pushed; the interpreter continues there.
    Pushed,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{} {}", n, word)
    } else {
        format!("{} {}s", n, word)
    }
}

fn join_names(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{}'", n)).collect();
    match q.len() {
        1 => q[0].clone(),
        2 => format!("{} and {}", q[0], q[1]),
        _ => format!("{}, and {}", q[..q.len() - 1].join(", "), q[q.len() - 1]),
    }
}

impl Vm {
    /// Calls `callee` with `args`; Python frames return their value into register `dst`.
    #[inline]
    pub(crate) fn invoke(&mut self, callee: Value, args: &[Value], dst: u16) -> PyResult<Called> {
        match callee.kind() {
            Some(Kind::Function) => {
                self.call_function(callee.as_ptr(), None, args, dst, FrameKind::Normal, Value::UNDEF)
            }
            Some(Kind::Builtin) => {
                // SAFETY: kind checked.
                let f = unsafe { cast_unchecked::<BuiltinObj>(callee) }.f;
                Ok(Called::Value(f(self, args)?))
            }
            Some(Kind::Class) => self.instantiate(callee, args, dst),
            Some(Kind::BoundMethod) => {
                // SAFETY: kind checked.
                let bm = unsafe { cast_unchecked::<BoundMethodObj>(callee) };
                let (func, recv) = (bm.func, bm.recv);
                if func.is_kind(Kind::Function) {
                    return self.call_function(func.as_ptr(), Some(recv), args, dst, FrameKind::Normal, Value::UNDEF);
                }
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(recv);
                all.extend_from_slice(args);
                self.invoke(func, &all, dst)
            }
            _ => {
                self.check_bound(callee)?;
                let t = self.type_name(callee);
                Err(self.err(ExcType::TypeError, format!("'{}' object is not callable", t)))
            }
        }
    }

    /// Calls a value from native code and returns its result (runs a nested loop).
    pub fn call_value(&mut self, callee: Value, args: &[Value]) -> PyResult<Value> {
        match self.invoke(callee, args, 0)? {
            Called::Value(v) => Ok(v),
            Called::Pushed => {
                self.frames.last_mut().expect("pushed frame").entry = true;
                self.run_frames()
            }
        }
    }

    /// Pushes a frame for `f` (or creates a generator).
    pub(crate) fn call_function(
        &mut self,
        f: *mut FunctionObj,
        prefix: Option<Value>,
        args: &[Value],
        dst: u16,
        kind: FrameKind,
        init_self: Value,
    ) -> PyResult<Called> {
        // SAFETY: f is a live function; its code is VM-owned.
        let code: &Code = unsafe { &*(*f).code };
        let nslots = code.nslots as usize;
        if code.is_generator {
            let mut slots = vec![Value::UNDEF; nslots];
            self.bind_args(code, f, prefix, args, slots.as_mut_ptr())?;
            let g = self.heap.alloc_generator(code, &slots);
            return Ok(Called::Value(Value::obj(g)));
        }
        let base_idx = self.stack_top;
        if self.frames.len() >= MAX_DEPTH || base_idx + nslots > STACK_SLOTS {
            return Err(self.err(ExcType::RecursionError, "maximum recursion depth exceeded"));
        }
        // SAFETY: base_idx + nslots <= STACK_SLOTS, checked above.
        let base = unsafe { self.stack.add(base_idx) };
        self.bind_args(code, f, prefix, args, base)?;
        self.stack_top += nslots;
        self.frames.push(Frame {
            code,
            base,
            pc: 0,
            ret_dst: dst,
            kind,
            entry: false,
            saved_top: base_idx,
            gen: std::ptr::null_mut(),
            exit_pc: 0,
            init_self,
        });
        if self.heap.wants_gc() {
            self.collect();
        }
        Ok(Called::Pushed)
    }

    fn arg_count_error(&mut self, code: &Code, ndef: usize, given: usize) -> Value {
        let np = code.nparams as usize;
        let msg = if given > np {
            let takes = if ndef > 0 {
                format!("from {} to {}", np - ndef, np)
            } else {
                np.to_string()
            };
            format!(
                "{}() takes {} positional argument{} but {} {} given",
                code.name,
                takes,
                if np == 1 && ndef == 0 { "" } else { "s" },
                given,
                if given == 1 { "was" } else { "were" }
            )
        } else {
            let missing: Vec<String> = code.local_names[given..np - ndef].to_vec();
            format!(
                "{}() missing {}: {}",
                code.name,
                plural(missing.len(), "required positional argument"),
                join_names(&missing)
            )
        };
        self.err(ExcType::TypeError, msg)
    }

    /// Writes a complete frame window at `base` for a call of `f`.
    fn bind_args(
        &mut self,
        code: &Code,
        f: *mut FunctionObj,
        prefix: Option<Value>,
        args: &[Value],
        base: *mut Value,
    ) -> PyResult<()> {
        let np = code.nparams as usize;
        let off = prefix.is_some() as usize;
        let given = args.len() + off;
        // SAFETY: f is live.
        let defaults = unsafe { (*f).defaults.as_slice() };
        let ndef = defaults.len();
        if given > np || given + ndef < np {
            return Err(self.arg_count_error(code, ndef, given));
        }
        // SAFETY: base points at nslots writable slots (caller checked capacity);
        // np <= nlocals <= nslots, and the consts fit by construction.
        unsafe {
            if let Some(p) = prefix {
                base.write(p);
            }
            // Element-wise loops: these windows are small, and a memmove call costs more.
            for (i, &a) in args.iter().enumerate() {
                base.add(off + i).write(a);
            }
            for i in given..np {
                base.add(i).write(defaults[i - (np - ndef)]);
            }
            let nl = code.nlocals as usize;
            for i in np..nl {
                base.add(i).write(Value::UNDEF);
            }
            let nk = code.nregconsts as usize;
            for (i, &k) in code.consts[..nk].iter().enumerate() {
                base.add(nl + i).write(k);
            }
            for i in nl + nk..code.nslots as usize {
                base.add(i).write(Value::UNDEF);
            }
        }
        Ok(())
    }

    /// Calls with keyword arguments: the last `kwnames.len()` args are keywords.
    pub(crate) fn invoke_kw(&mut self, callee: Value, args: &[Value], kwnames: &[Sym], dst: u16) -> PyResult<Called> {
        let npos = args.len() - kwnames.len();
        let (func, prefix, kind, init_self) = match callee.kind() {
            Some(Kind::Function) => (callee, None, FrameKind::Normal, Value::UNDEF),
            Some(Kind::BoundMethod) => {
                let bm = cast::<BoundMethodObj>(callee).unwrap();
                (bm.func, Some(bm.recv), FrameKind::Normal, Value::UNDEF)
            }
            Some(Kind::Class) => {
                let cls = callee.as_ptr::<ClassObj>();
                // SAFETY: live class.
                let init = unsafe { (*cls).attrs.get(&self.names.init).copied() };
                match init {
                    Some(i) if i.is_kind(Kind::Function) => {
                        let inst = Value::obj(self.heap.alloc_instance(cls));
                        (i, Some(inst), FrameKind::Init, inst)
                    }
                    _ => return Err(self.err(ExcType::TypeError, "this class takes no keyword arguments")),
                }
            }
            Some(Kind::Builtin) => {
                let b = cast::<BuiltinObj>(callee).unwrap();
                if b.id == crate::builtins::ID_PRINT {
                    return Ok(Called::Value(crate::builtins::print_kw(
                        self,
                        &args[..npos],
                        kwnames,
                        &args[npos..],
                    )?));
                }
                let name = b.name;
                return Err(self.err(ExcType::TypeError, format!("{}() takes no keyword arguments", name)));
            }
            _ => return self.invoke(callee, args, dst),
        };
        if !func.is_kind(Kind::Function) {
            return Err(self.err(
                ExcType::TypeError,
                "keyword arguments are only supported for Python functions",
            ));
        }
        let f = func.as_ptr::<FunctionObj>();
        // SAFETY: live function, VM-owned code.
        let code: &Code = unsafe { &*(*f).code };
        let np = code.nparams as usize;
        let off = prefix.is_some() as usize;
        let mut full = vec![Value::UNDEF; np.max(npos + off)];
        if let Some(p) = prefix {
            full[0] = p;
        }
        full[off..off + npos].copy_from_slice(&args[..npos]);
        if npos + off > np {
            // SAFETY: live function.
            let ndef = unsafe { (*f).defaults.len() };
            return Err(self.arg_count_error(code, ndef, npos + off));
        }
        for (k, &name) in kwnames.iter().enumerate() {
            let Some(i) = code.param_syms.iter().position(|&p| p == name) else {
                let n = self.interner.name(name).to_string();
                return Err(self.err(
                    ExcType::TypeError,
                    format!("{}() got an unexpected keyword argument '{}'", code.name, n),
                ));
            };
            if !full[i].is_undef() {
                let n = self.interner.name(name).to_string();
                return Err(self.err(
                    ExcType::TypeError,
                    format!("{}() got multiple values for argument '{}'", code.name, n),
                ));
            }
            full[i] = args[npos + k];
        }
        // SAFETY: live function.
        let defaults = unsafe { (*f).defaults.as_slice().to_vec() };
        let first_def = np - defaults.len();
        let mut missing = Vec::new();
        for i in 0..np {
            if full[i].is_undef() {
                if i >= first_def {
                    full[i] = defaults[i - first_def];
                } else {
                    missing.push(code.local_names[i].clone());
                }
            }
        }
        if !missing.is_empty() {
            let msg = format!(
                "{}() missing {}: {}",
                code.name,
                plural(missing.len(), "required positional argument"),
                join_names(&missing)
            );
            return Err(self.err(ExcType::TypeError, msg));
        }
        self.call_function(f, None, &full, dst, kind, init_self)
    }

    /// Calls a class: allocates an instance and runs `__init__`.
    pub(crate) fn instantiate(&mut self, cls_v: Value, args: &[Value], dst: u16) -> PyResult<Called> {
        let cls = cls_v.as_ptr::<ClassObj>();
        let inst = Value::obj(self.heap.alloc_instance(cls));
        // SAFETY: live class.
        let (init, flags, name) = unsafe { ((*cls).attrs.get(&self.names.init).copied(), (*cls).flags, &(*cls).name) };
        match init {
            Some(f) if f.is_kind(Kind::Function) => {
                self.call_function(f.as_ptr(), Some(inst), args, dst, FrameKind::Init, inst)
            }
            Some(other) => {
                let mut all = vec![inst];
                all.extend_from_slice(args);
                self.call_value(other, &all)?;
                Ok(Called::Value(inst))
            }
            None if flags & CLASS_EXCEPTION != 0 => {
                let t = self.new_tuple(args.to_vec());
                // SAFETY: exception classes have the `args` slot 0 (inherited first).
                unsafe { *Instance::slot_ptr(inst.as_ptr(), 0) = t };
                Ok(Called::Value(inst))
            }
            None => {
                if !args.is_empty() {
                    let msg = format!("{}() takes no arguments", name);
                    return Err(self.err(ExcType::TypeError, msg));
                }
                Ok(Called::Value(inst))
            }
        }
    }

    // ------------------------------------------------------------------ iteration

    /// `iter(v)`.
    pub(crate) fn get_iter(&mut self, v: Value) -> PyResult<Value> {
        match v.kind() {
            Some(Kind::List) | Some(Kind::Tuple) | Some(Kind::Str) | Some(Kind::Bytes) => {
                let p = self.heap.alloc(SeqIterObj {
                    h: Header::new(Kind::SeqIter),
                    seq: v,
                    idx: 0,
                });
                Ok(Value::obj(p))
            }
            Some(Kind::Range) => {
                let r = cast::<RangeObj>(v).unwrap();
                let (cur, stop, step) = (r.start, r.stop, r.step);
                let p = self.heap.alloc(RangeIterObj {
                    h: Header::new(Kind::RangeIter),
                    cur,
                    stop,
                    step,
                });
                Ok(Value::obj(p))
            }
            Some(Kind::Generator) | Some(Kind::RangeIter) | Some(Kind::SeqIter) => Ok(v),
            Some(Kind::Instance) => {
                let cls = class_of(v).unwrap();
                // SAFETY: live class.
                let m = unsafe { (*cls).attrs.get(&self.names.iter).copied() };
                match m {
                    Some(m) => self.call_value(m, &[v]),
                    None => {
                        let t = self.type_name(v);
                        Err(self.err(ExcType::TypeError, format!("'{}' object is not iterable", t)))
                    }
                }
            }
            _ => {
                self.check_bound(v)?;
                let t = self.type_name(v);
                Err(self.err(ExcType::TypeError, format!("'{}' object is not iterable", t)))
            }
        }
    }

    /// Advances a sequence iterator.
    pub(crate) fn seq_iter_next(&mut self, it: &mut SeqIterObj) -> Option<Value> {
        let i = it.idx;
        let v = match it.seq.kind()? {
            Kind::List | Kind::Tuple => *as_seq(it.seq)?.get(i)?,
            Kind::Bytes => Value::int(*as_bytes(it.seq)?.get(i)? as i64),
            Kind::Str => {
                let s = as_str(it.seq)?;
                let c = s.get(i..)?.chars().next()?;
                it.idx += c.len_utf8();
                let mut b = [0u8; 4];
                return Some(self.new_str(c.encode_utf8(&mut b)));
            }
            _ => return None,
        };
        it.idx += 1;
        Some(v)
    }

    /// Resumes a generator from native code; `None` when it finishes.
    pub(crate) fn gen_next(&mut self, g: *mut GeneratorObj) -> PyResult<Option<Value>> {
        // SAFETY: g is a live generator.
        let gen = unsafe { &mut *g };
        match gen.state {
            GEN_DONE => return Ok(None),
            GEN_RUNNING => return Err(self.err(ExcType::ValueError, "generator already executing")),
            _ => {}
        }
        if self.frames.len() >= MAX_DEPTH {
            return Err(self.err(ExcType::RecursionError, "maximum recursion depth exceeded"));
        }
        gen.state = GEN_RUNNING;
        self.frames.push(Frame {
            code: gen.code,
            base: unsafe { GeneratorObj::slots_ptr(g) },
            pc: gen.pc,
            ret_dst: 0,
            kind: FrameKind::Gen,
            entry: true,
            saved_top: self.stack_top,
            gen: g,
            exit_pc: 0,
            init_self: Value::UNDEF,
        });
        let v = self.run_frames()?;
        Ok(if v.is_undef() { None } else { Some(v) })
    }

    /// `next(it)` for any iterator; `None` when exhausted.
    pub(crate) fn iter_next(&mut self, it: Value) -> PyResult<Option<Value>> {
        match it.kind() {
            Some(Kind::RangeIter) => {
                let r = cast::<RangeIterObj>(it).unwrap();
                if (r.step > 0 && r.cur < r.stop) || (r.step < 0 && r.cur > r.stop) {
                    let v = r.cur;
                    r.cur = r.cur.checked_add(r.step).unwrap_or(r.stop);
                    Ok(Some(Value::int(v)))
                } else {
                    Ok(None)
                }
            }
            Some(Kind::SeqIter) => {
                let s = cast::<SeqIterObj>(it).unwrap();
                Ok(self.seq_iter_next(s))
            }
            Some(Kind::Generator) => self.gen_next(it.as_ptr()),
            Some(Kind::Instance) => {
                let cls = class_of(it).unwrap();
                // SAFETY: live class.
                let m = unsafe { (*cls).attrs.get(&self.names.next).copied() };
                let Some(m) = m else {
                    let t = self.type_name(it);
                    return Err(self.err(ExcType::TypeError, format!("'{}' object is not an iterator", t)));
                };
                match self.call_value(m, &[it]) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) if self.exc_is(e, ExcType::StopIteration) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            _ => {
                let t = self.type_name(it);
                Err(self.err(ExcType::TypeError, format!("'{}' object is not an iterator", t)))
            }
        }
    }

    /// Collects any iterable into a vector (rooting partial results while Python code runs).
    pub(crate) fn collect_iterable(&mut self, v: Value) -> PyResult<Vec<Value>> {
        if let Some(items) = as_seq(v) {
            return Ok(items.to_vec());
        }
        let it = self.get_iter(v)?;
        let acc = self.new_list(Vec::new());
        self.temp_roots.push(it);
        self.temp_roots.push(acc);
        let result = loop {
            match self.iter_next(it) {
                Ok(Some(x)) => cast::<ListObj>(acc).unwrap().items.push(x),
                Ok(None) => break Ok(as_seq(acc).unwrap().to_vec()),
                Err(e) => break Err(e),
            }
        };
        self.temp_roots.pop();
        self.temp_roots.pop();
        result
    }
}
