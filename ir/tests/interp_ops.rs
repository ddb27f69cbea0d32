//! Reference interpreter: every op family, with the edge cases the semantics pin down.

use leones_ir::interp::{Fault, Heap, Interpreter, Outcome, Site, Val};
use leones_ir::{parse, Block, MemType};

fn run(text: &str, inputs: &[Val]) -> Result<Outcome, Fault> {
    let trace = parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut it = Interpreter::new(&trace);
    it.run(inputs)
}

fn finish1(text: &str, inputs: &[Val]) -> Result<Val, Fault> {
    match run(text, inputs)? {
        Outcome::Finish(vs) if vs.len() == 1 => Ok(vs[0]),
        other => panic!("expected one finish value, got {other:?}"),
    }
}

fn bin(op: &str, a: impl Into<Val>, b: impl Into<Val>) -> Result<Val, Fault> {
    let (a, b) = (a.into(), b.into());
    let text = format!(
        "trace t\n\nblock0(v0: {}, v1: {}):\n    v2 = {op} v0, v1\n    finish v2\n",
        a.ty(),
        b.ty()
    );
    finish1(&text, &[a, b])
}

fn un(op: &str, a: impl Into<Val>) -> Val {
    let a = a.into();
    let text = format!("trace t\n\nblock0(v0: {}):\n    v1 = {op} v0\n    finish v1\n", a.ty());
    finish1(&text, &[a]).unwrap()
}

fn ok(op: &str, a: impl Into<Val>, b: impl Into<Val>) -> Val {
    bin(op, a, b).unwrap()
}

#[test]
fn integer_arithmetic_wraps() {
    assert_eq!(ok("iadd", i64::MAX, 1), Val::I64(i64::MIN));
    assert_eq!(ok("isub", i64::MIN, 1), Val::I64(i64::MAX));
    assert_eq!(ok("imul", i64::MAX, 2), Val::I64(-2));
    assert_eq!(ok("imul", -3, 5), Val::I64(-15));
    assert_eq!(un("ineg", i64::MIN), Val::I64(i64::MIN));
    assert_eq!(un("ineg", 5), Val::I64(-5));
}

#[test]
fn division_truncates_and_wraps() {
    assert_eq!(ok("idiv", 7, -2), Val::I64(-3));
    assert_eq!(ok("idiv", -7, 2), Val::I64(-3));
    assert_eq!(ok("irem", -7, 2), Val::I64(-1));
    assert_eq!(ok("irem", 7, -2), Val::I64(1));
    assert_eq!(ok("idiv", i64::MIN, -1), Val::I64(i64::MIN));
    assert_eq!(ok("irem", i64::MIN, -1), Val::I64(0));
}

#[test]
fn division_by_zero_faults_with_location() {
    for op in ["idiv", "irem"] {
        let e = bin(op, 1, 0).unwrap_err();
        assert_eq!(
            e,
            Fault::DivisionByZero {
                block: Block(0),
                inst: 0
            }
        );
        assert!(e.to_string().contains("block0, instruction 0"), "{e}");
    }
}

#[test]
fn shifts_take_the_amount_mod_64() {
    assert_eq!(ok("ishl", 1, 64), Val::I64(1));
    assert_eq!(ok("ishl", 1, 65), Val::I64(2));
    assert_eq!(ok("ishl", 1, -1), Val::I64(i64::MIN));
    assert_eq!(ok("ishl", 3, 63), Val::I64(i64::MIN));
    assert_eq!(ok("ishr", -8, 1), Val::I64(-4));
    assert_eq!(ok("ishr", -8, 65), Val::I64(-4));
    assert_eq!(ok("ishr", i64::MIN, 63), Val::I64(-1));
    assert_eq!(ok("iushr", -1, 60), Val::I64(15));
    assert_eq!(ok("iushr", -1, 124), Val::I64(15));
    assert_eq!(ok("iushr", i64::MIN, 128), Val::I64(i64::MIN));
}

#[test]
fn bitwise_ops() {
    assert_eq!(ok("iand", 0b1100, 0b1010), Val::I64(0b1000));
    assert_eq!(ok("ior", 0b1100, 0b1010), Val::I64(0b1110));
    assert_eq!(ok("ixor", 0b1100, 0b1010), Val::I64(0b0110));
    assert_eq!(un("inot", 0), Val::I64(-1));
}

#[test]
fn integer_comparisons_signed_and_unsigned() {
    let cases: [(&str, i64, i64, bool); 12] = [
        ("ieq", 3, 3, true),
        ("ine", 3, 3, false),
        ("ilt", -1, 0, true),
        ("ile", 0, 0, true),
        ("igt", -1, 0, false),
        ("ige", i64::MIN, i64::MAX, false),
        ("iult", -1, 0, false),
        ("iule", 0, -1, true),
        ("iugt", -1, 0, true),
        ("iuge", 5, 5, true),
        ("iult", 1, 2, true),
        ("iugt", i64::MIN, i64::MAX, true),
    ];
    for (op, a, b, want) in cases {
        assert_eq!(ok(op, a, b), Val::Bool(want), "{op} {a}, {b}");
    }
}

#[test]
fn float_arithmetic_is_ieee() {
    assert_eq!(ok("fadd", 0.1, 0.2), Val::F64(0.1 + 0.2));
    assert_eq!(ok("fsub", 1.0, 1.0), Val::F64(0.0));
    assert_eq!(ok("fmul", -1.0, 0.0), Val::F64(-0.0));
    assert_ne!(ok("fmul", -1.0, 0.0), Val::F64(0.0), "equality is bitwise");
    assert_eq!(ok("fdiv", 1.0, 0.0), Val::F64(f64::INFINITY));
    assert_eq!(ok("fdiv", -1.0, 0.0), Val::F64(f64::NEG_INFINITY));
    assert!(ok("fdiv", 0.0, 0.0).as_f64().unwrap().is_nan());
    assert_eq!(un("fneg", 0.0), Val::F64(-0.0));
    assert_eq!(un("fneg", -2.5), Val::F64(2.5));
    assert_eq!(un("fabs", -0.0), Val::F64(0.0));
    assert_eq!(un("fabs", f64::NEG_INFINITY), Val::F64(f64::INFINITY));
    // fneg flips the sign bit of a NaN and keeps its payload.
    let nan = f64::from_bits(0x7ff8_0000_0000_0001);
    assert_eq!(un("fneg", nan).to_bits(), 0xfff8_0000_0000_0001);
}

#[test]
fn float_comparisons_are_ieee() {
    let nan = f64::NAN;
    let cases: [(&str, f64, f64, bool); 10] = [
        ("feq", nan, nan, false),
        ("fne", nan, nan, true),
        ("flt", nan, 1.0, false),
        ("fge", nan, 1.0, false),
        ("feq", 0.0, -0.0, true),
        ("fle", -0.0, 0.0, true),
        ("flt", -0.0, 0.0, false),
        ("fgt", f64::INFINITY, f64::MAX, true),
        ("fge", 1.0, 1.0, true),
        ("fle", 2.0, 1.0, false),
    ];
    for (op, a, b, want) in cases {
        assert_eq!(ok(op, a, b), Val::Bool(want), "{op} {a}, {b}");
    }
}

#[test]
fn bool_ops() {
    for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
        assert_eq!(ok("band", a, b), Val::Bool(a & b));
        assert_eq!(ok("bor", a, b), Val::Bool(a | b));
        assert_eq!(ok("bxor", a, b), Val::Bool(a ^ b));
    }
    assert_eq!(un("bnot", true), Val::Bool(false));
    assert_eq!(un("bnot", false), Val::Bool(true));
    assert_eq!(un("b2i", true), Val::I64(1));
    assert_eq!(un("b2i", false), Val::I64(0));
}

#[test]
fn conversions() {
    assert_eq!(un("f2i", f64::NAN), Val::I64(0));
    assert_eq!(un("f2i", -f64::NAN), Val::I64(0));
    assert_eq!(un("f2i", f64::INFINITY), Val::I64(i64::MAX));
    assert_eq!(un("f2i", f64::NEG_INFINITY), Val::I64(i64::MIN));
    assert_eq!(un("f2i", 1e300), Val::I64(i64::MAX));
    assert_eq!(un("f2i", -2.9), Val::I64(-2));
    assert_eq!(un("f2i", 2.9), Val::I64(2));
    assert_eq!(un("i2f", i64::MAX), Val::F64(9.223372036854776e18));
    assert_eq!(un("i2f", -3), Val::F64(-3.0));
    assert_eq!(un("f2bits", -0.0), Val::I64(i64::MIN));
    assert_eq!(un("bits2f", 0x3ff0_0000_0000_0000), Val::F64(1.0));
    assert_eq!(un("ptr2i", Val::Ptr(0x1234)), Val::I64(0x1234));
    assert_eq!(un("i2ptr", -1), Val::Ptr(u64::MAX));
    assert_eq!(ok("ptradd", Val::Ptr(u64::MAX), 2), Val::Ptr(1));
    assert_eq!(ok("ptradd", Val::Ptr(0x100), -0x10), Val::Ptr(0xf0));
}

#[test]
fn identity_comparisons() {
    assert_eq!(ok("req", Val::Ref(8), Val::Ref(8)), Val::Bool(true));
    assert_eq!(ok("rne", Val::Ref(8), Val::Ref(0)), Val::Bool(true));
    assert_eq!(ok("req", Val::Ptr(8), Val::Ptr(16)), Val::Bool(false));
}

#[test]
fn constants_and_select() {
    let text = "trace t\n\nblock0(v0: bool):\n    v1 = const nan(0x7ff8000000000001)\n    v2 = const -0.0\n    v3 = select v0, v1, v2\n    v4 = const ref(0x10)\n    v5 = const null\n    v6 = select.unpredictable v0, v4, v5\n    finish v3, v6\n";
    let t = parse(text).unwrap();
    let mut it = Interpreter::new(&t);
    let Outcome::Finish(vs) = it.run(&[Val::Bool(true)]).unwrap() else {
        panic!()
    };
    assert_eq!(
        vs,
        vec![Val::F64(f64::from_bits(0x7ff8_0000_0000_0001)), Val::Ref(0x10)]
    );
    let Outcome::Finish(vs) = it.run(&[Val::Bool(false)]).unwrap() else {
        panic!()
    };
    assert_eq!(vs, vec![Val::F64(-0.0), Val::Ref(0)]);
    assert_eq!(vs[0].to_string(), "-0.0");
    assert_eq!(vs[1].to_string(), "null");
}

const OVF: &str = "trace t\nframe main code 0x1 slots 1\n\nblock0(v0: i64, v1: i64):\n    v2 = OP v0, v1\n    guard_no_overflow v2 [main@9(v2)]\n    finish v2\n";

fn ovf(op: &str, a: i64, b: i64) -> Outcome {
    run(&OVF.replace("OP", op), &[Val::I64(a), Val::I64(b)]).unwrap()
}

#[test]
fn overflow_ops_and_their_guard() {
    assert_eq!(ovf("iadd_ovf", 1, 2), Outcome::Finish(vec![Val::I64(3)]));
    assert_eq!(ovf("imul_ovf", -4, 5), Outcome::Finish(vec![Val::I64(-20)]));
    assert_eq!(
        ovf("isub_ovf", i64::MIN + 1, 1),
        Outcome::Finish(vec![Val::I64(i64::MIN)])
    );
    for (op, a, b, wrapped) in [
        ("iadd_ovf", i64::MAX, 1, i64::MIN),
        ("isub_ovf", i64::MIN, 1, i64::MAX),
        ("imul_ovf", i64::MIN, -1, i64::MIN),
        ("imul_ovf", 1 << 32, 1 << 32, 0),
    ] {
        let Outcome::Exit(e) = ovf(op, a, b) else {
            panic!("{op} {a} {b} should overflow")
        };
        assert_eq!(e.guard.0, 0);
        // The snapshot sees the wrapped result.
        assert_eq!(
            e.frames[0].slots[0],
            leones_ir::interp::ExitValue::Val(Val::I64(wrapped))
        );
        assert_eq!(e.frames[0].pc, 9);
    }
}

const OBJ: &str = "trace t
layout P size 48 class 0x51
field P.i: i64 @8
field P.f: f64 @16
field P.b: bool @24
field P.r: ref @32
field P.p: ptr @40

block0(v0: i64, v1: f64, v2: bool, v3: ptr):
    v4 = new P
    setfield v4, P.i, v0
    setfield v4, P.f, v1
    setfield v4, P.b, v2
    setfield v4, P.r, v4
    setfield v4, P.p, v3
    v5 = getfield v4, P.i
    v6 = getfield v4, P.f
    v7 = getfield v4, P.b
    v8 = getfield v4, P.r
    v9 = getfield v4, P.p
    v10 = req v8, v4
    finish v4, v5, v6, v7, v10, v9
";

#[test]
fn objects_fields_and_class_word() {
    let t = parse(OBJ).unwrap();
    let mut it = Interpreter::new(&t);
    let inputs = [Val::I64(-7), Val::F64(2.5), Val::Bool(true), Val::Ptr(0xdead)];
    let Outcome::Finish(vs) = it.run(&inputs).unwrap() else {
        panic!()
    };
    assert_eq!(
        &vs[1..],
        &[
            Val::I64(-7),
            Val::F64(2.5),
            Val::Bool(true),
            Val::Bool(true),
            Val::Ptr(0xdead)
        ]
    );
    let obj = vs[0].as_addr().unwrap();
    let heap = it.heap();
    assert_eq!(heap.allocation_count(), 1);
    assert_eq!(obj % 8, 0);
    assert!(heap.contains(obj, 48) && !heap.contains(obj, 49));
    assert_eq!(heap.load(obj, MemType::I64).unwrap(), Val::I64(0x51), "class word");
    // A bool field is one byte: the byte after it is untouched.
    assert_eq!(heap.load(obj + 24, MemType::I8U).unwrap(), Val::I64(1));
    assert_eq!(heap.load(obj + 25, MemType::I8U).unwrap(), Val::I64(0));
    assert_eq!(heap.load(obj + 32, MemType::Ref).unwrap(), Val::Ref(obj));
}

#[test]
fn new_objects_are_zeroed_and_distinct() {
    let text = "trace t\nlayout Q size 0\nlayout P size 16\nfield P.x: f64 @8\n\nblock0():\n    v0 = new P\n    v1 = getfield v0, P.x\n    v2 = new Q\n    v3 = new Q\n    v4 = req v2, v3\n    finish v1, v4\n";
    assert_eq!(
        run(text, &[]).unwrap(),
        Outcome::Finish(vec![Val::F64(0.0), Val::Bool(false)])
    );
}

#[test]
fn null_object_access_faults() {
    let text = "trace t\nlayout P size 16\nfield P.x: i64 @8\n\nblock0(v0: ref):\n    v1 = const 1\n    v2 = getfield v0, P.x\n    finish v2\n";
    assert_eq!(
        run(text, &[Val::Ref(0)]).unwrap_err(),
        Fault::NullAccess {
            block: Block(0),
            inst: 1
        }
    );
}

const ARR: &str = "trace t
array A: i64 len @8 items @16
array B: bool len @0 items @8

block0(v0: ref, v1: ref, v2: i64, v3: i64):
    setitem A, v0, v2, v3
    v4 = getitem A, v0, v2
    v5 = arraylen A, v0
    v6 = const true
    setitem B, v1, v2, v6
    v7 = getitem B, v1, v2
    v8 = arraylen B, v1
    finish v4, v5, v7, v8
";

fn arrays(index: i64) -> (Result<Outcome, Fault>, Heap, u64, u64) {
    let t = parse(ARR).unwrap();
    let mut heap = Heap::new();
    let a = heap.alloc_array(&t.arrays[0], 3);
    let b = heap.alloc_array(&t.arrays[1], 5);
    let mut it = Interpreter::new(&t).with_heap(heap);
    let out = it.run(&[Val::Ref(a), Val::Ref(b), Val::I64(index), Val::I64(42)]);
    (out, it.into_heap(), a, b)
}

#[test]
fn arrays_items_and_length() {
    let (out, heap, a, b) = arrays(2);
    assert_eq!(
        out.unwrap(),
        Outcome::Finish(vec![Val::I64(42), Val::I64(3), Val::Bool(true), Val::I64(5)])
    );
    assert_eq!(heap.load(a + 16 + 2 * 8, MemType::I64).unwrap(), Val::I64(42));
    // Bool items are one byte each; the array is max(0 + 8, 8 + 5) = 13 bytes.
    assert_eq!(heap.load(b + 8 + 2, MemType::I8U).unwrap(), Val::I64(1));
    assert!(heap.contains(b, 13) && !heap.contains(b, 14));
    assert!(heap.contains(a, 40) && !heap.contains(a, 41));
}

#[test]
fn array_index_out_of_bounds_faults() {
    for index in [3, -1, i64::MIN, i64::MAX] {
        let e = arrays(index).0.unwrap_err();
        assert_eq!(
            e,
            Fault::IndexOutOfBounds {
                index,
                len: 3,
                block: Block(0),
                inst: 0
            }
        );
        assert!(e.to_string().contains("out of bounds"), "{e}");
    }
}

#[test]
fn corrupt_array_length_is_caught_by_the_heap() {
    let t = parse(ARR).unwrap();
    let mut heap = Heap::new();
    let a = heap.alloc_array(&t.arrays[0], 3);
    let b = heap.alloc_array(&t.arrays[1], 5);
    heap.store(a + 8, MemType::I64, Val::I64(1000)).unwrap();
    let mut it = Interpreter::new(&t).with_heap(heap);
    let e = it
        .run(&[Val::Ref(a), Val::Ref(b), Val::I64(500), Val::I64(1)])
        .unwrap_err();
    let Fault::BadAccess {
        addr,
        size: 8,
        at: Some(Site {
            block: Block(0),
            inst: 0,
        }),
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!(addr, a + 16 + 500 * 8);
}

const RAW: &str = "trace t

block0(v0: ptr, v1: i64):
    store.i64 v0, 0, v1
    v2 = load.i8s v0, 0
    v3 = load.i8u v0, 0
    v4 = load.i16s v0, 0
    v5 = load.i16u v0, 0
    v6 = load.i32s v0, 0
    v7 = load.i32u v0, 0
    store.i8 v0, 8, v1
    v8 = load.i32u v0, 8
    store.i32 v0, 12, v1
    v9 = load.i32s v0, 12
    finish v2, v3, v4, v5, v6, v7, v8, v9
";

#[test]
fn raw_narrow_loads_extend_and_stores_truncate() {
    let t = parse(RAW).unwrap();
    let mut heap = Heap::new();
    let p = heap.alloc_raw(16);
    let mut it = Interpreter::new(&t).with_heap(heap);
    let Outcome::Finish(vs) = it.run(&[Val::Ptr(p), Val::I64(-2)]).unwrap() else {
        panic!()
    };
    let want = [-2, 0xfe, -2, 0xfffe, -2, 0xffff_fffe, 0xfe, -2];
    assert_eq!(vs, want.map(Val::I64).to_vec());
    let Outcome::Finish(vs) = it.run(&[Val::Ptr(p), Val::I64(0x1_8000_7f80)]).unwrap() else {
        panic!()
    };
    let want = [
        -128,
        0x80,
        0x7f80,
        0x7f80,
        0x8000_7f80u32 as i32 as i64,
        0x8000_7f80,
        0x80,
        0x8000_7f80u32 as i32 as i64,
    ];
    assert_eq!(vs, want.map(Val::I64).to_vec());
}

#[test]
fn f32_and_bool_memory() {
    let text = "trace t\n\nblock0(v0: ptr, v1: f64, v2: bool):\n    store.f32 v0, 0, v1\n    v3 = load.f32 v0, 0\n    store.f64 v0, 8, v1\n    v4 = load.f64 v0, 8\n    store.bool v0, 4, v2\n    v5 = load.bool v0, 4\n    v6 = load.i8u v0, 4\n    finish v3, v4, v5, v6\n";
    let t = parse(text).unwrap();
    let mut heap = Heap::new();
    let p = heap.alloc_raw(16);
    let mut it = Interpreter::new(&t).with_heap(heap);
    for x in [1.0 / 3.0, 1e300, -1e-50, 16777217.0] {
        let Outcome::Finish(vs) = it.run(&[Val::Ptr(p), Val::F64(x), Val::Bool(true)]).unwrap() else {
            panic!()
        };
        assert_eq!(
            vs,
            vec![Val::F64(x as f32 as f64), Val::F64(x), Val::Bool(true), Val::I64(1)]
        );
    }
    assert_eq!(it.heap().load(p, MemType::F32).unwrap(), Val::F64(16777216.0));
    // Any non-zero byte reads as true.
    it.heap_mut().store(p + 4, MemType::I8U, Val::I64(0x80)).unwrap();
    assert_eq!(it.heap().load(p + 4, MemType::Bool).unwrap(), Val::Bool(true));
}

#[test]
fn bad_raw_addresses_fault() {
    let t =
        parse("trace t\n\nblock0(v0: ptr, v1: i64):\n    v2 = ptradd v0, v1\n    v3 = load.i64 v2, 0\n    finish v3\n")
            .unwrap();
    let mut heap = Heap::new();
    let p = heap.alloc_raw(16);
    let mut it = Interpreter::new(&t).with_heap(heap);
    let at = Some(Site {
        block: Block(0),
        inst: 1,
    });
    assert_eq!(
        it.run(&[Val::Ptr(p), Val::I64(8)]).unwrap(),
        Outcome::Finish(vec![Val::I64(0)])
    );
    for off in [16i64, 12, -8, 1 << 40] {
        let addr = p.wrapping_add_signed(off);
        assert_eq!(
            it.run(&[Val::Ptr(p), Val::I64(off)]).unwrap_err(),
            Fault::BadAccess { addr, size: 8, at }
        );
    }
    assert_eq!(
        it.run(&[Val::Ptr(0x10), Val::I64(0)]).unwrap_err(),
        Fault::BadAccess {
            addr: 0x10,
            size: 8,
            at
        }
    );
    assert_eq!(
        it.run(&[Val::Ptr(0), Val::I64(0)]).unwrap_err(),
        Fault::NullAccess {
            block: Block(0),
            inst: 1
        }
    );
    // A load offset that leaves the address space.
    let t = parse("trace t\n\nblock0(v0: ptr):\n    v1 = load.i64 v0, 16\n    finish v1\n").unwrap();
    let e = Interpreter::new(&t).run(&[Val::Ptr(u64::MAX - 4)]).unwrap_err();
    assert!(matches!(e, Fault::BadAccess { addr: 11, size: 8, .. }), "{e:?}");
    assert!(
        e.to_string().contains("0xb") && e.to_string().contains("block0, instruction 0"),
        "{e}"
    );
}
