//! Fuzz target `llvm_diff`: generated traces, bridges and jump targets compiled by
//! the LLVM backend must agree with the interpreter; see `leones_fuzz::llvm_diff`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leones_fuzz::llvm_diff::check(data));
