//! `briefd eval summaries DIR`: ROUGE-1/2/L F1 on the summaries set (`articles.jsonl`, FRANK's
//! CNN/DailyMail and XSum articles with their reference summaries), for what briefd shows (the
//! model's summary when the guard accepts it, else the extractive one), the model's drafts
//! alone, the extractive summary and lead-3; with the guard's rejection rate and reasons, and
//! the model's prompt and generation speed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use summarize::{Model, Options, Summarize};

use super::rouge::{self, Rouge};

/// The systems scored, in print order.
const SYSTEMS: [&str; 4] = ["shown", "model", "extractive", "lead3"];

/// Runs the evaluation on `dir/articles.jsonl` (the first `limit` articles when given) with the
/// model at `model_path`, and prints the table to `out`.
pub fn run(
    dir: &Path,
    model_path: &Path,
    options: Options,
    limit: Option<usize>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (path, items) = super::summary_items(dir, limit)?;
    let model = Arc::new(Model::load(model_path)?);
    let stage = Summarize::with_model(options, model.clone());

    let mut tally = Tally::default();
    let started = Instant::now();
    for (n, item) in items.iter().enumerate() {
        let summary = stage.summarize(&item.article, None);
        tally.add(item, &summary);
        // Progress: a model run takes seconds to a minute per article, the set most of an hour.
        let why =
            summary.rejection.as_ref().map(|r| format!(" (draft refused: {})", r.kind())).unwrap_or_default();
        eprintln!(
            "[{}/{}] {} {}: {}{why}, {:.0} s so far",
            n + 1,
            items.len(),
            item.dataset,
            item.id,
            summary.method,
            started.elapsed().as_secs_f64()
        );
    }

    writeln!(
        out,
        "summaries: {} articles from {} (model {}, {} threads, {:.0} s)",
        items.len(),
        path.display(),
        model_path.display(),
        stage_threads(&stage),
        started.elapsed().as_secs_f64()
    )?;
    tally.print_rouge(out)?;
    tally.print_guard(items.len(), out)?;
    tally.print_speed(model.load_seconds, out)?;
    Ok(())
}

/// Everything counted over the articles.
#[derive(Default)]
struct Tally {
    /// scores[system][dataset] = per-article scores
    scores: BTreeMap<&'static str, BTreeMap<String, Vec<Rouge>>>,
    reasons: BTreeMap<String, usize>,
    rejected: usize,
    drafts: usize,
    /// Summaries carrying a name or number the article lacks: shown, and model drafts.
    invented_shown: usize,
    invented_drafts: usize,
    prompt_tokens: usize,
    prompt_seconds: f64,
    new_tokens: usize,
    generate_seconds: f64,
}

impl Tally {
    fn add(&mut self, item: &super::SummaryItem, summary: &summarize::Summary) {
        let lead3: Vec<&str> = text::sentences::split(&item.article).iter().take(3).map(|s| s.text).collect();
        let texts = [
            summary.text.as_str(),
            summary.draft.as_deref().unwrap_or(""),
            summary.extractive.as_str(),
            &lead3.join(" "),
        ];
        for (system, text) in SYSTEMS.iter().zip(texts) {
            let r = rouge::score(&item.reference, text);
            for dataset in [item.dataset.as_str(), "overall"] {
                self.scores.entry(system).or_default().entry(dataset.to_string()).or_default().push(r);
            }
        }
        let missing = unsupported(&summary.text, &item.article);
        if !missing.is_empty() {
            self.invented_shown += 1;
            // Named in the log so each case can be looked at, not only counted.
            tracing::info!(id = %item.id, method = %summary.method, ?missing, text = %summary.text, "shown summary has names or numbers the article lacks");
        }
        if let Some(draft) = &summary.draft {
            self.drafts += 1;
            if !unsupported(draft, &item.article).is_empty() {
                self.invented_drafts += 1;
            }
        }
        if let Some(rejection) = &summary.rejection {
            self.rejected += 1;
            *self.reasons.entry(rejection.kind().to_string()).or_default() += 1;
        }
        if let Some(e) = &summary.model_error {
            *self.reasons.entry(format!("model error: {e}")).or_default() += 1;
        }
        if let Some(g) = &summary.generation {
            self.prompt_tokens += g.prompt_tokens;
            self.prompt_seconds += g.prompt_seconds;
            // The first new token comes out of the prompt pass; the rest are timed as generation.
            self.new_tokens += g.ids.len().saturating_sub(1);
            self.generate_seconds += g.generate_seconds;
        }
    }

    fn print_rouge(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        writeln!(out, "ROUGE F1 x100 (rouge-score style, stemmed)")?;
        writeln!(out, "{:<12} {:<8} {:>4} {:>7} {:>7} {:>7}", "system", "dataset", "n", "R1", "R2", "RL")?;
        for system in SYSTEMS {
            for (dataset, list) in &self.scores[system] {
                let mean =
                    |f: fn(&Rouge) -> f64| 100.0 * list.iter().map(f).sum::<f64>() / list.len().max(1) as f64;
                writeln!(
                    out,
                    "{system:<12} {dataset:<8} {:>4} {:>7.2} {:>7.2} {:>7.2}",
                    list.len(),
                    mean(|r| r.rouge1.f1),
                    mean(|r| r.rouge2.f1),
                    mean(|r| r.rouge_l.f1)
                )?;
            }
        }
        Ok(())
    }

    fn print_guard(&self, n_items: usize, out: &mut dyn Write) -> anyhow::Result<()> {
        let Tally { invented_shown, invented_drafts, drafts, rejected, .. } = *self;
        let share = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
        writeln!(
            out,
            "unsupported names/numbers: shown {:.1}% ({invented_shown} of {}), model drafts {:.1}% ({invented_drafts} of {drafts})",
            share(invented_shown, n_items),
            n_items,
            share(invented_drafts, drafts)
        )?;
        let rate = 100.0 * rejected as f64 / drafts.max(1) as f64;
        writeln!(
            out,
            "guard: {rejected} of {drafts} model drafts rejected ({rate:.1}%), shown from the model: {}",
            drafts - rejected
        )?;
        for (reason, count) in &self.reasons {
            writeln!(out, "  {reason}: {count}")?;
        }
        Ok(())
    }

    fn print_speed(&self, load_seconds: f64, out: &mut dyn Write) -> anyhow::Result<()> {
        if self.prompt_seconds > 0.0 && self.generate_seconds > 0.0 {
            writeln!(
                out,
                "speed: prompt {:.1} tok/s ({} tokens), generation {:.1} tok/s ({} tokens), load {:.2} s",
                self.prompt_tokens as f64 / self.prompt_seconds,
                self.prompt_tokens,
                self.new_tokens as f64 / self.generate_seconds,
                self.new_tokens,
                load_seconds
            )?;
        }
        Ok(())
    }
}

fn stage_threads(stage: &Summarize) -> usize {
    stage.options().threads
}

/// Names and numbers of `summary` that `article` does not contain: numbers compared as digit
/// groups ("3,200" and "3200" alike; "47-year-old" needs a 47), and capitalised words that do not
/// open a sentence, without a possessive "'s", looked up case-sensitively in the article's text.
/// Deliberately not the guard's own test (which works on lower-cased word sets), so the figure
/// checks the guard rather than repeating it.
pub fn unsupported(summary: &str, article: &str) -> Vec<String> {
    let plain = article.replace(',', "");
    let article_numbers: std::collections::HashSet<&str> =
        plain.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    let mut missing = Vec::new();
    let mut sentence_start = true;
    for raw in summary.split_whitespace() {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let token = token.strip_suffix("'s").or_else(|| token.strip_suffix("\u{2019}s")).unwrap_or(token);
        if !token.is_empty() {
            let is_number = token.chars().any(|c| c.is_ascii_digit());
            let is_name = !sentence_start && token.chars().next().is_some_and(char::is_uppercase);
            let found = if is_number {
                token
                    .replace(',', "")
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|g| !g.is_empty())
                    .all(|g| article_numbers.contains(g))
            } else {
                article.contains(token)
            };
            if (is_number || is_name) && !found {
                missing.push(token.to_string());
            }
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':']);
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::unsupported;

    #[test]
    fn finds_names_and_numbers_the_article_lacks() {
        let article = "Lavrov met Choe in Wonsan on Saturday. Trade rose 3,200 tonnes.";
        assert!(unsupported("Lavrov and Choe met in Wonsan. Trade rose 3200 tonnes.", article).is_empty());
        assert_eq!(unsupported("The talks in Pyongyang drew 40 officials.", article), ["Pyongyang", "40"]);
        // Possessives and numbers inside words are read as the name and the number.
        assert!(unsupported("Our reporter says Lavrov's 3,200-tonne trade rose.", article).is_empty());
        // A number is a whole digit group: the 3 of 3,200 is no 3.
        assert_eq!(unsupported("Lavrov met 3 officials.", article), ["3"]);
    }
}
