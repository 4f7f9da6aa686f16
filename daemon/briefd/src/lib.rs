//! The briefd daemon as a library: the binary's commands, so tests can drive them in-process.
//!
//! - [`daemon::run`]: the long-running service (watch, claim, process, publish, shut down);
//! - [`ingest::ingest`]: process given files once and exit;
//! - [`worker::Worker`]: one claimed file from bytes to archive or failed, shared by both;
//! - [`publish`]: writes a day's briefing atomically;
//! - [`lock`]: one briefd per state database;
//! - [`eval`]: scoring stages on the labelled sets.

pub mod daemon;
pub mod eval;
pub mod ingest;
pub mod lock;
pub mod publish;
pub mod worker;

/// The local date (YYYY-MM-DD) of now in `tz`: the day a briefing is named for.
pub fn today(tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date().to_string()
}

/// Why an article is in its story, as `briefd explain` prints it: its own decision, then every
/// merge that made up the story it is in now (`merges`, from `Store::story_merges`).
pub fn explain(stored: &stage_api::StoredArticle, merges: &[store::MergeRecord]) -> String {
    let article = &stored.article;
    let mut out = format!(
        "article {} ({}): {}\nstory {}\n",
        stored.article_id,
        article.file_name,
        article.headline(),
        stored.story_id
    );
    match &article.story {
        Some(m) => out += &format!("joined: {} (score {:.3})\n", m.reason, m.score),
        None => out += "started the story\n",
    }
    for (key, value) in article.metadata.iter().filter(|(k, _)| k.starts_with("dedupe.")) {
        out += &format!("{key}: {value}\n");
    }
    for merge in merges {
        // The reason names both stories and the scores; the record adds who and when.
        out += &format!(
            "merge: {} (by {}, item {}; {} article(s) moved, at {})\n",
            merge.reason, merge.file_name, merge.item_index, merge.n_moved, merge.at
        );
    }
    out
}
