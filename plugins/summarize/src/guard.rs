//! The guard: a model-written summary is checked against its article before a reader sees it.
//!
//! A small model loops, copies, and invents ("played for Manchester United"). Whatever it writes
//! must be supported by the article: every number and every name in it must occur in the
//! article, and most of its content words too; then each of its sentences must have evidence in
//! one sentence of the article or two adjacent ones (`claims`). Output that is empty, looping, unsupported, or
//! that follows instructions hidden in the article is rejected with a reason; the stage then
//! shows the extractive summary instead.

use std::collections::HashSet;
use std::fmt;

use text::stop_words::NEWS_FILLER;
use text::words::{content_words, lowercase_words, numbers, undot_initialisms, words};

use crate::claims;
pub use crate::claims::UnsupportedClaim;
use crate::injection::Injections;

/// Fewer words than this is no summary.
const MIN_WORDS: usize = 5;
/// Fewer content words than this and there is nothing to check the summary by ("You shouldn't
/// just believe them."; a script without long words, where the checks see little).
const MIN_CONTENT_WORDS: usize = 4;
/// Share of content words that must occur in the article.
const MIN_SUPPORT: f64 = 0.8;

/// Why a summary was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing, a few words, or too little to check.
    Empty,
    /// The model repeated itself.
    Looping,
    /// A number that is not in the article.
    UnsupportedNumber(String),
    /// A name that is not in the article.
    UnsupportedName(String),
    /// Too many content words not in the article (share supported, in percent).
    Unsupported(u32),
    /// It follows or repeats instructions found in the article.
    Injection,
    /// It holds an HTML tag the article does not (a small model echoes page markup).
    Markup(String),
    /// A sentence with no evidence in one sentence of the article, or two adjacent ones.
    UnsupportedClaim(UnsupportedClaim),
}

impl Rejection {
    /// A short machine-friendly kind, for counting reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::Looping => "looping",
            Rejection::UnsupportedNumber(_) => "unsupported_number",
            Rejection::UnsupportedName(_) => "unsupported_name",
            Rejection::Unsupported(_) => "unsupported_content",
            Rejection::Injection => "injection",
            Rejection::Markup(_) => "markup",
            Rejection::UnsupportedClaim(_) => "unsupported_claim",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Empty => {
                write!(f, "empty: fewer than {MIN_WORDS} words, or {MIN_CONTENT_WORDS} content words")
            }
            Rejection::Looping => write!(f, "looping: the model repeated itself"),
            Rejection::UnsupportedNumber(n) => write!(f, "unsupported number: {n:?} is not in the article"),
            Rejection::UnsupportedName(n) => write!(f, "unsupported name: {n:?} is not in the article"),
            Rejection::Unsupported(p) => {
                write!(f, "unsupported content: only {p}% of its content words are in the article")
            }
            Rejection::Injection => write!(f, "injection: it follows instructions found in the article"),
            Rejection::Markup(t) => write!(f, "markup: {t:?} is an HTML tag the article does not hold"),
            Rejection::UnsupportedClaim(claim) => write!(f, "unsupported claim: {claim}"),
        }
    }
}

/// The HTML tags of `text`: `<` (and `/`), a letter, then up to 200 bytes without `<` to a `>`.
fn html_tags(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('<').filter_map(move |(at, _)| {
        let rest = &text[at + 1..];
        let name = rest.strip_prefix('/').unwrap_or(rest);
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let end = rest.find(['>', '<']).filter(|&e| e <= 200 && rest.as_bytes()[e] == b'>')?;
        Some(&text[at..at + end + 2])
    })
}

/// Checks `summary` against `article` (whose hidden instructions are `injections`).
pub fn check(summary: &str, article: &str, injections: &Injections, looped: bool) -> Result<(), Rejection> {
    let summary_words = lowercase_words(summary);
    if summary_words.len() < MIN_WORDS {
        return Err(Rejection::Empty);
    }
    if looped || is_repetitive(&summary_words) {
        return Err(Rejection::Looping);
    }
    if injections.carried_by(summary) {
        return Err(Rejection::Injection);
    }
    if let Some(tag) = html_tags(summary).find(|t| !article.contains(t)) {
        return Err(Rejection::Markup(tag.to_string()));
    }
    // Words are compared with initialisms undotted, so "US" is the article's "U.S.".
    let (summary, article) = (&*undot_initialisms(summary), &*undot_initialisms(article));
    let article_words: HashSet<String> = lowercase_words(article).into_iter().collect();
    let article_stems: HashSet<&str> = article_words.iter().map(|w| stem(w)).collect();
    for token in words(summary) {
        if token.chars().any(|c| c.is_ascii_digit()) && !article_words.contains(&token.to_lowercase()) {
            return Err(Rejection::UnsupportedNumber(token.to_string()));
        }
    }
    // Whole numbers too: "£200,000" is not supported by "200 items" and "£100,000".
    let article_numbers: HashSet<String> = numbers(article).into_iter().collect();
    if let Some(number) = numbers(summary).into_iter().find(|n| !article_numbers.contains(n)) {
        return Err(Rejection::UnsupportedNumber(number));
    }
    // A name must be a name in the article too: written with a capital there at least once, so
    // a common word the model turned into a proper noun ("the World Paralympics" from "world")
    // is refused.
    let article_names: HashSet<String> =
        words(article).filter(|w| w.starts_with(char::is_uppercase)).map(str::to_lowercase).collect();
    for name in names(summary) {
        if !article_names.contains(&name.to_lowercase()) {
            return Err(Rejection::UnsupportedName(name.to_string()));
        }
    }
    // "A&E" is one name whose letters alone are too short to check ("E&A" has the same ones), so
    // it must occur whole in the article.
    if let Some(name) = ampersand_names(summary).find(|n| !article.contains(n)) {
        return Err(Rejection::UnsupportedName(name.to_string()));
    }
    let content = content_words(summary);
    if content.len() < MIN_CONTENT_WORDS {
        return Err(Rejection::Empty);
    }
    let supported =
        content.iter().filter(|w| article_words.contains(*w) || article_stems.contains(stem(w))).count();
    let share = supported as f64 / content.len() as f64;
    if share < MIN_SUPPORT {
        return Err(Rejection::Unsupported((share * 100.0).round() as u32));
    }
    claims::Source::new(article).check(summary).map_err(Rejection::UnsupportedClaim)
}

/// What the guard lets a reader see of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The draft, or its sentences with evidence when some had none.
    pub text: String,
    /// The sentences left out, each with why.
    pub dropped: Vec<UnsupportedClaim>,
}

/// Checks `summary` as [`check`] does, but a sentence without evidence is dropped rather than
/// the draft refused when what remains still stands: at least as many sentences kept as
/// dropped, and [`MIN_WORDS`] words or more.
pub fn accept(
    summary: &str,
    article: &str,
    injections: &Injections,
    looped: bool,
) -> Result<Accepted, Rejection> {
    match check(summary, article, injections, looped) {
        Ok(()) => return Ok(Accepted { text: summary.to_string(), dropped: Vec::new() }),
        Err(Rejection::UnsupportedClaim(_)) => {}
        Err(other) => return Err(other),
    }
    let judged = claims::Source::new(article).judge(summary);
    let kept: Vec<&str> = judged.iter().filter(|(_, v)| v.is_ok()).map(|(s, _)| *s).collect();
    let dropped: Vec<UnsupportedClaim> = judged.into_iter().filter_map(|(_, v)| v.err()).collect();
    let text = kept.join(" ");
    if kept.len() >= dropped.len() && lowercase_words(&text).len() >= MIN_WORDS {
        return Ok(Accepted { text, dropped });
    }
    let first = dropped.into_iter().next().expect("check found a sentence without evidence");
    Err(Rejection::UnsupportedClaim(first))
}

/// The checks of [`check`] that look at single words only, without the claim check: what the
/// guard was before it read claims, kept so `briefd eval guard` can show what claims add.
pub fn check_words(
    summary: &str,
    article: &str,
    injections: &Injections,
    looped: bool,
) -> Result<(), Rejection> {
    match check(summary, article, injections, looped) {
        Err(Rejection::UnsupportedClaim(_)) => Ok(()),
        other => other,
    }
}

/// A crude stem: the first six characters. Enough to accept "resigned" for "resignation".
fn stem(word: &str) -> &str {
    match word.char_indices().nth(6) {
        Some((i, _)) => &word[..i],
        None => word,
    }
}

/// Capitalised words that do not open a sentence and are not function words: names.
pub(crate) fn names(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let starts_upper = token.chars().next().is_some_and(char::is_uppercase);
        if starts_upper && !sentence_start && !NEWS_FILLER.contains(&token.to_lowercase()) {
            // "Louis-Dreyfus" and "O'Neill" are checked part by part, as `words` splits them.
            out.extend(token.split(|c: char| !c.is_alphanumeric()).filter(|p| p.chars().count() > 1));
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':']) || raw.ends_with(".\"");
    }
    out
}

/// Capitalised names joined by an ampersand ("A&E", "AT&T", "Procter&Gamble"), whole.
fn ampersand_names(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .map(|raw| raw.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|t| t.contains('&') && t.starts_with(char::is_uppercase))
}

/// A word 3-gram three times, or few distinct words in a long text.
fn is_repetitive(words: &[String]) -> bool {
    let mut seen = std::collections::HashMap::new();
    for w in words.windows(3) {
        let n = seen.entry(w).or_insert(0);
        *n += 1;
        if *n >= 3 {
            return true;
        }
    }
    words.len() >= 20 && words.iter().collect::<HashSet<_>>().len() * 2 < words.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str =
        "Actress Julia Louis-Dreyfus has revealed that her short hairstyle in the new season \
        of Veep was inspired by Hillary Clinton. The 54-year-old spoke to Marie Claire magazine.";

    fn ok(s: &str) -> Result<(), Rejection> {
        check(s, ARTICLE, &Injections::default(), false)
    }

    #[test]
    fn accepts_a_faithful_summary() {
        assert_eq!(
            ok("Julia Louis-Dreyfus said her hairstyle in Veep was inspired by Hillary Clinton."),
            Ok(())
        );
    }

    #[test]
    fn rejects_page_markup_the_article_does_not_hold() {
        let draft = "<p class=\"post-title\">Julia Louis-Dreyfus said her hairstyle in Veep was inspired by Hillary Clinton.";
        assert_eq!(ok(draft), Err(Rejection::Markup("<p class=\"post-title\">".into())));
        // Angle brackets that are no tag, or a tag the article itself writes, are not markup.
        assert_eq!(
            ok("Julia Louis-Dreyfus said her hairstyle in Veep << was inspired by Hillary Clinton."),
            Ok(())
        );
        let article = format!("{ARTICLE} The show's title card reads <Veep>.");
        assert_eq!(
            check(
                "Julia Louis-Dreyfus said <Veep> was inspired by Hillary Clinton.",
                &article,
                &Injections::default(),
                false
            ),
            Ok(())
        );
    }

    #[test]
    fn rejects_invented_names_and_numbers() {
        assert!(matches!(
            ok("Julia Louis-Dreyfus played for Manchester United, the actress said."),
            Err(Rejection::UnsupportedName(_))
        ));
        assert!(matches!(
            ok("The 62-year-old actress was inspired by Hillary Clinton."),
            Err(Rejection::UnsupportedNumber(_))
        ));
    }

    #[test]
    fn an_initialism_is_the_same_name_with_or_without_dots() {
        let article = "Lavrov warned the U.S. and Japan against an alliance. The talks ended on Saturday.";
        let check = |s| check(s, article, &Injections::default(), false);
        assert_eq!(check("Lavrov warned the US and Japan against an alliance."), Ok(()));
        assert_eq!(check("Lavrov warned the U.S. and Japan against an alliance."), Ok(()));
        assert!(matches!(
            check("Lavrov warned the UK and Japan against an alliance."),
            Err(Rejection::UnsupportedName(name)) if name == "UK"
        ));
    }

    #[test]
    fn a_summary_with_too_little_to_check_is_refused() {
        let article = "You shouldn't just believe them, the columnist wrote of the White House doctors.";
        let check = |s| check(s, article, &Injections::default(), false);
        assert_eq!(check("You shouldn't just believe them."), Err(Rejection::Empty));
    }

    #[test]
    fn a_name_joined_by_an_ampersand_must_be_in_the_article_whole() {
        // A shown Qwen summary of the dev set turned the article's "A&E consultant" into "E&A".
        let article = "A&E consultant Dr Ram Manohar, 38, is alleged to have touched the nurses.";
        let check = |s| check(s, article, &Injections::default(), false);
        assert_eq!(check("The A&E consultant, 38, is alleged to have touched the nurses."), Ok(()));
        assert_eq!(
            check("The E&A consultant, 38, is alleged to have touched the nurses."),
            Err(Rejection::UnsupportedName("E&A".into()))
        );
    }

    #[test]
    fn a_number_must_be_in_the_article_whole() {
        // A shown SmolLM2 summary of the dev set: the article's "200" and "000" are there, in
        // "200 items" and "£100,000", but not £200,000.
        let article = "The actor is selling his antiques in a £100,000 auction of more than 200 items \
            after deciding to downsize his home.";
        let draft = "The actor will downsize his home and sell his antiques for £200,000.";
        let none = Injections::default();
        assert_eq!(check(draft, article, &none, false), Err(Rejection::UnsupportedNumber("200000".into())));
        let faithful = "The actor will downsize his home and sell his antiques for £100,000.";
        assert_eq!(check(faithful, article, &none, false), Ok(()));
    }

    #[test]
    fn rejects_a_common_word_made_a_name() {
        // "magazine" is in the article, but never as a name.
        assert!(matches!(
            ok("Julia Louis-Dreyfus told Magazine that Hillary Clinton inspired her hairstyle."),
            Err(Rejection::UnsupportedName(n)) if n == "Magazine"
        ));
        // A name in a different case is still that name.
        assert_eq!(
            ok("Julia Louis-Dreyfus said her VEEP hairstyle was inspired by Hillary Clinton."),
            Ok(())
        );
    }

    #[test]
    fn a_sentence_without_evidence_is_dropped_when_the_rest_stands() {
        let article = "Jurgen Klopp will leave Borussia Dortmund at the end of the season. \
            The German has won two league titles at the club. Dortmund are seventh in the league.";
        let none = Injections::default();
        let draft = "Klopp will leave Dortmund at the end of the season. He won two league titles there. \
            Dortmund will leave Klopp at the end of the season.";
        let accepted = accept(draft, article, &none, false).unwrap();
        assert_eq!(
            accepted.text,
            "Klopp will leave Dortmund at the end of the season. He won two league titles there."
        );
        assert_eq!(accepted.dropped.len(), 1);
        // One sentence kept for one dropped still stands; nothing kept does not.
        let two =
            "Klopp will leave Dortmund at the end of the season. Dortmund won two titles under the German.";
        let verdict = accept(two, article, &none, false);
        assert_eq!(verdict.as_ref().map(|a| a.dropped.len()), Ok(1), "{verdict:?}");
        assert!(matches!(
            accept("Dortmund will leave Klopp at the end of the season.", article, &none, false),
            Err(Rejection::UnsupportedClaim(_))
        ));
    }

    #[test]
    fn rejects_empty_and_looping_output() {
        assert_eq!(ok("Veep."), Err(Rejection::Empty));
        assert_eq!(
            ok("Veep was inspired by Clinton. Veep was inspired by Clinton. Veep was inspired by Clinton."),
            Err(Rejection::Looping)
        );
    }

    #[test]
    fn rejects_mostly_unsupported_content() {
        assert!(matches!(
            ok("Her hairstyle sparked furious debates about fashion, politics and celebrity culture everywhere."),
            Err(Rejection::Unsupported(_))
        ));
    }
}
