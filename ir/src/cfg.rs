//! # Control-flow queries on a trace
//!
//! A trace's CFG is implicit in its terminators: `goto` and `br` are *forward* edges
//! (to a later block), `jump blockN` is a *back* edge to a loop header the jumping
//! block is dominated by (the verifier checks both). Everything here leans on that
//! shape: forward edges form a DAG in block order, so dominators come out of one pass
//! in block order, and a peeled loop is a cut of the block list.
//!
//! Shared by the verifier (dominance of uses), the optimizer's CFG (passes), the
//! peeling decision and the LLVM backend (null-check elision, compiling a peeled
//! loop's preamble apart from its loop). A worked example — a peeled loop, its
//! preamble `block0` entering the loop at `block1`:
//!
//! ```
//! let t = leones_ir::parse("trace t\nframe main code 0x1 slots 1\n\n\
//! block0(v0: i64):\n    v1 = const 1\n    v2 = iadd v0, v1\n    goto block1(v2)\n\n\
//! block1(v3: i64):\n    v4 = ilt v3, v1\n    guard_false v4 [main@1(v3)]\n    v5 = isub v3, v1\n    jump block1(v5)\n").unwrap();
//! use leones_ir::cfg::{loop_start, predecessors, forward_idoms};
//! let preds = predecessors(&t);
//! assert_eq!(preds[1], vec![(0, true), (1, false)]);
//! assert_eq!(forward_idoms(&preds), vec![0, 0]);
//! assert_eq!(loop_start(&t), Some(1));
//! ```

use crate::entity::Block;
use crate::op::{JumpTarget, Op};
use crate::trace::Trace;

/// Each block's predecessors, with whether the edge into it is forward (`goto`, `br`)
/// rather than a `jump` back to a loop header.
pub fn predecessors(t: &Trace) -> Vec<Vec<(usize, bool)>> {
    let mut preds = vec![Vec::new(); t.blocks.len()];
    for (b, bd) in t.blocks.iter().enumerate() {
        if let Some(last) = bd.insts.last() {
            for (s, fwd) in successors(&last.op) {
                preds[s.index()].push((b, fwd));
            }
        }
    }
    preds
}

/// The immediate dominator of every block of a verified trace (block 0's is itself),
/// given its [`predecessors`]: forward edges form a DAG in block order and back edges
/// only reach loop headers from blocks they dominate, so one pass over the forward
/// predecessors in block order gives the dominator tree (Cooper–Harvey–Kennedy's
/// intersection, one round). Shared by the optimizer's CFG and the LLVM lowering's
/// null-check elision.
pub fn forward_idoms(preds: &[Vec<(usize, bool)>]) -> Vec<usize> {
    let mut idom = vec![0usize; preds.len()];
    for b in 1..preds.len() {
        let mut cur: Option<usize> = None;
        for &(p, fwd) in &preds[b] {
            if !fwd || p >= b {
                continue;
            }
            cur = Some(match cur {
                None => p,
                Some(c) => intersect(&idom, c, p),
            });
        }
        idom[b] = cur.unwrap_or(0);
    }
    idom
}

/// The nearest common dominator of `a` and `b` (block indices, dominators first).
fn intersect(idom: &[usize], mut a: usize, mut b: usize) -> usize {
    while a != b {
        while a > b {
            a = idom[a];
        }
        while b > a {
            b = idom[b];
        }
    }
    a
}

/// Entry and exit times of each block in a depth-first walk of the dominator tree of
/// `n` blocks rooted at block 0, given each other block's immediate dominator (`None`:
/// unreachable, left out). Block `a` dominates `b` iff `b`'s interval nests in `a`'s,
/// an O(1) test. The walk is iterative: dominator trees are as deep as traces are long.
pub fn dominator_intervals(n: usize, idom: impl Fn(usize) -> Option<usize>) -> Vec<(u32, u32)> {
    let mut children = vec![Vec::new(); n];
    for b in 1..n {
        if let Some(d) = idom(b) {
            children[d].push(b);
        }
    }
    let mut interval = vec![(0u32, 0u32); n];
    if n == 0 {
        return interval;
    }
    let mut clock = 0u32;
    let mut stack = vec![(0usize, 0usize)];
    while let Some(&mut (b, ref mut next)) = stack.last_mut() {
        if let Some(&c) = children[b].get(*next) {
            *next += 1;
            clock += 1;
            interval[c].0 = clock;
            stack.push((c, 0));
        } else {
            clock += 1;
            interval[b].1 = clock;
            stack.pop();
        }
    }
    interval
}

/// The successors of a terminator, each with whether the edge is forward (`goto`/`br`)
/// or backward (`jump` to a block).
pub fn successors(op: &Op) -> Vec<(Block, bool)> {
    match op {
        Op::Jump(JumpTarget::Block(b), _) => vec![(*b, false)],
        Op::Goto(bc) => vec![(bc.block, true)],
        Op::Br { then_, else_, .. } => vec![(then_.block, true), (else_.block, true)],
        _ => Vec::new(),
    }
}

/// Where the loop of a peeled trace starts: the block `s > 0` that a `jump` targets,
/// that every edge from a block before `s` to one at or after it enters, and that no
/// edge crosses backwards — so blocks `..s` (the preamble) run once per entry and
/// blocks `s..` (the loop) are entered only at `s`. The optimizer's copy of the header
/// is such a block (the passes after peeling delete blocks but keep their order). So
/// may be an inner loop's header when the trace is one chain of loops; then the split
/// is ambiguous and this is `None`, as for a trace that was not peeled (its header is
/// `block0`).
pub fn loop_start(t: &Trace) -> Option<usize> {
    let edges: Vec<(usize, usize, bool)> = t
        .blocks
        .iter()
        .enumerate()
        .filter_map(|(b, block)| block.insts.last().map(|last| (b, last)))
        .flat_map(|(b, last)| {
            successors(&last.op)
                .into_iter()
                .map(move |(s, fwd)| (b, s.index(), fwd))
        })
        .collect();
    let splits_at = |s: usize| {
        edges.iter().all(|&(from, to, _)| match (from < s, to < s) {
            (true, false) => to == s,
            (false, true) => false,
            _ => true,
        })
    };
    let mut headers: Vec<usize> = edges
        .iter()
        .filter(|&&(_, to, forward)| !forward && to > 0)
        .map(|&(_, to, _)| to)
        .collect();
    headers.sort_unstable();
    headers.dedup();
    let mut splits = headers.into_iter().filter(|&s| splits_at(s));
    match (splits.next(), splits.next()) {
        (Some(s), None) => Some(s),
        _ => None,
    }
}
