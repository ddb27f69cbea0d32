//! # Region formation: a root trace and its arms become one trace with real control flow
//!
//! **Idea.** A tracing JIT compiles one path; every other path is a bridge that copies
//! the rest of the loop, so k data-driven `if`s become up to 2^k bridges (the talk's
//! "Problem 2": PyPy made 1622 bridges of nine `if x is None`). Leones records the
//! other paths as **arms** instead: an arm starts at a guard of its parent (the root
//! loop or another arm) and stops at a **merge point** the parent passes later — a
//! `merge_point [frames]` note the recorder left where the host was at a location with
//! a compatible state — ending in `jump @parent__mK(slot values)`, or at the loop header
//! (`jump @root(...)`). Region formation re-forms the root and its arms into one loop
//! trace: each armed guard becomes a `br` (carrying the profile's weights) into the
//! arm's blocks, and each rejoined merge point becomes a **join block** whose
//! parameters are the host slots whose values differ between the paths. The optimizer
//! then sees k diamonds, not 2^k paths.
//!
//! ```text
//! root: block0(v0: i64, v1: f64):              arm1 (from root guard 0), rejoining m0:
//!     v2 = ieq v0, 0                             block0(v0: i64, v1: f64):
//!     guard_false v2 [main@3(v0, v1)]              v2 = const 5.0
//!     merge_point [main@4(v0, v1)]                 jump @loop__m0(v0, v2)
//!     v3 = fadd v1, v1
//!     ...
//! region:
//! block0(v0: i64, v1: f64):
//!     v2 = ieq v0, 0
//!     br v2, block1(), block2(v1) weights(40, 60)   ; the arm ran 40 times, the guard held 60
//! block1():
//!     goto block2(5.0)
//! block2(v5: f64):                                 ; the join: slot 1 differs, slot 0 does not
//!     v3 = fadd v5, v5
//! ```
//!
//! **Rules** (an input breaking one is a [`RegionError`], and the engine keeps the
//! arm a plain bridge):
//! - Every piece is one recorded block; the root ends in `jump block0`, each arm in
//!   `jump @<root name>(...)` or `jump @<piece name>__m<k>(...)` (the piece's k-th merge
//!   point; its parameters are the merge point's live slots, in order). An arm's
//!   `block0` parameters are the live slots of its parent guard's snapshot, in order.
//! - Arms come after their parent in the list; a rejoin goes to a piece already formed.
//! - A merge point slot holding a constant in the target must receive the same
//!   constant: the code after the merge point used the constant, not a slot.
//! - Slots holding the same value in the target form one parameter, and every arm must
//!   pass one value for all of them (the code after the merge point cannot tell which
//!   slot a use came through).
//! - Only guards that test a value become branches (`guard_true/false/value/nonnull/
//!   isnull`); the others (class, overflow, exception, interrupt) cannot carry an arm.
//!
//! **Invariants.** On every path the region computes what the recorded pieces compute:
//! an armed guard that holds continues as the guard did, one that fails runs the arm,
//! which ends where the host would be. Unarmed guards stay guards with their snapshots,
//! each numbered by its *origin* ([`Region::origins`]: piece and guard ordinal) so the
//! engine can map an optimized exit back to the recorded guard it stands for. The
//! result verifies (else [`RegionError::Verify`]): in particular code after a join may
//! only use values that dominate the join or arrive through its parameters — the host
//! must keep no traced value outside its frames across a merge point.
//!
//! **Source.** Trace merging at merge points is Leones' own (design.md §4); the
//! pieces are classic: trace trees (Gal & Franz, "Incremental dynamic code generation
//! with trace trees", 2006) join side traces only at the loop header; Graal/Truffle's
//! partial evaluation and HotSpot's C2 build regions with merges from profiles.

use crate::util::import::DescrMap;
use leones_ir::cfg::successors;
use leones_ir::FastHashMap as HashMap;
use leones_ir::{
    BinaryOp, Block, BlockCall, BlockData, Const, GuardKind, Inst, JumpTarget, Op, SlotValue, Snapshot, Trace, Type,
    UnaryOp, Value,
};

/// One recorded side path: from a guard of `parent` to a merge point or the loop header.
#[derive(Clone, Copy, Debug)]
pub struct Arm<'a> {
    /// The arm's recording (one block).
    pub trace: &'a Trace,
    /// The piece it leaves: 0 is the root, `k` is `arms[k - 1]`.
    pub parent: usize,
    /// The guard it replaces: its ordinal among the parent's guards in program order.
    pub guard: u32,
    /// Profile: (times the arm ran, times the guard held), for the branch's weights.
    pub weights: Option<(u32, u32)>,
}

/// A formed region.
#[derive(Clone, Debug)]
pub struct Region {
    /// The region (verified): a loop trace named like the root.
    pub trace: Trace,
    /// For each snapshot origin `k` of the region's guards: (piece, guard ordinal).
    pub origins: Vec<(usize, u32)>,
}

/// Why pieces could not be formed into a region.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RegionError {
    #[error("piece {piece}: {why}")]
    Shape { piece: usize, why: String },
    #[error("arm {arm}: {why}")]
    Arm { arm: usize, why: String },
    #[error("the region does not verify: {0}")]
    Verify(String),
}

/// Where an arm ends.
#[derive(Copy, Clone, Debug)]
enum Rejoin {
    Loop,
    Merge { piece: usize, point: usize },
}

/// A rejoined merge point, once its join block exists.
#[derive(Clone, Debug)]
struct Join {
    block: usize,
    /// Per live slot (in order): `Some(param index)`, or `None` for a constant slot.
    slot_param: Vec<Option<usize>>,
    /// The constant of each constant slot.
    slot_const: Vec<Option<Const>>,
}

/// A branch into an arm, waiting for the arm to be formed.
struct ArmEntry {
    block: usize,
    /// The parent's live snapshot slots at the guard, in region values / constants.
    slots: Vec<SlotValue>,
}

struct Former<'a> {
    pieces: Vec<&'a Trace>,
    arms: &'a [Arm<'a>],
    out: Trace,
    blocks: Vec<BlockData>,
    /// Constants formation itself needs (null, compared values), shared.
    consts: HashMap<Const, Value>,
    /// Every hoisted constant's value.
    const_of: HashMap<Value, Const>,
    const_insts: Vec<Inst>,
    /// (piece, guard ordinal) -> arm index.
    armed: HashMap<(usize, u32), usize>,
    /// (piece, merge point ordinal) -> its join, once formed (`None` before).
    joins: HashMap<(usize, usize), Option<Join>>,
    entries: HashMap<usize, ArmEntry>,
    origins: Vec<(usize, u32)>,
}

/// Forms `root` (a recorded loop) and `arms` into one region; see the [module docs](self).
pub fn form_region(root: &Trace, arms: &[Arm]) -> Result<Region, RegionError> {
    let mut pieces = vec![root];
    pieces.extend(arms.iter().map(|a| a.trace));
    let mut f = Former {
        pieces,
        arms,
        out: Trace::new(root.name.clone()),
        blocks: Vec::new(),
        consts: HashMap::default(),
        const_of: HashMap::default(),
        const_insts: Vec::new(),
        armed: HashMap::default(),
        joins: HashMap::default(),
        entries: HashMap::default(),
        origins: Vec::new(),
    };
    f.plan()?;
    for p in 0..f.pieces.len() {
        f.piece(p)?;
    }
    f.finish()
}

fn shape(piece: usize, why: impl Into<String>) -> RegionError {
    RegionError::Shape { piece, why: why.into() }
}

fn arm_err(arm: usize, why: impl Into<String>) -> RegionError {
    RegionError::Arm { arm, why: why.into() }
}

impl Former<'_> {
    /// Checks the pieces' shapes and finds which guards are armed and which merge
    /// points are rejoined.
    fn plan(&mut self) -> Result<(), RegionError> {
        for (p, t) in self.pieces.iter().enumerate() {
            if t.blocks.len() != 1 {
                return Err(shape(p, "a recorded piece has exactly one block"));
            }
            let last = t.blocks[0].insts.last().map(|i| &i.op);
            let ok = match last {
                Some(Op::Jump(JumpTarget::Block(b), _)) => p == 0 && b.index() == 0,
                Some(Op::Jump(JumpTarget::Unit(_), _)) => p > 0,
                _ => false,
            };
            if !ok {
                return Err(shape(p, "the root ends in `jump block0`, an arm in `jump @target`"));
            }
            if self.pieces[..p].iter().any(|q| q.name == t.name) {
                return Err(shape(p, format!("two pieces are named `{}`", t.name)));
            }
        }
        for (k, a) in self.arms.iter().enumerate() {
            if a.parent > k {
                return Err(arm_err(k, "an arm comes after its parent"));
            }
            if self.armed.insert((a.parent, a.guard), k).is_some() {
                return Err(arm_err(
                    k,
                    format!("guard {} of piece {} has two arms", a.guard, a.parent),
                ));
            }
            if let Rejoin::Merge { piece, point } = self.rejoin(k)? {
                self.joins.insert((piece, point), None);
            }
        }
        Ok(())
    }

    /// Where arm `k` ends, from its terminator's target name.
    fn rejoin(&self, k: usize) -> Result<Rejoin, RegionError> {
        let t = self.arms[k].trace;
        let Some(Op::Jump(JumpTarget::Unit(target), _)) = t.blocks[0].insts.last().map(|i| &i.op) else {
            return Err(arm_err(k, "an arm ends in `jump @target`"));
        };
        let name = &t.target(*target).name;
        if *name == self.pieces[0].name {
            return Ok(Rejoin::Loop);
        }
        let parsed = name.rsplit_once("__m").and_then(|(piece_name, point)| {
            let piece = self.pieces[..=k].iter().position(|q| q.name == piece_name)?;
            Some(Rejoin::Merge {
                piece,
                point: point.parse().ok()?,
            })
        });
        parsed.ok_or_else(|| {
            arm_err(
                k,
                format!("`@{name}` is neither the root nor a merge point of an earlier piece"),
            )
        })
    }

    fn new_block(&mut self, params: Vec<Value>) -> usize {
        self.blocks.push(BlockData {
            params,
            insts: Vec::new(),
        });
        self.blocks.len() - 1
    }

    fn push(&mut self, b: usize, op: Op, ty: Option<Type>) -> Option<Value> {
        let result = ty.map(|t| self.out.new_value(t));
        self.blocks[b].insts.push(Inst { result, op });
        result
    }

    /// A shared region value of constant `k` (hoisted to the region's entry).
    fn constant(&mut self, k: Const) -> Value {
        if let Some(v) = self.consts.get(&k) {
            return *v;
        }
        let v = self.fresh_constant(k);
        self.consts.insert(k, v);
        v
    }

    /// A region value of its own for constant `k` (hoisted to the region's entry). A
    /// piece's `const` ops each get one: a recorder may give a slot a constant of its
    /// own at a merge point, so that a join can replace it without touching the
    /// constant's other uses.
    fn fresh_constant(&mut self, k: Const) -> Value {
        let v = self.out.new_value(k.ty());
        self.const_insts.push(Inst {
            result: Some(v),
            op: Op::Const(k),
        });
        self.const_of.insert(v, k);
        v
    }

    /// Forms piece `p`: the root from `block0`, an arm from its pending entry.
    fn piece(&mut self, p: usize) -> Result<(), RegionError> {
        let t = self.pieces[p];
        let descrs = DescrMap::import(t, &mut self.out).map_err(|e| shape(p, e))?;
        let mut map: HashMap<Value, Value> = HashMap::default();
        let mut cur = if p == 0 {
            let params: Vec<Value> = t.blocks[0]
                .params
                .iter()
                .map(|&v| self.out.new_value(t.value_type(v)))
                .collect();
            map.extend(t.blocks[0].params.iter().copied().zip(params.iter().copied()));
            self.new_block(params)
        } else {
            let entry = self
                .entries
                .remove(&p)
                .ok_or_else(|| arm_err(p - 1, "its guard was never reached"))?;
            let params = &t.blocks[0].params;
            if params.len() != entry.slots.len() {
                return Err(arm_err(
                    p - 1,
                    format!("{} parameters for {} live slots", params.len(), entry.slots.len()),
                ));
            }
            for (&param, slot) in params.iter().zip(&entry.slots) {
                let v = match *slot {
                    SlotValue::Value(v) => v,
                    SlotValue::Const(k) => self.constant(k),
                    _ => return Err(arm_err(p - 1, "a parent snapshot slot is virtual")),
                };
                if self.out.value_type(v) != t.value_type(param) {
                    return Err(arm_err(p - 1, "a parameter's type differs from its slot's"));
                }
                map.insert(param, v);
            }
            entry.block
        };
        let (mut guard, mut point) = (0u32, 0usize);
        let insts = &t.blocks[0].insts;
        for inst in &insts[..insts.len() - 1] {
            let get = |map: &HashMap<Value, Value>, v: Value| {
                map.get(&v)
                    .copied()
                    .ok_or_else(|| shape(p, format!("{v} is undefined")))
            };
            match &inst.op {
                Op::Const(k) => {
                    let v = self.fresh_constant(*k);
                    map.insert(inst.result.ok_or_else(|| shape(p, "a const without result"))?, v);
                }
                Op::MergePoint(s) => {
                    if self.joins.contains_key(&(p, point)) {
                        cur = self.join(p, point, t.snapshot(*s), cur, &mut map)?;
                    }
                    point += 1;
                }
                Op::Guard(kind, s) => {
                    let mut snap = t.snapshot(*s).clone();
                    descrs.snapshot(&mut snap);
                    for v in snap.frames.iter_mut().flat_map(|f| f.slots.iter_mut()) {
                        if let SlotValue::Value(x) = v {
                            *x = get(&map, *x)?;
                        }
                    }
                    for (_, v) in snap.virtuals.iter_mut().flat_map(|o| o.fields.iter_mut()) {
                        if let SlotValue::Value(x) = v {
                            *x = get(&map, *x)?;
                        }
                    }
                    let mut kind = *kind;
                    if let Some(x) = kind.operand_mut() {
                        *x = get(&map, *x)?;
                    }
                    if let GuardKind::Class(_, l) = &mut kind {
                        *l = descrs.layout(*l);
                    }
                    match self.armed.get(&(p, guard)).copied() {
                        Some(k) => cur = self.branch(k, kind, snap, cur)?,
                        None => {
                            snap.origin = Some(self.origins.len() as u32);
                            self.origins.push((p, guard));
                            let s = self.out.add_snapshot(snap);
                            self.push(cur, Op::Guard(kind, s), None);
                        }
                    }
                    guard += 1;
                }
                op => {
                    let mut op = op.clone();
                    descrs.op(&mut op);
                    let mut missing = None;
                    op.for_each_arg_mut(|a| match map.get(a) {
                        Some(v) => *a = *v,
                        None => missing = Some(*a),
                    });
                    if let Some(v) = missing {
                        return Err(shape(p, format!("{v} is undefined")));
                    }
                    let ty = inst.result.map(|r| t.value_type(r));
                    if let (Some(r), Some(new)) = (inst.result, self.push(cur, op, ty)) {
                        map.insert(r, new);
                    }
                }
            }
        }
        self.terminate(p, insts.last().expect("checked").op.clone(), cur, &map)
    }

    /// Splits at rejoined merge point `point` of piece `p`: the current block jumps to a
    /// new join block whose parameters replace the slots' values from here on.
    fn join(
        &mut self,
        p: usize,
        point: usize,
        snap: &Snapshot,
        cur: usize,
        map: &mut HashMap<Value, Value>,
    ) -> Result<usize, RegionError> {
        let live: Vec<SlotValue> = snap
            .frames
            .iter()
            .flat_map(|f| f.slots.iter().copied())
            .filter(|s| *s != SlotValue::Dead)
            .collect();
        let mut group_of: HashMap<Value, usize> = HashMap::default();
        let mut args = Vec::new();
        let mut params = Vec::new();
        let mut slot_param = Vec::new();
        let mut slot_const = Vec::new();
        for s in &live {
            match *s {
                SlotValue::Value(v) => {
                    let n = group_of.len();
                    let g = *group_of.entry(v).or_insert(n);
                    if g == n {
                        let region_v = *map.get(&v).ok_or_else(|| shape(p, format!("{v} is undefined")))?;
                        args.push(region_v);
                        params.push(self.out.new_value(self.out.value_type(region_v)));
                    }
                    slot_param.push(Some(g));
                    slot_const.push(None);
                }
                SlotValue::Const(k) => {
                    slot_param.push(None);
                    slot_const.push(Some(k));
                }
                _ => return Err(shape(p, "a merge point slot is virtual")),
            }
        }
        for (&v, &g) in &group_of {
            map.insert(v, params[g]);
        }
        let block = self.new_block(params);
        self.push(
            cur,
            Op::Goto(BlockCall {
                block: Block::new(block),
                args,
            }),
            None,
        );
        self.joins.insert(
            (p, point),
            Some(Join {
                block,
                slot_param,
                slot_const,
            }),
        );
        Ok(block)
    }

    /// Turns guard `kind` (armed with arm `k`) into a branch: on to a new block when
    /// it holds, into the arm's entry when it fails.
    fn branch(&mut self, k: usize, kind: GuardKind, snap: Snapshot, cur: usize) -> Result<usize, RegionError> {
        let (cond, arm_when) = match kind {
            GuardKind::True(c) => (c, false),
            GuardKind::False(c) => (c, true),
            GuardKind::Value(v, want) => {
                let holds = self.equals(cur, v, want);
                (holds, false)
            }
            GuardKind::NonNull(v) | GuardKind::IsNull(v) => {
                let null = match self.out.value_type(v) {
                    Type::Ptr => Const::Ptr(0),
                    _ => Const::Ref(0),
                };
                let null = self.constant(null);
                let is_null = self.push(cur, Op::Binary(BinaryOp::REq, v, null), Some(Type::Bool));
                let is_null = is_null.expect("a result");
                (is_null, matches!(kind, GuardKind::NonNull(_)))
            }
            other => return Err(arm_err(k, format!("a `{}` cannot become a branch", other.name()))),
        };
        let cont = self.new_block(Vec::new());
        let arm = self.new_block(Vec::new());
        let (ran, held) = self.arms[k].weights.unwrap_or((1, 1));
        let (then_, else_, weights) = if arm_when {
            (arm, cont, (ran, held))
        } else {
            (cont, arm, (held, ran))
        };
        let call = |b: usize| BlockCall {
            block: Block::new(b),
            args: Vec::new(),
        };
        self.push(
            cur,
            Op::Br {
                cond,
                then_: call(then_),
                else_: call(else_),
                weights: self.arms[k].weights.map(|_| weights),
            },
            None,
        );
        let slots = snap
            .frames
            .iter()
            .flat_map(|f| f.slots.iter().copied())
            .filter(|s| *s != SlotValue::Dead)
            .collect();
        self.entries.insert(k + 1, ArmEntry { block: arm, slots });
        Ok(cont)
    }

    /// `v == want` (bitwise, as `guard_value` compares), emitted into block `b`.
    fn equals(&mut self, b: usize, v: Value, want: Const) -> Value {
        let ty = self.out.value_type(v);
        let (v, want) = match (ty, want) {
            (Type::F64, Const::F64(x)) => {
                let bits = self.push(b, Op::Unary(UnaryOp::F2Bits, v), Some(Type::I64));
                (bits.expect("a result"), Const::I64(x.to_bits() as i64))
            }
            (Type::Bool, Const::Bool(true)) => return v,
            (Type::Bool, _) => {
                let not = self.push(b, Op::Unary(UnaryOp::BNot, v), Some(Type::Bool));
                return not.expect("a result");
            }
            _ => (v, want),
        };
        let k = self.constant(want);
        let op = match ty {
            Type::Ref | Type::Ptr => BinaryOp::REq,
            _ => BinaryOp::IEq,
        };
        self.push(b, Op::Binary(op, v, k), Some(Type::Bool)).expect("a result")
    }

    /// Ends piece `p` in block `cur` with its terminator.
    fn terminate(&mut self, p: usize, term: Op, cur: usize, map: &HashMap<Value, Value>) -> Result<(), RegionError> {
        let Op::Jump(_, args) = &term else {
            return Err(shape(p, "a piece ends in a jump"));
        };
        let args: Vec<Value> = args
            .iter()
            .map(|a| map.get(a).copied().ok_or_else(|| shape(p, format!("{a} is undefined"))))
            .collect::<Result<_, _>>()?;
        let rejoin = if p == 0 { Rejoin::Loop } else { self.rejoin(p - 1)? };
        let op = match rejoin {
            Rejoin::Loop => Op::Jump(JumpTarget::Block(Block::new(0)), args),
            Rejoin::Merge { piece, point } => {
                let join = self.joins.get(&(piece, point)).cloned().flatten();
                let join =
                    join.ok_or_else(|| arm_err(p - 1, format!("merge point {point} of piece {piece} is not formed")))?;
                if args.len() != join.slot_param.len() {
                    return Err(arm_err(p - 1, "the rejoin passes a wrong number of slots"));
                }
                let nparams = self.blocks[join.block].params.len();
                let mut call_args: Vec<Option<Value>> = vec![None; nparams];
                for (i, &a) in args.iter().enumerate() {
                    match (join.slot_param[i], join.slot_const[i]) {
                        (Some(g), _) => match call_args[g] {
                            Some(prev) if prev != a => {
                                return Err(arm_err(p - 1, "two slots that share a value in the target differ"))
                            }
                            _ => call_args[g] = Some(a),
                        },
                        (None, Some(k)) => {
                            if self.const_of.get(&a) != Some(&k) {
                                return Err(arm_err(p - 1, format!("slot {i} must be the constant {k}")));
                            }
                        }
                        (None, None) => unreachable!("a slot is a parameter or a constant"),
                    }
                }
                let args = call_args
                    .into_iter()
                    .map(|a| a.expect("every group has a slot"))
                    .collect();
                Op::Goto(BlockCall {
                    block: Block::new(join.block),
                    args,
                })
            }
        };
        self.push(cur, op, None);
        Ok(())
    }

    /// Orders the blocks (entry first, every forward edge forward), drops trivial join
    /// parameters and verifies.
    fn finish(mut self) -> Result<Region, RegionError> {
        if let Some(k) = self.entries.keys().next() {
            return Err(arm_err(k - 1, "its guard was never reached"));
        }
        let consts = std::mem::take(&mut self.const_insts);
        self.blocks[0].insts.splice(0..0, consts);
        let order = forward_order(&self.blocks).ok_or_else(|| RegionError::Verify("the arms form a cycle".into()))?;
        let mut new_index = vec![0; self.blocks.len()];
        for (i, &b) in order.iter().enumerate() {
            new_index[b] = i;
        }
        let mut blocks: Vec<BlockData> = order.iter().map(|&b| std::mem::take(&mut self.blocks[b])).collect();
        for bd in &mut blocks {
            if let Some(last) = bd.insts.last_mut() {
                for_each_successor(&mut last.op, |b| *b = Block::new(new_index[b.index()]));
            }
        }
        self.out.blocks = blocks;
        remove_trivial_params(&mut self.out);
        leones_ir::verify(&self.out).map_err(|e| RegionError::Verify(e.to_string()))?;
        Ok(Region {
            trace: self.out,
            origins: self.origins,
        })
    }
}

/// Calls `f` on every forward successor of a terminator.
fn for_each_successor(op: &mut Op, mut f: impl FnMut(&mut Block)) {
    match op {
        Op::Goto(bc) => f(&mut bc.block),
        Op::Br { then_, else_, .. } => {
            f(&mut then_.block);
            f(&mut else_.block)
        }
        _ => {}
    }
}

/// A topological order of the blocks along forward edges, block 0 first (Kahn's
/// algorithm, preferring the lowest-numbered ready block, so a piece's blocks stay
/// together); `None` if some block is unreachable or the forward edges have a cycle.
fn forward_order(blocks: &[BlockData]) -> Option<Vec<usize>> {
    let mut succs = vec![Vec::new(); blocks.len()];
    let mut indeg = vec![0usize; blocks.len()];
    for (b, bd) in blocks.iter().enumerate() {
        let forward = bd.insts.last().map(|l| successors(&l.op)).unwrap_or_default();
        for (s, _) in forward.into_iter().filter(|(_, fwd)| *fwd) {
            succs[b].push(s.index());
            indeg[s.index()] += 1;
        }
    }
    let mut ready = std::collections::BTreeSet::from([0usize]);
    let mut order = Vec::with_capacity(blocks.len());
    while let Some(b) = ready.pop_first() {
        order.push(b);
        for &s in &succs[b] {
            indeg[s] -= 1;
            if indeg[s] == 0 {
                ready.insert(s);
            }
        }
    }
    (order.len() == blocks.len()).then_some(order)
}

/// Removes each parameter of a forward-only block (no `jump` enters it) that receives
/// the same value `v` from every edge (or itself): `v` is then defined on every path
/// into the block, so it dominates it and can replace the parameter. Repeats until
/// nothing changes.
pub fn remove_trivial_params(t: &mut Trace) {
    loop {
        let mut incoming: Vec<Vec<Vec<Value>>> = vec![Vec::new(); t.blocks.len()];
        let mut entered_by_jump = vec![false; t.blocks.len()];
        entered_by_jump[0] = true;
        for bd in &t.blocks {
            match bd.insts.last().map(|i| &i.op) {
                Some(Op::Goto(bc)) => incoming[bc.block.index()].push(bc.args.clone()),
                Some(Op::Br { then_, else_, .. }) => {
                    incoming[then_.block.index()].push(then_.args.clone());
                    incoming[else_.block.index()].push(else_.args.clone());
                }
                Some(Op::Jump(JumpTarget::Block(b), _)) => entered_by_jump[b.index()] = true,
                _ => {}
            }
        }
        let mut subst = crate::util::subst::Subst::new();
        let mut drop: Vec<(usize, usize)> = Vec::new();
        for (b, edges) in incoming.iter().enumerate() {
            if entered_by_jump[b] || edges.is_empty() {
                continue;
            }
            for (i, &param) in t.blocks[b].params.iter().enumerate() {
                let mut vals = edges.iter().map(|args| args[i]).filter(|&a| a != param);
                let Some(first) = vals.next() else { continue };
                if vals.all(|a| a == first) {
                    subst.set(param, first);
                    drop.push((b, i));
                }
            }
        }
        if drop.is_empty() {
            return;
        }
        // Remove the parameters and the matching edge arguments (highest index first).
        drop.sort_unstable_by(|a, b| b.cmp(a));
        for &(b, i) in &drop {
            t.blocks[b].params.remove(i);
            for bd in &mut t.blocks {
                if let Some(last) = bd.insts.last_mut() {
                    match &mut last.op {
                        Op::Goto(bc) if bc.block.index() == b => {
                            bc.args.remove(i);
                        }
                        Op::Br { then_, else_, .. } => {
                            for bc in [then_, else_] {
                                if bc.block.index() == b {
                                    bc.args.remove(i);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        subst.apply(t);
    }
}
