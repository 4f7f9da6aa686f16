//! Key points of a whole story: candidate sentences from every source, ranked by how central they
//! are to the story and how many outlets report them, with repeats skipped; each point cites the
//! sentence it shows and the matching sentence of every other source that says the same, and a
//! point whose sources give different numbers, dates or names shows both values.
//!
//! Sentences of two sources "say the same" when the cosine of their content words (stemmed,
//! weighted by how rare each word is among the story's sentences, values left out) reaches
//! `Options::min_agreement`. Values are left out of that comparison on purpose: two outlets that
//! disagree on a death toll still report the same fact, and that is exactly the case to flag.

use std::collections::{HashMap, HashSet};

use stage_api::{Citation, KeyPoint};
use summarize::sentences;

use crate::values::{self, Value};
use crate::{content_words, grounded, Options};

/// One article of the story, as the picker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// `None` for the article being processed, else its store id.
    pub article_id: Option<i64>,
    /// Its clean text.
    pub text: &'a str,
}

struct Sentence<'a> {
    source: usize,
    index: usize,
    start: usize,
    text: &'a str,
    /// Whether it may be shown as a point (not just cited in support).
    eligible: bool,
    /// Stemmed content words and names, without values: what cross-source matching compares.
    terms: HashSet<String>,
    /// Content words as the grounding check sees them: what redundancy compares.
    words: HashSet<String>,
    values: Vec<Value>,
}

/// Up to `options.max_points` cited points for a story told by `sources` (the article being
/// processed first), most important first. Every point returned passes [`grounded`].
pub fn key_points(sources: &[Source<'_>], options: &Options) -> Vec<KeyPoint> {
    let sentences = split(sources);
    if sentences.is_empty() {
        return Vec::new();
    }
    let idf = inverse_frequencies(&sentences);
    let scores = scores(&sentences, sources.len(), &idf, options.min_agreement);
    let mut order: Vec<usize> = (0..sentences.len()).filter(|&i| sentences[i].eligible).collect();
    // Ties go to the earlier source (the article being processed), then the earlier sentence.
    order.sort_by(|&a, &b| {
        scores[b].total_cmp(&scores[a]).then(sentences[a].source.cmp(&sentences[b].source)).then(a.cmp(&b))
    });

    let mut used: HashSet<usize> = HashSet::new();
    let mut chosen: Vec<(usize, Vec<usize>)> = Vec::new();
    for i in order {
        if chosen.len() == options.max_points {
            break;
        }
        if used.contains(&i) {
            continue;
        }
        let words = &sentences[i].words;
        let redundant = chosen.iter().flat_map(|(p, support)| std::iter::once(p).chain(support)).any(|&j| {
            let other = &sentences[j].words;
            let shared = words.intersection(other).count() as f64;
            shared / words.len().min(other.len()).max(1) as f64 > options.max_overlap
        });
        if redundant {
            continue;
        }
        let support = support(&sentences, i, &idf, options.min_agreement, &used);
        used.insert(i);
        used.extend(&support);
        chosen.push((i, support));
    }

    let text_of = |c: &Citation| sources.iter().find(|s| s.article_id == c.article_id).and_then(|s| s.text.get(c.start..c.end));
    chosen
        .into_iter()
        .map(|(primary, support)| point(&sentences, sources, primary, &support))
        .filter(|p| grounded(p, text_of))
        .collect()
}

fn split<'a>(sources: &[Source<'a>]) -> Vec<Sentence<'a>> {
    let mut out = Vec::new();
    for (source, s) in sources.iter().enumerate() {
        for (index, sentence) in sentences::split(s.text).into_iter().enumerate() {
            let n_words = sentence.text.split_whitespace().count();
            if n_words < 5 {
                continue;
            }
            let eligible = (8..=50).contains(&n_words)
                && sentence.text.ends_with(['.', '!', '"', '\u{201D}'])
                && !sentence.text.ends_with('?');
            let values = values::values(sentence.text);
            out.push(Sentence {
                source,
                index,
                start: sentence.start,
                text: sentence.text,
                eligible,
                terms: terms(sentence.text),
                words: content_words(sentence.text).into_iter().collect(),
                values,
            });
        }
    }
    out
}

/// Stemmed content words (four letters or more) and names (capitalised, any length), without
/// numbers.
fn terms(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| w.chars().count() >= 4 || (w.chars().count() >= 2 && w.starts_with(char::is_uppercase)))
        .map(|w| porter_stemmer::stem(&w.to_lowercase()))
        .collect()
}

fn inverse_frequencies(sentences: &[Sentence<'_>]) -> HashMap<String, f64> {
    let mut df: HashMap<&str, f64> = HashMap::new();
    for s in sentences {
        for t in &s.terms {
            *df.entry(t.as_str()).or_default() += 1.0;
        }
    }
    let n = sentences.len() as f64;
    df.into_iter().map(|(t, d)| (t.to_string(), (1.0 + n / d).ln())).collect()
}

/// Cosine of two sentences' terms, each weighted by its inverse frequency.
fn similarity(a: &Sentence<'_>, b: &Sentence<'_>, idf: &HashMap<String, f64>) -> f64 {
    let weight = |t: &String| idf.get(t).copied().unwrap_or(0.0).powi(2);
    let shared: f64 = a.terms.intersection(&b.terms).map(weight).sum();
    let norm = (a.terms.iter().map(weight).sum::<f64>() * b.terms.iter().map(weight).sum::<f64>()).sqrt();
    if norm > 0.0 {
        shared / norm
    } else {
        0.0
    }
}

/// The score of every sentence: coverage of the story's frequent content (scaled to the best
/// sentence, so long stories do not drown out the lead, where news puts the who, what, where
/// and when), position in its article, numbers and names, and one point per other outlet that
/// reports the same.
fn scores(sentences: &[Sentence<'_>], n_sources: usize, idf: &HashMap<String, f64>, min_agreement: f64) -> Vec<f64> {
    let mut frequency: HashMap<&str, f64> = HashMap::new();
    for s in sentences {
        for w in &s.words {
            *frequency.entry(w.as_str()).or_default() += 1.0;
        }
    }
    let coverage: Vec<f64> = sentences
        .iter()
        .map(|s| s.words.iter().map(|w| frequency[w.as_str()] - 1.0).sum::<f64>() / (s.words.len().max(1) as f64).sqrt())
        .collect();
    let best_coverage = sentences
        .iter()
        .zip(&coverage)
        .filter(|(s, _)| s.eligible)
        .map(|(_, &c)| c)
        .fold(0.0, f64::max)
        .max(1e-9);
    sentences
        .iter()
        .zip(&coverage)
        .map(|(s, &c)| {
            if !s.eligible {
                return 0.0;
            }
            let numbers = s.text.split_whitespace().filter(|w| w.chars().any(|c| c.is_ascii_digit())).count();
            let names = s.text.split_whitespace().skip(1).filter(|w| w.chars().next().is_some_and(char::is_uppercase)).count();
            let position = 1.0 / (1.0 + 0.15 * s.index as f64);
            let agreeing = if n_sources > 1 {
                (0..n_sources)
                    .filter(|&t| t != s.source)
                    .filter(|&t| {
                        sentences.iter().any(|o| o.source == t && similarity(s, o, idf) >= min_agreement)
                    })
                    .count()
            } else {
                0
            };
            2.0 * c / best_coverage
                + 2.0 * position
                + 0.3 * numbers.min(3) as f64
                + 0.1 * names.min(5) as f64
                + agreeing.min(3) as f64
        })
        .collect()
}

/// For each other source, its sentence that best matches sentence `i`, when one reaches
/// `min_agreement` and is not cited by an earlier point.
fn support(sentences: &[Sentence<'_>], i: usize, idf: &HashMap<String, f64>, min_agreement: f64, used: &HashSet<usize>) -> Vec<usize> {
    let mut best: HashMap<usize, (f64, usize)> = HashMap::new();
    for (j, o) in sentences.iter().enumerate() {
        if o.source == sentences[i].source || used.contains(&j) {
            continue;
        }
        let sim = similarity(&sentences[i], o, idf);
        if sim >= min_agreement && best.get(&o.source).is_none_or(|&(b, _)| sim > b) {
            best.insert(o.source, (sim, j));
        }
    }
    let mut out: Vec<(usize, usize)> = best.into_iter().map(|(source, (_, j))| (source, j)).collect();
    out.sort();
    out.into_iter().map(|(_, j)| j).collect()
}

/// The key point of sentence `primary` cited with its `support`; when a supporting sentence
/// gives other values for the same slots, the point shows each value ("12 / 15") and every
/// citation carries the value its sentence gives.
fn point(sentences: &[Sentence<'_>], sources: &[Source<'_>], primary: usize, support: &[usize]) -> KeyPoint {
    let p = &sentences[primary];
    // alternatives[k] = other values given for p.values[k]
    let mut alternatives: Vec<Vec<String>> = vec![Vec::new(); p.values.len()];
    let mut support_values: Vec<Vec<String>> = Vec::new();
    for &j in support {
        let mut given = Vec::new();
        for (k, l) in values::conflicts(&p.values, &sentences[j].values, sources[p.source].text, sources[sentences[j].source].text) {
            let value = sentences[j].values[l].text.clone();
            if !alternatives[k].contains(&value) {
                alternatives[k].push(value.clone());
            }
            given.push(value);
        }
        support_values.push(given);
    }
    let differing: Vec<usize> = (0..p.values.len()).filter(|&k| !alternatives[k].is_empty()).collect();
    let sources_differ = !differing.is_empty();

    let mut text = p.text.to_string();
    // From the end, so earlier offsets stay valid.
    for &k in differing.iter().rev() {
        let v = &p.values[k];
        let mut shown = vec![v.text.clone()];
        shown.extend(alternatives[k].iter().cloned());
        text.replace_range(v.start..v.start + v.text.len(), &shown.join(" / "));
    }
    let own_values: Vec<String> = differing.iter().map(|&k| p.values[k].text.clone()).collect();
    let cite = |s: &Sentence<'_>, value: Option<String>| Citation {
        article_id: sources[s.source].article_id,
        start: s.start,
        end: s.start + s.text.len(),
        value,
    };
    let mut citations = vec![cite(p, sources_differ.then(|| own_values.join(", ")))];
    for (&j, given) in support.iter().zip(support_values) {
        let value = if !sources_differ {
            None
        } else if given.is_empty() {
            // This source agrees with the shown sentence on the values it repeats.
            let repeated: Vec<String> =
                own_values.iter().filter(|v| sentences[j].values.iter().any(|w| &w.text == *v)).cloned().collect();
            (!repeated.is_empty()).then(|| repeated.join(", "))
        } else {
            Some(given.join(", "))
        };
        citations.push(cite(&sentences[j], value));
    }
    KeyPoint { text, citations, sources_differ }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_article(name: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/").to_string() + name;
        let json = std::fs::read_to_string(&path).expect("test data is in the repository");
        let value: serde_json::Value = serde_json::from_str(&json).expect("test data is JSON");
        value["text"].as_str().expect("articles have a text").to_string()
    }

    /// Issue 4, bar 3: two outlets that disagree on the death toll give a point flagged as
    /// differing, citing each value in its own article; what both say cites both.
    #[test]
    fn a_number_the_sources_disagree_on_is_flagged_with_both_values_cited() {
        let (ap, reuters) = (test_article("sources_differ/quake_ap.json"), test_article("sources_differ/quake_reuters.json"));
        // Reuters is being processed; AP was committed earlier as article 7.
        let sources = [Source { article_id: None, text: &reuters }, Source { article_id: Some(7), text: &ap }];
        let points = key_points(&sources, &Options::default());
        let differ: Vec<&KeyPoint> = points.iter().filter(|p| p.sources_differ).collect();
        assert_eq!(differ.len(), 1, "{points:#?}");
        let point = differ[0];
        assert!(point.text.contains("15 / 12") || point.text.contains("12 / 15"), "{point:#?}");
        let value_of = |id: Option<i64>| point.citations.iter().find(|c| c.article_id == id).and_then(|c| c.value.clone());
        assert_eq!(value_of(None).as_deref(), Some("15"));
        assert_eq!(value_of(Some(7)).as_deref(), Some("12"));
        for c in &point.citations {
            let text = if c.article_id.is_none() { &reuters } else { &ap };
            let value = c.value.as_deref().expect("each source's value is cited");
            assert!(text[c.start..c.end].contains(value), "{c:?}");
        }
        let agreed = points.iter().filter(|p| !p.sources_differ && p.citations.len() == 2).count();
        assert!(agreed >= 1, "facts both report cite both: {points:#?}");
    }

    /// Issue 4: two outlets naming a different minister in the same slot give one point
    /// flagged as differing, showing both names, each cited in its own article; the shared
    /// facts are not flagged.
    #[test]
    fn a_name_the_sources_disagree_on_is_flagged_with_both_names_cited() {
        let (ap, reuters) = (test_article("names_differ/ferry_ap.json"), test_article("names_differ/ferry_reuters.json"));
        let sources = [Source { article_id: None, text: &reuters }, Source { article_id: Some(3), text: &ap }];
        let points = key_points(&sources, &Options::default());
        let differ: Vec<&KeyPoint> = points.iter().filter(|p| p.sources_differ).collect();
        assert_eq!(differ.len(), 1, "{points:#?}");
        let point = differ[0];
        assert!(point.text.contains("Maria Lund / Anna Berg") || point.text.contains("Anna Berg / Maria Lund"), "{point:#?}");
        let value_of = |id: Option<i64>| point.citations.iter().find(|c| c.article_id == id).and_then(|c| c.value.clone());
        assert_eq!(value_of(None).as_deref(), Some("Maria Lund"));
        assert_eq!(value_of(Some(3)).as_deref(), Some("Anna Berg"));
        assert!(points.iter().filter(|p| p.citations.len() == 2).count() >= 2, "shared facts cite both: {points:#?}");
    }

    /// The same story from one outlet has no point flagged, and every point cites that outlet.
    #[test]
    fn one_source_has_no_differences() {
        let ap = test_article("sources_differ/quake_ap.json");
        let points = key_points(&[Source { article_id: None, text: &ap }], &Options::default());
        assert!((3..=4).contains(&points.len()), "{points:#?}");
        assert!(points.iter().all(|p| !p.sources_differ && p.citations.iter().all(|c| c.article_id.is_none())));
    }
}
