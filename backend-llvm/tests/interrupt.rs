//! `guard_no_interrupt` polls the host's flag through `JitState::interrupt`: a long
//! compiled loop hands back control once the host sets it.

use leones_backend_llvm::{Backend, HostHooks, Level, UnitOptions};
use leones_ir::interp::{ExitValue, Heap, Outcome, Val};
use std::sync::atomic::{AtomicU64, Ordering};

static FLAG: AtomicU64 = AtomicU64::new(0);

const SPIN: &str = "\
trace spin
frame main code 0x1 slots 1

block0(v0: i64):
    guard_no_interrupt [main@0(v0)]
    v1 = const 1
    v2 = iadd v0, v1
    v3 = const 1000
    v4 = ilt v2, v3
    guard_true v4 [main@1(v2)]
    jump block0(v2)
";

#[test]
fn the_interrupt_flag_stops_a_compiled_loop() {
    let trace = leones_ir::parse(SPIN).unwrap();
    for level in Level::ALL {
        let mut backend = Backend::new(level).unwrap();
        let u = backend.compile(&trace, &UnitOptions::default()).unwrap();
        let hooks = HostHooks {
            take_exception: None,
            interrupt: Some(&FLAG),
        };
        for (flag, guard, slot) in [(0, 1, 1000), (1, 0, 5)] {
            FLAG.store(flag, Ordering::SeqCst);
            let mut heap = Heap::new();
            // SAFETY: the trace touches no memory.
            let out = unsafe { backend.run(u.id, &[Val::I64(5)], &mut heap, &hooks) }.unwrap();
            let Outcome::Exit(e) = out.outcome else {
                panic!("{out:?}")
            };
            assert_eq!(
                (e.guard.0, e.frames[0].slots[0]),
                (guard, ExitValue::Val(Val::I64(slot)))
            );
        }
    }
    FLAG.store(0, Ordering::SeqCst);
}
