//! `briefd eval agreement DIR`: how often the keypoints stage says two outlets report the same
//! fact, on pairs of ECB+ documents (the same-story set, `clusters.tsv` and `text/`).
//!
//! Every pair of documents of one topic is made into a two-source story and run through the
//! stage. A pair from the same gold cluster tells one event, so a point citing both is mostly a
//! true agreement; a pair from the other cluster of the topic tells a different event of the
//! same kind (another earthquake, another Oscars host), so a point citing both is a **false
//! agreement**, bar the rare background sentence both events share; that makes the
//! different-cluster rate an upper bound on the stage's false agreements, measured where they
//! are hardest to avoid. The share of points flagged "sources differ" is reported for both kinds
//! of pair: on different events every flag is false, since the two are not the same fact.

use std::fmt::Write as _;
use std::path::Path;

use keypoints::story::{self, Source};

use super::same_story::{load, Doc};

/// Counts over the pairs of one kind.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    pairs: usize,
    points: usize,
    /// Points citing both documents.
    agreeing: usize,
    /// Pairs with at least one point citing both documents.
    pairs_agreeing: usize,
    /// Points flagged "sources differ".
    differing: usize,
}

impl Counts {
    fn add(&mut self, points: &[stage_api::KeyPoint]) {
        let cites_both = |p: &&stage_api::KeyPoint| {
            p.citations.iter().any(|c| c.article_id.is_none())
                && p.citations.iter().any(|c| c.article_id.is_some())
        };
        let agreeing = points.iter().filter(cites_both).count();
        self.pairs += 1;
        self.points += points.len();
        self.agreeing += agreeing;
        self.pairs_agreeing += usize::from(agreeing > 0);
        self.differing += points.iter().filter(|p| p.sources_differ).count();
    }
}

/// Runs the evaluation with the stage's `options` and returns the report, one line per figure.
pub fn run(dir: &Path, options: &keypoints::Options) -> anyhow::Result<String> {
    let docs = load(dir)?;
    let (same, different) = count(&docs, options);
    let mut out = String::new();
    writeln!(
        out,
        "agreement: {} documents from {} (min_agreement {}, min_agreement_unshared_names {}, phrase_weight {})",
        docs.len(),
        dir.display(),
        options.min_agreement,
        options.min_agreement_unshared_names,
        options.phrase_weight
    )?;
    writeln!(out, "{:<52} {:>10} {:>10}", "figure", "same", "different")?;
    let pct = |a: usize, b: usize| format!("{:.2}", 100.0 * a as f64 / b.max(1) as f64);
    let rows: [(&str, String, String); 5] = [
        ("document pairs", same.pairs.to_string(), different.pairs.to_string()),
        ("points", same.points.to_string(), different.points.to_string()),
        (
            "points citing both documents (%)",
            pct(same.agreeing, same.points),
            pct(different.agreeing, different.points),
        ),
        (
            "pairs with a point citing both (%)",
            pct(same.pairs_agreeing, same.pairs),
            pct(different.pairs_agreeing, different.pairs),
        ),
        (
            "points flagged sources differ (%)",
            pct(same.differing, same.points),
            pct(different.differing, different.points),
        ),
    ];
    for (name, a, b) in rows {
        writeln!(out, "{name:<52} {a:>10} {b:>10}")?;
    }
    writeln!(out, "(same: both documents from one gold cluster; different: the topic's other cluster, where every agreement or difference is false)")?;
    Ok(out)
}

/// Counts for same-cluster and different-cluster pairs of every topic, in file-name order.
fn count(docs: &[Doc], options: &keypoints::Options) -> (Counts, Counts) {
    let mut same = Counts::default();
    let mut different = Counts::default();
    for (i, a) in docs.iter().enumerate() {
        for b in docs[i + 1..].iter().filter(|b| b.topic == a.topic) {
            let sources =
                [Source { article_id: None, text: &a.text }, Source { article_id: Some(1), text: &b.text }];
            let points = story::key_points(&sources, options);
            if a.cluster == b.cluster { &mut same } else { &mut different }.add(&points);
        }
    }
    (same, different)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the fixture (two reports of one fire and one of another fire in the same topic) the
    /// report has every figure, and the two reports of one fire agree on a point while the
    /// different fires do not.
    #[test]
    fn agreements_are_found_within_a_story_and_not_across_events() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/agreement_eval");
        let docs = load(&dir).expect("the fixture is readable");
        let (same, different) = count(&docs, &keypoints::Options::default());
        assert_eq!((same.pairs, different.pairs), (1, 2));
        assert_eq!(same.pairs_agreeing, 1, "{same:?}");
        assert_eq!(different.agreeing, 0, "{different:?}");
        let report = run(&dir, &keypoints::Options::default()).expect("the fixture is readable");
        assert!(report.lines().any(|l| l.starts_with("points citing both documents")), "{report}");
    }
}
