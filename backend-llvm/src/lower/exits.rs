//! # Leaving the function: guards, `finish`, `jump @target`, faults
//!
//! Every way out of a unit writes the [`JitState`](crate::JitState) first (`unit`,
//! and per kind the slot buffer, `guard`, `target`, `exception_pending`), see the
//! [`abi`](crate::abi) module for the protocol. The invariants kept here:
//!
//! - a guard is a conditional branch to its own cold exit block (branch weights say
//!   "almost never"); the exit block stores the snapshot's live values in
//!   [`exit_values`] order — the decoder and bridges rely on that order — and then
//!   `musttail`-calls the pointer loaded (relaxed atomic) from the guard's exit slot,
//!   so attaching a bridge is one store into that slot and never a recompilation;
//! - `jump @target` is the same tail call through the unit's target table;
//! - faults share one block per return code and carry no values.

use super::Lowerer;
use crate::abi::{exit_values, OFF_EXC_PENDING, OFF_GUARD, OFF_INTERRUPT, OFF_TARGET, OFF_UNIT, RET_FINISH};
use crate::BackendError;
use inkwell::values::{BasicValue, IntValue, LLVMTailCallKind};
use inkwell::{AtomicOrdering, IntPredicate};
use leones_ir::{GuardKind, MemType, SnapshotId, TargetId, Value};

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
        let slot = self.const_ptr(table + 8 * u64::from(index));
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

    /// The condition under which a guard holds.
    fn guard_holds(&mut self, kind: &GuardKind) -> Result<IntValue<'ctx>, BackendError> {
        let t = self.tys;
        Ok(match *kind {
            GuardKind::True(v) => self.int(v)?,
            GuardKind::False(v) => self.b.build_not(self.int(v)?, "")?,
            GuardKind::Value(v, k) => {
                let bits = self.to_bits(self.v(v)?, self.trace.value_type(v))?;
                self.b
                    .build_int_compare(IntPredicate::EQ, bits, t.i64.const_int(k.bits(), false), "")?
            }
            GuardKind::Class(v, l) => {
                let class = self.trace.layout(l).class;
                let word = self.load_raw(MemType::I64, v, 0)?.into_int_value();
                match class {
                    Some(c) => self
                        .b
                        .build_int_compare(IntPredicate::EQ, word, t.i64.const_int(c, false), "")?,
                    None => t.i1.const_zero(),
                }
            }
            GuardKind::NonNull(v) => self.b.build_is_not_null(self.pointer(v)?, "")?,
            GuardKind::IsNull(v) => self.b.build_is_null(self.pointer(v)?, "")?,
            GuardKind::NoOverflow(v) => {
                let o = *self
                    .ovf
                    .get(&v)
                    .ok_or_else(|| BackendError::Builder(format!("guard_no_overflow on {v}, not an *_ovf result")))?;
                self.b.build_not(o, "")?
            }
            GuardKind::NoException => {
                let e = self.b.build_load(t.i1, self.exc, "")?.into_int_value();
                self.b.build_not(e, "")?
            }
            GuardKind::NoInterrupt => {
                let flag = self.load_state(OFF_INTERRUPT, t.ptr.into())?.into_pointer_value();
                let w = self.b.build_load(t.i64, flag, "")?;
                if let Some(i) = w.as_instruction_value() {
                    let _ = i.set_volatile(true);
                }
                self.b
                    .build_int_compare(IntPredicate::EQ, w.into_int_value(), t.i64.const_zero(), "")?
            }
        })
    }

    pub(super) fn guard(&mut self, kind: &GuardKind, snap: SnapshotId, id: u32) -> Result<(), BackendError> {
        let ok = self.guard_holds(kind)?;
        let exit = self.new_block(&format!("exit_g{id}"));
        let cont = self.new_block("cont");
        let br = self.b.build_conditional_branch(ok, cont, exit)?;
        self.set_branch_weights(br, GUARD_LIKELY, 1);
        self.b.position_at_end(exit);
        let live: Vec<Value> = exit_values(self.trace.snapshot(snap));
        self.store_slots(&live)?;
        self.store_leave_state()?;
        self.store_state(OFF_GUARD, self.tys.i64.const_int(id.into(), false))?;
        self.tail_call_through(self.info.exit_table, id)?;
        self.b.position_at_end(cont);
        Ok(())
    }

    /// `finish` in block `block`: `state.target` says which block finished, so the
    /// decoder knows the values' types.
    pub(super) fn finish(&mut self, block: usize, args: &[Value]) -> Result<(), BackendError> {
        self.store_slots(args)?;
        self.store_leave_state()?;
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
