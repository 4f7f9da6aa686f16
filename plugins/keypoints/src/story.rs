//! Key points of a whole story: candidate sentences from every source, ranked by how central they
//! are to the story and how many outlets report them, with repeats skipped; each point cites the
//! sentence it shows and the matching sentence of every other source that says the same, and a
//! point whose sources give different numbers, dates or names shows both values.
//!
//! Sentences of two sources "say the same" when the cosine of their terms reaches
//! `Options::min_agreement`. The terms are the content words and names, stemmed, without values,
//! function words or a leading dateline ("SEOUL, South Korea (AP) —"), plus each pair of
//! neighbouring ones as a phrase ("security alliance") counted `Options::phrase_weight` times a
//! word; each is weighted by how rare it is among the story's sentences. Values are left out on
//! purpose: two outlets that disagree on a death toll still report the same fact, and that is
//! exactly the case to flag.
//!
//! A point shows the part of its sentence a reader keeps ([`compress`]: no dateline, byline,
//! trailing attribution or aside) and cites exactly that span, and points are kept short: only
//! sentences of 6 to 32 kept words may be points, and each kept word past 20 costs a little
//! score. A sentence whose content words are mostly in one sentence of the story's summary
//! already (more than half of them) is not shown again as a point, unless another source
//! gives other values for it: a "sources differ" point says what the summary cannot.
//!
//! A pair where either sentence names someone or somewhere (a capitalised word) that the other
//! source never mentions must reach the higher `Options::min_agreement_unshared_names`: two
//! similar sentences with a name the other outlet lacks are more often two events of one kind
//! (another boxer defending the same title) than one fact, while one fact retold in other words
//! by another outlet keeps its names. On ECB+ (`briefd eval agreement`) this finds about as many
//! same-event agreements as the plain word cosine at 0.3 did (27.40 % of points against 27.76 %)
//! with fewer false ones (2.69 % against 2.92 %), and lets a fact restated at length ("Russia
//! has vehemently condemned ... a potential formalized security alliance between the United
//! States, South Korea, and Japan") cite both outlets.

use std::collections::{HashMap, HashSet};

use stage_api::{Citation, KeyPoint};
use text::stem::stem;
use text::stop_words::FUNCTION_WORDS;
use text::words::{long_words_and_numbers, words};
use text::{injection, sentences};

use crate::compress;
use crate::values::{self, Value};
use crate::{grounded, Options};

/// At most this many bytes of a source are read (from its start, cut at a paragraph or
/// sentence end): the lead is what a briefing needs, and the picker's work must not grow with a
/// 20 MB page (issue 20).
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

/// At most this many sentences of a source are candidates or citations. Sentences of different
/// sources are compared pair by pair, so this (with `Options::max_sources`) bounds the work.
pub const MAX_SENTENCES_PER_SOURCE: usize = 200;

/// At most this many matching sentences of each other source are kept per sentence, the
/// closest first.
const MATCHES_PER_SOURCE: usize = 4;

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
    /// Byte offset of `text` in its article.
    start: usize,
    /// The part of the sentence a point shows ([`compress::kept`]); values, words and
    /// citations are of this span.
    text: &'a str,
    /// Whether it may be shown as a point (not just cited in support).
    eligible: bool,
    /// Stemmed content words and names, without values: what cross-source matching compares.
    terms: HashSet<String>,
    /// Stemmed names (capitalised words, not function words, not the dateline).
    names: Vec<String>,
    /// Content words of `text` as the grounding check sees them: what redundancy compares.
    words: HashSet<String>,
    values: Vec<Value>,
}

/// The points of a story and the values its sources disagree on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    /// Cited points, most important first.
    pub points: Vec<KeyPoint>,
    /// For each slot the sources give different values for, those values as the points show
    /// them (the shown sentence's first): what the story's summary must not state alone.
    pub differing: Vec<Vec<String>>,
}

/// Up to `options.max_points` cited points for a story told by `sources` (the article being
/// processed first), most important first. Every point returned passes [`grounded`].
pub fn key_points(sources: &[Source<'_>], options: &Options) -> Vec<KeyPoint> {
    key_points_beside(sources, None, options).points
}

/// [`key_points`] for a story whose summary is `summary`: a sentence that mostly repeats it is
/// not a point.
pub fn key_points_beside(sources: &[Source<'_>], summary: Option<&str>, options: &Options) -> Points {
    key_points_within(sources, summary, options, &|| false).expect("never stopped")
}

/// [`key_points_beside`] that gives up (`None`) once `stop` says so; `stop` is asked between
/// sentences, so it is called often and must be cheap (a clock read).
pub fn key_points_within(
    sources: &[Source<'_>],
    summary: Option<&str>,
    options: &Options,
    stop: &dyn Fn() -> bool,
) -> Option<Points> {
    let bounded: Vec<Source<'_>> =
        sources.iter().map(|s| Source { article_id: s.article_id, text: lead_part(s.text) }).collect();
    let sources = &bounded[..];
    let mut sentences = split(sources, stop)?;
    if sentences.is_empty() {
        return Some(Points::default());
    }
    let idf = inverse_frequencies(&sentences);
    let agree = agreements(&sentences, sources, &idf, options, stop)?;
    if let Some(summary) = summary {
        // Mostly in one of the summary's sentences, or almost all somewhere in it: a point whose
        // words are only scattered over the summary tells a new combination and stays.
        let by_sentence: Vec<HashSet<String>> = sentences::split(summary)
            .iter()
            .map(|s| long_words_and_numbers(s.text).into_iter().collect())
            .collect();
        // Over the whole summary short words count too ("tip", "pre"), grammar does not.
        let meaningful = |t: &str| -> Vec<String> {
            words(t).map(str::to_lowercase).filter(|w| !FUNCTION_WORDS.contains(w)).collect()
        };
        let whole: HashSet<String> = meaningful(summary).into_iter().collect();
        let repeats: Vec<usize> = (0..sentences.len())
            .filter(|&i| {
                let words = &sentences[i].words;
                let in_sentence = by_sentence
                    .iter()
                    .any(|s| 2 * words.iter().filter(|w| s.contains(*w)).count() > words.len());
                let own = meaningful(sentences[i].text);
                let in_whole =
                    !own.is_empty() && 5 * own.iter().filter(|w| whole.contains(*w)).count() >= 4 * own.len();
                sentences[i].eligible && !words.is_empty() && (in_sentence || in_whole)
            })
            // Where the sources differ on what it says, the point says what the summary cannot.
            .filter(|&i| !agree[i].iter().any(|&(j, _)| differs(&sentences, sources, i, j)))
            .collect();
        // A story the summary tells whole has no points: a list that repeats it adds nothing.
        for i in repeats {
            sentences[i].eligible = false;
        }
    }
    let scores = scores(&sentences, &agree);
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
        let support = support(&sentences, i, &agree, &used);
        used.insert(i);
        used.extend(&support);
        chosen.push((i, support));
    }

    let text_of = |c: &Citation| {
        sources.iter().find(|s| s.article_id == c.article_id).and_then(|s| s.text.get(c.start..c.end))
    };
    let mut out = Points::default();
    for (primary, support) in chosen {
        let (point, differing) = point(&sentences, sources, primary, &support);
        if grounded(&point, text_of) {
            out.points.push(point);
            out.differing.extend(differing);
        }
    }
    Some(out)
}

/// The part of `text` the picker reads: the first [`MAX_SOURCE_BYTES`], cut after the last
/// paragraph or sentence end inside them.
fn lead_part(text: &str) -> &str {
    if text.len() <= MAX_SOURCE_BYTES {
        return text;
    }
    let mut cap = MAX_SOURCE_BYTES;
    while !text.is_char_boundary(cap) {
        cap -= 1;
    }
    let head = &text[..cap];
    let end = head.rfind("\n\n").or_else(|| head.rfind(". ").map(|at| at + 1)).unwrap_or(cap);
    &text[..end]
}

/// Whether sentences `i` and `j` give different values for the same slot.
fn differs(sentences: &[Sentence<'_>], sources: &[Source<'_>], i: usize, j: usize) -> bool {
    let (a, b) = (&sentences[i], &sentences[j]);
    !values::conflicts(&a.values, &b.values, sources[a.source].text, sources[b.source].text).is_empty()
}

/// The sentences of every source: at most [`MAX_SENTENCES_PER_SOURCE`] each, none of them
/// injected (`text::injection`: an instruction to an assistant, or the payload after one, is
/// neither shown nor cited). `None` when `stop` said so.
fn split<'a>(sources: &[Source<'a>], stop: &dyn Fn() -> bool) -> Option<Vec<Sentence<'a>>> {
    let mut out = Vec::new();
    for (source, s) in sources.iter().enumerate() {
        let injected = injection::find(s.text);
        // Whether the article writes a word in lower case, for `names`: one pass over the
        // article instead of one per sentence.
        let written: HashSet<&str> = words(s.text).collect();
        let pieces =
            sentences::split(s.text).into_iter().flat_map(|sentence| unglued(sentence.text, sentence.start));
        for (index, (start, full)) in pieces.enumerate().take(MAX_SENTENCES_PER_SOURCE) {
            if stop() {
                return None;
            }
            if full.split_whitespace().count() < 5 || injected.overlaps(start..start + full.len()) {
                continue;
            }
            let kept = compress::kept(full);
            let text = &full[kept.clone()];
            let n_words = text.split_whitespace().count();
            let statement = full.ends_with(['.', '!', '"', '\u{201D}']) && !full.ends_with('?');
            let eligible = (6..=32).contains(&n_words) && statement && quotes_balanced(text);
            out.push(Sentence {
                source,
                index,
                start: start + kept.start,
                text,
                eligible,
                // Matching reads the whole sentence, so what the point leaves out (an
                // attribution, an aside) still counts as the sentence's wording.
                terms: terms(full),
                names: names(full, &written),
                words: long_words_and_numbers(text).into_iter().collect(),
                values: values::values(text),
            });
        }
    }
    Some(out)
}

/// Whether every quotation `text` opens it also closes, and it closes none it did not open. A
/// sentence that starts or ends inside a quotation ("And we are going,” said …") reads as a
/// fragment out of its context, so it is no point.
fn quotes_balanced(text: &str) -> bool {
    let mut open = 0usize;
    for c in text.chars() {
        match c {
            '\u{201C}' => open += 1,
            '\u{201D}' => match open.checked_sub(1) {
                Some(left) => open = left,
                None => return false,
            },
            _ => {}
        }
    }
    open == 0 && text.matches('"').count().is_multiple_of(2)
}

/// `text` (at byte `start` of its article) cut where a full stop after a word of two letters or
/// more runs straight into a capital ("community.Dr Venter", "NHS.The"): paragraphs glued
/// without a break, as some feeds and datasets (XSum) deliver them. Unicode sentence boundaries
/// keep such a run as one sentence (a letter, a full stop and a capital are an abbreviation
/// there, "U.S.A"), which leaves glued paragraphs as few over-long sentences that cannot be
/// points. A single letter ("J.K. Rowling", "U.S.Army") or a known abbreviation ("Dr.Venter")
/// before the stop is not cut. Each piece comes with its byte offset in the article.
fn unglued(text: &str, start: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    for (at, _) in text.match_indices('.') {
        let next = text[at + 1..].chars().next();
        let word = text[..at].chars().rev().take_while(|c| c.is_alphabetic()).count();
        if next.is_some_and(char::is_uppercase)
            && word >= 2
            && !sentences::ends_in_abbreviation(&text[from..=at])
        {
            out.push((start + from, &text[from..=at]));
            from = at + 1;
        }
    }
    out.push((start + from, &text[from..]));
    out
}

/// Stemmed content words (four letters or more) and names (capitalised, any length), without
/// numbers, function words or the dateline, and each pair of neighbouring ones as a phrase
/// ("secur allianc").
fn terms(text: &str) -> HashSet<String> {
    let text = without_dateline(text);
    let terms: Vec<String> = words(text)
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| w.chars().count() >= 4 || (w.chars().count() >= 2 && w.starts_with(char::is_uppercase)))
        .map(str::to_lowercase)
        .filter(|w| !FUNCTION_WORDS.contains(w))
        .map(|w| stem(&w))
        .collect();
    let phrases: Vec<String> =
        terms.windows(2).filter(|p| p[0] != p[1]).map(|p| format!("{} {}", p[0], p[1])).collect();
    terms.into_iter().chain(phrases).collect()
}

/// Stemmed names of `sentence`: capitalised words that are not function words; the first word
/// only when its article never writes it in lower case (`written`: the article's words).
fn names(sentence: &str, written: &HashSet<&str>) -> Vec<String> {
    let sentence = without_dateline(sentence);
    words(sentence)
        .enumerate()
        .filter(|(_, w)| w.starts_with(char::is_uppercase) && !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|(_, w)| !FUNCTION_WORDS.contains(&w.to_lowercase()))
        .filter(|&(i, w)| i > 0 || !written.contains(w.to_lowercase().as_str()))
        .map(|(_, w)| stem(&w.to_lowercase()))
        .collect()
}

/// Every word of `text`, lower-cased and stemmed.
fn vocabulary(text: &str) -> HashSet<String> {
    words(text).map(|w| stem(&w.to_lowercase())).collect()
}

/// `text` without a leading dateline ("SEOUL, South Korea (AP) — ", "Pyongyang, North Korea – "):
/// where the story was filed is not part of the fact it states.
fn without_dateline(text: &str) -> &str {
    for dash in [" \u{2014} ", " \u{2013} ", " -- ", " - "] {
        if let Some(at) = text.find(dash) {
            let head = &text[..at];
            if head.contains(',')
                && head.split_whitespace().count() <= 6
                && head.starts_with(char::is_uppercase)
            {
                return &text[at + dash.len()..];
            }
        }
    }
    text
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

/// A sentence's terms as ids into the story's term list, sorted, each with its squared weight
/// (inverse frequency, times `phrase_weight` for a phrase), and the norm of those weights: the
/// cosine of two sentences is then one merge of two sorted lists.
struct Weighted {
    ids: Vec<(u32, f64)>,
    norm: f64,
}

fn weighted(sentences: &[Sentence<'_>], idf: &HashMap<String, f64>, phrase_weight: f64) -> Vec<Weighted> {
    let ids: HashMap<&str, u32> = idf.keys().enumerate().map(|(i, t)| (t.as_str(), i as u32)).collect();
    sentences
        .iter()
        .map(|s| {
            let mut terms: Vec<(u32, f64)> = s
                .terms
                .iter()
                .map(|t| {
                    let w = idf.get(t).copied().unwrap_or(0.0)
                        * if t.contains(' ') { phrase_weight } else { 1.0 };
                    (ids.get(t.as_str()).copied().unwrap_or(u32::MAX), w * w)
                })
                .collect();
            terms.sort_by_key(|&(id, _)| id);
            let norm = terms.iter().map(|&(_, w)| w).sum::<f64>().sqrt();
            Weighted { ids: terms, norm }
        })
        .collect()
}

/// Cosine of two sentences' terms, each weighted by its inverse frequency; a phrase counts
/// `phrase_weight` times a word of the same rarity.
fn similarity(a: &Weighted, b: &Weighted) -> f64 {
    if a.norm == 0.0 || b.norm == 0.0 {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0.0);
    while i < a.ids.len() && j < b.ids.len() {
        match a.ids[i].0.cmp(&b.ids[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += a.ids[i].1;
                i += 1;
                j += 1;
            }
        }
    }
    shared / (a.norm * b.norm)
}

/// For every sentence, the sentences of other sources that say the same, with their similarity:
/// at most [`MATCHES_PER_SOURCE`] per other source, the closest. `None` when `stop` said so.
fn agreements(
    sentences: &[Sentence<'_>],
    sources: &[Source<'_>],
    idf: &HashMap<String, f64>,
    options: &Options,
    stop: &dyn Fn() -> bool,
) -> Option<Vec<Vec<(usize, f64)>>> {
    let vocabularies: Vec<HashSet<String>> = sources.iter().map(|s| vocabulary(s.text)).collect();
    let weighted = weighted(sentences, idf, options.phrase_weight);
    let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); sentences.len()];
    for (i, a) in sentences.iter().enumerate() {
        if stop() {
            return None;
        }
        for (j, b) in sentences.iter().enumerate().skip(i + 1).filter(|(_, b)| b.source != a.source) {
            let sim = similarity(&weighted[i], &weighted[j]);
            if sim < options.min_agreement {
                continue;
            }
            let shared_names = a.names.iter().all(|n| vocabularies[b.source].contains(n))
                && b.names.iter().all(|n| vocabularies[a.source].contains(n));
            if shared_names || sim >= options.min_agreement_unshared_names {
                out[i].push((j, sim));
                out[j].push((i, sim));
            }
        }
    }
    // A repetitive page agrees with itself everywhere; only the closest few matches per source
    // are ever cited, and keeping all would make the later steps quadratic again.
    for matches in &mut out {
        matches.sort_by(|x, y| {
            sentences[x.0].source.cmp(&sentences[y.0].source).then(y.1.total_cmp(&x.1)).then(x.0.cmp(&y.0))
        });
        let mut kept = 0;
        let mut last_source = usize::MAX;
        matches.retain(|&(j, _)| {
            if sentences[j].source != last_source {
                last_source = sentences[j].source;
                kept = 0;
            }
            kept += 1;
            kept <= MATCHES_PER_SOURCE
        });
    }
    Some(out)
}

/// The score of every sentence: coverage of the story's frequent content (scaled to the best
/// sentence, so long stories do not drown out the lead, where news puts the who, what, where
/// and when), position in its article, numbers and names, and one point per other outlet that
/// reports the same.
fn scores(sentences: &[Sentence<'_>], agree: &[Vec<(usize, f64)>]) -> Vec<f64> {
    let mut frequency: HashMap<&str, f64> = HashMap::new();
    for s in sentences {
        for w in &s.words {
            *frequency.entry(w.as_str()).or_default() += 1.0;
        }
    }
    let coverage: Vec<f64> = sentences
        .iter()
        .map(|s| {
            s.words.iter().map(|w| frequency[w.as_str()] - 1.0).sum::<f64>()
                / (s.words.len().max(1) as f64).sqrt()
        })
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
        .enumerate()
        .map(|(i, (s, &c))| {
            if !s.eligible {
                return 0.0;
            }
            let numbers = s.text.split_whitespace().filter(|w| w.chars().any(|c| c.is_ascii_digit())).count();
            let names = s
                .text
                .split_whitespace()
                .skip(1)
                .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
                .count();
            let position = 1.0 / (1.0 + 0.15 * s.index as f64);
            // Short points are what a reader keeps; past 20 words each word costs a little.
            let length = 0.05 * s.text.split_whitespace().count().saturating_sub(20) as f64;
            let agreeing =
                agree[i].iter().map(|&(j, _)| sentences[j].source).collect::<HashSet<usize>>().len();
            2.0 * c / best_coverage
                + 2.0 * position
                + 0.3 * numbers.min(3) as f64
                + 0.1 * names.min(5) as f64
                + agreeing.min(3) as f64
                - length
        })
        .collect()
}

/// For each other source, its sentence that best matches sentence `i` among those that say the
/// same, when one is not cited by an earlier point.
fn support(
    sentences: &[Sentence<'_>],
    i: usize,
    agree: &[Vec<(usize, f64)>],
    used: &HashSet<usize>,
) -> Vec<usize> {
    let mut best: HashMap<usize, (f64, usize)> = HashMap::new();
    for &(j, sim) in &agree[i] {
        if used.contains(&j) {
            continue;
        }
        let source = sentences[j].source;
        if best.get(&source).is_none_or(|&(b, k)| sim > b || (sim == b && j < k)) {
            best.insert(source, (sim, j));
        }
    }
    let mut out: Vec<(usize, usize)> = best.into_iter().map(|(source, (_, j))| (source, j)).collect();
    out.sort();
    out.into_iter().map(|(_, j)| j).collect()
}

/// The key point of sentence `primary` cited with its `support`; when a supporting sentence
/// gives other values for the same slots, the point shows each value ("12 / 15") and every
/// citation carries the value its sentence gives. Also returns, per differing slot, the values
/// shown.
fn point(
    sentences: &[Sentence<'_>],
    sources: &[Source<'_>],
    primary: usize,
    support: &[usize],
) -> (KeyPoint, Vec<Vec<String>>) {
    let p = &sentences[primary];
    // alternatives[k] = other values given for p.values[k]
    let mut alternatives: Vec<Vec<String>> = vec![Vec::new(); p.values.len()];
    let mut support_values: Vec<Vec<String>> = Vec::new();
    for &j in support {
        let mut given = Vec::new();
        for (k, l) in values::conflicts(
            &p.values,
            &sentences[j].values,
            sources[p.source].text,
            sources[sentences[j].source].text,
        ) {
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
    let mut groups = Vec::new();
    // From the end, so earlier offsets stay valid.
    for &k in differing.iter().rev() {
        let v = &p.values[k];
        let mut shown = vec![v.text.clone()];
        shown.extend(alternatives[k].iter().cloned());
        text.replace_range(v.start..v.start + v.text.len(), &shown.join(" / "));
        groups.insert(0, shown);
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
            let repeated: Vec<String> = own_values
                .iter()
                .filter(|v| sentences[j].values.iter().any(|w| &w.text == *v))
                .cloned()
                .collect();
            (!repeated.is_empty()).then(|| repeated.join(", "))
        } else {
            Some(given.join(", "))
        };
        citations.push(cite(&sentences[j], value));
    }
    (KeyPoint { text, citations, sources_differ }, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file `name` of `test_data/`.
    fn test_file(name: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/").to_string() + name;
        std::fs::read_to_string(&path).expect("test data is in the repository")
    }

    /// The text of the JSON article `name` of `test_data/`.
    fn test_article(name: &str) -> String {
        let json = test_file(name);
        let value: serde_json::Value = serde_json::from_str(&json).expect("test data is JSON");
        value["text"].as_str().expect("articles have a text").to_string()
    }

    /// Issue 16: a sentence the summary already says is not a point, whether it is mostly in
    /// one summary sentence or its words (short ones included) are almost all in the summary;
    /// a sentence with new facts stays.
    #[test]
    fn a_sentence_the_summary_already_says_is_not_a_point() {
        let text = "The city council approved the new harbour bridge on Monday after a long debate. \
                    Pro tip: read more about the harbour bridge plan here today. \
                    Construction will cost 40 million euros and should take three years to finish. \
                    The mayor said residents will be able to walk across the bridge by the summer of 2028.";
        let summary = "The city council approved the new harbour bridge on Monday after a long debate. \
                       Pro tip: read about the plan here.";
        let sources = [Source { article_id: None, text }];
        let found = key_points_beside(&sources, Some(summary), &Options::default());
        let texts: Vec<&str> = found.points.iter().map(|p| p.text.as_str()).collect();
        assert!(!texts.iter().any(|t| t.contains("approved")), "{texts:#?}");
        assert!(!texts.iter().any(|t| t.contains("Pro tip")), "{texts:#?}");
        assert!(texts.iter().any(|t| t.contains("40 million euros")), "{texts:#?}");
        let without = key_points(&sources, &Options::default());
        assert!(without.iter().any(|p| p.text.contains("approved")), "{without:#?}");
    }

    /// Issue 4, bar 3: two outlets that disagree on the death toll give a point flagged as
    /// differing, citing each value in its own article; what both say cites both.
    #[test]
    fn a_number_the_sources_disagree_on_is_flagged_with_both_values_cited() {
        let (ap, reuters) =
            (test_article("sources_differ/quake_ap.json"), test_article("sources_differ/quake_reuters.json"));
        // Reuters is being processed; AP was committed earlier as article 7.
        let sources =
            [Source { article_id: None, text: &reuters }, Source { article_id: Some(7), text: &ap }];
        let points = key_points(&sources, &Options::default());
        let differ: Vec<&KeyPoint> = points.iter().filter(|p| p.sources_differ).collect();
        assert_eq!(differ.len(), 1, "{points:#?}");
        let point = differ[0];
        assert!(point.text.contains("15 / 12") || point.text.contains("12 / 15"), "{point:#?}");
        let value_of = |id: Option<i64>| {
            point.citations.iter().find(|c| c.article_id == id).and_then(|c| c.value.clone())
        };
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
        let (ap, reuters) =
            (test_article("names_differ/ferry_ap.json"), test_article("names_differ/ferry_reuters.json"));
        let sources =
            [Source { article_id: None, text: &reuters }, Source { article_id: Some(3), text: &ap }];
        let points = key_points(&sources, &Options::default());
        let differ: Vec<&KeyPoint> = points.iter().filter(|p| p.sources_differ).collect();
        assert_eq!(differ.len(), 1, "{points:#?}");
        let point = differ[0];
        assert!(
            point.text.contains("Maria Lund / Anna Berg") || point.text.contains("Anna Berg / Maria Lund"),
            "{point:#?}"
        );
        let value_of = |id: Option<i64>| {
            point.citations.iter().find(|c| c.article_id == id).and_then(|c| c.value.clone())
        };
        assert_eq!(value_of(None).as_deref(), Some("Maria Lund"));
        assert_eq!(value_of(Some(3)).as_deref(), Some("Anna Berg"));
        assert!(
            points.iter().filter(|p| p.citations.len() == 2).count() >= 2,
            "shared facts cite both: {points:#?}"
        );
    }

    /// Whether the sentence of `sources[0]` containing `a` and that of `sources[1]` containing
    /// `b` say the same under `options`.
    fn agree(sources: &[Source<'_>], a: &str, b: &str, options: &Options) -> bool {
        let sentences = split(sources, &|| false).expect("never stopped");
        let find = |source: usize, needle: &str| {
            sentences
                .iter()
                .position(|s| s.source == source && s.text.contains(needle))
                .expect("the test sentence is there")
        };
        let (i, j) = (find(0, a), find(1, b));
        let idf = inverse_frequencies(&sentences);
        let agree = agreements(&sentences, sources, &idf, options, &|| false).expect("never stopped");
        agree[i].iter().any(|&(k, _)| k == j)
    }

    /// Issue 4, bar 1: a fact another outlet retells in more and other words, naming only
    /// people and places both outlets name, cites both (its plain word cosine is under 0.3);
    /// a pair as close in words where one names someone the other outlet never mentions (a
    /// mayor, a town) is held to `min_agreement_unshared_names` and does not agree.
    #[test]
    fn a_retold_fact_agrees_and_an_unshared_name_raises_the_bar() {
        let (rewrite, wire) =
            (test_file("agreement/pilots_rewrite.txt"), test_file("agreement/pilots_wire.txt"));
        let sources =
            [Source { article_id: None, text: &rewrite }, Source { article_id: Some(2), text: &wire }];
        let options = Options::default();
        let words_only = Options {
            min_agreement: 0.3,
            min_agreement_unshared_names: 0.3,
            phrase_weight: 0.0,
            ..options.clone()
        };
        assert!(agree(&sources, "left 40 ships", "leaving 40 ships", &options));
        assert!(!agree(&sources, "left 40 ships", "leaving 40 ships", &words_only));
        assert!(agree(&sources, "Without night practice", "without any night practice", &options));
        assert!(!agree(&sources, "Ola Berg", "Ferries to the islands", &options));
        let one_bar = Options { min_agreement_unshared_names: options.min_agreement, ..options.clone() };
        assert!(
            agree(&sources, "Ola Berg", "Ferries to the islands", &one_bar),
            "the name rule is what keeps them apart"
        );

        let points = key_points(&sources, &options);
        let ships = points.iter().find(|p| p.text.contains("40 ships")).expect("the strike is a point");
        assert_eq!(ships.citations.len(), 2, "{points:#?}");
    }

    /// Paragraphs glued without a break ("community.Dr Venter", as XSum delivers them) are cut
    /// into their sentences, each at its own offset, so they can be points; initials and
    /// abbreviations stay inside their sentence.
    #[test]
    fn a_sentence_inside_an_open_quotation_is_no_point() {
        assert!(quotes_balanced("“We are going,” said the vice president of the company."));
        assert!(quotes_balanced("He said \"we are going\" and left the building at noon."));
        assert!(!quotes_balanced("And we are going,” said the vice president of the company."));
        assert!(!quotes_balanced("“Any final agreement must be made with her management team."));
        assert!(!quotes_balanced("Any final agreement must be made with her \"management team."));
        let text = "The mayor opened the new bridge over the river on Monday morning. “Any final \
                    agreement must be made with the council and its planning team. \
                    The bridge cost the city 12 million euros over three long years.";
        let points = key_points(&[Source { article_id: None, text }], &Options::default());
        assert!(!points.is_empty());
        assert!(points.iter().all(|p| !p.text.contains("agreement")), "{points:?}");
    }

    #[test]
    fn glued_paragraphs_are_cut_into_sentences() {
        let text = "The institute was vilified by the scientific community.Dr Venter has not gained a \
                    reputation for modesty.Work on the NHS.The new J.K. Rowling book and the U.S.Army were at \
                    St.Andrews today.";
        let pieces: Vec<&str> = unglued(text, 0)
            .into_iter()
            .map(|(start, piece)| {
                assert_eq!(&text[start..start + piece.len()], piece);
                piece
            })
            .collect();
        assert_eq!(
            pieces,
            [
                "The institute was vilified by the scientific community.",
                "Dr Venter has not gained a reputation for modesty.",
                "Work on the NHS.",
                "The new J.K. Rowling book and the U.S.Army were at St.Andrews today.",
            ]
        );
        let points = key_points(&[Source { article_id: None, text }], &Options::default());
        assert!(
            points.iter().any(|p| p.text == "Dr Venter has not gained a reputation for modesty."),
            "{points:#?}"
        );
    }

    /// Issue 20: two near-identical sources of about 2 MB each give points at once: each is
    /// read up to its first `MAX_SENTENCES_PER_SOURCE` sentences, so the picker asks whether to
    /// stop (once per sentence read and once per sentence compared) a bounded number of times,
    /// and every point cites the lead. Before, the pair took hours.
    #[test]
    fn two_near_identical_large_sources_are_read_only_up_to_the_bound() {
        let base = test_article("sources_differ/quake_ap.json");
        let grown = |variant: usize| {
            let mut text = String::new();
            let mut n = 0;
            while text.len() < 2_000_000 {
                for paragraph in base.split("\n\n") {
                    text.push_str(&format!("{paragraph} ({})\n\n", n + variant));
                }
                n += 1;
            }
            text
        };
        let (a, b) = (grown(0), grown(1));
        let sources = [Source { article_id: None, text: &a }, Source { article_id: Some(1), text: &b }];
        let asked = std::cell::Cell::new(0usize);
        let stop = || {
            asked.set(asked.get() + 1);
            false
        };
        let found = key_points_within(&sources, None, &Options::default(), &stop).expect("not stopped");
        assert!(!found.points.is_empty());
        assert!(asked.get() <= 4 * MAX_SENTENCES_PER_SOURCE, "asked {} times", asked.get());
        for c in found.points.iter().flat_map(|p| &p.citations) {
            assert!(c.end <= MAX_SOURCE_BYTES, "{c:?}");
        }
    }

    /// Issue 20: the picker stops when asked to and returns nothing.
    #[test]
    fn the_picker_stops_when_told() {
        let ap = test_article("sources_differ/quake_ap.json");
        let sources = [Source { article_id: None, text: &ap }];
        assert!(key_points_within(&sources, None, &Options::default(), &|| true).is_none());
    }

    /// Issue 20: an instruction to an assistant hidden in the lead, and the payload in the
    /// paragraph after it, are never points nor cited, though they open the article; the news
    /// after them still is.
    #[test]
    fn an_injected_instruction_and_its_payload_are_no_points() {
        let text = test_file("injection/instruction_in_lead.txt");
        let points = key_points(&[Source { article_id: None, text: &text }], &Options::default());
        assert!(!points.is_empty());
        for p in &points {
            for word in ["Ignore", "instructions", "resigned", "31 million"] {
                assert!(!p.text.contains(word), "{word} in {points:#?}");
            }
            for c in &p.citations {
                assert!(!text[c.start..c.end].contains("resigned"), "{c:?}");
            }
        }
        assert!(points.iter().any(|p| p.text.contains("18 million euros")), "{points:#?}");
    }

    /// The same story from one outlet has no point flagged, and every point cites that outlet.
    #[test]
    fn one_source_has_no_differences() {
        let ap = test_article("sources_differ/quake_ap.json");
        let points = key_points(&[Source { article_id: None, text: &ap }], &Options::default());
        assert!((3..=4).contains(&points.len()), "{points:#?}");
        assert!(points
            .iter()
            .all(|p| !p.sources_differ && p.citations.iter().all(|c| c.article_id.is_none())));
    }
}
