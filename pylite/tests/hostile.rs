//! Hostile programs: syntax outside the subset, runaway recursion, data nested
//! deeper than the Rust stack, huge integer literals, integer overflow and division
//! by zero. Each must end in a clear error — a compile error with its line, or a
//! Python exception with its line — never a panic or a crashed process.
//!
//! Every program runs twice, interpreted (`JitConfig::off()`) and with the JIT at its
//! most eager (`threshold=2, bridge_threshold=2`), and both runs must print the same
//! output and end with the same error: the JIT never computes a different answer,
//! not even on the way to an error. The hot loops below exist for the JIT's sake:
//! overflow and division by zero that happen only after many iterations, inside
//! code that would be compiled by then.

use pylite::jit::{JitConfig, Params};
use pylite::PyliteError;

/// Runs `src` both ways, asserts the runs agree, and returns the (shared) outcome.
fn run(src: &str) -> (String, Result<(), PyliteError>) {
    let (out, res, _) = pylite::run_capture_with(src, "hostile.py", &[], &JitConfig::off());
    let eager = Params {
        threshold: 2,
        bridge_threshold: 2,
        ..Default::default()
    };
    let (jit_out, jit_res, _) = pylite::run_capture_with(src, "hostile.py", &[], &JitConfig::with_params(eager));
    assert_eq!(out, jit_out, "output differs with the JIT on\n{src}");
    assert_eq!(
        format!("{res:?}"),
        format!("{jit_res:?}"),
        "error differs with the JIT on\n{src}"
    );
    (out, res)
}

/// Asserts `src` fails to compile at `line` with a message containing `what`, having
/// printed nothing.
fn compile_error(src: &str, line: u32, what: &str) {
    match run(src) {
        (out, Err(PyliteError::Compile { line: l, msg, .. })) => {
            assert_eq!(l, line, "{msg}\n{src}");
            assert!(msg.contains(what), "want {what:?} in {msg:?}");
            assert!(out.is_empty(), "printed {out:?} before compiling");
        }
        other => panic!("expected a compile error {what:?} at line {line}, got {other:?}\n{src}"),
    }
}

/// Asserts `src` raises `exc` at `line`, having printed exactly `printed`; returns
/// the exception's message.
fn runtime_error(src: &str, exc: &str, line: u32, printed: &str) -> String {
    match run(src) {
        (
            out,
            Err(PyliteError::Runtime {
                exc_type,
                message,
                line: l,
                traceback,
            }),
        ) => {
            assert_eq!((exc_type.as_str(), l), (exc, line), "{traceback}");
            assert_eq!(out, printed, "{src}");
            assert!(
                traceback.starts_with("Traceback (most recent call last):"),
                "{traceback}"
            );
            message
        }
        other => panic!("expected {exc} at line {line}, got {other:?}\n{src}"),
    }
}

/// Asserts `src` runs to completion and prints `want`.
fn prints(src: &str, want: &str) {
    match run(src) {
        (out, Ok(())) => assert_eq!(out, want, "{src}"),
        other => panic!("expected success, got {other:?}\n{src}"),
    }
}

#[test]
fn unsupported_syntax_is_a_compile_error_with_its_line() {
    let before = "x = 1\nprint(x)\n";
    for (stmt, what) in [
        ("f = lambda y: y", "'lambda'"),
        ("d = {1: 2}", "dict and set displays"),
        ("if (y := 5) > 3:\n    pass", "':='"),
        ("async def f():\n    pass", "'async'"),
        ("x: int = 5", "annotations"),
        ("y = 1j", "complex numbers"),
        ("z = ...", "Ellipsis"),
        ("from . import q", "relative imports"),
        ("y = 1 @ 2", "matrix multiplication"),
    ] {
        compile_error(&format!("{before}{stmt}\n"), 3, what);
    }
    // Syntax errors point at their line too.
    compile_error("x = 1\nif x\n    pass\n", 2, "SyntaxError");
    compile_error("x = 1\ny = (1 +\n", 3, "SyntaxError");
    compile_error("x = 1\n\nprint('abc)\n", 3, "unterminated string");
    compile_error("x = 1\ny = 5 $ 3\n", 2, "invalid character");
}

#[test]
fn garbage_and_oversized_source_is_a_compile_error() {
    compile_error("x = 1\n\u{0}\u{1}\u{7f}\n", 2, "");
    // Chains the parser builds in a loop but the compiler walks recursively: an
    // error, not a stack overflow.
    let chains = [
        format!("y = 1{}\n", " + 1".repeat(200_000)),
        format!("y = 1{}\n", " and 1".repeat(200_000)),
        format!("y = 'a'{}\n", " + 'a'".repeat(200_000)),
        format!("x = [0]\nx[0] = x\ny = x{}\n", "[0]".repeat(200_000)),
        format!("def f():\n    return f\ny = f{}\n", "()".repeat(200_000)),
        format!("class A:\n    pass\na = A()\na.a = a\ny = a{}\n", ".a".repeat(200_000)),
    ];
    for src in &chains {
        let line = src.lines().count() as u32;
        compile_error(src, line, "expression too long");
    }
    // Below the bound, a long chain still works.
    prints(&format!("print(0{})\n", " + 1".repeat(999)), "999\n");
    // Many statements and long lines are fine.
    prints(&format!("x = 0\n{}print(x)\n", "x = x + 1\n".repeat(50_000)), "50000\n");
    prints(
        &format!("s = '{}'\nprint(len(s))\n", "a".repeat(1_000_000)),
        "1000000\n",
    );
}

#[test]
fn deep_nesting_is_a_compile_error_that_names_what_is_nested() {
    let deep = 10_000;
    let nest = |open: &str, inner: &str, close: &str| {
        format!("x = 1\ny = {}{}{}\n", open.repeat(deep), inner, close.repeat(deep))
    };
    for (src, what) in [
        (nest("[", "", "]"), "too many nested lists"),
        (nest("(", "1", ")"), "too many nested parentheses"),
        (nest("len(", "1", ")"), "too many nested calls"),
        (nest("x[", "0", "]"), "too many nested subscripts"),
        (nest("-", "1", ""), "too many nested unary operators"),
        (nest("not ", "1", ""), "too many nested 'not' operators"),
        (nest("2 ** ", "2", ""), "too many nested '**' operators"),
        (nest("1 if x else ", "1", ""), "too many nested conditional expressions"),
        (
            format!("x = 1\ny = f'{{{}{}}}'\n", "[".repeat(deep), "]".repeat(deep)),
            "too many nested lists",
        ),
        (nest("[(", "1", ")]"), "too many nested"),
        (nest("{", "", "}"), "dict and set displays"),
    ] {
        compile_error(&src, 2, what);
    }
    // Unclosed, the innermost bracket is still the one that is too deep.
    compile_error(&format!("y = {}\n", "[".repeat(deep)), 1, "too many nested lists");
    // Well inside the limit every kind still works.
    prints(
        &format!(
            "x = {}7{}\nprint(x, {}1, len({}[]{}), not not not 0)\n",
            "[".repeat(100),
            "]".repeat(100),
            "-".repeat(99),
            "[".repeat(100),
            "]".repeat(100)
        ),
        &format!("{}7{} -1 1 True\n", "[".repeat(100), "]".repeat(100)),
    );
}

#[test]
fn deeply_nested_blocks_are_a_compile_error() {
    // A compound statement after ':' on the same line is not Python (and, nested
    // without indentation, used to overflow the parser's stack).
    compile_error("x = 1\nif x: if x: print(x)\n", 2, "compound statement");
    compile_error(
        &format!("x = 1\n{}pass\n", "while x: ".repeat(100_000)),
        2,
        "compound statement",
    );
    // Blocks nest 99 deep, as in CPython; one more is an IndentationError.
    let blocks = |n: usize| {
        let src: String = (0..n).map(|i| format!("{}if 1:\n", " ".repeat(i))).collect();
        src + &format!("{}print('deep')\n", " ".repeat(n))
    };
    prints(&blocks(99), "deep\n");
    compile_error(&blocks(100), 101, "too many levels of indentation");
    compile_error(&blocks(20_000), 101, "too many levels of indentation");
}

#[test]
fn runaway_recursion_is_a_recursion_error() {
    let msg = runtime_error(
        "print('start')\ndef f(n):\n    return f(n + 1)\nf(0)\n",
        "RecursionError",
        3,
        "start\n",
    );
    assert!(msg.contains("maximum recursion depth exceeded"), "{msg}");
    // Mutual recursion, caught and survived; the program goes on.
    prints(
        "def f(n):\n    return g(n)\ndef g(n):\n    return f(n + 1)\ntry:\n    f(0)\nexcept RecursionError:\n    print('caught')\nprint('after')\n",
        "caught\nafter\n",
    );
    runtime_error(
        "class A:\n    def __init__(self):\n        self.x = A()\nA()\n",
        "RecursionError",
        3,
        "",
    );
    // Deep but bounded recursion inside a hot loop still computes the right sum.
    prints(
        "def depth(n):\n    if n == 0:\n        return 0\n    return 1 + depth(n - 1)\ntotal = 0\nfor i in range(200):\n    total = total + depth(i % 50)\nprint(total)\n",
        &format!("{}\n", (0..200).map(|i| i % 50).sum::<i64>()),
    );
}

#[test]
fn data_nested_deeper_than_the_stack_is_a_recursion_error() {
    let nest = "x = []\ny = []\nfor i in range(100000):\n    x = [x]\n    y = [y]\nprint('built')\n";
    for (op, what) in [
        ("print(x)", "while getting the str"),
        ("print(repr(x))", "while getting the repr"),
        ("s = str(x)", "while getting the str"),
        ("s = f'{x}'", "while getting the str"),
        ("s = f'{x!r}'", "while getting the repr"),
        ("b = x == y", "in comparison"),
        ("b = x != y", "in comparison"),
        ("b = x < y", "in comparison"),
        ("b = [x] in [[y]]", "in comparison"),
        ("b = [y].index(x)", "in comparison"),
    ] {
        let msg = runtime_error(&format!("{nest}{op}\n"), "RecursionError", 7, "built\n");
        assert!(msg.contains(what), "{op}: {msg}");
    }
    // The error can be caught, and shallow data still prints and compares.
    prints(
        &format!("{nest}try:\n    print(x)\nexcept RecursionError:\n    print('caught')\nprint([[1, [2]]] == [[1, [2]]], [[1]] < [[2]], [1, [2, (3,)]])\n"),
        "built\ncaught\nTrue True [1, [2, (3,)]]\n",
    );
    // Identity decides before depth does, as in CPython.
    prints(&format!("{nest}print(x == x, x in [1, x])\n"), "built\nTrue True\n");
}

#[test]
fn containers_that_contain_themselves_print_as_ellipses() {
    prints(
        "x = []\nx.append(x)\nprint(x)\nprint(repr(x), f'{x}')\nprint((1, x))\nx.append(2)\nprint(x, x == x)\n",
        "[[...]]\n[[...]] [[...]]\n(1, [[...]])\n[[...], 2] True\n",
    );
    prints("a = []\nb = [a]\na.append(b)\nprint(a, b)\n", "[[[...]]] [[[...]]]\n");
    // Two different cycles compare without end: a RecursionError, as in CPython.
    runtime_error(
        "a = []\nb = []\na.append(a)\nb.append(b)\nprint(a == b)\n",
        "RecursionError",
        5,
        "",
    );
}

#[test]
fn huge_integer_literals_are_errors() {
    compile_error("x = 1\ny = 12345678901234567890\n", 2, "integer literal too large");
    compile_error("x = 1\n\ny = 0xffffffffffffffffff\n", 3, "too large integer literal");
    compile_error(&format!("y = {}\n", "9".repeat(10_000)), 1, "integer literal too large");
    // The largest literal that fits is fine; so are huge floats (infinity).
    prints(
        "print(9223372036854775807, -9223372036854775807 - 1)\n",
        "9223372036854775807 -9223372036854775808\n",
    );
    // 2**63 does not fit, but its negation, the smallest int, does, as in Python.
    prints(
        "x = -9223372036854775808\nprint(x, x + 1, - 9223372036854775808, [-0x8000000000000000], x == -9223372036854775807 - 1)\n",
        "-9223372036854775808 -9223372036854775807 -9223372036854775808 [-9223372036854775808] True\n",
    );
    runtime_error("x = 1\ny = --9223372036854775808\n", "OverflowError", 2, "");
    runtime_error("y = -9223372036854775808 // -1\n", "OverflowError", 1, "");
    for literal in [
        "9223372036854775808",
        "-9223372036854775809",
        "1 - 9223372036854775808",
        "-9223372036854775808 ** 1",
        "-9223372036854775808 .real",
        "-0xffffffffffffffff",
        "-18446744073709551616",
        "-99999999999999999999999999",
    ] {
        compile_error(&format!("x = 1\ny = {literal}\n"), 2, "too large");
    }
    prints("print(1e400, -1e400, 1e-400)\n", "inf -inf 0.0\n");
    let msg = runtime_error("x = int('99999999999999999999')\n", "ValueError", 1, "");
    assert!(msg.contains("99999999999999999999"), "{msg}");
}

#[test]
fn integer_overflow_is_an_overflow_error() {
    let max = "m = 9223372036854775807\n";
    for op in [
        "m + 1",
        "-m - 2",
        "m * 2",
        "(-m - 1) // -1",
        "abs(-m - 1)",
        "2 ** 64",
        "1 << 64",
        "-(-m - 1)",
    ] {
        let msg = runtime_error(&format!("{max}x = {op}\n"), "OverflowError", 2, "");
        assert!(msg.contains("overflow"), "{op}: {msg}");
    }
    // In a hot loop: x triples until it no longer fits (3**39 < 2**63 < 3**40).
    let src = "x = 1\nn = 0\nwhile True:\n    x = x * 3\n    n = n + 1\n    if n % 10 == 0:\n        print(n)\n";
    runtime_error(src, "OverflowError", 4, "10\n20\n30\n");
    // Summing up to the edge is fine; one more step is not.
    prints(
        "s = 9223372036854775807 - 100\nfor i in range(100):\n    s = s + 1\nprint(s)\n",
        "9223372036854775807\n",
    );
    runtime_error(
        "s = 9223372036854775807 - 100\nfor i in range(101):\n    s = s + 1\nprint(s)\n",
        "OverflowError",
        3,
        "",
    );
}

#[test]
fn division_by_zero_is_a_zero_division_error() {
    for (op, msg) in [
        ("1 / 0", "division by zero"),
        ("1 // 0", "integer division or modulo by zero"),
        ("1 % 0", "integer modulo by zero"),
        ("1.0 / 0", "float division by zero"),
        ("1.0 / 0.0", "float division by zero"),
        ("5.0 // 0.0", "float floor division by zero"),
        ("divmod(1, 0)", "integer division or modulo by zero"),
    ] {
        let got = runtime_error(&format!("print('go')\nx = {op}\n"), "ZeroDivisionError", 2, "go\n");
        assert_eq!(got, format!("ZeroDivisionError: {msg}"), "{op}");
    }
    // In a hot loop, the divisor reaches zero only at i = 50.
    let src = "total = 0\nfor i in range(100):\n    total = total + 1000 // (50 - i)\n    if i % 10 == 9:\n        print(total)\n";
    let mut want = String::new();
    let mut total = 0i64;
    for i in 0..50i64 {
        total += (1000f64 / (50 - i) as f64).floor() as i64;
        if i % 10 == 9 {
            want += &format!("{total}\n");
        }
    }
    runtime_error(src, "ZeroDivisionError", 3, &want);
    // Caught inside the loop, the loop goes on.
    prints(
        "n = 0\nfor i in range(100):\n    try:\n        n = n + 100 // (i % 10)\n    except ZeroDivisionError:\n        n = n - 1\nprint(n)\n",
        &format!("{}\n", (0..100).map(|i| if i % 10 == 0 { -1 } else { 100 / (i % 10) }).sum::<i64>()),
    );
}
