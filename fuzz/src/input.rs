//! # From fuzzer bytes to generated test cases
//!
//! libFuzzer hands over a byte string; the trace generator (`leones_ir::gen`) is a set
//! of proptest strategies. A target reads a few leading control bytes directly
//! ([`Input::byte`]: a generator preset, a pass order, a backend level), and the next
//! [`SEED_BYTES`] bytes seed proptest's ChaCha RNG, from which [`Input::generate`]
//! draws values. The same file always builds the same test case; bytes past the seed
//! are ignored (the scripts pass `-max_len=64`).
//!
//! Why not proptest's `PassThrough` RNG, which would hand the bytes themselves to the
//! strategies and make a mutated file build a *nearby* case? Every `prop_oneof!`
//! makes lazy trees for its other arms, and each takes a fork of the runner's RNG; a
//! pass-through fork gets half of the remaining bytes, so after a dozen unions the
//! stream is all zeros, on which rand's rejection sampling loops forever (the first
//! smoke run hung exactly so). With a seeded RNG, libFuzzer still keeps every seed
//! that reaches new coverage, which is what guides it.

use leones_ir::gen::{arb_case, GenConfig, TestCase};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Bytes of the RNG seed (ChaCha's seed size); shorter inputs are padded with zeros.
pub const SEED_BYTES: usize = 32;

/// A fuzz input: a few leading control bytes, then the generator's seed.
pub struct Input<'a> {
    data: &'a [u8],
    runner: Option<TestRunner>,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data, runner: None }
    }

    /// The next control byte (0 once the input is used up). Only before [`generate`].
    ///
    /// [`generate`]: Input::generate
    pub fn byte(&mut self) -> u8 {
        assert!(self.runner.is_none(), "control bytes come before generated values");
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A value of `strategy`, drawn from the RNG the seed bytes start (one stream
    /// shared by successive calls). `None` if the strategy rejected the draw.
    pub fn generate<S: Strategy>(&mut self, strategy: S) -> Option<S::Value> {
        let data = self.data;
        let runner = self.runner.get_or_insert_with(|| {
            let mut seed = [0u8; SEED_BYTES];
            let n = data.len().min(SEED_BYTES);
            seed[..n].copy_from_slice(&data[..n]);
            let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
            TestRunner::new_with_rng(Config::default(), rng)
        });
        strategy.new_tree(runner).ok().map(|tree| tree.current())
    }
}

/// The generator presets, as the differential tests use them (at most 40 steps).
pub fn config(sel: u8) -> GenConfig {
    let base = match sel % 5 {
        0 => GenConfig::everything(),
        1 => GenConfig::straight_line(),
        2 => GenConfig::loops(),
        3 => GenConfig::regions(),
        _ => GenConfig::scalars(),
    };
    GenConfig {
        max_steps: base.max_steps.min(40),
        ..base
    }
}

/// A generated test case: the first control byte picks the preset.
pub fn test_case(input: &mut Input) -> Option<(GenConfig, TestCase)> {
    let cfg = config(input.byte());
    let case = input.generate(arb_case(cfg.clone()))?;
    Some((cfg, case))
}
