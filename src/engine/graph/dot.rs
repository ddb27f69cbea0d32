//! # Drawing a tree as DOT
//!
//! One `digraph` per root, laid out left to right:
//!
//! ```text
//!  ┌ region: root + merged arms ─────────────────────────────┐
//!  │ [region unit] ──recorded g3──► [arm 1] ──recorded g1──► [arm 4]
//!  └──────┬──────────────────────────────────────────────────┘
//!         ├──g7 guard_value f@pc, 10 exits before the bridge──► [bridge] ──► ...
//!         └──g2 guard_true, 123 exits──► interpreter f@pc        (red)
//!  ┌ retired (history) ┐
//!  │ [grey boxes]      │
//!  └───────────────────┘
//! ```
//!
//! Boxes are units (counts in them) and arms (an arm's box says where it rejoins: as
//! edges, forty arms' rejoins hide the tree). A unit's edges name its compiled guard
//! (`gN`); an arm's edge names the guard's ordinal in the recording it left
//! (`recorded gN`), the numbering region formation uses.
//!
//! A program can have hundreds of bridges, so what is drawn is bounded ([`Limits`]):
//! the bridges with the most entries (and the bridges they hang off, so every drawn
//! bridge is connected), the most taken exits over all drawn units, the first arms and
//! the latest retired units. What is left out is summed up in the graph's title and a
//! dashed "more bridges" node, so the counts on the page still add up to the engine's.

use super::{ArmNode, ExitCount, Rejoin, TreeGraph, UnitNode};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// How much of a tree is drawn.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bridges, most entered first (plus the bridges they hang off).
    pub bridges: usize,
    /// Exit edges to the interpreter, most taken first, over all drawn units.
    pub exit_edges: usize,
    /// Arms, in recording order.
    pub arms: usize,
    /// Retired units, latest first.
    pub retired: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            bridges: 24,
            exit_edges: 24,
            arms: 64,
            retired: 12,
        }
    }
}

/// DOT's quoted-string escaping; `\n` in `s` becomes a centred line break.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The lines every unit's box shows under its `title`: unit, symbol, tier, size, exits.
fn unit_lines(title: String, u: &UnitNode) -> Vec<String> {
    let exits: u64 = u.exits.iter().map(|e| e.count).sum();
    let guards = u.exits.len();
    vec![
        title,
        format!("unit {} · {} · {} · {} B", u.unit, u.symbol, u.tier, u.code_bytes),
        format!("exits {exits} at {guards} guard{}", if guards == 1 { "" } else { "s" }),
    ]
}

/// An arm's box: where it starts, its profile when recorded, where it rejoins.
fn arm_lines(a: &ArmNode) -> Vec<String> {
    let state = if a.merged { "arm" } else { "pending arm" };
    let seen = u64::from(a.taken_when_recorded) + u64::from(a.passed_when_recorded);
    let rejoin = match &a.rejoin {
        Rejoin::Header => "rejoins at the loop header".to_string(),
        Rejoin::MergePoint { piece: 0, point, at } => format!("rejoins the root at m{point} {at}"),
        Rejoin::MergePoint { piece, point, at } => format!("rejoins arm {piece} at m{point} {at}"),
    };
    vec![
        format!("{state} {} from {}", a.piece, a.at),
        format!("taken {} of {seen} when recorded", a.taken_when_recorded),
        rejoin,
    ]
}

impl TreeGraph {
    /// This tree as a DOT `digraph`, drawn within [`Limits::default`].
    pub fn to_dot(&self) -> String {
        self.to_dot_with(&Limits::default())
    }

    /// This tree as a DOT `digraph`, drawing at most what `limits` says.
    pub fn to_dot_with(&self, limits: &Limits) -> String {
        let mut notes = Vec::new();
        let mut body = String::new();
        let b = &mut body;
        // Node ids: the installed unit is `root`, a bridge `u<unit>`.
        let mut ids: HashMap<u32, String> = HashMap::new();
        let root_fill = if self.is_region() { "#f6d58e" } else { "#a9cce3" };
        let mut root_lines = match &self.unit {
            Some(u) => {
                ids.insert(u.unit, "root".into());
                let kind = if self.is_region() { "region" } else { "loop" };
                unit_lines(format!("{kind} {}", u.name), u)
            }
            None => vec![format!("{} (retired: no unit installed)", self.root)],
        };
        root_lines.push(format!("header {}", self.header));
        let iterations = self.iterations.map_or("not counted".to_string(), |n| n.to_string());
        root_lines.push(format!("entries {}, iterations {iterations}", self.entries));
        let _ = writeln!(
            b,
            "  root [label={}, fillcolor=\"{root_fill}\"];",
            quote(&root_lines.join("\n"))
        );

        self.draw_arms(b, limits, &mut notes);
        let drawn = self.drawn_bridges(limits);
        for br in self.bridges.iter().filter(|br| drawn.contains(&br.node.unit)) {
            ids.insert(br.node.unit, format!("u{}", br.node.unit));
        }
        let mut units: Vec<(&str, &UnitNode)> = self.unit.iter().map(|u| ("root", u)).collect();
        for br in self.bridges.iter().filter(|br| drawn.contains(&br.node.unit)) {
            let id = &ids[&br.node.unit];
            // Every bridge of a tree jumps to its loop: its name says no more than that.
            let mut lines = unit_lines("bridge".to_string(), &br.node);
            lines.push(format!("entries {}", br.entries));
            // Drawn bridges' parents are drawn (see `drawn_bridges`), unless gone.
            match br.parent {
                Some((p, guard)) if ids.contains_key(&p) => {
                    let mut label = format!("g{guard} {} {}", br.guard_kind, br.at);
                    if let Some(n) = self.exits_at(p, guard) {
                        let _ = write!(label, "\n{n} exits before the bridge");
                    }
                    let _ = writeln!(b, "  {} -> {id} [label={}];", ids[&p], quote(&label));
                }
                Some((p, g)) => lines.push(format!("on unit {p} g{g} (gone)")),
                None => lines.push("parent not known".to_string()),
            }
            let _ = writeln!(b, "  {id} [label={}, fillcolor=\"#c8e6c9\"];", quote(&lines.join("\n")));
            units.push((id, &br.node));
        }
        let hidden: Vec<_> = self
            .bridges
            .iter()
            .filter(|br| !drawn.contains(&br.node.unit))
            .collect();
        if !hidden.is_empty() {
            let entries: u64 = hidden.iter().map(|br| br.entries).sum();
            let label = format!("{} more bridges\nentries {entries}", hidden.len());
            let _ = writeln!(b, "  more_bridges [label={}, style=\"rounded,dashed\"];", quote(&label));
            let _ = writeln!(b, "  root -> more_bridges [style=dotted];");
            notes.push(format!("{} bridges not drawn ({entries} entries)", hidden.len()));
        }
        self.draw_exits(b, &units, limits, &mut notes);
        self.draw_retired(b, limits, &mut notes);

        let mut title = vec![format!("{} — {}", self.header, self.root)];
        let bridge_entries: u64 = self.bridges.iter().map(|br| br.entries).sum();
        title.push(format!(
            "{} live bridges ({bridge_entries} entries), {} arms, {} retired units",
            self.bridges.len(),
            self.arms.len(),
            self.retired.len() as u64 + self.retired_dropped
        ));
        title.extend(notes);
        let mut out = format!("digraph {} {{\n", quote(&self.root));
        let _ = writeln!(
            out,
            "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", fontsize=12, label={}];",
            quote(&title.join("\n"))
        );
        out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        out.push_str(&body);
        out.push_str("}\n");
        out
    }

    /// The bridges to draw: the most entered, and every bridge on their way to the root.
    fn drawn_bridges(&self, limits: &Limits) -> HashSet<u32> {
        let parent: HashMap<u32, u32> = self
            .bridges
            .iter()
            .filter_map(|br| Some((br.node.unit, br.parent?.0)))
            .collect();
        let mut drawn = HashSet::new();
        // `bridges` is sorted most entered first.
        for br in self.bridges.iter().take(limits.bridges) {
            let mut u = br.node.unit;
            while drawn.insert(u) {
                match parent.get(&u) {
                    Some(&p) if self.bridges.iter().any(|b| b.node.unit == p) => u = p,
                    _ => break,
                }
            }
        }
        drawn
    }

    /// The region's arms (with the root) in a cluster, each with an edge from the
    /// piece (root or arm) and recorded guard it leaves from.
    fn draw_arms(&self, b: &mut String, limits: &Limits, notes: &mut Vec<String>) {
        if self.arms.is_empty() {
            return;
        }
        let piece_id = |p: usize| if p == 0 { "root".to_string() } else { format!("a{p}") };
        let merged = self.arms.iter().filter(|a| a.merged).count();
        let pending = self.arms.len() - merged;
        let label = format!("region: root + {merged} merged arms, {pending} pending");
        let _ = writeln!(
            b,
            "  subgraph cluster_region {{\n    label={}; style=dashed;",
            quote(&label)
        );
        b.push_str("    root;\n");
        let shown = &self.arms[..self.arms.len().min(limits.arms)];
        for a in shown {
            let style = if a.merged {
                "rounded,filled"
            } else {
                "rounded,filled,dashed"
            };
            let _ = writeln!(
                b,
                "    a{} [label={}, style=\"{style}\", fillcolor=\"#fbe9b7\"];",
                a.piece,
                quote(&arm_lines(a).join("\n"))
            );
        }
        b.push_str("  }\n");
        for a in shown {
            let from = piece_id(a.from.0);
            let _ = writeln!(
                b,
                "  {from} -> a{} [label={}];",
                a.piece,
                quote(&format!("recorded g{}", a.from.1))
            );
        }
        if self.arms.len() > shown.len() {
            notes.push(format!("{} arms not drawn", self.arms.len() - shown.len()));
        }
    }

    /// The latest retired units, greyed, in a cluster of their own.
    fn draw_retired(&self, b: &mut String, limits: &Limits, notes: &mut Vec<String>) {
        let total = self.retired.len() as u64 + self.retired_dropped;
        if total == 0 {
            return;
        }
        let shown = &self.retired[self.retired.len().saturating_sub(limits.retired)..];
        let label = format!("retired (latest {} of {total})", shown.len());
        let _ = writeln!(
            b,
            "  subgraph cluster_retired {{\n    label={}; style=dashed; color=grey; fontcolor=grey40;",
            quote(&label)
        );
        for r in shown {
            let kind = format!("{:?}", r.kind).to_lowercase();
            let mut lines = vec![format!("{kind} unit {} · {} · {} B", r.unit, r.tier, r.code_bytes)];
            let mut counts = format!("exits {}", r.exits);
            if let Some(n) = r.entries {
                let _ = write!(counts, ", entries {n}");
            }
            lines.push(counts);
            if let Some((p, g)) = r.parent {
                lines.push(format!("was on unit {p} g{g}"));
            }
            let _ = writeln!(
                b,
                "    r{} [label={}, style=\"rounded,dashed\", color=grey, fontcolor=grey40];",
                r.unit,
                quote(&lines.join("\n"))
            );
        }
        // Rows of four, oldest first (invisible edges; in one rank they would all stack
        // up in one column, in one chain they would make a very wide row).
        for row in shown.chunks(4) {
            for w in row.windows(2) {
                let _ = writeln!(b, "    r{} -> r{} [style=invis];", w[0].unit, w[1].unit);
            }
        }
        b.push_str("  }\n");
        if (shown.len() as u64) < total {
            notes.push(format!("{} retired units not drawn", total - shown.len() as u64));
        }
    }

    /// Exits counted at `guard` of `unit` (one of the drawn units).
    fn exits_at(&self, unit: u32, guard: u32) -> Option<u64> {
        let node = match &self.unit {
            Some(u) if u.unit == unit => u,
            _ => &self.bridges.iter().find(|br| br.node.unit == unit)?.node,
        };
        node.exits.iter().find(|e| e.guard == guard).map(|e| e.count)
    }

    /// The most taken exits of the drawn units, as red edges to one interpreter node
    /// per resume position. A guard with a live bridge is left out: its exits were
    /// taken before the bridge existed (its bridge edge says how many).
    fn draw_exits(&self, b: &mut String, units: &[(&str, &UnitNode)], limits: &Limits, notes: &mut Vec<String>) {
        let bridged: HashSet<(u32, u32)> = self.bridges.iter().filter_map(|br| br.parent).collect();
        let mut all: Vec<(&str, &ExitCount)> = units
            .iter()
            .flat_map(|(id, u)| {
                let unbridged = u.exits.iter().filter(|e| !bridged.contains(&(u.unit, e.guard)));
                unbridged.map(move |e| (*id, e))
            })
            .collect();
        all.sort_by_key(|(id, e)| (std::cmp::Reverse(e.count), *id, e.guard));
        let mut places: HashMap<&str, usize> = HashMap::new();
        for (id, e) in all.iter().take(limits.exit_edges) {
            let next = places.len();
            let place = *places.entry(e.at.as_str()).or_insert_with(|| {
                let label = quote(&format!("interpreter\n{}", e.at));
                let _ = writeln!(b, "  i{next} [shape=plaintext, style=\"\", label={label}];");
                next
            });
            let label = format!("g{} {}\n{} exits", e.guard, e.kind, e.count);
            let _ = writeln!(
                b,
                "  {id} -> i{place} [label={}, color=\"#c62828\", fontcolor=\"#c62828\"];",
                quote(&label)
            );
        }
        if all.len() > limits.exit_edges {
            let rest = &all[limits.exit_edges..];
            let n: u64 = rest.iter().map(|(_, e)| e.count).sum();
            notes.push(format!("{} exit edges not drawn ({n} exits)", rest.len()));
        }
    }
}
