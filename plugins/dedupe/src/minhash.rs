//! MinHash signatures over word shingles, and the LSH bands that index them: how near-copies (a
//! wire story reposted with a new headline, a trimmed tail, ads in between) find each other
//! without comparing against every stored article.
//!
//! Hashes are FNV-1a and splitmix64, written out here, because the bands are stored in the
//! database: `std`'s hasher may change between Rust releases and would silently break lookups.

/// Words per shingle: long enough that two unrelated articles share almost none.
pub const SHINGLE_WORDS: usize = 5;
/// Hash functions per signature.
pub const HASHES: usize = 64;
/// Signature rows per LSH band: 16 bands of 4 rows find pairs above ~0.5 Jaccard with high
/// probability ((1 - (1 - 0.5^4)^16) ≈ 0.64; at 0.8 it is ≈ 0.9997).
pub const BAND_ROWS: usize = 4;

/// A MinHash signature: the minimum of each hash function over the shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub Vec<u64>);

/// The signature of a text given as its normalised words (an empty text gives all `u64::MAX`).
pub fn signature(words: &[&str]) -> Signature {
    let mut mins = vec![u64::MAX; HASHES];
    let width = SHINGLE_WORDS.min(words.len().max(1));
    for shingle in words.windows(width) {
        let base = shingle_hash(shingle);
        for (i, min) in mins.iter_mut().enumerate() {
            let h = splitmix64(base ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            if h < *min {
                *min = h;
            }
        }
    }
    Signature(mins)
}

impl Signature {
    /// The estimated Jaccard similarity of the two shingle sets (share of equal minima).
    pub fn similarity(&self, other: &Signature) -> f64 {
        if self.0.is_empty() || self.0[0] == u64::MAX || other.0[0] == u64::MAX {
            return 0.0;
        }
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        same as f64 / self.0.len().max(1) as f64
    }

    /// The LSH band keys, `"<band>:<hash>"`; two texts sharing one key are near-copy candidates.
    pub fn bands(&self) -> Vec<String> {
        if self.0.first() == Some(&u64::MAX) {
            return Vec::new();
        }
        self.0
            .chunks(BAND_ROWS)
            .enumerate()
            .map(|(band, rows)| {
                let h = rows.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, r| splitmix64(h ^ r));
                format!("{band}:{h:016x}")
            })
            .collect()
    }
}

fn shingle_hash(words: &[&str]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for word in words {
        for byte in word.bytes().chain(std::iter::once(b' ')) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn a_trimmed_copy_is_similar_and_shares_a_band() {
        let long: String = (0..200).map(|i| format!("word{} ", i % 97 * 7 + i)).collect();
        let trimmed: String = long.split_whitespace().take(180).collect::<Vec<_>>().join(" ");
        let (a, b) = (signature(&words(&long)), signature(&words(&trimmed)));
        assert!(a.similarity(&b) > 0.75, "{}", a.similarity(&b));
        assert!(a.bands().iter().any(|band| b.bands().contains(band)));
        let other = signature(&words("an entirely different text about something else with new words"));
        assert!(a.similarity(&other) < 0.1);
    }

    #[test]
    fn hashes_are_stable_across_builds() {
        // Stored bands must not change with the compiler: pin one value.
        assert_eq!(signature(&["a", "b", "c", "d", "e"]).bands()[0], "0:1c45ed2060995645");
    }
}
