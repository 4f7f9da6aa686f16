//! `briefd eval guard DIR`: the summary guard measured on its own, without a model. The
//! summaries set's reference summaries are true summaries of their articles; the same references
//! made false in one place ([`corrupt`](crate::corrupt)) are bad ones. The guard should pass the
//! first and refuse the second: its false-rejection rate on the true references and its catch
//! rate per kind of corruption, per dataset, for the whole guard and for its word checks alone
//! (what the claim check adds).
//!
//! The references are human abstracts, not extracts: XSum's in particular often say what their
//! article does not (about a quarter, by FRANK's own annotation), so a strict guard refuses some
//! of them rightly; the false-rejection rate is an upper bound on what the guard costs a faithful
//! summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use summarize::{guard, injection};

use crate::corrupt::{self, Kind};

/// Refusals out of a number of summaries, by the whole guard and by its word checks alone; for
/// corrupted ones also among those whose true reference the guard passes (what it tells apart).
#[derive(Default)]
struct Count {
    n: usize,
    refused: usize,
    refused_by_words: usize,
    n_true_passed: usize,
    refused_true_passed: usize,
}

impl Count {
    fn add(&mut self, summary: &str, article: &str, injections: &injection::Injections, true_passed: bool) {
        let refused = guard::check(summary, article, injections, false).is_err();
        self.n += 1;
        self.refused += usize::from(refused);
        self.refused_by_words +=
            usize::from(guard::check_words(summary, article, injections, false).is_err());
        if true_passed {
            self.n_true_passed += 1;
            self.refused_true_passed += usize::from(refused);
        }
    }
}

/// Runs the measurement on `dir/articles.jsonl` and prints one figure per line to `out`.
pub fn run(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let (path, items) = crate::summary_items(dir, None)?;
    // counts[(dataset, kind)]; kind None is the true reference.
    let mut counts: BTreeMap<(String, Option<Kind>), Count> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    for item in &items {
        let injections = injection::find(&item.article);
        let verdict = guard::check(&item.reference, &item.article, &injections, false);
        counts.entry((item.dataset.clone(), None)).or_default().add(
            &item.reference,
            &item.article,
            &injections,
            false,
        );
        if let Err(rejection) = &verdict {
            let reason = match rejection {
                guard::Rejection::UnsupportedClaim(claim) => claim.lack.kind(),
                other => other.kind(),
            };
            *reasons.entry((item.dataset.clone(), reason)).or_default() += 1;
        }
        for kind in Kind::ALL {
            if let Some(bad) = corrupt::corrupt(&item.reference, kind) {
                counts.entry((item.dataset.clone(), Some(kind))).or_default().add(
                    &bad,
                    &item.article,
                    &injections,
                    verdict.is_ok(),
                );
            }
        }
    }
    writeln!(
        out,
        "guard: {} reference summaries from {}, each also corrupted one way per kind",
        items.len(),
        path.display()
    )?;
    let percent = |k: usize, n: usize| 100.0 * k as f64 / n.max(1) as f64;
    for ((dataset, kind), c) in &counts {
        let (figure, what) = match kind {
            None => (format!("guard_false_rejection_{dataset}"), "true references refused"),
            Some(kind) => (format!("guard_catch_{}_{dataset}", kind.name()), "corrupted references refused"),
        };
        write!(
            out,
            "{figure}: {:.1} % ({} of {} {what}; word checks alone {:.1} %",
            percent(c.refused, c.n),
            c.refused,
            c.n,
            percent(c.refused_by_words, c.n)
        )?;
        if kind.is_some() {
            write!(
                out,
                "; where the true reference passes: {:.1} %, {} of {}",
                percent(c.refused_true_passed, c.n_true_passed),
                c.refused_true_passed,
                c.n_true_passed
            )?;
        }
        writeln!(out, ")")?;
    }
    for ((dataset, reason), n) in &reasons {
        writeln!(out, "  true {dataset} references refused for {reason}: {n}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faithful_reference_passes_and_its_corruptions_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let item = serde_json::json!({
            "id": "1",
            "dataset": "cnndm",
            "article": "Jurgen Klopp will leave Borussia Dortmund at the end of the season. \
                        The German has won two league titles at the club.",
            "reference": "Jurgen Klopp will leave Borussia Dortmund at the end of the season ."
        });
        std::fs::write(dir.path().join("articles.jsonl"), format!("{item}\n")).unwrap();
        let mut out = Vec::new();
        run(dir.path(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("guard_false_rejection_cnndm: 0.0 % (0 of 1"), "{out}");
        // "Borussia Dortmund will leave Jurgen Klopp" and "will not leave" are both refused.
        assert!(out.contains("guard_catch_swap_names_cnndm: 100.0 % (1 of 1"), "{out}");
        assert!(out.contains("guard_catch_negate_cnndm: 100.0 % (1 of 1"), "{out}");
    }
}
