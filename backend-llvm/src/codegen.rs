//! # One code generator per TargetMachine, reused for every unit
//!
//! LLVM's C API emits an object file with `LLVMTargetMachineEmitToMemoryBuffer`,
//! which builds a legacy pass manager for the whole code-generation pipeline — about
//! 150 passes at O2: instruction selection, register allocation, the machine-level
//! clean-ups, the assembler — runs it on the module once and destroys it. For a trace
//! unit that construction is not small next to the work: on the talk's units it was
//! ~0.45 ms of a 1.2 ms five-instruction bridge and of a 2 ms `pi` region (warm
//! medians over units of `benches/traces/` compiled in a loop). A [`CodegenPipeline`]
//! is that pass manager (`cpp/codegen.cpp`, the part the C API cannot express); each
//! [`Machine`](crate::build::Machine) builds one on first use and runs it on every
//! module.
//!
//! Why that is sound: a legacy pass manager is built to run over many modules (that
//! is how `llc` handles several inputs). The passes that keep per-module state start
//! and finish a module in `doInitialization` / `doFinalization` — the
//! MachineModuleInfo makes and resets its MCContext, the AsmPrinter resets its object
//! streamer after writing — so nothing of one unit stays for the next. Checked: objects
//! of one trace built before and after other traces are byte-identical (the tests
//! below); a prototype of the same C++ (session 18) built 601 modules alternating
//! between three with byte-identical objects and no growth of the process.
//!
//! Building the pass manager ourselves also lets the optimized level pick its register
//! allocator, which LLVM's C API cannot: TargetPassConfig takes the allocator from a
//! process-wide default when it adds it, so the C++ side sets LLVM's *basic* allocator
//! there for the construction of an optimizing pass manager only, under a lock, and
//! puts back what was there (a quick-level pass manager must get O0's fast allocator:
//! LLVM aborts with any other). The basic allocator (spill weights, no live-range
//! splitting) cost 15-20% less code generation than the greedy one on the talk's
//! larger regions, for code the programs ran at the same speed within noise
//! (session 19). A `-regalloc` given on LLVM's command line (`LEONES_LLVM_OPTIONS`)
//! is left to rule.
//!
//! Before running the passes on a module, the shim splits every block that ends in a
//! `musttail` call (a unit's exit dispatch, a `jump @target`) right before the load of
//! the call's target: FastISel selects neither a tail call nor an atomic load, and
//! hands not just the call but every instruction above it in its block to
//! SelectionDAG — on a bridge, all of its stores. Split, SelectionDAG sees three
//! instructions; the five-instruction bridge of `benches/traces/` took 522 µs of code
//! generation instead of 687 (warm medians, session 20). It runs after the IR passes,
//! which would merge the blocks back. The same step undoes two things `instcombine`
//! builds that FastISel cannot select (session 21): `llvm.fabs` (back to the sign-bit
//! mask the lowering emitted) and a phi of `{i64, i1}` overflow results (back to one
//! phi per element; FastISel selects no branch into its block, so pi's whole loop
//! body went to SelectionDAG). On their own they traded SelectionDAG time for loop
//! strength reduction's (the split phis are induction variables), so the optimized
//! level also drops that pass (`-disable-lsr`, see `passes`): together, code
//! generation of pi's region 14%, pi_blocker's 25%, readpoly's loop 8% cheaper
//! (warm medians), the machine code the same but for LSR's one `lea` in pi's loop.
//!
//! Invariants: one `CodegenPipeline` per TargetMachine, used by the thread that owns
//! that machine ([`Machine`](crate::build::Machine) keeps both), dropped before the
//! machine; modules reach it with the machine's triple and data layout set
//! ([`passes::prepare`](crate::passes::prepare)); every code-generation pass manager
//! of the process is built here (under the lock), none through the C API.
//! `LEONES_LLVM_REUSE_CODEGEN=0` builds one per unit again (for comparison),
//! `LEONES_LLVM_REGALLOC_OPTIMIZED=greedy` keeps the greedy allocator.

use crate::passes::{Level, ObjectBuffer};
use crate::BackendError;
use inkwell::llvm_sys::core::LLVMDisposeMessage;
use inkwell::llvm_sys::prelude::{LLVMMemoryBufferRef, LLVMModuleRef};
use inkwell::llvm_sys::target_machine::LLVMTargetMachineRef;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use std::ffi::{c_char, CStr};

/// The C++ side's pass manager and its output buffer (opaque here).
#[repr(C)]
struct CodegenHandle {
    _private: [u8; 0],
}

extern "C" {
    fn leones_codegen_create(
        tm: LLVMTargetMachineRef,
        basic_regalloc: i32,
        error: *mut *mut c_char,
    ) -> *mut CodegenHandle;
    fn leones_codegen_run(codegen: *mut CodegenHandle, module: LLVMModuleRef) -> LLVMMemoryBufferRef;
    fn leones_codegen_dispose(codegen: *mut CodegenHandle);
}

/// A code-generation pass manager built for one TargetMachine, run on many modules.
/// See the [module docs](self).
pub(crate) struct CodegenPipeline(*mut CodegenHandle);

// SAFETY: the pass manager belongs to no LLVM context; it moves with the `Machine`
// that owns it and its TargetMachine (a `Backend` may move between threads), and is
// only ever used through `&mut self`.
unsafe impl Send for CodegenPipeline {}

impl CodegenPipeline {
    /// Builds the pass manager that emits object files for `tm`, with LLVM's basic
    /// register allocator instead of the greedy one if `basic_regalloc` (which only
    /// matters for an optimizing `tm`; see [`basic_regalloc`]).
    pub(crate) fn new(tm: &TargetMachine, basic_regalloc: bool) -> Result<CodegenPipeline, BackendError> {
        let mut err = std::ptr::null_mut();
        // SAFETY: a live target machine; on failure the shim writes a message we own.
        let handle = unsafe { leones_codegen_create(tm.as_mut_ptr(), i32::from(basic_regalloc), &mut err) };
        if handle.is_null() {
            let msg = if err.is_null() {
                "no code generator for this target".to_string()
            } else {
                // SAFETY: a NUL-terminated message made by LLVMCreateMessage.
                unsafe {
                    let s = CStr::from_ptr(err).to_string_lossy().into_owned();
                    LLVMDisposeMessage(err);
                    s
                }
            };
            return Err(BackendError::Codegen(msg));
        }
        Ok(CodegenPipeline(handle))
    }

    /// Generates code for `module` (prepared for this pass manager's TargetMachine)
    /// into an object file.
    pub(crate) fn emit(&mut self, module: &Module<'_>) -> ObjectBuffer {
        // SAFETY: a live pass manager used by one thread (`&mut self`), a live module;
        // the shim returns a fresh buffer that we own from here on.
        ObjectBuffer::from_raw(unsafe { leones_codegen_run(self.0, module.as_mut_ptr()) })
    }
}

impl Drop for CodegenPipeline {
    fn drop(&mut self) {
        // SAFETY: we own the handle; its TargetMachine is still alive (see the
        // module's invariants).
        unsafe { leones_codegen_dispose(self.0) }
    }
}

/// Whether units are emitted through a [`CodegenPipeline`]: yes unless
/// `LEONES_LLVM_REUSE_CODEGEN=0`.
pub(crate) fn reuse_codegen() -> bool {
    std::env::var("LEONES_LLVM_REUSE_CODEGEN").map_or(true, |v| v != "0")
}

/// Whether `level`'s units get LLVM's basic register allocator: the optimized level
/// does unless `LEONES_LLVM_REGALLOC_OPTIMIZED=greedy`. (The quick level keeps O0's
/// fast allocator, the only one LLVM allows there.) See the [module docs](self).
pub(crate) fn basic_regalloc(level: Level) -> bool {
    level == Level::Optimized && std::env::var("LEONES_LLVM_REGALLOC_OPTIMIZED").map_or(true, |v| v != "greedy")
}

#[cfg(test)]
mod tests {
    use super::CodegenPipeline;
    use crate::build::{lower_verified, Machines};
    use crate::lower::UnitInfo;
    use crate::passes::Level;
    use inkwell::context::Context;

    /// How a test emits its object.
    #[derive(Copy, Clone)]
    enum Emit {
        /// Through the level's machine (its reused pass manager).
        Machine,
        /// Through a new `CodegenPipeline` with the given allocator choice.
        Fresh { basic_regalloc: bool },
    }

    /// The object bytes of `text` at `level`.
    fn object(text: &str, level: Level, machines: &mut Machines, how: Emit) -> Vec<u8> {
        let trace = leones_ir::parse(text).expect("parses");
        let info = UnitInfo::for_tests("leones_codegen_test");
        let ctx = Context::create();
        let (module, machine) = lower_verified(&ctx, &trace, &info, level, machines).expect("lowers");
        machine.run_passes(&module).expect("passes");
        let obj = match how {
            Emit::Machine => machine.emit_object(&module).expect("emits"),
            Emit::Fresh { basic_regalloc } => CodegenPipeline::new(&machine.tm, basic_regalloc)
                .expect("builds")
                .emit(&module),
        };
        obj.bytes().to_vec()
    }

    const LOOP: &str = "trace t\nframe main code 0x1 slots 2\n\nblock0(v0: i64, v1: f64):\n    \
        v2 = const 1\n    v3 = iadd_ovf v0, v2\n    guard_no_overflow v3 [main@0(v0, v1)]\n    \
        v4 = i2f v3\n    v5 = fadd v1, v4\n    v6 = const 100\n    v7 = ilt v3, v6\n    \
        guard_true v7 [main@1(v3, v5)]\n    jump block0(v3, v5)\n";
    const OTHER: &str = "trace t\nframe main code 0x1 slots 1\n\nblock0(v0: i64):\n    \
        v1 = const 7\n    v2 = imul v0, v1\n    v3 = const 3\n    v4 = ilt v2, v3\n    \
        guard_false v4 [main@0(v2)]\n    jump block0(v2)\n";
    /// A unit the engine built for pi.py: enough values live at once that the two
    /// register allocators place them differently.
    const PI_REGION: &str = include_str!("../benches/traces/pi_region.trace");

    /// A unit built after others through the same pass manager is the same object,
    /// byte for byte, as the first one and as one built by a fresh pass manager of
    /// the same configuration: nothing of one module stays for the next.
    #[test]
    fn a_reused_code_generator_emits_what_a_fresh_one_does() {
        for level in [Level::Quick, Level::Optimized] {
            let mut machines = Machines::default();
            let first = object(LOOP, level, &mut machines, Emit::Machine);
            for _ in 0..3 {
                object(OTHER, level, &mut machines, Emit::Machine);
            }
            let again = object(LOOP, level, &mut machines, Emit::Machine);
            let basic_regalloc = super::basic_regalloc(level);
            let fresh = object(LOOP, level, &mut machines, Emit::Fresh { basic_regalloc });
            assert!(!first.is_empty());
            assert_eq!(first, again, "{level:?}: the reused pass manager kept state");
            assert_eq!(first, fresh, "{level:?}: reused and fresh pass managers differ");
        }
    }

    /// The basic allocator is chosen for the one pass manager being built and the
    /// process-wide default is put back: a pass manager built afterwards without the
    /// choice allocates like one built before (greedy), and the quick level still
    /// builds (LLVM allows only its fast allocator at O0). (Tests build pass managers
    /// on parallel threads; all constructions go through the shim's lock.)
    #[test]
    fn the_basic_allocator_is_chosen_per_pass_manager() {
        let mut machines = Machines::default();
        let greedy = |m: &mut Machines| object(PI_REGION, Level::Optimized, m, Emit::Fresh { basic_regalloc: false });
        let before = greedy(&mut machines);
        let basic = object(
            PI_REGION,
            Level::Optimized,
            &mut machines,
            Emit::Fresh { basic_regalloc: true },
        );
        let after = greedy(&mut machines);
        assert_ne!(basic, before, "the allocator choice made no difference");
        assert_eq!(before, after, "LLVM's default allocator was left changed");
        assert!(!object(
            PI_REGION,
            Level::Quick,
            &mut machines,
            Emit::Fresh { basic_regalloc: true }
        )
        .is_empty());
    }

    /// What `instcombine` makes of pi's region and FastISel cannot select — a call of
    /// `llvm.fabs`, a phi of `{i64, i1}` overflow results — is there after the IR
    /// passes and gone when code generation has run (`prepare_for_fast_isel` in
    /// `cpp/codegen.cpp`): the mask is back, and one phi per element.
    #[test]
    fn code_generation_undoes_what_fast_isel_cannot_select() {
        with_passed_module(PI_REGION, |module, machine| {
            let aggregate_phi = |text: &str| text.lines().any(|l| l.contains(" = phi {"));
            let before = module.print_to_string().to_string();
            assert!(before.contains("call double @llvm.fabs.f64"), "{before}");
            assert!(aggregate_phi(&before), "{before}");
            machine.emit_object(module).expect("emits");
            let after = module.print_to_string().to_string();
            assert!(!after.contains("call double @llvm.fabs.f64"), "{after}");
            assert!(
                after.contains("and i64") && after.contains("9223372036854775807"),
                "{after}"
            );
            assert!(!aggregate_phi(&after), "{after}");
        });
    }

    /// Lowers `text` at the optimized level and runs its IR passes; hands the module
    /// and its machine to `f`.
    fn with_passed_module(text: &str, f: impl FnOnce(&inkwell::module::Module<'_>, &mut crate::build::Machine)) {
        let trace = leones_ir::parse(text).expect("parses");
        let info = UnitInfo::for_tests("leones_codegen_test");
        let ctx = Context::create();
        let mut machines = Machines::default();
        let (module, machine) = lower_verified(&ctx, &trace, &info, Level::Optimized, &mut machines).expect("lowers");
        machine.run_passes(&module).expect("passes");
        f(&module, machine);
    }

    /// Code generation first splits each block ending in a `musttail` call before the
    /// call's target load (so FastISel selects the block's stores; see
    /// `split_tail_calls` in `cpp/codegen.cpp`): after emitting, the module has a
    /// `tail` block holding only the load, the cast, the call and the `ret`.
    #[test]
    fn exit_dispatch_is_split_from_the_exit_stores() {
        with_passed_module(LOOP, |module, machine| {
            machine.emit_object(module).expect("emits");
            let text = module.print_to_string().to_string();
            let tail = text.split("\ntail").nth(1).expect("a split-off tail block");
            let body: Vec<&str> = tail.lines().skip(1).take_while(|l| !l.is_empty()).collect();
            assert!(body[0].contains("load atomic"), "{text}");
            assert!(body.iter().any(|l| l.contains("musttail call")), "{text}");
            assert!(
                body.last().is_some_and(|l| l.trim_start().starts_with("ret ")),
                "{text}"
            );
            assert!(body.len() <= 4, "{text}");
        });
    }
}
