//! # Recording calls
//!
//! What a call becomes in the trace, by callee: a Python function, a method or a class
//! (a `new` instance and its `__init__`) is inlined as one more frame; a builtin is
//! either an intrinsic traced as plain ops (`abs`, `len`, `range`, `struct.unpack_from`
//! of doubles) or a residual call with the builtin's declared effects, emitted once its
//! result is known ([`PostCall`]). The one place that decides between inlining and
//! calling out, so it stands apart from the per-instruction dispatch.

use super::{unsupported, PostCall, Rec};
use crate::bytecode::*;
use crate::jit::natives::entry_for;
use crate::jit::values::const_tv;
use crate::jit::world::kind_word;
use crate::object::*;
use crate::value::*;
use leones_ir::descr::EffectInfo;
use leones_ir::interp::Val;
use leones_ir::{BinaryOp, MemType, Type, UnaryOp};
use leones_tracer::{Abort, CallRef, Tv};

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
    /// The parameters of Python function `f` called with `args`: the arguments, then
    /// the (constant) defaults of the missing ones. A wrong count is not traced (the
    /// interpreter raises the error).
    pub(in crate::jit) fn bind_args(&mut self, f: *mut FunctionObj, args: &[Tv]) -> Result<Vec<Tv>, Abort> {
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
    pub(in crate::jit) fn inline_call(&mut self, pc: usize, f: *mut FunctionObj, args: &[Tv]) -> Result<(), Abort> {
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
    pub(in crate::jit) fn call(
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
}
