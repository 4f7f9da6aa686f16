//! Agreement between two main-content extractors: the paragraphs of one extractor's output that
//! the other extractor's output supports.
//!
//! The two HTML extractors fail differently. The trafilatura port keeps the article but also
//! the odd share bar, caption, "read more" line or newsletter box sitting inside the article's
//! container; Readability scores and prunes blocks by its own rules and often drops those lines,
//! but sometimes takes a wider container. A paragraph both extractors kept is very likely body
//! text; a short one only the primary kept is most of what costs precision. So [`reconcile`]
//! keeps each paragraph of the primary output whose word 4-grams the secondary output mostly
//! contains, keeps long paragraphs regardless (boilerplate is short, and an extractor that cut
//! a long paragraph differently should not lose it), and falls back to the primary output
//! unchanged when the two disagree about the whole page (then the intersection is not the
//! article but an accident).
//!
//! [`Rule::default`] is what site-fold cross-validation on the dev pages chose
//! (`briefd eval extraction`, `cv ...` lines: each fold's method chosen on the other folds'
//! sites, scored on its own): [`Rule::PRIMARY_ONLY`], no filtering by agreement. Until the port's
//! text kept its paragraphs (`html::paragraphs_of`) every rule saw the whole text as one
//! paragraph; with them, the furniture filter ([`crate::furniture`]) beats every rule on the
//! training sites. The eval keeps scoring the rules, so that a better one shows up when one
//! exists.

use std::collections::HashSet;

/// How two extractors' outputs are reconciled into one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// A paragraph of the primary output is kept when at least this share of its word 4-grams
    /// (for paragraphs under four words: the whole word run) occurs in the secondary output.
    /// Zero keeps the primary output as it is.
    pub min_support: f64,
    /// Paragraphs of at least this many words are kept whatever their support.
    pub keep_words: usize,
    /// When the kept paragraphs hold less than this share of the primary output's words, the
    /// extractors disagree about where the article is, and the primary output is returned whole.
    pub min_kept_share: f64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule::PRIMARY_ONLY
    }
}

impl Rule {
    /// The rule that keeps the primary output unchanged.
    pub const PRIMARY_ONLY: Rule = Rule { min_support: 0.0, keep_words: usize::MAX, min_kept_share: 0.0 };
}

/// The paragraphs (separated by blank lines) of `primary` that `secondary` supports under `rule`,
/// joined by blank lines; `primary` itself when `secondary` has no words or the rule keeps too
/// little of it.
pub fn reconcile(primary: &str, secondary: &str, rule: &Rule) -> String {
    let other = words(secondary);
    if rule.min_support <= 0.0 || other.is_empty() {
        return primary.to_string();
    }
    let other_grams: HashSet<&[&str]> = other.windows(4).collect();
    // Short paragraphs are looked up as a word run inside the secondary text, padded with
    // spaces so that "the end" does not match inside "the endgame".
    let other_joined = format!(" {} ", other.join(" "));
    let (mut kept, mut kept_words, mut all_words) = (Vec::new(), 0usize, 0usize);
    for paragraph in primary.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let own = words(paragraph);
        all_words += own.len();
        let keep =
            own.len() >= rule.keep_words || support(&own, &other_grams, &other_joined) >= rule.min_support;
        if keep {
            kept_words += own.len();
            kept.push(paragraph.trim());
        }
    }
    if all_words == 0 || (kept_words as f64) < rule.min_kept_share * all_words as f64 {
        return primary.to_string();
    }
    kept.join("\n\n")
}

/// Words as the benchmark metric counts them: runs of letters, digits and `_`.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

/// Share of the paragraph's word 4-grams found in the other text; a paragraph too short for one
/// 4-gram counts as found (1) or not (0) as a whole. A paragraph without words has no support.
fn support(own: &[&str], other_grams: &HashSet<&[&str]>, other_joined: &str) -> f64 {
    if own.is_empty() {
        return 0.0;
    }
    if own.len() < 4 {
        return if other_joined.contains(&format!(" {} ", own.join(" "))) { 1.0 } else { 0.0 };
    }
    let grams: Vec<&[&str]> = own.windows(4).collect();
    let found = grams.iter().filter(|g| other_grams.contains(*g)).count();
    found as f64 / grams.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY_1: &str = "The council approved the new budget on Tuesday after a long debate about schools.";
    const BODY_2: &str =
        "Opponents said the plan would raise local taxes for families already under pressure.";

    fn strict() -> Rule {
        Rule { min_support: 0.5, keep_words: 1000, min_kept_share: 0.3 }
    }

    #[test]
    fn drops_paragraphs_only_the_primary_kept() {
        let primary = format!("{BODY_1}\n\nShare this article on Facebook\n\n{BODY_2}");
        let secondary = format!("{BODY_1}\n\n{BODY_2}\n\nRelated: five things to know");
        assert_eq!(reconcile(&primary, &secondary, &strict()), format!("{BODY_1}\n\n{BODY_2}"));
    }

    #[test]
    fn keeps_paragraphs_the_secondary_joined_or_split_differently() {
        let primary = format!("{BODY_1}\n\n{BODY_2}");
        let secondary = format!("{BODY_1} {BODY_2}");
        assert_eq!(reconcile(&primary, &secondary, &strict()), primary);
    }

    #[test]
    fn short_paragraphs_need_the_whole_word_run() {
        let primary = format!("{BODY_1}\n\nThe end\n\nBy Jane Doe");
        let secondary = format!("By Jane Doe. {BODY_1} The endgame");
        assert_eq!(reconcile(&primary, &secondary, &strict()), format!("{BODY_1}\n\nBy Jane Doe"));
    }

    #[test]
    fn long_paragraphs_stay_whatever_their_support() {
        let primary = format!("{BODY_1} {BODY_2}\n\nSubscribe now");
        let secondary = "Something else entirely, about another story, written in other words.";
        let rule = Rule { min_support: 0.5, keep_words: 20, min_kept_share: 0.3 };
        assert_eq!(reconcile(&primary, secondary, &rule), format!("{BODY_1} {BODY_2}"));
    }

    #[test]
    fn whole_page_disagreement_returns_the_primary() {
        let primary = format!("{BODY_1}\n\n{BODY_2}\n\nShare");
        let secondary = "Menu Home News Sport Weather Contact us about this website today";
        assert_eq!(reconcile(&primary, secondary, &strict()), primary);
    }

    #[test]
    fn empty_secondary_or_zero_support_keeps_the_primary() {
        let primary = format!("{BODY_1}\n\nShare this");
        assert_eq!(reconcile(&primary, "", &strict()), primary);
        assert_eq!(reconcile(&primary, BODY_1, &Rule::PRIMARY_ONLY), primary);
    }
}
