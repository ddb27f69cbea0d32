//! The oracle for region formation: running a root trace and its arms *unmerged*, one
//! piece after another, the way an engine with plain bridges would — an armed guard
//! that fails runs its arm on the exit's live slots; an arm's `jump @piece__mK(...)`
//! continues piece `piece` *from* its merge point `K` (a suffix of that piece, cut at
//! the merge point, whose inputs are the merge point's slots); `jump @root(...)` starts
//! the root again. The run ends at an unarmed guard's exit, described with the
//! recorded guard it came from, so a region (whose guard ids differ) can be compared.

use leones_ir::interp::{ExitState, ExitValue, Interpreter, Outcome, Val};
use leones_ir::{Inst, JumpTarget, Op, SlotValue, Trace};
use leones_opt::region::Arm;

/// Parses `1, 2.5, true` into values (ints, floats with a `.`/`e`/`inf`/`nan`, bools).
pub fn parse_vals(line: &str) -> Result<Vec<Val>, String> {
    line.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "true" => Ok(Val::Bool(true)),
            "false" => Ok(Val::Bool(false)),
            _ if s.contains(['.', 'e', 'n']) => s.parse().map(Val::F64).map_err(|_| format!("bad value `{s}`")),
            _ => s.parse().map(Val::I64).map_err(|_| format!("bad value `{s}`")),
        })
        .collect()
}

fn describe_exit(piece: usize, guard: u32, e: &ExitState) -> String {
    let frames: Vec<String> = e
        .frames
        .iter()
        .map(|f| {
            let slots: Vec<String> = f
                .slots
                .iter()
                .map(|s| match s {
                    ExitValue::Val(v) => format!("{v:?}"),
                    ExitValue::Virtual(id) => format!("{id}"),
                    ExitValue::Dead => "_".into(),
                })
                .collect();
            format!("@{}({})", f.pc, slots.join(", "))
        })
        .collect();
    format!("exit piece {piece} guard {guard} {}", frames.join(" "))
}

fn live_vals(e: &ExitState) -> Result<Vec<Val>, String> {
    let mut out = Vec::new();
    for f in &e.frames {
        for s in &f.slots {
            match s {
                ExitValue::Val(v) => out.push(*v),
                ExitValue::Dead => {}
                ExitValue::Virtual(_) => return Err("a virtual at a recorded exit".into()),
            }
        }
    }
    Ok(out)
}

/// Piece `t` from its `point`-th merge point on: `block0` takes the merge point's
/// distinct slot values; the root's `jump block0` becomes `finish` (the driver loops).
/// Also returns the number of guards before the cut (to number the suffix's guards).
fn suffix(t: &Trace, point: usize) -> Result<(Trace, u32, Vec<Option<usize>>), String> {
    let insts = &t.blocks[0].insts;
    let at = insts
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i.op, Op::MergePoint(_)))
        .nth(point)
        .map(|(k, _)| k)
        .ok_or("no such merge point")?;
    let guards_before = insts[..at].iter().filter(|i| i.op.is_guard()).count() as u32;
    let Op::MergePoint(s) = insts[at].op else {
        unreachable!()
    };
    let mut s2 = t.clone();
    let mut params = Vec::new();
    let mut slot_param = Vec::new();
    for sv in t.snapshot(s).frames.iter().flat_map(|f| f.slots.iter()) {
        match sv {
            SlotValue::Value(v) => {
                let k = params.iter().position(|p| p == v).unwrap_or_else(|| {
                    params.push(*v);
                    params.len() - 1
                });
                slot_param.push(Some(k));
            }
            SlotValue::Const(_) => slot_param.push(None),
            _ => {}
        }
    }
    // Constants before the cut stay (code after it may use them), except those the
    // merge point's slots carry: those are the suffix's inputs.
    let consts: Vec<Inst> = insts[..at]
        .iter()
        .filter(|i| matches!(i.op, Op::Const(_)) && !i.result.is_some_and(|r| params.contains(&r)))
        .cloned()
        .collect();
    let mut body: Vec<Inst> = consts;
    body.extend(insts[at + 1..].iter().cloned());
    if let Some(last) = body.last_mut() {
        if let Op::Jump(JumpTarget::Block(_), args) = &last.op {
            last.op = Op::Finish(args.clone());
        }
    }
    s2.blocks[0].params = params;
    s2.blocks[0].insts = body;
    leones_ir::verify(&s2).map_err(|e| {
        format!(
            "the suffix of {} at merge point {point}: {e}\n{}",
            t.name,
            leones_ir::print(&s2)
        )
    })?;
    Ok((s2, guards_before, slot_param))
}

/// Runs the pieces unmerged from the root's inputs; see the module docs.
pub fn run_pieces(root: &Trace, arms: &[Arm], inputs: &[Val]) -> Result<String, String> {
    let pieces: Vec<&Trace> = std::iter::once(root).chain(arms.iter().map(|a| a.trace)).collect();
    // (piece, trace to run, guard ordinal offset)
    let mut cur: (usize, Trace, u32) = (0, root.clone(), 0);
    let mut args = inputs.to_vec();
    for _ in 0..10_000 {
        let (p, t, offset) = &cur;
        let outcome = Interpreter::new(t)
            .with_step_limit(1_000_000)
            .run(&args)
            .map_err(|f| format!("piece {p}: {f}"))?;
        match outcome {
            Outcome::Exit(e) => {
                let g = e.guard.index() as u32 + offset;
                match arms.iter().position(|a| a.parent == *p && a.guard == g) {
                    Some(k) => {
                        args = live_vals(&e)?;
                        cur = (k + 1, arms[k].trace.clone(), 0);
                    }
                    None => return Ok(describe_exit(*p, g, &e)),
                }
            }
            Outcome::Finish(vals) => {
                // The root's suffix finished an iteration: start the root again.
                args = vals;
                cur = (0, root.clone(), 0);
            }
            Outcome::Jump { target, args: vals } => {
                let name = t.target(target).name.clone();
                if name == root.name {
                    args = vals;
                    cur = (0, root.clone(), 0);
                    continue;
                }
                let (piece_name, point) = name.rsplit_once("__m").ok_or("a bad target")?;
                let q = pieces
                    .iter()
                    .position(|x| x.name == piece_name)
                    .ok_or("an unknown piece")?;
                let point: usize = point.parse().map_err(|_| "a bad merge point")?;
                let (s, before, slot_param) = suffix(pieces[q], point)?;
                let mut new_args = vec![None; s.blocks[0].params.len()];
                for (v, sp) in vals.iter().zip(&slot_param) {
                    if let Some(k) = sp {
                        new_args[*k] = Some(*v);
                    }
                }
                args = new_args
                    .into_iter()
                    .map(|v| v.ok_or("a missing slot"))
                    .collect::<Result<_, _>>()?;
                cur = (q, s, before);
            }
        }
    }
    Err("no exit after 10000 pieces".into())
}

/// Runs a region until an exit, described by the recorded guard it stands for.
pub fn run_region(t: &Trace, origins: &[(usize, u32)], inputs: &[Val]) -> Result<String, String> {
    let outcome = Interpreter::new(t)
        .with_step_limit(10_000_000)
        .run(inputs)
        .map_err(|f| f.to_string())?;
    let Outcome::Exit(e) = outcome else {
        return Err(format!("the region left without an exit: {outcome:?}"));
    };
    let g = t.guards()[e.guard.index()];
    let origin = t.snapshot(g.snapshot).origin.ok_or("an exit without origin")?;
    let (p, guard) = origins.get(origin as usize).copied().ok_or("an unknown origin")?;
    Ok(describe_exit(p, guard, &e))
}
