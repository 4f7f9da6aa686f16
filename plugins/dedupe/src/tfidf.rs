//! Words and TF-IDF vectors: the "same story in other words" signal. Document frequencies come
//! from the store (every article's distinct words are counted as it is committed), so idf
//! follows the corpus as it grows instead of being fixed at build time.

use std::collections::{BTreeMap, HashMap};

use text::stop_words::NON_TOPICAL;
use text::words::words;

/// A sparse, L2-normalised vector over words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vector(pub BTreeMap<String, f64>);

/// Lower-case alphanumeric words, without stop words and one-letter tokens: the terms TF-IDF
/// weighs.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .filter(|w| w.chars().count() > 1)
        .map(str::to_lowercase)
        .filter(|w| !NON_TOPICAL.contains(w))
        .collect()
}

/// How often each term occurs.
pub fn counts(terms: &[String]) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    for term in terms {
        *counts.entry(term.clone()).or_insert(0) += 1;
    }
    counts
}

/// How often each term occurs, those of the text's first `lead_words` words counted `lead_weight`
/// times: the headline and first sentence say which event a text is about (who, where), the
/// rest adds background two events of one kind share. The set of terms is that of [`counts`].
pub fn counts_with_lead(text: &str, lead_words: usize, lead_weight: u32) -> BTreeMap<String, u32> {
    let mut all = counts(&terms(text));
    if lead_weight > 1 && lead_words > 0 {
        let lead: Vec<&str> = words(text).take(lead_words).collect();
        for term in terms(&lead.join(" ")) {
            if let Some(n) = all.get_mut(&term) {
                *n += lead_weight - 1;
            }
        }
    }
    all
}

/// Smoothed inverse document frequency of a term held by `df` of `n` articles.
pub fn idf(df: u64, n: u64) -> f64 {
    ((n as f64 + 1.0) / (df as f64 + 1.0)).ln() + 1.0
}

/// The normalised TF-IDF vector of `counts` (sublinear tf: a word said ten times is not ten
/// times the evidence), keeping only terms `keep` accepts.
pub fn vector(
    counts: &BTreeMap<String, u32>,
    idf: &HashMap<String, f64>,
    keep: impl Fn(&str) -> bool,
) -> Vector {
    let mut weights: BTreeMap<String, f64> = counts
        .iter()
        .filter(|(t, _)| keep(t))
        .map(|(t, &n)| (t.clone(), (1.0 + f64::from(n).ln()) * idf.get(t).copied().unwrap_or(1.0)))
        .collect();
    let norm = weights.values().map(|w| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        weights.values_mut().for_each(|w| *w /= norm);
    }
    Vector(weights)
}

/// The normalised sum of normalised vectors: a story's centroid, whose cosine with an article
/// rewards the words the story's articles agree on.
pub fn centroid(vectors: &[Vector]) -> Vector {
    let mut sum: BTreeMap<String, f64> = BTreeMap::new();
    for vector in vectors {
        for (t, w) in &vector.0 {
            *sum.entry(t.clone()).or_insert(0.0) += w;
        }
    }
    let norm = sum.values().map(|w| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        sum.values_mut().for_each(|w| *w /= norm);
    }
    Vector(sum)
}

impl Vector {
    /// Cosine similarity (both vectors are normalised); 0 when either is empty.
    pub fn cosine(&self, other: &Vector) -> f64 {
        let (small, large) = if self.0.len() <= other.0.len() { (self, other) } else { (other, self) };
        small.0.iter().filter_map(|(t, w)| large.0.get(t).map(|v| w * v)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_shared_words_weigh_more_than_common_ones() {
        let idf: HashMap<String, f64> =
            [("quake".to_string(), idf(1, 100)), ("people".to_string(), idf(60, 100))].into_iter().collect();
        let a = vector(&counts(&terms("The quake hit people")), &idf, |_| true);
        let b = vector(&counts(&terms("A quake, and cats")), &idf, |_| true);
        let c = vector(&counts(&terms("people and cats")), &idf, |_| true);
        assert!(a.cosine(&b) > a.cosine(&c));
        assert!((a.cosine(&a) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn lead_terms_count_more_and_add_no_terms() {
        let text = "Klitschko stops Thompson. Later the champion spoke of Klitschko and Rahman.";
        let weighted = counts_with_lead(text, 3, 3);
        assert_eq!(weighted["klitschko"], 4);
        assert_eq!(weighted["thompson"], 3);
        assert_eq!(weighted["rahman"], 1);
        assert_eq!(counts_with_lead(text, 3, 1), counts(&terms(text)));
        assert!(weighted.keys().eq(counts(&terms(text)).keys()));
    }

    #[test]
    fn a_centroid_favours_the_words_its_members_share() {
        let idf: HashMap<String, f64> = HashMap::new();
        let a = vector(&counts(&terms("quake sumatra padang")), &idf, |_| true);
        let b = vector(&counts(&terms("quake sumatra jambi")), &idf, |_| true);
        let c = centroid(&[a.clone(), b]);
        let shared = vector(&counts(&terms("quake sumatra")), &idf, |_| true);
        let other = vector(&counts(&terms("padang jambi")), &idf, |_| true);
        assert!(shared.cosine(&c) > other.cosine(&c));
        assert!((centroid(std::slice::from_ref(&a)).cosine(&a) - 1.0).abs() < 1e-9);
    }
}
