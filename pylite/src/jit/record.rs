//! # Recording pylite bytecode
//!
//! While the engine records, the interpreter calls [`record`] *before* it executes
//! each instruction, with the frame's registers as they are. The recorder mirrors the
//! frame (slot → traced value), so each instruction becomes the IR of what the
//! interpreter is about to do *on these operand types*, with guards for every
//! assumption: the tags it sees (a slot's type), the way a branch goes, no overflow,
//! an object's class, a global's value. A guard resumes at the instruction itself with
//! the state before it, so the interpreter simply executes it again.
//!
//! What is traced, instruction by instruction:
//!
//! | bytecode | trace |
//! |---|---|
//! | int `+ - *` | `iadd_ovf`… + `guard_no_overflow` |
//! | float / mixed arithmetic, `/` | `fadd`…, `i2f` for the int side, a zero-divisor guard |
//! | `//`, `%` on ints (divisor > 0) | `idiv`/`irem` + a floor correction with `select` |
//! | comparisons, branches, `is`, `not` | the compare + `guard_true`/`guard_false` |
//! | `for i in range` | compare with stop, `iadd_ovf` on the counter |
//! | globals, module attributes | a load of the value's words; objects promoted to constants |
//! | `obj.attr` on an instance | `guard_class`, `getfield` tag + word |
//! | calls of Python functions, methods, classes, property getters | inlined: one more frame (`__init__` on a `new` instance) |
//! | `abs`, `len` | inline ops |
//! | other builtins | a residual call ([`super::natives`]) with the builtin's effects |
//! | tuples, unpacking | `new tuple<n>` + `setfield`s; `getfield`s |
//! | a comprehension's append | a call of [`super::natives::list_append`] |
//! | list items | bounds guards and raw loads/stores |
//! | `for x in` a list, tuple or range iterator; `f(*t)` | [`super::iter`] |
//! | `for x in` a generator or an iterator class; `yield` | the body inlined: [`super::generators`] |
//!
//! Anything else aborts the recording (the interpreter keeps going; the location backs
//! off and is eventually blacklisted). Recording never changes what the interpreter
//! does.

use super::natives::entry_for;
use super::values::const_tv;
use super::world::{kind_word, InlineLayout, World};
use crate::bytecode::*;
use crate::object::*;
use crate::value::*;
use crate::vm::{FrameKind, Vm};
use leones_ir::descr::EffectInfo;
use leones_ir::interp::Val;
use leones_ir::{BinaryOp, MemType, Type, UnaryOp};
use leones_tracer::{Abort, CallRef, Recorder, Tv};

/// A residual call whose result tag is only known once the interpreter has run it:
/// emitted just before the next instruction is recorded.
pub(crate) struct PostCall {
    pub dst: u16,
    pub callee: u64,
    pub tags: u64,
    pub words: Vec<Tv>,
    pub name: String,
    pub effects: EffectInfo,
}

/// The recording context for one instruction.
pub(crate) struct Rec<'a> {
    pub r: &'a mut Recorder,
    pub w: &'a mut World,
    pub roots: &'a mut Vec<Value>,
    pub vm: &'a Vm,
    pub code: &'a Code,
    pub regs: *const Value,
    pub post: &'a mut Option<PostCall>,
    /// The generator frames inlined so far in this recording ([`super::generators`]).
    pub gens: &'a mut Vec<super::generators::GenResume>,
    /// The lazy values of this recording ([`super::lazy`]).
    pub lazy: &'a mut Vec<Tv>,
}

fn unsupported(what: impl Into<String>) -> Abort {
    Abort::Unsupported(what.into())
}

/// The effects of builtin `name` as a residual call (see the crate's JIT docs).
fn builtin_effects(name: &str, all_int_args: bool) -> EffectInfo {
    match name {
        // gcd of two ints: always an int, never raises.
        "gcd" if all_int_args => EffectInfo::pure(),
        "isqrt" | "sqrt" => EffectInfo {
            may_raise: true,
            ..EffectInfo::pure()
        },
        // bytes are immutable: unpack_from reads nothing the trace can write.
        "unpack_from" | "calcsize" => EffectInfo {
            may_raise: true,
            may_alloc: true,
            ..EffectInfo::none()
        },
        // f.read: the file's state is not a location the JIT knows; allocates bytes.
        "read" => EffectInfo {
            may_raise: true,
            may_alloc: true,
            ..EffectInfo::none()
        },
        // The talk's native blocker: pylite declares what a C extension's author would,
        // that it touches no VM object (so every heap fact survives it) and cannot
        // raise (a recorded call has the arity it accepts). The optimizer sees a call
        // it cannot look into and cannot remove (not pure).
        "opaque_noop" => EffectInfo::none(),
        // print, opaque_call (it runs arbitrary Python) and everything else.
        _ => EffectInfo::opaque(),
    }
}

impl Rec<'_> {
    pub(super) fn reg(&self, i: u16) -> Value {
        // SAFETY: register operands are < nslots (compiler invariant).
        unsafe { *self.regs.add(i as usize) }
    }
    /// The traced value of slot `i`; a lazy value is forced (its tag guarded) first.
    pub(super) fn slot(&mut self, i: u16) -> Result<Tv, Abort> {
        let tv = self.r.slot(i as usize)?;
        if self.is_lazy(tv) {
            return self.force_lazy(i, tv);
        }
        Ok(tv)
    }
    pub(super) fn set(&mut self, i: u16, tv: Tv) -> Result<(), Abort> {
        self.r.set_slot(i as usize, tv)
    }
    pub(super) fn int(&self, k: i64) -> Tv {
        self.r.constant(k)
    }
    pub(super) fn bin(&mut self, op: BinaryOp, a: Tv, b: Tv) -> Result<Tv, Abort> {
        self.r.binary(op, a, b)
    }
    /// Keeps `v` alive as long as the JIT (compiled code may embed its address).
    pub(super) fn keep(&mut self, v: Value) {
        if v.is_obj() && !self.roots.iter().any(|r| r.is(v)) {
            self.roots.push(v);
        }
    }
    /// Specializes on object `v` held by `tv`: a constant from here on.
    pub(super) fn promote_obj(&mut self, tv: Tv, v: Value) -> Result<Tv, Abort> {
        self.keep(v);
        self.r.promote(tv, Val::Ref(v.payload))
    }

    /// Guards that `tv` (seen as `v`) is an instance of its class; its layout.
    pub(super) fn guard_instance(&mut self, tv: Tv, v: Value) -> Result<InlineLayout, Abort> {
        let cls = class_of(v).ok_or_else(|| unsupported("not an instance"))?;
        self.keep(Value::obj(cls));
        let l = self.w.class(cls).map_err(Abort::Invalid)?;
        self.r.guard_null(tv, false)?;
        self.r.guard_class(tv, l.layout)?;
        Ok(l)
    }

    /// Guards that `tv` is a tuple of exactly `v`'s length; its layout.
    pub(super) fn guard_tuple(&mut self, tv: Tv, v: Value) -> Result<InlineLayout, Abort> {
        // SAFETY: the caller checked the kind.
        let n = unsafe { (*v.as_ptr::<TupleObj>()).len };
        let l = self.w.tuple(n).map_err(Abort::Invalid)?;
        self.r.guard_null(tv, false)?;
        let k = self.r.getfield(tv, l.kind)?;
        self.guard_eq(k, kind_word(Kind::Tuple))?;
        let c = self.r.getfield(tv, l.count)?;
        self.guard_eq(c, n as i64)?;
        Ok(l)
    }

    /// Guards that `tv` is an object of built-in kind `kind`.
    pub(super) fn guard_kind(&mut self, tv: Tv, kind: Kind) -> Result<(), Abort> {
        self.r.guard_null(tv, false)?;
        let k = self.r.getfield(tv, self.w.object_kind)?;
        self.guard_eq(k, kind_word(kind))
    }

    /// The value at raw address `addr` (a `Value` in memory), seen as `seen`.
    /// Definitions (functions, classes, builtins, modules: what globals and module
    /// attributes mostly hold, bound once) are promoted to constants. Other objects
    /// are not: a module-level loop rebinds its variables, which are globals, to new
    /// instances, lists and tuples on every iteration, and a promoted one failed its
    /// `guard_value` every time, each failure growing one more bridge specialized to
    /// an object that was already garbage (and kept alive for the trace's sake).
    fn load_value(&mut self, addr: *const Value, seen: Value) -> Result<Tv, Abort> {
        let p = Tv::constant(Val::Ptr(addr as u64));
        let tag = self.r.load(MemType::I64, p, 0)?;
        let tv = self.read_value(tag, |s| s.r.load(MemType::I64, p, 8), seen)?;
        if matches!(
            seen.kind(),
            Some(Kind::Function | Kind::Class | Kind::Builtin | Kind::Module)
        ) {
            return self.promote_obj(tv, seen);
        }
        Ok(tv)
    }

    /// Reads inline value `i` of an instance or tuple.
    pub(super) fn get_inline(&mut self, obj: Tv, l: &InlineLayout, i: usize, seen: Value) -> Result<Tv, Abort> {
        let f = l.values[i];
        let tag = self.r.getfield(obj, f.tag)?;
        self.read_value(tag, |s| s.r.getfield(obj, f.word), seen)
    }

    /// Writes inline value `i` of an instance or tuple.
    pub(super) fn set_inline(&mut self, obj: Tv, l: &InlineLayout, i: usize, v: Tv, seen: Value) -> Result<(), Abort> {
        let (tag, word) = self.value_words(v, seen)?;
        let f = l.values[i];
        let t = self.int(tag as i64);
        self.r.setfield(obj, f.tag, t)?;
        self.r.setfield(obj, f.word, word)
    }

    /// The length of a tuple (a constant, after the shape guard), list or bytes;
    /// `None` for other kinds.
    fn seq_len(&mut self, tv: Tv, v: Value) -> Result<Option<Tv>, Abort> {
        Ok(Some(match v.kind() {
            Some(Kind::Tuple) => {
                self.guard_tuple(tv, v)?;
                // SAFETY: kind checked.
                Tv::constant(unsafe { (*v.as_ptr::<TupleObj>()).len } as i64)
            }
            Some(k @ (Kind::List | Kind::Bytes)) => {
                self.guard_kind(tv, k)?;
                let f = if k == Kind::List {
                    self.w.list_len
                } else {
                    self.w.bytes_len
                };
                self.r.getfield(tv, f)?
            }
            _ => return Ok(None),
        }))
    }

    /// A traced operand as f64 (ints converted).
    fn as_float(&mut self, tv: Tv, v: Value) -> Result<Tv, Abort> {
        match v.tag {
            TAG_FLOAT => Ok(tv),
            TAG_INT => self.r.unary(UnaryOp::I2F, tv),
            _ => Err(unsupported("float operand of another type")),
        }
    }

    /// Python truthiness of `tv` (seen as `v`).
    fn truth(&mut self, tv: Tv, v: Value) -> Result<Tv, Abort> {
        match v.tag {
            TAG_BOOL => Ok(tv),
            TAG_INT => {
                let z = self.int(0);
                self.bin(BinaryOp::INe, tv, z)
            }
            TAG_FLOAT => {
                let z = self.r.constant(0.0f64);
                self.bin(BinaryOp::FNe, tv, z)
            }
            TAG_NONE => {
                self.r.guard_null(tv, true)?;
                Ok(Tv::constant(false))
            }
            _ => match v.kind() {
                Some(Kind::Instance) => {
                    self.guard_instance(tv, v)?;
                    Ok(Tv::constant(true))
                }
                Some(Kind::Tuple | Kind::List | Kind::Bytes) => {
                    let n = self.seq_len(tv, v)?.ok_or_else(|| unsupported("length"))?;
                    let z = self.int(0);
                    self.bin(BinaryOp::INe, n, z)
                }
                _ => Err(unsupported("truth of this kind of object")),
            },
        }
    }

    /// `a <op> b` for a comparison; `None` when the operand types are not traced.
    fn compare(&mut self, op: CmpKind, a: u16, b: u16) -> Result<Tv, Abort> {
        let (x, y) = (self.reg(a), self.reg(b));
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        let ops = match (x.tag, y.tag) {
            (TAG_INT, TAG_INT) => [
                BinaryOp::ILt,
                BinaryOp::ILe,
                BinaryOp::IGt,
                BinaryOp::IGe,
                BinaryOp::IEq,
                BinaryOp::INe,
            ],
            (TAG_FLOAT, TAG_FLOAT) => [
                BinaryOp::FLt,
                BinaryOp::FLe,
                BinaryOp::FGt,
                BinaryOp::FGe,
                BinaryOp::FEq,
                BinaryOp::FNe,
            ],
            _ => return Err(unsupported("comparison of mixed types")),
        };
        self.bin(ops[op as usize], ta, tb)
    }

    /// `a is b`.
    fn is(&mut self, a: u16, b: u16) -> Result<Tv, Abort> {
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        if ta.ty() != tb.ty() {
            return Ok(Tv::constant(false));
        }
        match ta.ty() {
            Type::I64 => self.bin(BinaryOp::IEq, ta, tb),
            Type::Ref => self.bin(BinaryOp::REq, ta, tb),
            Type::Bool => {
                let x = self.bin(BinaryOp::BXor, ta, tb)?;
                self.r.unary(UnaryOp::BNot, x)
            }
            Type::F64 => {
                let x = self.r.unary(UnaryOp::F2Bits, ta)?;
                let y = self.r.unary(UnaryOp::F2Bits, tb)?;
                self.bin(BinaryOp::IEq, x, y)
            }
            Type::Ptr => Err(Abort::Invalid("a raw pointer in a frame slot".into())),
        }
    }

    /// `+ - *` on the operands of `dst = a op b`.
    fn arith(&mut self, dst: u16, a: u16, b: u16, int_op: BinaryOp, float_op: BinaryOp) -> Result<(), Abort> {
        let (x, y) = (self.reg(a), self.reg(b));
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        let r = if x.is_int() && y.is_int() {
            let (p, q) = (x.as_int(), y.as_int());
            let overflowed = match int_op {
                BinaryOp::IAddOvf => p.checked_add(q).is_none(),
                BinaryOp::ISubOvf => p.checked_sub(q).is_none(),
                _ => p.checked_mul(q).is_none(),
            };
            self.r.binary_ovf(int_op, ta, tb, overflowed)?
        } else if (x.is_float() || y.is_float()) && (x.is_int() || x.is_float()) && (y.is_int() || y.is_float()) {
            let (fa, fb) = (self.as_float(ta, x)?, self.as_float(tb, y)?);
            self.bin(float_op, fa, fb)?
        } else {
            return Err(unsupported("arithmetic on these types"));
        };
        self.set(dst, r)
    }

    /// `//` and `%` on ints with a positive divisor (Python's floor semantics).
    fn floor_divmod(&mut self, dst: u16, a: u16, b: u16, want_mod: bool) -> Result<(), Abort> {
        let (x, y) = (self.reg(a), self.reg(b));
        if !(x.is_int() && y.is_int() && y.as_int() > 0) {
            return Err(unsupported("// or % outside ints with a positive divisor"));
        }
        let (ta, tb) = (self.slot(a)?, self.slot(b)?);
        let z = self.int(0);
        let pos = self.bin(BinaryOp::IGt, tb, z)?;
        self.r.guard(pos, true)?;
        let rem = self.bin(BinaryOp::IRem, ta, tb)?;
        let neg = self.bin(BinaryOp::ILt, rem, z)?;
        let r = if want_mod {
            let fixed = self.bin(BinaryOp::IAdd, rem, tb)?;
            self.r.select(neg, fixed, rem)?
        } else {
            let q = self.bin(BinaryOp::IDiv, ta, tb)?;
            let one = self.int(1);
            let fixed = self.bin(BinaryOp::ISub, q, one)?;
            self.r.select(neg, fixed, q)?
        };
        self.set(dst, r)
    }

    /// The parameters of Python function `f` called with `args`: the arguments, then
    /// the (constant) defaults of the missing ones. A wrong count is not traced (the
    /// interpreter raises the error).
    pub(super) fn bind_args(&mut self, f: *mut FunctionObj, args: &[Tv]) -> Result<Vec<Tv>, Abort> {
        // SAFETY: live function; VM-owned code.
        let code: &Code = unsafe { &*(*f).code };
        let np = code.nparams as usize;
        let defaults = unsafe { (*f).defaults.as_slice() };
        if args.len() > np || args.len() + defaults.len() < np {
            return Err(unsupported("a call with the wrong number of arguments"));
        }
        let mut all = args.to_vec();
        for i in args.len()..np {
            let d = defaults[i - (np - defaults.len())];
            self.keep(d);
            all.push(const_tv(d).ok_or_else(|| unsupported("an unbound default"))?);
        }
        Ok(all)
    }

    /// Pushes an inlined frame for Python function `f` called with `args` (receiver
    /// first for methods); the interpreter pushes the same frame when it executes the
    /// call at `pc`.
    pub(super) fn inline_call(&mut self, pc: usize, f: *mut FunctionObj, args: &[Tv]) -> Result<(), Abort> {
        // SAFETY: live function; VM-owned code.
        let code: &Code = unsafe { &*(*f).code };
        if code.is_generator {
            return Err(unsupported("inlining a generator function"));
        }
        let all = self.bind_args(f, args)?;
        let frame = self.w.frame(code).map_err(Abort::Invalid)?;
        self.r.push_frame(frame, pc as u32, &all)?;
        let nl = code.nlocals as usize;
        for (i, &k) in code.consts[..code.nregconsts as usize].iter().enumerate() {
            if let Some(tv) = const_tv(k) {
                self.r.set_slot(nl + i, tv)?;
            }
        }
        Ok(())
    }

    /// A call of `callee` (seen as `cv`) with `args` (traced, and seen).
    pub(super) fn call(
        &mut self,
        pc: usize,
        dst: u16,
        callee: Tv,
        cv: Value,
        args: &[(Tv, Value)],
    ) -> Result<(), Abort> {
        let tvs: Vec<Tv> = args.iter().map(|a| a.0).collect();
        match cv.kind() {
            Some(Kind::Function) => {
                self.promote_obj(callee, cv)?;
                // SAFETY: a live function.
                if unsafe { (*(*cv.as_ptr::<FunctionObj>()).code).is_generator } {
                    return self.new_generator(dst, cv.as_ptr(), args);
                }
                self.inline_call(pc, cv.as_ptr(), &tvs)
            }
            Some(Kind::Class) => {
                let cls = cv.as_ptr::<ClassObj>();
                // SAFETY: live class.
                let (init, flags) = unsafe { ((*cls).attrs.get(&self.vm.names.init).copied(), (*cls).flags) };
                let Some(init) = init.filter(|f| f.is_kind(Kind::Function) && flags & CLASS_EXCEPTION == 0) else {
                    return Err(unsupported("instantiating a class without a Python __init__"));
                };
                self.promote_obj(callee, cv)?;
                self.keep(init);
                let l = self.w.class(cls).map_err(Abort::Invalid)?;
                let inst = self.r.new_object(l.layout)?;
                let k = self.int(kind_word(Kind::Instance));
                self.r.setfield(inst, l.kind, k)?;
                let n = self.int(l.values.len() as i64);
                self.r.setfield(inst, l.count, n)?;
                let mut all = vec![inst];
                all.extend(tvs);
                self.inline_call(pc, init.as_ptr(), &all)
            }
            Some(Kind::Builtin) => {
                self.promote_obj(callee, cv)?;
                // SAFETY: kind checked.
                let b = unsafe { &*cv.as_ptr::<BuiltinObj>() };
                if let Some(tv) = self.intrinsic(b.name, args)? {
                    return self.set(dst, tv);
                }
                self.residual(dst, cv, b.name, args)
            }
            _ => Err(unsupported("calling this kind of object")),
        }
    }

    /// `struct.unpack_from(fmt, buf[, offset])` for a constant format of native
    /// doubles (`'dddddd'`): raw loads from the bytes' data into a new tuple, which
    /// escape analysis then removes when the tuple is only unpacked. `None` for any
    /// other format or argument types (the residual call handles those).
    fn unpack_doubles(&mut self, args: &[(Tv, Value)]) -> Result<Option<Tv>, Abort> {
        let (fmt, buf) = match args {
            [f, b] | [f, b, _] => (*f, *b),
            _ => return Ok(None),
        };
        let Some(text) = as_str(fmt.1) else { return Ok(None) };
        let spec = text.trim_start_matches(['@', '=', '<']);
        if spec.is_empty() || !spec.bytes().all(|c| c == b'd') || !buf.1.is_kind(Kind::Bytes) {
            return Ok(None);
        }
        let n = spec.len();
        let (off, off_seen) = match args.get(2) {
            Some(&(tv, v)) if v.is_int() && v.as_int() >= 0 => (tv, v.as_int()),
            Some(_) => return Ok(None),
            None => (self.int(0), 0),
        };
        if off_seen as usize + 8 * n > as_bytes(buf.1).map_or(0, |b| b.len()) {
            return Ok(None);
        }
        self.promote_obj(fmt.0, fmt.1)?;
        self.guard_kind(buf.0, Kind::Bytes)?;
        let z = self.int(0);
        let nonneg = self.bin(BinaryOp::IGe, off, z)?;
        self.r.guard(nonneg, true)?;
        let len = self.r.getfield(buf.0, self.w.bytes_len)?;
        let size = self.int(8 * n as i64);
        let end = self.bin(BinaryOp::IAdd, off, size)?;
        let fits = self.bin(BinaryOp::ILe, end, len)?;
        self.r.guard(fits, true)?;
        let data = self.r.getfield(buf.0, self.w.bytes_ptr)?;
        let at = self.bin(BinaryOp::PtrAdd, data, off)?;
        let l = self.w.tuple(n).map_err(Abort::Invalid)?;
        let t = self.r.new_object(l.layout)?;
        let k = self.int(kind_word(Kind::Tuple));
        self.r.setfield(t, l.kind, k)?;
        let c = self.int(n as i64);
        self.r.setfield(t, l.count, c)?;
        let float_tag = self.int(TAG_FLOAT as i64);
        for i in 0..n {
            let f = self.r.load(MemType::F64, at, 8 * i as i64)?;
            let w = self.r.unary(UnaryOp::F2Bits, f)?;
            self.r.setfield(t, l.values[i].tag, float_tag)?;
            self.r.setfield(t, l.values[i].word, w)?;
        }
        Ok(Some(t))
    }

    /// Builtins traced as plain ops; `None` when `name` is not one of them.
    fn intrinsic(&mut self, name: &str, args: &[(Tv, Value)]) -> Result<Option<Tv>, Abort> {
        if name == "unpack_from" {
            return self.unpack_doubles(args);
        }
        if name == "range" {
            return self.range_object(args);
        }
        let &[(tv, v)] = args else { return Ok(None) };
        Ok(Some(match (name, v.tag) {
            ("abs", TAG_FLOAT) => self.r.unary(UnaryOp::FAbs, tv)?,
            ("abs", TAG_INT) => {
                let z = self.int(0);
                let neg = self.r.binary_ovf(BinaryOp::ISubOvf, z, tv, v.as_int() == i64::MIN)?;
                let lt = self.bin(BinaryOp::ILt, tv, z)?;
                self.r.select(lt, neg, tv)?
            }
            ("len", TAG_OBJ) => match self.seq_len(tv, v)? {
                Some(n) => n,
                _ => return Ok(None),
            },
            _ => return Ok(None),
        }))
    }

    /// A residual call of builtin `cv`; emitted once its result is known ([`PostCall`]).
    fn residual(&mut self, dst: u16, cv: Value, name: &str, args: &[(Tv, Value)]) -> Result<(), Abort> {
        if entry_for(args.len()).is_none() {
            return Err(unsupported("a builtin call with many arguments"));
        }
        let mut tags = 0u64;
        let mut words = Vec::with_capacity(args.len());
        for (i, &(tv, v)) in args.iter().enumerate() {
            let (tag, word) = self.value_words(tv, v)?;
            tags |= tag << (4 * i);
            words.push(word);
        }
        let all_int = args.iter().all(|a| a.1.is_int());
        *self.post = Some(PostCall {
            dst,
            callee: cv.payload,
            tags,
            words,
            name: name.to_string(),
            effects: builtin_effects(name, all_int),
        });
        Ok(())
    }

    /// Emits the residual call of [`PostCall`] now that its result `result` is known.
    pub fn finish_call(&mut self, p: PostCall, result: Value) -> Result<(), Abort> {
        let n = p.words.len();
        let entry = entry_for(n).ok_or_else(|| unsupported("arity"))?;
        let params = vec![Type::I64; 3 + n];
        let c: CallRef = self
            .w
            .call(&format!("{}_{}", p.name, n), entry, &params, Some(Type::I64), p.effects)
            .map_err(Abort::Invalid)?;
        let mut args = vec![
            self.int(p.callee as i64),
            self.int(p.tags as i64),
            self.int(result.tag as i64),
        ];
        args.extend(p.words);
        let word = self
            .r
            .call(c, &args, false)?
            .ok_or_else(|| Abort::Invalid("no result".into()))?;
        let tv = match result.tag {
            TAG_INT => word,
            TAG_FLOAT => self.r.unary(UnaryOp::Bits2F, word)?,
            TAG_BOOL => {
                let z = self.int(0);
                self.bin(BinaryOp::INe, word, z)?
            }
            TAG_NONE => Tv::constant(Val::Ref(0)),
            TAG_OBJ => self.r.unary(UnaryOp::I2Ref, word)?,
            _ => return Err(unsupported("a builtin returned an unbound value")),
        };
        self.set(p.dst, tv)
    }

    /// The address of the value list item `i` of a list (raw pointer arithmetic).
    fn list_item_addr(&mut self, list: Tv, idx: Tv, i: i64, len: usize) -> Result<Tv, Abort> {
        if i < 0 || i as usize >= len {
            return Err(unsupported("a negative or out-of-range list index"));
        }
        self.guard_kind(list, Kind::List)?;
        let n = self.r.getfield(list, self.w.list_len)?;
        let z = self.int(0);
        let ge = self.bin(BinaryOp::IGe, idx, z)?;
        self.r.guard(ge, true)?;
        let lt = self.bin(BinaryOp::ILt, idx, n)?;
        self.r.guard(lt, true)?;
        let items = self.r.getfield(list, self.w.list_ptr)?;
        let sixteen = self.int(16);
        let off = self.bin(BinaryOp::IMul, idx, sixteen)?;
        self.bin(BinaryOp::PtrAdd, items, off)
    }
}

/// Comparison kinds, in the order of the op tables in [`Rec::compare`].
#[derive(Copy, Clone)]
enum CmpKind {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// Records instruction `pc` of the current frame; see the [module docs](self).
pub(crate) fn record(x: &mut Rec, pc: usize) -> Result<(), Abort> {
    x.r.set_pc(pc as u32)?;
    let ins = x.code.instrs[pc];
    use Instr::*;
    match ins {
        Nop | Jump { .. } | Loop { .. } | CheckBound { .. } => {}
        Move { dst, src } => {
            let v = x.slot(src)?;
            x.set(dst, v)?;
        }
        LoadConst { dst, k } => {
            let v = x.code.consts[k as usize];
            x.keep(v);
            let tv = const_tv(v).ok_or_else(|| unsupported("an unbound constant"))?;
            x.set(dst, tv)?;
        }
        LoadGlobal { dst, g } => {
            let addr = &x.vm.globals[g as usize] as *const Value;
            let seen = x.vm.globals[g as usize];
            let tv = x.load_value(addr, seen)?;
            x.set(dst, tv)?;
        }
        StoreGlobal { g, src } => {
            let addr = &x.vm.globals[g as usize] as *const Value as u64;
            let (tv, seen) = (x.slot(src)?, x.reg(src));
            let (tag, word) = x.value_words(tv, seen)?;
            let p = Tv::constant(Val::Ptr(addr));
            let t = x.int(tag as i64);
            x.r.store(MemType::I64, p, 0, t)?;
            x.r.store(MemType::I64, p, 8, word)?;
        }
        Add { dst, a, b } => x.arith(dst, a, b, BinaryOp::IAddOvf, BinaryOp::FAdd)?,
        Sub { dst, a, b } => x.arith(dst, a, b, BinaryOp::ISubOvf, BinaryOp::FSub)?,
        Mul { dst, a, b } => x.arith(dst, a, b, BinaryOp::IMulOvf, BinaryOp::FMul)?,
        Div { dst, a, b } => {
            let (p, q) = (x.reg(a), x.reg(b));
            let (ta, tb) = (x.slot(a)?, x.slot(b)?);
            let (fa, fb) = (x.as_float(ta, p)?, x.as_float(tb, q)?);
            if q.as_number() == Some(0.0) {
                return Err(unsupported("division by zero"));
            }
            let z = x.r.constant(0.0f64);
            let nz = x.bin(BinaryOp::FNe, fb, z)?;
            x.r.guard(nz, true)?;
            let r = x.bin(BinaryOp::FDiv, fa, fb)?;
            x.set(dst, r)?;
        }
        FloorDiv { dst, a, b } => x.floor_divmod(dst, a, b, false)?,
        Mod { dst, a, b } => x.floor_divmod(dst, a, b, true)?,
        BitAnd { dst, a, b } | BitOr { dst, a, b } | BitXor { dst, a, b } => {
            if !(x.reg(a).is_int() && x.reg(b).is_int()) {
                return Err(unsupported("bit operations outside ints"));
            }
            let op = match ins {
                BitAnd { .. } => BinaryOp::IAnd,
                BitOr { .. } => BinaryOp::IOr,
                _ => BinaryOp::IXor,
            };
            let (ta, tb) = (x.slot(a)?, x.slot(b)?);
            let r = x.bin(op, ta, tb)?;
            x.set(dst, r)?;
        }
        Shr { dst, a, b } => {
            // Python's `>>` on ints: a negative count raises (left to the
            // interpreter), a count of 64 or more gives the sign (0 or -1), which is
            // `ishr a, 63`. The IR's `ishr` takes the count mod 64, so the trace
            // guards which of the two ranges the recorded count was in.
            let count = x.reg(b);
            if !(x.reg(a).is_int() && count.is_int()) {
                return Err(unsupported("shifts outside ints"));
            }
            if count.as_int() < 0 {
                return Err(unsupported("a negative shift count"));
            }
            let (ta, tb) = (x.slot(a)?, x.slot(b)?);
            let limit = x.int(64);
            let below = x.bin(BinaryOp::ILt, tb, limit)?;
            let r = if count.as_int() < 64 {
                x.r.guard(below, true)?;
                let zero = x.int(0);
                let not_negative = x.bin(BinaryOp::IGe, tb, zero)?;
                x.r.guard(not_negative, true)?;
                x.bin(BinaryOp::IShr, ta, tb)?
            } else {
                x.r.guard(below, false)?;
                let sign = x.int(63);
                x.bin(BinaryOp::IShr, ta, sign)?
            };
            x.set(dst, r)?;
        }
        Neg { dst, src } => {
            let (v, tv) = (x.reg(src), x.slot(src)?);
            let r = match v.tag {
                TAG_FLOAT => x.r.unary(UnaryOp::FNeg, tv)?,
                TAG_INT => {
                    let z = x.int(0);
                    x.r.binary_ovf(BinaryOp::ISubOvf, z, tv, v.as_int() == i64::MIN)?
                }
                _ => return Err(unsupported("negating this type")),
            };
            x.set(dst, r)?;
        }
        Not { dst, src } => {
            let (v, tv) = (x.reg(src), x.slot(src)?);
            let t = x.truth(tv, v)?;
            let r = x.r.unary(UnaryOp::BNot, t)?;
            x.set(dst, r)?;
        }
        Lt { dst, a, b }
        | Le { dst, a, b }
        | Gt { dst, a, b }
        | Ge { dst, a, b }
        | Eq { dst, a, b }
        | Ne { dst, a, b } => {
            let k = match ins {
                Lt { .. } => CmpKind::Lt,
                Le { .. } => CmpKind::Le,
                Gt { .. } => CmpKind::Gt,
                Ge { .. } => CmpKind::Ge,
                Eq { .. } => CmpKind::Eq,
                _ => CmpKind::Ne,
            };
            let c = x.compare(k, a, b)?;
            x.set(dst, c)?;
        }
        Is { dst, a, b } | IsNot { dst, a, b } => {
            let mut c = x.is(a, b)?;
            if matches!(ins, IsNot { .. }) {
                c = x.r.unary(UnaryOp::BNot, c)?;
            }
            x.set(dst, c)?;
        }
        BrTrue { a, .. } | BrFalse { a, .. } => {
            let (v, tv) = (x.reg(a), x.slot(a)?);
            let c = x.truth(tv, v)?;
            let holds = x.vm.truthy(v);
            x.r.guard(c, holds)?;
        }
        BrNone { a, .. } | BrNotNone { a, .. } => {
            let tv = x.slot(a)?;
            if tv.ty() == Type::Ref {
                x.r.guard_null(tv, x.reg(a).is_none())?;
            }
        }
        BrLt { a, b, .. }
        | BrLe { a, b, .. }
        | BrGt { a, b, .. }
        | BrGe { a, b, .. }
        | BrEq { a, b, .. }
        | BrNe { a, b, .. }
        | BrNLt { a, b, .. }
        | BrNLe { a, b, .. }
        | BrNGt { a, b, .. }
        | BrNGe { a, b, .. } => {
            let k = match ins {
                BrLt { .. } | BrNLt { .. } => CmpKind::Lt,
                BrLe { .. } | BrNLe { .. } => CmpKind::Le,
                BrGt { .. } | BrNGt { .. } => CmpKind::Gt,
                BrGe { .. } | BrNGe { .. } => CmpKind::Ge,
                BrEq { .. } => CmpKind::Eq,
                _ => CmpKind::Ne,
            };
            let c = x.compare(k, a, b)?;
            let (p, q) = (x.reg(a), x.reg(b));
            let holds = match (p.tag, k) {
                (TAG_INT, CmpKind::Lt) => p.as_int() < q.as_int(),
                (TAG_INT, CmpKind::Le) => p.as_int() <= q.as_int(),
                (TAG_INT, CmpKind::Gt) => p.as_int() > q.as_int(),
                (TAG_INT, CmpKind::Ge) => p.as_int() >= q.as_int(),
                (TAG_INT, CmpKind::Eq) => p.as_int() == q.as_int(),
                (TAG_INT, CmpKind::Ne) => p.as_int() != q.as_int(),
                (_, CmpKind::Lt) => p.as_float() < q.as_float(),
                (_, CmpKind::Le) => p.as_float() <= q.as_float(),
                (_, CmpKind::Gt) => p.as_float() > q.as_float(),
                (_, CmpKind::Ge) => p.as_float() >= q.as_float(),
                (_, CmpKind::Eq) => p.as_float() == q.as_float(),
                (_, CmpKind::Ne) => p.as_float() != q.as_float(),
            };
            x.r.guard(c, holds)?;
        }
        BrIs { a, b, .. } | BrIsNot { a, b, .. } => {
            let c = x.is(a, b)?;
            x.r.guard(c, x.reg(a).is(x.reg(b)))?;
        }
        RangeInit { base } => {
            for i in 0..3 {
                if !x.reg(base + i).is_int() {
                    return Err(unsupported("range() of non-ints"));
                }
            }
            let step = x.slot(base + 2)?;
            let z = x.int(0);
            let nz = x.bin(BinaryOp::INe, step, z)?;
            x.r.guard(nz, x.reg(base + 2).as_int() != 0)?;
        }
        ForRange { base, dst, .. } => {
            let (cur, stop, step) = (x.slot(base)?, x.slot(base + 1)?, x.slot(base + 2)?);
            let (c, s, st) = (x.reg(base).as_int(), x.reg(base + 1).as_int(), x.reg(base + 2).as_int());
            let z = x.int(0);
            let up = x.bin(BinaryOp::IGt, step, z)?;
            x.r.guard(up, st > 0)?;
            let more = if st > 0 {
                x.bin(BinaryOp::ILt, cur, stop)?
            } else {
                x.bin(BinaryOp::IGt, cur, stop)?
            };
            let taken = if st > 0 { c < s } else { c > s };
            x.r.guard(more, taken)?;
            if taken {
                let next =
                    x.r.binary_ovf(BinaryOp::IAddOvf, cur, step, c.checked_add(st).is_none())?;
                x.set(dst, cur)?;
                x.set(base, next)?;
            }
        }
        GetIter { dst, src } => x.record_get_iter(dst, src)?,
        ForIter { it, dst, .. } => x.record_for_iter(pc, it, dst)?,
        Yield { dst, src } => x.record_yield(pc, dst, src)?,
        CallStar { dst, base, n } => x.record_call_star(pc, dst, base, n)?,
        Call { dst, base, n } => {
            let callee = (x.slot(base)?, x.reg(base));
            let args = (1..=n)
                .map(|i| Ok((x.slot(base + i)?, x.reg(base + i))))
                .collect::<Result<Vec<_>, Abort>>()?;
            x.call(pc, dst, callee.0, callee.1, &args)?;
        }
        CallMethod { dst, base, n } => {
            let callee = (x.slot(base)?, x.reg(base));
            let first = if x.reg(base + 1).is_undef() { base + 2 } else { base + 1 };
            let args = (first..base + 2 + n)
                .map(|i| Ok((x.slot(i)?, x.reg(i))))
                .collect::<Result<Vec<_>, Abort>>()?;
            x.call(pc, dst, callee.0, callee.1, &args)?;
        }
        Return { src } => {
            if x.r.depth() <= 1 {
                return Err(unsupported("return from the loop's own frame"));
            }
            let top =
                x.vm.frames
                    .last()
                    .copied()
                    .ok_or_else(|| Abort::Invalid("no frame".into()))?;
            let mut v = x.slot(src)?;
            if top.kind == FrameKind::Init {
                if !x.reg(src).is_none() || !x.reg(0).is(top.init_self) {
                    return Err(unsupported("__init__ returning a value or rebinding self"));
                }
                v = x.slot(0)?;
            } else if top.kind == FrameKind::Gen {
                return x.record_generator_return();
            }
            x.r.pop_frame()?;
            x.set(top.ret_dst, v)?;
        }
        BuildTuple { dst, base, n } => {
            let l = x.w.tuple(n as usize).map_err(Abort::Invalid)?;
            let t = x.r.new_object(l.layout)?;
            let k = x.int(kind_word(Kind::Tuple));
            x.r.setfield(t, l.kind, k)?;
            let c = x.int(n as i64);
            x.r.setfield(t, l.count, c)?;
            for i in 0..n {
                let (tv, v) = (x.slot(base + i)?, x.reg(base + i));
                x.set_inline(t, &l, i as usize, tv, v)?;
            }
            x.set(dst, t)?;
        }
        ListAppend { list, src } => {
            if !x.reg(list).is_kind(Kind::List) {
                return Err(unsupported("appending to something other than a list"));
            }
            let tl = x.slot(list)?;
            x.guard_kind(tl, Kind::List)?;
            let lw = x.r.unary(UnaryOp::Ref2I, tl)?;
            let tv = x.slot(src)?;
            let (tag, word) = x.value_words(tv, x.reg(src))?;
            let tag = x.int(tag as i64);
            // It writes the list's header and raw items (read by raw loads): any
            // memory, but it never raises and looks at no frame.
            let effects = EffectInfo {
                may_raise: false,
                may_force: false,
                ..EffectInfo::opaque()
            };
            let entry = super::natives::list_append as *const () as usize as u64;
            let c =
                x.w.call("list_append", entry, &[Type::I64; 3], None, effects)
                    .map_err(Abort::Invalid)?;
            x.r.call(c, &[lw, tag, word], false)?;
        }
        Unpack { base, src, n } => {
            let (tv, v) = (x.slot(src)?, x.reg(src));
            if !v.is_kind(Kind::Tuple) || as_seq(v).map(|s| s.len()) != Some(n as usize) {
                return Err(unsupported(
                    "unpacking something other than a tuple of the right length",
                ));
            }
            let l = x.guard_tuple(tv, v)?;
            let items = as_seq(v).unwrap_or(&[]).to_vec();
            let vals = (0..n as usize)
                .map(|i| x.get_inline(tv, &l, i, items[i]))
                .collect::<Result<Vec<_>, Abort>>()?;
            for (i, t) in vals.into_iter().enumerate() {
                x.set(base + i as u16, t)?;
            }
        }
        GetItem { dst, obj, idx } => {
            let (o, i) = (x.reg(obj), x.reg(idx));
            let (to, ti) = (x.slot(obj)?, x.slot(idx)?);
            if !i.is_int() {
                return Err(unsupported("a non-int index"));
            }
            let r = match o.kind() {
                Some(Kind::Tuple) if ti.as_const().is_some() => {
                    let items = as_seq(o).unwrap_or(&[]);
                    let k = i.as_int();
                    if k < 0 || k as usize >= items.len() {
                        return Err(unsupported("a tuple index out of range"));
                    }
                    let l = x.guard_tuple(to, o)?;
                    x.get_inline(to, &l, k as usize, items[k as usize])?
                }
                Some(Kind::List) => {
                    let items = as_seq(o).unwrap_or(&[]);
                    let p = x.list_item_addr(to, ti, i.as_int(), items.len())?;
                    let seen = items[i.as_int() as usize];
                    let tag = x.r.load(MemType::I64, p, 0)?;
                    x.read_value(tag, |s| s.r.load(MemType::I64, p, 8), seen)?
                }
                _ => return Err(unsupported("indexing this kind of object")),
            };
            x.set(dst, r)?;
        }
        SetItem { obj, idx, src } => {
            let (o, i) = (x.reg(obj), x.reg(idx));
            if !(o.is_kind(Kind::List) && i.is_int()) {
                return Err(unsupported("item assignment outside lists"));
            }
            let (to, ti, tv) = (x.slot(obj)?, x.slot(idx)?, x.slot(src)?);
            let len = as_seq(o).map_or(0, |s| s.len());
            let p = x.list_item_addr(to, ti, i.as_int(), len)?;
            let (tag, word) = x.value_words(tv, x.reg(src))?;
            let t = x.int(tag as i64);
            x.r.store(MemType::I64, p, 0, t)?;
            x.r.store(MemType::I64, p, 8, word)?;
        }
        GetAttr { dst, obj, ic } => {
            let (o, to) = (x.reg(obj), x.slot(obj)?);
            let c = x.code.ics[ic as usize].get();
            let r = match o.kind() {
                Some(Kind::Instance) if class_of(o) == Some(c.class) && c.kind == IC_SLOT => {
                    let seen = unsafe { *Instance::slot_ptr(o.as_ptr(), c.index as usize) };
                    let l = x.guard_instance(to, o)?;
                    x.get_inline(to, &l, c.index as usize, seen)?
                }
                Some(Kind::Instance)
                    if class_of(o) == Some(c.class) && c.kind == IC_PROPERTY && c.epoch == *x.vm.class_epoch =>
                {
                    x.guard_instance(to, o)?;
                    x.guard_epoch()?;
                    if !c.value.is_kind(Kind::Function) {
                        return Err(unsupported("a property getter that is not a Python function"));
                    }
                    x.keep(c.value);
                    return x.inline_call(pc, c.value.as_ptr(), &[to]);
                }
                Some(Kind::Module) if c.kind == crate::attr::IC_MODVAL && c.class as u64 == o.payload => {
                    x.module_attr(to, o, c.name)?
                }
                _ => return Err(unsupported("this attribute read")),
            };
            x.set(dst, r)?;
        }
        SetAttr { obj, ic, src } => {
            let (o, to) = (x.reg(obj), x.slot(obj)?);
            let c = x.code.ics[ic as usize].get();
            let v = x.reg(src);
            if !(o.is_kind(Kind::Instance) && class_of(o) == Some(c.class) && c.kind == IC_SLOT && !v.is_undef()) {
                return Err(unsupported("this attribute write"));
            }
            let l = x.guard_instance(to, o)?;
            let tv = x.slot(src)?;
            x.set_inline(to, &l, c.index as usize, tv, v)?;
        }
        LoadMethod { base, obj, ic } => {
            let (o, to) = (x.reg(obj), x.slot(obj)?);
            let c = x.code.ics[ic as usize].get();
            match o.kind() {
                Some(Kind::Instance)
                    if class_of(o) == Some(c.class) && c.kind == IC_METHOD && c.epoch == *x.vm.class_epoch =>
                {
                    x.guard_instance(to, o)?;
                    x.guard_epoch()?;
                    x.keep(c.value);
                    let m = const_tv(c.value).ok_or_else(|| unsupported("unbound method"))?;
                    x.set(base, m)?;
                    x.set(base + 1, to)?;
                }
                Some(Kind::Module) if c.kind == crate::attr::IC_MODVAL && c.class as u64 == o.payload => {
                    let m = x.module_attr(to, o, c.name)?;
                    x.set(base, m)?;
                    x.r.set_slot(base as usize + 1, None)?;
                }
                Some(k @ (Kind::List | Kind::File | Kind::Bytes | Kind::Str)) => {
                    let Some(m) = x.vm.type_methods.get(&(k, c.name)).copied() else {
                        return Err(unsupported("an unknown method"));
                    };
                    x.guard_kind(to, k)?;
                    x.keep(m);
                    let mt = const_tv(m).ok_or_else(|| unsupported("unbound method"))?;
                    x.set(base, mt)?;
                    x.set(base + 1, to)?;
                }
                _ => return Err(unsupported("this method lookup")),
            }
        }
        _ => return Err(unsupported(format!("instruction {:?}", ins))),
    }
    Ok(())
}

impl Rec<'_> {
    /// Guards that no class attribute changed since recording (the class epoch).
    pub(super) fn guard_epoch(&mut self) -> Result<(), Abort> {
        let p = Tv::constant(Val::Ptr(&*self.vm.class_epoch as *const u32 as u64));
        let e = self.r.load(MemType::I32U, p, 0)?;
        self.guard_eq(e, *self.vm.class_epoch as i64)
    }

    /// Attribute `name` of module `o` (traced as `to`), read from its entry.
    fn module_attr(&mut self, to: Tv, o: Value, name: Sym) -> Result<Tv, Abort> {
        let to = self.promote_obj(to, o)?;
        let _ = to;
        // SAFETY: kind checked by the caller; module attribute vectors do not grow
        // after the module is created (built-in modules only).
        let m = unsafe { &*o.as_ptr::<ModuleObj>() };
        let Some(entry) = m.attrs.iter().find(|a| a.0 == name) else {
            return Err(unsupported("a missing module attribute"));
        };
        let (addr, seen) = (&entry.1 as *const Value, entry.1);
        self.load_value(addr, seen)
    }
}
