//! ROUGE-1, ROUGE-2 and ROUGE-L F1 as Google's `rouge-score` computes them with
//! `use_stemmer=True`: lower-case, every character outside `a-z0-9` a separator, tokens longer
//! than 3 characters Porter-stemmed; ROUGE-L is the longest common subsequence over the whole
//! text (not the sentence-split `rougeLsum`).
//!
//! The stemmer is `text::stem` (Porter's original algorithm); rouge-score uses NLTK's Porter in
//! its default mode, with NLTK's extensions, which stems some words differently: a final `y`
//! after a vowel (`delay`: ours `delai`), some `-lly`, `-bly` and `-logy` words, a few irregular
//! ones (`dying`). Of the 18,287 distinct tokens it would stem in the summaries and same-story
//! sets, 365 (2 %) come out differently. The test against scores computed by rouge-score itself
//! bounds the effect.

use std::collections::HashMap;

/// Precision, recall and F1 of one ROUGE variant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Share of the prediction's units found in the target.
    pub precision: f64,
    /// Share of the target's units found in the prediction.
    pub recall: f64,
    /// Harmonic mean of the two (0 when both are 0).
    pub f1: f64,
}

/// ROUGE-1, -2 and -L of one prediction against one target.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rouge {
    /// Unigrams.
    pub rouge1: Score,
    /// Bigrams.
    pub rouge2: Score,
    /// Longest common subsequence.
    pub rouge_l: Score,
}

/// Scores `prediction` against `target` (the reference).
pub fn score(target: &str, prediction: &str) -> Rouge {
    let target = tokenize(target);
    let prediction = tokenize(prediction);
    Rouge {
        rouge1: ngrams(&target, &prediction, 1),
        rouge2: ngrams(&target, &prediction, 2),
        rouge_l: lcs(&target, &prediction),
    }
}

/// rouge-score's tokenizer with the stemmer on.
pub fn tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(|t| if t.len() > 3 { text::stem::stem(t) } else { t.to_string() })
        .filter(|t| !t.is_empty())
        .collect()
}

fn f1(overlap: usize, target: usize, prediction: usize) -> Score {
    let precision = overlap as f64 / prediction.max(1) as f64;
    let recall = overlap as f64 / target.max(1) as f64;
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Score { precision, recall, f1 }
}

fn ngrams(target: &[String], prediction: &[String], n: usize) -> Score {
    fn count(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
        let mut counts: HashMap<&[String], usize> = HashMap::new();
        for gram in tokens.windows(n) {
            *counts.entry(gram).or_default() += 1;
        }
        counts
    }
    let t = count(target, n);
    let p = count(prediction, n);
    let overlap = t.iter().map(|(gram, &c)| c.min(p.get(gram).copied().unwrap_or(0))).sum();
    f1(overlap, t.values().sum(), p.values().sum())
}

fn lcs(target: &[String], prediction: &[String]) -> Score {
    if target.is_empty() || prediction.is_empty() {
        return Score::default();
    }
    let mut row = vec![0usize; prediction.len() + 1];
    for t in target {
        let mut diagonal = 0;
        for (j, p) in prediction.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if t == p { diagonal + 1 } else { above.max(row[j]) };
            diagonal = above;
        }
    }
    f1(row[prediction.len()], target.len(), prediction.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_like_rouge_score() {
        assert_eq!(
            tokenize("The U.S. runners' running, 2,024!"),
            ["the", "u", "s", "runner", "run", "2", "024"]
        );
    }

    /// Against rouge-score itself on 82 pairs of real references and article text (see
    /// `test_data/rouge/README.md`): the stemmer differences move no pair far, the means barely.
    #[test]
    fn agrees_with_rouge_score() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/rouge/pairs.jsonl");
        let text = std::fs::read_to_string(path).expect("test data is in the repository");
        let (mut n, mut sums, mut worst) = (0.0, [0.0f64; 3], 0.0f64);
        for line in text.lines() {
            let pair: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
            let get = |k: &str| pair[k].as_f64().expect("scores are numbers");
            let field = |k: &str| pair[k].as_str().expect("texts are strings").to_string();
            let ours = score(&field("target"), &field("prediction"));
            let diffs = [
                ours.rouge1.f1 - get("rouge1"),
                ours.rouge2.f1 - get("rouge2"),
                ours.rouge_l.f1 - get("rougeL"),
            ];
            for (sum, d) in sums.iter_mut().zip(diffs) {
                *sum += d;
                worst = worst.max(d.abs());
            }
            n += 1.0;
        }
        assert_eq!(n, 82.0);
        for sum in sums {
            assert!((sum / n).abs() < 0.002, "mean difference {} from rouge-score", sum / n);
        }
        assert!(worst < 0.03, "a pair differs by {worst} from rouge-score");
    }

    #[test]
    fn scores_a_known_pair() {
        let r = score("the cat sat on the mat", "the cat lay on the mat");
        assert!((r.rouge1.f1 - 5.0 / 6.0).abs() < 1e-9);
        assert!((r.rouge2.f1 - 3.0 / 5.0).abs() < 1e-9);
        assert!((r.rouge_l.f1 - 5.0 / 6.0).abs() < 1e-9);
        assert_eq!(score("a b", "").rouge1.f1, 0.0);
    }
}
