//! # Levels: target machines, pass pipelines, object buffers
//!
//! A [`Level`] is a pair of decisions: which IR pass pipeline runs (through the new
//! pass manager's `LLVMRunPasses`) and at which optimization level the TargetMachine
//! selects instructions and allocates registers. `quick` aims at compile latency (well
//! under a millisecond for a 100-op trace, see the README's table): `mem2reg`,
//! `early-cse`, `simplifycfg<no-simplify-cond-branch>`, then O0 code generation
//! (FastISel and the fast register allocator). Measured alternatives: `instcombine`
//! instead of `early-cse` costs 2x the pass time for little gain at O0; without any CSE
//! the O0 code generator gets *slower* (it chews on every redundant load); O1 code
//! generation costs ~3x. `no-simplify-cond-branch` because a plain `simplifycfg` folds
//! chains of guards on one value into `switch`es, and FastISel cannot select a
//! `switch`: every such block went through SelectionDAG instead (32 of the 148 blocks
//! of data_driven's largest quick region; `llc -O0` on it: 4.5 → 2.5 ms, same code
//! size). The only instruction FastISel still misses is the one `musttail` call of
//! each unit's dispatch block (`fabs` is lowered as a sign-bit mask for the same reason).
//!
//! `optimized`, for units that stay hot, is the shortest pipeline that pays —
//! `instcombine`, `simplifycfg` — with O2 code generation made *lean*
//! ([`lean_codegen`]): FastISel instead of SelectionDAG (per target machine), no
//! machine-level LICM, CSE, sinking or scheduling (before or after register
//! allocation), no CodeGenPrepare, constant
//! hoisting, loop strength reduction or tail merging ([`LEAN_CODEGEN_OPTIONS`]: LLVM
//! command-line options, so they apply to the
//! whole process; none of those passes runs at O0), and LLVM's *basic* register
//! allocator instead of the greedy one (chosen per pass manager, see
//! `crate::codegen`: `-regalloc` is process-wide and LLVM aborts at O0 with anything
//! but the fast allocator). Each step was measured on the talk's programs under pylite
//! (medians of interleaved runs, the programs' own timings within run-to-run noise):
//! FastISel and the machine-pass options (session 10) took pythagorean's largest
//! region from 16.6 to 8.4 ms in `llc`; the pipeline went `default<O2>` →
//! `default<O1>` → `sroa, early-cse<memssa>, instcombine, simplifycfg, gvn, licm` (the
//! IR passes 3-7x cheaper, pythagorean's five optimized units 30 → 6 ms) → the two
//! passes above (session 19: compile time 10-15% less on every program, pi's loop
//! 0.0219 → 0.0192 s, the others within noise — the trace reaches LLVM with Leones'
//! own CSE, load forwarding, allocation removal and loop peeling done, and `gvn`,
//! `licm`, `early-cse` and `sroa` (one `alloca`) found little after them; without
//! `instcombine` pi's loop got 10-20% slower: it folds the lowering's overflow
//! intrinsics, `irem` by constants and NaN-canonicalizing selects); dropping
//! CodeGenPrepare and constant hoisting saved 10-17% of code generation on the
//! larger regions and the basic allocator another 15-20% (pythagorean's generator
//! region 7.2 → 6.0 ms warm); session 21 dropped loop strength reduction once
//! FastISel selects whole loop bodies (see `crate::codegen`). Code generation, not
//! the IR passes, is most of an optimized unit's cost.
//! (`instcombine<no-verify-fixpoint>`, as LLVM's own pipelines run
//! it: a bare `instcombine` aborts the process when one round does not reach a
//! fixpoint, which generated traces do.)
//! `LEONES_LLVM_PASSES_OPTIMIZED=default<O2>` (or any pipeline text) and
//! `LEONES_LLVM_CODEGEN_OPTIMIZED=less` (none/less/default/aggressive) bring
//! alternatives back for comparison; an unparsable pipeline text is a [`BackendError`],
//! but LLVM aborts on a parsable pipeline whose passes cannot run (e.g. `licm`
//! outside `loop-mssa(..)`), so the overrides are for experiments only.
//! `LEONES_LLVM_OPTIONS` (space-separated, e.g. `-optimize-regalloc -regalloc=greedy`)
//! is handed to LLVM's command-line parser when the target is first initialized, after
//! the lean options (so it can override them) — process-wide, so also an experiment
//! knob (a `-regalloc` given there also wins over the basic allocator);
//! `LEONES_LLVM_LEAN=0` turns the lean options and FastISel off,
//! `LEONES_LLVM_REGALLOC_OPTIMIZED=greedy` the basic allocator, and
//! `LEONES_LLVM_REUSE_CODEGEN=0` the reused code generator (`crate::codegen`). Measured with them
//! (medians of 5 interleaved runs of the talk's programs): FastISel alone at O2 cut
//! compile time 5-10% at the same program speed; the greedy register allocator at O0
//! made quick code 2.4x faster on pi but cost 50-100% more quick compile time and
//! helped no other program.
//!
//! Invariants: a module gets the target's triple and data layout *before* any pass
//! runs (passes consult them); object emission returns an `ObjectBuffer` that owns
//! the LLVM memory buffer until it is handed to ORC exactly once
//! (`ObjectBuffer::into_raw`) — if it is never handed over, it is disposed.

use crate::BackendError;
use inkwell::llvm_sys::core::LLVMDisposeMemoryBuffer;
use inkwell::llvm_sys::prelude::LLVMMemoryBufferRef;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::OptimizationLevel;
use std::ffi::CStr;
use std::sync::OnceLock;

/// How hard to optimize a unit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// No LLVM: x86-64 generated straight from the IR by [`crate::baseline`], tens of
    /// microseconds a unit. The first tier.
    Baseline,
    /// Cheap IR passes and fast instruction selection: the lowest latency through LLVM.
    Quick,
    /// A short function pipeline and lean O2 code generation (see the module docs).
    Optimized,
}

impl Level {
    /// Every level.
    pub const ALL: [Level; 3] = [Level::Baseline, Level::Quick, Level::Optimized];

    /// Whether units at this level are generated by LLVM.
    pub fn uses_llvm(self) -> bool {
        self != Level::Baseline
    }

    /// The new-pass-manager pipeline run on the lowered module.
    pub fn pipeline(self) -> &'static str {
        match self {
            Level::Baseline => "",
            Level::Quick => "mem2reg,early-cse,simplifycfg<no-simplify-cond-branch>",
            Level::Optimized => "function(instcombine<no-verify-fixpoint>,simplifycfg)",
        }
    }

    /// The code generator's optimization level.
    pub fn codegen_level(self) -> OptimizationLevel {
        match self {
            Level::Baseline | Level::Quick => OptimizationLevel::None,
            Level::Optimized => OptimizationLevel::Default,
        }
    }

    /// `baseline` / `quick` / `optimized`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Quick => "quick",
            Level::Optimized => "optimized",
        }
    }

    /// Parses `baseline` / `quick` / `optimized` (also `o2`).
    pub fn from_name(s: &str) -> Option<Level> {
        match s {
            "baseline" => Some(Level::Baseline),
            "quick" => Some(Level::Quick),
            "optimized" | "o2" | "O2" => Some(Level::Optimized),
            _ => None,
        }
    }
}

/// The code generator's machine-level passes the optimized level leaves out (LLVM
/// command-line options, so process-wide; see the module docs). None of them runs at
/// O0, so the quick level is unchanged.
pub const LEAN_CODEGEN_OPTIONS: &[&str] = &[
    // The IR pipeline already hoisted invariants (`licm`) and removed redundancy
    // (`early-cse`, `gvn`); what is left for the machine-level copies is little.
    "-disable-machine-licm",
    "-disable-machine-cse",
    "-disable-machine-sink",
    // Out-of-order x86 cores reorder a trace's short blocks themselves.
    "-enable-misched=false",
    // The same for the list scheduler after register allocation, which LLVM runs only
    // for CPUs whose model asks for it — the host's, on AMD Zen: 1 of pythagorean's
    // 7.5 ms largest region in `llc -mcpu=znver4`, 0 with `-mcpu=x86-64-v3`; in pylite
    // 8-11% of compile time on the talk's programs, their speed within noise
    // (session 23, 9 interleaved runs).
    "-post-RA-scheduler=false",
    // CodeGenPrepare sinks compares and address arithmetic next to their uses for
    // SelectionDAG's block-at-a-time view; FastISel selects most of a unit's blocks,
    // and a trace's guards compare right before their branch already. Constant
    // hoisting shares expensive immediates across a function; a trace's constants
    // are addresses used once or twice. Each cost 10-17% of code generation on the
    // talk's larger regions (session 19, see the README's compile-latency notes).
    "-disable-cgp",
    "-disable-constant-hoisting",
    // Loop strength reduction (with the IV-users analysis and freeze canonicalization
    // it brings) rewrites induction variables for addressing modes; a trace's loop
    // counters are integers with overflow guards, and on pi's loop all it changed was
    // one `lea` (session 21). It cost 8-25% of code generation on the talk's regions
    // once FastISel selects their loop bodies: the overflow phis `cpp/codegen.cpp`
    // splits for FastISel are induction variables it then works on.
    "-disable-lsr",
    // Tail merging (in branch folding) looks for common instruction tails among a
    // unit's many exit blocks, which share their stores through the lowering's exit
    // chains already: 4-10% of code generation on the talk's regions (session 21), for
    // no measurable change in the programs' speed or code size (±4%, either way).
    "-enable-tail-merge=false",
];

/// Whether the optimized level generates code the lean way (FastISel and
/// [`LEAN_CODEGEN_OPTIONS`]): yes unless `LEONES_LLVM_LEAN=0` (for comparison).
pub fn lean_codegen() -> bool {
    std::env::var("LEONES_LLVM_LEAN").map_or(true, |v| v != "0")
}

/// Initializes the native target once; later calls return the first outcome.
fn init_native() -> Result<(), BackendError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        Target::initialize_native(&InitializationConfig::default())?;
        let mut opts: Vec<String> = Vec::new();
        if lean_codegen() {
            opts.extend(LEAN_CODEGEN_OPTIONS.iter().map(|o| o.to_string()));
        }
        // The experimenter's options come last: for an option given twice, LLVM
        // keeps the last value.
        if let Ok(extra) = std::env::var("LEONES_LLVM_OPTIONS") {
            opts.extend(extra.split_whitespace().map(str::to_string));
        }
        if !opts.is_empty() {
            parse_llvm_options(&opts);
        }
        Ok(())
    })
    .clone()
    .map_err(BackendError::Target)
}

/// Hands `opts` (e.g. `-regalloc=greedy`) to LLVM's command-line parser:
/// process-wide, once.
fn parse_llvm_options(opts: &[String]) {
    let args: Vec<std::ffi::CString> = std::iter::once("leones")
        .chain(opts.iter().map(String::as_str))
        .filter_map(|a| std::ffi::CString::new(a).ok())
        .collect();
    let ptrs: Vec<*const std::os::raw::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    unsafe {
        inkwell::llvm_sys::support::LLVMParseCommandLineOptions(ptrs.len() as i32, ptrs.as_ptr(), std::ptr::null())
    };
}

/// A TargetMachine for the host CPU at `level`'s codegen level.
pub(crate) fn target_machine(level: Level) -> Result<TargetMachine, BackendError> {
    init_native()?;
    let triple = TargetMachine::get_default_triple();
    let target = Target::from_triple(&triple).map_err(|e| BackendError::Target(e.to_string()))?;
    let cpu = TargetMachine::get_host_cpu_name();
    let features = TargetMachine::get_host_cpu_features();
    let cpu = cpu.to_str().map_err(|e| BackendError::Target(e.to_string()))?;
    let features = features.to_str().map_err(|e| BackendError::Target(e.to_string()))?;
    let tm = target
        .create_target_machine(
            &triple,
            cpu,
            features,
            effective_codegen_level(level),
            RelocMode::PIC,
            CodeModel::Small,
        )
        .ok_or_else(|| BackendError::Target(format!("no TargetMachine for {}", triple)))?;
    if level == Level::Optimized && lean_codegen() {
        // SAFETY: a live target machine we own; the flag only selects the
        // instruction selector its code generator uses.
        unsafe { inkwell::llvm_sys::target_machine::LLVMSetTargetMachineFastISel(tm.as_mut_ptr(), 1) };
    }
    Ok(tm)
}

/// Sets the module's triple and data layout from `tm` (before any pass runs).
pub(crate) fn prepare(module: &Module<'_>, tm: &TargetMachine) {
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
}

/// Verifies the module (LLVM's verifier), turning failure into an error.
pub(crate) fn verify(module: &Module<'_>) -> Result<(), BackendError> {
    module.verify().map_err(|e| BackendError::Verify(e.to_string()))
}

/// The pipeline actually run at `level`: [`Level::pipeline`], unless the environment
/// variable `LEONES_LLVM_PASSES_QUICK` / `LEONES_LLVM_PASSES_OPTIMIZED` overrides it
/// (for experiments; an empty value runs no passes).
pub fn effective_pipeline(level: Level) -> String {
    env_override("PASSES", level).unwrap_or_else(|| level.pipeline().to_string())
}

/// `LEONES_LLVM_<what>_QUICK` / `_OPTIMIZED` for `level`, if set.
fn env_override(what: &str, level: Level) -> Option<String> {
    std::env::var(format!("LEONES_LLVM_{what}_{}", level.name().to_uppercase())).ok()
}

/// The code generator's level actually used at `level`: [`Level::codegen_level`], unless
/// `LEONES_LLVM_CODEGEN_QUICK` / `LEONES_LLVM_CODEGEN_OPTIMIZED` names another (`none`,
/// `less`, `default`, `aggressive`; for experiments, like the pipeline override).
pub fn effective_codegen_level(level: Level) -> OptimizationLevel {
    match env_override("CODEGEN", level).as_deref() {
        Some("none") => OptimizationLevel::None,
        Some("less") => OptimizationLevel::Less,
        Some("default") => OptimizationLevel::Default,
        Some("aggressive") => OptimizationLevel::Aggressive,
        _ => level.codegen_level(),
    }
}

/// Runs the pass pipeline `pipeline` (a level's [`effective_pipeline`], which a
/// [`Machine`](crate::build::Machine) keeps) on the module.
pub(crate) fn run_pipeline(module: &Module<'_>, pipeline: &str, tm: &TargetMachine) -> Result<(), BackendError> {
    if pipeline.is_empty() {
        return Ok(());
    }
    module
        .run_passes(pipeline, tm, PassBuilderOptions::create())
        .map_err(|e| BackendError::Passes {
            pipeline: pipeline.to_string(),
            message: e.to_string(),
        })
}

/// An object file in an LLVM memory buffer, owned until handed to ORC.
pub(crate) struct ObjectBuffer(LLVMMemoryBufferRef);

// SAFETY: a memory buffer belongs to no LLVM context or thread; the buffer is owned
// exclusively (built on the compiler thread, handed to ORC on the host's).
unsafe impl Send for ObjectBuffer {}

impl ObjectBuffer {
    /// An object file made outside LLVM (the baseline level's), copied into an LLVM
    /// memory buffer.
    pub(crate) fn from_bytes(bytes: &[u8], name: &str) -> ObjectBuffer {
        let name = std::ffi::CString::new(name).unwrap_or_default();
        // SAFETY: LLVM copies `bytes`; the name is a valid C string for the call.
        ObjectBuffer(unsafe {
            inkwell::llvm_sys::core::LLVMCreateMemoryBufferWithMemoryRangeCopy(
                bytes.as_ptr().cast(),
                bytes.len(),
                name.as_ptr(),
            )
        })
    }

    /// Takes ownership of a buffer LLVM made for us.
    pub(crate) fn from_raw(raw: LLVMMemoryBufferRef) -> ObjectBuffer {
        ObjectBuffer(raw)
    }

    /// The object file's bytes.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: we own a live buffer; the slice borrows it.
        unsafe {
            let start = inkwell::llvm_sys::core::LLVMGetBufferStart(self.0);
            std::slice::from_raw_parts(start.cast(), inkwell::llvm_sys::core::LLVMGetBufferSize(self.0))
        }
    }

    /// Gives up ownership (to ORC, which disposes of it).
    pub(crate) fn into_raw(self) -> LLVMMemoryBufferRef {
        let raw = self.0;
        std::mem::forget(self);
        raw
    }
}

impl ObjectBuffer {
    /// The object file's size in bytes.
    pub(crate) fn object_size(&self) -> u64 {
        // SAFETY: we own a live buffer.
        unsafe { inkwell::llvm_sys::core::LLVMGetBufferSize(self.0) as u64 }
    }

    /// What LLVM's object-file API reads off the object: the total size of its code
    /// sections (`.text*` in ELF, `__text` in Mach-O) and the size of the symbol
    /// `entry` (its function's machine code, `None` if the symbol table does not say).
    /// `None` if LLVM cannot parse the object.
    pub(crate) fn code_sizes(&self, entry: &str) -> Option<CodeSizes> {
        use inkwell::llvm_sys::object::*;
        let mut err = std::ptr::null_mut();
        // SAFETY: the binary borrows our buffer (it does not take ownership) and is
        // disposed of before we return; a null context is allowed for object files.
        // Section and symbol names are NUL-terminated strings owned by the binary.
        unsafe {
            let bin = LLVMCreateBinary(self.0, std::ptr::null_mut(), &mut err);
            if bin.is_null() {
                if !err.is_null() {
                    inkwell::llvm_sys::core::LLVMDisposeMessage(err);
                }
                return None;
            }
            let mut sizes = CodeSizes { text: 0, entry: None };
            let it = LLVMObjectFileCopySectionIterator(bin);
            while LLVMObjectFileIsSectionIteratorAtEnd(bin, it) == 0 {
                let name = LLVMGetSectionName(it);
                if !name.is_null() {
                    let name = CStr::from_ptr(name).to_bytes();
                    if name.starts_with(b".text") || name == b"__text" {
                        sizes.text += LLVMGetSectionSize(it);
                    }
                }
                LLVMMoveToNextSection(it);
            }
            LLVMDisposeSectionIterator(it);
            let it = LLVMObjectFileCopySymbolIterator(bin);
            while sizes.entry.is_none() && LLVMObjectFileIsSymbolIteratorAtEnd(bin, it) == 0 {
                let name = LLVMGetSymbolName(it);
                if !name.is_null() && CStr::from_ptr(name).to_bytes() == entry.as_bytes() {
                    // ELF records a function's size; Mach-O does not (0 there).
                    sizes.entry = Some(LLVMGetSymbolSize(it)).filter(|&n| n > 0);
                }
                LLVMMoveToNextSymbol(it);
            }
            LLVMDisposeSymbolIterator(it);
            LLVMDisposeBinary(bin);
            Some(sizes)
        }
    }
}

/// Code sizes read off an object file ([`ObjectBuffer::code_sizes`]), in bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeSizes {
    /// All code sections together.
    pub text: u64,
    /// The entry function alone, when the symbol table gives its size.
    pub entry: Option<u64>,
}

impl Drop for ObjectBuffer {
    fn drop(&mut self) {
        // SAFETY: we own the buffer (it was never handed over, see `into_raw`).
        unsafe { LLVMDisposeMemoryBuffer(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{lower_verified, Machines};
    use crate::lower::UnitInfo;
    use inkwell::context::Context;

    /// The quick level's IR after `pipeline` (run on a freshly lowered `trace`).
    fn after(pipeline: &str, trace: &str) -> String {
        let trace = leones_ir::parse(trace).unwrap();
        let info = UnitInfo::for_tests("t");
        let ctx = Context::create();
        let mut machines = Machines::default();
        let (module, machine) = lower_verified(&ctx, &trace, &info, Level::Quick, &mut machines).unwrap();
        module
            .run_passes(pipeline, &machine.tm, PassBuilderOptions::create())
            .unwrap();
        module.print_to_string().to_string()
    }

    /// A guard on "the value is one of two constants" (a type check that accepts two
    /// tags reads like this): `simplifycfg` folds such a branch into a `switch`, which
    /// O0's FastISel cannot select — the block then goes through SelectionDAG, and in
    /// data_driven's regions one block in five did. The quick pipeline keeps the branch.
    #[test]
    fn the_quick_pipeline_keeps_guard_branches_for_fastisel() {
        let trace = "trace t\nframe main code 0x1 slots 1\n\nblock0(v0: i64):\n    v1 = const 4\n    \
                     v2 = ieq v0, v1\n    v3 = const 1\n    v4 = ieq v0, v3\n    v5 = bor v2, v4\n    \
                     guard_true v5 [main@0(v0)]\n    finish v0\n";
        assert!(after("mem2reg,early-cse,simplifycfg", trace).contains("switch i64"));
        let quick = after(Level::Quick.pipeline(), trace);
        assert!(!quick.contains("switch"), "{quick}");
    }
}
