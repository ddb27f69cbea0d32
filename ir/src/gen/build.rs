//! The builder: turns a recipe into a trace, keeping the invariants of the module docs.
//!
//! It tracks, at the current program point, the *environment*: every value that
//! dominates it, with a [`Kind`] that is finer than its IR type (which layout an object
//! has, which raw buffer a pointer points into and where, an array's length). Steps pick
//! operands from the environment by kind, which is what keeps every access in bounds
//! and every dereference non-null. Regions (`if` diamonds and counted loops) save and
//! restore the environment, so a value defined in one arm is never used after the merge
//! except through the merge block's parameters.

use super::recipe::{SnapSel, Step};
use super::world::{self, CLASSED};
use super::{GenConfig, Shape};
use crate::entity::{Block, LayoutId, Value};
use crate::op::{BinaryOp, BlockCall, Const, GuardKind, Inst, JumpTarget, Op};
use crate::trace::Trace;
use crate::types::Type;
use std::collections::HashMap;

/// What the generator knows about a value, beyond its IR type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    I64,
    F64,
    Bool,
    /// A non-null object of this layout.
    Obj(LayoutId),
    /// A non-null object of some classed layout.
    AnyObj,
    /// Null or an object of some classed layout (what ref fields and items hold).
    MaybeObj,
    /// A non-null array of this descriptor (index into [`world::ARRAYS`]) and length.
    Arr(u32, u32),
    /// A pointer into raw input buffer `buf` (an input index) at byte offset `off`.
    Raw(u32, u32),
    /// The null pointer.
    NullPtr,
    /// A `ref` or `ptr` the generator knows nothing about (a bridge's parameter: an
    /// exit value of any object, array or buffer, or null). Never dereferenced; only
    /// compared, selected, guarded for null, passed on and kept in snapshots.
    Opaque(Type),
}

impl Kind {
    pub(crate) fn ty(self) -> Type {
        match self {
            Kind::I64 => Type::I64,
            Kind::F64 => Type::F64,
            Kind::Bool => Type::Bool,
            Kind::Obj(_) | Kind::AnyObj | Kind::MaybeObj | Kind::Arr(..) => Type::Ref,
            Kind::Raw(..) | Kind::NullPtr => Type::Ptr,
            Kind::Opaque(ty) => ty,
        }
    }
    pub(crate) fn scalar(ty: Type) -> Kind {
        match ty {
            Type::F64 => Kind::F64,
            Type::Bool => Kind::Bool,
            _ => Kind::I64,
        }
    }
    /// Whether a value of this kind may be passed where `param` is expected.
    pub(crate) fn fits(self, param: Kind) -> bool {
        self == param
            || match param {
                Kind::MaybeObj => self.is_classed_ref(),
                Kind::AnyObj => matches!(self, Kind::Obj(l) if CLASSED.contains(&l)),
                _ => false,
            }
    }
    /// May be stored in a `ref` field or item (null or a classed object).
    pub(crate) fn is_classed_ref(self) -> bool {
        matches!(self, Kind::AnyObj | Kind::MaybeObj) || matches!(self, Kind::Obj(l) if CLASSED.contains(&l))
    }
}

/// The values available at a program point.
#[derive(Clone, Default)]
pub(crate) struct Env {
    pub vals: Vec<(Value, Kind)>,
    /// Objects allocated only for snapshots to refer to.
    pub snap_only: Vec<Value>,
}

/// A placeholder block for edges whose target is created later.
const PENDING: Block = Block(u32::MAX);

/// An open region.
enum Region {
    If {
        saved: Env,
        /// The `br` whose else edge is pending, until the else arm starts.
        br_at: Block,
        else_kinds: Vec<Kind>,
        in_else: bool,
        /// `goto`s to the merge block, to patch.
        to_merge: Vec<Block>,
        merge_kinds: Option<Vec<Kind>>,
        an_arm_exited: bool,
    },
    Loop {
        header: Block,
        /// Kinds of the header's parameters (the counter first).
        kinds: Vec<Kind>,
        /// The decremented counter.
        next: Value,
        env_at_header: Env,
        /// The header's `br` whose exit edge is pending (none for the root loop).
        exit_br: Option<Block>,
    },
}

pub(crate) struct Builder<'c> {
    pub cfg: &'c GenConfig,
    pub t: Trace,
    pub cur: Block,
    pub env: Env,
    /// Statically known `i64` values (constants, array lengths, pointer differences).
    pub known: HashMap<Value, i64>,
    /// Size of each raw input buffer, by input index.
    pub raw_sizes: HashMap<u32, u32>,
    /// Guards on random conditions that nothing after them relies on (may be flipped).
    pub steerable: Vec<(Block, usize)>,
    regions: Vec<Region>,
    /// Regions the recipe may not close (the root loop).
    root_depth: usize,
    loops_open: usize,
}

/// A tiny deterministic generator (splitmix64) for details below the recipe's grain.
pub(crate) struct Rng(pub u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

impl<'c> Builder<'c> {
    /// Builds the trace for `steps` over inputs of `kinds`; `raw_sizes` gives the size of
    /// every raw-buffer input. Also returns the steerable guards.
    pub(crate) fn build(
        cfg: &'c GenConfig,
        shape: Shape,
        kinds: &[Kind],
        raw_sizes: HashMap<u32, u32>,
        steps: &[Step],
        tail: u8,
    ) -> (Trace, Vec<(Block, usize)>) {
        let mut b = Builder {
            cfg,
            t: world::world_trace("gen", cfg.native_addrs),
            cur: Block(0),
            env: Env::default(),
            known: HashMap::new(),
            raw_sizes,
            steerable: Vec::new(),
            regions: Vec::new(),
            root_depth: 0,
            loops_open: 0,
        };
        let b0 = b.t.add_block();
        for &k in kinds {
            let v = b.t.add_block_param(b0, k.ty());
            b.env.vals.push((v, k));
        }
        let preamble = match shape {
            Shape::Straight => steps.len(),
            Shape::Loop => 0,
            Shape::PeeledLoop => steps.len() / 3,
        };
        if shape == Shape::Loop {
            let params: Vec<(Value, Kind)> = b.env.vals.clone();
            b.loop_header(
                b0,
                params,
                None,
                SnapSel {
                    richness: tail % 4,
                    seed: tail as u32,
                },
            );
            b.root_depth = 1;
        }
        for (i, step) in steps.iter().enumerate() {
            if i == preamble && shape == Shape::PeeledLoop {
                b.open_root_loop(tail);
            }
            b.step(step);
        }
        if preamble == steps.len() && shape == Shape::PeeledLoop {
            b.open_root_loop(tail);
        }
        b.root_depth = 0;
        while !b.regions.is_empty() {
            b.close(tail);
        }
        if shape == Shape::Straight {
            b.exit(tail);
        }
        (b.t, b.steerable)
    }

    // ---- emission helpers ----

    pub(crate) fn emit(&mut self, op: Op, ty: Option<Type>) -> Option<Value> {
        self.t.push(self.cur, op, ty)
    }
    /// Emits an op producing a value of `kind` and makes it available.
    pub(crate) fn def(&mut self, op: Op, kind: Kind) -> Value {
        let v = self.t.push(self.cur, op, Some(kind.ty())).expect("typed op");
        self.env.vals.push((v, kind));
        v
    }
    /// A constant (not added to the environment unless `visible`).
    pub(crate) fn konst(&mut self, k: Const) -> Value {
        let v = self.t.push(self.cur, Op::Const(k), Some(k.ty())).expect("const");
        if let Const::I64(x) = k {
            self.known.insert(v, x);
        }
        v
    }
    pub(crate) fn guard(&mut self, kind: GuardKind, sel: SnapSel) {
        let snap = self.snapshot(sel);
        self.emit(Op::Guard(kind, snap), None);
    }

    /// Picks a value whose kind satisfies `ok`, `sel` counting back from the most recent.
    pub(crate) fn pick(&self, sel: u8, ok: impl Fn(Kind) -> bool) -> Option<(Value, Kind)> {
        let c: Vec<_> = self.env.vals.iter().filter(|(_, k)| ok(*k)).collect();
        if c.is_empty() {
            return None;
        }
        Some(*c[c.len() - 1 - sel as usize % c.len()])
    }
    /// A value of scalar type `ty`, from the environment or a fresh constant.
    pub(crate) fn scalar(&mut self, ty: Type, sel: u8) -> Value {
        let want = Kind::scalar(ty);
        match self.pick(sel, |k| k == want) {
            Some((v, _)) => v,
            None => {
                let k = super::ops::pool_const(ty, sel);
                self.konst(k)
            }
        }
    }
    /// A value that may be stored into a `ref` field or item.
    pub(crate) fn classed_ref(&mut self, sel: u8) -> Value {
        match self.pick(sel, |k| k.is_classed_ref()) {
            Some((v, _)) if sel % 5 != 4 => v,
            _ => self.konst(Const::Ref(0)),
        }
    }
    /// Values fitting each of `kinds`, chosen with `rng` (most recent first).
    fn args_for(&mut self, kinds: &[Kind], rng: &mut Rng) -> Vec<Value> {
        let mut out = Vec::new();
        for &k in kinds {
            let c: Vec<Value> = self.env.vals.iter().filter(|(_, vk)| vk.fits(k)).map(|p| p.0).collect();
            let v = match c.len() {
                // Unreachable: the region's start had a value of every kind it chose.
                0 => self.konst(Const::zero(k.ty())),
                n => c[n - 1 - rng.below(n.min(4))],
            };
            out.push(v);
        }
        out
    }
    /// Up to `n` kinds of values available now (for block parameters).
    /// (`exit`: for leaving the trace, so raw pointers only if the config allows.)
    fn some_kinds(&self, n: usize, rng: &mut Rng, exit: bool) -> Vec<Kind> {
        let ok = |k: &Kind| !exit || self.cfg.raw_ptrs_in_exits || !matches!(k, Kind::Raw(..));
        let usable: Vec<Kind> = self.env.vals.iter().map(|p| p.1).filter(ok).collect();
        (0..n.min(usable.len()))
            .map(|_| usable[rng.below(usable.len())])
            .collect()
    }
    fn new_block_with(&mut self, kinds: &[Kind]) -> Block {
        let b = self.t.add_block();
        for &k in kinds {
            let v = self.t.add_block_param(b, k.ty());
            self.env.vals.push((v, k));
        }
        b
    }
    fn patch(&mut self, from: Block, to: Block) {
        let Some(inst) = self.t.blocks[from.index()].insts.last_mut() else {
            return;
        };
        match &mut inst.op {
            Op::Goto(bc) if bc.block == PENDING => bc.block = to,
            Op::Br { else_, .. } if else_.block == PENDING => else_.block = to,
            _ => {}
        }
    }

    // ---- regions ----

    /// A recipe's `Close`: closes the innermost region unless it is the root loop.
    pub(crate) fn close_step(&mut self, sel: u8) {
        if self.regions.len() > self.root_depth {
            self.close(sel);
        }
    }

    pub(crate) fn open(&mut self, kind: u8, c: u8, args: u8, weights: u8) {
        if self.regions.len() >= self.root_depth + self.cfg.max_nesting {
            return;
        }
        let want_loop =
            self.cfg.loops && (!self.cfg.regions || kind % 3 == 2) && self.loops_open < self.cfg.max_loop_depth;
        if want_loop {
            self.open_loop(c, args);
        } else if self.cfg.regions && kind % 4 == 1 {
            self.short_diamond(c, args, weights);
        } else if self.cfg.regions {
            self.open_if(c, args, weights);
        }
    }

    /// A whole diamond in one step, of the kind branchless rewriting converts: each arm
    /// one to three wrapping `i64` or `f64` ops, joined through one parameter, and
    /// mostly branch weights (balanced or biased).
    fn short_diamond(&mut self, c: u8, args: u8, weights: u8) {
        let cond = super::ops::condition(self, c);
        let ty = if args.is_multiple_of(2) { Type::I64 } else { Type::F64 };
        let saved = self.env.clone();
        let weights = match weights % 4 {
            0 => None,
            1 => Some((u32::from(weights) % 50 + 1, 100)),
            2 => Some((u32::from(weights), u32::from(c) / 2 + 1)),
            _ => Some((u32::from(c) % 100, 3)),
        };
        let br_at = self.cur;
        let mut arm_blocks = Vec::new();
        for arm in 0..2u8 {
            self.env = saved.clone();
            let block = self.t.add_block();
            arm_blocks.push(block);
            self.cur = block;
            let mut x = self.scalar(ty, c.wrapping_add(arm));
            for k in 0..(args / 2 + arm) % 3 + 1 {
                let sel = args.wrapping_mul(k + 3).wrapping_add(arm);
                let y = self.scalar(ty, sel / 3);
                let op = match ty {
                    Type::I64 => [BinaryOp::IAdd, BinaryOp::ISub, BinaryOp::IMul, BinaryOp::IXor][sel as usize % 4],
                    _ => [BinaryOp::FAdd, BinaryOp::FSub, BinaryOp::FMul, BinaryOp::FDiv][sel as usize % 4],
                };
                x = self.def(Op::Binary(op, x, y), Kind::scalar(ty));
            }
            self.emit(
                Op::Goto(BlockCall {
                    block: PENDING,
                    args: vec![x],
                }),
                None,
            );
        }
        self.env = saved;
        let join = self.new_block_with(&[Kind::scalar(ty)]);
        for &arm in &arm_blocks {
            self.patch(arm, join);
        }
        let call = |block: Block| BlockCall { block, args: vec![] };
        self.t.push(
            br_at,
            Op::Br {
                cond,
                then_: call(arm_blocks[0]),
                else_: call(arm_blocks[1]),
                weights,
            },
            None,
        );
        self.cur = join;
    }

    fn open_if(&mut self, c: u8, args: u8, weights: u8) {
        let mut rng = Rng(u64::from(args) << 8 | u64::from(c));
        let cond = super::ops::condition(self, c);
        let saved = self.env.clone();
        let then_kinds = self.some_kinds(args as usize % 3, &mut rng, false);
        let else_kinds = self.some_kinds(args as usize / 3 % 3, &mut rng, false);
        let then_args = self.args_for(&then_kinds, &mut rng);
        let else_args = self.args_for(&else_kinds, &mut rng);
        let weights = (weights % 2 == 1).then_some((u32::from(weights / 2), u32::from(c)));
        let br = Op::Br {
            cond,
            then_: BlockCall {
                block: PENDING,
                args: then_args,
            },
            else_: BlockCall {
                block: PENDING,
                args: else_args,
            },
            weights,
        };
        let br_at = self.cur;
        self.emit(br, None);
        self.env = saved.clone();
        let then_block = self.new_block_with(&then_kinds);
        if let Some(Inst {
            op: Op::Br { then_, .. },
            ..
        }) = self.t.blocks[br_at.index()].insts.last_mut()
        {
            then_.block = then_block;
        }
        self.cur = then_block;
        self.regions.push(Region::If {
            saved,
            br_at,
            else_kinds,
            in_else: false,
            to_merge: Vec::new(),
            merge_kinds: None,
            an_arm_exited: false,
        });
    }

    /// Ends the current arm of the innermost `if`: an exit, or a `goto` to the merge.
    fn end_arm(&mut self, sel: u8, may_exit: bool) {
        let Some(Region::If { saved, merge_kinds, .. }) = self.regions.last() else {
            return;
        };
        let mut rng = Rng(u64::from(sel) * 31 + self.t.blocks.len() as u64);
        if may_exit && sel % 4 == 3 {
            // Half of the arms that leave the `if` inside a loop end the iteration
            // instead (`continue`: a second back edge to the loop header).
            if sel < 128 || !self.continue_loop(sel) {
                self.exit(sel / 4);
            }
            if let Some(Region::If { an_arm_exited, .. }) = self.regions.last_mut() {
                *an_arm_exited = true;
            }
            return;
        }
        let kinds = match merge_kinds {
            Some(k) => k.clone(),
            None => {
                let env = std::mem::replace(&mut self.env, saved.clone());
                let mut k = self.some_kinds(sel as usize % 4, &mut rng, false);
                self.env = env;
                // Half the time, also pass an object (of a layout the region's start
                // has, so every arm has one to pass).
                if (sel / 4).is_multiple_of(2) {
                    let obj = saved.vals.iter().rev().find(|(_, vk)| matches!(vk, Kind::Obj(_)));
                    k.extend(obj.map(|p| p.1));
                }
                k
            }
        };
        // Often, an arm allocates the objects it passes: allocations crossing the join.
        if (sel / 8).is_multiple_of(2) {
            for k in &kinds {
                if let Kind::Obj(l) = *k {
                    self.new_object(l.index() as u8, sel, false);
                }
            }
        }
        let args = self.args_for(&kinds, &mut rng);
        self.emit(Op::Goto(BlockCall { block: PENDING, args }), None);
        let cur = self.cur;
        if let Some(Region::If {
            merge_kinds, to_merge, ..
        }) = self.regions.last_mut()
        {
            *merge_kinds = Some(kinds);
            to_merge.push(cur);
        }
    }

    pub(crate) fn else_(&mut self, sel: u8) {
        let Some(Region::If { in_else: false, .. }) = self.regions.last() else {
            return;
        };
        self.end_arm(sel, self.cfg.regions);
        let Some(Region::If {
            saved,
            br_at,
            else_kinds,
            in_else,
            ..
        }) = self.regions.last_mut()
        else {
            return;
        };
        *in_else = true;
        let (saved, br_at, kinds) = (saved.clone(), *br_at, else_kinds.clone());
        self.env = saved;
        let b = self.new_block_with(&kinds);
        self.patch(br_at, b);
        self.cur = b;
    }

    pub(crate) fn close(&mut self, sel: u8) {
        match self.regions.last() {
            None => {}
            Some(Region::If { in_else: false, .. }) => {
                self.else_(sel & !3); // no early exit from the then arm here
                self.close(sel);
            }
            Some(Region::If { an_arm_exited, .. }) => {
                let exited = *an_arm_exited;
                self.end_arm(sel, !exited);
                let Some(Region::If {
                    saved,
                    to_merge,
                    merge_kinds,
                    ..
                }) = self.regions.pop()
                else {
                    return;
                };
                self.env = saved;
                let m = self.new_block_with(&merge_kinds.unwrap_or_default());
                for from in to_merge {
                    self.patch(from, m);
                }
                self.cur = m;
            }
            Some(Region::Loop { .. }) => {
                let Some(Region::Loop {
                    header,
                    kinds,
                    next,
                    env_at_header,
                    exit_br,
                }) = self.regions.pop()
                else {
                    return;
                };
                self.loops_open -= 1;
                self.back_edge(header, &kinds, next, sel);
                if let Some(br) = exit_br {
                    self.env = env_at_header;
                    let x = self.t.add_block();
                    self.patch(br, x);
                    self.cur = x;
                }
            }
        }
    }

    /// Ends the current block with `jump header(next, ...)`: the next iteration of the
    /// loop whose header takes `kinds` (the counter first, `next` its decrement).
    fn back_edge(&mut self, header: Block, kinds: &[Kind], next: Value, sel: u8) {
        let mut rng = Rng(u64::from(sel) + 7);
        let mut args = vec![next];
        args.extend(self.args_for(&kinds[1..], &mut rng));
        self.emit(Op::Jump(JumpTarget::Block(header), args), None);
    }

    /// Ends the current arm with a back edge to the innermost open loop (another back
    /// edge besides the one closing the loop), if there is an open loop.
    fn continue_loop(&mut self, sel: u8) -> bool {
        let innermost = self.regions.iter().rev().find_map(|r| match r {
            Region::Loop {
                header, kinds, next, ..
            } => Some((*header, kinds.clone(), *next)),
            Region::If { .. } => None,
        });
        let Some((header, kinds, next)) = innermost else {
            return false;
        };
        self.back_edge(header, &kinds, next, sel);
        true
    }

    /// Emits the loop test at the top of `header`, whose parameters are `params` (the
    /// counter first): `next = isub n, 1; c = iult next, K` and either a `guard_true c`
    /// (root loops) or `br c, body, exit` (`exit_br`).
    fn loop_header(&mut self, header: Block, params: Vec<(Value, Kind)>, exit_br: Option<()>, sel: SnapSel) {
        self.cur = header;
        if sel.seed.is_multiple_of(2) {
            self.guard(GuardKind::NoInterrupt, sel);
        }
        let one = self.konst(Const::I64(1));
        let next = self.def(Op::Binary(BinaryOp::ISub, params[0].0, one), Kind::I64);
        let bound = self.konst(Const::I64(i64::from(self.cfg.max_loop_iters)));
        let c = self
            .t
            .push(header, Op::Binary(BinaryOp::IULt, next, bound), Some(Type::Bool))
            .expect("cmp");
        let exit_br = match exit_br {
            None => {
                self.guard(
                    GuardKind::True(c),
                    SnapSel {
                        richness: sel.richness,
                        seed: sel.seed.wrapping_add(1),
                    },
                );
                None
            }
            Some(()) => {
                let br = Op::Br {
                    cond: c,
                    then_: BlockCall {
                        block: PENDING,
                        args: vec![],
                    },
                    else_: BlockCall {
                        block: PENDING,
                        args: vec![],
                    },
                    weights: None,
                };
                self.emit(br, None);
                let body = self.t.add_block();
                if let Some(Inst {
                    op: Op::Br { then_, .. },
                    ..
                }) = self.t.blocks[header.index()].insts.last_mut()
                {
                    then_.block = body;
                }
                self.cur = body;
                Some(header)
            }
        };
        let kinds = params.iter().map(|p| p.1).collect();
        self.loops_open += 1;
        self.regions.push(Region::Loop {
            header,
            kinds,
            next,
            env_at_header: self.env.clone(),
            exit_br,
        });
    }

    fn open_loop(&mut self, c: u8, args: u8) {
        let mut rng = Rng(u64::from(c) << 8 | u64::from(args));
        let init = if c.is_multiple_of(2) {
            self.konst(Const::I64(i64::from(c / 2 % (self.cfg.max_loop_iters + 2))))
        } else {
            self.scalar(Type::I64, c / 2)
        };
        let mut kinds = vec![Kind::I64];
        kinds.extend(self.some_kinds(args as usize % 4, &mut rng, false));
        let mut vals = vec![init];
        vals.extend(self.args_for(&kinds[1..], &mut rng));
        self.emit(
            Op::Goto(BlockCall {
                block: PENDING,
                args: vals,
            }),
            None,
        );
        let from = self.cur;
        let first_new = self.env.vals.len();
        let header = self.new_block_with(&kinds);
        self.patch(from, header);
        let params = self.env.vals[first_new..].to_vec();
        self.loop_header(
            header,
            params,
            Some(()),
            SnapSel {
                richness: args % 3,
                seed: u32::from(c),
            },
        );
    }

    fn open_root_loop(&mut self, tail: u8) {
        while !self.regions.is_empty() {
            self.close(tail);
        }
        let mut kinds: Vec<Kind> = self
            .env
            .vals
            .iter()
            .take(self.t.blocks[0].params.len())
            .map(|p| p.1)
            .collect();
        let mut rng = Rng(u64::from(tail));
        kinds.extend(self.some_kinds(tail as usize % 3, &mut rng, false));
        let args = self.args_for(&kinds, &mut rng);
        self.emit(Op::Goto(BlockCall { block: PENDING, args }), None);
        let from = self.cur;
        let first_new = self.env.vals.len();
        let header = self.new_block_with(&kinds);
        self.patch(from, header);
        let params = self.env.vals[first_new..].to_vec();
        self.loop_header(
            header,
            params,
            None,
            SnapSel {
                richness: tail % 5,
                seed: u32::from(tail) + 1,
            },
        );
        self.root_depth = 1;
    }

    /// Ends the current block leaving the trace: `finish` or `jump @target`.
    pub(crate) fn exit(&mut self, sel: u8) {
        let mut rng = Rng(u64::from(sel) ^ 0x5EED);
        let op = match sel % 3 {
            1 => {
                let i = self.scalar(Type::I64, sel / 3);
                let f = self.scalar(Type::F64, sel / 5);
                Op::Jump(JumpTarget::Unit(crate::TargetId(0)), vec![i, f])
            }
            2 if self.pick(0, |k| k.ty() == Type::Ref).is_some() => {
                let (r, _) = self.pick(sel / 3, |k| k.ty() == Type::Ref).expect("checked");
                Op::Jump(JumpTarget::Unit(crate::TargetId(1)), vec![r])
            }
            _ => {
                let kinds = self.some_kinds(sel as usize / 3 % 4, &mut rng, true);
                Op::Finish(self.args_for(&kinds, &mut rng))
            }
        };
        self.emit(op, None);
    }
}
