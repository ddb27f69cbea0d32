//! # The VM: state, public API, allocation and error helpers
//!
//! A [`Vm`] owns everything: the heap, the interned names, the compiled code
//! objects (which live as long as the VM, so raw `*const Code` pointers in frames
//! and functions stay valid), the module's globals (a flat slot array: names are
//! resolved to slot numbers at compile time; builtins pre-fill their slots), the
//! register stack and the frame records.
//!
//! The register stack is one fixed allocation of `STACK_SLOTS` values obtained
//! with `alloc_zeroed` (so untouched pages cost nothing and read as `UNDEF`).
//! Frames are windows into it (`base` pointers); because it never moves, raw
//! pointers into it stay valid, and native functions receive their arguments as
//! slices of the caller's registers without copying. Generator frames are the
//! exception: their slots live in the generator object.
//!
//! The collector's roots are enumerated in [`Vm::collect`].

use crate::bytecode::{ClassDesc, Code};
use crate::error::{ExcType, PyliteError};
use crate::gc::Heap;
use crate::object::*;
use crate::rawbuf::RawBuf;
use crate::value::Value;
use std::collections::HashMap;
use std::io::Write;

/// Register stack capacity in slots.
pub(crate) const STACK_SLOTS: usize = 1 << 20;
/// Maximum Python call depth (like CPython's default recursion limit).
pub(crate) const MAX_DEPTH: usize = 1000;

/// What a frame does when it finishes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FrameKind {
    /// Ordinary call: the return value goes to the caller's `ret_dst`.
    Normal,
    /// `__init__` call: the caller gets `init_self`; the return must be None.
    Init,
    /// A resumed generator: `Yield` suspends it, `Return` finishes it and the
    /// caller's `for` jumps to `exit_pc`.
    Gen,
    /// A user `__next__` called by `for`: `StopIteration` jumps the caller to `exit_pc`.
    IterNext,
}

/// An activation record. Slots are `base[0..code.nslots]`.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub code: *const Code,
    pub base: *mut Value,
    pub pc: u32,
    pub ret_dst: u16,
    pub kind: FrameKind,
    /// Returning from (or unwinding out of) this frame leaves `run_frames`.
    pub entry: bool,
    pub saved_top: usize,
    pub gen: *mut GeneratorObj,
    pub exit_pc: u32,
    pub init_self: Value,
}

/// Frequently used interned names.
pub(crate) struct Names {
    pub init: Sym,
    pub next: Sym,
    pub iter: Sym,
    pub name: Sym,
    pub args: Sym,
}

/// A pylite virtual machine. Create one, then call [`Vm::run_source`] or [`Vm::run_file`].
pub struct Vm {
    pub(crate) heap: Heap,
    pub(crate) interner: Interner,
    /// Boxed so a `*const Code` (frames, generators) stays valid when the vector grows.
    #[allow(clippy::vec_box)]
    pub(crate) codes: Vec<Box<Code>>,
    pub(crate) class_descs: Vec<ClassDesc>,
    pub(crate) globals: Vec<Value>,
    pub(crate) global_names: Vec<String>,
    global_map: HashMap<String, u16>,
    pub(crate) builtins: HashMap<&'static str, Value>,
    pub(crate) modules: Vec<(String, Value)>,
    pub(crate) type_methods: HashMap<(Kind, Sym), Value>,
    pub(crate) permanent: Vec<Value>,
    /// Values native code keeps alive across calls back into Python.
    pub(crate) temp_roots: Vec<Value>,
    pub(crate) exc_classes: Vec<*mut ClassObj>,
    pub(crate) names: Names,
    pub(crate) stack: *mut Value,
    pub(crate) stack_top: usize,
    pub(crate) frames: Vec<Frame>,
    pub(crate) cur_exc: Value,
    /// Traceback entries (code, line), innermost first, of `tb_exc`.
    pub(crate) tb: Vec<(*const Code, u32)>,
    pub(crate) tb_exc: Value,
    /// Bumped when a class attribute changes; boxed so compiled code can read it at a fixed address.
    pub(crate) class_epoch: Box<u32>,
    pub(crate) out: Box<dyn Write>,
    pub(crate) argv: Vec<String>,
    pub(crate) sources: HashMap<String, String>,
    pub(crate) struct_cache: Vec<(String, std::rc::Rc<crate::structmod::StructFmt>)>,
    /// Scratch buffer for `*args` calls.
    pub(crate) arg_buf: Vec<Value>,
    /// How this VM uses the JIT.
    pub(crate) jit_config: crate::jit::JitConfig,
    /// `Loop` back-edges the interpreter executed.
    pub(crate) loop_iterations: u64,
    /// The JIT, when enabled (taken out while it runs, so nested runs see none).
    pub(crate) jit: Option<Box<crate::jit::Jit>>,
    /// A recording is under way (or dead locals are poisoned): report each instruction.
    pub(crate) recording: bool,
    /// Dead locals are poisoned before each instruction (a check of the liveness
    /// analysis, `JitConfig::poisoning_dead_locals`).
    pub(crate) poison: Option<Box<crate::liveness::Poisoner>>,
    /// Compiled code is on the stack: no collection may run.
    pub(crate) in_native: bool,
    /// Nesting of interpreter runs (1 = the program's own).
    pub(crate) run_depth: u32,
    /// A residual call parked an outcome (see `jit::natives`).
    pub(crate) jit_raised: bool,
    pub(crate) jit_pending: Option<crate::jit::Pending>,
    /// The engine's interrupt flag (raised when a collection is due in compiled code).
    pub(crate) jit_interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl Default for Vm {
    fn default() -> Self {
        Self::new()
    }
}

impl Vm {
    /// A VM printing to stdout.
    pub fn new() -> Vm {
        Self::with_output(Box::new(std::io::BufWriter::new(std::io::stdout())))
    }

    /// A VM printing to `out` (e.g. a buffer in tests).
    pub fn with_output(out: Box<dyn Write>) -> Vm {
        let layout = std::alloc::Layout::array::<Value>(STACK_SLOTS).expect("stack layout");
        // SAFETY: non-zero size; zeroed memory is a valid array of UNDEF values.
        let stack = unsafe { std::alloc::alloc_zeroed(layout) } as *mut Value;
        if stack.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let mut interner = Interner::default();
        let names = Names {
            init: interner.intern("__init__"),
            next: interner.intern("__next__"),
            iter: interner.intern("__iter__"),
            name: interner.intern("__name__"),
            args: interner.intern("args"),
        };
        let mut vm = Vm {
            heap: Heap::default(),
            interner,
            codes: Vec::new(),
            class_descs: Vec::new(),
            globals: Vec::new(),
            global_names: Vec::new(),
            global_map: HashMap::new(),
            builtins: HashMap::new(),
            modules: Vec::new(),
            type_methods: HashMap::new(),
            permanent: Vec::new(),
            temp_roots: Vec::new(),
            exc_classes: Vec::new(),
            names,
            stack,
            stack_top: 0,
            frames: Vec::new(),
            cur_exc: Value::NONE,
            tb: Vec::new(),
            tb_exc: Value::NONE,
            class_epoch: Box::new(0),
            out,
            argv: vec!["<pylite>".into()],
            sources: HashMap::new(),
            struct_cache: Vec::new(),
            arg_buf: Vec::new(),
            jit_config: crate::jit::JitConfig::off(),
            loop_iterations: 0,
            jit: None,
            recording: false,
            poison: None,
            in_native: false,
            run_depth: 0,
            jit_raised: false,
            jit_pending: None,
            jit_interrupt: None,
        };
        vm.init_exceptions();
        crate::builtins::install(&mut vm);
        crate::modules::install(&mut vm);
        vm
    }

    /// A VM printing to `out` that uses the JIT as `config` says.
    pub fn with_jit(out: Box<dyn Write>, config: crate::jit::JitConfig) -> Vm {
        let mut vm = Vm::with_output(out);
        vm.jit_config = config;
        vm.jit_init();
        vm
    }

    /// What the JIT did so far (zeros and `enabled: false` without it).
    pub fn jit_report(&self) -> crate::jit::JitReport {
        let mut r = crate::jit::JitReport {
            enabled: self.jit_config.enabled,
            interp_loop_iterations: self.loop_iterations,
            ..Default::default()
        };
        let jit_allocs = self.jit.as_ref().map_or(0, |j| j.allocations);
        r.allocations_jit = jit_allocs;
        r.allocations_interp = self.heap.allocations - jit_allocs;
        if let Some(j) = &self.jit {
            r.fill_from_engine(&j.engine.stats(), j.engine.tracer_stats());
            r.first_compiled_secs = j.first_entry.map(|d| d.as_secs_f64());
        }
        r
    }

    /// The JIT's summary (`LEONES_LOG=summary` text), if the JIT is on.
    pub fn jit_summary(&self) -> Option<String> {
        self.jit.as_ref().map(|j| j.engine.summary())
    }

    /// Sets `sys.argv` (the first element is the script path).
    pub fn set_argv(&mut self, argv: Vec<String>) {
        self.argv = argv;
        crate::modules::refresh_argv(self);
    }

    /// Reads and runs a file.
    pub fn run_file(&mut self, path: &str) -> Result<(), PyliteError> {
        let src =
            std::fs::read_to_string(path).map_err(|e| PyliteError::Io(format!("can't open file '{}': {}", path, e)))?;
        self.run_source(&src, path)
    }

    /// Compiles and runs `src` as the main module; `file` names it in errors.
    pub fn run_source(&mut self, src: &str, file: &str) -> Result<(), PyliteError> {
        let _current = crate::jit::CurrentVm::enter(self as *mut Vm);
        self.sources.insert(file.to_string(), src.to_string());
        let compiled = crate::parser::parse(src).and_then(|ast| crate::compiler::compile_module(self, &ast, file));
        let code_idx = match compiled {
            Ok(c) => c,
            Err(e) => {
                return Err(PyliteError::Compile {
                    file: file.to_string(),
                    line: e.line,
                    msg: e.msg,
                })
            }
        };
        let code: *const Code = &*self.codes[code_idx];
        let result = self.run_code(code);
        let _ = self.out.flush();
        match result {
            Ok(_) => Ok(()),
            Err(exc) => Err(self.make_runtime_error(exc)),
        }
    }

    /// Flushes program output.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// Number of collections so far (for tests and diagnostics).
    pub fn gc_count(&self) -> usize {
        self.heap.collections
    }

    /// Number of live heap objects (for tests and diagnostics).
    pub fn heap_objects(&self) -> usize {
        self.heap.object_count()
    }

    fn run_code(&mut self, code: *const Code) -> PyResult<Value> {
        // SAFETY: code is owned by self.codes for the VM's lifetime.
        let c = unsafe { &*code };
        let base_idx = self.stack_top;
        let base = unsafe { self.stack.add(base_idx) };
        if base_idx + c.nslots as usize > STACK_SLOTS {
            return Err(self.err(ExcType::RecursionError, "maximum recursion depth exceeded"));
        }
        // SAFETY: the window [base, base+nslots) is inside the stack allocation.
        unsafe {
            for i in 0..c.nslots as usize {
                base.add(i).write(Value::UNDEF);
            }
            for i in 0..c.nregconsts as usize {
                base.add(c.nlocals as usize + i).write(c.consts[i]);
            }
        }
        self.stack_top += c.nslots as usize;
        self.frames.push(Frame {
            code,
            base,
            pc: 0,
            ret_dst: 0,
            kind: FrameKind::Normal,
            entry: true,
            saved_top: base_idx,
            gen: std::ptr::null_mut(),
            exit_pc: 0,
            init_self: Value::UNDEF,
        });
        self.run_frames()
    }

    fn make_runtime_error(&mut self, exc: Value) -> PyliteError {
        let cls = class_of(exc).unwrap_or(self.exc_classes[ExcType::Exception as usize]);
        // SAFETY: live class.
        let exc_type = unsafe { (*cls).name.clone() };
        if exc_type == "SystemExit" {
            let args = self.exc_args(exc);
            let code = args
                .first()
                .and_then(|a| a.as_intlike())
                .unwrap_or(if args.is_empty() { 0 } else { 1 });
            return PyliteError::Exit(code as i32);
        }
        let msg = self.to_str(exc);
        let message = if msg.is_empty() {
            exc_type.clone()
        } else {
            format!("{}: {}", exc_type, msg)
        };
        let mut tb = String::from("Traceback (most recent call last):\n");
        let entries: Vec<_> = if self.tb_exc.is(exc) {
            self.tb.iter().rev().copied().collect()
        } else {
            Vec::new()
        };
        for (code, line) in &entries {
            // SAFETY: codes live as long as the VM.
            let c = unsafe { &**code };
            tb.push_str(&format!("  File \"{}\", line {}, in {}\n", c.file, line, c.name));
            if let Some(src) = self.sources.get(&*c.file) {
                if let Some(l) = src.lines().nth(*line as usize - 1) {
                    tb.push_str(&format!("    {}\n", l.trim()));
                }
            }
        }
        tb.push_str(&message);
        tb.push('\n');
        let line = entries.last().map(|e| e.1).unwrap_or(0);
        self.frames.clear();
        self.stack_top = 0;
        PyliteError::Runtime {
            exc_type,
            message,
            line,
            traceback: tb,
        }
    }

    // ------------------------------------------------------------------ globals

    /// The global slot for `name` (created on first use; builtins pre-fill it).
    pub(crate) fn global_slot(&mut self, name: &str) -> u16 {
        if let Some(&g) = self.global_map.get(name) {
            return g;
        }
        let g = self.globals.len() as u16;
        let v = self.builtins.get(name).copied().unwrap_or(Value::UNDEF);
        self.globals.push(v);
        self.global_names.push(name.to_string());
        self.global_map.insert(name.to_string(), g);
        g
    }

    // ------------------------------------------------------------------ allocation

    /// A new `str`.
    pub fn new_str(&mut self, s: &str) -> Value {
        self.new_string(s.to_string())
    }
    /// A new `str` from an owned string.
    pub fn new_string(&mut self, s: String) -> Value {
        let n = s.len();
        let p = self.heap.alloc(StrObj {
            h: Header::new(Kind::Str),
            data: RawBuf::from_vec(s.into_bytes()),
        });
        self.heap.account(n);
        Value::obj(p)
    }
    /// A new `bytes`.
    pub fn new_bytes(&mut self, b: Vec<u8>) -> Value {
        let n = b.len();
        let p = self.heap.alloc(BytesObj {
            h: Header::new(Kind::Bytes),
            data: RawBuf::from_vec(b),
        });
        self.heap.account(n);
        Value::obj(p)
    }
    /// A new tuple.
    pub fn new_tuple(&mut self, items: Vec<Value>) -> Value {
        Value::obj(self.heap.alloc_tuple(&items))
    }
    /// A new list.
    pub fn new_list(&mut self, items: Vec<Value>) -> Value {
        let n = items.len();
        let p = self.heap.alloc(ListObj {
            h: Header::new(Kind::List),
            items: RawBuf::from_vec(items),
        });
        self.heap.account(16 * n);
        Value::obj(p)
    }
    /// A new native function object kept alive for the VM's lifetime.
    pub(crate) fn new_builtin(&mut self, name: &'static str, f: NativeFn, id: u16) -> Value {
        let p = self.heap.alloc(BuiltinObj {
            h: Header::new(Kind::Builtin),
            f,
            name,
            id,
        });
        let v = Value::obj(p);
        self.permanent.push(v);
        v
    }

    // ------------------------------------------------------------------ exceptions

    fn init_exceptions(&mut self) {
        let args = self.names.args;
        for &t in ExcType::ALL {
            let base = if t == ExcType::BaseException {
                std::ptr::null_mut()
            } else {
                self.exc_classes[t.parent() as usize]
            };
            let mut slot_index = HashMap::new();
            slot_index.insert(args, 0);
            let cls = self.heap.alloc(ClassObj {
                h: Header::new(Kind::Class),
                nslots: 1,
                flags: CLASS_EXCEPTION,
                base,
                slot_names: vec![args],
                slot_index,
                attrs: HashMap::new(),
                name: t.name().to_string(),
            });
            self.permanent.push(Value::obj(cls));
            self.exc_classes.push(cls);
            if t != ExcType::StructError {
                self.builtins.insert(t.name(), Value::obj(cls));
            }
        }
        self.builtins
            .insert("IOError", Value::obj(self.exc_classes[ExcType::OSError as usize]));
    }

    /// A new exception instance of class `cls` with `args`.
    pub(crate) fn new_exception(&mut self, cls: *mut ClassObj, args: Vec<Value>) -> Value {
        let t = self.new_tuple(args);
        let inst = self.heap.alloc_instance(cls);
        // SAFETY: exception classes have slot 0 = args.
        unsafe { *Instance::slot_ptr(inst, 0) = t };
        Value::obj(inst)
    }

    /// A new built-in exception with a message.
    pub fn err(&mut self, t: ExcType, msg: impl Into<String>) -> Value {
        let m = msg.into();
        let args = if m.is_empty() { vec![] } else { vec![self.new_string(m)] };
        let cls = self.exc_classes[t as usize];
        self.new_exception(cls, args)
    }

    /// Whether `v` is an exception instance.
    pub(crate) fn is_exception(&self, v: Value) -> bool {
        // SAFETY: instances have live classes.
        class_of(v).is_some_and(|c| unsafe { (*c).flags } & CLASS_EXCEPTION != 0)
    }

    pub(crate) fn is_builtin_exc_class(&self, v: Value) -> bool {
        self.exc_classes.iter().any(|&c| c as u64 == v.payload)
    }

    /// The `args` of an exception instance.
    pub(crate) fn exc_args(&self, v: Value) -> Vec<Value> {
        let Some(cls) = class_of(v) else { return Vec::new() };
        // SAFETY: live class and instance; slot index checked against nslots.
        unsafe {
            match (*cls).slot_index.get(&self.names.args) {
                Some(&i) if i < (*cls).nslots => {
                    let a = *Instance::slot_ptr(v.as_ptr(), i as usize);
                    as_seq(a).map(|s| s.to_vec()).unwrap_or_default()
                }
                _ => Vec::new(),
            }
        }
    }

    /// Whether class `c` is `target` or derives from it.
    pub(crate) fn class_derives(&self, mut c: *mut ClassObj, target: *mut ClassObj) -> bool {
        while !c.is_null() {
            if c == target {
                return true;
            }
            // SAFETY: classes are permanent.
            c = unsafe { (*c).base };
        }
        false
    }

    /// Whether exception `exc` is an instance of built-in type `t`.
    pub(crate) fn exc_is(&self, exc: Value, t: ExcType) -> bool {
        class_of(exc).is_some_and(|c| self.class_derives(c, self.exc_classes[t as usize]))
    }

    /// Python's type name of a value, for messages.
    pub(crate) fn type_name(&self, v: Value) -> String {
        use crate::value::*;
        match v.tag {
            TAG_UNDEF => "<unbound>",
            TAG_NONE => "NoneType",
            TAG_BOOL => "bool",
            TAG_INT => "int",
            TAG_FLOAT => "float",
            _ => match v.kind().unwrap() {
                Kind::Str => "str",
                Kind::Bytes => "bytes",
                Kind::Tuple => "tuple",
                Kind::List => "list",
                // SAFETY: instances have live classes.
                Kind::Instance => return unsafe { (*class_of(v).unwrap()).name.clone() },
                Kind::Class => "type",
                Kind::Function => "function",
                Kind::Builtin => "builtin_function_or_method",
                Kind::Generator => "generator",
                Kind::Module => "module",
                Kind::File => "_io.BufferedReader",
                Kind::Property => "property",
                Kind::BoundMethod => "method",
                Kind::Range => "range",
                Kind::RangeIter => "range_iterator",
                Kind::SeqIter => "iterator",
            },
        }
        .to_string()
    }

    // ------------------------------------------------------------------ GC

    /// Runs a collection. Only called at safepoints (see `gc.rs`).
    pub(crate) fn collect(&mut self) {
        if self.in_native {
            // Compiled code holds objects in registers: collect at the next safepoint
            // of the interpreter proper (compiled loops leave at their next header).
            return;
        }
        let h = &mut self.heap;
        if let Some(j) = &self.jit {
            for &v in &j.roots {
                h.mark_value(v);
            }
        }
        // SAFETY: [0, stack_top) is the live part of the register stack; every
        // slot in it was initialised when its frame was pushed.
        for i in 0..self.stack_top {
            h.mark_value(unsafe { *self.stack.add(i) });
        }
        for f in &self.frames {
            if !f.gen.is_null() {
                h.mark_value(Value::obj(f.gen));
            }
            h.mark_value(f.init_self);
        }
        for &v in self.globals.iter().chain(&self.permanent).chain(&self.temp_roots) {
            h.mark_value(v);
        }
        for c in &self.codes {
            for &v in &c.consts {
                h.mark_value(v);
            }
            for ic in &c.ics {
                h.mark_value(ic.get().value);
            }
        }
        for &(_, m) in &self.modules {
            h.mark_value(m);
        }
        for &v in self.type_methods.values() {
            h.mark_value(v);
        }
        h.mark_value(self.cur_exc);
        h.mark_value(self.tb_exc);
        h.finish_collection();
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::array::<Value>(STACK_SLOTS).expect("stack layout");
        // SAFETY: allocated in with_output with the same layout.
        unsafe { std::alloc::dealloc(self.stack as *mut u8, layout) };
    }
}
