//! # pylite's world, as Leones sees it
//!
//! Leones never reads pylite's structs; it works on what pylite *registers*: one frame
//! kind per code object (its slots are the frame's registers), and object layouts whose
//! offsets are pylite's real `#[repr(C)]` offsets, so compiled code reads and writes the
//! interpreter's own objects:
//!
//! | layout | class word | fields |
//! |---|---|---|
//! | `c<addr>_<Name>` per user class | the `ClassObj` address | `kind` @8, `count` (nslots) @16, slot *i*: `t<i>` tag @32+16i, `w<i>` word @40+16i |
//! | `tuple<n>` per tuple length | none (0) | `kind` @8, `count` (len) @16, item *i*: `t<i>`, `w<i>` |
//! | `object` (any object) | none | `kind` @8 |
//! | `list`, `bytes` | none | `ptr` @16 (items / data), `len` @24 |
//! | `seqiter` (a `for` over a list or tuple) | none | `kind` @8, `seq` tag @16 / word @24 (immutable), `idx` @32 |
//! | `range` | none | `kind` @8, `start` @16, `stop` @24, `step` @32 (immutable) |
//! | `g<addr>_<name>` per generator code | none | `kind` @8, `code` @16 (immutable), `resume` @24 (pc, state, nslots: one word), slot *i*: `t<i>`, `w<i>` from @32 |
//! | `rangeiter` | none | `kind` @8, `cur` @16, `stop` @24, `step` @32 (immutable but `cur`) |
//!
//! A 16-byte [`Value`](crate::Value) in memory is always *two* fields, its tag and its
//! payload word (`i64`): a float is `f2bits`/`bits2f`, a bool `b2i`/`ine 0`, an object
//! `ref2i`/`i2ref`. One word field per slot, not one field per payload type: fields of
//! one layout never overlap, which is what the heap cache and escape analysis assume.
//! The optimizer folds the conversions away when it forwards a stored value, so a
//! `Point` that stays virtual keeps its float fields in registers.
//!
//! Instances and tuples share a shape (a 32-byte fixed part, then 16-byte values), which
//! is what lets escape analysis remove them: a virtual one is rebuilt at an exit through
//! [`Materialize`], and one that escapes inside compiled code is allocated by
//! `alloc_raw` and initialized by the `setfield`s of its `kind` and `count` words.
//!
//! The kind word is the header's `kind` byte with the GC mark byte and padding above it;
//! marks are only set during a collection, which never overlaps compiled code, so the
//! word equals the kind whenever compiled code reads it.

use super::live::LiveCache;
use crate::bytecode::Code;
use crate::object::*;
use leones_ir::descr::EffectInfo;
use leones_ir::Type;
use leones_tracer::{CallRef, FieldRef, FrameRef, LayoutRef, Registry};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The two fields of a 16-byte value stored inline in an object.
#[derive(Copy, Clone, Debug)]
pub(crate) struct ValueFields {
    pub tag: FieldRef,
    pub word: FieldRef,
}

/// An instance or tuple layout.
#[derive(Clone, Debug)]
pub(crate) struct InlineLayout {
    pub layout: LayoutRef,
    pub kind: FieldRef,
    pub count: FieldRef,
    pub values: Vec<ValueFields>,
    /// The class (instances) or null (tuples).
    pub class: *mut ClassObj,
}

/// The layouts of the built-in iterators a `for` loop advances ([`SeqIterObj`],
/// [`RangeIterObj`]). They are real objects with their real sizes, so a virtual one
/// is materialized as the struct the interpreter expects (see `host::PyMemory`), and
/// one compiled code allocates is freed by the collector like any other.
#[derive(Copy, Clone, Debug)]
pub(crate) struct IterLayouts {
    pub seq: LayoutRef,
    pub seq_kind: FieldRef,
    pub seq_obj: ValueFields,
    pub seq_idx: FieldRef,
    pub range: LayoutRef,
    pub range_kind: FieldRef,
    pub range_cur: FieldRef,
    pub range_stop: FieldRef,
    pub range_step: FieldRef,
    pub range_obj: LayoutRef,
    pub range_obj_kind: FieldRef,
    /// `start`, `stop`, `step` of a `range` object.
    pub range_obj_fields: [FieldRef; 3],
}

/// The layout of the generators of one code object: the generator's frame slots are
/// its fields, so a generator the trace resumes is an object like any other (virtual
/// when it does not escape the trace).
#[derive(Clone, Debug)]
pub(crate) struct GenLayout {
    pub layout: LayoutRef,
    pub kind: FieldRef,
    /// The code object's address (what a guard on "this generator runs that code" reads).
    pub code: FieldRef,
    /// `pc | state << 32 | nslots << 48`: the resume point, the state and the size in
    /// one word ([`super::generators::resume_word`]), so one guard checks all three.
    pub resume: FieldRef,
    pub values: Vec<ValueFields>,
    pub code_ptr: *const Code,
}

impl IterLayouts {
    fn register(reg: &Registry) -> Result<IterLayouts, leones_tracer::RegistryError> {
        use std::mem::{offset_of, size_of};
        let seq = reg.layout("seqiter", size_of::<SeqIterObj>() as u32, None)?;
        let at = |o: usize| o as u32;
        let range = reg.layout("rangeiter", size_of::<RangeIterObj>() as u32, None)?;
        let range_obj = reg.layout("range", size_of::<RangeObj>() as u32, None)?;
        Ok(IterLayouts {
            seq,
            seq_kind: reg.field(seq, "kind", 8, Type::I64, true)?,
            seq_obj: ValueFields {
                tag: reg.field(seq, "seq_t", at(offset_of!(SeqIterObj, seq)), Type::I64, true)?,
                word: reg.field(seq, "seq_w", at(offset_of!(SeqIterObj, seq) + 8), Type::I64, true)?,
            },
            seq_idx: reg.field(seq, "idx", at(offset_of!(SeqIterObj, idx)), Type::I64, false)?,
            range,
            range_kind: reg.field(range, "kind", 8, Type::I64, true)?,
            range_cur: reg.field(range, "cur", at(offset_of!(RangeIterObj, cur)), Type::I64, false)?,
            range_stop: reg.field(range, "stop", at(offset_of!(RangeIterObj, stop)), Type::I64, true)?,
            range_step: reg.field(range, "step", at(offset_of!(RangeIterObj, step)), Type::I64, true)?,
            range_obj,
            range_obj_kind: reg.field(range_obj, "kind", 8, Type::I64, true)?,
            range_obj_fields: [
                reg.field(range_obj, "start", at(offset_of!(RangeObj, start)), Type::I64, true)?,
                reg.field(range_obj, "stop", at(offset_of!(RangeObj, stop)), Type::I64, true)?,
                reg.field(range_obj, "step", at(offset_of!(RangeObj, step)), Type::I64, true)?,
            ],
        })
    }
}

/// What pylite registered, and the maps back from Leones' handles.
pub(crate) struct World {
    pub reg: Registry,
    frames: leones_tracer::FastHashMap<usize, FrameRef>,
    codes: HashMap<FrameRef, *const Code>,
    /// The code objects frame kinds were made for, shared with the engine's location
    /// namer ([`super::host`]), which may only read code objects listed here.
    known_codes: Rc<RefCell<HashSet<usize>>>,
    classes: HashMap<usize, InlineLayout>,
    tuples: HashMap<usize, InlineLayout>,
    by_layout: HashMap<LayoutRef, InlineLayout>,
    gens: HashMap<usize, GenLayout>,
    gen_by_layout: HashMap<LayoutRef, GenLayout>,
    calls: HashMap<String, CallRef>,
    /// Which slots hold state where frames are handed to Leones ([`super::live`]).
    pub live: LiveCache,
    /// `object.kind`.
    pub object_kind: FieldRef,
    pub list_ptr: FieldRef,
    pub list_len: FieldRef,
    pub bytes_ptr: FieldRef,
    pub bytes_len: FieldRef,
    pub iters: IterLayouts,
    /// Lazy values (see [`super::lazy`]): a 1-tuple layout with a sentinel class word.
    pub lazy: InlineLayout,
    /// Per code object: which pcs are merge points (see [`World::is_join`]).
    joins: HashMap<usize, Vec<bool>>,
}

fn ident(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

impl World {
    pub fn new() -> World {
        let reg = Registry::new();
        let object = reg.layout("object", 16, None).expect("object layout");
        let object_kind = reg.field(object, "kind", 8, Type::I64, true).expect("object.kind");
        let list = reg.layout("list", 40, None).expect("list layout");
        let list_ptr = reg.field(list, "ptr", 16, Type::Ptr, false).expect("list.ptr");
        let list_len = reg.field(list, "len", 24, Type::I64, false).expect("list.len");
        let bytes = reg.layout("bytes", 40, None).expect("bytes layout");
        let bytes_ptr = reg.field(bytes, "ptr", 16, Type::Ptr, true).expect("bytes.ptr");
        let bytes_len = reg.field(bytes, "len", 24, Type::I64, true).expect("bytes.len");
        let iters = IterLayouts::register(&reg).expect("iterator layouts");
        let lazy = register_inline(&reg, "lazyvalue", TUPLE_ITEMS_OFFSET, 1, super::lazy::lazy_class())
            .expect("the lazy value layout");
        let mut w = World {
            reg,
            frames: Default::default(),
            codes: HashMap::new(),
            known_codes: Rc::default(),
            classes: HashMap::new(),
            tuples: HashMap::new(),
            by_layout: HashMap::new(),
            gens: HashMap::new(),
            gen_by_layout: HashMap::new(),
            calls: HashMap::new(),
            live: LiveCache::default(),
            object_kind,
            list_ptr,
            list_len,
            bytes_ptr,
            bytes_len,
            iters,
            lazy,
            joins: HashMap::new(),
        };
        w.by_layout.insert(w.lazy.layout, w.lazy.clone());
        w
    }

    /// Whether `pc` is a merge point of `code`: the target of a forward jump, where
    /// two paths of the function join (loop headers are not: loops close there).
    pub fn is_join(&mut self, code: &Code, pc: usize) -> bool {
        let joins = self.joins.entry(code as *const Code as usize).or_insert_with(|| {
            let mut joins = vec![false; code.instrs.len() + 1];
            let mut headers = vec![false; code.instrs.len() + 1];
            for (at, ins) in code.instrs.iter().enumerate() {
                if let Some(t) = ins.target() {
                    let t = t as usize;
                    if t > at {
                        joins[t] = true;
                    } else if let Some(h) = headers.get_mut(t) {
                        *h = true;
                    }
                }
            }
            joins.iter().zip(&headers).map(|(j, h)| *j && !h).collect()
        });
        joins.get(pc).copied().unwrap_or(false)
    }

    /// The frame kind of `code`.
    pub fn frame(&mut self, code: *const Code) -> Result<FrameRef, String> {
        if let Some(f) = self.frames.get(&(code as usize)) {
            return Ok(*f);
        }
        // SAFETY: code objects live as long as the VM.
        let c = unsafe { &*code };
        let name = format!("f{}_{}", self.frames.len(), ident(&c.name));
        let f = self
            .reg
            .frame(&name, code as u64, c.nslots as u32)
            .map_err(|e| e.to_string())?;
        self.frames.insert(code as usize, f);
        self.codes.insert(f, code);
        self.known_codes.borrow_mut().insert(code as usize);
        Ok(f)
    }

    /// The code objects [`World::frame`] has seen (a live view).
    pub fn known_codes(&self) -> Rc<RefCell<HashSet<usize>>> {
        self.known_codes.clone()
    }

    /// The code object a frame kind runs.
    pub fn code_of(&self, f: FrameRef) -> Option<*const Code> {
        self.codes.get(&f).copied()
    }

    fn inline_layout(
        &mut self,
        name: &str,
        head: usize,
        n: usize,
        class: *mut ClassObj,
    ) -> Result<InlineLayout, String> {
        let l = register_inline(&self.reg, name, head, n, class)?;
        self.by_layout.insert(l.layout, l.clone());
        Ok(l)
    }

    /// The layout of the generators running `code`.
    pub fn generator(&mut self, code: *const Code) -> Result<GenLayout, String> {
        if let Some(l) = self.gens.get(&(code as usize)) {
            return Ok(l.clone());
        }
        let e = |e: leones_tracer::RegistryError| e.to_string();
        // SAFETY: code objects live as long as the VM.
        let c = unsafe { &*code };
        let n = c.nslots as usize;
        let name = format!("g{:x}_{}", code as usize, ident(&c.name));
        let layout = self
            .reg
            .layout(&name, (GEN_SLOTS_OFFSET + 16 * n) as u32, None)
            .map_err(e)?;
        let kind = self.reg.field(layout, "kind", 8, Type::I64, true).map_err(e)?;
        let code_f = self.reg.field(layout, "code", 16, Type::I64, true).map_err(e)?;
        let resume = self.reg.field(layout, "resume", 24, Type::I64, false).map_err(e)?;
        let values = register_values(&self.reg, layout, GEN_SLOTS_OFFSET, n)?;
        let l = GenLayout {
            layout,
            kind,
            code: code_f,
            resume,
            values,
            code_ptr: code,
        };
        self.gens.insert(code as usize, l.clone());
        self.gen_by_layout.insert(layout, l.clone());
        Ok(l)
    }

    /// A generator layout by handle (for materializing virtuals).
    pub fn generator_info(&self, l: LayoutRef) -> Option<&GenLayout> {
        self.gen_by_layout.get(&l)
    }

    /// The layout of instances of `class`.
    pub fn class(&mut self, class: *mut ClassObj) -> Result<InlineLayout, String> {
        if let Some(l) = self.classes.get(&(class as usize)) {
            return Ok(l.clone());
        }
        // SAFETY: classes are never freed while code refers to them (the JIT keeps
        // every class it saw alive).
        let (name, n) = unsafe {
            (
                format!("c{:x}_{}", class as usize, ident(&(*class).name)),
                (*class).nslots,
            )
        };
        let l = self.inline_layout(&name, INSTANCE_SLOTS_OFFSET, n as usize, class)?;
        self.classes.insert(class as usize, l.clone());
        Ok(l)
    }

    /// The layout of tuples of `n` items.
    pub fn tuple(&mut self, n: usize) -> Result<InlineLayout, String> {
        if let Some(l) = self.tuples.get(&n) {
            return Ok(l.clone());
        }
        let l = self.inline_layout(&format!("tuple{n}"), TUPLE_ITEMS_OFFSET, n, std::ptr::null_mut())?;
        self.tuples.insert(n, l.clone());
        Ok(l)
    }

    /// An instance or tuple layout by handle (for materializing virtuals).
    pub fn layout_info(&self, l: LayoutRef) -> Option<&InlineLayout> {
        self.by_layout.get(&l)
    }

    /// A host function, registered once per name.
    pub fn call(
        &mut self,
        name: &str,
        addr: u64,
        params: &[Type],
        ret: Option<Type>,
        effects: EffectInfo,
    ) -> Result<CallRef, String> {
        if let Some(c) = self.calls.get(name) {
            return Ok(*c);
        }
        let c = self
            .reg
            .call(name, addr, params, ret, effects)
            .map_err(|e| e.to_string())?;
        self.calls.insert(name.to_string(), c);
        Ok(c)
    }
}

/// The kind word of `kind` (what `getfield _.kind` reads).
pub(crate) fn kind_word(kind: Kind) -> i64 {
    kind as u8 as i64
}

/// Registers an instance or tuple layout: a `head`-byte fixed part (`kind` @8, `count`
/// @16), then `n` 16-byte values as tag and word fields.
/// The fields of `n` inline 16-byte values of `layout` from offset `head`.
fn register_values(reg: &Registry, layout: LayoutRef, head: usize, n: usize) -> Result<Vec<ValueFields>, String> {
    let e = |e: leones_tracer::RegistryError| e.to_string();
    (0..n)
        .map(|i| {
            let at = (head + 16 * i) as u32;
            Ok(ValueFields {
                tag: reg.field(layout, &format!("t{i}"), at, Type::I64, false).map_err(e)?,
                word: reg
                    .field(layout, &format!("w{i}"), at + 8, Type::I64, false)
                    .map_err(e)?,
            })
        })
        .collect()
}

fn register_inline(
    reg: &Registry,
    name: &str,
    head: usize,
    n: usize,
    class: *mut ClassObj,
) -> Result<InlineLayout, String> {
    let e = |e: leones_tracer::RegistryError| e.to_string();
    let size = (head + 16 * n) as u32;
    let class_word = (!class.is_null()).then_some(class as u64);
    let layout = reg.layout(name, size, class_word).map_err(e)?;
    let kind = reg.field(layout, "kind", 8, Type::I64, true).map_err(e)?;
    let count = reg.field(layout, "count", 16, Type::I64, true).map_err(e)?;
    let values = register_values(reg, layout, head, n)?;
    Ok(InlineLayout {
        layout,
        kind,
        count,
        values,
        class,
    })
}
