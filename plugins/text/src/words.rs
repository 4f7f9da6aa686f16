//! Words: maximal runs of letters and digits, in any script; every other character (space,
//! punctuation, apostrophe, hyphen) separates, so "Louis-Dreyfus" is two words and "O'Neill"
//! is "O" and "Neill". Also the three kinds of content words the stages compare texts by, each
//! lower-cased: [`long_words`], [`content_words`] and [`long_words_and_numbers`].

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::stop_words::NEWS_FILLER;

/// Words shorter than this, in characters, are taken to carry no content.
pub const MIN_CONTENT_CHARS: usize = 4;

/// The words of `text`, in order, as slices of it.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// The words of `text`, lower-cased.
pub fn lowercase_words(text: &str) -> Vec<String> {
    words(text).map(str::to_lowercase).collect()
}

/// Lower-cased words of [`MIN_CONTENT_CHARS`] characters or more: content words without a
/// list, for weighing what a text is mostly about (`summarize`'s extractive summary).
pub fn long_words(text: &str) -> Vec<String> {
    words(text).filter(|w| is_long(w)).map(str::to_lowercase).collect()
}

/// Long words that are not [`NEWS_FILLER`]: what a summary must get from its article
/// (`summarize`'s guard) and what makes a sentence new to a story.
pub fn content_words(text: &str) -> Vec<String> {
    long_words(text).into_iter().filter(|w| !NEWS_FILLER.contains(w)).collect()
}

/// Long words and every word holding a digit ("7", "3D"): what a key point asserts, numbers
/// included, so a point with a changed number fails its grounding check (`keypoints`).
pub fn long_words_and_numbers(text: &str) -> Vec<String> {
    words(text)
        .filter(|w| is_long(w) || w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect()
}

/// The numbers of `text` as a reader reads them: runs of digits joined by a `,` or `.` that
/// stands between two digits ("200,000", "3.5"), with the thousands commas taken out. [`words`]
/// splits at every comma, so "£200,000" would pass as the "200" and "000" of "200 items" and
/// "£100,000"; a check of whole numbers needs them whole.
pub fn numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut number = String::new();
        while i < chars.len() {
            let c = chars[i];
            let joins = matches!(c, ',' | '.')
                && number.ends_with(|d: char| d.is_ascii_digit())
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() || (joins && c == '.') {
                number.push(c);
            } else if !joins {
                break;
            }
            i += 1;
        }
        found.push(number);
    }
    found
}

/// Dotted initialisms ("U.S.", "U.K.", "U.S.A.").
static DOTTED_INITIALISM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:\p{Lu}\.){2,}").expect("a valid pattern"));

/// `text` with each dotted initialism written without its dots ("U.S." becomes "US"), for
/// comparing words: [`words`] splits "U.S." into "U" and "S", so a text that writes "US" and one
/// that writes "U.S." would not share the name. Not for splitting sentences: the dot that ends
/// an initialism may also end its sentence.
pub fn undot_initialisms(text: &str) -> Cow<'_, str> {
    DOTTED_INITIALISM.replace_all(text, |caps: &regex::Captures<'_>| caps[0].replace('.', ""))
}

/// Length is counted before lower-casing, which lengthens a few letters (`İ`).
fn is_long(word: &str) -> bool {
    word.chars().count() >= MIN_CONTENT_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Mr Louis-Dreyfus said on Monday: the O'Neill café cost 7 euros, 3D films 12.";

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let found: Vec<&str> = words(TEXT).collect();
        assert_eq!(
            found,
            [
                "Mr", "Louis", "Dreyfus", "said", "on", "Monday", "the", "O", "Neill", "café", "cost", "7",
                "euros", "3D", "films", "12"
            ]
        );
        assert_eq!(words(" ,.- ").count(), 0);
        assert_eq!(lowercase_words("Één Twee")[0], "één");
    }

    #[test]
    fn numbers_keep_their_thousands_and_decimals() {
        let text = "It fetched £200,000 for 200 items, 3.5% more; 1,117,320,768 bytes. In 2019, 12.";
        assert_eq!(numbers(text), ["200000", "200", "3.5", "1117320768", "2019", "12"]);
        assert!(numbers("no digits, none.").is_empty());
    }

    #[test]
    fn initialisms_lose_their_dots() {
        assert_eq!(
            undot_initialisms("The U.S. and U.K.-led talks; U.S.A. Mr. Smith J. Doe"),
            "The US and UK-led talks; USA Mr. Smith J. Doe"
        );
        assert!(matches!(undot_initialisms("No initialism here."), Cow::Borrowed(_)));
    }

    #[test]
    fn the_kinds_of_content_words() {
        let long = ["louis", "dreyfus", "said", "monday", "neill", "café", "cost", "euros", "films"];
        assert_eq!(long_words(TEXT), long);
        assert_eq!(content_words(TEXT), ["louis", "dreyfus", "neill", "café", "cost", "euros", "films"]);
        let with_numbers =
            ["louis", "dreyfus", "said", "monday", "neill", "café", "cost", "7", "euros", "3d"];
        assert_eq!(long_words_and_numbers(TEXT), [&with_numbers[..], &["films", "12"]].concat());
    }
}
