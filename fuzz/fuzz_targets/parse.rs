//! Fuzz target `parse`: arbitrary bytes into the IR text parser, the verifier, the
//! printer (a fixed point on valid traces), the optimizer and the interpreter; see
//! `leones_fuzz::parse`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leones_fuzz::parse::check(data));
