//! Snapshots: 1–3 realistic frames of live values, constants and dead slots, plus
//! virtual objects (with cycles, and objects allocated only for snapshots to use).

use super::build::{Builder, Kind, Rng};
use super::recipe::SnapSel;
use crate::entity::{FieldId, FrameId, LayoutId, SnapshotId, VirtualId};
use crate::op::Const;
use crate::snapshot::{SlotValue, Snapshot, SnapshotFrame, VirtualObject};
use crate::types::Type;

impl Builder<'_> {
    /// Builds the snapshot of a guard at the current point.
    pub(crate) fn snapshot(&mut self, sel: SnapSel) -> SnapshotId {
        let mut rng = Rng(u64::from(sel.seed) << 8 | u64::from(sel.richness));
        let rich = sel.richness > 0;
        let exits_raw = self.cfg.raw_ptrs_in_exits;
        // Candidate values, most recent first; snapshot-only objects go first.
        let mut vals: Vec<(crate::Value, Type)> = self.env.snap_only.iter().rev().map(|&v| (v, Type::Ref)).collect();
        vals.extend(
            self.env
                .vals
                .iter()
                .rev()
                .filter(|(_, k)| exits_raw || !matches!(k, Kind::Raw(..)))
                .map(|&(v, k)| (v, k.ty())),
        );
        vals.dedup();
        let mut next_val = 0usize;
        let nvirt = if rich && self.cfg.virtuals && sel.richness >= 2 {
            1 + rng.below(3)
        } else {
            0
        };
        let virt_layouts: Vec<LayoutId> = (0..nvirt)
            .map(|_| LayoutId::new(rng.below(self.t.layouts.len())))
            .collect();

        let max_frames = self.cfg.max_frames.clamp(1, 3);
        let nframes = if rich { 1 + rng.below(max_frames) } else { 1 };
        let mut frames = Vec::new();
        for _ in 0..nframes {
            let frame = FrameId::new(rng.below(self.t.frames.len()));
            let nslots = self.t.frame(frame).slots as usize;
            let slots = (0..nslots)
                .map(|_| {
                    let r = if rich { rng.below(100) } else { 0 };
                    match r {
                        0..=59 if next_val < vals.len() => {
                            next_val += 1 + usize::from(rich && rng.chance(30));
                            SlotValue::Value(vals[(next_val - 1).min(vals.len() - 1)].0)
                        }
                        60..=74 => SlotValue::Const(super::ops::pool_const(
                            [Type::I64, Type::F64, Type::Bool][rng.below(3)],
                            rng.next() as u8,
                        )),
                        75..=89 if nvirt > 0 => SlotValue::Virtual(VirtualId::new(rng.below(nvirt))),
                        _ => SlotValue::Dead,
                    }
                })
                .collect();
            frames.push(SnapshotFrame {
                frame,
                pc: rng.below(64) as u32,
                slots,
            });
        }

        let mut virtuals: Vec<VirtualObject> = virt_layouts
            .iter()
            .map(|&layout| VirtualObject {
                layout,
                fields: Vec::new(),
            })
            .collect();
        let cycle = nvirt > 0 && rng.chance(50);
        for (i, vo) in virtuals.iter_mut().enumerate() {
            for f in (0..self.t.fields.len())
                .map(FieldId::new)
                .filter(|&f| self.t.field(f).layout == vo.layout)
            {
                let ty = self.t.field(f).ty;
                if !cycle && !rng.chance(70) {
                    continue;
                }
                let slot = match ty {
                    // A cycle: each virtual's first ref field points to the next, the last
                    // back to the first (a self-loop when there is one virtual).
                    Type::Ref if cycle => SlotValue::Virtual(VirtualId::new((i + 1) % nvirt)),
                    Type::Ref => match rng.below(3) {
                        0 => SlotValue::Virtual(VirtualId::new(rng.below(nvirt))),
                        1 => match vals.iter().find(|(_, t)| *t == Type::Ref) {
                            Some(&(v, _)) => SlotValue::Value(v),
                            None => SlotValue::Const(Const::Ref(0)),
                        },
                        _ => SlotValue::Const(Const::Ref(0)),
                    },
                    _ => match vals.iter().skip(rng.below(4)).find(|(_, t)| *t == ty) {
                        Some(&(v, _)) if rng.chance(60) => SlotValue::Value(v),
                        _ => SlotValue::Const(super::ops::pool_const(ty, rng.next() as u8)),
                    },
                };
                vo.fields.push((f, slot));
            }
        }
        // Every virtual is reachable from some frame slot.
        for k in 0..nvirt {
            let used = frames
                .iter()
                .flat_map(|f| f.slots.iter())
                .any(|s| *s == SlotValue::Virtual(VirtualId::new(k)));
            if !used {
                let fr = rng.below(frames.len());
                let n = frames[fr].slots.len();
                frames[fr].slots[rng.below(n)] = SlotValue::Virtual(VirtualId::new(k));
            }
        }
        self.t.add_snapshot(Snapshot {
            frames,
            virtuals,
            origin: None,
        })
    }
}
