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

/// Summaries kept from a reader, out of a number: by the whole guard and by its word checks
/// alone; for corrupted ones also among those whose true reference the guard passes (what it
/// tells apart). A corrupted summary counts as kept from the reader when it is refused or when
/// what is shown holds no sentence the true reference lacks (the false one was dropped); a true
/// one when it is refused, and as trimmed when a sentence of it was dropped.
#[derive(Default)]
struct Count {
    n: usize,
    stopped: usize,
    stopped_by_words: usize,
    trimmed: usize,
    n_true_passed: usize,
    stopped_true_passed: usize,
}

impl Count {
    fn add(
        &mut self,
        summary: &str,
        truth: &str,
        article: &str,
        injections: &injection::Injections,
        true_passed: bool,
    ) {
        let verdict = guard::accept(summary, article, injections, false);
        let true_sentences: Vec<&str> = text::sentences::split(truth).iter().map(|s| s.text).collect();
        let stopped = match &verdict {
            Err(_) => true,
            // A true summary is never "stopped" by a trim: only a refusal costs it.
            Ok(shown) if summary != truth => {
                text::sentences::split(&shown.text).iter().all(|s| true_sentences.contains(&s.text))
            }
            Ok(_) => false,
        };
        self.n += 1;
        self.stopped += usize::from(stopped);
        self.trimmed += usize::from(verdict.as_ref().is_ok_and(|a| !a.dropped.is_empty()));
        self.stopped_by_words +=
            usize::from(guard::check_words(summary, article, injections, false).is_err());
        if true_passed {
            self.n_true_passed += 1;
            self.stopped_true_passed += usize::from(stopped);
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
        let verdict = guard::accept(&item.reference, &item.article, &injections, false);
        counts.entry((item.dataset.clone(), None)).or_default().add(
            &item.reference,
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
                    &item.reference,
                    &item.article,
                    &injections,
                    verdict.as_ref().is_ok_and(|a| a.dropped.is_empty()),
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
        match kind {
            None => writeln!(
                out,
                "guard_false_rejection_{dataset}: {:.1} % ({} of {} true references refused, {} more trimmed; word checks alone {:.1} %)",
                percent(c.stopped, c.n),
                c.stopped,
                c.n,
                c.trimmed,
                percent(c.stopped_by_words, c.n)
            )?,
            Some(kind) => writeln!(
                out,
                "guard_catch_{}_{dataset}: {:.1} % ({} of {} corrupted references refused or the false sentence dropped; \
                 word checks alone {:.1} %; where the true reference is shown whole: {:.1} %, {} of {})",
                kind.name(),
                percent(c.stopped, c.n),
                c.stopped,
                c.n,
                percent(c.stopped_by_words, c.n),
                percent(c.stopped_true_passed, c.n_true_passed),
                c.stopped_true_passed,
                c.n_true_passed
            )?,
        }
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
