//! Shared test support: the differential oracle and a pure-call evaluator backed by
//! the generator's test host.

#![allow(dead_code)]

use leones_ir::gen::{test_host, GenConfig, TestCase};
use leones_ir::interp::{describe_outcome, ExitValue, Fault, Heap, HostCalls, Interpreter, Outcome, Val};
use leones_ir::{CallDescr, Const, Trace};
use leones_opt::PureCallEvaluator;

pub mod pieces;
#[allow(unused_imports)]
pub use pieces::{parse_vals, run_pieces, run_region};

/// Evaluates pure calls with the test host's implementations.
pub struct TestHostEval;

impl PureCallEvaluator for TestHostEval {
    fn eval(&self, call: &CallDescr, args: &[Const]) -> Option<Const> {
        let mut host = test_host();
        let mut heap = Heap::new();
        let vals: Vec<Val> = args.iter().map(|k| Val::from_const(*k)).collect();
        let r = host.call(&mut heap, call, &vals).ok()?;
        if r.raised {
            return None;
        }
        r.value.map(|v| v.to_const())
    }
}

/// What a run of `trace` on the case's inputs leaves behind, as canonical text: how it
/// left (finish values / jump target / exit frames, pcs, dead slots, exception flag —
/// not the guard's id, which passes renumber), every value it hands to the host, and
/// the heap reachable from them and from the inputs. Exit virtuals are materialized
/// in the heap first, so a virtual and a real object with the same contents look
/// alike.
pub fn observe(case: &TestCase, trace: &Trace) -> Result<String, Fault> {
    let mut heap = Heap::new();
    let inputs = case.build_inputs(&mut heap);
    let mut interp = Interpreter::new(trace).with_heap(heap).with_host(test_host());
    let outcome = interp.run(&inputs)?;
    let mut heap = interp.into_heap();
    let mut roots = inputs.clone();
    let header = match &outcome {
        Outcome::Finish(vs) => {
            roots.extend(vs);
            format!("finish/{}", vs.len())
        }
        Outcome::Jump { target, args } => {
            roots.extend(args);
            format!("jump {target}/{}", args.len())
        }
        Outcome::Exit(e) => {
            let addrs: Vec<u64> = e
                .virtuals
                .iter()
                .map(|vo| heap.alloc_object(trace.layout(vo.layout)))
                .collect();
            let val = |x: &ExitValue| match x {
                ExitValue::Val(v) => Some(*v),
                ExitValue::Virtual(id) => Some(Val::Ref(addrs[id.index()])),
                ExitValue::Dead => None,
            };
            for (vo, &addr) in e.virtuals.iter().zip(&addrs) {
                for (f, x) in &vo.fields {
                    let fd = trace.field(*f);
                    if let Some(v) = val(x) {
                        heap.store(
                            addr + u64::from(fd.offset),
                            leones_ir::gen::world::mem_type_of(fd.ty),
                            v,
                        )?;
                    }
                }
            }
            let mut h = String::from("exit");
            if e.exception_pending {
                h.push_str(" exception");
            }
            for f in &e.frames {
                h.push_str(&format!(" {}@{}(", trace.frame(f.frame).name, f.pc));
                for s in &f.slots {
                    match val(s) {
                        Some(v) => {
                            roots.push(v);
                            h.push('v')
                        }
                        None => h.push('_'),
                    }
                }
                h.push(')');
            }
            h
        }
    };
    Ok(format!(
        "{header}\n{}",
        describe_outcome(trace, &heap, &Outcome::Finish(roots))
    ))
}

/// What the differential tests generate: everything, regions and loops included.
pub fn differential_config() -> GenConfig {
    GenConfig {
        max_steps: 40,
        ..GenConfig::everything()
    }
}
