//! The briefd daemon as a library: the binary's commands, so tests can drive them in-process.
//!
//! - [`run`] ([`daemon::run`]): the long-running service (watch, claim, process, publish, shut
//!   down), stopped by the future it is given;
//! - [`ingest::ingest`]: process given files once and exit;
//! - [`worker::Worker`]: one claimed file from bytes to archive or failed, shared by both;
//! - [`check::check_config`]: the config and the pipeline `run` would build, or every problem;
//! - [`status::render`], [`explain`]: what `briefd status` and `briefd explain` print;
//! - [`publish`]: writes a day's briefing atomically;
//! - [`lock`]: one briefd per SQLite database and inbox; [`lease`]: a daemon's lease among
//!   several on one PostgreSQL database; [`crash`]: a crash told from a kill at the next start;
//! - [`day_eval`]: `briefd eval day`, which lives here rather than in `eval` because it runs the
//!   daemon's own ingest path (`eval` cannot depend on this crate, which depends on it).

pub mod check;
pub mod crash;
pub mod daemon;
pub mod day_eval;
pub mod ingest;
pub mod init;
pub mod lease;
pub mod lock;
pub mod notify;
pub mod publish;
pub mod serve;
pub mod status;
pub mod terminal;
pub mod worker;

pub use daemon::run;

/// The store's name for where the config puts the state.
pub fn location(database: &config::Database) -> store::Location {
    match database {
        config::Database::File(path) => store::Location::File(path.clone()),
        config::Database::Postgres(url) => store::Location::Postgres(url.clone()),
    }
}

/// The local date (YYYY-MM-DD) of now in `tz`: the day a briefing is named for.
pub fn today(tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date().to_string()
}

/// What became of a file, as `briefd explain` prints it before its articles: its id, name and
/// state, and for a duplicate, a drop or a failure the stage and reason recorded.
pub fn explain_file(file: &store::FileRecord, articles: &[stage_api::StoredArticle]) -> String {
    use store::FileState;
    let mut out = format!("file {} {:?}, received {}: ", file.id, file.display_name(), file.received_at);
    let reason = || {
        let stage = file.failed_stage.as_deref().map(|s| format!(" in {s}")).unwrap_or_default();
        format!("{stage}: {}", file.reason.as_deref().unwrap_or("no reason recorded"))
    };
    match file.state {
        FileState::Done => {
            let ids: Vec<String> = articles.iter().map(|a| a.article_id.to_string()).collect();
            out.push_str(&format!("done; article(s) {}\n", ids.join(", ")));
            if let Some(note) = &file.reason {
                out.push_str(&format!("note: {note}\n"));
            }
        }
        FileState::Duplicate => out.push_str(&format!(
            "duplicate: the same bytes came in before{}\n",
            file.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        )),
        FileState::Dropped => out.push_str(&format!("dropped{}\n", reason())),
        FileState::Failed => out.push_str(&format!("failed{}\n", reason())),
        FileState::Accepted => out.push_str("in flight: not finished yet\n"),
    }
    out
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
        Some(m) if m.story_id != stored.story_id => {
            out += &format!(
                "joined story {}: {} (score {:.3}); moved by a merge below\n",
                m.story_id, m.reason, m.score
            )
        }
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

/// The editor's side of a story, as `briefd explain` prints it: the model summary written for
/// which revision, or why it was rejected, and whether the story waits in the queue.
pub fn explain_editor(record: &store::EditorRecord) -> String {
    let mut out = String::new();
    match &record.written {
        Some((revision, store::Written::Summary(_))) if *revision == record.revision => {
            out += &format!("model summary: shown (revision {revision}, {} source(s))\n", record.n_sources)
        }
        Some((revision, store::Written::Rejected(reason))) if *revision == record.revision => {
            out += &format!(
            "model summary: rejected for revision {revision}: {reason}; the extractive summary is shown\n"
        )
        }
        Some((revision, _)) => {
            out += &format!(
                "model summary: written for revision {revision}, stale (story at revision {})\n",
                record.revision
            )
        }
        None => {}
    }
    if record.queued {
        out += &format!("model summary: queued (revision {})\n", record.revision);
    }
    out
}

#[cfg(test)]
mod tests {
    use stage_api::{Article, StoredArticle, StoryMatch};

    use super::*;

    #[test]
    fn the_editors_record_says_shown_rejected_stale_or_queued() {
        let record = |written, queued| store::EditorRecord {
            revision: 3,
            queued,
            written,
            n_sources: 2,
            written_at: Some("T".into()),
        };
        let shown = explain_editor(&record(Some((3, store::Written::Summary("S".into()))), false));
        assert_eq!(shown, "model summary: shown (revision 3, 2 source(s))\n");
        let rejected =
            explain_editor(&record(Some((3, store::Written::Rejected("unsupported number".into()))), false));
        assert!(
            rejected.starts_with("model summary: rejected for revision 3: unsupported number;"),
            "{rejected}"
        );
        let stale = explain_editor(&record(Some((2, store::Written::Summary("S".into()))), true));
        assert_eq!(
            stale,
            "model summary: written for revision 2, stale (story at revision 3)\nmodel summary: queued (revision 3)\n"
        );
        assert_eq!(explain_editor(&record(None, false)), "");
    }

    /// An article that joined story 5, which a later merge moved into story 9, names both.
    #[test]
    fn a_moved_article_names_the_story_it_joined_and_the_merge() {
        let story = StoryMatch { story_id: 5, reason: "dedupe:same_story".into(), score: 0.41 };
        let article = Article { file_name: "b.txt".into(), story: Some(story), ..Article::default() };
        let stored = StoredArticle { article_id: 2, story_id: 9, article };
        let merge = store::MergeRecord {
            from_story: 5,
            into_story: 9,
            file_id: 3,
            item_index: 0,
            file_name: "c.txt".into(),
            n_moved: 2,
            reason: "merged story 5 into 9".into(),
            score: 0.5,
            at: "2026-11-24T06:00:00Z".into(),
        };
        let text = explain(&stored, &[merge]);
        assert!(text.contains("story 9\n"), "{text}");
        assert!(
            text.contains("joined story 5: dedupe:same_story (score 0.410); moved by a merge below"),
            "{text}"
        );
        assert!(text.contains("merge: merged story 5 into 9 (by c.txt"), "{text}");
    }
}
