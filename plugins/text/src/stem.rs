//! Stemming: Porter's original algorithm (1980), which maps the inflections of an English word
//! to one stem ("reports", "reported", "reporting" to "report") so two texts that say the same
//! in other forms share terms.
//!
//! The algorithm is Snowball's `porter` (not its later `english` stemmer, which stems more),
//! from `snowball_stemmers_rs`. Words of one or two characters are returned as they are, as in
//! Porter's own reference implementation and NLTK; Snowball's version alone would make "us" "u"
//! and "is" "i", so "US" the name would stem like "U.S." spelt out letter by letter.

use snowball_stemmers_rs::{Algorithm, Stemmer};

/// Words this short are their own stem.
const MAX_UNSTEMMED_CHARS: usize = 2;

/// The Porter stem of `word`, which must already be lower-case.
pub fn stem(word: &str) -> String {
    if word.chars().count() <= MAX_UNSTEMMED_CHARS {
        return word.to_string();
    }
    // Creating a stemmer only picks a function pointer, so none is kept around.
    Stemmer::create(Algorithm::Porter).stem(word).into_owned()
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
        assert_eq!(stem("security"), "secur");
    }

    /// Outputs of Porter's algorithm as published, where the `porter-stemmer` crate used before
    /// went wrong: step 4 drops a suffix only when the longest one that matches qualifies
    /// ("agreement" has "ement" with too short a stem, so "ment" is not tried), and step 1c
    /// turns a final "y" into "i" only when the stem before it holds a vowel.
    #[test]
    fn follows_the_published_algorithm() {
        let cases = [
            ("agreement", "agreement"),
            ("documents", "document"),
            ("settlement", "settlement"),
            ("crying", "cry"),
            ("happy", "happi"),
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("generalization", "gener"),
            ("hopeful", "hope"),
        ];
        for (word, expected) in cases {
            assert_eq!(stem(word), expected, "{word}");
        }
    }

    #[test]
    fn words_of_two_letters_or_fewer_are_left_alone() {
        for word in ["us", "is", "as", "s", "", "üs"] {
            assert_eq!(stem(word), word);
        }
        assert_eq!(stem("bus"), "bu");
    }
}
