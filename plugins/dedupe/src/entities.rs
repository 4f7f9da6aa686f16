//! Names, places, numbers and dates: the words that tell two stories of the same kind apart (two
//! earthquakes in one week share "quake", "magnitude" and "killed", not "Sumatra" and "Chile").
//!
//! Without a tagger, an entity is a capitalised word that does not open a sentence, or any token
//! holding a digit (numbers, years, days of the month). Crude, but it needs no model.

use std::collections::BTreeSet;

use text::stop_words::NON_TOPICAL;

/// The lower-cased entity words of `text`.
pub fn entities(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut sentence_start = true;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            if is_entity(&word, sentence_start) {
                out.insert(word.to_lowercase());
            }
            sentence_start = false;
            word.clear();
        }
        // A line break or end punctuation opens a sentence whose first word is capitalised
        // for grammar, not because it is a name.
        if matches!(c, '.' | '!' | '?' | '\n' | ':' | '"' | '“' | '—') {
            sentence_start = true;
        }
    }
    out
}

fn is_entity(word: &str, sentence_start: bool) -> bool {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let capitalised = word.chars().next().is_some_and(char::is_uppercase);
    capitalised && !sentence_start && word.chars().count() > 1 && !NON_TOPICAL.contains(&word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_not_sentence_openers() {
        let found = entities("The quake struck Sumatra on Monday. Officials said 52 died in 2009.");
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        assert_eq!(found, ["2009", "52", "monday", "sumatra"]);
    }
}
