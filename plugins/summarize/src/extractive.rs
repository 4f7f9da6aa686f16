//! The extractive summary: lead sentences, scored by position, coverage of the article's frequent
//! content words and overlap with the headline, returned in article order. Each is shown from
//! its first real word ([`lead`]): a headline or byline line glued on before it and a dateline
//! ("WASHINGTON —") are not part of what it says.

use std::collections::{HashMap, HashSet};

use text::sentences;
use text::words::long_words;

use text::lead;

/// Sentences further down than this are never chosen: news puts what matters first.
const CANDIDATES: usize = 12;

/// Up to `max_sentences` sentences of `text`, about `max_words` words at most.
pub fn summarize(text: &str, title: Option<&str>, max_sentences: usize, max_words: usize) -> String {
    let sentences = sentences::split(text);
    // Headings and fragments read badly inside a summary; use them only if nothing else exists.
    let is_sentence = |s: &&sentences::Sentence<'_>| {
        s.text.split_whitespace().count() >= 6 && s.text.ends_with(['.', '!', '"', '\u{201D}', '\u{2019}'])
    };
    let mut candidates: Vec<_> = sentences.iter().filter(is_sentence).take(CANDIDATES).collect();
    if candidates.is_empty() {
        candidates = sentences.iter().take(CANDIDATES).collect();
    }
    // The sentence before each candidate in the article, by its offset: a candidate that opens
    // with "He" or "They" needs it.
    let before =
        |s: &sentences::Sentence<'_>| sentences.iter().rev().find(|p| p.start < s.start).map(|p| p.start);
    if candidates.is_empty() {
        return String::new();
    }
    let mut frequency: HashMap<String, f64> = HashMap::new();
    for s in &sentences {
        for w in long_words(s.text) {
            *frequency.entry(w).or_default() += 1.0;
        }
    }
    let title_words: HashSet<String> = title.map(long_words).unwrap_or_default().into_iter().collect();

    let mut scored: Vec<(usize, f64)> = candidates
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let words: HashSet<String> = long_words(s.text).into_iter().collect();
            let n_words = s.text.split_whitespace().count();
            let coverage = if words.is_empty() {
                0.0
            } else {
                words.iter().map(|w| frequency.get(w).copied().unwrap_or(0.0).ln_1p()).sum::<f64>()
                    / (words.len() as f64).sqrt()
            };
            let headline = if title_words.is_empty() {
                0.0
            } else {
                words.intersection(&title_words).count() as f64 / title_words.len() as f64
            };
            let position = 1.0 / (1.0 + 0.35 * i as f64);
            let mut score = 2.0 * position + 0.4 * coverage + 1.0 * headline;
            // Fragments, questions and headings make poor summary sentences.
            if n_words < 6
                || s.text.ends_with('?')
                || !s.text.ends_with(['.', '!', '"', '\u{201D}', '\u{2019}'])
            {
                score *= 0.3;
            }
            if n_words > 60 {
                score *= 0.6;
            }
            (i, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

    let mut chosen: Vec<usize> = Vec::new();
    let mut words = 0;
    for (i, _) in scored {
        if chosen.len() == max_sentences {
            break;
        }
        let n = candidates[i].text.split_whitespace().count();
        if !chosen.is_empty() && words + n > max_words {
            continue;
        }
        // A pronoun whose antecedent is left out reads as someone unnamed: such a sentence is
        // shown only after the sentence it follows in the article (chosen earlier, as position
        // weighs most), or as the article's first sentence.
        if opens_with_pronoun(lead::without_lead(candidates[i].text))
            && before(candidates[i]).is_some_and(|p| !chosen.iter().any(|&c| candidates[c].start == p))
        {
            continue;
        }
        chosen.push(i);
        words += n;
    }
    chosen.sort_unstable();
    chosen.iter().map(|&i| lead::without_lead(candidates[i].text)).collect::<Vec<_>>().join(" ")
}

/// Personal pronouns that point back to someone named before.
const PRONOUNS: [&str; 8] = ["he", "she", "they", "his", "her", "their", "him", "them"];

/// Whether `sentence` opens (after any opening quote) with a personal pronoun.
fn opens_with_pronoun(sentence: &str) -> bool {
    let first = sentence
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .split(|c: char| !c.is_alphanumeric())
        .next();
    first.is_some_and(|w| PRONOUNS.contains(&w.to_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_the_lead_and_keeps_article_order() {
        let text =
            "The mayor opened the new bridge on Monday. Thousands of people walked across the bridge. \
                    Traffic will start next week.\n\nIn other news, the weather was fine. Subscribe now";
        let s = summarize(text, Some("Mayor opens bridge"), 2, 90);
        assert_eq!(
            s,
            "The mayor opened the new bridge on Monday. Thousands of people walked across the bridge."
        );
    }

    /// Issue "a briefing a reader can trust": no glued headline line and no dateline.
    #[test]
    fn starts_after_a_glued_headline_and_the_dateline() {
        let text = "NASA adds five companies to lunar lander program\nWASHINGTON \u{2014} NASA announced on \
                    Monday that five more companies may bid for lunar lander missions. The agency said the \
                    first landing is planned for next year.";
        let s = summarize(text, Some("NASA adds five companies to lunar lander program"), 2, 90);
        assert!(s.starts_with("NASA announced on Monday"), "{s}");
        let s = summarize(
            "SEOUL, South Korea (AP) \u{2014} North Korea fired a missile into the sea on Monday.",
            None,
            2,
            90,
        );
        assert_eq!(s, "North Korea fired a missile into the sea on Monday.");
    }

    #[test]
    fn a_pronoun_keeps_its_antecedent() {
        let text = "Scooter Braun is unhappy with his partner, a new report says. The label was sold in \
                    June to a fund he controls. \"He doesn't run the label or control the company,\" a \
                    source said of Braun. Talks resume next week.";
        let s = summarize(text, Some("Braun unhappy with partner"), 2, 90);
        assert!(!s.contains("\"He doesn't"), "{s}");
        // After the sentence it follows, the pronoun has its antecedent.
        let text = "Scooter Braun is unhappy with his partner, a new report says. He does not run the \
                    label or control the company, a source said. The label was sold in June.";
        let s = summarize(text, Some("Braun unhappy with partner"), 2, 90);
        assert!(s.contains("He does not run"), "{s}");
        assert!(opens_with_pronoun("\u{201C}They said so.") && !opens_with_pronoun("Theyre Inc. said so."));
    }

    #[test]
    fn respects_the_word_budget() {
        let text = "Alpha beta gamma delta epsilon zeta. ".repeat(10);
        let s = summarize(&text, None, 5, 12);
        assert!(s.split_whitespace().count() <= 12, "{s}");
        assert!(!s.is_empty());
    }
}
