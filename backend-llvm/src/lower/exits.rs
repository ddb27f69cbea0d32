//! # Leaving the function: guards, `finish`, `jump @target`, faults
//!
//! Every way out of a unit writes the [`JitState`](crate::JitState) first (`unit`,
//! and per kind the slot buffer, `guard`, `target`, `exception_pending`), see the
//! [`abi`](crate::abi) module for the protocol. The invariants kept here:
//!
//! - a guard is a conditional branch to a cold exit block (branch weights say
//!   "almost never"); the exit code stores the snapshot's live values in
//!   [`exit_values`](crate::abi::exit_values) order — the decoder and bridges rely
//!   on that order — and the guard's id, and ends in the unit's one **dispatch
//!   block**, which `musttail`-calls the pointer loaded (relaxed atomic) from the exit
//!   slot of the guard whose id it reads back, so attaching a bridge is one store
//!   into that slot and never a recompilation. One dispatch block rather than a tail call per exit:
//!   the O0 code generator's fast instruction selector cannot select a `musttail`
//!   call and hands every block holding one to SelectionDAG — with a call per exit
//!   that was ~70% of a quick unit's code-generation time (and the code generator
//!   splits the dispatch off the exit stores above it, see `crate::codegen`);
//! - `jump @target` is the same tail call through the unit's target table;
//! - guards whose snapshots store the same values share one exit block, which takes
//!   the guard id as a `phi` (a constant when only one guard ends there; consecutive
//!   guards often have the same live values and differ only in their resume pc, which
//!   the decoder finds by guard id), and lists
//!   with a common prefix store it in one shared block ([`exit_trie`](super::exit_trie));
//! - an exit does not store a value its slot holds since the entry (`block0`'s
//!   parameter there, when nothing branches back to `block0`; see
//!   [`exit_trie`](super::exit_trie)): only ways out write the slot buffer;
//! - faults share one block per return code and carry no values; a check that
//!   cannot fail on a constant (a divisor other than 0 and -1, see `arith.rs`; a
//!   pointer constant other than null, see `memory.rs`) is not emitted at all, so
//!   LLVM's passes have no branch and no block to clean up — as in baseline code.

use super::exit_trie::NodeId;
use super::{ExitEntry, Lowerer};
use crate::abi::{OFF_EXC_PENDING, OFF_GUARD, OFF_INTERRUPT, OFF_TARGET, OFF_UNIT, RET_FINISH};
use crate::BackendError;
use inkwell::basic_block::BasicBlock;
use inkwell::values::{BasicValue, IntValue, LLVMTailCallKind};
use inkwell::{AtomicOrdering, IntPredicate};
use leones_ir::{GuardKind, MemType, TargetId, Value};

/// Weight of a guard's success edge against its exit edge.
const GUARD_LIKELY: u32 = 1 << 20;

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// Continues in a new block if `ok`, else leaves with fault `code`.
    pub(super) fn check_or_fault(&mut self, ok: IntValue<'ctx>, code: u64) -> Result<(), BackendError> {
        let fault = self.fault_block(code)?;
        let cont = self.new_block("ok");
        let br = self.b.build_conditional_branch(ok, cont, fault)?;
        self.set_branch_weights(br, GUARD_LIKELY, 1);
        self.b.position_at_end(cont);
        Ok(())
    }

    /// The shared block returning fault `code`.
    fn fault_block(&mut self, code: u64) -> Result<inkwell::basic_block::BasicBlock<'ctx>, BackendError> {
        if let Some(b) = self.faults.get(&code) {
            return Ok(*b);
        }
        let here = self.current_block();
        let block = self.new_block("fault");
        self.b.position_at_end(block);
        self.store_state(OFF_UNIT, self.tys.i64.const_int(self.info.unit_id, false))?;
        self.b.build_return(Some(&self.tys.i64.const_int(code, false)))?;
        self.b.position_at_end(here);
        self.faults.insert(code, block);
        Ok(block)
    }

    /// Stores `state.unit` and `state.exception_pending`.
    fn store_leave_state(&self) -> Result<(), BackendError> {
        self.store_state(OFF_UNIT, self.tys.i64.const_int(self.info.unit_id, false))?;
        let exc = self.b.build_load(self.tys.i1, self.exc, "")?.into_int_value();
        let exc = self.b.build_int_z_extend(exc, self.tys.i64, "")?;
        self.store_state(OFF_EXC_PENDING, exc)
    }

    /// `musttail`-calls the function pointer in word `index` of the table at `table`
    /// with the state, and returns its result.
    fn tail_call_through(&self, table: u64, index: u32) -> Result<(), BackendError> {
        self.tail_call_via(self.const_ptr(table + 8 * u64::from(index)))
    }

    /// `musttail`-calls the function pointer in the word at `slot` with the state,
    /// and returns its result.
    fn tail_call_via(&self, slot: inkwell::values::PointerValue<'ctx>) -> Result<(), BackendError> {
        let load = self.b.build_load(self.tys.i64, slot, "")?;
        if let Some(i) = load.as_instruction_value() {
            let _ = i.set_alignment(8);
            let _ = i.set_atomic_ordering(AtomicOrdering::Monotonic);
        }
        let f = self.b.build_int_to_ptr(load.into_int_value(), self.tys.ptr, "")?;
        let fn_ty = self.tys.i64.fn_type(&[self.tys.ptr.into()], false);
        let call = self.b.build_indirect_call(fn_ty, f, &[self.state.into()], "")?;
        call.set_tail_call_kind(LLVMTailCallKind::LLVMTailCallKindMustTail);
        let r = call.try_as_basic_value().basic().expect("i64 result");
        self.b.build_return(Some(&r))?;
        Ok(())
    }

    /// The condition a guard branches on, with the value it has when the guard holds
    /// (a negated guard branches on its condition as it is, its edges swapped, so no
    /// `xor` is left for `instcombine` to fold).
    fn guard_condition(&mut self, kind: &GuardKind) -> Result<(IntValue<'ctx>, bool), BackendError> {
        let t = self.tys;
        Ok(match *kind {
            GuardKind::True(v) => (self.int(v)?, true),
            GuardKind::False(v) => (self.int(v)?, false),
            GuardKind::Value(v, k) => {
                let bits = self.to_bits(self.v(v)?, self.trace.value_type(v))?;
                let eq = self
                    .b
                    .build_int_compare(IntPredicate::EQ, bits, t.i64.const_int(k.bits(), false), "")?;
                (eq, true)
            }
            GuardKind::Class(v, l) => {
                let class = self.trace.layout(l).class;
                let word = self.load_raw(MemType::I64, v, 0)?.into_int_value();
                let eq = match class {
                    Some(c) => self
                        .b
                        .build_int_compare(IntPredicate::EQ, word, t.i64.const_int(c, false), "")?,
                    None => t.i1.const_zero(),
                };
                (eq, true)
            }
            GuardKind::NonNull(v) => (self.b.build_is_not_null(self.pointer(v)?, "")?, true),
            GuardKind::IsNull(v) => (self.b.build_is_null(self.pointer(v)?, "")?, true),
            GuardKind::NoOverflow(v) => {
                let o = *self
                    .ovf
                    .get(&v)
                    .ok_or_else(|| BackendError::Builder(format!("guard_no_overflow on {v}, not an *_ovf result")))?;
                (o, false)
            }
            GuardKind::NoException => (self.b.build_load(t.i1, self.exc, "")?.into_int_value(), false),
            GuardKind::NoInterrupt => {
                let flag = self.load_state(OFF_INTERRUPT, t.ptr.into())?.into_pointer_value();
                let w = self.b.build_load(t.i64, flag, "")?;
                if let Some(i) = w.as_instruction_value() {
                    let _ = i.set_volatile(true);
                }
                let clear = self
                    .b
                    .build_int_compare(IntPredicate::EQ, w.into_int_value(), t.i64.const_zero(), "")?;
                (clear, true)
            }
        })
    }

    /// Guard `id`, whose exit list ends at trie node `end`.
    pub(super) fn guard(&mut self, kind: &GuardKind, id: u32, end: NodeId) -> Result<(), BackendError> {
        let (cond, holds) = self.guard_condition(kind)?;
        let here = self.current_block();
        let (exit, guard_id) = match self.exit_entries.get(&end) {
            Some(&entry) => entry,
            None => {
                let entry = self.exit_entry(end, id)?;
                self.exit_entries.insert(end, entry);
                entry
            }
        };
        if let Some(phi) = guard_id {
            phi.add_incoming(&[(&self.tys.i64.const_int(id.into(), false), here)]);
        }
        self.b.position_at_end(here);
        let cont = self.new_block("cont");
        if holds {
            let br = self.b.build_conditional_branch(cond, cont, exit)?;
            self.set_branch_weights(br, GUARD_LIKELY, 1);
        } else {
            let br = self.b.build_conditional_branch(cond, exit, cont)?;
            self.set_branch_weights(br, 1, GUARD_LIKELY);
        }
        self.b.position_at_end(cont);
        if let GuardKind::NonNull(v) | GuardKind::Class(v, _) = *kind {
            self.nonnull.insert(v); // its loads need no null check of their own
        }
        Ok(())
    }

    /// The block guards whose exit list ends at trie node `end` branch to: a `phi` of
    /// the guard id (one incoming constant per guard; the constant itself when only
    /// guard `first_id` ends there) stored into `state.guard`, then the list's stores
    /// through the exit trie (see [`exit_trie`](super::exit_trie)). Leaves the builder
    /// anywhere.
    fn exit_entry(&mut self, end: NodeId, first_id: u32) -> Result<ExitEntry<'ctx>, BackendError> {
        let entry = self.new_block(&format!("exit_g{first_id}"));
        self.b.position_at_end(entry);
        let guard_id = if self.guards_ending_at(end) > 1 {
            let phi = self.b.build_phi(self.tys.i64, "guard")?;
            self.store_state(OFF_GUARD, phi.as_basic_value().into_int_value())?;
            Some(phi)
        } else {
            self.store_state(OFF_GUARD, self.tys.i64.const_int(first_id.into(), false))?;
            None
        };
        // A list end no longer list passes stores its own segment here; otherwise
        // the node's block (shared with the longer lists) follows.
        let next = if end != 0 && !self.exit_trie.is_prefix(end) {
            self.store_segment(end)?
        } else {
            end
        };
        let next = self.trie_block(next)?;
        self.b.position_at_end(entry);
        self.b.build_unconditional_branch(next)?;
        Ok((entry, guard_id))
    }

    fn guards_ending_at(&self, end: NodeId) -> u32 {
        self.guards_per_end.get(&end).copied().unwrap_or(0)
    }

    /// Emits node `n`'s stores at the builder's position; returns the node to go on to.
    fn store_segment(&mut self, n: NodeId) -> Result<NodeId, BackendError> {
        let segment = self.exit_trie.segment(n);
        for (pos, v) in segment.stores {
            self.store_slot(pos, v)?;
        }
        Ok(segment.next)
    }

    /// The block of trie node `n` (the dispatch block for the root), made on first use.
    fn trie_block(&mut self, n: NodeId) -> Result<BasicBlock<'ctx>, BackendError> {
        if n == 0 {
            return self.exit_dispatch();
        }
        if let Some(&b) = self.trie_blocks.get(&n) {
            return Ok(b);
        }
        let block = self.new_block("exit_stores");
        self.b.position_at_end(block);
        let next = self.store_segment(n)?;
        let next = self.trie_block(next)?;
        self.b.position_at_end(block);
        self.b.build_unconditional_branch(next)?;
        self.trie_blocks.insert(n, block);
        Ok(block)
    }

    /// The unit's shared exit tail: stores `state.unit` and the exception flag, reads
    /// back `state.guard` and `musttail`-calls through that guard's exit slot.
    fn exit_dispatch(&mut self) -> Result<BasicBlock<'ctx>, BackendError> {
        if let Some(b) = self.dispatch {
            return Ok(b);
        }
        let here = self.current_block();
        let block = self.new_block("exit_dispatch");
        self.b.position_at_end(block);
        self.store_leave_state()?;
        let t = self.tys;
        let guard = self.load_state(OFF_GUARD, t.i64.into())?.into_int_value();
        // SAFETY (LLVM-level): a plain (not inbounds) GEP is defined for any index.
        let slot = unsafe {
            self.b
                .build_gep(t.i64, self.const_ptr(self.info.exit_table), &[guard], "")?
        };
        self.tail_call_via(slot)?;
        self.b.position_at_end(here);
        self.dispatch = Some(block);
        Ok(block)
    }

    /// `finish` in block `block`: `state.target` says which block finished, so the
    /// decoder knows the values' types.
    pub(super) fn finish(&mut self, block: usize, args: &[Value]) -> Result<(), BackendError> {
        self.store_slots(args)?;
        self.store_leave_state()?;
        let block = block + self.info.loop_part.map_or(0, |p| p.block_base);
        self.store_state(OFF_TARGET, self.tys.i64.const_int(block as u64, false))?;
        self.b.build_return(Some(&self.tys.i64.const_int(RET_FINISH, false)))?;
        Ok(())
    }

    pub(super) fn jump_unit(&mut self, target: TargetId, args: &[Value]) -> Result<(), BackendError> {
        self.store_slots(args)?;
        self.store_leave_state()?;
        self.store_state(OFF_TARGET, self.tys.i64.const_int(target.0.into(), false))?;
        self.tail_call_through(self.info.target_table, target.0)
    }
}
