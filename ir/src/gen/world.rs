//! The fixed "world" every generated trace lives in: descriptor tables (layouts, fields,
//! arrays, calls, frames, targets) and the host functions behind the calls, both as
//! closures for the reference interpreter ([`test_host`]) and as real `extern "C"`
//! functions for native code ([`native_addr`]).
//!
//! ## Calling convention of the native host functions
//! Every parameter and result is passed as a C scalar in registers, System V style:
//! `i64` as `i64`, `f64` as `double`, `ref`/`ptr` as `u64` (a plain address), and
//! **`bool` as `i64` 0 or 1** (never an `i1`/`_Bool`), both as argument and as result.
//! A function without a result returns `void`. A function that "raises" returns 0 and
//! sets a thread-local pending-exception flag; the code after the call must test and
//! clear it with [`take_native_exception`] (or the `extern "C"`
//! [`leones_gen_take_exception`], at [`take_exception_addr`]) — that is the native
//! meaning of `guard_no_exception`. The interpreter closures report a raise as
//! [`CallResult::raise`] instead.

use crate::descr::*;
use crate::entity::{ArrayId, FieldId, LayoutId};
use crate::interp::{CallResult, Fault, FnTable, Heap, Val};
use crate::trace::Trace;
use crate::types::{MemType, Type};
use std::cell::Cell;

/// Layout indices in the world (`A`, `B` have class words; `R` is a plain record).
pub const L_A: LayoutId = LayoutId(0);
pub const L_B: LayoutId = LayoutId(1);
pub const L_R: LayoutId = LayoutId(2);
/// Layouts whose objects carry a class word (the only ones ref fields/items point to).
pub const CLASSED: [LayoutId; 2] = [L_A, L_B];
/// Array descriptors: `IA` (i64), `FA` (f64), `RA` (ref), `BA` (bool).
pub const ARRAYS: [(&str, Type); 4] = [
    ("IA", Type::I64),
    ("FA", Type::F64),
    ("RA", Type::Ref),
    ("BA", Type::Bool),
];
/// `A.a`, the field `get_a`/`set_a` touch.
pub const F_A_A: FieldId = FieldId(0);
/// `A.id`, immutable: only written right after `new`.
pub const F_A_ID: FieldId = FieldId(3);
/// `B.y`, read by `peek_y`.
pub const F_B_Y: FieldId = FieldId(7);
/// The `i64` array `IA` that `sum_items`/`bump_item` touch.
pub const ARR_IA: ArrayId = ArrayId(0);

const LAYOUTS: [(&str, u32, Option<u64>); 3] = [("A", 48, Some(0xA1)), ("B", 32, Some(0xB2)), ("R", 24, None)];
/// (layout, name, offset, type, immutable)
const FIELDS: [(u32, &str, u32, Type, bool); 11] = [
    (0, "a", 8, Type::I64, false),
    (0, "x", 16, Type::F64, false),
    (0, "flag", 24, Type::Bool, false),
    (0, "id", 32, Type::I64, true),
    (0, "next", 40, Type::Ref, false),
    (1, "p", 8, Type::Ref, false),
    (1, "n", 16, Type::I64, false),
    (1, "y", 24, Type::F64, false),
    (2, "u", 0, Type::I64, false),
    (2, "v", 8, Type::F64, false),
    (2, "w", 16, Type::Bool, false),
];
/// Frame kinds: (name, code, slots).
const FRAMES: [(&str, u64, u32); 3] = [("outer", 0x100, 3), ("mid", 0x200, 2), ("inner", 0x300, 4)];
/// Jump targets.
pub const TARGETS: [(&str, &[Type]); 2] = [("t_num", &[Type::I64, Type::F64]), ("t_ref", &[Type::Ref])];

/// The host functions, by [`HostFn`] index: name, params, result.
pub const HOST_FNS: [(&str, &[Type], Option<Type>); 11] = [
    ("mix", &[Type::I64, Type::I64], Some(Type::I64)),
    ("fmix", &[Type::F64], Some(Type::F64)),
    ("get_a", &[Type::Ref], Some(Type::I64)),
    ("set_a", &[Type::Ref, Type::I64], None),
    ("tick", &[], None),
    ("maybe_raise", &[Type::I64], Some(Type::I64)),
    ("sum_items", &[Type::Ref], Some(Type::I64)),
    ("bump_item", &[Type::Ref, Type::I64], None),
    ("fsel", &[Type::Bool, Type::F64, Type::I64], Some(Type::F64)),
    ("peek_y", &[Type::Ref], Some(Type::F64)),
    ("is_pos", &[Type::I64], Some(Type::Bool)),
];
/// Host functions whose first argument must be an `A` object, a `B` object, an `IA` array.
pub const FN_GET_A: usize = 2;
pub const FN_SET_A: usize = 3;
pub const FN_SUM: usize = 6;
pub const FN_BUMP: usize = 7;
pub const FN_PEEK: usize = 9;

fn effects_of(f: usize) -> EffectInfo {
    let fields = |fs: &[FieldId]| HeapSet::of(fs.to_vec(), vec![]);
    let arr = || HeapSet::of(vec![], vec![ARR_IA]);
    match HOST_FNS[f].0 {
        "mix" | "fmix" | "fsel" | "is_pos" => EffectInfo::pure(),
        "get_a" => EffectInfo {
            reads: fields(&[F_A_A]),
            ..EffectInfo::none()
        },
        "set_a" => EffectInfo {
            writes: fields(&[F_A_A]),
            ..EffectInfo::none()
        },
        "maybe_raise" => EffectInfo {
            may_raise: true,
            ..EffectInfo::none()
        },
        "sum_items" => EffectInfo {
            reads: arr(),
            ..EffectInfo::none()
        },
        "bump_item" => EffectInfo {
            reads: arr(),
            writes: arr(),
            ..EffectInfo::none()
        },
        "peek_y" => EffectInfo {
            reads: fields(&[F_B_Y]),
            may_force: true,
            ..EffectInfo::none()
        },
        _ => EffectInfo::opaque(), // tick: unannotated on purpose
    }
}

/// A trace named `name` holding the world's descriptor tables. With `native`, call
/// descriptors carry the addresses of the `extern "C"` host functions.
pub fn world_trace(name: &str, native: bool) -> Trace {
    let mut t = Trace::new(name);
    for (name, size, class) in LAYOUTS {
        t.layouts.push(Layout {
            name: name.into(),
            size,
            class,
        });
    }
    for (l, name, offset, ty, immutable) in FIELDS {
        t.fields.push(FieldDescr {
            layout: LayoutId(l),
            name: name.into(),
            offset,
            ty,
            immutable,
        });
    }
    for (name, elem) in ARRAYS {
        t.arrays.push(ArrayDescr {
            name: name.into(),
            elem,
            len_offset: 0,
            items_offset: 8,
        });
    }
    for (i, (name, params, ret)) in HOST_FNS.iter().enumerate() {
        let addr = if native { native_addr(i) } else { 0 };
        t.calls.push(CallDescr {
            name: (*name).into(),
            addr,
            params: params.to_vec(),
            ret: *ret,
            effects: effects_of(i),
        });
    }
    for (name, code, slots) in FRAMES {
        t.frames.push(FrameDescr {
            name: name.into(),
            code,
            slots,
        });
    }
    for (name, params) in TARGETS {
        t.targets.push(TargetDescr {
            name: name.into(),
            params: params.to_vec(),
        });
    }
    t
}

/// The memory type a value of type `ty` is stored with in a field or array item.
pub fn mem_type_of(ty: Type) -> MemType {
    MemType::of(ty)
}

// ---- the host functions' one implementation, over an abstract memory ----

/// Memory as host functions see it: 64-bit patterns at addresses.
trait HostMem {
    type E;
    fn load(&mut self, addr: u64, mt: MemType) -> Result<u64, Self::E>;
    fn store(&mut self, addr: u64, mt: MemType, bits: u64) -> Result<(), Self::E>;
}

thread_local! {
    static TICKS: Cell<u64> = const { Cell::new(0) };
    static PENDING_EXCEPTION: Cell<bool> = const { Cell::new(false) };
}

/// How many times `tick` ran on this thread (interpreter and native alike).
pub fn tick_count() -> u64 {
    TICKS.with(|t| t.get())
}

/// Whether a native host function raised since the last call; clears the flag.
pub fn take_native_exception() -> bool {
    PENDING_EXCEPTION.with(|p| p.replace(false))
}

/// `extern "C"` form of [`take_native_exception`]: returns 1 if an exception was
/// pending (and clears it), else 0.
pub extern "C" fn leones_gen_take_exception() -> i64 {
    take_native_exception() as i64
}

/// Runs host function `f` on argument bit patterns; returns (result bits, raised).
fn host_logic<M: HostMem>(f: usize, m: &mut M, a: &[u64]) -> Result<(u64, bool), M::E> {
    let fl = f64::from_bits;
    let r = match HOST_FNS[f].0 {
        "mix" => (a[0].wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ a[1], false),
        "fmix" => ((fl(a[0]) * 0.5 + 1.25).to_bits(), false),
        "get_a" => (m.load(a[0] + 8, MemType::I64)?, false),
        "set_a" => (m.store(a[0] + 8, MemType::I64, a[1]).map(|_| 0)?, false),
        "tick" => {
            TICKS.with(|t| t.set(t.get() + 1));
            (0, false)
        }
        "maybe_raise" => {
            let x = a[0] as i64;
            if x & 7 == 3 {
                (0, true)
            } else {
                (x.wrapping_mul(3).wrapping_add(1) as u64, false)
            }
        }
        "sum_items" => {
            let len = m.load(a[0], MemType::I64)? as i64;
            let mut s = 0u64;
            for i in 0..len.max(0) as u64 {
                s = s.wrapping_add(m.load(a[0] + 8 + 8 * i, MemType::I64)?);
            }
            (s, false)
        }
        "bump_item" => {
            let len = m.load(a[0], MemType::I64)? as i64;
            if len > 0 {
                let at = a[0] + 8 + 8 * (a[1] as i64).rem_euclid(len) as u64;
                let v = m.load(at, MemType::I64)?;
                m.store(at, MemType::I64, v.wrapping_add(1))?;
            }
            (0, false)
        }
        "fsel" => (
            if a[0] != 0 {
                a[1]
            } else {
                (a[2] as i64 as f64).to_bits()
            },
            false,
        ),
        "peek_y" => (m.load(a[0] + 24, MemType::F64)?, false),
        "is_pos" => (((a[0] as i64) > 0) as u64, false),
        _ => (0, false),
    };
    Ok(r)
}

/// The interpreter's heap, for the closures.
struct HeapMem<'h>(&'h mut Heap);
impl HostMem for HeapMem<'_> {
    type E = Fault;
    fn load(&mut self, addr: u64, mt: MemType) -> Result<u64, Fault> {
        Ok(self.0.load(addr, mt)?.to_bits())
    }
    fn store(&mut self, addr: u64, mt: MemType, bits: u64) -> Result<(), Fault> {
        self.0.store(addr, mt, Val::from_bits(mt.value_type(), bits))
    }
}

/// Real memory, for the `extern "C"` functions.
struct NativeMem;
impl HostMem for NativeMem {
    type E = std::convert::Infallible;
    fn load(&mut self, addr: u64, _mt: MemType) -> Result<u64, Self::E> {
        // SAFETY: generated traces only pass live objects/arrays of the right shape.
        Ok(unsafe { (addr as usize as *const u64).read_unaligned() })
    }
    fn store(&mut self, addr: u64, _mt: MemType, bits: u64) -> Result<(), Self::E> {
        // SAFETY: as for `load`.
        unsafe { (addr as usize as *mut u64).write_unaligned(bits) };
        Ok(())
    }
}

/// The host functions for the reference interpreter, by name, with exactly the
/// behaviour of the native ones.
pub fn test_host() -> FnTable {
    let mut table = FnTable::new();
    for (f, (name, _, ret)) in HOST_FNS.iter().enumerate() {
        let ret = *ret;
        table.insert(*name, move |heap: &mut Heap, args: &[Val]| {
            let bits: Vec<u64> = args.iter().map(|a| a.to_bits()).collect();
            Ok(match host_logic(f, &mut HeapMem(heap), &bits)? {
                (_, true) => CallResult::raise(),
                (r, false) => CallResult {
                    value: ret.map(|t| Val::from_bits(t, r)),
                    raised: false,
                },
            })
        });
    }
    table
}

fn native(f: usize, a: &[u64]) -> u64 {
    let Ok((r, raised)) = host_logic(f, &mut NativeMem, a);
    if raised {
        PENDING_EXCEPTION.with(|p| p.set(true));
    }
    r
}

macro_rules! natives {
    ($($fname:ident = $idx:expr, ($($arg:ident: $aty:ty),*) -> $ret:ty;)*) => {
        $(
            #[doc = concat!("Native form of host function `", stringify!($idx), "` (see [`HOST_FNS`]).")]
            pub extern "C" fn $fname($($arg: $aty),*) -> $ret {
                let r = native($idx, &[$(ToBits::bits($arg)),*]);
                FromBits::from_bits(r)
            }
        )*
        /// The address of native host function `f` (index into [`HOST_FNS`]).
        pub fn native_addr(f: usize) -> u64 {
            let addrs: &[usize] = &[$($fname as *const () as usize),*];
            addrs[f] as u64
        }
    };
}

trait ToBits {
    fn bits(self) -> u64;
}
impl ToBits for i64 {
    fn bits(self) -> u64 {
        self as u64
    }
}
impl ToBits for u64 {
    fn bits(self) -> u64 {
        self
    }
}
impl ToBits for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}
trait FromBits {
    fn from_bits(b: u64) -> Self;
}
impl FromBits for i64 {
    fn from_bits(b: u64) -> i64 {
        b as i64
    }
}
impl FromBits for f64 {
    fn from_bits(b: u64) -> f64 {
        f64::from_bits(b)
    }
}
impl FromBits for () {
    fn from_bits(_: u64) {}
}

natives! {
    leones_gen_mix = 0, (a: i64, b: i64) -> i64;
    leones_gen_fmix = 1, (x: f64) -> f64;
    leones_gen_get_a = 2, (obj: u64) -> i64;
    leones_gen_set_a = 3, (obj: u64, v: i64) -> ();
    leones_gen_tick = 4, () -> ();
    leones_gen_maybe_raise = 5, (x: i64) -> i64;
    leones_gen_sum_items = 6, (arr: u64) -> i64;
    leones_gen_bump_item = 7, (arr: u64, i: i64) -> ();
    leones_gen_fsel = 8, (c: i64, x: f64, n: i64) -> f64;
    leones_gen_peek_y = 9, (obj: u64) -> f64;
    leones_gen_is_pos = 10, (x: i64) -> i64;
}

/// Address of [`leones_gen_take_exception`].
pub fn take_exception_addr() -> u64 {
    leones_gen_take_exception as *const () as usize as u64
}
