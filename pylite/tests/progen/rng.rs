//! # A tiny deterministic PRNG for the program generator
//!
//! SplitMix64: one `u64` of state, good statistical quality for this purpose, and —
//! the point — no dependency and no platform variation, so seed `n` names the same
//! program on every machine and in every Rust version. A failing seed printed by the
//! differential test can therefore be regenerated and studied anywhere.
//!
//! A fuzzer steers the generator through [`Rng::from_bytes`]: each draw mixes the
//! next eight bytes of its input into the state before scrambling, so a mutated byte
//! changes one decision (and what follows from it), not the whole program, and once
//! the bytes run out the stream simply goes on as SplitMix. With no bytes the stream
//! is exactly [`Rng::new`]'s, so a seed keeps naming the same program.

/// A SplitMix64 generator, optionally steered by a byte string.
pub struct Rng {
    state: u64,
    /// Bytes mixed into the draws, eight per draw, until used up.
    steer: Vec<u8>,
    used: usize,
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03,
            steer: Vec::new(),
            used: 0,
        }
    }

    /// A generator whose draws are steered by `bytes` (a fuzzer's input), then go on
    /// from `seed`'s stream.
    pub fn from_bytes(seed: u64, bytes: &[u8]) -> Rng {
        Rng {
            steer: bytes.to_vec(),
            ..Rng::new(seed)
        }
    }

    /// The next eight steering bytes (zero-padded), or 0 once they are used up.
    fn next_steer(&mut self) -> u64 {
        let rest = &self.steer[self.used.min(self.steer.len())..];
        let n = rest.len().min(8);
        let mut chunk = [0u8; 8];
        chunk[..n].copy_from_slice(&rest[..n]);
        self.used += n;
        u64::from_le_bytes(chunk)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state ^ self.next_steer();
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (`lo <= hi`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.next_u64() % 100 < percent as u64
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// An index chosen with the given weights (at least one must be non-zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| w as u64).sum();
        let mut r = self.next_u64() % total.max(1);
        for (i, &w) in weights.iter().enumerate() {
            if r < w as u64 {
                return i;
            }
            r -= w as u64;
        }
        weights.len() - 1
    }
}
