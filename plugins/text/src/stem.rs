//! Stemming: Porter's algorithm, which maps the inflections of an English word to one stem
//! ("reports", "reported", "reporting" to "report") so two texts that say the same in other
//! forms share terms.

/// The Porter stem of `word`, which must already be lower-case.
pub fn stem(word: &str) -> String {
    porter_stemmer::stem(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_share_a_stem() {
        for word in ["reports", "reported", "reporting"] {
            assert_eq!(stem(word), "report");
        }
        assert_eq!(stem("alliance"), "allianc");
    }
}
