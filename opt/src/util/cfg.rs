//! The control-flow graph facts the passes need: predecessors, immediate dominators
//! and O(1) dominance queries.
//!
//! Blocks are in an order where forward edges (`goto`, `br`) go to later blocks and
//! `jump`s go back to loop headers, so every block's dominators come before it.

use leones_ir::cfg::{dominator_intervals, forward_idoms, predecessors};
use leones_ir::{Block, JumpTarget, Op, Trace};

pub struct Cfg {
    /// For each block: (predecessor, edge is forward).
    pub preds: Vec<Vec<(usize, bool)>>,
    /// Immediate dominator (block 0's is itself).
    pub idom: Vec<usize>,
    /// Entry and exit times of each block in a depth-first walk of the dominator tree
    /// ([`Cfg::dominates`]).
    interval: Vec<(u32, u32)>,
}

impl Cfg {
    pub fn new(t: &Trace) -> Cfg {
        let n = t.blocks.len();
        let preds = predecessors(t);
        let idom = forward_idoms(&preds);
        let interval = dominator_intervals(n, |b| Some(idom[b]));
        Cfg { preds, idom, interval }
    }

    /// The blocks in a depth-first preorder of the dominator tree (children in block
    /// order): every block comes after its dominators, and a block's dominator subtree
    /// is contiguous.
    pub fn dominator_preorder(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.idom.len()).collect();
        order.sort_by_key(|&b| self.interval[b].0);
        order
    }

    /// Whether block `a` dominates block `b` (every block dominates itself).
    pub fn dominates(&self, a: usize, b: usize) -> bool {
        let ((a_in, a_out), (b_in, b_out)) = (self.interval[a], self.interval[b]);
        a_in <= b_in && b_out <= a_out
    }

    /// The single forward predecessor of `b` when every other edge into `b` is its own
    /// back edge (`b` is a loop header with one way in, or a plain successor), with
    /// whether `b` loops on itself.
    pub fn single_entry(&self, b: usize) -> Option<(usize, bool)> {
        let mut entry = None;
        let mut self_loop = false;
        for &(p, fwd) in &self.preds[b] {
            if p == b && !fwd {
                self_loop = true;
            } else if fwd && entry.is_none() {
                entry = Some(p);
            } else {
                return None;
            }
        }
        entry.map(|e| (e, self_loop))
    }

    pub fn is_loop_header(&self, b: Block) -> bool {
        self.preds[b.index()].iter().any(|&(_, fwd)| !fwd)
    }
}

/// Deletes the blocks marked `dead` (which nothing live may branch to) and renumbers
/// the others, keeping their order, so edge directions stay valid.
pub fn remove_blocks(t: &mut Trace, dead: &[bool]) {
    let mut new_index = Vec::with_capacity(dead.len());
    let mut next = 0;
    for &d in dead {
        new_index.push(next);
        next += usize::from(!d);
    }
    let blocks = std::mem::take(&mut t.blocks);
    t.blocks = blocks
        .into_iter()
        .zip(dead)
        .filter(|(_, &d)| !d)
        .map(|(b, _)| b)
        .collect();
    let renumber = |b: &mut Block| *b = Block::new(new_index[b.index()]);
    for block in &mut t.blocks {
        match block.insts.last_mut().map(|i| &mut i.op) {
            Some(Op::Jump(JumpTarget::Block(b), _)) => renumber(b),
            Some(Op::Goto(bc)) => renumber(&mut bc.block),
            Some(Op::Br { then_, else_, .. }) => {
                renumber(&mut then_.block);
                renumber(&mut else_.block);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cfg;

    /// A diamond: block 2's immediate dominator is block 0, before it. (Passes that
    /// rewrite blocks in index order rely on every block's dominators coming first.)
    #[test]
    fn a_diamonds_dominators_come_first() {
        let t = leones_ir::parse(
            "trace d\n\nblock0(v0: i64, v1: f64):\n    v2 = const 0\n    v3 = ieq v0, v2\n    \
             br v3, block1(), block2(v1)\n\nblock1():\n    v4 = const 5.0\n    goto block2(v4)\n\n\
             block2(v5: f64):\n    v6 = fadd v5, v5\n    finish v6\n",
        )
        .expect("parses");
        let cfg = Cfg::new(&t);
        assert_eq!(cfg.idom, vec![0, 0, 0]);
        assert!(cfg.idom.iter().enumerate().skip(1).all(|(b, &d)| d < b));
    }
}
