//! Fuzz target `opt_diff`: generated traces run before and after optimization must
//! agree; see `leones_fuzz::opt_diff`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leones_fuzz::opt_diff::check(data));
