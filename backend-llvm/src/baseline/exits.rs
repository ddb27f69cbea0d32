//! # Baseline exits: guards, `finish`, `jump @target`, faults
//!
//! A guard is a compare and a conditional jump to a cold stub placed after all the
//! blocks, so the hot path falls through. The stub stores the guard id and jumps to
//! the store sequence of its exit list — shared by every guard with the same list,
//! as the LLVM levels share exit blocks — which copies the live values into the slot
//! buffer and ends in the one dispatch sequence: store the unit id and the exception
//! flag, read the guard id back, unwind the frame and jump through that guard's exit
//! slot with `rdi` = the state (a tail call: the exit target returns to our caller).
//! Faults share one sequence per return code and carry no values.

use super::{Emit, Emitter, EXC, STATE};
use crate::abi::{OFF_EXC_PENDING, OFF_GUARD, OFF_INTERRUPT, OFF_SLOTS, OFF_TARGET, OFF_UNIT, RET_FINISH};
use crate::lower::block0_is_branched_to;
use crate::lower::exit_trie::{held_slots, ExitTrie, NodeId};
use iced_x86::code_asm::*;
use leones_ir::{GuardKind, Value};
use std::collections::HashMap;

impl Emitter<'_> {
    /// The shared sequence leaving with fault `code`, made on first use.
    pub(super) fn fault_label(&mut self, code: u64) -> CodeLabel {
        if let Some(l) = self.faults.get(&code) {
            return *l;
        }
        let l = self.a.create_label();
        self.faults.insert(code, l);
        l
    }

    /// Guard `id` with exit list `list`: jumps to a cold stub unless `kind` holds.
    pub(super) fn guard(&mut self, kind: &GuardKind, id: u32, list: Vec<Value>) -> Emit {
        let stub = self.a.create_label();
        self.guard_stubs.push((stub, id, list));
        match *kind {
            GuardKind::True(v) | GuardKind::NonNull(v) => self.jump_unless(v, stub)?,
            GuardKind::False(v) | GuardKind::IsNull(v) => self.jump_when(v, stub)?,
            GuardKind::Value(v, k) => {
                self.ld(rax, v)?;
                self.a.mov(rcx, k.bits())?;
                self.a.cmp(rax, rcx)?;
                self.a.jne(stub)?;
            }
            GuardKind::Class(v, l) => {
                // The class word is a raw load at offset 0: null faults first.
                self.ld_checked(v)?;
                match self.trace.layout(l).class {
                    Some(c) => {
                        self.a.mov(rcx, c)?;
                        self.a.cmp(qword_ptr(rax), rcx)?;
                        self.a.jne(stub)?;
                    }
                    None => self.a.jmp(stub)?,
                }
            }
            // The verifier puts it right after its `*_ovf` op, whose flag is live.
            GuardKind::NoOverflow(v) => match self.pending.take() {
                Some((p, cc)) if p == v => self.jump_if(cc, stub)?,
                _ => {
                    return Err(crate::BackendError::Builder(format!(
                        "guard_no_overflow on {v} does not follow its *_ovf op"
                    )))
                }
            },
            GuardKind::NoException => {
                self.a.cmp(qword_ptr(rbp + EXC), 0)?;
                self.a.jne(stub)?;
            }
            GuardKind::NoInterrupt => {
                self.a.mov(rax, qword_ptr(rbp + STATE))?;
                self.a.mov(rax, qword_ptr(rax + OFF_INTERRUPT as i32))?;
                self.a.cmp(qword_ptr(rax), 0)?;
                self.a.jne(stub)?;
            }
        }
        Ok(())
    }

    /// `rdi` = the state, `rsi` = the slot buffer, then `slots[i] = vs[i]`.
    fn store_slots(&mut self, vs: &[Value]) -> Emit {
        self.a.mov(rdi, qword_ptr(rbp + STATE))?;
        self.a.mov(rsi, qword_ptr(rdi + OFF_SLOTS as i32))?;
        for (i, v) in vs.iter().enumerate() {
            self.ld(rax, *v)?;
            self.a.mov(qword_ptr(rsi + 8 * i as i32), rax)?;
        }
        Ok(())
    }

    /// With `rdi` = the state: stores `state.unit` and `state.exception_pending`.
    fn store_leave_state(&mut self) -> Emit {
        self.a.mov(rax, self.info.unit_id)?;
        self.a.mov(qword_ptr(rdi + OFF_UNIT as i32), rax)?;
        self.a.mov(rax, qword_ptr(rbp + EXC))?;
        self.a.mov(qword_ptr(rdi + OFF_EXC_PENDING as i32), rax)?;
        Ok(())
    }

    /// Unwinds the frame and jumps to the function pointer in the word at `rax`
    /// (`rdi` still the state).
    fn tail_call_through_rax(&mut self) -> Emit {
        self.a.mov(rax, qword_ptr(rax))?;
        self.restore_saved()?;
        self.a.leave()?;
        self.a.jmp(rax)?;
        Ok(())
    }

    /// `finish` in block `block`: values to the slot buffer, `state.target` = the
    /// block, returns [`RET_FINISH`].
    pub(super) fn finish(&mut self, block: usize, args: &[Value]) -> Emit {
        self.store_slots(args)?;
        self.store_leave_state()?;
        self.a.mov(qword_ptr(rdi + OFF_TARGET as i32), block as i32)?;
        self.a.mov(rax, RET_FINISH)?;
        self.restore_saved()?;
        self.a.leave()?;
        self.a.ret()?;
        Ok(())
    }

    /// `jump @target(args)`: arguments to the slot buffer, then a tail call through
    /// the target table.
    pub(super) fn jump_unit(&mut self, target: u32, args: &[Value]) -> Emit {
        self.store_slots(args)?;
        self.store_leave_state()?;
        self.a.mov(qword_ptr(rdi + OFF_TARGET as i32), target as i32)?;
        self.a.mov(rax, self.info.target_table + 8 * u64::from(target))?;
        self.tail_call_through_rax()
    }

    /// The guard stubs, their store sequences, the dispatch sequence and the fault
    /// sequences, after the unit's blocks. The stores go through the LLVM levels'
    /// [`ExitTrie`]: a prefix that several exit lists share is stored by one sequence
    /// (exit stores would otherwise be most of a region's code), and a slot that holds
    /// its value since the entry is not stored again.
    pub(super) fn cold_code(&mut self) -> Emit {
        let stubs = std::mem::take(&mut self.guard_stubs);
        let trie = ExitTrie::new(
            stubs.iter().map(|(_, _, list)| list.as_slice()),
            held_slots(self.trace, block0_is_branched_to(self.trace)),
        );
        let mut dispatch = self.a.create_label();
        let any_guard = !stubs.is_empty();
        // The store sequence of each trie node with a block, made on first use (the
        // root's is the dispatch). The stub stores the guard id itself, so a list end
        // that is also a prefix of longer lists needs no entry of its own.
        let mut labels: HashMap<NodeId, CodeLabel> = HashMap::new();
        let mut todo: Vec<NodeId> = Vec::new();
        let mut label_of = |a: &mut CodeAssembler, todo: &mut Vec<NodeId>, n: NodeId| -> CodeLabel {
            if n == 0 {
                return dispatch;
            }
            *labels.entry(n).or_insert_with(|| {
                todo.push(n);
                a.create_label()
            })
        };
        for (mut stub, id, list) in stubs {
            let target = label_of(&mut self.a, &mut todo, trie.end_of(&list).unwrap_or(0));
            self.bind(&mut stub)?;
            // rdi = the state, rsi = the slot buffer, for the stores and the dispatch.
            self.a.mov(rdi, qword_ptr(rbp + STATE))?;
            self.a.mov(qword_ptr(rdi + OFF_GUARD as i32), id as i32)?;
            self.a.mov(rsi, qword_ptr(rdi + OFF_SLOTS as i32))?;
            self.a.jmp(target)?;
        }
        while let Some(n) = todo.pop() {
            let mut label = label_of(&mut self.a, &mut todo, n);
            self.bind(&mut label)?;
            let segment = trie.segment(n);
            for (pos, v) in segment.stores {
                self.ld(rax, v)?;
                self.a.mov(qword_ptr(rsi + 8 * pos as i32), rax)?;
            }
            let next = label_of(&mut self.a, &mut todo, segment.next);
            self.a.jmp(next)?;
        }
        if any_guard {
            self.bind(&mut dispatch)?;
            self.store_leave_state()?;
            self.a.mov(rax, qword_ptr(rdi + OFF_GUARD as i32))?;
            self.a.mov(rcx, self.info.exit_table)?;
            self.a.lea(rax, qword_ptr(rcx + rax * 8))?;
            self.tail_call_through_rax()?;
        }
        let mut faults: Vec<(u64, CodeLabel)> = self.faults.iter().map(|(c, l)| (*c, *l)).collect();
        faults.sort_by_key(|(c, _)| *c);
        for (code, mut label) in faults {
            self.bind(&mut label)?;
            self.a.mov(rdi, qword_ptr(rbp + STATE))?;
            self.a.mov(rax, self.info.unit_id)?;
            self.a.mov(qword_ptr(rdi + OFF_UNIT as i32), rax)?;
            self.a.mov(rax, code)?;
            self.restore_saved()?;
            self.a.leave()?;
            self.a.ret()?;
        }
        Ok(())
    }
}
