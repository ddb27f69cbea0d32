//! Cross-crate test support for Leones: the filetest format and its runner.
//!
//! A filetest is a trace in the text format whose leading comments say what to do
//! with it. Run filetests (`tests/filetests/*.ir`) carry pairs of directives:
//!
//! ```text
//! ; run: 3, 0.0, new:Point
//! ; expect: exit g0 [main@7(3, 1.5, ref#0)] {&0 = Point{x: 1.5}}
//! ```
//!
//! `run:` lists block0's inputs: text-format literals (`5`, `2.5`, `true`, `null`),
//! or `new:Layout` (a fresh zeroed object, class word set), `array:Name:len` (a zeroed
//! array of that length) and `raw:size` (a zeroed raw buffer). `expect:` is one of
//! `finish v, ...`, `exit gN [frames] {virtuals}` (the snapshot syntax, with the values
//! the slots held), `jump @target(v, ...)` or `fault <kind>`. Non-null refs and ptrs
//! print as `ref#k`/`ptr#k`, numbered in order of first appearance in the outcome,
//! because their addresses differ from run to run.
//!
//! Invalid filetests (`tests/filetests/invalid/*.ir`) carry one directive,
//! `; error: parse|verify KIND LINE:COL`, and the runner asserts the error's kind and
//! position.

pub mod filetest;
