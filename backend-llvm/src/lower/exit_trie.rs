//! # Exit stores as a trie: each stored prefix is stored once per unit
//!
//! A guard's exit stores its snapshot's live values into the slot buffer, position by
//! position ([`exit_values`](crate::abi::exit_values) order: the outermost frame
//! first). Guards of one unit mostly agree on a long prefix — the outer frames do not
//! change inside an inlined call, a loop's locals are the same in every arm — so
//! storing each guard's whole list in its own exit block repeats most stores: on the
//! talk's programs the stores were ~90% of a region's LLVM instructions, and LLVM's
//! instruction selection and register allocation cost is per instruction.
//!
//! The lists are put in a trie keyed by (position, value). A node gets an exit block
//! when a list ends there or when it branches (two or more children); that block
//! stores the values between its nearest block ancestor and itself, then branches to
//! the ancestor's block (the root's is the shared dispatch). A guard branches to the
//! block of its list's end node, which also takes the guard id (a `phi`, one incoming
//! constant per guard; the constant itself when one guard ends there) and stores it. If that end node is a prefix of longer lists,
//! the guard id gets its own small block in front, so the longer lists' paths do not
//! pass a `phi` they have no value for.
//!
//! Soundness: every value a block stores is in the list of every guard that reaches
//! the block, so it dominates each of those guards and therefore the block, which
//! only they reach. The decoder sees the same slot buffer as before: position `i`
//! holds the list's `i`-th value.
//!
//! Example: lists `[a b c]`, `[a b d]`, `[a b]` give the trie `a─b─{c,d}`; blocks:
//! `c` (stores c), `d` (stores d), `b` (stores a b, a list end and a branch point);
//! the guard of `[a b]` enters through its own guard-id block, then `b`. Four stores
//! instead of eight; on a real region 2.5–3x fewer.

use leones_ir::Value;
use std::collections::HashMap;

/// A node of the trie; `0` is the root (the empty prefix).
pub(crate) type NodeId = usize;

struct Node {
    parent: NodeId,
    value: Option<Value>,
    depth: usize,
    children: HashMap<Value, NodeId>,
    /// A list ends here.
    end: bool,
}

/// The trie of a unit's exit lists (see the [module docs](self)).
pub(crate) struct ExitTrie {
    nodes: Vec<Node>,
}

/// What the block of a node stores and where it continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// `(slot position, value)` to store, in position order.
    pub stores: Vec<(usize, Value)>,
    /// The block node it branches to afterwards (`0`: the dispatch block).
    pub next: NodeId,
}

impl ExitTrie {
    /// The trie of `lists` (duplicates are fine).
    pub(crate) fn new<'a>(lists: impl IntoIterator<Item = &'a [Value]>) -> ExitTrie {
        let mut t = ExitTrie {
            nodes: vec![Node {
                parent: 0,
                value: None,
                depth: 0,
                children: HashMap::new(),
                end: false,
            }],
        };
        for list in lists {
            let mut n = 0;
            for &v in list {
                n = match t.nodes[n].children.get(&v) {
                    Some(&c) => c,
                    None => {
                        let c = t.nodes.len();
                        let depth = t.nodes[n].depth + 1;
                        t.nodes.push(Node {
                            parent: n,
                            value: Some(v),
                            depth,
                            children: HashMap::new(),
                            end: false,
                        });
                        t.nodes[n].children.insert(v, c);
                        c
                    }
                };
            }
            t.nodes[n].end = true;
        }
        t
    }

    /// The end node of `list` (`None` if it was not given to [`ExitTrie::new`]).
    pub(crate) fn end_of(&self, list: &[Value]) -> Option<NodeId> {
        let mut n = 0;
        for v in list {
            n = *self.nodes[n].children.get(v)?;
        }
        self.nodes[n].end.then_some(n)
    }

    /// Whether node `n` gets a block: the root (dispatch), a list end, a branch point.
    fn has_block(&self, n: NodeId) -> bool {
        n == 0 || self.nodes[n].end || self.nodes[n].children.len() >= 2
    }

    /// Whether longer lists pass through end node `n` (then its guard-id `phi` needs
    /// a block of its own in front).
    pub(crate) fn is_prefix(&self, n: NodeId) -> bool {
        !self.nodes[n].children.is_empty()
    }

    /// What block node `n` (not the root) stores and where it goes next.
    pub(crate) fn segment(&self, n: NodeId) -> Segment {
        let mut stores = Vec::new();
        let mut m = n;
        loop {
            let node = &self.nodes[m];
            stores.push((node.depth - 1, node.value.expect("not the root")));
            m = node.parent;
            if self.has_block(m) {
                break;
            }
        }
        stores.reverse();
        Segment { stores, next: m }
    }

    /// Stores made by all blocks together (for tests and logs).
    #[cfg(test)]
    fn total_stores(&self) -> usize {
        (1..self.nodes.len())
            .filter(|&n| self.has_block(n))
            .map(|n| self.segment(n).stores.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: u32) -> Value {
        Value(n)
    }

    #[test]
    fn shared_prefix_is_stored_once() {
        let lists = [vec![v(1), v(2), v(3)], vec![v(1), v(2), v(4)], vec![v(1), v(2)]];
        let t = ExitTrie::new(lists.iter().map(Vec::as_slice));
        assert_eq!(t.total_stores(), 4, "a b once, c and d once each");
        let ab = t.end_of(&[v(1), v(2)]).unwrap();
        assert!(t.is_prefix(ab));
        assert_eq!(
            t.segment(ab),
            Segment {
                stores: vec![(0, v(1)), (1, v(2))],
                next: 0
            }
        );
        let abc = t.end_of(&[v(1), v(2), v(3)]).unwrap();
        assert!(!t.is_prefix(abc));
        assert_eq!(
            t.segment(abc),
            Segment {
                stores: vec![(2, v(3))],
                next: ab
            }
        );
    }

    #[test]
    fn every_list_is_stored_whole_along_its_path() {
        let lists = [
            vec![v(1), v(2), v(3), v(4)],
            vec![v(1), v(5)],
            vec![v(1), v(2), v(6)],
            vec![v(7)],
            vec![],
        ];
        let t = ExitTrie::new(lists.iter().map(Vec::as_slice));
        for list in &lists {
            let mut n = t.end_of(list).unwrap();
            let mut stored = Vec::new();
            while n != 0 {
                let s = t.segment(n);
                stored.extend(s.stores);
                n = s.next;
            }
            stored.sort();
            let want: Vec<(usize, Value)> = list.iter().copied().enumerate().collect();
            assert_eq!(stored, want, "{list:?}");
        }
        assert_eq!(t.end_of(&[v(1), v(2)]), None, "a prefix that is no list");
    }
}
