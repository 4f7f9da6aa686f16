//! The built-in `keypoints` stage: the few sentences of an article that carry its facts (names,
//! places, numbers, dates) and its central content, each kept with the byte range it came from,
//! so every point shown is the article's own words and traceable to them.
//!
//! Points are chosen extractively: sentences are ranked by how much of the article's frequent
//! content they cover, with a bonus for numbers and names and a small one for position, and a
//! sentence too similar to one already chosen is skipped. A point is kept only if it passes
//! [`grounded`] against its citation. Cross-source agreement and conflicts are not done yet.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use stage_api::{Article, Citation, Context, KeyPoint, Outcome, Stage};
use summarize::sentences;

/// Options of the `keypoints` stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// At most this many points per article.
    pub max_points: usize,
    /// Two points sharing more than this share of content words are one point.
    pub max_overlap: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_points: 4, max_overlap: 0.4 }
    }
}

impl Options {
    /// Problems with these values; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=10).contains(&self.max_points) {
            problems.push("max_points must be between 1 and 10".into());
        }
        if !(0.0..=1.0).contains(&self.max_overlap) {
            problems.push("max_overlap must be between 0 and 1".into());
        }
        problems
    }
}

/// The `keypoints` stage.
#[derive(Debug, Clone, Default)]
pub struct Keypoints {
    options: Options,
}

impl Keypoints {
    /// A key-point picker with these options.
    pub fn new(options: Options) -> Self {
        Keypoints { options }
    }
}

impl Stage for Keypoints {
    fn name(&self) -> &str {
        "keypoints"
    }

    fn process(&self, mut article: Article, _context: &dyn Context) -> Outcome {
        article.key_points = key_points(&article.text, self.options.max_points, self.options.max_overlap);
        Outcome::Continue(article)
    }
}

fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4 || w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect()
}

/// Up to `max_points` cited points of `text`, most important first.
pub fn key_points(text: &str, max_points: usize, max_overlap: f64) -> Vec<KeyPoint> {
    let sentences = sentences::split(text);
    let mut frequency: HashMap<String, f64> = HashMap::new();
    for s in &sentences {
        for w in content_words(s.text).into_iter().collect::<HashSet<_>>() {
            *frequency.entry(w).or_default() += 1.0;
        }
    }
    // (coverage, numbers, names, position, index) of each candidate sentence.
    let features: Vec<(f64, f64, f64, f64, usize)> = sentences
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            let n = s.text.split_whitespace().count();
            (8..=50).contains(&n) && s.text.ends_with(['.', '!', '"', '\u{201D}']) && !s.text.ends_with('?')
        })
        .map(|(i, s)| {
            let words: HashSet<String> = content_words(s.text).into_iter().collect();
            let coverage = words.iter().map(|w| frequency[w] - 1.0).sum::<f64>() / (words.len().max(1) as f64).sqrt();
            let numbers = s.text.split_whitespace().filter(|w| w.chars().any(|c| c.is_ascii_digit())).count();
            let names = s.text.split_whitespace().skip(1).filter(|w| w.chars().next().is_some_and(char::is_uppercase)).count();
            let position = 1.0 / (1.0 + 0.15 * i as f64);
            (coverage, numbers.min(3) as f64, names.min(5) as f64, position, i)
        })
        .collect();
    // Coverage is scaled to the article's best sentence, so long articles do not drown out the
    // lead, where news puts the who, what, where and when.
    let best_coverage = features.iter().map(|f| f.0).fold(0.0, f64::max).max(1e-9);
    let mut scored: Vec<(f64, usize)> = features
        .iter()
        .map(|&(coverage, numbers, names, position, i)| {
            (2.0 * coverage / best_coverage + 2.0 * position + 0.3 * numbers + 0.1 * names, i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut chosen: Vec<(usize, HashSet<String>)> = Vec::new();
    for (_, i) in scored {
        if chosen.len() == max_points {
            break;
        }
        let words: HashSet<String> = content_words(sentences[i].text).into_iter().collect();
        let redundant = chosen.iter().any(|(_, other)| {
            let shared = words.intersection(other).count() as f64;
            shared / words.len().min(other.len()).max(1) as f64 > max_overlap
        });
        if !redundant {
            chosen.push((i, words));
        }
    }
    chosen
        .into_iter()
        .map(|(i, _)| {
            let s = &sentences[i];
            KeyPoint { text: s.text.to_string(), citations: vec![Citation { start: s.start, end: s.start + s.text.len() }] }
        })
        .filter(|p| grounded(p, text))
        .collect()
}

/// True when every word, name and number of the point is found in the text its citations cover.
pub fn grounded(point: &KeyPoint, text: &str) -> bool {
    let cited: String = point
        .citations
        .iter()
        .filter_map(|c| text.get(c.start..c.end))
        .collect::<Vec<_>>()
        .join(" ");
    let cited: HashSet<String> = content_words(&cited).into_iter().collect();
    !cited.is_empty() && content_words(&point.text).iter().all(|w| cited.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The council of Lisbon opened the new bridge on Monday after seven years of work. \
        The bridge cost 120 million euros, officials said on Monday evening. \
        Residents said the view was nice and the weather was fine for the whole ceremony. \
        The council of Lisbon opened the new bridge on Monday to traffic after seven years.";

    #[test]
    fn points_are_cited_sentences_without_repeats() {
        let points = key_points(TEXT, 3, 0.4);
        assert!(!points.is_empty());
        for p in &points {
            let c = &p.citations[0];
            assert_eq!(&TEXT[c.start..c.end], p.text);
            assert!(grounded(p, TEXT));
        }
        let repeats = points.iter().filter(|p| p.text.contains("opened the new bridge")).count();
        assert_eq!(repeats, 1, "{points:?}");
        assert!(points.iter().any(|p| p.text.contains("120 million")), "numbers count: {points:?}");
    }

    #[test]
    fn an_invented_word_fails_the_grounding_check() {
        let point = KeyPoint { text: "The bridge cost 150 million euros.".into(), citations: vec![Citation { start: 82, end: 150 }] };
        assert!(!grounded(&point, TEXT));
    }
}
