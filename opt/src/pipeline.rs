//! The pass manager and the one place that says the pipeline's order.
//!
//! [`optimize`] verifies the input (a bad input is an error before any pass runs),
//! then runs each pass, dropping after each the snapshots no guard refers to any more
//! ([`Trace::remove_unused_snapshots`]: escape analysis re-encodes every guard's
//! snapshot, guard elimination orphans others — on data_driven's regions, three of
//! every four snapshots by the end); with [`OptContext::verify_each_pass`] (on in debug builds and
//! tests) it verifies after every pass and reports a broken trace naming the pass.

use crate::context::OptContext;
use crate::pass::{census, OptError, Pass, PassList, PassStats, Stats};
use crate::passes::{
    branchless::Branchless, cse::Cse, dce::Dce, escape::Escape, fold::Fold, guards::Guards, heap::HeapCache, peel,
    peel::Peel, peel::PeelPolicy,
};
use leones_ir::{verify, Trace};

/// Every pass, by name.
pub static ALL_PASSES: [&dyn Pass; 8] = [&Peel, &Fold, &Cse, &Guards, &HeapCache, &Escape, &Branchless, &Dce];

/// The default order. Loop peeling first, so that everything after it sees the
/// preamble and the loop at once; folding and value numbering feed guard elimination;
/// the heap cache forwards loads (including out of virtual objects' initializing
/// stores); escape analysis then removes allocations; a second round cleans up what
/// escape analysis exposed; branchless rewriting once the arms are as small as they
/// get and the guards have used the facts each arm implies (see its essay); DCE last,
/// which also removes speculated instructions no select kept.
pub fn default_pipeline() -> PassList {
    passes_named(&[
        "peel",
        "fold",
        "cse",
        "guards",
        "heap",
        "escape",
        "fold",
        "cse",
        "guards",
        "heap",
        "branchless",
        "dce",
    ])
    .expect("the default pipeline names real passes")
}

/// The pass called `name`.
pub fn pass_by_name(name: &str) -> Option<&'static dyn Pass> {
    ALL_PASSES.iter().copied().find(|p| p.name() == name)
}

/// The passes called `names`, in that order.
pub fn passes_named(names: &[&str]) -> Result<PassList, OptError> {
    names
        .iter()
        .map(|n| pass_by_name(n.trim()).ok_or_else(|| OptError::UnknownPass(n.to_string())))
        .collect()
}

/// The known pass names, comma-separated.
pub fn pass_names() -> String {
    ALL_PASSES.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

/// Runs `passes` on a copy of `trace`; whether a peeled loop is kept is
/// [`OptContext::peel`]'s to say ([`PeelPolicy`], the `peel` module's essay).
pub fn optimize(trace: &Trace, passes: &PassList, ctx: &OptContext) -> Result<(Trace, Stats), OptError> {
    verify(trace).map_err(OptError::InvalidInput)?;
    let mut t = trace.clone();
    strip_merge_points(&mut t);
    let peels = passes.iter().any(|p| p.name() == Peel.name());
    let unpeeled = || -> PassList { passes.iter().copied().filter(|p| p.name() != Peel.name()).collect() };
    match ctx.peel {
        PeelPolicy::Never if peels => run_passes(t, &unpeeled(), ctx),
        PeelPolicy::WhenItPays if peels => {
            let (peeled, stats) = run_passes(t.clone(), passes, ctx)?;
            let Some(start) = peel::unpaid_loop_start(&peeled) else {
                return Ok((peeled, stats));
            };
            let (flat, flat_stats) = run_passes(t, &unpeeled(), ctx)?;
            if peel::work(&flat.blocks) <= peel::work(&peeled.blocks[start..]) {
                Ok((flat, flat_stats))
            } else {
                Ok((peeled, stats))
            }
        }
        _ => run_passes(t, passes, ctx),
    }
}

/// Runs `passes` on `t` (verified, merge points stripped).
fn run_passes(mut t: Trace, passes: &PassList, ctx: &OptContext) -> Result<(Trace, Stats), OptError> {
    let mut stats = Stats::default();
    for pass in passes {
        let before = census(&t);
        pass.run(&mut t, ctx);
        // Snapshots of removed or rewritten guards: dropped now, so the next pass's
        // whole-trace rewrites do not walk them (escape analysis alone leaves one per
        // guard it re-encodes).
        t.remove_unused_snapshots();
        if ctx.verify_each_pass {
            verify(&t).map_err(|error| OptError::PassBroke {
                pass: pass.name(),
                error,
                trace_text: leones_ir::print(&t),
            })?;
        }
        let after = census(&t);
        stats.passes.push(PassStats {
            pass: pass.name(),
            ops_removed: before.0 - after.0,
            guards_removed: before.1 - after.1,
            allocations_removed: before.2 - after.2,
        });
    }
    Ok((t, stats))
}

/// Removes every `merge_point` (recorder annotations that only region formation reads;
/// see [`crate::region`]). The passes never see them.
pub fn strip_merge_points(t: &mut Trace) {
    for b in &mut t.blocks {
        b.insts.retain(|i| !matches!(i.op, leones_ir::Op::MergePoint(_)));
    }
}

/// The CLI's entry point: parses `src`, runs `passes` (names; `None` for the default
/// pipeline) and returns the canonical text of the result, followed by the stats table
/// as `;` comments when `stats` is set. The default pipeline keeps a peeled loop only
/// when it pays, as the engine does ([`PeelPolicy::WhenItPays`]); named passes run as
/// named.
pub fn opt_text(src: &str, passes: Option<&[&str]>, stats: bool) -> Result<String, OptError> {
    let trace = leones_ir::parse(src).map_err(|e| OptError::Parse(e.to_string()))?;
    let list = match passes {
        Some(names) => passes_named(names)?,
        None => default_pipeline(),
    };
    let ctx = OptContext {
        verify_each_pass: true,
        peel: PeelPolicy::for_pipeline(passes.is_some()),
        ..OptContext::default()
    };
    let (out, st) = optimize(&trace, &list, &ctx)?;
    let mut text = leones_ir::print(&out);
    if stats {
        for line in st.to_string().lines() {
            text.push_str("; ");
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(text)
}
