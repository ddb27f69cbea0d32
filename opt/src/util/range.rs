//! Integer ranges `[lo, hi]` (inclusive, signed) for bounds reasoning.

use leones_ir::BinaryOp;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub lo: i64,
    pub hi: i64,
}

impl Range {
    pub const FULL: Range = Range {
        lo: i64::MIN,
        hi: i64::MAX,
    };
    pub fn point(k: i64) -> Range {
        Range { lo: k, hi: k }
    }
    fn of(lo: i128, hi: i128) -> Option<Range> {
        let ok = |x: i128| (i64::MIN as i128..=i64::MAX as i128).contains(&x);
        (ok(lo) && ok(hi)).then_some(Range {
            lo: lo as i64,
            hi: hi as i64,
        })
    }
    pub fn intersect(self, o: Range) -> Range {
        Range {
            lo: self.lo.max(o.lo),
            hi: self.hi.min(o.hi),
        }
    }
    pub fn nonneg(self) -> bool {
        self.lo >= 0
    }

    /// The exact (non-wrapping) range of `a op b`, or `None` if it might leave `i64`
    /// (for `*_ovf` ops: `Some` means the op cannot overflow).
    pub fn arith(op: BinaryOp, a: Range, b: Range) -> Option<Range> {
        use BinaryOp::*;
        let (al, ah, bl, bh) = (a.lo as i128, a.hi as i128, b.lo as i128, b.hi as i128);
        match op {
            IAdd | IAddOvf => Range::of(al + bl, ah + bh),
            ISub | ISubOvf => Range::of(al - bh, ah - bl),
            IMul | IMulOvf => {
                let ps = [al * bl, al * bh, ah * bl, ah * bh];
                Range::of(*ps.iter().min()?, *ps.iter().max()?)
            }
            _ => None,
        }
    }

    /// The range of an op's result that never overflows in a way we model: bit masks,
    /// remainders, shifts.
    pub fn derived(op: BinaryOp, a: Range, b: Range) -> Option<Range> {
        use BinaryOp::*;
        match op {
            IAnd if b.nonneg() => Some(Range {
                lo: 0,
                hi: if a.nonneg() { a.hi.min(b.hi) } else { b.hi },
            }),
            IAnd if a.nonneg() => Some(Range { lo: 0, hi: a.hi }),
            IRem if b.lo > 0 => {
                let m = b.hi - 1;
                Some(if a.nonneg() {
                    Range { lo: 0, hi: m.min(a.hi) }
                } else {
                    Range { lo: -m, hi: m }
                })
            }
            IUShr if b.lo == b.hi && (1..64).contains(&b.lo) => Some(Range {
                lo: 0,
                hi: (u64::MAX >> b.lo) as i64,
            }),
            IShr if b.lo == b.hi && (0..64).contains(&b.lo) => Some(Range {
                lo: a.lo >> b.lo,
                hi: a.hi >> b.lo,
            }),
            _ => Range::arith(op, a, b),
        }
    }

    /// The truth of comparison `a op b` if the ranges decide it.
    pub fn compare(op: BinaryOp, a: Range, b: Range) -> Option<bool> {
        use BinaryOp::*;
        let op = unsigned_as_signed(op, a, b)?;
        match op {
            ILt if a.hi < b.lo => Some(true),
            ILt if a.lo >= b.hi => Some(false),
            ILe if a.hi <= b.lo => Some(true),
            ILe if a.lo > b.hi => Some(false),
            IGt => Range::compare(ILt, b, a),
            IGe => Range::compare(ILe, b, a),
            IEq | INe if a.hi < b.lo || b.hi < a.lo => Some(op == INe),
            IEq | INe if a.lo == a.hi && b.lo == b.hi => Some((a.lo == b.lo) == (op == IEq)),
            _ => None,
        }
    }

    /// Narrows `a` and `b` assuming `a op b` is `truth`.
    pub fn refine(op: BinaryOp, truth: bool, a: Range, b: Range) -> (Range, Range) {
        use BinaryOp::*;
        let op = if truth { op } else { negate(op) };
        let lt = |a: Range, b: Range| {
            (
                Range {
                    lo: a.lo,
                    hi: a.hi.min(b.hi.saturating_sub(1)),
                },
                Range {
                    lo: b.lo.max(a.lo.saturating_add(1)),
                    hi: b.hi,
                },
            )
        };
        let le = |a: Range, b: Range| {
            (
                Range {
                    lo: a.lo,
                    hi: a.hi.min(b.hi),
                },
                Range {
                    lo: b.lo.max(a.lo),
                    hi: b.hi,
                },
            )
        };
        match op {
            ILt => lt(a, b),
            ILe => le(a, b),
            IGt => swap(lt(b, a)),
            IGe => swap(le(b, a)),
            IEq => (a.intersect(b), b.intersect(a)),
            // x <u n with n >= 0 means 0 <= x < n.
            IULt if b.nonneg() => lt(a.intersect(Range { lo: 0, hi: i64::MAX }), b),
            IULe if b.nonneg() => le(a.intersect(Range { lo: 0, hi: i64::MAX }), b),
            IUGt if a.nonneg() => swap(lt(b.intersect(Range { lo: 0, hi: i64::MAX }), a)),
            IUGe if a.nonneg() => swap(le(b.intersect(Range { lo: 0, hi: i64::MAX }), a)),
            _ => (a, b),
        }
    }
}

fn swap((a, b): (Range, Range)) -> (Range, Range) {
    (b, a)
}

/// The comparison with the opposite truth.
pub fn negate(op: BinaryOp) -> BinaryOp {
    use BinaryOp::*;
    match op {
        ILt => IGe,
        IGe => ILt,
        ILe => IGt,
        IGt => ILe,
        IEq => INe,
        INe => IEq,
        IULt => IUGe,
        IUGe => IULt,
        IULe => IUGt,
        IUGt => IULe,
        other => other,
    }
}

/// An unsigned comparison of two non-negative ranges is the signed one.
fn unsigned_as_signed(op: BinaryOp, a: Range, b: Range) -> Option<BinaryOp> {
    use BinaryOp::*;
    let both = a.nonneg() && b.nonneg();
    Some(match op {
        IULt | IULe | IUGt | IUGe if !both => return None,
        IULt => ILt,
        IULe => ILe,
        IUGt => IGt,
        IUGe => IGe,
        ILt | ILe | IGt | IGe | IEq | INe => op,
        _ => return None,
    })
}
