//! The one randomness contract of SPEC §1.
//!
//! A stream is a `Pcg64Mcg` seeded from `key(seed, domain, indices...)`; uniform
//! doubles take the top 53 bits of one `u64`. Work is split into fixed units
//! (blocks, bins, windows), each with its own stream, never sized by thread count.

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use sha2::{Digest, Sha256};

/// Domain tags of SPEC §1: defined here once; the extension exports each as `DOMAIN_<NAME>`.
pub mod domain {
    pub const DITHER: u64 = 1;
    pub const GENERATE: u64 = 2;
    pub const TASK: u64 = 3;
    pub const WIDTHS: u64 = 4;
    pub const OFFSETS: u64 = 5;
    pub const CHUNKS: u64 = 6;
    pub const BOOTSTRAP: u64 = 7;
    pub const SEARCH: u64 = 8;
    pub const VIDEO: u64 = 9;
    pub const RUN: u64 = 10;
    pub const SENSITIVITY: u64 = 11;

    /// Every domain with its SPEC §1 name, in number order.
    pub const ALL: [(&str, u64); 11] = [
        ("DITHER", DITHER),
        ("GENERATE", GENERATE),
        ("TASK", TASK),
        ("WIDTHS", WIDTHS),
        ("OFFSETS", OFFSETS),
        ("CHUNKS", CHUNKS),
        ("BOOTSTRAP", BOOTSTRAP),
        ("SEARCH", SEARCH),
        ("VIDEO", VIDEO),
        ("RUN", RUN),
        ("SENSITIVITY", SENSITIVITY),
    ];
}

/// Rows per dithering block and chunks per sampler block.
pub const EVENT_BLOCK: usize = 65_536;
pub const CHUNK_BLOCK: usize = 4_096;

/// SplitMix64 finaliser.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stream key for (seed, domain, indices...).
pub fn key(seed: u64, domain: u64, indices: &[u64]) -> u64 {
    let mut h = mix(seed ^ mix(domain));
    for &i in indices {
        h = mix(h ^ i);
    }
    h
}

/// A fresh generator for one unit of work.
pub fn stream(seed: u64, domain: u64, indices: &[u64]) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(key(seed, domain, indices))
}

/// Uniform double in [0, 1) from 53 random bits.
#[inline]
pub fn uniform(rng: &mut Pcg64Mcg) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// First 8 bytes (little-endian) of SHA-256 of the UTF-8 string.
pub fn str_u64(s: &str) -> u64 {
    let digest = Sha256::digest(s.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// `n` uniforms of one stream, in draw order.
pub fn uniforms(seed: u64, domain: u64, indices: &[u64], n: usize) -> Vec<f64> {
    let mut rng = stream(seed, domain, indices);
    (0..n).map(|_| uniform(&mut rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_matches_splitmix64_reference() {
        // SplitMix64 with state 0 yields 0xE220A8397B1DCDAF as its first output.
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn domains_are_numbered_as_in_the_spec() {
        // SPEC §1: 1 DITHER … 10 RUN, 11 SENSITIVITY (rev 2); numbers are part of every stream key.
        for (position, (name, number)) in domain::ALL.iter().enumerate() {
            assert_eq!(*number, position as u64 + 1, "{name}");
        }
        assert_eq!(domain::ALL[10], ("SENSITIVITY", 11));
    }

    #[test]
    fn key_depends_on_every_part() {
        let base = key(1, domain::DITHER, &[2, 3]);
        assert_ne!(base, key(2, domain::DITHER, &[2, 3]));
        assert_ne!(base, key(1, domain::GENERATE, &[2, 3]));
        assert_ne!(base, key(1, domain::DITHER, &[3, 2]));
        assert_ne!(base, key(1, domain::DITHER, &[2]));
    }

    #[test]
    fn uniforms_lie_in_unit_interval() {
        let u = uniforms(7, domain::DITHER, &[0], 10_000);
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = u.iter().sum::<f64>() / u.len() as f64;
        // standard error of the mean of U(0,1) with n = 1e4 is 0.0029
        assert!((mean - 0.5).abs() < 5.0 * 0.0029);
    }

    #[test]
    fn str_u64_is_sha256_prefix() {
        // SHA-256("abc") = ba7816bf8f01cfea...
        assert_eq!(str_u64("abc"), u64::from_le_bytes([0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea]));
    }
}
