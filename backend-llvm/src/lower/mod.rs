//! # Lowering: one IR trace → one LLVM function
//!
//! The idea: the IR is already SSA with block parameters, so lowering is a single walk
//! in block order with no analysis. Each IR block becomes an LLVM basic block whose
//! parameters are `phi`s created up front; a terminator (`jump` back edge, `goto`,
//! `br`) adds its arguments as incoming values — LLVM's phis are the parallel copy the
//! IR specifies. A synthetic `entry` block loads the inputs from the slot buffer and
//! falls into `block0`, so `block0` can be a loop header like any other block; a
//! `block0` nothing branches back to is the `entry` block itself (its parameters the
//! loaded inputs, no one-input phis). Slots are loaded and stored in the values' own
//! types (only a `bool` is widened), so `instcombine` has no casts to fold.
//!
//! Types map one to one: `i64`→`i64`, `f64`→`double`, `bool`→`i1` (a byte in memory),
//! `ref`/`ptr`→`ptr`. Each op family has its own file: [`arith`] (constants, integer,
//! float, bool, conversions, select, overflow), [`memory`] (objects, arrays, raw memory,
//! host calls) and [`exits`] (guards, `finish`, `jump @target`, faults — everything
//! that leaves the function).
//!
//! Invariants:
//! - the trace was verified first, so operand types and dominance hold and a
//!   value is always lowered before its first use (blocks are visited in index order,
//!   and a definition dominates its uses);
//! - the exception flag of the interpreter is an `alloca i1` (promoted to SSA by
//!   `mem2reg`), false on entry (or what the entering jump stored, for a split unit's
//!   loop part: `UnitInfo::loop_part`), set after each call;
//! - nothing here touches ORC or the target: the result is a verified-able module
//!   with one external function named by the caller.

mod arith;
pub(crate) mod exit_trie;
mod exits;
mod memory;

use crate::abi::{OFF_EXC_PENDING, OFF_SLOTS};
use crate::BackendError;
use exit_trie::ExitTrie;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::types::{BasicTypeEnum, FloatType, IntType, PointerType};
use inkwell::values::{
    BasicValue, BasicValueEnum, FloatValue, FunctionValue, InstructionOpcode, IntValue, PhiValue, PointerValue,
};
use inkwell::AddressSpace;
use leones_ir::{Block, BlockCall, Const, Inst, JumpTarget, Op, Trace, Type, Value};
use std::collections::{HashMap, HashSet};

/// What lowering needs to know about the unit besides its trace.
#[derive(Clone, Debug)]
pub(crate) struct UnitInfo {
    /// The function's (unique) symbol name.
    pub symbol: String,
    /// The unit id stored into `state.unit` on every way out.
    pub unit_id: u64,
    /// Address of the exit-slot table (`AtomicU64` per guard).
    pub exit_table: u64,
    /// Address of the jump-target table (`AtomicU64` per target).
    pub target_table: u64,
    /// Null and bounds checks on memory accesses.
    pub checks: bool,
    /// Emit an unwind table (call-frame information), so a debugger can walk the
    /// stack through the unit.
    pub unwind_tables: bool,
    /// Set when the trace is the loop part of a split unit (see `crate::split`).
    pub loop_part: Option<LoopPartOf>,
}

/// What lowering a split unit's loop part needs: where its guards and blocks sit in
/// the unit. Such a function is entered only by the preamble's jump, which stored the
/// exception flag in the state, so its flag starts from there rather than false.
#[derive(Copy, Clone, Debug)]
pub(crate) struct LoopPartOf {
    /// Added to every guard's id: the preamble has the unit's first guards.
    pub guard_base: u32,
    /// Added to the block index a `finish` reports: the loop part's blocks are the
    /// unit's from the loop start on.
    pub block_base: usize,
}

#[cfg(test)]
impl UnitInfo {
    /// A unit's info for tests that lower or compile without installing: no tables
    /// (address 0), checks on, no unwind tables.
    pub(crate) fn for_tests(symbol: &str) -> UnitInfo {
        UnitInfo {
            symbol: symbol.into(),
            unit_id: 0,
            exit_table: 0,
            target_table: 0,
            checks: true,
            unwind_tables: false,
            loop_part: None,
        }
    }
}

/// The LLVM types used everywhere.
#[derive(Copy, Clone)]
pub(crate) struct Tys<'ctx> {
    pub i1: IntType<'ctx>,
    pub i8: IntType<'ctx>,
    pub i16: IntType<'ctx>,
    pub i32: IntType<'ctx>,
    pub i64: IntType<'ctx>,
    pub f32: FloatType<'ctx>,
    pub f64: FloatType<'ctx>,
    pub ptr: PointerType<'ctx>,
}

impl<'ctx> Tys<'ctx> {
    fn new(c: &'ctx Context) -> Self {
        Tys {
            i1: c.bool_type(),
            i8: c.i8_type(),
            i16: c.i16_type(),
            i32: c.i32_type(),
            i64: c.i64_type(),
            f32: c.f32_type(),
            f64: c.f64_type(),
            ptr: c.ptr_type(AddressSpace::default()),
        }
    }
    /// The register type of an IR type.
    pub fn of(&self, t: Type) -> BasicTypeEnum<'ctx> {
        match t {
            Type::I64 => self.i64.into(),
            Type::F64 => self.f64.into(),
            Type::Bool => self.i1.into(),
            Type::Ref | Type::Ptr => self.ptr.into(),
        }
    }
}

/// Whether some block of `t` branches to `block0` (a loop on it): then its parameters
/// are not just the inputs loaded on entry.
pub(crate) fn block0_is_branched_to(t: &Trace) -> bool {
    t.blocks
        .iter()
        .filter_map(|b| b.insts.last())
        .any(|i| leones_ir::cfg::successors(&i.op).iter().any(|(s, _)| s.index() == 0))
}

/// Lowers `trace` into a fresh module of `ctx` holding one function, `info.symbol`.
pub(crate) fn lower<'ctx>(ctx: &'ctx Context, trace: &Trace, info: &UnitInfo) -> Result<Module<'ctx>, BackendError> {
    check_unit(trace)?;
    let module = ctx.create_module(&info.symbol);
    let tys = Tys::new(ctx);
    let fn_ty = tys.i64.fn_type(&[tys.ptr.into()], false);
    let func = module.add_function(&info.symbol, fn_ty, Some(Linkage::External));
    // Host functions are `extern "C"` and cannot unwind through us: no unwind tables
    // (less to emit and to register with ORC), unless a debugger is to walk the stack.
    let nounwind = ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("nounwind"), 0);
    func.add_attribute(AttributeLoc::Function, nounwind);
    if info.unwind_tables {
        // `uwtable(async)`: call-frame information valid at every instruction.
        let uwtable = ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("uwtable"), 2);
        func.add_attribute(AttributeLoc::Function, uwtable);
    }
    let builder = ctx.create_builder();
    let mut l = Lowerer {
        ctx,
        module,
        b: builder,
        trace,
        info,
        tys,
        func,
        state: func.get_first_param().expect("one parameter").into_pointer_value(),
        slots: tys.ptr.const_null(),
        exc: tys.ptr.const_null(),
        vals: vec![None; trace.value_types.len()],
        ovf: HashMap::new(),
        blocks: Vec::new(),
        phis: Vec::new(),
        faults: HashMap::new(),
        dispatch: None,
        exit_trie: ExitTrie::new([], Vec::new()),
        exit_entries: HashMap::new(),
        guards_per_end: HashMap::new(),
        trie_blocks: HashMap::new(),
        guards: HashMap::new(),
        nonnull: HashSet::new(),
        consts: trace.constants(),
    };
    l.run()?;
    Ok(l.module)
}

/// What every level checks before generating code: the trace verifies, and every
/// call it makes has an address.
pub(crate) fn check_unit(trace: &Trace) -> Result<(), BackendError> {
    leones_ir::verify(trace).map_err(|e| BackendError::InvalidTrace(e.to_string()))?;
    for (i, c) in trace.calls.iter().enumerate() {
        if c.addr == 0 && trace_uses_call(trace, i) {
            return Err(BackendError::NoCallAddress {
                id: leones_ir::CallId::new(i),
                name: c.name.clone(),
            });
        }
    }
    Ok(())
}

fn trace_uses_call(trace: &Trace, call: usize) -> bool {
    trace
        .blocks
        .iter()
        .flat_map(|b| &b.insts)
        .any(|i| matches!(&i.op, Op::Call(c, _) if c.index() == call))
}

/// An exit list's entry block, with its guard-id `phi` when more than one guard
/// branches there.
pub(super) type ExitEntry<'ctx> = (BasicBlock<'ctx>, Option<PhiValue<'ctx>>);

/// The state of one lowering.
pub(crate) struct Lowerer<'a, 'ctx> {
    pub ctx: &'ctx Context,
    pub module: Module<'ctx>,
    pub b: Builder<'ctx>,
    pub trace: &'a Trace,
    pub info: &'a UnitInfo,
    pub tys: Tys<'ctx>,
    pub func: FunctionValue<'ctx>,
    /// The `JitState*` parameter.
    pub state: PointerValue<'ctx>,
    /// `state.slots`, loaded once on entry.
    pub slots: PointerValue<'ctx>,
    /// The exception flag's `alloca i1`.
    pub exc: PointerValue<'ctx>,
    /// The LLVM value of each IR value, once lowered.
    vals: Vec<Option<BasicValueEnum<'ctx>>>,
    /// The overflow bit of each `*_ovf` result.
    pub ovf: HashMap<Value, IntValue<'ctx>>,
    blocks: Vec<BasicBlock<'ctx>>,
    phis: Vec<Vec<PhiValue<'ctx>>>,
    /// One shared block per fault return code.
    pub faults: HashMap<u64, BasicBlock<'ctx>>,
    /// The shared exit tail every guard's exit block branches to, once needed.
    pub dispatch: Option<BasicBlock<'ctx>>,
    /// The unit's exit lists (see [`exit_trie`]).
    exit_trie: ExitTrie,
    /// The entry block of each exit list (by its trie end node), with its guard-id `phi`.
    exit_entries: HashMap<exit_trie::NodeId, ExitEntry<'ctx>>,
    /// How many guards' exit lists end at each trie node.
    guards_per_end: HashMap<exit_trie::NodeId, u32>,
    /// The store block of each trie node that has one.
    trie_blocks: HashMap<exit_trie::NodeId, BasicBlock<'ctx>>,
    /// Of each guard, by (block, inst): its ordinal and the exit trie node its exit
    /// list ends at.
    guards: HashMap<(usize, usize), (u32, exit_trie::NodeId)>,
    /// Values known non-null in the current IR block (checked, allocated or guarded
    /// earlier in it or in a block that dominates it), so each object is null-checked
    /// once on each path.
    pub nonnull: HashSet<Value>,
    /// Each value's constant when an `Op::Const` defines it (`Trace::constants`):
    /// checks that cannot fail on them are left out.
    consts: Vec<Option<Const>>,
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    fn run(&mut self) -> Result<(), BackendError> {
        let t = self.trace;
        let guards = t.guards();
        let lists: Vec<Vec<Value>> = guards
            .iter()
            .map(|g| crate::abi::exit_values(t.snapshot(g.snapshot)))
            .collect();
        let preds = leones_ir::cfg::predecessors(t);
        // A block0 nothing branches back to (a bridge's, a region's preamble) is the
        // function's entry block itself, its parameters the loaded inputs: no block of
        // one-input phis for `simplifycfg` to merge away, and no exit stores again
        // what its slots hold (`exit_trie::held_slots`).
        let block0_entered = !preds[0].is_empty();
        self.exit_trie = ExitTrie::new(
            lists.iter().map(Vec::as_slice),
            exit_trie::held_slots(t, block0_entered),
        );
        for (g, list) in guards.iter().zip(&lists) {
            let end = self.exit_trie.end_of(list).expect("every list is in the trie");
            self.guards.insert(
                (g.block.index(), g.inst),
                (g.id.0 + self.info.loop_part.map_or(0, |p| p.guard_base), end),
            );
            *self.guards_per_end.entry(end).or_default() += 1;
        }
        let entry = self.ctx.append_basic_block(self.func, "entry");
        for (i, _) in t.blocks.iter().enumerate() {
            let block = if i == 0 && !block0_entered {
                entry
            } else {
                self.ctx.append_basic_block(self.func, &format!("block{i}"))
            };
            self.blocks.push(block);
        }
        for (i, block) in t.blocks.iter().enumerate() {
            self.b.position_at_end(self.blocks[i]);
            let mut ps = Vec::new();
            if i == 0 && !block0_entered {
                self.phis.push(ps);
                continue;
            }
            for p in &block.params {
                let phi = self.b.build_phi(self.tys.of(t.value_type(*p)), &format!("v{}", p.0))?;
                self.vals[p.index()] = Some(phi.as_basic_value());
                ps.push(phi);
            }
            self.phis.push(ps);
        }
        // entry: load the slot buffer pointer and the inputs, clear the exception flag.
        self.b.position_at_end(entry);
        self.exc = self.b.build_alloca(self.tys.i1, "exc")?;
        let exc = if self.info.loop_part.is_some() {
            let word = self.load_state(OFF_EXC_PENDING, self.tys.i64.into())?.into_int_value();
            self.b
                .build_int_compare(inkwell::IntPredicate::NE, word, self.tys.i64.const_zero(), "")?
        } else {
            self.tys.i1.const_zero()
        };
        self.b.build_store(self.exc, exc)?;
        self.slots = self.load_state(OFF_SLOTS, self.tys.ptr.into())?.into_pointer_value();
        let mut inputs = Vec::new();
        for (i, p) in t.blocks[0].params.iter().enumerate() {
            inputs.push(self.load_slot(i, t.value_type(*p))?);
        }
        if block0_entered {
            for (phi, v) in self.phis[0].iter().zip(&inputs) {
                phi.add_incoming(&[(v as &dyn BasicValue, entry)]);
            }
            self.b.build_unconditional_branch(self.blocks[0])?;
        } else {
            for (p, v) in t.blocks[0].params.iter().zip(inputs) {
                self.vals[p.index()] = Some(v);
            }
        }

        // A value checked (allocated, guarded) in a block is non-null in every block
        // that block dominates: each block starts from its immediate dominator's set.
        let idom = leones_ir::cfg::forward_idoms(&preds);
        let mut nonnull_at_end: Vec<HashSet<Value>> = Vec::with_capacity(t.blocks.len());
        for (bi, block) in t.blocks.iter().enumerate() {
            self.b.position_at_end(self.blocks[bi]);
            self.nonnull = match bi {
                0 => HashSet::new(),
                _ => nonnull_at_end[idom[bi]].clone(),
            };
            for (ii, inst) in block.insts.iter().enumerate() {
                self.inst(bi, ii, inst)?;
            }
            nonnull_at_end.push(std::mem::take(&mut self.nonnull));
        }
        Ok(())
    }

    fn inst(&mut self, bi: usize, ii: usize, inst: &Inst) -> Result<(), BackendError> {
        let r: Option<BasicValueEnum<'ctx>> = match &inst.op {
            Op::Const(k) => Some(self.constant(*k)),
            Op::Unary(op, a) => Some(self.unary(*op, *a)?),
            Op::Binary(op, a, b) => Some(self.binary(*op, *a, *b, inst.result)?),
            Op::Select {
                cond,
                if_true,
                if_false,
                unpredictable,
            } => Some(self.select(*cond, *if_true, *if_false, *unpredictable)?),
            Op::New(l) => Some(self.new_object(*l)?),
            Op::GetField(o, f) => Some(self.get_field(*o, *f)?),
            Op::SetField(o, f, v) => self.set_field(*o, *f, *v).map(|_| None)?,
            Op::GetItem(a, arr, i) => Some(self.get_item(*a, *arr, *i)?),
            Op::SetItem(a, arr, i, v) => self.set_item(*a, *arr, *i, *v).map(|_| None)?,
            Op::ArrayLen(a, arr) => Some(self.array_len(*a, *arr)?),
            Op::Load(mt, p, off) => Some(self.load_raw(*mt, *p, *off)?),
            Op::Store(mt, p, off, v) => self.store_raw(*mt, *p, *off, *v).map(|_| None)?,
            Op::Call(c, args) => self.call(*c, args)?,
            Op::MergePoint(_) => None,
            Op::Guard(kind, _) => {
                let (id, end) = self.guards[&(bi, ii)];
                self.guard(kind, id, end)?;
                None
            }
            Op::Jump(JumpTarget::Block(b), args) => {
                self.branch_to(*b, args)?;
                None
            }
            Op::Goto(bc) => {
                self.branch_to(bc.block, &bc.args)?;
                None
            }
            Op::Br {
                cond,
                then_,
                else_,
                weights,
            } => {
                self.br(*cond, then_, else_, *weights)?;
                None
            }
            Op::Jump(JumpTarget::Unit(t), args) => {
                self.jump_unit(*t, args)?;
                None
            }
            Op::Finish(args) => {
                self.finish(bi, args)?;
                None
            }
        };
        if let (Some(v), Some(r)) = (inst.result, r) {
            self.vals[v.index()] = Some(r);
            if matches!(inst.op, Op::New(_)) {
                self.nonnull.insert(v);
            }
        }
        Ok(())
    }

    // ---- values ----

    /// The LLVM value of `v`.
    pub fn v(&self, v: Value) -> Result<BasicValueEnum<'ctx>, BackendError> {
        self.vals
            .get(v.index())
            .copied()
            .flatten()
            .ok_or_else(|| BackendError::Builder(format!("{v} used before it was lowered")))
    }
    pub fn int(&self, v: Value) -> Result<IntValue<'ctx>, BackendError> {
        Ok(self.v(v)?.into_int_value())
    }
    pub fn float(&self, v: Value) -> Result<FloatValue<'ctx>, BackendError> {
        Ok(self.v(v)?.into_float_value())
    }
    pub fn pointer(&self, v: Value) -> Result<PointerValue<'ctx>, BackendError> {
        Ok(self.v(v)?.into_pointer_value())
    }

    /// The constant `v` holds, when an `Op::Const` defines it.
    pub fn constant_of(&self, v: Value) -> Option<Const> {
        self.consts.get(v.index()).copied().flatten()
    }

    /// A pointer constant.
    pub fn const_ptr(&self, addr: u64) -> PointerValue<'ctx> {
        self.tys.i64.const_int(addr, false).const_to_pointer(self.tys.ptr)
    }

    /// `base + off` as a byte address.
    pub fn offset(&self, base: PointerValue<'ctx>, off: i64) -> Result<PointerValue<'ctx>, BackendError> {
        if off == 0 {
            return Ok(base);
        }
        let idx = self.tys.i64.const_int(off as u64, true);
        // SAFETY (LLVM-level): a plain (not inbounds) byte GEP is defined for any offset.
        Ok(unsafe { self.b.build_gep(self.tys.i8, base, &[idx], "")? })
    }

    /// Loads a field of the `JitState`.
    pub fn load_state(&self, off: u64, ty: BasicTypeEnum<'ctx>) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let p = self.offset(self.state, off as i64)?;
        Ok(self.b.build_load(ty, p, "")?)
    }

    /// Stores an `i64` into a field of the `JitState`.
    pub fn store_state(&self, off: u64, v: IntValue<'ctx>) -> Result<(), BackendError> {
        let p = self.offset(self.state, off as i64)?;
        self.b.build_store(p, v)?;
        Ok(())
    }

    /// The 64-bit slot encoding of a value of type `ty`.
    pub fn to_bits(&self, v: BasicValueEnum<'ctx>, ty: Type) -> Result<IntValue<'ctx>, BackendError> {
        Ok(match ty {
            Type::I64 => v.into_int_value(),
            Type::F64 => self.b.build_bit_cast(v, self.tys.i64, "")?.into_int_value(),
            Type::Bool => self.b.build_int_z_extend(v.into_int_value(), self.tys.i64, "")?,
            Type::Ref | Type::Ptr => match cast_operand(v, InstructionOpcode::IntToPtr) {
                Some(bits) => bits.into_int_value(),
                None => self.b.build_ptr_to_int(v.into_pointer_value(), self.tys.i64, "")?,
            },
        })
    }

    /// The value of type `ty` whose slot encoding is `bits`.
    pub fn value_of_bits(&self, bits: IntValue<'ctx>, ty: Type) -> Result<BasicValueEnum<'ctx>, BackendError> {
        Ok(match ty {
            Type::I64 => bits.into(),
            Type::F64 => self.b.build_bit_cast(bits, self.tys.f64, "")?,
            Type::Bool => {
                let zero = self.tys.i64.const_zero();
                self.b
                    .build_int_compare(inkwell::IntPredicate::NE, bits, zero, "")?
                    .into()
            }
            Type::Ref | Type::Ptr => match cast_operand(bits.into(), InstructionOpcode::PtrToInt) {
                Some(p) => p,
                None => self.b.build_int_to_ptr(bits, self.tys.ptr, "")?.into(),
            },
        })
    }

    /// Loads `slots[i]` as a value of type `ty`: an `f64` or a pointer is loaded as
    /// itself (same bytes as its bits, and no cast for `instcombine` to fold away).
    pub fn load_slot(&self, i: usize, ty: Type) -> Result<BasicValueEnum<'ctx>, BackendError> {
        let p = self.offset(self.slots, 8 * i as i64)?;
        Ok(match ty {
            Type::I64 => self.b.build_load(self.tys.i64, p, "")?,
            Type::F64 => self.b.build_load(self.tys.f64, p, "")?,
            Type::Ref | Type::Ptr => self.b.build_load(self.tys.ptr, p, "")?,
            Type::Bool => {
                let bits = self.b.build_load(self.tys.i64, p, "")?.into_int_value();
                self.value_of_bits(bits, ty)?
            }
        })
    }

    /// Stores IR values into `slots[0..]`, in order.
    pub fn store_slots(&self, vs: &[Value]) -> Result<(), BackendError> {
        for (i, v) in vs.iter().enumerate() {
            self.store_slot(i, *v)?;
        }
        Ok(())
    }

    /// Stores IR value `v` into `slots[i]`.
    /// (Like [`Lowerer::load_slot`], only a `bool` is widened to its word.)
    pub fn store_slot(&self, i: usize, v: Value) -> Result<(), BackendError> {
        let value = match self.trace.value_type(v) {
            Type::Bool => self.to_bits(self.v(v)?, Type::Bool)?.into(),
            _ => self.v(v)?,
        };
        let p = self.offset(self.slots, 8 * i as i64)?;
        self.b.build_store(p, value)?;
        Ok(())
    }

    // ---- in-function control flow ----

    /// Adds `args` as incoming values of `target`'s phis from the current block and
    /// branches there.
    fn branch_to(&mut self, target: Block, args: &[Value]) -> Result<(), BackendError> {
        let here = self.current_block();
        for (phi, a) in self.phis[target.index()].iter().zip(args) {
            let v = self.v(*a)?;
            phi.add_incoming(&[(&v as &dyn BasicValue, here)]);
        }
        self.b.build_unconditional_branch(self.blocks[target.index()])?;
        Ok(())
    }

    fn br(
        &mut self,
        cond: Value,
        then_: &BlockCall,
        else_: &BlockCall,
        weights: Option<(u32, u32)>,
    ) -> Result<(), BackendError> {
        let c = self.int(cond)?;
        if then_.block == else_.block {
            // Both edges to one block: one predecessor, so pick the arguments instead.
            let mut args = Vec::new();
            for (a, b) in then_.args.iter().zip(&else_.args) {
                args.push(self.b.build_select(c, self.v(*a)?, self.v(*b)?, "")?);
            }
            let here = self.current_block();
            for (phi, v) in self.phis[then_.block.index()].iter().zip(&args) {
                phi.add_incoming(&[(v as &dyn BasicValue, here)]);
            }
            self.b.build_unconditional_branch(self.blocks[then_.block.index()])?;
            return Ok(());
        }
        let here = self.current_block();
        for (bc, _) in [(then_, 0), (else_, 1)] {
            for (phi, a) in self.phis[bc.block.index()].iter().zip(&bc.args) {
                let v = self.v(*a)?;
                phi.add_incoming(&[(&v as &dyn BasicValue, here)]);
            }
        }
        let inst =
            self.b
                .build_conditional_branch(c, self.blocks[then_.block.index()], self.blocks[else_.block.index()])?;
        if let Some((taken, not_taken)) = weights {
            self.set_branch_weights(inst, taken, not_taken);
        }
        Ok(())
    }

    /// Attaches `!prof !{"branch_weights", taken, not_taken}` to a conditional branch.
    pub fn set_branch_weights(&self, inst: inkwell::values::InstructionValue<'ctx>, taken: u32, not_taken: u32) {
        let kind = self.ctx.get_kind_id("prof");
        let node = self.ctx.metadata_node(&[
            self.ctx.metadata_string("branch_weights").into(),
            self.tys.i32.const_int(taken.into(), false).into(),
            self.tys.i32.const_int(not_taken.into(), false).into(),
        ]);
        let _ = inst.set_metadata(node, kind);
    }

    pub fn current_block(&self) -> BasicBlock<'ctx> {
        self.b.get_insert_block().expect("the builder is always positioned")
    }

    /// A new block appended to the function.
    pub fn new_block(&self, name: &str) -> BasicBlock<'ctx> {
        self.ctx.append_basic_block(self.func, name)
    }
}

/// The operand of `v` when `v` is a cast instruction `opcode`: converting back needs no
/// instruction (a `ref` made by `i2ref` compared as bits is the word it was made of).
fn cast_operand<'ctx>(v: BasicValueEnum<'ctx>, opcode: InstructionOpcode) -> Option<BasicValueEnum<'ctx>> {
    let inst = v.as_instruction_value()?;
    if inst.get_opcode() != opcode {
        return None;
    }
    inst.get_operand(0)?.value()
}
