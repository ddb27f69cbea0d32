//! [`describe_outcome`]: a canonical text for an outcome and the heap it points into,
//! so that two runs (reference vs optimized, interpreter vs native) on two heaps can be
//! compared with `assert_eq!`.

use super::heap::Numbering;
use super::{ExitValue, Heap, Outcome, Val};
use crate::trace::Trace;
use std::fmt::Write;

/// Describes `outcome` canonically. Addresses never appear: every `ref`/`ptr` into the
/// heap is named after the allocation it points into, `@k` (or `@k+off` inside it),
/// numbering allocations in the order they are reached from the outcome's values
/// (in print order), then following pointers in memory. The text ends with a dump of
/// every reachable allocation (see [`Heap::dump_reachable`]).
///
/// ```text
/// exit g1
///   main@7(3, @0, _)
///   helper@2(&0, null)
///   &0 = P{x: 5, next: &0}
/// heap:
/// @0 size 24: 0x51 @0 0x0
/// ```
///
/// The exit line ends with ` exception` when an exception is pending. Frame, layout,
/// field and target names come from `trace`; ids outside its tables print as `?id`.
pub fn describe_outcome(trace: &Trace, heap: &Heap, outcome: &Outcome) -> String {
    let mut roots = Vec::new();
    let mut root = |v: &Val| {
        if let Val::Ref(a) | Val::Ptr(a) = v {
            roots.push(*a);
        }
    };
    match outcome {
        Outcome::Finish(vs) | Outcome::Jump { args: vs, .. } => vs.iter().for_each(&mut root),
        Outcome::Exit(e) => {
            let slots = e.frames.iter().flat_map(|f| f.slots.iter());
            let fields = e.virtuals.iter().flat_map(|vo| vo.fields.iter().map(|(_, x)| x));
            for x in slots.chain(fields) {
                if let ExitValue::Val(v) = x {
                    root(v)
                }
            }
        }
    }
    let n = heap.numbering(roots);
    let d = Describer { heap, n: &n };
    let mut s = String::new();
    match outcome {
        Outcome::Finish(vs) => {
            let _ = writeln!(s, "finish {}", d.vals(vs));
        }
        Outcome::Jump { target, args } => {
            let name = trace
                .targets
                .get(target.index())
                .map_or(format!("?{target}"), |t| t.name.clone());
            let _ = writeln!(s, "jump @{name}({})", d.vals(args));
        }
        Outcome::Exit(e) => {
            let _ = writeln!(
                s,
                "exit {}{}",
                e.guard,
                if e.exception_pending { " exception" } else { "" }
            );
            for f in &e.frames {
                let name = trace
                    .frames
                    .get(f.frame.index())
                    .map_or(format!("?{}", f.frame), |fd| fd.name.clone());
                let slots: Vec<_> = f.slots.iter().map(|x| d.exit_value(x)).collect();
                let _ = writeln!(s, "  {name}@{}({})", f.pc, slots.join(", "));
            }
            for (k, vo) in e.virtuals.iter().enumerate() {
                let layout = trace
                    .layouts
                    .get(vo.layout.index())
                    .map_or(format!("?{}", vo.layout), |l| l.name.clone());
                let fields: Vec<_> = vo
                    .fields
                    .iter()
                    .map(|(f, x)| {
                        let fname = trace
                            .fields
                            .get(f.index())
                            .map_or(format!("?{f}"), |fd| fd.name.clone());
                        format!("{fname}: {}", d.exit_value(x))
                    })
                    .collect();
                let _ = writeln!(s, "  &{k} = {layout}{{{}}}", fields.join(", "));
            }
        }
    }
    s.push_str("heap:\n");
    s.push_str(&heap.dump_numbered(&n));
    s
}

struct Describer<'a> {
    heap: &'a Heap,
    n: &'a Numbering,
}

impl Describer<'_> {
    fn val(&self, v: &Val) -> String {
        match *v {
            Val::Ref(a) if a != 0 => self.heap.name_of(self.n, a).unwrap_or_else(|| v.to_string()),
            Val::Ptr(a) => match self.heap.name_of(self.n, a) {
                Some(name) => format!("ptr({name})"),
                None => v.to_string(),
            },
            _ => v.to_string(),
        }
    }

    fn vals(&self, vs: &[Val]) -> String {
        vs.iter().map(|v| self.val(v)).collect::<Vec<_>>().join(", ")
    }

    fn exit_value(&self, x: &ExitValue) -> String {
        match x {
            ExitValue::Val(v) => self.val(v),
            ExitValue::Virtual(id) => id.to_string(),
            ExitValue::Dead => "_".to_string(),
        }
    }
}
