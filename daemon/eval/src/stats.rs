//! The statistics the figures share: mean and standard deviation, and the seeded generator the
//! bootstrap resamples with, so that every figure repeats exactly from one run to the next.

/// Mean and standard deviation of `values`.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    (mean, var.sqrt())
}

/// A small deterministic generator for bootstrap resampling, so figures repeat exactly.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_std_of_a_known_list() {
        assert_eq!(mean_std(&[]), (0.0, 0.0));
        let (mean, std) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((mean, std), (5.0, 2.0));
    }

    #[test]
    fn the_generator_repeats_from_its_seed_and_stays_below_n() {
        let draws = |seed| {
            let mut rng = SplitMix(seed);
            (0..50).map(|_| rng.below(7)).collect::<Vec<_>>()
        };
        assert_eq!(draws(42), draws(42));
        assert_ne!(draws(42), draws(43));
        assert!(draws(42).iter().all(|&d| d < 7));
    }
}
