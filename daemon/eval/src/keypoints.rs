//! `briefd eval keypoints DIR`: the keypoints stage on the summaries set (`articles.jsonl`),
//! each article as a one-source story run through the pipeline, against a lead-3 baseline (the
//! first three sentences, each a point citing itself), in the same run.
//!
//! Figures, per dataset and overall: points and words per article; the grounding rate by an
//! independent checker ([`supported`]); ROUGE-1 and ROUGE-2 recall of the reference summary by
//! all points of the article together; redundancy, the highest ROUGE-1 F1 between two points of
//! one article (mean over articles with two points or more).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use pipeline::{Finished, Pipeline};
use stage_api::Article;
use store::Store;

use super::rouge;

/// Per-article figures of one system.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    points: usize,
    supported: usize,
    words: usize,
    rouge1_recall: f64,
    rouge2_recall: f64,
    /// `None` when the article has fewer than two points.
    redundancy: Option<f64>,
}

/// A point as the checker sees it: its text and the cited spans (`None` for a span outside the
/// article, which fails the point).
struct Shown<'a> {
    text: String,
    cited: Vec<Option<&'a str>>,
}

const SYSTEMS: [&str; 2] = ["briefd", "lead3"];

/// Runs the evaluation on `dir/articles.jsonl` (the first `limit` articles when given) with the
/// stage's `options`, and prints one line per figure to `out`.
pub fn run(
    dir: &Path,
    options: keypoints::Options,
    limit: Option<usize>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (path, items) = super::summary_items(dir, limit)?;
    // The daemon's path, through a pipeline of the stage and a store. No article is committed:
    // each stays a story of its own, so the stage reads no other source.
    let pipeline = Pipeline::new(vec![Box::new(keypoints::Keypoints::new(options.clone()))]);
    let store_dir = tempfile::tempdir().context("creating a temporary folder for the eval database")?;
    let store = Store::open(&store_dir.path().join("eval.db"))?;

    // figures[system][dataset] = per-article figures
    let mut figures: BTreeMap<&str, BTreeMap<String, Vec<Figures>>> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        // Numbered, not named by the set's ids or text, so that every article is a file of its own.
        let name = format!("{n}.txt");
        let file = store.accept_file(name.as_bytes(), name.as_bytes(), &name, item.article.len() as u64)?;
        let article = Article { text: item.article.clone(), ..Default::default() };
        let points = match pipeline.run(&store, file.id, article)?.0 {
            Finished::Done(article) => article.key_points,
            other => anyhow::bail!("the keypoints stage did not continue: {other:?}"),
        };
        let briefd: Vec<Shown<'_>> = points
            .iter()
            .map(|p| Shown {
                text: p.text.clone(),
                cited: p.citations.iter().map(|c| item.article.get(c.start..c.end)).collect(),
            })
            .collect();
        let lead3: Vec<Shown<'_>> = text::sentences::split(&item.article)
            .into_iter()
            .take(3)
            .map(|s| Shown { text: s.text.to_string(), cited: vec![Some(s.text)] })
            .collect();
        for (system, shown) in SYSTEMS.into_iter().zip([&briefd, &lead3]) {
            let f = score(shown, &item.reference);
            if system == "briefd" {
                failures
                    .extend(shown.iter().filter(|p| !supported(&p.text, &p.cited)).map(|p| p.text.clone()));
            }
            for dataset in [item.dataset.as_str(), "overall"] {
                figures.entry(system).or_default().entry(dataset.to_string()).or_default().push(f);
            }
        }
    }

    writeln!(
        out,
        "keypoints: {} articles from {} (max_points {}, max_overlap {})",
        items.len(),
        path.display(),
        options.max_points,
        options.max_overlap
    )?;
    print_table(&figures, out)?;
    writeln!(out, "(n: articles, or points for the grounding rate, or articles with two points or more for redundancy; lead3 n may differ)")?;
    for text in failures.iter().take(10) {
        writeln!(out, "unsupported point: {text}")?;
    }
    Ok(())
}

/// One line per figure and dataset: briefd, lead-3 and their ratio.
fn print_table(
    figures: &BTreeMap<&str, BTreeMap<String, Vec<Figures>>>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<44} {:<8} {:>4} {:>8} {:>8} {:>6}",
        "figure", "dataset", "n", "briefd", "lead3", "ratio"
    )?;
    type Measure = fn(&[Figures]) -> Option<(usize, f64)>;
    let measures: [(&str, Measure); 6] = [
        ("points per article", |l| Some((l.len(), mean(l.iter().map(|f| f.points as f64))))),
        ("words per article", |l| Some((l.len(), mean(l.iter().map(|f| f.words as f64))))),
        ("grounding rate, independent check (%)", |l| {
            let points: usize = l.iter().map(|f| f.points).sum();
            let ok: usize = l.iter().map(|f| f.supported).sum();
            Some((points, 100.0 * ok as f64 / points.max(1) as f64))
        }),
        ("ROUGE-1 recall of the reference (x100)", |l| {
            Some((l.len(), 100.0 * mean(l.iter().map(|f| f.rouge1_recall))))
        }),
        ("ROUGE-2 recall of the reference (x100)", |l| {
            Some((l.len(), 100.0 * mean(l.iter().map(|f| f.rouge2_recall))))
        }),
        ("redundancy, max pairwise ROUGE-1 F1 (x100)", |l| {
            let values: Vec<f64> = l.iter().filter_map(|f| f.redundancy).collect();
            (!values.is_empty()).then(|| (values.len(), 100.0 * mean(values.iter().copied())))
        }),
    ];
    for (name, measure) in measures {
        for dataset in figures["briefd"].keys() {
            let ours = measure(&figures["briefd"][dataset]);
            let base = measure(&figures["lead3"][dataset]);
            let cell = |v: Option<(usize, f64)>| v.map_or("-".to_string(), |(_, x)| format!("{x:.2}"));
            let n = ours.map_or(0, |(n, _)| n);
            let ratio = match (ours, base) {
                (Some((_, a)), Some((_, b))) if b > 0.0 => format!("{:.2}", a / b),
                _ => "-".to_string(),
            };
            writeln!(out, "{name:<44} {dataset:<8} {n:>4} {:>8} {:>8} {ratio:>6}", cell(ours), cell(base))?;
        }
    }
    Ok(())
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

fn score(shown: &[Shown<'_>], reference: &str) -> Figures {
    let joined: Vec<&str> = shown.iter().map(|p| p.text.as_str()).collect();
    let r = rouge::score(reference, &joined.join(" "));
    let mut redundancy: Option<f64> = None;
    for (i, a) in shown.iter().enumerate() {
        for b in &shown[i + 1..] {
            let f1 = rouge::score(&a.text, &b.text).rouge1.f1;
            redundancy = Some(redundancy.map_or(f1, |r: f64| r.max(f1)));
        }
    }
    Figures {
        points: shown.len(),
        supported: shown.iter().filter(|p| supported(&p.text, &p.cited)).count(),
        words: shown.iter().map(|p| p.text.split_whitespace().count()).sum(),
        rouge1_recall: r.rouge1.recall,
        rouge2_recall: r.rouge2.recall,
        redundancy,
    }
}

/// The independent grounding check: true when `point` is supported by the `cited` spans.
///
/// It differs on purpose from the stage's own check (`keypoints::grounded`, lower-cased words
/// of four letters or more looked up as a set): here words are rouge-score's stemmed tokens,
/// all of them counted, short ones too; at least 80 % of the point's token bigrams must occur
/// in a cited span, so words taken from different places and recombined fail; every run of
/// digits must occur as a run of digits in the raw cited text, and every capitalised word
/// with its exact case. A span that points outside its article fails the point.
pub fn supported(point: &str, cited: &[Option<&str>]) -> bool {
    let Some(spans) = cited.iter().copied().collect::<Option<Vec<&str>>>() else { return false };
    if spans.is_empty() {
        return false;
    }
    let span_tokens: Vec<Vec<String>> = spans.iter().map(|s| rouge::tokenize(s)).collect();
    let tokens = rouge::tokenize(point);
    if tokens.is_empty() || !tokens.iter().all(|t| span_tokens.iter().any(|s| s.contains(t))) {
        return false;
    }
    if tokens.len() > 1 {
        let bigrams: Vec<&[String]> = tokens.windows(2).collect();
        let found =
            bigrams.iter().filter(|b| span_tokens.iter().any(|s| s.windows(2).any(|w| w == **b))).count();
        if (found as f64) < 0.8 * bigrams.len() as f64 {
            return false;
        }
    }
    let digit_runs = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_digit()).filter(|r| !r.is_empty()).map(str::to_string).collect()
    };
    let cited_runs: Vec<String> = spans.iter().flat_map(|s| digit_runs(s)).collect();
    if !digit_runs(point).iter().all(|r| cited_runs.contains(r)) {
        return false;
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    let cited_words: Vec<String> = spans.iter().flat_map(|s| words(s)).collect();
    words(point).iter().filter(|w| w.starts_with(char::is_uppercase)).all(|w| cited_words.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checker_refuses_changed_numbers_names_and_recombined_words() {
        let span = "The council of Lisbon opened the new bridge on Monday after seven years of work.";
        assert!(supported(span, &[Some(span)]));
        assert!(!supported(
            "The council of Lisbon opened the new bridge on Monday after eight years of work.",
            &[Some(span)]
        ));
        assert!(!supported("The council of Porto opened the new bridge on Monday.", &[Some(span)]));
        assert!(!supported(
            "Work of years after seven Monday on bridge new the opened Lisbon.",
            &[Some(span)]
        ));
        assert!(!supported("It cost 120 euros.", &[Some("It cost 12 euros, or 0 more.")]));
        assert!(!supported(span, &[None]));
    }

    /// `briefd eval keypoints` on a three-article fixture in the set's layout prints every
    /// figure for both systems, and every point it shows passes the checker.
    #[test]
    fn runs_on_a_fixture_set() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/keypoints_eval");
        let mut out = Vec::new();
        run(&dir, keypoints::Options::default(), None, &mut out).expect("the fixture is readable");
        let out = String::from_utf8(out).expect("UTF-8");
        for figure in
            ["points per article", "grounding rate", "ROUGE-1 recall", "ROUGE-2 recall", "redundancy"]
        {
            assert!(
                out.lines().any(|l| l.starts_with(figure) && l.contains("overall")),
                "{figure} missing:\n{out}"
            );
        }
        let grounding = out
            .lines()
            .find(|l| l.starts_with("grounding rate") && l.contains("overall"))
            .expect("checked above");
        assert!(grounding.contains("100.00"), "{out}");
        assert!(!out.contains("unsupported point"), "{out}");
    }
}
