//! An exit from native code that rebuilds two frames (the loop's and an inlined
//! callee's) and a virtual object graph with a cycle, recorded through the engine's
//! recorder by a small host written here.
//!
//! ```text
//! main(i, n, lim):                      helper(x, lim) -> i64:
//!   0: i = helper(i, lim)   (header)      0: a = new Node       1: b = new Node
//!   2: if i < n goto 0                    2: a.next = b; b.next = a; a.val = x; b.val = 2x
//!                                         3: if x < lim goto 4 else 5
//!                                         4: return x + 1
//!                                         5: return a.next.next.val + 1000   (slow path)
//! ```
//! Escape analysis keeps `a` and `b` virtual in the compiled loop; when `x` reaches
//! `lim` the guard at helper@3 fails natively and the exit must rebuild `main@1`,
//! `helper@3` and the two objects pointing at each other.

use leones::engine::{Engine, EngineConfig, Entered, HeaderAction, HeapMaterializer};
use leones_ir::interp::{Heap, Val};
use leones_ir::{BinaryOp, MemType};
use leones_tracer::{Abort, Location, LogConfig, Params};

#[path = "support/nodes.rs"]
mod nodes;
use nodes::{addr, int, world, World};

#[derive(Clone, Debug, PartialEq)]
enum Frame {
    Main { pc: u32, i: i64, n: i64, lim: i64 },
    Helper { pc: u32, x: i64, lim: i64, a: u64, b: u64 },
}

/// Runs the program; with an engine, compiled code runs the loop. Returns the final
/// `i` and every exit the engine handed back.
fn run(w: &World, heap: &mut Heap, mut engine: Option<&mut Engine>) -> (i64, Vec<Entered>) {
    let (n, lim) = (1000, 700);
    let mut stack = vec![Frame::Main { pc: 0, i: 0, n, lim }];
    let mut exits = Vec::new();
    let mut resumed = false;
    let load = |heap: &Heap, addr: u64, off: u64, mt| heap.load(addr + off, mt).unwrap();
    loop {
        let just_resumed = std::mem::take(&mut resumed);
        let top = stack.last().cloned().unwrap();
        match top {
            Frame::Main { pc: 0, i: iv, n, lim } => {
                if let (Some(e), false) = (engine.as_deref_mut(), just_resumed) {
                    let slots = [Some(Val::I64(iv)), Some(Val::I64(n)), Some(Val::I64(lim))];
                    if e.on_loop_header(Location(0), w.main, 0, &slots) == HeaderAction::Enter {
                        let mut mem = HeapMaterializer { registry: &w.reg, heap };
                        let out = e.enter(Location(0), &slots, &mut mem).unwrap();
                        if let Entered::Exit(x) = &out {
                            stack = x
                                .frames
                                .iter()
                                .map(|f| {
                                    let s = &f.slots;
                                    if f.frame == w.main {
                                        Frame::Main {
                                            pc: f.pc,
                                            i: int(s[0]),
                                            n: int(s[1]),
                                            lim: int(s[2]),
                                        }
                                    } else {
                                        Frame::Helper {
                                            pc: f.pc,
                                            x: int(s[0]),
                                            lim: int(s[1]),
                                            a: addr(s[2]),
                                            b: addr(s[3]),
                                        }
                                    }
                                })
                                .collect();
                            exits.push(out);
                            resumed = true;
                            continue;
                        }
                    }
                }
                if let Some(rec) = engine.as_deref_mut().and_then(|e| e.recorder()) {
                    let step = (|| {
                        rec.set_pc(0)?;
                        let (x, l) = (rec.slot(0)?, rec.slot(2)?);
                        rec.push_frame(w.helper, 1, &[x, l])
                    })();
                    if let Err(why) = step {
                        engine.as_deref_mut().unwrap().abort_recording(why);
                    }
                }
                *stack.last_mut().unwrap() = Frame::Main { pc: 1, i: iv, n, lim };
                stack.push(Frame::Helper {
                    pc: 0,
                    x: iv,
                    lim,
                    a: 0,
                    b: 0,
                });
            }
            Frame::Main { pc: 2, i: iv, n, lim } => {
                let taken = iv < n;
                if let Some(rec) = engine.as_deref_mut().and_then(|e| e.recorder()) {
                    let step = (|| {
                        rec.set_pc(2)?;
                        let (a, b) = (rec.slot(0)?, rec.slot(1)?);
                        let c = rec.binary(BinaryOp::ILt, a, b)?;
                        rec.guard(c, taken)
                    })();
                    if let Err(why) = step {
                        engine.as_deref_mut().unwrap().abort_recording(why);
                    }
                }
                if !taken {
                    if let Some(e) = engine.as_deref_mut() {
                        if e.is_recording() {
                            e.abort_recording(Abort::Host("the program stopped".into()));
                        }
                    }
                    return (iv, exits);
                }
                *stack.last_mut().unwrap() = Frame::Main { pc: 0, i: iv, n, lim };
            }
            Frame::Main { pc, .. } => panic!("main has no pc {pc} to run (it waits at 1 for the callee)"),
            Frame::Helper { pc, x, lim, a, b } => {
                let rec = engine.as_deref_mut().and_then(|e| e.recorder());
                let mut abort = None;
                let next = match pc {
                    0 | 1 => {
                        let o = heap.alloc_object(&w.reg.layout_descr(w.node).unwrap());
                        if let Some(rec) = rec {
                            let step = (|| {
                                rec.set_pc(pc)?;
                                let t = rec.new_object(w.node)?;
                                rec.set_slot(2 + pc as usize, t)
                            })();
                            abort = step.err();
                        }
                        if pc == 0 {
                            Frame::Helper { pc: 1, x, lim, a: o, b }
                        } else {
                            Frame::Helper { pc: 2, x, lim, a, b: o }
                        }
                    }
                    2 => {
                        heap.store(a + 8, MemType::Ref, Val::Ref(b)).unwrap();
                        heap.store(b + 8, MemType::Ref, Val::Ref(a)).unwrap();
                        heap.store(a + 16, MemType::I64, Val::I64(x)).unwrap();
                        heap.store(b + 16, MemType::I64, Val::I64(x.wrapping_mul(2))).unwrap();
                        if let Some(rec) = rec {
                            let step = (|| {
                                rec.set_pc(2)?;
                                let (tx, ta, tb) = (rec.slot(0)?, rec.slot(2)?, rec.slot(3)?);
                                rec.setfield(ta, w.next, tb)?;
                                rec.setfield(tb, w.next, ta)?;
                                rec.setfield(ta, w.val, tx)?;
                                let two = rec.constant(2i64);
                                let x2 = rec.binary(BinaryOp::IMul, tx, two)?;
                                rec.setfield(tb, w.val, x2)
                            })();
                            abort = step.err();
                        }
                        Frame::Helper { pc: 3, x, lim, a, b }
                    }
                    3 => {
                        let taken = x < lim;
                        if let Some(rec) = rec {
                            let step = (|| {
                                rec.set_pc(3)?;
                                let (tx, tl) = (rec.slot(0)?, rec.slot(1)?);
                                let c = rec.binary(BinaryOp::ILt, tx, tl)?;
                                rec.guard(c, taken)
                            })();
                            abort = step.err();
                        }
                        Frame::Helper {
                            pc: if taken { 4 } else { 5 },
                            x,
                            lim,
                            a,
                            b,
                        }
                    }
                    4 | 5 => {
                        let ret = if pc == 4 {
                            x + 1
                        } else {
                            let Val::Ref(b2) = load(heap, a, 8, MemType::Ref) else {
                                panic!()
                            };
                            let Val::Ref(a2) = load(heap, b2, 8, MemType::Ref) else {
                                panic!()
                            };
                            load(heap, a2, 16, MemType::I64).as_i64().unwrap() + 1000
                        };
                        let mut ret_tv = None;
                        if let Some(rec) = rec {
                            let step = (|| {
                                rec.set_pc(pc)?;
                                if pc == 5 {
                                    return Err(rec.abort("the slow path is not traced"));
                                }
                                let (tx, one) = (rec.slot(0)?, rec.constant(1i64));
                                let t = rec.binary(BinaryOp::IAdd, tx, one)?;
                                rec.pop_frame()?;
                                Ok(t)
                            })();
                            match step {
                                Ok(t) => ret_tv = Some(t),
                                Err(e) => abort = Some(e),
                            }
                        }
                        stack.pop();
                        let Some(Frame::Main { n, lim, .. }) = stack.last().cloned() else {
                            panic!()
                        };
                        if let (Some(t), Some(rec)) = (ret_tv, engine.as_deref_mut().and_then(|e| e.recorder())) {
                            if let Err(e) = rec.set_slot(0, t) {
                                abort = Some(e);
                            }
                        }
                        *stack.last_mut().unwrap() = Frame::Main { pc: 2, i: ret, n, lim };
                        if let Some(why) = abort {
                            engine.as_deref_mut().unwrap().abort_recording(why);
                        }
                        continue;
                    }
                    _ => unreachable!(),
                };
                if let Some(why) = abort {
                    engine.as_deref_mut().unwrap().abort_recording(why);
                }
                *stack.last_mut().unwrap() = next;
            }
        }
    }
}

#[test]
fn an_exit_rebuilds_two_frames_and_a_cyclic_virtual_graph() {
    let w = world(3);
    let mut heap = Heap::new();
    let (want, none) = run(&w, &mut heap, None);
    assert_eq!((want, none.len()), (1700, 0));

    let log = std::env::temp_dir().join(format!("leones-engine-frames-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let config = EngineConfig {
        log: LogConfig {
            trace: true,
            opt: true,
            exit: true,
            file: Some(log.clone()),
            ..LogConfig::default()
        },
        ..EngineConfig::new(Params::parse("background=off,threshold=3").unwrap())
    };
    let mut engine = Engine::with_config(w.reg.clone(), config).unwrap();
    let mut heap = Heap::new();
    let (got, exits) = run(&w, &mut heap, Some(&mut engine));
    assert_eq!(got, want);
    let s = engine.stats();
    assert_eq!((s.loops_compiled, s.loop_entries, s.exits), (1, 1, 1), "{s:?}");

    // The one exit: main@1 (waiting for the callee) and helper@3 with x = lim = 700.
    let [Entered::Exit(exit)] = &exits[..] else {
        panic!("{exits:?}")
    };
    assert!(!exit.interrupted);
    assert_eq!(exit.frames.len(), 2);
    let (m, h) = (&exit.frames[0], &exit.frames[1]);
    assert_eq!((m.frame, m.pc), (w.main, 1));
    assert_eq!(
        m.slots,
        vec![Some(Val::I64(700)), Some(Val::I64(1000)), Some(Val::I64(700))]
    );
    assert_eq!((h.frame, h.pc), (w.helper, 3));
    assert_eq!(&h.slots[..2], &[Some(Val::I64(700)), Some(Val::I64(700))]);
    let (a, b) = (addr(h.slots[2]), addr(h.slots[3]));
    assert!(a != 0 && b != 0 && a != b);
    // The cycle, rebuilt: a.next = b, b.next = a, and the values.
    assert_eq!(heap.load(a + 8, MemType::Ref).unwrap(), Val::Ref(b));
    assert_eq!(heap.load(b + 8, MemType::Ref).unwrap(), Val::Ref(a));
    assert_eq!(heap.load(a + 16, MemType::I64).unwrap(), Val::I64(700));
    assert_eq!(heap.load(b + 16, MemType::I64).unwrap(), Val::I64(1400));
    assert_eq!(heap.load(a, MemType::I64).unwrap(), Val::I64(0x4e0de), "the class word");

    // The objects were virtual in native code: only the interpreted iterations (before
    // and while recording) and the exit's two materializations allocated.
    assert!(heap.allocation_count() < 20, "{} allocations", heap.allocation_count());
    let text = std::fs::read_to_string(&log).unwrap();
    let optimized = text.split("; optimized").nth(1).expect("the optimized trace is logged");
    let optimized = optimized.split("\n; ").next().unwrap();
    assert!(!optimized.contains(" new "), "allocations left in\n{optimized}");
    assert!(
        optimized.contains("&0") && optimized.contains("&1"),
        "no virtuals in\n{optimized}"
    );
    assert!(text.contains("; recorded"), "{text}");
    assert!(text.contains("; exit loop0 guard"), "{text}");
    let _ = std::fs::remove_file(&log);
}
