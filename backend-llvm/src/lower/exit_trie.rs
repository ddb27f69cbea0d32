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
//! constant per guard; the constant itself when one guard ends there) and stores it.
//! If that end node is a prefix of longer lists, the guard id gets its own small block
//! in front, so the longer lists' paths do not pass a `phi` they have no value for.
//!
//! Soundness: every value a block stores is in the list of every guard that reaches
//! the block, so it dominates each of those guards and therefore the block, which
//! only they reach. The decoder sees the same slot buffer as before: position `i`
//! holds the list's `i`-th value.
//!
//! A store is left out where the slot already holds the value ([`held_slots`]):
//! `block0`'s parameter at that position in a unit nothing branches back into, loaded
//! once on entry. Nothing but a way out of the unit writes the slot buffer, and the
//! engine is not re-entered while native code runs, so the slot keeps the input
//! wherever the unit exits; a region's preamble and a bridge leave many inputs
//! unchanged (15-20% of the exit stores of the talk's units).
//!
//! Example: lists `[a b c]`, `[a b d]`, `[a b]` give the trie `a─b─{c,d}`; blocks:
//! `c` (stores c), `d` (stores d), `b` (stores a b, a list end and a branch point);
//! the guard of `[a b]` enters through its own guard-id block, then `b`. Four stores
//! instead of eight; on a real region 2.5–3x fewer.

use leones_ir::{Trace, Type, Value};
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
    /// What each slot holds since the entry ([`held_slots`]).
    held: Vec<Option<Value>>,
}

/// What `slots[i]` holds wherever a unit of `t` runs: `block0`'s parameter `i` when
/// nothing branches back to `block0` (`!block0_entered`, see
/// [`block0_is_branched_to`](super::block0_is_branched_to): the unit loads its inputs
/// once, on entry) and the parameter's slot word is its bits (not a `bool`, whose
/// word is only "non-zero"). Empty when `block0` is a loop header.
pub(crate) fn held_slots(t: &Trace, block0_entered: bool) -> Vec<Option<Value>> {
    match t.blocks.first() {
        Some(b0) if !block0_entered => b0
            .params
            .iter()
            .map(|&p| (t.value_type(p) != Type::Bool).then_some(p))
            .collect(),
        _ => Vec::new(),
    }
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
    /// The trie of `lists` (duplicates are fine), whose segments leave out what
    /// `held` says a slot holds already ([`held_slots`]).
    pub(crate) fn new<'a>(lists: impl IntoIterator<Item = &'a [Value]>, held: Vec<Option<Value>>) -> ExitTrie {
        let mut t = ExitTrie {
            held,
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
            let (pos, v) = (node.depth - 1, node.value.expect("not the root"));
            if self.held.get(pos) != Some(&Some(v)) {
                stores.push((pos, v));
            }
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
        let t = ExitTrie::new(lists.iter().map(Vec::as_slice), Vec::new());
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
        let t = ExitTrie::new(lists.iter().map(Vec::as_slice), Vec::new());
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

    #[test]
    fn a_slot_that_holds_its_value_is_not_stored() {
        // Slot 0 holds v1 and slot 1 holds v2 since the entry; slot 2 holds nothing.
        let lists = [vec![v(1), v(2), v(3)], vec![v(1), v(9)]];
        let held = vec![Some(v(1)), Some(v(2)), None];
        let t = ExitTrie::new(lists.iter().map(Vec::as_slice), held);
        let abc = t.end_of(&lists[0]).unwrap();
        let mut stored = Vec::new();
        let mut n = abc;
        while n != 0 {
            let s = t.segment(n);
            stored.extend(s.stores);
            n = s.next;
        }
        assert_eq!(stored, vec![(2, v(3))], "v1 and v2 are where they were");
        // v9 is not what slot 1 holds: stored.
        assert_eq!(t.segment(t.end_of(&lists[1]).unwrap()).stores, vec![(1, v(9))]);
    }

    #[test]
    fn only_a_block0_nothing_branches_back_to_holds_its_inputs() {
        use crate::lower::block0_is_branched_to;
        let bridge = "trace t\nframe main code 0x1 slots 3\n\nblock0(v0: i64, v1: bool, v2: ref):\n    finish v0\n";
        let t = leones_ir::parse(bridge).unwrap();
        assert_eq!(
            held_slots(&t, block0_is_branched_to(&t)),
            vec![Some(Value(0)), None, Some(Value(2))],
            "not the bool"
        );
        let looping = "trace t\nframe main code 0x1 slots 1\n\nblock0(v0: i64):\n    v1 = const 1\n    v2 = iadd v0, v1\n    jump block0(v2)\n";
        let looping = leones_ir::parse(looping).unwrap();
        assert_eq!(held_slots(&looping, block0_is_branched_to(&looping)), vec![]);
    }
}
