//! The verifier's per-instruction checks: each op's operand and result types against
//! its signature and descriptors, guards, the pairing of `*_ovf` ops and calls with
//! their guards, branch arguments against block parameters, and snapshots (see the
//! [parent module](super) for the whole list of what is checked).

use super::{err, Location, Verifier, VerifyError, VerifyErrorKind, R};
use crate::entity::*;
use crate::op::{GuardKind, JumpTarget, Op};
use crate::snapshot::{SlotValue, Snapshot};
use crate::types::Type;

impl Verifier<'_> {
    pub(super) fn inst(&self, b: usize, i: usize) -> R {
        let t = self.t;
        let inst = &t.blocks[b].insts[i];
        let loc = Location::Inst(Block::new(b), i);
        let mut arg_types = Vec::new();
        let mut failure = None;
        inst.op.for_each_arg(|v| match self.use_at(v, b, i) {
            Ok(ty) => arg_types.push(ty),
            Err(e) => {
                failure.get_or_insert(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let mismatch = |what: String| err(VerifyErrorKind::TypeMismatch, loc, what);
        let expect = |got: Type, want: Type, what: &str| -> R {
            if got != want {
                return mismatch(format!("{what} has type {got}, expected {want}"));
            }
            Ok(())
        };
        let bad_index = |what: String| err(VerifyErrorKind::BadIndex, loc, what);
        let result_ty: Option<Type> = match &inst.op {
            Op::Const(k) => Some(k.ty()),
            Op::Unary(op, _) => {
                let (a, r) = op.signature();
                expect(arg_types[0], a, "the operand")?;
                Some(r)
            }
            Op::Binary(op, _, _) => {
                let (a, bb, r) = op.signature();
                if matches!(op, crate::BinaryOp::REq | crate::BinaryOp::RNe) {
                    if arg_types[0] != arg_types[1] || !matches!(arg_types[0], Type::Ref | Type::Ptr) {
                        return mismatch(format!(
                            "{} compares two refs or two ptrs, not {} and {}",
                            op.name(),
                            arg_types[0],
                            arg_types[1]
                        ));
                    }
                } else {
                    expect(arg_types[0], a, "the first operand")?;
                    expect(arg_types[1], bb, "the second operand")?;
                }
                Some(r)
            }
            Op::Select { .. } => {
                expect(arg_types[0], Type::Bool, "the condition")?;
                expect(arg_types[2], arg_types[1], "the second choice")?;
                Some(arg_types[1])
            }
            Op::New(l) => {
                if l.index() >= t.layouts.len() {
                    return bad_index(format!("{l} does not exist"));
                }
                Some(Type::Ref)
            }
            Op::GetField(_, f) | Op::SetField(_, f, _) => {
                let Some(fd) = t.fields.get(f.index()) else {
                    return bad_index(format!("{f} does not exist"));
                };
                expect(arg_types[0], Type::Ref, "the object")?;
                if let Op::SetField(..) = inst.op {
                    expect(arg_types[1], fd.ty, "the stored value")?;
                    None
                } else {
                    Some(fd.ty)
                }
            }
            Op::GetItem(a, ..) | Op::SetItem(a, ..) | Op::ArrayLen(a, _) => {
                let Some(ad) = t.arrays.get(a.index()) else {
                    return bad_index(format!("{a} does not exist"));
                };
                expect(arg_types[0], Type::Ref, "the array")?;
                match inst.op {
                    Op::ArrayLen(..) => Some(Type::I64),
                    Op::GetItem(..) => {
                        expect(arg_types[1], Type::I64, "the index")?;
                        Some(ad.elem)
                    }
                    _ => {
                        expect(arg_types[1], Type::I64, "the index")?;
                        expect(arg_types[2], ad.elem, "the stored value")?;
                        None
                    }
                }
            }
            Op::Load(m, ..) => {
                expect(arg_types[0], Type::Ptr, "the address")?;
                Some(m.value_type())
            }
            Op::Store(m, ..) => {
                expect(arg_types[0], Type::Ptr, "the address")?;
                expect(arg_types[1], m.value_type(), "the stored value")?;
                None
            }
            Op::Call(c, _) => {
                let Some(cd) = t.calls.get(c.index()) else {
                    return bad_index(format!("{c} does not exist"));
                };
                if cd.params.len() != arg_types.len() {
                    return err(
                        VerifyErrorKind::ArgCountMismatch,
                        loc,
                        format!(
                            "{} takes {} arguments, got {}",
                            cd.name,
                            cd.params.len(),
                            arg_types.len()
                        ),
                    );
                }
                for (k, (&got, &want)) in arg_types.iter().zip(&cd.params).enumerate() {
                    expect(got, want, &format!("argument {k}"))?;
                }
                cd.ret
            }
            Op::Guard(kind, snap) => {
                self.guard(kind, &arg_types, b, i)?;
                let Some(sn) = t.snapshots.get(snap.index()) else {
                    return bad_index(format!("{snap} does not exist"));
                };
                self.snapshot(sn, b, i)?;
                None
            }
            Op::MergePoint(snap) => {
                let Some(sn) = t.snapshots.get(snap.index()) else {
                    return bad_index(format!("{snap} does not exist"));
                };
                self.snapshot(sn, b, i)?;
                None
            }
            Op::Jump(JumpTarget::Block(target), _) | Op::Goto(crate::BlockCall { block: target, .. }) => {
                self.block_args(*target, &arg_types, loc)?;
                None
            }
            Op::Jump(JumpTarget::Unit(target), _) => {
                let Some(td) = t.targets.get(target.index()) else {
                    return bad_index(format!("{target} does not exist"));
                };
                self.args_match(&td.params, &arg_types, &format!("@{}", td.name), loc)?;
                None
            }
            Op::Br { then_, else_, .. } => {
                expect(arg_types[0], Type::Bool, "the branch condition")?;
                let n_then = then_.args.len();
                self.block_args(then_.block, &arg_types[1..1 + n_then], loc)?;
                self.block_args(else_.block, &arg_types[1 + n_then..], loc)?;
                None
            }
            Op::Finish(_) => None,
        };
        match (inst.result, result_ty) {
            (Some(r), Some(ty)) => {
                let declared = t.value_types[r.index()];
                if declared != ty {
                    return mismatch(format!("the result is declared {declared} but the op produces {ty}"));
                }
            }
            (None, None) => {}
            (Some(_), None) => return err(VerifyErrorKind::ResultMismatch, loc, "this op produces no value"),
            (None, Some(_)) => {
                return err(
                    VerifyErrorKind::ResultMismatch,
                    loc,
                    "this op produces a value but has no result",
                )
            }
        }
        self.pairing(b, i)
    }

    pub(super) fn guard(&self, kind: &GuardKind, arg_types: &[Type], b: usize, i: usize) -> R {
        let loc = Location::Inst(Block::new(b), i);
        let got = arg_types.first().copied();
        let want = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                err(
                    VerifyErrorKind::TypeMismatch,
                    loc,
                    format!(
                        "{} needs {what}, got {}",
                        kind.name(),
                        got.map_or("nothing", |t| t.name())
                    ),
                )
            }
        };
        match kind {
            GuardKind::True(_) | GuardKind::False(_) => want(got == Some(Type::Bool), "a bool"),
            GuardKind::Value(_, k) => want(
                got == Some(k.ty()),
                &format!("a value of the constant's type {}", k.ty()),
            ),
            GuardKind::Class(_, l) => {
                let Some(ld) = self.t.layouts.get(l.index()) else {
                    return err(VerifyErrorKind::BadIndex, loc, format!("{l} does not exist"));
                };
                if ld.class.is_none() {
                    return err(
                        VerifyErrorKind::BadDescriptor,
                        loc,
                        format!("layout {} has no class word to guard", ld.name),
                    );
                }
                want(got == Some(Type::Ref), "a ref")
            }
            GuardKind::NonNull(_) | GuardKind::IsNull(_) => {
                want(matches!(got, Some(Type::Ref | Type::Ptr)), "a ref or ptr")
            }
            GuardKind::NoOverflow(_) => want(got == Some(Type::I64), "an i64"),
            GuardKind::NoException | GuardKind::NoInterrupt => Ok(()),
        }
    }

    pub(super) fn pairing(&self, b: usize, i: usize) -> R {
        let insts = &self.t.blocks[b].insts;
        let loc = Location::Inst(Block::new(b), i);
        let bad = |msg: &str| err(VerifyErrorKind::BadPairing, loc, msg);
        match &insts[i].op {
            Op::Binary(op, ..) if op.is_ovf() => {
                let next = insts.get(i + 1).map(|n| &n.op);
                if !matches!(next, Some(Op::Guard(GuardKind::NoOverflow(v), _)) if Some(*v) == insts[i].result) {
                    return bad("an overflow-checked op must be followed by guard_no_overflow on its result");
                }
            }
            Op::Guard(GuardKind::NoOverflow(v), _) => {
                let prev = i.checked_sub(1).map(|p| &insts[p]);
                if !matches!(prev, Some(p) if p.result == Some(*v) && matches!(p.op, Op::Binary(op, ..) if op.is_ovf()))
                {
                    return bad(
                        "guard_no_overflow must directly follow the overflow-checked op that defines its operand",
                    );
                }
            }
            Op::Guard(GuardKind::NoException, _) => {
                let prev = i.checked_sub(1).map(|p| &insts[p].op);
                if !matches!(prev, Some(Op::Call(..))) {
                    return bad("guard_no_exception must directly follow a call");
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn block_args(&self, target: Block, args: &[Type], loc: Location) -> R {
        let params: Vec<Type> = self.t.blocks[target.index()]
            .params
            .iter()
            .map(|p| self.t.value_types[p.index()])
            .collect();
        self.args_match(&params, args, &target.to_string(), loc)
    }

    pub(super) fn args_match(&self, params: &[Type], args: &[Type], what: &str, loc: Location) -> R {
        if params.len() != args.len() {
            return err(
                VerifyErrorKind::ArgCountMismatch,
                loc,
                format!("{what} takes {} arguments, got {}", params.len(), args.len()),
            );
        }
        for (k, (got, want)) in args.iter().zip(params).enumerate() {
            if got != want {
                return err(
                    VerifyErrorKind::TypeMismatch,
                    loc,
                    format!("argument {k} to {what} has type {got}, expected {want}"),
                );
            }
        }
        Ok(())
    }

    pub(super) fn snapshot(&self, sn: &Snapshot, b: usize, i: usize) -> R {
        let t = self.t;
        let loc = Location::Inst(Block::new(b), i);
        let bad = |msg: String| err(VerifyErrorKind::BadSnapshot, loc, msg);
        let slot_type = |s: &SlotValue| -> Result<Option<Type>, VerifyError> {
            Ok(match s {
                SlotValue::Value(v) => Some(self.use_at(*v, b, i)?),
                SlotValue::Const(k) => Some(k.ty()),
                SlotValue::Virtual(id) => {
                    if id.index() >= sn.virtuals.len() {
                        return Err(VerifyError {
                            kind: VerifyErrorKind::BadSnapshot,
                            location: loc,
                            message: format!("virtual {id} does not exist"),
                        });
                    }
                    Some(Type::Ref)
                }
                SlotValue::Dead => None,
            })
        };
        for fr in &sn.frames {
            let Some(fd) = t.frames.get(fr.frame.index()) else {
                return bad(format!("{} does not exist", fr.frame));
            };
            if fr.slots.len() != fd.slots as usize {
                return bad(format!(
                    "frame {} has {} slots, the snapshot gives {}",
                    fd.name,
                    fd.slots,
                    fr.slots.len()
                ));
            }
            for s in &fr.slots {
                slot_type(s)?;
            }
        }
        for (k, vo) in sn.virtuals.iter().enumerate() {
            if vo.layout.index() >= t.layouts.len() {
                return bad(format!("virtual &{k} has a missing layout"));
            }
            for (f, s) in &vo.fields {
                let Some(fd) = t.fields.get(f.index()) else {
                    return bad(format!("virtual &{k} names a missing field"));
                };
                if fd.layout != vo.layout {
                    return bad(format!("virtual &{k}: field {} is not a field of its layout", fd.name));
                }
                if let Some(ty) = slot_type(s)? {
                    if ty != fd.ty {
                        return bad(format!(
                            "virtual &{k}: field {} has type {}, given {ty}",
                            fd.name, fd.ty
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
