//! # Levels: target machines, pass pipelines, object emission
//!
//! A [`Level`] is a pair of decisions: which IR pass pipeline runs (through the new
//! pass manager's `LLVMRunPasses`) and at which optimization level the TargetMachine
//! selects instructions and allocates registers. `quick` aims at compile latency (well
//! under a millisecond for a 100-op trace, see the README's table): `mem2reg`,
//! `early-cse`, `simplifycfg`, then O0 code generation (FastISel and the fast register
//! allocator). Measured alternatives: `instcombine` instead of `early-cse` costs 2x
//! the pass time for little gain at O0; without any CSE the O0 code generator gets
//! *slower* (it chews on every redundant load); O1 code generation costs ~3x.
//!
//! `optimized`, for units that stay hot, is a short function pipeline — `sroa`,
//! `early-cse` (with MemorySSA), `instcombine`, `simplifycfg`, `gvn`, `licm` — with O2
//! code generation. (`instcombine<no-verify-fixpoint>`, as LLVM's own pipelines run
//! it: a bare `instcombine` aborts the process when one round does not reach a
//! fixpoint, which generated traces do.) A trace reaches LLVM already optimized by
//! Leones' passes (constants folded, loads forwarded, allocations removed, invariants
//! peeled into the preamble),
//! so what LLVM adds is instruction-level clean-up of the lowering (exit-slot loads,
//! overflow intrinsics, phis of the region's blocks); `default<O1>`'s inliner, loop
//! rotation, unrolling and its second rounds of the same passes found nothing more.
//! Measured on the talk's programs under pylite (medians of 5 interleaved runs): the
//! IR passes took 3-7x less time than `default<O1>` (pythagorean's five optimized
//! units 30 ms → 6 ms), the whole compile time 15-25% less, and the programs' own
//! timings were the same within noise (data_driven 0.301 → 0.274 s, pi 0.027 → 0.029
//! s, read_proto 0.052 → 0.052 s). Code generation, not the IR passes, is now most of
//! an optimized unit's cost. `default<O1>` in turn had replaced `default<O2>` (data_driven
//! 0.48/0.50 s against 0.55/0.58 s including compilation).
//! `LEONES_LLVM_PASSES_OPTIMIZED=default<O2>` (or any pipeline text) and
//! `LEONES_LLVM_CODEGEN_OPTIMIZED=less` (none/less/default/aggressive) bring
//! alternatives back for comparison; an unparsable pipeline text is a [`BackendError`],
//! but LLVM aborts on a parsable pipeline whose passes cannot run (e.g. `licm`
//! outside `loop-mssa(..)`), so the overrides are for experiments only.
//! `LEONES_LLVM_OPTIONS` (space-separated, e.g. `-fast-isel` or `-optimize-regalloc
//! -regalloc=greedy`) is handed to LLVM's command-line parser when the target is first
//! initialized — process-wide, so also an experiment knob. Measured with it (medians of
//! 5 interleaved runs of the talk's programs): `-fast-isel` (FastISel at O2 too) cut
//! compile time 5-10% at the same program speed; the greedy register allocator at O0
//! made quick code 2.4x faster on pi but cost 50-100% more quick compile time and
//! helped no other program.
//!
//! Invariants: a module gets the target's triple and data layout *before* any pass
//! runs (passes consult them); object emission returns an [`ObjectBuffer`] that owns
//! the LLVM memory buffer until it is handed to ORC exactly once
//! ([`ObjectBuffer::into_raw`]) — if it is never handed over, it is disposed.

use crate::BackendError;
use inkwell::llvm_sys::core::LLVMDisposeMemoryBuffer;
use inkwell::llvm_sys::prelude::LLVMMemoryBufferRef;
use inkwell::llvm_sys::target_machine::{LLVMCodeGenFileType, LLVMTargetMachineEmitToMemoryBuffer};
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::OptimizationLevel;
use std::ffi::CStr;
use std::sync::OnceLock;

/// How hard to optimize a unit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Cheap IR passes and fast instruction selection: lowest latency.
    Quick,
    /// A short function pipeline (see the module docs) and O2 code generation.
    Optimized,
}

impl Level {
    /// Both levels.
    pub const ALL: [Level; 2] = [Level::Quick, Level::Optimized];

    /// The new-pass-manager pipeline run on the lowered module.
    pub fn pipeline(self) -> &'static str {
        match self {
            Level::Quick => "mem2reg,early-cse,simplifycfg",
            Level::Optimized => {
                "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,gvn,loop-mssa(licm))"
            }
        }
    }

    /// The code generator's optimization level.
    pub fn codegen_level(self) -> OptimizationLevel {
        match self {
            Level::Quick => OptimizationLevel::None,
            Level::Optimized => OptimizationLevel::Default,
        }
    }

    /// `quick` / `optimized`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Quick => "quick",
            Level::Optimized => "optimized",
        }
    }

    /// Parses `quick` / `optimized` (also `o2`).
    pub fn from_name(s: &str) -> Option<Level> {
        match s {
            "quick" => Some(Level::Quick),
            "optimized" | "o2" | "O2" => Some(Level::Optimized),
            _ => None,
        }
    }
}

/// Initializes the native target once; later calls return the first outcome.
fn init_native() -> Result<(), BackendError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        Target::initialize_native(&InitializationConfig::default())?;
        if let Ok(opts) = std::env::var("LEONES_LLVM_OPTIONS") {
            parse_llvm_options(&opts);
        }
        Ok(())
    })
    .clone()
    .map_err(BackendError::Target)
}

/// Hands `opts` (space-separated, e.g. `-regalloc=greedy`) to LLVM's command-line
/// parser: process-wide, once, for experiments.
fn parse_llvm_options(opts: &str) {
    let args: Vec<std::ffi::CString> = std::iter::once("leones")
        .chain(opts.split_whitespace())
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
    target
        .create_target_machine(
            &triple,
            cpu,
            features,
            effective_codegen_level(level),
            RelocMode::PIC,
            CodeModel::Small,
        )
        .ok_or_else(|| BackendError::Target(format!("no TargetMachine for {}", triple)))
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

/// Runs `level`'s pipeline on the module.
pub(crate) fn run_passes(module: &Module<'_>, level: Level, tm: &TargetMachine) -> Result<(), BackendError> {
    let pipeline = effective_pipeline(level);
    if pipeline.is_empty() {
        return Ok(());
    }
    module
        .run_passes(&pipeline, tm, PassBuilderOptions::create())
        .map_err(|e| BackendError::Passes {
            pipeline,
            message: e.to_string(),
        })
}

/// An object file in an LLVM memory buffer, owned until handed to ORC.
pub(crate) struct ObjectBuffer(LLVMMemoryBufferRef);

// SAFETY: a memory buffer belongs to no LLVM context or thread; the buffer is owned
// exclusively (built on the compiler thread, handed to ORC on the host's).
unsafe impl Send for ObjectBuffer {}

impl ObjectBuffer {
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

/// Generates machine code for the module into an object file.
pub(crate) fn emit_object(module: &Module<'_>, tm: &TargetMachine) -> Result<ObjectBuffer, BackendError> {
    let mut err = std::ptr::null_mut();
    let mut buf = std::ptr::null_mut();
    // SAFETY: valid module and target machine; LLVM writes either an error message
    // (which we copy and free) or a buffer (which we own from here on).
    let failed = unsafe {
        LLVMTargetMachineEmitToMemoryBuffer(
            tm.as_mut_ptr(),
            module.as_mut_ptr(),
            LLVMCodeGenFileType::LLVMObjectFile,
            &mut err,
            &mut buf,
        )
    };
    if failed != 0 {
        let msg = if err.is_null() {
            "unknown error".to_string()
        } else {
            // SAFETY: LLVM returned a NUL-terminated message that we must dispose of.
            unsafe {
                let s = CStr::from_ptr(err).to_string_lossy().into_owned();
                inkwell::llvm_sys::core::LLVMDisposeMessage(err);
                s
            }
        };
        return Err(BackendError::Codegen(msg));
    }
    Ok(ObjectBuffer(buf))
}
