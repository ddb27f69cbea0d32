//! The recipe: what proptest actually generates and shrinks.
//!
//! A recipe is a `Vec<Step>` of small enums whose fields are selectors (`u8`s picked
//! modulo whatever is available when the step is built) rather than value ids, so any
//! sub-sequence of a recipe, and any selector, still builds a valid trace. Shrinking a
//! recipe removes steps and moves selectors toward 0 (the most recently defined
//! candidate, the first op of a family), which shrinks the trace.

use super::GenConfig;
use proptest::prelude::*;

/// How rich a guard's snapshot is: 0 is one frame of live values and nothing else;
/// larger values add frames, constants, dead slots and virtual objects. `seed` drives
/// the details.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SnapSel {
    pub richness: u8,
    pub seed: u32,
}

/// One step of a recipe. `u8` fields select operands/variants modulo what exists.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A constant of type `ty % 3` (i64, f64, bool) from an interesting pool.
    Const { ty: u8, pick: u8 },
    /// A unary op (`op` indexes a table of scalar unary ops).
    Unary { op: u8, a: u8 },
    /// A binary scalar op, comparisons included (no division, no `_ovf`).
    Binary { op: u8, a: u8, b: u8 },
    /// `idiv`/`irem` by a divisor made nonzero with `ior d, 1`.
    Div { rem: bool, a: u8, b: u8 },
    /// An `*_ovf` op and its `guard_no_overflow`.
    Ovf { op: u8, a: u8, b: u8, snap: SnapSel },
    /// `select` (maybe `unpredictable`).
    Select {
        ty: u8,
        c: u8,
        a: u8,
        b: u8,
        unpredictable: bool,
    },
    /// A guard: `kind` picks true/false/value/class/nonnull/isnull/no_interrupt.
    Guard { kind: u8, a: u8, k: u8, snap: SnapSel },
    /// `new L` with some fields initialized; `snap_only` objects are referenced only
    /// by later snapshots (what escape analysis leaves behind).
    New { layout: u8, init: u8, snap_only: bool },
    /// `getfield` on an object.
    GetField { obj: u8, field: u8 },
    /// `setfield` on an object.
    SetField { obj: u8, field: u8, val: u8 },
    /// Refine a possibly-null ref: `guard_nonnull`, then `guard_class`.
    Refine { r: u8, layout: u8, snap: SnapSel },
    /// `getitem`/`setitem` with an index that is in range (constant, masked, or checked
    /// by a bounds guard), or `arraylen`.
    Array {
        arr: u8,
        mode: u8,
        idx: u8,
        val: u8,
        store: bool,
        snap: SnapSel,
    },
    /// Raw memory: loads/stores at in-bounds aligned offsets, `ptradd`, the
    /// `ptr2i`/`i2ptr` round trip, store-then-load pairs of `ref`/`ptr`/`bool`.
    Raw {
        buf: u8,
        mode: u8,
        mt: u8,
        off: u8,
        val: u8,
    },
    /// A call (with `guard_no_exception` after it when it may raise, and sometimes
    /// when it may not).
    Call {
        f: u8,
        a: u8,
        b: u8,
        guard: bool,
        snap: SnapSel,
    },
    /// Open a region: an `if` diamond (`br`) or, if loops are on, an inner counted loop.
    Open { kind: u8, c: u8, args: u8, weights: u8 },
    /// Switch the innermost open `if` to its else arm (or make the then arm exit).
    Else { sel: u8 },
    /// Close the innermost open region (`goto` the merge block / `jump` back).
    Close { sel: u8 },
}

fn snap_sel() -> impl Strategy<Value = SnapSel> {
    (prop_oneof![3 => 0u8..2, 2 => 2u8..8], any::<u32>()).prop_map(|(richness, seed)| SnapSel { richness, seed })
}

/// One step, weighted by what `cfg` enables.
pub fn arb_step(cfg: &GenConfig) -> BoxedStrategy<Step> {
    let s = snap_sel;
    let b = any::<u8>;
    let mut arms: Vec<(u32, BoxedStrategy<Step>)> = vec![
        (3, (b(), b()).prop_map(|(ty, pick)| Step::Const { ty, pick }).boxed()),
        (3, (b(), b()).prop_map(|(op, a)| Step::Unary { op, a }).boxed()),
        (
            6,
            (b(), b(), b()).prop_map(|(op, a, b)| Step::Binary { op, a, b }).boxed(),
        ),
        (
            1,
            (any::<bool>(), b(), b())
                .prop_map(|(rem, a, b)| Step::Div { rem, a, b })
                .boxed(),
        ),
        (
            4,
            (b(), b(), b(), s())
                .prop_map(|(kind, a, k, snap)| Step::Guard { kind, a, k, snap })
                .boxed(),
        ),
    ];
    if cfg.overflow {
        arms.push((
            2,
            (b(), b(), b(), s())
                .prop_map(|(op, a, b, snap)| Step::Ovf { op, a, b, snap })
                .boxed(),
        ));
    }
    if cfg.select {
        arms.push((
            2,
            (b(), b(), b(), b(), any::<bool>())
                .prop_map(|(ty, c, a, b, unpredictable)| Step::Select {
                    ty,
                    c,
                    a,
                    b,
                    unpredictable,
                })
                .boxed(),
        ));
    }
    if cfg.objects {
        arms.push((
            3,
            (b(), b(), any::<bool>())
                .prop_map(|(layout, init, snap_only)| Step::New {
                    layout,
                    init,
                    snap_only,
                })
                .boxed(),
        ));
        arms.push((
            3,
            (b(), b())
                .prop_map(|(obj, field)| Step::GetField { obj, field })
                .boxed(),
        ));
        arms.push((
            3,
            (b(), b(), b())
                .prop_map(|(obj, field, val)| Step::SetField { obj, field, val })
                .boxed(),
        ));
        arms.push((
            2,
            (b(), b(), s())
                .prop_map(|(r, layout, snap)| Step::Refine { r, layout, snap })
                .boxed(),
        ));
    }
    if cfg.arrays {
        let st = (b(), b(), b(), b(), any::<bool>(), s());
        arms.push((
            3,
            st.prop_map(|(arr, mode, idx, val, store, snap)| Step::Array {
                arr,
                mode,
                idx,
                val,
                store,
                snap,
            })
            .boxed(),
        ));
    }
    if cfg.raw_memory {
        arms.push((
            3,
            (b(), b(), b(), b(), b())
                .prop_map(|(buf, mode, mt, off, val)| Step::Raw {
                    buf,
                    mode,
                    mt,
                    off,
                    val,
                })
                .boxed(),
        ));
    }
    if cfg.calls {
        arms.push((
            3,
            (b(), b(), b(), any::<bool>(), s())
                .prop_map(|(f, a, b, guard, snap)| Step::Call { f, a, b, guard, snap })
                .boxed(),
        ));
    }
    if cfg.regions || cfg.loops {
        arms.push((
            2,
            (b(), b(), b(), b())
                .prop_map(|(kind, c, args, weights)| Step::Open { kind, c, args, weights })
                .boxed(),
        ));
        arms.push((1, b().prop_map(|sel| Step::Else { sel }).boxed()));
        arms.push((2, b().prop_map(|sel| Step::Close { sel }).boxed()));
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

/// A whole recipe of `cfg.min_steps..=cfg.max_steps` steps.
pub fn arb_recipe(cfg: &GenConfig) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(arb_step(cfg), cfg.min_steps..=cfg.max_steps.max(cfg.min_steps))
}
