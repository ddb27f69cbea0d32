//! Liveness sets of small compiled functions, at the pcs the JIT asks about: loop
//! headers, the joins after an `if`, calls inside a `try`, `yield`s.

use super::Liveness;
use crate::bytecode::{Code, Instr};
use crate::vm::Vm;

/// Compiles `src` as a module and hands the code object named `name` to `check`.
fn with_function(src: &str, name: &str, check: impl FnOnce(&Code, &Liveness)) {
    let mut vm = Vm::new();
    let ast = crate::parser::parse(src).expect("parses");
    crate::compiler::compile_module(&mut vm, &ast, "t.py").expect("compiles");
    let code = vm.codes.iter().find(|c| c.name == name).expect("the function");
    check(code, &Liveness::of(code));
}

/// The names of the locals live at `pc`.
fn live(code: &Code, lv: &Liveness, pc: usize) -> Vec<String> {
    lv.live_at(pc)
        .filter_map(|i| code.local_names.get(i).cloned())
        .collect()
}

/// The pcs of the instructions `pick` selects.
fn pcs(code: &Code, pick: impl Fn(&Instr) -> bool) -> Vec<usize> {
    (0..code.instrs.len()).filter(|&pc| pick(&code.instrs[pc])).collect()
}

/// The targets of conditional branches (`Br*`), in program order: the joins after `if`s.
fn branch_targets(code: &Code) -> Vec<usize> {
    code.instrs
        .iter()
        .filter(|i| {
            !matches!(
                i,
                Instr::Jump { .. } | Instr::Loop { .. } | Instr::ForIter { .. } | Instr::ForRange { .. }
            )
        })
        .filter_map(|i| i.target().map(usize::from))
        .collect()
}

fn is_for(i: &Instr) -> bool {
    matches!(i, Instr::ForIter { .. } | Instr::ForRange { .. })
}

#[test]
fn a_for_target_is_dead_after_its_last_read() {
    let src = "def f(row):\n    n = 0\n    for x in row:\n        if x is None:\n            n += 1\n    return n\n";
    with_function(src, "f", |code, lv| {
        assert_eq!(live(code, lv, 0), ["row"]);
        let header = pcs(code, is_for)[0];
        assert_eq!(live(code, lv, header), ["n"], "the loop header");
        let join = branch_targets(code)[0];
        assert_eq!(live(code, lv, join), ["n"], "after the if");
        // Where `x is None` is tested, x is read.
        assert!(live(code, lv, header + 1).contains(&"x".to_string()));
    });
}

#[test]
fn a_loop_variable_read_after_the_loop_is_live_at_the_header() {
    let src = "def f(row):\n    x = -1\n    for x in row:\n        pass\n    return x\n";
    with_function(src, "f", |code, lv| {
        assert_eq!(live(code, lv, 0), ["row"], "x is written before any read");
        let header = pcs(code, is_for)[0];
        // The exhausted loop jumps to `return x` without writing x.
        assert_eq!(live(code, lv, header), ["x"]);
    });
}

#[test]
fn a_local_read_only_in_a_handler_is_live_in_the_try_body() {
    let src = "def g(a):\n    return a\n\ndef f(a):\n    t = a * 2\n    try:\n        b = g(a)\n    except Exception:\n        return t\n    return b\n";
    with_function(src, "f", |code, lv| {
        let call = pcs(code, |i| matches!(i, Instr::Call { .. }))[0];
        assert_eq!(
            live(code, lv, call),
            ["t"],
            "the call may raise into the handler (a was copied into the call window)"
        );
        let b = code.local_names.iter().position(|n| n == "b").expect("b") as u16;
        let ret = pcs(code, |i| matches!(i, Instr::Return { src } if *src == b))[0];
        assert_eq!(live(code, lv, ret), ["b"], "after the try");
    });
}

#[test]
fn a_write_inside_a_try_does_not_hide_the_handlers_read() {
    let src = "def g(a):\n    return a\n\ndef f(a):\n    s = 0\n    try:\n        s = 1\n        g(a)\n        s = 2\n        g(a)\n    except Exception:\n        return s\n    return 0\n";
    with_function(src, "f", |code, lv| {
        for call in pcs(code, |i| matches!(i, Instr::Call { .. })) {
            assert!(live(code, lv, call).contains(&"s".to_string()), "pc {call}");
        }
        assert_eq!(live(code, lv, 0), ["a"], "`s = 0` is outside the try");
    });
}

#[test]
fn a_generators_locals_stay_live_across_yield() {
    let src = "def gen(n):\n    k = n * 2\n    yield 1\n    yield k\n    m = 5\n    yield m\n";
    with_function(src, "gen", |code, lv| {
        let yields = pcs(code, |i| matches!(i, Instr::Yield { .. }));
        assert_eq!(yields.len(), 3);
        assert_eq!(live(code, lv, yields[0]), ["k"], "read after the resume");
        assert_eq!(live(code, lv, yields[0] + 1), ["k"], "the resume point");
        assert_eq!(live(code, lv, yields[2]), ["m"]);
        assert!(
            live(code, lv, yields[2] + 1).is_empty(),
            "nothing is read after the last yield"
        );
    });
}

#[test]
fn a_local_whose_type_differs_by_path_dies_at_its_last_read() {
    let src = "def f(p, q):\n    if p is None:\n        p = 0.25\n    y = p + q\n    if y < 2.0:\n        y = 2.0\n    return y\n";
    with_function(src, "f", |code, lv| {
        let joins = branch_targets(code);
        assert_eq!(joins.len(), 2);
        assert_eq!(live(code, lv, joins[0]), ["p", "q"]);
        assert_eq!(live(code, lv, joins[1]), ["y"]);
    });
}

#[test]
fn a_while_loop_carries_what_the_next_iteration_reads() {
    let src = "def f(n):\n    i = 0\n    prev = 0\n    while i < n:\n        cur = i * 2\n        if cur > prev:\n            prev = cur\n        i += 1\n    return prev\n";
    with_function(src, "f", |code, lv| {
        let back = pcs(code, |i| matches!(i, Instr::Loop { .. }))[0];
        let Instr::Loop { t } = code.instrs[back] else {
            unreachable!()
        };
        let mut at_header = live(code, lv, t as usize);
        at_header.sort();
        assert_eq!(at_header, ["i", "n", "prev"], "cur is written before it is read");
    });
}

#[test]
fn a_with_target_read_after_the_block_is_live_in_it() {
    let src = "class C:\n    def __enter__(self):\n        return 1\n    def __exit__(self, a, b, c):\n        return False\n\ndef f():\n    with C() as v:\n        w = 2\n    return v + w\n";
    with_function(src, "f", |code, lv| {
        let exit = pcs(code, |i| matches!(i, Instr::WithExit { .. }))[0];
        let mut at_exit = live(code, lv, exit);
        at_exit.sort();
        assert_eq!(at_exit, ["v", "w"]);
    });
}

#[test]
fn a_conditional_expressions_value_is_live_across_its_join() {
    let src = "def f(i, c):\n    b = None if c else i * 2\n    return b\n";
    with_function(src, "f", |code, lv| {
        let join = pcs(code, |i| matches!(i, Instr::Jump { .. }))
            .into_iter()
            .filter_map(|pc| code.instrs[pc].target())
            .next()
            .expect("the jump over the else arm") as usize;
        let Instr::Move { src, .. } = code.instrs[join] else {
            panic!("the join stores the value: {:?}", code.instrs[join]);
        };
        assert!(src >= code.nlocals, "the value is in a temporary");
        assert!(lv.is_live(join, src as usize));
        assert!(
            live(code, lv, join).is_empty(),
            "no local is read before `b` is written"
        );
    });
}

#[test]
fn the_poisoner_overwrites_dead_slots_only() {
    let src = "def f(row):\n    n = 0\n    for x in row:\n        if x is None:\n            n += 1\n    return n\n";
    with_function(src, "f", |code, lv| {
        let header = pcs(code, is_for)[0];
        let mut frame = vec![crate::Value::int(7); code.nslots as usize];
        let mut p = super::Poisoner::default();
        // SAFETY: `frame` has the code's nslots values.
        unsafe { p.poison(code, header, frame.as_mut_ptr()) };
        for (i, v) in frame.iter().enumerate() {
            assert_eq!(v.as_int() == super::POISON, !lv.is_live(header, i), "slot {i}");
        }
        let poisoned = |name: &str| {
            frame[code.local_names.iter().position(|n| n == name).expect("local")].as_int() == super::POISON
        };
        assert!(poisoned("row") && poisoned("x") && !poisoned("n"));
        let Instr::ForIter { it, .. } = code.instrs[header] else {
            panic!("a for loop")
        };
        assert_eq!(frame[it as usize].as_int(), 7, "the iterator is live");
    });
}
