//! The part of a sentence a key point shows: the sentence without what a reader does not keep,
//! as one byte range of it, so the point stays a span of its source and its citation points at
//! exactly the bytes shown (the grounding check and the briefing's citations need that).
//!
//! Dropped, in order, only from the ends of the sentence (a clause cut from the middle would
//! leave two spans):
//! - a glued headline or byline line and a dateline (`summarize::lead`);
//! - a leading connective ("However, ", "In addition, ") when a capitalised word follows, since
//!   the point must keep the source's case exactly (the independent grounding check compares
//!   capitalised words with their case) and "the council said" would read as a fragment;
//! - a trailing attribution (", officials said on Monday.", ", according to police.") and a
//!   trailing aside opened by ", which" or ", who", when at least six words remain. The final
//!   full stop goes with them: adding one back would show a byte the citation does not cover.

use std::ops::Range;

use text::lead;

/// Openings that only link a sentence to the one before it.
const CONNECTIVES: [&str; 11] = [
    "However, ",
    "In addition, ",
    "Meanwhile, ",
    "Moreover, ",
    "Furthermore, ",
    "Additionally, ",
    "Also, ",
    "Still, ",
    "Separately, ",
    "Nevertheless, ",
    "In the meantime, ",
];

/// Words that make a short final clause an attribution.
const ATTRIBUTION: [&str; 11] = [
    "said",
    "says",
    "say",
    "told",
    "reported",
    "reports",
    "added",
    "according",
    "announced",
    "confirmed",
    "stated",
];

/// Asides that may close a sentence without carrying its fact.
const ASIDES: [&str; 2] = [", which ", ", who "];

/// The byte range of `sentence` a point shows.
pub fn kept(sentence: &str) -> Range<usize> {
    let mut start = lead::body_start(sentence);
    for connective in CONNECTIVES {
        if let Some(rest) = sentence[start..].strip_prefix(connective) {
            if rest.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()) {
                start = sentence.len() - rest.len();
            }
            break;
        }
    }
    let body = &sentence[start..];
    let end = start + trailing_cut(body).unwrap_or(body.len());
    start..end
}

/// Where a trailing attribution or aside of `body` begins (its comma), if it has one and at
/// least six words stay before it.
fn trailing_cut(body: &str) -> Option<usize> {
    // A sentence ending inside a quotation keeps its end, or the quote would be left open.
    if body.ends_with(['"', '\u{201D}', '\'', '\u{2019}']) || body.ends_with('?') {
        return None;
    }
    let long_enough = |at: usize| body[..at].split_whitespace().count() >= 6;
    let unquoted = |at: usize| body[..at].matches(['"', '\u{201C}', '\u{201D}']).count().is_multiple_of(2);
    if let Some(at) = body.rfind(", ") {
        let clause = body[at + 2..].trim_end_matches(['.', '!']);
        let words: Vec<String> = clause
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
            .collect();
        let attribution = words.len() <= 8
            && words.iter().any(|w| ATTRIBUTION.contains(&w.as_str()))
            && (!words.contains(&"according".to_string()) || clause.starts_with("according to"));
        if attribution && long_enough(at) && unquoted(at) {
            return Some(at);
        }
    }
    ASIDES.iter().filter_map(|aside| body.find(aside)).min().filter(|&at| long_enough(at) && unquoted(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(sentence: &str) -> &str {
        &sentence[kept(sentence)]
    }

    #[test]
    fn drops_a_trailing_attribution() {
        assert_eq!(
            shown("A magnitude 6.1 earthquake struck the town of Tarvos early on Monday, regional officials said."),
            "A magnitude 6.1 earthquake struck the town of Tarvos early on Monday"
        );
        assert_eq!(
            shown("The ferry ran aground near the island of Holm, according to the coast guard."),
            "The ferry ran aground near the island of Holm"
        );
        assert_eq!(shown("Police arrested the man in Oslo, he said."), "Police arrested the man in Oslo");
    }

    #[test]
    fn keeps_what_is_not_an_attribution() {
        for sentence in [
            "The council closed the bridge, and traffic moved to the ring road.",
            "\"The council closed the bridge too early,\" the mayor said.",
            "He said, officials said.",
            "Officials said the council closed the bridge, citing safety concerns.",
        ] {
            assert_eq!(shown(sentence), sentence);
        }
    }

    #[test]
    fn drops_a_trailing_aside_and_a_leading_connective() {
        assert_eq!(
            shown("The plant will close in March, which the union called a betrayal of its workers."),
            "The plant will close in March"
        );
        assert_eq!(
            shown("However, Reuters reported that 14 crossings were cancelled on Tuesday."),
            "Reuters reported that 14 crossings were cancelled on Tuesday."
        );
        let lower = "However, the council closed the bridge on Monday.";
        assert_eq!(shown(lower), lower, "the source's case is kept, so a lower-case rest keeps its opening");
    }

    #[test]
    fn strips_the_dateline_and_stays_a_span() {
        let sentence = "LONDON (Reuters) - The operator cancelled 14 crossings on Tuesday, the company said.";
        assert_eq!(shown(sentence), "The operator cancelled 14 crossings on Tuesday");
        let range = kept(sentence);
        assert!(sentence.is_char_boundary(range.start) && sentence.is_char_boundary(range.end));
    }
}
