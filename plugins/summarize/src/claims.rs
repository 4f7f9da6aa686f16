//! Claims: each sentence of a model's summary must be backed by one sentence of its source, or
//! two adjacent ones, that hold what the sentence asserts.
//!
//! The token checks of `guard` ask whether each name and number occurs somewhere in the source;
//! a summary can pass them and still be false, by joining true words in a wrong relation ("two
//! people on a hunting trip" from two patients in Beijing and a hunter elsewhere). Here every
//! summary sentence needs one *window* of the source (a sentence, or two adjacent ones) that
//! holds all of its names and numbers (digits, or "two" to "twelve", "million"...), half of its
//! other content words or more, each name and number in a sentence that also holds some other
//! word of the claim (else the window joins two facts), a negation before each word the sentence
//! negates, and each pair of its names in the same order. The window is what a
//! reader would point to as the sentence's evidence. Names in another order catch swapped roles
//! ("Dortmund will leave Klopp") at the price of some passive rewrites; `briefd eval guard`
//! measures both on corrupted and true reference summaries.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use text::sentences;
use text::stem::stem;
use text::stop_words::{FUNCTION_WORDS, NEWS_FILLER};
use text::words::{content_words, lowercase_words, undot_initialisms, words};

/// Share of a sentence's content words (names and numbers aside) that its window must hold.
/// Fixed at one half before measuring, not fitted: a claim restates its evidence in other words,
/// but not in mostly other words.
const MIN_CLAIM_SUPPORT: f64 = 0.5;

/// A window holding a claim's names must hold at least this share of the content words that the
/// best-supporting window of the source holds: a claim whose words are mostly another
/// sentence's, a sentence about someone else, has its names put into another fact. Set at three
/// quarters before measuring, not fitted.
const MIN_SHARE_OF_BEST: f64 = 0.75;

/// Numbers written as words: anchors like digits ("one" is too often a pronoun).
const NUMBER_WORDS: &[&str] = &[
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "dozen",
    "hundred", "thousand", "million", "billion",
];

/// Words that make a clause negative. "n't" is split by `words` into "n" and "t".
const NEGATIONS: &[&str] = &["cannot", "never", "no", "nobody", "none", "nor", "not", "nothing", "neither"];

/// Why a summary sentence has no evidence in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedClaim {
    /// The summary sentence.
    pub sentence: String,
    /// What its closest window lacks.
    pub lack: Lack,
}

/// What the closest window of a claim lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lack {
    /// No window holds all its names and numbers together; the first one missing from the
    /// window that holds the most.
    Together(String),
    /// The names and numbers are there, but too few of its other words (share, in percent).
    Content(u32),
    /// The window holds this name or number only in a sentence that says nothing else the claim
    /// says: the window joins two facts.
    Relation(String),
    /// The sentence negates a word its evidence does not.
    Negation,
    /// Its evidence names these two in the other order.
    Order(String, String),
    /// Its names' window holds this share (percent) of its words; a window without its names
    /// holds more: the claim says of them what the source says of someone else.
    Elsewhere(u32),
}

impl Lack {
    /// A short machine-friendly kind, for counting reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Lack::Together(_) => "together",
            Lack::Content(_) => "content",
            Lack::Relation(_) => "relation",
            Lack::Negation => "negation",
            Lack::Order(..) => "order",
            Lack::Elsewhere(_) => "elsewhere",
        }
    }
}

impl fmt::Display for UnsupportedClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sentence = &self.sentence;
        match &self.lack {
            Lack::Together(word) => {
                write!(f, "no source sentence holds {word:?} with the rest of {sentence:?}")
            }
            Lack::Content(share) => write!(
                f,
                "the source sentences with the names and numbers of {sentence:?} hold only {share}% of its words"
            ),
            Lack::Relation(word) => write!(
                f,
                "the source sentence with {word:?} says nothing else of {sentence:?}; it joins two facts"
            ),
            Lack::Negation => write!(f, "{sentence:?} negates what its source sentences do not"),
            Lack::Order(a, b) => {
                write!(f, "{sentence:?} puts {a:?} before {b:?}; its source sentences the other way round")
            }
            Lack::Elsewhere(share) => write!(
                f,
                "the source sentences with the names and numbers of {sentence:?} hold {share}% of its words; \
                 sentences without them hold more: it says of them what the source says of others"
            ),
        }
    }
}

/// One source sentence, as the checks read it.
struct Evidence {
    words: Vec<String>,
    stems: HashSet<String>,
}

impl Evidence {
    fn new(text: &str) -> Evidence {
        let words = lowercase_words(text);
        let stems = words.iter().map(|w| stem(w)).collect();
        Evidence { words, stems }
    }
}

/// A window: one source sentence or two adjacent ones.
struct Window<'a>(&'a [Evidence]);

impl Window<'_> {
    fn contains(&self, word: &str) -> bool {
        self.0.iter().any(|e| e.words.iter().any(|w| w == word))
    }

    fn has_stem(&self, word_stem: &str) -> bool {
        self.0.iter().any(|e| e.stems.contains(word_stem))
    }

    /// Whether a sentence holding `anchor` also holds one of the claim's `content` stems.
    fn ties(&self, anchor: &str, content: &[String]) -> bool {
        self.0
            .iter()
            .any(|e| e.words.iter().any(|w| w == anchor) && content.iter().any(|c| e.stems.contains(c)))
    }

    /// Whether a negation comes shortly before the word of stem `negated` in some sentence.
    fn negates(&self, negated: &str) -> bool {
        self.0.iter().any(|e| negated_stems(&e.words).iter().any(|w| w == negated))
    }

    /// Positions of `word` across the window's sentences, in order.
    fn positions(&self, word: &str) -> Vec<usize> {
        self.0
            .iter()
            .flat_map(|e| e.words.iter())
            .enumerate()
            .filter(|(_, w)| *w == word)
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether the window first names `first`, then `second`.
    fn in_order(&self, first: &str, second: &str) -> bool {
        match (self.positions(first).first(), self.positions(second).first()) {
            (Some(a), Some(b)) => a < b,
            _ => false,
        }
    }
}

/// A source, split once into sentences for checking any number of summaries against it.
pub struct Source {
    sentences: Vec<Evidence>,
    /// Words the source writes with a capital inside a sentence: its names, lower-cased.
    names: HashSet<String>,
}

impl Source {
    /// Reads `text` sentence by sentence.
    pub fn new(text: &str) -> Source {
        let split = sentences::split(text);
        // Sentences are split where the text has its dots; words are read with initialisms
        // undotted, so "US" is the source's "U.S.", and without a dateline or byline, whose
        // place names are not what the sentence says ("Pyongyang, North Korea – Lavrov voiced …").
        let plain: Vec<Cow<'_, str>> =
            split.iter().map(|s| undot_initialisms(text::lead::without_lead(s.text))).collect();
        let names = plain
            .iter()
            .flat_map(|s| words(s).skip(1))
            .filter(|w| w.starts_with(char::is_uppercase))
            .map(str::to_lowercase)
            .collect();
        Source { sentences: plain.iter().map(|s| Evidence::new(s)).collect(), names }
    }

    /// The first sentence of `summary` without evidence, if any.
    pub fn check(&self, summary: &str) -> Result<(), UnsupportedClaim> {
        for sentence in sentences::split(summary) {
            self.check_sentence(sentence.text)?;
        }
        Ok(())
    }

    /// Each sentence of `summary` with its verdict, in order.
    pub fn judge<'a>(&self, summary: &'a str) -> Vec<(&'a str, Result<(), UnsupportedClaim>)> {
        sentences::split(summary).into_iter().map(|s| (s.text, self.check_sentence(s.text))).collect()
    }

    fn windows(&self) -> impl Iterator<Item = Window<'_>> {
        let n = self.sentences.len();
        (0..n).flat_map(move |i| {
            let one = Window(&self.sentences[i..i + 1]);
            let two = (i + 1 < n).then(|| Window(&self.sentences[i..i + 2]));
            std::iter::once(one).chain(two)
        })
    }

    fn check_sentence(&self, sentence: &str) -> Result<(), UnsupportedClaim> {
        let reported = sentence;
        let sentence = &*undot_initialisms(sentence);
        let lowered = lowercase_words(sentence);
        // The guard's names, and a capitalised word opening the sentence when the source writes
        // it as a name: "Dortmund will leave Klopp" names two.
        let inside: HashSet<String> =
            crate::guard::names(sentence).into_iter().map(str::to_lowercase).collect();
        let names: Vec<String> = distinct(
            words(sentence)
                .filter(|w| w.starts_with(char::is_uppercase))
                .map(str::to_lowercase)
                .filter(|w| inside.contains(w) || (self.names.contains(w) && !is_function_word(w))),
        );
        let numbers: Vec<String> = distinct(lowered.iter().filter(|w| is_number(w)).cloned());
        let anchors: Vec<&String> = names.iter().chain(&numbers).collect();
        let content: Vec<String> =
            content_words(sentence).into_iter().filter(|w| !anchors.contains(&w)).map(|w| stem(&w)).collect();
        let negated = negated_stems(&lowered);

        let most_supported =
            self.windows().map(|w| content.iter().filter(|c| w.has_stem(c)).count()).max().unwrap_or(0);
        // The window that comes closest, for the reason: most anchors, then most content.
        let mut best: Option<(usize, usize, Lack)> = None;
        for window in self.windows() {
            let held = anchors.iter().filter(|a| window.contains(a)).count();
            let supported = content.iter().filter(|w| window.has_stem(w)).count();
            let lack = if let Some(missing) = anchors.iter().find(|a| !window.contains(a)) {
                Lack::Together((*missing).clone())
            } else if !content.is_empty() && (supported as f64) < MIN_CLAIM_SUPPORT * content.len() as f64 {
                Lack::Content((100.0 * supported as f64 / content.len() as f64).round() as u32)
            } else if (supported as f64) < MIN_SHARE_OF_BEST * most_supported as f64 {
                Lack::Elsewhere((100.0 * supported as f64 / content.len() as f64).round() as u32)
            } else if let Some(loose) =
                anchors.iter().find(|a| !content.is_empty() && !window.ties(a, &content))
            {
                Lack::Relation((*loose).clone())
            } else if negated.iter().any(|w| !window.negates(w)) {
                Lack::Negation
            } else if let Some((a, b)) =
                names.windows(2).map(|p| (&p[0], &p[1])).find(|(a, b)| !window.in_order(a, b))
            {
                Lack::Order(a.clone(), b.clone())
            } else {
                return Ok(());
            };
            if best.as_ref().is_none_or(|(h, s, _)| (held, supported) > (*h, *s)) {
                best = Some((held, supported, lack));
            }
        }
        let lack = match best {
            Some((_, _, lack)) => lack,
            None => Lack::Together(anchors.first().map_or_else(|| reported.to_string(), |a| a.to_string())),
        };
        Err(UnsupportedClaim { sentence: reported.to_string(), lack })
    }
}

/// "He" and "The" open sentences in capitals, and a source may write them so mid-sentence too
/// (after a colon, in a quote): they are no names.
fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.contains(word) || NEWS_FILLER.contains(word)
}

/// Words within this many after a negation are read as negated.
const NEGATION_SCOPE: usize = 4;

/// The stems of the content words a negation applies to: the first content word within
/// [`NEGATION_SCOPE`] words after each "not", "never", "n't"...
fn negated_stems(words: &[String]) -> Vec<String> {
    let is_negation = |i: usize| {
        NEGATIONS.contains(&words[i].as_str()) || (words[i] == "t" && i > 0 && words[i - 1].ends_with('n'))
    };
    (0..words.len())
        .filter(|&i| is_negation(i))
        .filter_map(|i| {
            words[i + 1..]
                .iter()
                .take(NEGATION_SCOPE)
                .find(|w| {
                    w.chars().count() >= text::words::MIN_CONTENT_CHARS && !NEGATIONS.contains(&w.as_str())
                })
                .map(|w| stem(w))
        })
        .collect()
}

/// A number: a word holding a digit, or a number written out.
fn is_number(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&word)
}

/// The items in first-seen order, each once.
fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.filter(|i| seen.insert(i.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "Jurgen Klopp will leave Borussia Dortmund at the end of the season. The German \
        has won two league titles in seven years at the club. Two people contracted the plague in \
        Beijing, officials said. Separately, a hunter in Inner Mongolia fell ill after eating a rabbit.";

    fn check(summary: &str) -> Result<(), Lack> {
        Source::new(SOURCE).check(summary).map_err(|e| e.lack)
    }

    #[test]
    fn a_restated_sentence_has_evidence() {
        assert_eq!(check("Klopp is to leave Dortmund at the end of the season."), Ok(()));
        // Two adjacent sentences may back one claim.
        assert_eq!(check("Klopp, who won two league titles, will leave Dortmund."), Ok(()));
    }

    #[test]
    fn true_words_in_a_false_relation_are_refused() {
        // Each word is in the source, but not in one place.
        assert!(matches!(
            check("Two people on a hunting trip in Inner Mongolia contracted the plague."),
            Err(Lack::Relation(_))
        ));
    }

    #[test]
    fn a_changed_number_swapped_names_and_a_negation_are_refused() {
        let source = Source::new(
            "The club paid 25 million euros for him in 2013. He came from Lyon. He scored 102 goals.",
        );
        assert_eq!(
            source.check("The club paid 25 million euros for him in 2013.").map_err(|e| e.lack),
            Ok(())
        );
        assert_eq!(
            source.check("The club paid 35 million euros for him in 2013.").map_err(|e| e.lack),
            Err(Lack::Together("35".into()))
        );
        // 102 is in the source, but not with the fee.
        assert_eq!(
            source.check("The club paid 102 million euros for him in 2013.").map_err(|e| e.lack),
            Err(Lack::Together("102".into()))
        );
        assert_eq!(
            check("Dortmund will leave Klopp at the end of the season."),
            Err(Lack::Order("dortmund".into(), "klopp".into()))
        );
        assert_eq!(check("Klopp will not leave Dortmund at the end of the season."), Err(Lack::Negation));
        assert_eq!(check("Klopp won't leave Dortmund at the end of the season."), Err(Lack::Negation));
    }

    #[test]
    fn words_said_of_someone_else_are_refused() {
        // The first sentence names Russia with half the claim's words, which once sufficed; the
        // claim's predicate is the three nations' sentence, which does not name Russia.
        let source = Source::new(
            "Lavrov said Russia, in response, respects the nuclear program and military might of its \
             ally. He warned against alliances that provoke hostility towards Russia. The three \
             nations have increased their trilateral military exercises in response to the program.",
        );
        let claim = "Russia has increased trilateral military exercises in response to the nuclear program.";
        assert!(source.check(claim).is_err());
        let fair = "The three nations have increased trilateral military exercises.";
        assert_eq!(source.check(fair).map_err(|e| e.lack), Ok(()));
        let first = "Lavrov said Russia respects the nuclear program and military might of its ally.";
        assert_eq!(source.check(first).map_err(|e| e.lack), Ok(()));
    }

    #[test]
    fn a_dateline_is_not_part_of_the_claim() {
        // The dateline names North Korea before Lavrov; the sentence itself does not.
        let source = Source::new(
            "PYONGYANG, North Korea – Lavrov voiced his understanding of North Korea's nuclear program.",
        );
        let claim = "Lavrov voiced understanding of North Korea's nuclear program.";
        assert_eq!(source.check(claim).map_err(|e| e.lack), Ok(()));
    }

    #[test]
    fn the_reason_names_the_sentence() {
        let e = Source::new(SOURCE).check("Klopp will leave. Dortmund will leave Klopp.").unwrap_err();
        assert_eq!(e.sentence, "Dortmund will leave Klopp.");
        assert!(e.to_string().contains("other way round"), "{e}");
    }
}
