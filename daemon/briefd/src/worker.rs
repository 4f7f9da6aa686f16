//! One claimed file, from the processing folder to `archive/` or `failed/`.
//!
//! The order of steps is what makes a crash at any moment safe: the file is recorded (with its
//! content hash) before any stage runs; each stage's result is recorded as it finishes; the
//! outcome and destination are committed before the file moves; and every step can be repeated
//! by a restart without doing anything twice.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use config::Config;
use inbox::dispose;
use inbox::Claimed;
use pipeline::{Finished, Pipeline};
use stage_api::Article;
use store::{FileRecord, FileState, Store};
use tracing::{info, warn};

/// How a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// In the briefing: its articles (one, or several for a JSON list or feed) are in stories.
    Done {
        /// The stories its articles joined or started, in the file's order (empty when this
        /// run only finished a move a crash interrupted).
        story_ids: Vec<i64>,
    },
    /// The same bytes came before.
    Duplicate,
    /// Dropped on purpose by a stage.
    Dropped {
        /// The stage.
        stage: String,
        /// Why.
        reason: String,
    },
    /// Could not be processed.
    Failed {
        /// The stage (or "inbox" when the file could not be read).
        stage: String,
        /// Why.
        reason: String,
    },
}

/// What happened to one file.
#[derive(Debug, Clone)]
pub struct Report {
    /// Its inbox name.
    pub file: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The briefing day it changed, if any.
    pub day: Option<String>,
}

/// Processes claimed files; owns the stages. Used from one thread at a time.
pub struct Worker {
    config: Arc<Config>,
    store: Arc<Store>,
    pipeline: Pipeline,
}

impl Worker {
    /// A worker running `pipeline` (built from `config` by [`Pipeline::build`]).
    pub fn new(config: Arc<Config>, store: Arc<Store>, pipeline: Pipeline) -> Worker {
        Worker { config, store, pipeline }
    }

    /// Runs the story stages over the stories a kill left queued (changed by a commit whose story
    /// stages had not all run). Call once at start, before the first file.
    pub fn catch_up_story_stages(&self) -> anyhow::Result<()> {
        let n_stories = self.pipeline.run_story_stages(&self.store)?;
        if n_stories > 0 {
            info!(n_stories, "story stages caught up after a restart");
        }
        Ok(())
    }

    /// Runs `pipeline` from the next file on (a reloaded config's stages).
    pub fn replace_pipeline(&mut self, pipeline: Pipeline) {
        self.pipeline = pipeline;
    }

    fn processing_path(&self, claimed: &Claimed) -> PathBuf {
        self.config.paths.processing().join(&claimed.processing_name)
    }

    /// Takes a claimed file all the way: record, stages, commit, move.
    pub fn handle(&self, claimed: &Claimed) -> anyhow::Result<Report> {
        match self.handle_inner(claimed) {
            Err(e) if e.is::<Lost>() => Ok(Report {
                file: claimed.original_name.to_string_lossy().into_owned(),
                outcome: Outcome::Failed { stage: "inbox".into(), reason: LOST.into() },
                day: None,
            }),
            other => other,
        }
    }

    /// After [`MAX_TRIES`] failed tries of [`Worker::handle`] whose error was not the disk or the
    /// store being unavailable (see [`is_resource_error`]): records the file as failed with
    /// `error` as its reason and moves it to `failed/`, so no file holds up the ones behind it.
    pub fn give_up(&self, claimed: &Claimed, error: &anyhow::Error) -> anyhow::Result<Report> {
        let name = claimed.original_name.to_string_lossy().into_owned();
        let reason = format!(
            "briefd could not finish this file after {MAX_TRIES} tries: {error:#}; fix the cause and drop it again"
        );
        let processing_name = claimed.processing_name.as_encoded_bytes();
        let record = match self.store.file_by_processing_name(processing_name)? {
            Some(record) => record,
            None => self.store.refuse_file(
                processing_name,
                claimed.original_name.as_encoded_bytes(),
                "briefd",
                &reason,
            )?,
        };
        let path = self.processing_path(claimed);
        match self.fail(record, &path, "briefd", &reason, name.clone(), Instant::now()) {
            Err(e) if e.is::<Lost>() => Ok(Report {
                file: name,
                outcome: Outcome::Failed { stage: "inbox".into(), reason: LOST.into() },
                day: None,
            }),
            other => other,
        }
    }

    fn handle_inner(&self, claimed: &Claimed) -> anyhow::Result<Report> {
        let name = claimed.original_name.to_string_lossy().into_owned();
        let span = tracing::info_span!("article", file = %name, file_id = tracing::field::Empty);
        let _enter = span.enter();
        let started = Instant::now();
        let path = self.processing_path(claimed);

        let (record, bytes) = match self.record(claimed, &path, &name, started)? {
            Recorded::Settled(report) => return Ok(report),
            Recorded::Taken(record, bytes) => (record, bytes),
        };
        let span_id = record.id;
        tracing::Span::current().record("file_id", span_id);

        if record.state == FileState::Duplicate {
            return self.finish_duplicate(&record, &path, name, started);
        }
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(e) => return self.fail(record, &path, "inbox", &e.to_string(), name, started),
        };
        let left_out = self.run_stages(&record, &name, bytes)?;
        self.finish(record, &path, name, &left_out, started)
    }

    /// Finds or makes the file's record. A file a restart finds already settled (or refused) is
    /// finished here; otherwise the record comes with the file's bytes, or why they could not be read.
    fn record(
        &self,
        claimed: &Claimed,
        path: &std::path::Path,
        name: &str,
        started: Instant,
    ) -> anyhow::Result<Recorded> {
        let processing_name = claimed.processing_name.as_encoded_bytes();
        let original_name = claimed.original_name.as_encoded_bytes();
        let max_bytes = self.config.inbox.max_file_bytes;
        match self.store.file_by_processing_name(processing_name)? {
            Some(record) if record.destination.is_some() => {
                // A crash came between recording the outcome and moving the file.
                self.move_out(&record, path)?;
                Ok(Recorded::Settled(self.report_of(&record, name.to_string())))
            }
            Some(record) if record.state == FileState::Failed => {
                // Refused (unreadable) and recorded, but the crash came before its destination was.
                let stage = record.failed_stage.clone().unwrap_or_else(|| "inbox".into());
                let reason = record.reason.clone().unwrap_or_else(|| "it could not be read".into());
                Ok(Recorded::Settled(self.fail(record, path, &stage, &reason, name.to_string(), started)?))
            }
            Some(record) => Ok(Recorded::Taken(record, inbox::claim::read(path, max_bytes))),
            None => match inbox::claim::read(path, max_bytes) {
                Ok(bytes) => {
                    let hash = inbox::claim::content_hash(&bytes);
                    let record =
                        self.store.accept_file(processing_name, original_name, &hash, bytes.len() as u64)?;
                    Ok(Recorded::Taken(record, Ok(bytes)))
                }
                Err(e) => {
                    let reason = e.to_string();
                    let record = self.store.refuse_file(processing_name, original_name, "inbox", &reason)?;
                    Ok(Recorded::Settled(self.fail(
                        record,
                        path,
                        "inbox",
                        &reason,
                        name.to_string(),
                        started,
                    )?))
                }
            },
        }
    }

    /// Archives a file whose bytes arrived before, without running the stages.
    fn finish_duplicate(
        &self,
        record: &FileRecord,
        path: &std::path::Path,
        name: String,
        started: Instant,
    ) -> anyhow::Result<Report> {
        let day = crate::today(&self.config.briefing.timezone);
        let destination = self.archive_destination(record, &day);
        self.store.finish_file(
            record.id,
            FileState::Duplicate,
            None,
            Some("the same bytes arrived before"),
            &destination,
        )?;
        self.move_to(record, path, &destination)?;
        info!(file_id = record.id, outcome = "duplicate", total_ms = ms(started), "article finished");
        Ok(Report { file: name, outcome: Outcome::Duplicate, day: None })
    }

    /// Runs the stages over the file's article(s), committing each one that comes through;
    /// returns those dropped or failed.
    fn run_stages(&self, record: &FileRecord, name: &str, bytes: Vec<u8>) -> anyhow::Result<Vec<LeftOut>> {
        let article = Article {
            file_name: name.to_string(),
            item_index: 0,
            received_at: record.received_at.clone(),
            raw: Some(bytes),
            ..Default::default()
        };
        // Each article is committed as it leaves the pipeline (a file may hold several: a JSON
        // list or feed); the file is finished and moved only once all of them are settled.
        let mut left_out: Vec<LeftOut> = Vec::new();
        self.pipeline.run_file(&self.store, record.id, article, |item| -> anyhow::Result<()> {
            let stages = item.timings.iter().map(|(s, t)| format!("{s}={t:.1}ms")).collect::<Vec<_>>().join(" ");
            let item_index = item.item_index;
            match item.finished {
                Finished::Done(article) => {
                    let day = crate::today(&self.config.briefing.timezone);
                    let story_id = self.store.commit_item(record.id, &article, &day)?;
                    info!(file_id = record.id, item_index, story_id, %stages, "article committed");
                    // Before the next article, as dedupe's view of the story is: the story
                    // stages over the story it changed (and any a kill left queued).
                    self.pipeline.run_story_stages(&self.store)?;
                }
                Finished::Dropped { stage, reason } => {
                    info!(file_id = record.id, item_index, %stage, %reason, %stages, "article dropped");
                    left_out.push(LeftOut { item_index, stage, reason, failed: false });
                }
                Finished::Failed { stage, message } => {
                    warn!(file_id = record.id, item_index, %stage, reason = %message, %stages, "article failed");
                    left_out.push(LeftOut { item_index, stage, reason: message, failed: true });
                }
            }
            Ok(())
        })?;
        Ok(left_out)
    }

    /// Finishes a file whose articles are all settled: archived when any is in a story, else
    /// dropped (every one dropped) or failed.
    fn finish(
        &self,
        record: FileRecord,
        path: &std::path::Path,
        name: String,
        left_out: &[LeftOut],
        started: Instant,
    ) -> anyhow::Result<Report> {
        // Dropped and failed articles come back on a resume (their results are recorded), so the
        // list is complete; committed ones are read from the store, resumed or not.
        let story_ids = self.store.file_stories(record.id)?;
        let n_items = self.store.file_items(record.id)?.len();
        let day = crate::today(&self.config.briefing.timezone);
        if !story_ids.is_empty() {
            let destination = self.archive_destination(&record, &day);
            let left_out_note = (!left_out.is_empty()).then(|| {
                format!(
                    "{} of {n_items} articles not in the briefing: {}",
                    left_out.len(),
                    describe(left_out)
                )
            });
            let note = match (left_out_note, self.changed_since_read(&record, path)) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            };
            if let Some(note) = &note {
                warn!(file_id = record.id, reason = %note, "file archived with articles left out");
            }
            self.store.finish_file(record.id, FileState::Done, None, note.as_deref(), &destination)?;
            self.move_to(&record, path, &destination)?;
            info!(
                file_id = record.id,
                n_articles = story_ids.len(),
                outcome = "done",
                total_ms = ms(started),
                "file finished"
            );
            return Ok(Report { file: name, outcome: Outcome::Done { story_ids }, day: Some(day) });
        }
        let (stage, reason) = nothing_committed(left_out, n_items);
        if left_out.iter().any(|l| l.failed) || left_out.is_empty() {
            return self.fail(record, path, &stage, &reason, name, started);
        }
        let destination = self.archive_destination(&record, &day);
        let reason = match self.changed_since_read(&record, path) {
            Some(changed) => format!("{reason}; {changed}"),
            None => reason,
        };
        self.store.finish_file(record.id, FileState::Dropped, Some(&stage), Some(&reason), &destination)?;
        self.move_to(&record, path, &destination)?;
        info!(file_id = record.id, outcome = "dropped", %stage, %reason, total_ms = ms(started), "file finished");
        Ok(Report { file: name, outcome: Outcome::Dropped { stage, reason }, day: None })
    }

    fn fail(
        &self,
        record: FileRecord,
        path: &std::path::Path,
        stage: &str,
        reason: &str,
        name: String,
        started: Instant,
    ) -> anyhow::Result<Report> {
        let destination =
            dispose::destination(&self.config.paths.failed, OsStr::new(&original(&record)), record.id);
        self.store.finish_file(record.id, FileState::Failed, Some(stage), Some(reason), &destination)?;
        let record = FileRecord {
            state: FileState::Failed,
            failed_stage: Some(stage.to_string()),
            reason: Some(reason.to_string()),
            destination: Some(destination.clone()),
            ..record
        };
        self.move_out(&record, path)?;
        warn!(file_id = record.id, outcome = "failed", %stage, reason, total_ms = ms(started), "article failed");
        Ok(Report {
            file: name,
            outcome: Outcome::Failed { stage: stage.into(), reason: reason.into() },
            day: None,
        })
    }

    /// Moves a file whose outcome is recorded to its recorded destination (and writes the error
    /// report for a failure).
    fn move_out(&self, record: &FileRecord, path: &std::path::Path) -> anyhow::Result<()> {
        let Some(destination) = record.destination.clone() else {
            anyhow::bail!("internal: file {} has an outcome but no destination", record.id);
        };
        if record.state == FileState::Failed {
            let report = error_report(record);
            dispose::write_error_report(&destination, &report)
                .with_context(|| format!("writing the error report for {}", destination.display()))?;
        }
        self.move_to(record, path, &destination)
    }

    fn move_to(
        &self,
        record: &FileRecord,
        path: &std::path::Path,
        destination: &std::path::Path,
    ) -> anyhow::Result<()> {
        let moved = dispose::move_file(path, destination)
            .with_context(|| format!("moving {} to {}", path.display(), destination.display()))?;
        if moved == dispose::Moved::Vanished {
            self.record_lost(record)?;
            return Err(Lost.into());
        }
        self.store.mark_moved(record.id)?;
        Ok(())
    }

    /// A file that left the processing folder while in flight (removed by someone else): its
    /// record says failed with [`LOST`], a report in `failed/` says so too, and nothing waits for it.
    fn record_lost(&self, record: &FileRecord) -> anyhow::Result<()> {
        warn!(file_id = record.id, reason = LOST, "file lost while in flight");
        let destination = match (&record.destination, record.reason.as_deref()) {
            (Some(d), Some(LOST)) => d.clone(),
            _ => dispose::destination(&self.config.paths.failed, OsStr::new(&original(record)), record.id),
        };
        self.store.finish_file(record.id, FileState::Failed, Some("inbox"), Some(LOST), &destination)?;
        let lost = FileRecord {
            state: FileState::Failed,
            failed_stage: Some("inbox".into()),
            reason: Some(LOST.into()),
            destination: Some(destination.clone()),
            ..record.clone()
        };
        dispose::write_error_report(&destination, &error_report(&lost))
            .with_context(|| format!("writing the error report for {}", destination.display()))?;
        self.store.mark_moved(record.id)?;
        Ok(())
    }

    /// Whether the file in the processing folder still holds the bytes that were processed (their
    /// hash is recorded): a writer that kept the file open may append to it or cut it after the
    /// claim. What was read is what the briefing shows; the archive keeps the file as it is, and
    /// this note (logged, recorded, shown by `briefd explain`) says they differ.
    fn changed_since_read(&self, record: &FileRecord, path: &std::path::Path) -> Option<String> {
        let read = record.content_hash.as_deref()?;
        let now = inbox::claim::read(path, self.config.inbox.max_file_bytes);
        let note = match now {
            Ok(bytes) if inbox::claim::content_hash(&bytes) == read => return None,
            Ok(bytes) => format!(
                "the file changed after briefd read it (it is {} bytes now): the briefing has what was read, the archive keeps the file as it is now",
                bytes.len()
            ),
            Err(e) => format!("the file changed after briefd read it ({e}): the briefing has what was read"),
        };
        warn!(file_id = record.id, reason = %note, "file changed after it was read");
        Some(note)
    }

    fn archive_destination(&self, record: &FileRecord, day: &str) -> PathBuf {
        let dir = dispose::archive_dir(&self.config.paths.archive, day);
        dispose::destination(&dir, OsStr::new(&original(record)), record.id)
    }

    fn report_of(&self, record: &FileRecord, name: String) -> Report {
        let outcome = match record.state {
            FileState::Duplicate => Outcome::Duplicate,
            FileState::Dropped => Outcome::Dropped {
                stage: record.failed_stage.clone().unwrap_or_default(),
                reason: record.reason.clone().unwrap_or_default(),
            },
            FileState::Failed => Outcome::Failed {
                stage: record.failed_stage.clone().unwrap_or_default(),
                reason: record.reason.clone().unwrap_or_default(),
            },
            FileState::Done | FileState::Accepted => Outcome::Done { story_ids: Vec::new() },
        };
        let day = (record.state == FileState::Done).then(|| crate::today(&self.config.briefing.timezone));
        Report { file: name, outcome, day }
    }

    /// Settles what a crash left behind: records whose move finished, and records whose file is
    /// gone. Returns how many records were repaired. A file another live daemon holds is that
    /// daemon's business (with several on one PostgreSQL database).
    pub fn recover(&self) -> anyhow::Result<usize> {
        let processing = self.config.paths.processing();
        let mut repaired = 0;
        for record in self.store.files_awaiting_move()? {
            if self.store.held_by_another(&record.processing_name)? {
                continue;
            }
            let here = processing.join(std::ffi::OsString::from_vec_lossy(&record.processing_name));
            if std::fs::symlink_metadata(&here).is_err() {
                self.store.mark_moved(record.id)?;
                repaired += 1;
            }
        }
        for record in self.store.unfinished_files()? {
            if self.store.held_by_another(&record.processing_name)? {
                continue;
            }
            let here = processing.join(std::ffi::OsString::from_vec_lossy(&record.processing_name));
            if std::fs::symlink_metadata(&here).is_err() {
                // Another daemon may have finished it since it was listed: it records the outcome
                // before it moves the file, so a record read after the file is gone is current.
                let now = self.store.file_by_processing_name(&record.processing_name)?;
                if now.is_none_or(|now| now.state != FileState::Accepted) {
                    continue;
                }
                let reason =
                    "the file disappeared from the processing folder before it was finished; drop it again";
                let destination = dispose::destination(
                    &self.config.paths.failed,
                    OsStr::new(&original(&record)),
                    record.id,
                );
                self.store.finish_file(
                    record.id,
                    FileState::Failed,
                    Some("inbox"),
                    Some(reason),
                    &destination,
                )?;
                let record = FileRecord {
                    state: FileState::Failed,
                    reason: Some(reason.into()),
                    failed_stage: Some("inbox".into()),
                    ..record
                };
                dispose::write_error_report(&destination, &error_report(&record))?;
                self.store.mark_moved(record.id)?;
                repaired += 1;
            }
        }
        self.catch_up_story_stages()?;
        Ok(repaired)
    }
}

/// How many times [`Worker::handle`] is tried before [`Worker::give_up`] sends the file to
/// `failed/` (unless the disk or store is what fails: see [`is_resource_error`]).
pub const MAX_TRIES: u32 = 3;

/// The reason recorded for a file removed from the processing folder while in flight.
pub const LOST: &str = "the file disappeared from the processing folder while briefd was working on it (removed by another program?); drop it again";

/// A file gone from the processing folder before its move: recorded as failed, nothing to retry.
#[derive(Debug)]
struct Lost;

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(LOST)
    }
}

impl std::error::Error for Lost {}

/// True when `error` is the machine's, not the file's: a full, read-only or failing disk, or a
/// busy or full database. Those are retried for as long as they last (no file is failed for
/// them, and failing it would need the same disk); any other error fails the file after
/// [`MAX_TRIES`].
pub fn is_resource_error(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(store) = cause.downcast_ref::<store::StoreError>() {
            return store.is_unavailable();
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.raw_os_error(),
                Some(
                    libc::ENOSPC
                        | libc::EDQUOT
                        | libc::EFBIG
                        | libc::EROFS
                        | libc::EIO
                        | libc::ENOMEM
                        | libc::EMFILE
                        | libc::ENFILE
                        | libc::EAGAIN
                        | libc::EBUSY
                )
            );
        }
        false
    })
}

trait FromVecLossy {
    fn from_vec_lossy(bytes: &[u8]) -> Self;
}

impl FromVecLossy for std::ffi::OsString {
    fn from_vec_lossy(bytes: &[u8]) -> Self {
        use std::os::unix::ffi::OsStringExt;
        std::ffi::OsString::from_vec(bytes.to_vec())
    }
}

fn original(record: &FileRecord) -> std::ffi::OsString {
    std::ffi::OsString::from_vec_lossy(&record.original_name)
}

fn error_report(record: &FileRecord) -> String {
    format!(
        "briefd could not process this file.\n\nfile:     {}\nstage:    {}\nreason:   {}\nreceived: {}\nid:       {}\n\n\
         Fix the file (or the config) and drop it into the inbox again; briefd keeps this copy here.\n",
        record.display_name(),
        record.failed_stage.as_deref().unwrap_or("unknown"),
        record.reason.as_deref().unwrap_or("unknown"),
        record.received_at,
        record.id
    )
}

/// An article of a file that did not reach the briefing.
struct LeftOut {
    item_index: u32,
    stage: String,
    reason: String,
    failed: bool,
}

/// "item 2 (clean): no article text ...; item 5 (...)": the first few, then how many more.
/// The stage and reason recorded for a file none of whose articles was committed: one article
/// says it in its own words; several are summed up.
fn nothing_committed(left_out: &[LeftOut], n_items: usize) -> (String, String) {
    match left_out {
        [one] if n_items == 1 => (one.stage.clone(), one.reason.clone()),
        _ => {
            let mut stages: Vec<&str> = left_out.iter().map(|l| l.stage.as_str()).collect();
            stages.sort_unstable();
            stages.dedup();
            let stage = if stages.len() == 1 { stages[0].to_string() } else { "pipeline".to_string() };
            let reason =
                format!("none of the {n_items} articles in the file could be used: {}", describe(left_out));
            (stage, reason)
        }
    }
}

/// A claimed file as the store knows it.
enum Recorded {
    /// Nothing left to run: finished now from what an earlier run recorded.
    Settled(Report),
    /// Recorded, with its bytes or why they could not be read.
    Taken(FileRecord, Result<Vec<u8>, inbox::claim::ReadError>),
}

fn describe(left_out: &[LeftOut]) -> String {
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = left_out
        .iter()
        .take(SHOWN)
        .map(|l| format!("item {} ({}): {}", l.item_index, l.stage, l.reason))
        .collect();
    if left_out.len() > SHOWN {
        parts.push(format!("and {} more", left_out.len() - SHOWN));
    }
    parts.join("; ")
}

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
