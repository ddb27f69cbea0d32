//! # A fast hasher for the per-back-edge maps
//!
//! A host calls the JIT at every back-edge of every loop that is not compiled yet, and
//! each call looks its location up in a few maps (hotness counters, blacklist, compiled
//! loops; a host's own per-code caches). With the standard library's SipHash those
//! lookups cost more than interpreting a short loop's iteration: pylite spent ~70 ns
//! per back-edge in them, 6x its ~13 ns interpreted iteration. The keys are code
//! addresses and program counters the host makes, not attacker-chosen strings, so
//! HashDoS resistance buys nothing here; a multiply-rotate hash of the key's words
//! (the one rustc uses, "FxHash") is what these maps need. The engine's and the
//! backend's per-unit maps, asked on every entry and exit, use it for the same reason;
//! it lives here, in the crate that depends on nothing, so every crate can.
//!
//! ```
//! use leones_ir::FastHashMap;
//! let mut hits: FastHashMap<u64, u32> = FastHashMap::default();
//! *hits.entry(42).or_default() += 1;
//! assert_eq!(hits[&42], 1);
//! ```

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`WordHasher`].
pub type FastHashMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;
/// A `HashSet` with [`WordHasher`].
pub type FastHashSet<K> = HashSet<K, BuildHasherDefault<WordHasher>>;

/// FxHash: per word, rotate, xor the word in, multiply by an odd constant.
#[derive(Clone, Copy, Default, Debug)]
pub struct WordHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(t: T) -> u64 {
        BuildHasherDefault::<WordHasher>::default().hash_one(t)
    }

    #[test]
    fn nearby_keys_spread_and_equal_keys_agree() {
        // Locations differ in their low bits (pc) and in their high bits (code address).
        let hs: FastHashSet<u64> = (0..1000u64).map(|pc| hash((0x5555_0000u64 << 16) | pc)).collect();
        assert_eq!(hs.len(), 1000);
        // The top 7 bits (what hashbrown's control bytes use) still vary.
        let tops: FastHashSet<u64> = (0..1000u64).map(|pc| hash(pc) >> 57).collect();
        assert!(tops.len() > 64, "{}", tops.len());
        assert_eq!(hash((1u64, 2u32)), hash((1u64, 2u32)));
        assert_ne!(hash(&b"abcdefghi"[..]), hash(&b"abcdefghj"[..]));
    }
}
