//! The verifier: a trace is well-formed or it gets a typed error, never a panic.
//!
//! Every consumer of a trace (the optimizer, the backend, the interpreter) may assume
//! what the verifier checks, so it is run on every trace that comes from outside (text,
//! the recorder) and after every pass in debug builds and tests. It checks:
//!
//! - **structure**: at least one block; every block ends in exactly one terminator;
//!   `goto`/`br` go forward, `jump` to a block goes backward; every block is reachable;
//! - **SSA**: every value is defined once and every use — operands, branch arguments,
//!   snapshot slots — is dominated by its definition;
//! - **types**: operands and results match each op's signature and descriptors; branch
//!   and jump arguments match the target's parameters;
//! - **descriptors**: every index is in its table, fields fit in their layout;
//! - **snapshots**: frames exist and have the right number of slots, virtual objects
//!   are in range and their fields belong to their layout and have the right type;
//! - **pairing**: each `*_ovf` op is followed by a `guard_no_overflow` on its result, and
//!   `guard_no_exception` follows a call.
//!
//! Errors carry a [`Location`]; with the parser's [`SourceMap`] it becomes a line and
//! column.

use crate::cfg::{dominator_intervals, successors};
use crate::entity::*;
use crate::text::{Pos, SourceMap};
use crate::trace::Trace;
use crate::types::Type;
use std::fmt;

mod ops;

/// A descriptor of a trace, by kind and index.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum DescrRef {
    Layout(LayoutId),
    Field(FieldId),
    Array(ArrayId),
    Call(CallId),
    Frame(FrameId),
    Target(TargetId),
}

/// Where in a trace an error is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    Trace,
    Descr(DescrRef),
    Block(Block),
    Inst(Block, usize),
}

/// The kinds of verification errors.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum VerifyErrorKind {
    /// The trace has no blocks.
    NoBlocks,
    /// A block does not end in a terminator.
    MissingTerminator,
    /// A terminator before the end of a block.
    TerminatorNotLast,
    /// A value id outside the value table, or a value used but never defined.
    UndefinedValue,
    /// A value defined twice.
    ValueRedefined,
    /// A use not dominated by its definition.
    UseNotDominated,
    /// Operand or result types do not match.
    TypeMismatch,
    /// A descriptor, snapshot or block index out of range.
    BadIndex,
    /// A descriptor that is inconsistent (field outside its layout, ...).
    BadDescriptor,
    /// Branch/jump arguments do not match the target's parameters in number.
    ArgCountMismatch,
    /// A `goto`/`br` going backward, or a `jump` going forward.
    BadEdgeDirection,
    /// A block no path from `block0` reaches.
    UnreachableBlock,
    /// An op that produces a value has no result, or the reverse.
    ResultMismatch,
    /// A snapshot that does not describe a valid host state.
    BadSnapshot,
    /// `*_ovf` / `guard_no_overflow` or call / `guard_no_exception` not paired.
    BadPairing,
}

/// A verification error.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct VerifyError {
    pub kind: VerifyErrorKind,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Trace => write!(f, "{}", self.message),
            Location::Descr(d) => write!(f, "in descriptor {d:?}: {}", self.message),
            Location::Block(b) => write!(f, "in {b}: {}", self.message),
            Location::Inst(b, i) => write!(f, "in {b}, instruction {i}: {}", self.message),
        }
    }
}

impl VerifyError {
    /// The source position of the error, given the parser's source map.
    pub fn pos(&self, map: &SourceMap) -> Option<Pos> {
        match self.location {
            Location::Trace => None,
            Location::Descr(d) => map.descrs.iter().find(|(r, _)| *r == d).map(|(_, p)| *p),
            Location::Block(b) => map.block(b),
            Location::Inst(b, i) => map.inst(b, i),
        }
    }
}

/// Verifies a trace.
///
/// ```
/// let t = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    v1 = fneg v0\n    finish v1\n").unwrap();
/// let err = leones_ir::verify(&t).unwrap_err();
/// assert_eq!(err.kind, leones_ir::VerifyErrorKind::TypeMismatch);
/// ```
pub fn verify(trace: &Trace) -> Result<(), VerifyError> {
    Verifier::new(trace, None).run()
}

/// Verifies a parsed trace; messages name values as the source did.
pub fn verify_with_source(trace: &Trace, map: &SourceMap) -> Result<(), VerifyError> {
    Verifier::new(trace, Some(map)).run()
}

/// Where a value is defined: block, and position (params count as before inst 0).
#[derive(Copy, Clone)]
struct Def {
    block: usize,
    /// -1 for block parameters.
    index: isize,
}

struct Verifier<'t> {
    t: &'t Trace,
    source: Option<&'t SourceMap>,
    defs: Vec<Option<Def>>,
    /// Immediate dominator of each block (entry: itself); None if unreachable.
    idom: Vec<Option<usize>>,
    /// Entry and exit times of each block in a depth-first walk of the dominator tree:
    /// `a` dominates `b` iff `b`'s interval nests in `a`'s. Walking `idom` up from `b`
    /// instead made verification quadratic on long block chains.
    dom_interval: Vec<(u32, u32)>,
}

type R = Result<(), VerifyError>;

fn err(kind: VerifyErrorKind, location: Location, message: impl Into<String>) -> R {
    Err(VerifyError {
        kind,
        location,
        message: message.into(),
    })
}

impl<'t> Verifier<'t> {
    fn new(t: &'t Trace, source: Option<&'t SourceMap>) -> Self {
        Verifier {
            t,
            source,
            defs: vec![None; t.value_types.len()],
            idom: Vec::new(),
            dom_interval: Vec::new(),
        }
    }

    /// How a value is named in messages: as in the source, or as `print` writes it.
    fn name(&self, v: Value) -> String {
        let from_source = self.source.and_then(|m| m.value_names.get(v.index()).cloned());
        from_source.unwrap_or_else(|| {
            crate::text::print::canonical_value_names(self.t)
                .get(v.index())
                .cloned()
                .unwrap_or_else(|| format!("?{v}"))
        })
    }

    fn run(mut self) -> R {
        let t = self.t;
        if t.blocks.is_empty() {
            return err(
                VerifyErrorKind::NoBlocks,
                Location::Trace,
                "a trace needs at least one block",
            );
        }
        self.descriptors()?;
        self.structure()?;
        self.definitions()?;
        self.dominators()?;
        for b in 0..t.blocks.len() {
            for i in 0..t.blocks[b].insts.len() {
                self.inst(b, i)?;
            }
        }
        Ok(())
    }

    fn descriptors(&self) -> R {
        let t = self.t;
        use VerifyErrorKind::{BadDescriptor, BadIndex};
        for (i, f) in t.fields.iter().enumerate() {
            let loc = Location::Descr(DescrRef::Field(FieldId::new(i)));
            let Some(l) = t.layouts.get(f.layout.index()) else {
                return err(BadIndex, loc, format!("field {} belongs to a missing layout", f.name));
            };
            if u64::from(f.offset) + u64::from(f.ty.mem_size()) > u64::from(l.size) {
                return err(
                    BadDescriptor,
                    loc,
                    format!(
                        "field {}.{} at offset {} does not fit in size {}",
                        l.name, f.name, f.offset, l.size
                    ),
                );
            }
            if l.class.is_some() && f.offset < 8 {
                return err(
                    BadDescriptor,
                    loc,
                    format!("field {}.{} overlaps the class word", l.name, f.name),
                );
            }
        }
        for (i, l) in t.layouts.iter().enumerate() {
            let loc = Location::Descr(DescrRef::Layout(LayoutId::new(i)));
            if l.size > crate::Layout::MAX_SIZE {
                return err(
                    BadDescriptor,
                    loc,
                    format!(
                        "layout {} of size {} exceeds the limit of {} bytes",
                        l.name,
                        l.size,
                        crate::Layout::MAX_SIZE
                    ),
                );
            }
            if l.class.is_some() && l.size < 8 {
                return err(
                    BadDescriptor,
                    loc,
                    format!("layout {} has a class word but size {}", l.name, l.size),
                );
            }
        }
        for (i, c) in t.calls.iter().enumerate() {
            let loc = Location::Descr(DescrRef::Call(CallId::new(i)));
            for set in [&c.effects.reads, &c.effects.writes] {
                if let crate::HeapSet::Some { fields, arrays } = set {
                    if fields.iter().any(|f| f.index() >= t.fields.len())
                        || arrays.iter().any(|a| a.index() >= t.arrays.len())
                    {
                        return err(
                            BadIndex,
                            loc,
                            format!("effects of {} name a missing descriptor", c.name),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn structure(&self) -> R {
        let t = self.t;
        for (b, block) in t.blocks.iter().enumerate() {
            let blk = Block::new(b);
            let Some(last) = block.insts.last() else {
                return err(
                    VerifyErrorKind::MissingTerminator,
                    Location::Block(blk),
                    format!("{blk} is empty"),
                );
            };
            if !last.op.is_terminator() {
                return err(
                    VerifyErrorKind::MissingTerminator,
                    Location::Inst(blk, block.insts.len() - 1),
                    format!("{blk} does not end in a terminator"),
                );
            }
            if let Some(i) = block.insts[..block.insts.len() - 1]
                .iter()
                .position(|i| i.op.is_terminator())
            {
                return err(
                    VerifyErrorKind::TerminatorNotLast,
                    Location::Inst(blk, i),
                    "a terminator must be the last instruction of its block",
                );
            }
            let loc = Location::Inst(blk, block.insts.len() - 1);
            for (target, forward) in successors(&last.op) {
                if target.index() >= t.blocks.len() {
                    return err(VerifyErrorKind::BadIndex, loc, format!("{target} does not exist"));
                }
                if forward && target.index() <= b {
                    return err(
                        VerifyErrorKind::BadEdgeDirection,
                        loc,
                        format!("goto/br must go forward, but {target} is not after {blk}"),
                    );
                }
                if !forward && target.index() > b {
                    return err(
                        VerifyErrorKind::BadEdgeDirection,
                        loc,
                        format!("jump must go back to a loop header, but {target} is after {blk}"),
                    );
                }
            }
        }
        Ok(())
    }

    fn definitions(&mut self) -> R {
        let t = self.t;
        for (b, block) in t.blocks.iter().enumerate() {
            let defs = block.params.iter().map(|v| (*v, -1isize)).chain(
                block
                    .insts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, inst)| inst.result.map(|r| (r, i as isize))),
            );
            for (v, index) in defs {
                let loc = if index < 0 {
                    Location::Block(Block::new(b))
                } else {
                    Location::Inst(Block::new(b), index as usize)
                };
                let Some(slot) = self.defs.get_mut(v.index()) else {
                    return err(
                        VerifyErrorKind::UndefinedValue,
                        loc,
                        format!("value id {} is not in the value table", v.0),
                    );
                };
                if slot.is_some() {
                    return err(
                        VerifyErrorKind::ValueRedefined,
                        loc,
                        format!("{} is defined twice", self.name(v)),
                    );
                }
                *slot = Some(Def { block: b, index });
            }
        }
        Ok(())
    }

    /// Cooper, Harvey & Kennedy's iterative dominator algorithm over reverse postorder.
    fn dominators(&mut self) -> R {
        let t = self.t;
        let n = t.blocks.len();
        let succs: Vec<Vec<usize>> = t
            .blocks
            .iter()
            .map(|b| {
                b.insts
                    .last()
                    .map(|i| successors(&i.op).into_iter().map(|(s, _)| s.index()).collect())
                    .unwrap_or_default()
            })
            .collect();
        // Postorder by iterative DFS.
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        let mut stack = vec![(0usize, 0usize)];
        seen[0] = true;
        while let Some((b, k)) = stack.pop() {
            if k < succs[b].len() {
                stack.push((b, k + 1));
                let s = succs[b][k];
                if !seen[s] {
                    seen[s] = true;
                    stack.push((s, 0));
                }
            } else {
                order.push(b);
            }
        }
        if let Some(b) = seen.iter().position(|s| !s) {
            return err(
                VerifyErrorKind::UnreachableBlock,
                Location::Block(Block::new(b)),
                format!("block{b} is unreachable"),
            );
        }
        let mut rpo_index = vec![0usize; n];
        for (i, &b) in order.iter().rev().enumerate() {
            rpo_index[b] = i;
        }
        let mut preds = vec![Vec::new(); n];
        for (b, ss) in succs.iter().enumerate() {
            for &s in ss {
                preds[s].push(b);
            }
        }
        let mut idom: Vec<Option<usize>> = vec![None; n];
        idom[0] = Some(0);
        let mut changed = true;
        while changed {
            changed = false;
            for &b in order.iter().rev().skip(1) {
                let mut new_idom: Option<usize> = None;
                for &p in &preds[b] {
                    if idom[p].is_none() {
                        continue;
                    }
                    new_idom = Some(match new_idom {
                        None => p,
                        Some(cur) => {
                            let (mut x, mut y) = (p, cur);
                            while x != y {
                                while rpo_index[x] > rpo_index[y] {
                                    x = idom[x].unwrap_or(0);
                                }
                                while rpo_index[y] > rpo_index[x] {
                                    y = idom[y].unwrap_or(0);
                                }
                            }
                            x
                        }
                    });
                }
                if new_idom.is_some() && idom[b] != new_idom {
                    idom[b] = new_idom;
                    changed = true;
                }
            }
        }
        self.dom_interval = dominator_intervals(n, |b| idom[b]);
        self.idom = idom;
        Ok(())
    }

    fn dominates_block(&self, a: usize, b: usize) -> bool {
        let ((a_in, a_out), (b_in, b_out)) = (self.dom_interval[a], self.dom_interval[b]);
        a_in <= b_in && b_out <= a_out
    }

    /// Checks that `v` is defined and available at instruction `i` of block `b`;
    /// returns its type.
    fn use_at(&self, v: Value, b: usize, i: usize) -> Result<Type, VerifyError> {
        let loc = Location::Inst(Block::new(b), i);
        let Some(def) = self.defs.get(v.index()).copied().flatten() else {
            return Err(VerifyError {
                kind: VerifyErrorKind::UndefinedValue,
                location: loc,
                message: format!("{} is used but never defined", self.name(v)),
            });
        };
        let ok = if def.block == b {
            def.index < i as isize
        } else {
            self.dominates_block(def.block, b)
        };
        if !ok {
            return Err(VerifyError {
                kind: VerifyErrorKind::UseNotDominated,
                location: loc,
                message: format!("{} is used where its definition does not dominate", self.name(v)),
            });
        }
        Ok(self.t.value_types[v.index()])
    }
}
