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

/// The event anchors of a text's lead (its first `lead_words` words): each maximal run of entity
/// words (`Hong Kong`, `Blue Origin`, `12 000`) as one lower-cased anchor, so that two texts
/// sharing only "Hong Kong" share one anchor, not two.
pub fn lead_anchors(text: &str, lead_words: usize) -> Vec<Vec<String>> {
    let mut anchors: Vec<Vec<String>> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let mut sentence_start = true;
    let mut word = String::new();
    let mut seen = 0;
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            seen += 1;
            if seen > lead_words {
                break;
            }
            if is_entity(&word, sentence_start) {
                run.push(word.to_lowercase());
            } else if !run.is_empty() {
                anchors.push(std::mem::take(&mut run));
            }
            sentence_start = false;
            word.clear();
        }
        // A run ends at punctuation too: "Tokyo, Seoul" are two places.
        if !c.is_whitespace() && !run.is_empty() && c != '-' && c != '\'' && c != '’' {
            anchors.push(std::mem::take(&mut run));
        }
        if matches!(c, '.' | '!' | '?' | '\n' | ':' | '"' | '“' | '—') {
            sentence_start = true;
        }
    }
    if !run.is_empty() {
        anchors.push(run);
    }
    anchors.sort();
    anchors.dedup();
    anchors
}

/// How many of `mine` match an anchor of `theirs`: one holds the other as a contiguous run of
/// words ("hong kong" matches "hong kong police"), so a longer name in one text still counts.
pub fn shared_anchors(mine: &[Vec<String>], theirs: &[Vec<String>]) -> usize {
    let contains = |long: &[String], short: &[String]| long.windows(short.len()).any(|w| w == short);
    mine.iter()
        .filter(|a| theirs.iter().any(|b| if a.len() >= b.len() { contains(a, b) } else { contains(b, a) }))
        .count()
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

    #[test]
    fn anchors_are_runs_of_names_and_match_inside_longer_ones() {
        let lead = "Shares rose in Hong Kong and Tokyo, Seoul on Monday. More text about Alibaba here.";
        let a = lead_anchors(lead, 12);
        let shown: Vec<String> = a.iter().map(|r| r.join(" ")).collect();
        assert_eq!(shown, ["hong kong", "monday", "seoul", "tokyo"], "the lead stops after 12 words");
        let b = lead_anchors("Protests in the streets of Hong Kong Police territory and Seoul again", 20);
        assert_eq!(shared_anchors(&a, &b), 2, "{b:?}");
        assert_eq!(shared_anchors(&a, &[]), 0);
    }
}
