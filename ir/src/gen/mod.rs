//! # Random valid traces, for property tests (feature `proptest-gen`)
//!
//! [`arb_case`] is a proptest strategy for [`TestCase`]s: a random [`Trace`] together
//! with the inputs to run it on. The optimizer, the LLVM backend and the fuzzers all
//! use it for differential testing: run the reference interpreter on the trace, run
//! the optimized or compiled trace on a second heap built from the same inputs, and
//! compare the two [`describe_outcome`] texts.
//!
//! ## What it generates
//! Every trace lives in one fixed world of descriptors (see [`world`]): classed layouts
//! `A` and `B` and the plain record `R`, arrays of `i64`/`f64`/`ref`/`bool`, eleven host
//! functions with varied [`EffectInfo`](crate::EffectInfo)s (pure, reads or writes one
//! field or array, raising, forcing, one left opaque), three frame kinds and two jump
//! targets. Within it, traces use every op family: constants from a pool of edge cases
//! (`i64::MIN`, `-0.0`, NaN payloads, infinities, subnormals), integer, float, bool and
//! bitwise ops, comparisons, conversions, `idiv`/`irem`, `*_ovf` with
//! `guard_no_overflow`, `select` (also `unpredictable`, also on refs), `new` with
//! field initialization, `getfield`/`setfield`, `getitem`/`setitem`/`arraylen`, raw
//! `load.T`/`store.T` of every width, `ptradd`, `ptr2i`/`i2ptr`, `req`/`rne`, calls
//! followed by `guard_no_exception`, and all nine guard kinds. Shapes: straight line
//! ending in `finish` or `jump @target`, a loop on `block0`, and a peeled loop
//! (preamble, then a loop block); inside them `br`/`goto` diamonds with block
//! arguments (often objects an arm allocated), branch weights and arms that leave the
//! trace or, inside a loop, end the iteration (a second `jump` to the loop header),
//! short diamonds of wrapping arithmetic joined through one parameter (what branchless
//! rewriting converts), and counted inner loops, all nested. Snapshots have 1–3 frames mixing live values, constants, dead slots and
//! virtual objects, including virtual cycles, and objects allocated with `new` that
//! only snapshots refer to (what escape analysis leaves behind).
//!
//! ## Invariants guaranteed
//! - Every trace passes [`verify`](crate::verify).
//! - Every run terminates: each loop has a counter `n` with `next = n - 1` and an exit
//!   unless `next <u K` ([`GenConfig::max_loop_iters`]), whatever the inputs; nesting
//!   is bounded by [`GenConfig::max_loop_depth`].
//! - Run on [`TestCase::build_inputs`] with [`test_host`], the interpreter never
//!   faults: divisors are `d | 1`; array indices are constants below the known length,
//!   masked below it, or checked by a `guard_true (iult i, arraylen)` first; raw
//!   accesses are aligned and inside their buffer; objects are dereferenced only when
//!   known non-null and of the right layout (refs loaded from fields and items are
//!   `guard_nonnull`- and `guard_class`-ed first); ref fields and items only ever hold
//!   null or classed objects; `ref`/`ptr`/`bool` values are loaded from raw memory
//!   only right after being stored there, and a stored address is wiped right after.
//! - Outcomes are deterministic and address-independent: integers derived from
//!   addresses (`ptr2i`) never escape except as differences of pointers into one buffer.
//!
//! ## Using it from another crate's tests
//! Depend on `leones-ir` with `features = ["proptest-gen"]` (as a dev-dependency), then:
//!
//! ```
//! use leones_ir::gen::{arb_case, GenConfig};
//! use proptest::prelude::*;
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig::with_cases(16))]
//!     // #[test] in a real test file
//!     fn my_pass_preserves_behaviour(case in arb_case(GenConfig::everything())) {
//!         let expected = case.describe_run(&case.trace).expect("generated traces never fault");
//!         let optimized = case.trace.clone(); // my_pass(&case.trace)
//!         leones_ir::verify(&optimized).unwrap();
//!         prop_assert_eq!(case.describe_run(&optimized).unwrap(), expected);
//!     }
//! }
//! # my_pass_preserves_behaviour();
//! ```
//!
//! Native code calls the host functions through `CallDescr::addr`; see [`world`] for
//! their calling convention and how they signal a raise.

mod build;
mod ops;
mod recipe;
mod snap;
pub mod world;

pub use recipe::{arb_recipe, arb_step, SnapSel, Step};
pub use world::{native_addr, take_native_exception, test_host, tick_count};

use crate::entity::{ArrayId, FieldId, LayoutId};
use crate::interp::{describe_outcome, Fault, Heap, Interpreter, Outcome, Val};
use crate::trace::Trace;
use crate::types::Type;
use build::{Builder, Kind, Rng};
use proptest::prelude::*;
use std::collections::HashMap;
use std::fmt;

/// The overall shape of a generated trace.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// No back edge: ends in `finish` or `jump @target` (regions may still branch).
    Straight,
    /// `block0` is the loop header: `jump block0(...)` at the end.
    Loop,
    /// A preamble in `block0`, then `goto block1`, the loop header.
    PeeledLoop,
}

/// What to generate. Start from a preset and adjust fields.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Recipe length bounds (each step is one to a few instructions).
    pub min_steps: usize,
    pub max_steps: usize,
    /// Shapes to choose from (at least one).
    pub shapes: Vec<Shape>,
    /// Counted inner loops (`goto` header, `br` exit, `jump` back edge).
    pub loops: bool,
    /// `br`/`goto` diamonds, with block arguments and arms that exit or `continue` the
    /// innermost loop.
    pub regions: bool,
    /// How many regions may be open at once (below a root loop).
    pub max_nesting: usize,
    /// How many inner loops may be open at once.
    pub max_loop_depth: usize,
    /// Iteration bound `K` of every loop (exit unless `n - 1 <u K`).
    pub max_loop_iters: u8,
    /// `new`, `getfield`/`setfield`, object inputs, null/class refinement.
    pub objects: bool,
    /// Array inputs and `getitem`/`setitem`/`arraylen`.
    pub arrays: bool,
    /// Raw buffer inputs, `load`/`store`, `ptradd`, `ptr2i`/`i2ptr`.
    pub raw_memory: bool,
    /// Host calls (and `guard_no_exception`).
    pub calls: bool,
    /// `*_ovf` ops with `guard_no_overflow`.
    pub overflow: bool,
    /// `select`.
    pub select: bool,
    /// Most frames per snapshot (1–3).
    pub max_frames: usize,
    /// Virtual objects (with cycles) and snapshot-only allocations.
    pub virtuals: bool,
    /// Put the native host functions' addresses in the call descriptors.
    pub native_addrs: bool,
    /// Let raw pointers appear in `finish` values and snapshots.
    pub raw_ptrs_in_exits: bool,
    /// After building, run the case and flip `guard_true`/`guard_false` on random
    /// conditions that fail, so that runs get deep into the trace (up to this many
    /// flips; 0 disables).
    pub steer_guards: usize,
}

impl GenConfig {
    /// All features, all shapes, up to 60 steps.
    pub fn everything() -> GenConfig {
        GenConfig {
            min_steps: 1,
            max_steps: 60,
            shapes: vec![Shape::Straight, Shape::Loop, Shape::PeeledLoop],
            loops: true,
            regions: true,
            max_nesting: 3,
            max_loop_depth: 2,
            max_loop_iters: 4,
            objects: true,
            arrays: true,
            raw_memory: true,
            calls: true,
            overflow: true,
            select: true,
            max_frames: 3,
            virtuals: true,
            native_addrs: true,
            raw_ptrs_in_exits: true,
            steer_guards: 8,
        }
    }
    /// One block ending in `finish`/`jump @target`: every op family, no control flow.
    pub fn straight_line() -> GenConfig {
        GenConfig {
            max_steps: 40,
            shapes: vec![Shape::Straight],
            loops: false,
            regions: false,
            ..GenConfig::everything()
        }
    }
    /// Loop traces (plain and peeled) with counted inner loops, no diamonds.
    pub fn loops() -> GenConfig {
        GenConfig {
            shapes: vec![Shape::Loop, Shape::PeeledLoop],
            regions: false,
            ..GenConfig::everything()
        }
    }
    /// Diamonds (`br`/`goto`) with nesting and exiting arms, in straight traces and loops.
    pub fn regions() -> GenConfig {
        GenConfig {
            shapes: vec![Shape::Straight, Shape::Loop],
            loops: false,
            ..GenConfig::everything()
        }
    }
    /// Scalars only: no memory, no calls (the smallest world).
    pub fn scalars() -> GenConfig {
        GenConfig {
            objects: false,
            arrays: false,
            raw_memory: false,
            calls: false,
            virtuals: false,
            ..GenConfig::everything()
        }
    }
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig::everything()
    }
}

/// One field's or item's initial value in an input object or array.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum FieldInit {
    I64(i64),
    F64(f64),
    Bool(bool),
    Null,
    /// A reference to the object that is input number `k`.
    Input(usize),
}

/// One input of a test case (one `block0` parameter).
#[derive(Clone, Debug, PartialEq)]
pub enum InputSpec {
    I64(i64),
    F64(f64),
    Bool(bool),
    /// A null `ref` (the trace treats it as possibly null).
    Null,
    /// An object; `nullable` ones are treated by the trace as possibly null.
    Object {
        layout: LayoutId,
        fields: Vec<(FieldId, FieldInit)>,
        nullable: bool,
    },
    /// An array of `items.len()` items.
    Array {
        array: ArrayId,
        items: Vec<FieldInit>,
    },
    /// A raw buffer of `bytes.len()` bytes (a multiple of 8).
    Raw {
        bytes: Vec<u8>,
    },
}

/// A generated trace and the inputs to run it on.
#[derive(Clone)]
pub struct TestCase {
    pub trace: Trace,
    pub inputs: Vec<InputSpec>,
    pub shape: Shape,
}

impl fmt::Debug for TestCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "TestCase ({:?}) inputs:", self.shape)?;
        for (i, x) in self.inputs.iter().enumerate() {
            writeln!(f, "  {i}: {x:?}")?;
        }
        write!(f, "{}", crate::print(&self.trace))
    }
}

fn mem_val(init: FieldInit, ty: Type, addrs: &[u64]) -> Val {
    match init {
        FieldInit::I64(x) => Val::I64(x),
        FieldInit::F64(x) => Val::F64(x),
        FieldInit::Bool(x) => Val::Bool(x),
        FieldInit::Null => Val::zero(ty),
        FieldInit::Input(k) => Val::Ref(addrs[k]),
    }
}

impl TestCase {
    /// Allocates and fills the inputs in `heap` (deterministically: two fresh heaps get
    /// equivalent states) and returns the `block0` arguments.
    pub fn build_inputs(&self, heap: &mut Heap) -> Vec<Val> {
        let t = &self.trace;
        let addrs: Vec<u64> = self
            .inputs
            .iter()
            .map(|s| match s {
                InputSpec::Object { layout, .. } => heap.alloc_object(t.layout(*layout)),
                InputSpec::Array { array, items } => heap.alloc_array(t.array(*array), items.len()),
                InputSpec::Raw { bytes } => heap.alloc_raw(bytes.len()),
                _ => 0,
            })
            .collect();
        let put = |heap: &mut Heap, addr: u64, ty: Type, v: Val| {
            heap.store(addr, world::mem_type_of(ty), v)
                .expect("input layout fits its allocation");
        };
        for (s, &addr) in self.inputs.iter().zip(&addrs) {
            match s {
                InputSpec::Object { fields, .. } => {
                    for &(f, init) in fields {
                        let fd = t.field(f);
                        put(heap, addr + u64::from(fd.offset), fd.ty, mem_val(init, fd.ty, &addrs));
                    }
                }
                InputSpec::Array { array, items } => {
                    let ad = t.array(*array);
                    for (i, &init) in items.iter().enumerate() {
                        let at = addr + u64::from(ad.items_offset) + i as u64 * u64::from(ad.elem.mem_size());
                        put(heap, at, ad.elem, mem_val(init, ad.elem, &addrs));
                    }
                }
                InputSpec::Raw { bytes } => {
                    for (i, w) in bytes.chunks(8).enumerate() {
                        let word = i64::from_le_bytes(w.try_into().expect("whole words"));
                        put(heap, addr + 8 * i as u64, Type::I64, Val::I64(word));
                    }
                }
                _ => {}
            }
        }
        self.inputs
            .iter()
            .zip(&addrs)
            .map(|(s, &a)| match s {
                InputSpec::I64(x) => Val::I64(*x),
                InputSpec::F64(x) => Val::F64(*x),
                InputSpec::Bool(x) => Val::Bool(*x),
                InputSpec::Null => Val::Ref(0),
                InputSpec::Object { .. } | InputSpec::Array { .. } => Val::Ref(a),
                InputSpec::Raw { .. } => Val::Ptr(a),
            })
            .collect()
    }

    /// Runs `trace` (this case's trace or a transformed version of it) in the reference
    /// interpreter on freshly built inputs with [`test_host`], and describes the outcome.
    pub fn describe_run(&self, trace: &Trace) -> Result<String, Fault> {
        let mut heap = Heap::new();
        let inputs = self.build_inputs(&mut heap);
        let mut interp = Interpreter::new(trace).with_heap(heap).with_host(test_host());
        let outcome = interp.run(&inputs)?;
        Ok(describe_outcome(trace, interp.heap(), &outcome))
    }

    fn kinds(&self) -> (Vec<Kind>, HashMap<u32, u32>) {
        let mut raw = HashMap::new();
        let kinds = self
            .inputs
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                InputSpec::I64(_) => Kind::I64,
                InputSpec::F64(_) => Kind::F64,
                InputSpec::Bool(_) => Kind::Bool,
                InputSpec::Null | InputSpec::Object { nullable: true, .. } => Kind::MaybeObj,
                InputSpec::Object { layout, .. } => Kind::Obj(*layout),
                InputSpec::Array { array, items } => Kind::Arr(array.0, items.len() as u32),
                InputSpec::Raw { bytes } => {
                    raw.insert(i as u32, bytes.len() as u32);
                    Kind::Raw(i as u32, 0)
                }
            })
            .collect();
        (kinds, raw)
    }
}

/// An `i64` input: mostly small and edge-case values.
fn arb_int() -> impl Strategy<Value = i64> {
    prop_oneof![3 => -8i64..=8, 1 => prop::sample::select(vec![i64::MIN, i64::MAX, 1 << 40, -1 << 33]), 2 => any::<i64>()]
}

fn arb_float() -> impl Strategy<Value = f64> {
    prop_oneof![2 => -4.0f64..4.0, 1 => any::<u8>().prop_map(|p| match ops::pool_const(Type::F64, p) { crate::Const::F64(x) => x, _ => 0.0 }), 1 => any::<f64>()]
}

/// A field/item value of type `ty` from `rng`; refs point to one of `objs` or null.
fn init_of(ty: Type, rng: &mut Rng, objs: &[usize]) -> FieldInit {
    match ty {
        Type::I64 => FieldInit::I64([0, 1, -1, 42, i64::MIN][rng.below(5)].wrapping_add(rng.below(3) as i64)),
        Type::F64 => FieldInit::F64([0.0, -0.0, 1.5, -3.25, f64::NAN][rng.below(5)]),
        Type::Bool => FieldInit::Bool(rng.chance(50)),
        _ if objs.is_empty() || rng.chance(20) => FieldInit::Null,
        _ => FieldInit::Input(objs[rng.below(objs.len())]),
    }
}

/// The inputs: an `i64` counter first, then scalars, objects, nulls, arrays, buffers.
pub fn arb_inputs(cfg: &GenConfig) -> impl Strategy<Value = Vec<InputSpec>> {
    let k = i64::from(cfg.max_loop_iters);
    let counter = prop_oneof![6 => 1..=k.max(1), 1 => 0..=k + 1, 1 => any::<i64>()];
    let n = |on: bool, max: usize| if on { 0..=max } else { 0..=0 };
    let scalars = (
        counter,
        prop::collection::vec(arb_int(), 1..=2),
        prop::collection::vec(arb_float(), 1..=2),
        any::<bool>(),
    );
    let objs = prop::collection::vec((0..3u32, any::<bool>()), n(cfg.objects, 3));
    let nulls = if cfg.objects {
        prop_oneof![3 => Just(0usize), 1 => Just(1usize)].boxed()
    } else {
        Just(0usize).boxed()
    };
    let arrays = prop::collection::vec((0..4u32, 0..=6usize), n(cfg.arrays, 2));
    let raws = prop::collection::vec(1..=6usize, n(cfg.raw_memory, 1));
    (scalars, objs, nulls, arrays, raws, any::<u64>()).prop_map(
        |((c, ints, floats, b), objs, nulls, arrays, raws, seed)| {
            let mut rng = Rng(seed);
            let mut v = vec![InputSpec::I64(c)];
            v.extend(ints.into_iter().map(InputSpec::I64));
            v.extend(floats.into_iter().map(InputSpec::F64));
            v.push(InputSpec::Bool(b));
            let first_obj = v.len();
            let classed: Vec<usize> = objs
                .iter()
                .enumerate()
                .filter(|(_, o)| o.0 < 2)
                .map(|(i, _)| first_obj + i)
                .collect();
            let world = world::world_trace("", false);
            for &(l, nullable) in &objs {
                let layout = LayoutId(l);
                let fields = (0..world.fields.len())
                    .map(FieldId::new)
                    .filter(|&f| world.field(f).layout == layout);
                let fields = fields
                    .map(|f| (f, init_of(world.field(f).ty, &mut rng, &classed)))
                    .collect();
                v.push(InputSpec::Object {
                    layout,
                    fields,
                    nullable: nullable && l < 2,
                });
            }
            v.extend((0..nulls).map(|_| InputSpec::Null));
            for (a, len) in arrays {
                let items = (0..len)
                    .map(|_| init_of(world::ARRAYS[a as usize].1, &mut rng, &classed))
                    .collect();
                v.push(InputSpec::Array {
                    array: ArrayId(a),
                    items,
                });
            }
            for words in raws {
                v.push(InputSpec::Raw {
                    bytes: (0..words * 8).map(|_| rng.next() as u8).collect(),
                });
            }
            v
        },
    )
}

/// Random valid test cases (see the module docs).
pub fn arb_case(cfg: GenConfig) -> impl Strategy<Value = TestCase> {
    let shapes = if cfg.shapes.is_empty() {
        vec![Shape::Straight]
    } else {
        cfg.shapes.clone()
    };
    (
        prop::sample::select(shapes),
        arb_inputs(&cfg),
        arb_recipe(&cfg),
        any::<u8>(),
    )
        .prop_map(move |(shape, inputs, steps, tail)| {
            let mut case = TestCase {
                trace: Trace::default(),
                inputs,
                shape,
            };
            let (kinds, raw) = case.kinds();
            let (trace, steerable) = Builder::build(&cfg, shape, &kinds, raw, &steps, tail);
            case.trace = trace;
            case.steer(steerable, cfg.steer_guards);
            case
        })
}

/// Random bridges: straight traces (ending in `finish` or `jump @target`, with the
/// regions, inner loops and guards `cfg` enables) whose `block0` takes `params` — the
/// types of a guard's exit values, which a bridge attached to that guard receives.
/// The generator knows nothing about `ref`/`ptr` parameters (an exit may hand over
/// any object, array, buffer or null), so it never dereferences them; objects the
/// bridge allocates itself are used freely. All of [`arb_case`]'s invariants hold
/// for any arguments of the right types.
pub fn arb_bridge(cfg: GenConfig, params: Vec<Type>) -> impl Strategy<Value = Trace> {
    (arb_recipe(&cfg), any::<u8>()).prop_map(move |(steps, tail)| {
        let kinds: Vec<Kind> = params
            .iter()
            .map(|&ty| match ty {
                Type::Ref | Type::Ptr => Kind::Opaque(ty),
                _ => Kind::scalar(ty),
            })
            .collect();
        Builder::build(&cfg, Shape::Straight, &kinds, HashMap::new(), &steps, tail).0
    })
}

impl TestCase {
    /// Flips failing steerable `guard_true`/`guard_false` and sets the constant of a
    /// failing steerable `guard_value` to the value seen (at most once each, at most
    /// `budget` in all).
    fn steer(&mut self, mut steerable: Vec<(crate::Block, usize)>, budget: usize) {
        use crate::{GuardKind as G, Op, SlotValue};
        for _ in 0..budget {
            let Some(Outcome::Exit(exit)) = self.run_quietly() else {
                return;
            };
            let g = self.trace.guards()[exit.guard.index()];
            let Some(k) = steerable.iter().position(|&p| p == (g.block, g.inst)) else {
                return;
            };
            steerable.swap_remove(k);
            let Op::Guard(kind, snap) = self.trace.blocks[g.block.index()].insts[g.inst].op else {
                return;
            };
            let new_kind = match kind {
                G::True(c) => G::False(c),
                G::False(c) => G::True(c),
                G::Value(v, _) => {
                    // Learn the value: make it the snapshot's first slot for one run.
                    let s = &mut self.trace.snapshots[snap.index()].frames[0].slots[0];
                    let saved = std::mem::replace(s, SlotValue::Value(v));
                    let seen = self.run_quietly();
                    self.trace.snapshots[snap.index()].frames[0].slots[0] = saved;
                    match seen {
                        Some(Outcome::Exit(e)) if e.guard == exit.guard => match e.frames[0].slots[0] {
                            crate::interp::ExitValue::Val(x) => G::Value(v, x.to_const()),
                            _ => return,
                        },
                        _ => return,
                    }
                }
                _ => return,
            };
            if let Op::Guard(kind, _) = &mut self.trace.blocks[g.block.index()].insts[g.inst].op {
                *kind = new_kind;
            }
        }
    }

    fn run_quietly(&self) -> Option<Outcome> {
        let mut heap = Heap::new();
        let inputs = self.build_inputs(&mut heap);
        Interpreter::new(&self.trace)
            .with_heap(heap)
            .with_host(test_host())
            .run(&inputs)
            .ok()
    }
}
