//! Bridges from exits that hold virtual objects: the exit that gets hot rebuilds two
//! objects pointing at each other that escape analysis kept virtual in the loop. The
//! bridge is recorded from the materialized state, adapted to allocate the objects
//! at its entry from the exit values, optimized (the objects are virtual again),
//! attached and taken natively.
//!
//! ```text
//! main(i, n, lim, s):                    helper(x, lim) -> i64:
//!   0: s += helper(i, lim)   (header)      0: a = new Node       1: b = new Node
//!   1: i = i + 1                           2: a.next = b; b.next = a; a.val = x; b.val = 2x
//!   2: if i < n goto 0                     3: if x < lim goto 4 else 5
//!                                          4: return x + 1
//!                                          5: return a.next.next.val + b.val   (= 3x)
//! ```
//! The loop is recorded while `x < lim`; from `i = lim` on, the guard at helper@3
//! fails every iteration, with `a` and `b` virtual in its snapshot.

use leones::engine::{Engine, EngineConfig, Entered, FrameRef, HeaderAction, HeapMaterializer};
use leones_ir::interp::{Heap, Val};
use leones_ir::{BinaryOp, MemType, Type};
use leones_tracer::{Abort, FieldRef, LayoutRef, Location, LogConfig, Params, Recorder, Registry};

#[path = "support/nodes.rs"]
mod nodes;
use nodes::{addr, int, world, World};

#[derive(Clone, Debug, PartialEq)]
enum Frame {
    Main { pc: u32, i: i64, n: i64, lim: i64, s: i64 },
    Helper { pc: u32, x: i64, lim: i64, a: u64, b: u64 },
}

/// Reports one step to the recorder, if one is under way; aborts it on failure.
fn rec(engine: &mut Option<&mut Engine>, f: impl FnOnce(&mut Recorder) -> Result<(), Abort>) {
    let Some(e) = engine.as_deref_mut() else { return };
    let Some(r) = e.recorder() else { return };
    if let Err(why) = f(r) {
        e.abort_recording(why);
    }
}

/// Runs the program (with compiled code if given an engine); the final `(i, s)`.
fn run(w: &World, heap: &mut Heap, mut engine: Option<&mut Engine>, n: i64, lim: i64) -> (i64, i64) {
    let mut stack = vec![Frame::Main {
        pc: 0,
        i: 0,
        n,
        lim,
        s: 0,
    }];
    let mut resumed = false;
    loop {
        let just_resumed = std::mem::take(&mut resumed);
        let top = stack.last().cloned().unwrap();
        match top {
            Frame::Main { pc: 0, i, n, lim, s } => {
                if let (Some(e), false) = (engine.as_deref_mut(), just_resumed) {
                    let slots = [i, n, lim, s].map(|x| Some(Val::I64(x)));
                    if e.on_loop_header(Location(0), w.main, 0, &slots) == HeaderAction::Enter {
                        let mut mem = HeapMaterializer { registry: &w.reg, heap };
                        if let Entered::Exit(x) = e.enter(Location(0), &slots, &mut mem).unwrap() {
                            stack = x
                                .frames
                                .iter()
                                .map(|f| {
                                    let v = &f.slots;
                                    if f.frame == w.main {
                                        let (i, n, lim, s) = (int(v[0]), int(v[1]), int(v[2]), int(v[3]));
                                        Frame::Main { pc: f.pc, i, n, lim, s }
                                    } else {
                                        let (x, lim, a, b) = (int(v[0]), int(v[1]), addr(v[2]), addr(v[3]));
                                        Frame::Helper { pc: f.pc, x, lim, a, b }
                                    }
                                })
                                .collect();
                            resumed = true;
                            continue;
                        }
                    }
                }
                rec(&mut engine, |r| {
                    r.set_pc(0)?;
                    let (x, l) = (r.slot(0)?, r.slot(2)?);
                    r.push_frame(w.helper, 1, &[x, l])
                });
                *stack.last_mut().unwrap() = Frame::Main { pc: 1, i, n, lim, s };
                stack.push(Frame::Helper {
                    pc: 0,
                    x: i,
                    lim,
                    a: 0,
                    b: 0,
                });
            }
            Frame::Main { pc: 1, i, n, lim, s } => {
                rec(&mut engine, |r| {
                    r.set_pc(1)?;
                    let (a, one) = (r.slot(0)?, r.constant(1i64));
                    let v = r.binary(BinaryOp::IAdd, a, one)?;
                    r.set_slot(0, v)
                });
                *stack.last_mut().unwrap() = Frame::Main {
                    pc: 2,
                    i: i + 1,
                    n,
                    lim,
                    s,
                };
            }
            Frame::Main { pc: 2, i, n, lim, s } => {
                let taken = i < n;
                rec(&mut engine, |r| {
                    r.set_pc(2)?;
                    let (a, b) = (r.slot(0)?, r.slot(1)?);
                    let c = r.binary(BinaryOp::ILt, a, b)?;
                    r.guard(c, taken)
                });
                if !taken {
                    if let Some(e) = engine.as_deref_mut() {
                        if e.is_recording() {
                            e.abort_recording(Abort::Host("the program stopped".into()));
                        }
                    }
                    return (i, s);
                }
                *stack.last_mut().unwrap() = Frame::Main { pc: 0, i, n, lim, s };
            }
            Frame::Main { pc, .. } => panic!("main has no pc {pc}"),
            Frame::Helper { pc, x, lim, a, b } => {
                let next = match pc {
                    0 | 1 => {
                        let o = heap.alloc_object(&w.reg.layout_descr(w.node).unwrap());
                        rec(&mut engine, |r| {
                            r.set_pc(pc)?;
                            let t = r.new_object(w.node)?;
                            r.set_slot(2 + pc as usize, t)
                        });
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
                        rec(&mut engine, |r| {
                            r.set_pc(2)?;
                            let (tx, ta, tb) = (r.slot(0)?, r.slot(2)?, r.slot(3)?);
                            r.setfield(ta, w.next, tb)?;
                            r.setfield(tb, w.next, ta)?;
                            r.setfield(ta, w.val, tx)?;
                            let two = r.constant(2i64);
                            let x2 = r.binary(BinaryOp::IMul, tx, two)?;
                            r.setfield(tb, w.val, x2)
                        });
                        Frame::Helper { pc: 3, x, lim, a, b }
                    }
                    3 => {
                        let taken = x < lim;
                        rec(&mut engine, |r| {
                            r.set_pc(3)?;
                            let (tx, tl) = (r.slot(0)?, r.slot(1)?);
                            let c = r.binary(BinaryOp::ILt, tx, tl)?;
                            r.guard(c, taken)
                        });
                        let pc = if taken { 4 } else { 5 };
                        Frame::Helper { pc, x, lim, a, b }
                    }
                    4 | 5 => {
                        let load = |p: u64, mt| heap.load(p, mt).unwrap();
                        let ret = if pc == 4 {
                            x + 1
                        } else {
                            let b2 = load(a + 8, MemType::Ref).as_addr().unwrap();
                            let a2 = load(b2 + 8, MemType::Ref).as_addr().unwrap();
                            let v1 = load(a2 + 16, MemType::I64).as_i64().unwrap();
                            let v2 = load(b + 16, MemType::I64).as_i64().unwrap();
                            v1.wrapping_add(v2)
                        };
                        rec(&mut engine, |r| {
                            r.set_pc(pc)?;
                            let t = if pc == 4 {
                                let (tx, one) = (r.slot(0)?, r.constant(1i64));
                                r.binary(BinaryOp::IAdd, tx, one)?
                            } else {
                                let (ta, tb) = (r.slot(2)?, r.slot(3)?);
                                let b2 = r.getfield(ta, w.next)?;
                                let a2 = r.getfield(b2, w.next)?;
                                let v1 = r.getfield(a2, w.val)?;
                                let v2 = r.getfield(tb, w.val)?;
                                r.binary(BinaryOp::IAdd, v1, v2)?
                            };
                            r.pop_frame()?;
                            let s = r.slot(3)?;
                            let s2 = r.binary(BinaryOp::IAdd, s, t)?;
                            r.set_slot(3, s2)
                        });
                        stack.pop();
                        let Some(Frame::Main { i, n, lim, s, .. }) = stack.last().cloned() else {
                            panic!()
                        };
                        let s = s.wrapping_add(ret);
                        *stack.last_mut().unwrap() = Frame::Main { pc: 1, i, n, lim, s };
                        continue;
                    }
                    _ => unreachable!(),
                };
                *stack.last_mut().unwrap() = next;
            }
        }
    }
}

#[test]
fn a_bridge_from_an_exit_holding_virtual_objects_is_attached_and_runs_natively() {
    let w = world(4);
    let (n, lim) = (1000, 10);
    let mut heap = Heap::new();
    let want = run(&w, &mut heap, None, n, lim);
    let s_want: i64 = (0..lim).map(|x| x + 1).sum::<i64>() + (lim..n).map(|x| 3 * x).sum::<i64>();
    assert_eq!(want, (n, s_want));

    let log = std::env::temp_dir().join(format!("leones-engine-bridges-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let config = EngineConfig {
        log: LogConfig {
            opt: true,
            file: Some(log.clone()),
            ..LogConfig::default()
        },
        ..EngineConfig::new(Params::parse("background=off,threshold=3,bridge_threshold=2,merge=off").unwrap())
    };
    let mut engine = Engine::with_config(w.reg.clone(), config).unwrap();
    let mut heap = Heap::new();
    let got = run(&w, &mut heap, Some(&mut engine), n, lim);
    assert_eq!(got, want);
    let s = engine.stats();
    assert_eq!(
        (s.loops_compiled, s.bridges_attached, s.bridges_unattachable),
        (1, 1, 0),
        "{s:?}"
    );
    assert_eq!(s.bridges_from_virtuals, 1, "{s:?}");
    assert!(s.bridge_entries > 900, "the bridge runs natively: {s:?}");
    assert!(s.exits < 10, "{s:?}");
    // The bridge allocates the objects at its entry, and escape analysis removes them
    // again: only interpreted iterations and exits allocate.
    assert!(heap.allocation_count() < 60, "{} allocations", heap.allocation_count());
    let text = std::fs::read_to_string(&log).unwrap();
    let whole = format!("\n{text}");
    let bridge = whole
        .split("\n; ")
        .find(|t| t.starts_with("optimized") && t.contains("trace bridge_to_"))
        .expect("the optimized bridge is logged");
    assert!(!bridge.contains(" new "), "allocations left in the bridge\n{bridge}");
    let _ = std::fs::remove_file(&log);
}

#[test]
fn many_shapes_of_the_virtual_bridge_agree_with_the_interpreter() {
    let w = world(4);
    for (n, lim) in [(50, 0), (50, 7), (300, 40), (200, 199), (5, 3)] {
        let want = run(&w, &mut Heap::new(), None, n, lim);
        for params in ["threshold=2,bridge_threshold=1", "threshold=3,bridge_threshold=4"] {
            let config = EngineConfig::new(Params::parse(params).unwrap());
            let mut engine = Engine::with_config(w.reg.clone(), config).unwrap();
            let got = run(&w, &mut Heap::new(), Some(&mut engine), n, lim);
            assert_eq!(got, want, "n {n}, lim {lim}, {params}: {:?}", engine.stats());
            let s = engine.stats();
            assert_eq!(
                (s.native_faults, s.backend_failures, s.opt_failures),
                (0, 0, 0),
                "{s:?}"
            );
        }
    }
}

/// A one-frame host whose loop guards an object's class at its header and again on
/// the path the bridge takes:
///
/// ```text
/// frame (i, n, lim, s, o):
///   0: s += o.val            (header; guard_class o, Box)
///   1: if i < lim goto 2 else 3
///   2: s += 1; goto 4
///   3: s += 2 * o.val        (guard_class o, Box again: a method call on o)
///   4: i += 1
///   5: if i < n goto 0
/// ```
/// The bridge from the guard at 1 re-checks `o`'s class at 3; the parent proved it at
/// 0, so the bridge is optimized without the check.
fn run_boxed(engine: Option<&mut Engine>, n: i64, lim: i64, val: i64) -> (i64, i64) {
    let reg = engine.as_ref().map(|e| e.registry().clone()).unwrap_or_default();
    let (frame, boxl, field) = boxed_world(&reg);
    let mut engine = engine;
    let mut heap = Heap::new();
    let o = heap.alloc_object(&reg.layout_descr(boxl).unwrap());
    heap.store(o + 8, MemType::I64, Val::I64(val)).unwrap();
    let (mut i, mut s, mut pc) = (0i64, 0i64, 0u32);
    let mut resumed = false;
    loop {
        let just_resumed = std::mem::take(&mut resumed);
        if pc == 0 && !just_resumed {
            if let Some(e) = engine.as_deref_mut() {
                let slots = [
                    Some(Val::I64(i)),
                    Some(Val::I64(n)),
                    Some(Val::I64(lim)),
                    Some(Val::I64(s)),
                    Some(Val::Ref(o)),
                ];
                if e.on_loop_header(Location(0), frame, 0, &slots) == HeaderAction::Enter {
                    let mut mem = HeapMaterializer {
                        registry: &reg,
                        heap: &mut heap,
                    };
                    if let Entered::Exit(x) = e.enter(Location(0), &slots, &mut mem).unwrap() {
                        let f = &x.frames[0];
                        (i, s, pc) = (int(f.slots[0]), int(f.slots[3]), f.pc);
                        assert_eq!(addr(f.slots[4]), o);
                        resumed = true;
                        continue;
                    }
                }
            }
        }
        let class = heap.load(o, MemType::I64).unwrap().as_i64().unwrap();
        assert_eq!(class, 0xb0c5);
        let v = heap.load(o + 8, MemType::I64).unwrap().as_i64().unwrap();
        let taken = match pc {
            1 => i < lim,
            5 => i + 1 < n,
            _ => false,
        };
        rec(&mut engine, |r| {
            r.set_pc(pc)?;
            match pc {
                0 | 3 => {
                    let to = r.slot(4)?;
                    r.guard_class(to, boxl)?;
                    let mut t = r.getfield(to, field)?;
                    if pc == 3 {
                        let two = r.constant(2i64);
                        t = r.binary(BinaryOp::IMul, t, two)?;
                    }
                    let ts = r.slot(3)?;
                    let ts = r.binary(BinaryOp::IAdd, ts, t)?;
                    r.set_slot(3, ts)
                }
                2 | 4 => {
                    let (d, k) = if pc == 2 { (3, 1i64) } else { (0, 1i64) };
                    let (a, k) = (r.slot(d)?, r.constant(k));
                    let t = r.binary(BinaryOp::IAdd, a, k)?;
                    r.set_slot(d, t)
                }
                1 => {
                    let (a, b) = (r.slot(0)?, r.slot(2)?);
                    let c = r.binary(BinaryOp::ILt, a, b)?;
                    r.guard(c, taken)
                }
                _ => {
                    // 5: i was incremented at 4; compare the new i with n.
                    let (a, b) = (r.slot(0)?, r.slot(1)?);
                    let c = r.binary(BinaryOp::ILt, a, b)?;
                    r.guard(c, i < n)
                }
            }
        });
        pc = match pc {
            0 => {
                s = s.wrapping_add(v);
                1
            }
            1 => {
                if taken {
                    2
                } else {
                    3
                }
            }
            2 => {
                s = s.wrapping_add(1);
                4
            }
            3 => {
                s = s.wrapping_add(2 * v);
                4
            }
            4 => {
                i += 1;
                5
            }
            _ => {
                if i < n {
                    0
                } else {
                    if let Some(e) = engine.as_deref_mut() {
                        if e.is_recording() {
                            e.abort_recording(Abort::Host("the program stopped".into()));
                        }
                    }
                    return (i, s);
                }
            }
        };
    }
}

/// The boxed host's frame, layout and field, registered once per registry.
fn boxed_world(reg: &Registry) -> (FrameRef, LayoutRef, FieldRef) {
    let frame = reg.frame("boxed", 3, 5).unwrap();
    let l = reg.layout("Box", 16, Some(0xb0c5)).unwrap();
    let f = reg.field(l, "val", 8, Type::I64, false).unwrap();
    (frame, l, f)
}

#[test]
fn a_bridge_drops_the_class_check_its_parent_already_made() {
    let (n, lim, val) = (1000, 10, 7);
    let want = run_boxed(None, n, lim, val);
    assert_eq!(want, (n, 7 * n + lim + 14 * (n - lim)));

    let log = std::env::temp_dir().join(format!("leones-engine-facts-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let config = EngineConfig {
        log: LogConfig {
            trace: true,
            opt: true,
            file: Some(log.clone()),
            ..LogConfig::default()
        },
        ..EngineConfig::new(Params::parse("background=off,threshold=3,bridge_threshold=2,merge=off").unwrap())
    };
    let reg = Registry::new();
    boxed_world(&reg);
    let mut engine = Engine::with_config(reg, config).unwrap();
    let got = run_boxed(Some(&mut engine), n, lim, val);
    assert_eq!(got, want);
    let s = engine.stats();
    assert_eq!((s.loops_compiled, s.bridges_attached), (1, 1), "{s:?}");
    assert!(s.bridge_entries > 900, "{s:?}");

    let text = std::fs::read_to_string(&log).unwrap();
    // Log records start with `; what` lines.
    let section = |head: &str| -> String {
        let whole = format!("\n{text}");
        let part = whole
            .split("\n; ")
            .find(|t| t.starts_with(head) && t.contains("trace bridge_to_"));
        part.unwrap_or_else(|| panic!("no {head} bridge in\n{text}"))
            .to_string()
    };
    let recorded = section("recorded");
    let optimized = section("optimized");
    assert!(recorded.contains("guard_class"), "{recorded}");
    assert!(
        !optimized.contains("guard_class"),
        "the parent's fact was not used:\n{optimized}"
    );
    assert!(text.contains("; entry facts [(4, Class("), "{text}");
    let _ = std::fs::remove_file(&log);
}
