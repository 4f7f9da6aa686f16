//! Corrupted summaries: a reference summary made false in one place, the way a small model gets
//! a summary wrong, for measuring the guard against summaries known to be bad.
//!
//! Each kind changes one sentence of the reference and nothing else, by a fixed rule (never by
//! looking at the guard): two names swapped, a number changed, one person's name put into a fact
//! about another (two facts joined), a negation added. A reference the rule cannot apply to
//! (no two names, no number, one sentence, no auxiliary verb) gives no corrupted copy of that
//! kind. Names are read here on their own: runs of capitalised words, a sentence's opening word
//! only when it is not a function word.

use text::sentences;
use text::stop_words::{FUNCTION_WORDS, NEWS_FILLER};

/// How a reference is made false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Two different names of one sentence (or, failing that, of two) trade places.
    SwapNames,
    /// The first number becomes another.
    ChangeNumber,
    /// A later sentence's first name is replaced by an earlier sentence's first name: one
    /// person's fact told of another.
    JoinFacts,
    /// "not" after the first auxiliary verb.
    Negate,
}

impl Kind {
    /// Every kind, in print order.
    pub const ALL: [Kind; 4] = [Kind::SwapNames, Kind::ChangeNumber, Kind::JoinFacts, Kind::Negate];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SwapNames => "swap_names",
            Kind::ChangeNumber => "change_number",
            Kind::JoinFacts => "join_facts",
            Kind::Negate => "negate",
        }
    }
}

const AUXILIARIES: &[&str] = &[
    "are", "can", "could", "did", "does", "had", "has", "have", "is", "may", "might", "must", "should",
    "was", "were", "will", "would",
];

const NUMBER_WORDS: &[&str] = &["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/// `reference` made false by `kind`, or `None` when the rule does not apply to it.
pub fn corrupt(reference: &str, kind: Kind) -> Option<String> {
    let mut sentences: Vec<Vec<String>> = sentences::split(reference)
        .iter()
        .map(|s| s.text.split_whitespace().map(str::to_string).collect())
        .collect();
    let changed = match kind {
        Kind::SwapNames => swap_names(&mut sentences),
        Kind::ChangeNumber => change_number(&mut sentences),
        Kind::JoinFacts => join_facts(&mut sentences),
        Kind::Negate => negate(&mut sentences),
    };
    changed.then(|| sentences.iter().map(|s| s.join(" ")).collect::<Vec<_>>().join(" "))
}

/// The token without the punctuation around it.
fn bare(token: &str) -> &str {
    token.trim_matches(|c: char| !c.is_alphanumeric())
}

fn is_capitalised(token: &str) -> bool {
    let word = bare(token);
    word.chars().count() > 1
        && word.starts_with(char::is_uppercase)
        && word.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'')
}

/// The names of a sentence as token ranges: runs of capitalised words. A sentence's opening
/// word starts a name only when the next word is capitalised too and it is no function word
/// ("Jafar Adeli", not "Survey found" or "The Prime").
fn names(sentence: &[String]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, token) in sentence.iter().enumerate() {
        let lower = bare(token).to_lowercase();
        let opening_word = i == 0
            && (FUNCTION_WORDS.contains(&lower)
                || NEWS_FILLER.contains(&lower)
                || !sentence.get(1).is_some_and(|next| is_capitalised(next)));
        if !is_capitalised(token) || opening_word {
            continue;
        }
        match out.last_mut() {
            Some(run) if run.end == i && !sentence[i - 1].ends_with([',', '.', ';', ':']) => run.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Whether two names are of different people: no word in common ("Vonn", "Lindsey Vonn").
fn different(a: &str, b: &str) -> bool {
    !a.split(' ').any(|w| b.split(' ').any(|v| v == w))
}

fn text_of(sentence: &[String], range: &std::ops::Range<usize>) -> String {
    sentence[range.clone()].iter().map(|t| bare(t)).collect::<Vec<_>>().join(" ")
}

/// Replaces `range` of `sentence` by `name`'s words, keeping the punctuation of its edges.
fn put_name(sentence: &mut Vec<String>, range: std::ops::Range<usize>, name: &str) {
    let first = &sentence[range.start];
    let last = &sentence[range.end - 1];
    let lead: String = first.chars().take_while(|c| !c.is_alphanumeric()).collect();
    let tail: String = last
        .chars()
        .rev()
        .take_while(|c| !c.is_alphanumeric())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut words: Vec<String> = name.split(' ').map(str::to_string).collect();
    if let Some(w) = words.first_mut() {
        w.insert_str(0, &lead);
    }
    if let Some(w) = words.last_mut() {
        w.push_str(&tail);
    }
    sentence.splice(range, words);
}

fn swap_names(sentences: &mut [Vec<String>]) -> bool {
    // Two different names in one sentence first: a swap of roles.
    for sentence in sentences.iter_mut() {
        let found = names(sentence);
        for (i, a) in found.iter().enumerate() {
            if let Some(b) =
                found[i + 1..].iter().find(|b| different(&text_of(sentence, b), &text_of(sentence, a)))
            {
                let (a_text, b_text) = (text_of(sentence, a), text_of(sentence, b));
                // The later range first, so the earlier one's indices still hold.
                put_name(sentence, b.clone(), &a_text);
                put_name(sentence, a.clone(), &b_text);
                return true;
            }
        }
    }
    // Else a name of one sentence and a different one of another.
    let all: Vec<(usize, std::ops::Range<usize>)> =
        (0..sentences.len()).flat_map(|s| names(&sentences[s]).into_iter().map(move |r| (s, r))).collect();
    let Some((sa, a)) = all.first().cloned() else { return false };
    let a_text = text_of(&sentences[sa], &a);
    let Some((sb, b)) =
        all.iter().find(|(s, r)| *s != sa && different(&text_of(&sentences[*s], r), &a_text)).cloned()
    else {
        return false;
    };
    let b_text = text_of(&sentences[sb], &b);
    put_name(&mut sentences[sa], a, &b_text);
    put_name(&mut sentences[sb], b, &a_text);
    true
}

fn change_number(sentences: &mut [Vec<String>]) -> bool {
    for sentence in sentences.iter_mut() {
        for token in sentence.iter_mut() {
            let word = bare(token);
            if word.chars().any(|c| c.is_ascii_digit())
                && word.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
            {
                // The last digit moves by five: another number of the same size.
                let at = token.rfind(|c: char| c.is_ascii_digit()).expect("a digit was found");
                let digit = token.as_bytes()[at] - b'0';
                token.replace_range(at..at + 1, &((digit + 5) % 10).to_string());
                return true;
            }
            if let Some(i) = NUMBER_WORDS.iter().position(|n| word.eq_ignore_ascii_case(n)) {
                let other = NUMBER_WORDS[(i + 4) % NUMBER_WORDS.len()];
                *token = token.replacen(word, other, 1);
                return true;
            }
        }
    }
    false
}

fn join_facts(sentences: &mut [Vec<String>]) -> bool {
    for a in 0..sentences.len() {
        let Some(name_a) = names(&sentences[a]).first().map(|r| text_of(&sentences[a], r)) else { continue };
        for later in sentences.iter_mut().skip(a + 1) {
            let found = names(later);
            if let Some(r) = found.first().filter(|r| different(&text_of(later, r), &name_a)).cloned() {
                put_name(later, r, &name_a);
                return true;
            }
        }
    }
    false
}

fn negate(sentences: &mut [Vec<String>]) -> bool {
    for sentence in sentences.iter_mut() {
        if let Some(i) = sentence.iter().position(|t| AUXILIARIES.contains(&bare(t).to_lowercase().as_str()))
        {
            sentence.insert(i + 1, "not".to_string());
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = "Jurgen Klopp will leave Borussia Dortmund at the end of the season . \
        He has been linked with Manchester City and Arsenal . Per Mertesacker paid 25 million .";

    #[test]
    fn each_kind_changes_one_place() {
        assert_eq!(
            corrupt(REFERENCE, Kind::SwapNames).unwrap(),
            "Borussia Dortmund will leave Jurgen Klopp at the end of the season . \
             He has been linked with Manchester City and Arsenal . Per Mertesacker paid 25 million ."
        );
        assert!(corrupt(REFERENCE, Kind::ChangeNumber).unwrap().ends_with("paid 20 million ."));
        assert_eq!(
            corrupt(REFERENCE, Kind::JoinFacts).unwrap(),
            "Jurgen Klopp will leave Borussia Dortmund at the end of the season . \
             He has been linked with Jurgen Klopp and Arsenal . Per Mertesacker paid 25 million ."
        );
        assert!(corrupt(REFERENCE, Kind::Negate).unwrap().starts_with("Jurgen Klopp will not leave"));
    }

    #[test]
    fn a_rule_that_does_not_apply_gives_nothing() {
        let plain = "the club said so .";
        for kind in Kind::ALL {
            assert_eq!(corrupt(plain, kind), None, "{kind:?}");
        }
    }

    #[test]
    fn an_opening_function_word_is_no_name() {
        let words: Vec<String> = "The Prime Minister met Merkel".split(' ').map(str::to_string).collect();
        let found: Vec<String> = names(&words).iter().map(|r| text_of(&words, r)).collect();
        assert_eq!(found, ["Prime Minister", "Merkel"]);
    }
}
