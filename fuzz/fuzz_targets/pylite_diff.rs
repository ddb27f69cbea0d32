//! Fuzz target `pylite_diff`: generated pylite programs print the same and end the
//! same with the JIT off and on; see `leones_fuzz::pylite_diff`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leones_fuzz::pylite_diff::check(data));
