//! A small deterministic random source (SplitMix64) and the helpers the generators need.
//!
//! Every stream is derived from the fleet seed plus a path of tags (host index, day, purpose),
//! so any part of the simulation can be regenerated on its own and the output does not depend on
//! the order in which hosts are processed.

/// SplitMix64: one 64-bit state, a Weyl increment and a finalizer. Fast, tiny, and statistically
/// good enough for synthetic telemetry (not for cryptography).
#[derive(Debug, Clone)]
pub struct Rng(u64);

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 finalizer, also used to mix tags into seeds.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: turns names (image paths, domains) into stable numbers.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mix(seed ^ GOLDEN))
    }

    /// An independent stream for `seed` and a path of tags.
    pub fn derive(seed: u64, tags: &[u64]) -> Self {
        let mut s = mix(seed.wrapping_add(GOLDEN));
        for (i, t) in tags.iter().enumerate() {
            s = mix(s ^ t.wrapping_mul(GOLDEN).wrapping_add(i as u64 + 1));
        }
        Rng(s)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift (bias below 2^-32 for the sizes used here).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Index chosen with probability proportional to `weights`.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| w as u64).sum();
        let mut x = self.below(total.max(1));
        for (i, &w) in weights.iter().enumerate() {
            if x < w as u64 {
                return i;
            }
            x -= w as u64;
        }
        weights.len() - 1
    }

    /// Approximately normal (sum of three uniforms), mean 0, standard deviation ~`sd`.
    pub fn gauss(&mut self, sd: f64) -> f64 {
        (self.unit() + self.unit() + self.unit() - 1.5) * 2.0 * sd
    }

    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        (0..n).map(|_| DIGITS[self.below(16) as usize] as char).collect()
    }

    /// `n` letters drawn from `alphabet`.
    pub fn word(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char).collect()
    }

    /// A random-looking GUID in registry form, lower case, with braces.
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{{{:08x}-{:04x}-{:04x}-{:04x}-{:012x}}}",
            a >> 32,
            (a >> 16) & 0xffff,
            (a & 0x0fff) | 0x4000,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// A Windows process id: a multiple of four.
    pub fn pid(&mut self) -> u32 {
        (self.range(100, 9000) * 4) as u32
    }
}

/// Letters for names that look machine-generated.
pub const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
pub const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A pronounceable random label (`kovarelun`): consonant-vowel syllables, as many throwaway C2
/// domains are.
pub fn syllables(rng: &mut Rng, n: usize) -> String {
    const C: &[u8] = b"bcdfghjklmnprstvwz";
    const V: &[u8] = b"aeiou";
    let mut s = String::with_capacity(n * 2 + 1);
    for _ in 0..n {
        s.push(C[rng.below(C.len() as u64) as usize] as char);
        s.push(V[rng.below(V.len() as u64) as usize] as char);
    }
    if rng.chance(0.5) {
        s.push(C[rng.below(C.len() as u64) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::derive(7, &[1, 2]);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::derive(7, &[1, 2]);
                move |_| r.next_u64()
            })
            .collect();
        let c = Rng::derive(7, &[2, 1]).next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }

    #[test]
    fn helpers_stay_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let x = r.range(-3, 5);
            assert!((-3..=5).contains(&x));
            assert!(r.unit() < 1.0);
            assert_eq!(r.pid() % 4, 0);
        }
        let g = r.guid();
        assert_eq!(g.len(), 38);
        assert!(g.starts_with('{') && g.ends_with('}'));
        let mut counts = [0u32; 3];
        for _ in 0..3000 {
            counts[r.weighted(&[1, 0, 2])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > counts[0]);
    }
}
