//! Code memory: units compiled and removed in a loop do not make the process grow
//! (ORC's resource trackers and the baseline level's code arena return the memory,
//! and each unit's LLVM context is dropped after codegen), JIT code pages are never
//! writable and executable at once — after compiling, and while compiled code runs
//! (a host function called from the native loop reads `/proc/self/maps` itself) —
//! and a forked child keeps the code it inherited.

use leones_backend_llvm::{Backend, HostHooks, Level, UnitOptions};
use leones_ir::interp::{Heap, Outcome, Val};
use leones_ir::Trace;
use std::sync::Mutex;

/// A ~30-op loop trace with a guard, a division and a float chain.
fn unit_trace(k: usize) -> Trace {
    let text = format!(
        "trace churn{k}
frame main code 0x1 slots 3

block0(v0: i64, v1: i64, v2: f64):
    v3 = ilt v0, v1
    guard_true v3 [main@7(v0, v1, v2)]
    v4 = const {k}
    v5 = imul v0, v4
    v6 = const 3
    v7 = ior v5, v6
    v8 = idiv v1, v7
    v9 = i2f v8
    v10 = fadd v2, v9
    v11 = fmul v10, v10
    v12 = const 1
    v13 = iadd v0, v12
    jump block0(v13, v1, v11)
"
    );
    leones_ir::parse(&text).unwrap()
}

/// Resident set size in KiB, from /proc/self/statm.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

fn churn(level: Level, total: usize) {
    let mut backend = Backend::new(level).unwrap();
    let traces: Vec<Trace> = (0..16).map(unit_trace).collect();
    let mut rss_at_1k = 0;
    for i in 0..total {
        let u = backend
            .compile(&traces[i % traces.len()], &UnitOptions::default())
            .unwrap();
        backend.remove(u.id).unwrap();
        if i + 1 == 1000 {
            rss_at_1k = rss_kib();
        }
    }
    let rss_end = rss_kib();
    eprintln!("RSS after 1000 units: {rss_at_1k} KiB; after {total}: {rss_end} KiB");
    assert_eq!(backend.unit_count(), 0);
    // Small slack for allocator noise; a leak of even 1 KiB per unit would exceed it.
    assert!(
        rss_end <= rss_at_1k + 4096,
        "RSS grew from {rss_at_1k} KiB to {rss_end} KiB"
    );
}

#[test]
fn compiling_and_removing_10000_units_does_not_grow_rss() {
    churn(Level::Quick, 10_000);
}

#[test]
fn compiling_and_removing_10000_baseline_units_does_not_grow_rss() {
    churn(Level::Baseline, 10_000);
}

/// `finish v0 + k`.
fn add_k(k: i64) -> Trace {
    leones_ir::parse(&format!(
        "trace add{k}\n\nblock0(v0: i64):\n    v1 = const {k}\n    v2 = iadd v0, v1\n    finish v2\n"
    ))
    .unwrap()
}

/// Runs `unit` on 0: the value it finishes with.
fn run_on_zero(backend: &mut Backend, unit: leones_backend_llvm::UnitId) -> Option<i64> {
    let mut heap = Heap::new();
    // SAFETY: the trace touches no memory.
    let out = unsafe { backend.run(unit, &[Val::I64(0)], &mut heap, &HostHooks::default()) };
    match out.ok()?.outcome {
        Outcome::Finish(v) => match v[..] {
            [Val::I64(x)] => Some(x),
            _ => None,
        },
        _ => None,
    }
}

/// Baseline code lives in shared mappings (the code arena's two views), which a
/// child process shares too. After a fork, the parent removing a unit and compiling
/// one of the same size in its place must not rewrite the code the child still
/// runs — nor may the child's new code land in the parent's.
#[test]
fn a_forked_child_keeps_the_baseline_code_its_parent_replaced() {
    let mut backend = Backend::new(Level::Baseline).unwrap();
    let inherited = backend.compile(&add_k(1), &UnitOptions::default()).unwrap();
    assert_eq!(run_on_zero(&mut backend, inherited.id), Some(1));
    let mut go = [0i32; 2];
    // SAFETY: a fresh pipe; the child below uses the backend (mmap, the allocator,
    // which glibc keeps usable across fork, no other thread's locks) and `_exit`s.
    assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let mut byte = 0u8;
        // SAFETY: reads one byte from our end of the pipe: the parent has replaced
        // the unit.
        unsafe { libc::read(go[0], (&mut byte as *mut u8).cast(), 1) };
        let kept = run_on_zero(&mut backend, inherited.id) == Some(1);
        let own = backend.compile(&add_k(3), &UnitOptions::default());
        let own_runs = own.is_ok_and(|u| run_on_zero(&mut backend, u.id) == Some(3));
        // SAFETY: ends the child without the parent's destructors or test harness.
        unsafe { libc::_exit(if kept && own_runs { 0 } else { 1 }) };
    }
    backend.remove(inherited.id).unwrap();
    let replacement = backend.compile(&add_k(2), &UnitOptions::default()).unwrap();
    assert_eq!(run_on_zero(&mut backend, replacement.id), Some(2));
    // SAFETY: writes one byte to the pipe, then waits for our own child.
    unsafe { libc::write(go[1], [1u8].as_ptr().cast(), 1) };
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child ran changed code or could not compile (status {status})"
    );
    assert_eq!(run_on_zero(&mut backend, replacement.id), Some(2));
}

/// The mappings of `/proc/self/maps` text, as (start, end, permissions, line).
fn mappings(maps: &str) -> Vec<(u64, u64, String, String)> {
    maps.lines()
        .map(|line| {
            let mut parts = line.split_whitespace();
            let (range, perms) = (parts.next().unwrap(), parts.next().unwrap());
            let (lo, hi) = range.split_once('-').unwrap();
            let addr = |s| u64::from_str_radix(s, 16).unwrap();
            (addr(lo), addr(hi), perms.to_string(), line.to_string())
        })
        .collect()
}

/// What `snapshot_maps` saw, one entry per call from native code.
static MAPS_SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A host function the compiled trace calls: records `/proc/self/maps` as it is while
/// native code is on the stack, and returns its argument plus one.
extern "C" fn snapshot_maps(x: i64) -> i64 {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    MAPS_SEEN.lock().unwrap().push(maps);
    x + 1
}

#[test]
fn code_pages_are_not_writable_while_native_code_runs() {
    // Counts v0 up to v1, calling `snapshot_maps` for every step, at both levels.
    let text = format!(
        "trace wx
call snap(i64) -> i64 addr {:#x} effects()
frame main code 0x1 slots 2

block0(v0: i64, v1: i64):
    v2 = ilt v0, v1
    guard_true v2 [main@1(v0, v1)]
    v3 = call snap(v0)
    jump block0(v3, v1)
",
        snapshot_maps as *const () as usize
    );
    let trace = leones_ir::parse(&text).unwrap();
    for level in Level::ALL {
        let mut backend = Backend::new(level).unwrap();
        let unit = backend.compile(&trace, &UnitOptions::default()).unwrap();
        MAPS_SEEN.lock().unwrap().clear();
        let mut heap = Heap::new();
        // SAFETY: the trace touches no memory; `snap` has the declared signature.
        let out = unsafe { backend.run(unit.id, &[Val::I64(0), Val::I64(5)], &mut heap, &HostHooks::default()) };
        let Outcome::Exit(exit) = out.unwrap().outcome else {
            panic!("{level:?}: the loop leaves through its guard")
        };
        assert_eq!(exit.frames[0].pc, 1, "{level:?}");
        let seen = std::mem::take(&mut *MAPS_SEEN.lock().unwrap());
        assert_eq!(seen.len(), 5, "{level:?}: one call per iteration, from native code");
        let entry = unit.entry as usize as u64;
        for maps in &seen {
            let mut code_found = false;
            for (lo, hi, perms, line) in mappings(maps) {
                assert!(
                    !(perms.contains('w') && perms.contains('x')),
                    "{level:?}: a W+X mapping while native code runs: {line}"
                );
                if (lo..hi).contains(&entry) {
                    assert_eq!(&perms[..3], "r-x", "{level:?}: the running unit's code: {line}");
                    code_found = true;
                }
            }
            assert!(code_found, "{level:?}: the unit's code is mapped");
        }
        backend.remove(unit.id).unwrap();
    }
}

#[test]
fn code_pages_are_never_writable_and_executable() {
    let mut backend = Backend::new(Level::Optimized).unwrap();
    let units: Vec<_> = (0..8)
        .map(|k| backend.compile(&unit_trace(k), &UnitOptions::default()).unwrap())
        .collect();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut found = 0;
    for (lo, hi, perms, line) in mappings(&maps) {
        assert!(!(perms.contains('w') && perms.contains('x')), "a W+X mapping: {line}");
        for u in &units {
            let e = u.entry as usize as u64;
            if (lo..hi).contains(&e) {
                assert_eq!(&perms[..3], "r-x", "unit code mapped as {perms}");
                found += 1;
            }
        }
    }
    assert_eq!(found, units.len());
}
