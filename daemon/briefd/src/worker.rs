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
    /// In a story.
    Done {
        /// The story it joined or started.
        story_id: i64,
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
    /// A worker with the configured stages.
    pub fn new(config: Arc<Config>, store: Arc<Store>) -> Worker {
        let pipeline = Pipeline::from_config(&config.stages);
        Worker { config, store, pipeline }
    }

    fn processing_path(&self, claimed: &Claimed) -> PathBuf {
        self.config.paths.processing().join(&claimed.processing_name)
    }

    /// Takes a claimed file all the way: record, stages, commit, move.
    pub fn handle(&self, claimed: &Claimed) -> anyhow::Result<Report> {
        let name = claimed.original_name.to_string_lossy().into_owned();
        let span = tracing::info_span!("article", file = %name, file_id = tracing::field::Empty);
        let _enter = span.enter();
        let started = Instant::now();
        let path = self.processing_path(claimed);
        let processing_name = claimed.processing_name.as_encoded_bytes();
        let original_name = claimed.original_name.as_encoded_bytes();

        let (record, bytes) = match self.store.file_by_processing_name(processing_name)? {
            Some(record) if record.destination.is_some() => {
                // A crash came between recording the outcome and moving the file.
                self.move_out(&record, &path)?;
                return Ok(self.report_of(&record, name));
            }
            Some(record) if record.state == FileState::Failed => {
                // Refused (unreadable) and recorded, but the crash came before its destination was.
                let stage = record.failed_stage.clone().unwrap_or_else(|| "inbox".into());
                let reason = record.reason.clone().unwrap_or_else(|| "it could not be read".into());
                return self.fail(record, &path, &stage, &reason, name, started);
            }
            Some(record) => (record, inbox::claim::read(&path, self.config.inbox.max_file_bytes)),
            None => match inbox::claim::read(&path, self.config.inbox.max_file_bytes) {
                Ok(bytes) => {
                    let hash = inbox::claim::content_hash(&bytes);
                    let record = self.store.accept_file(processing_name, original_name, &hash, bytes.len() as u64)?;
                    (record, Ok(bytes))
                }
                Err(e) => {
                    let reason = e.to_string();
                    let record = self.store.refuse_file(processing_name, original_name, "inbox", &reason)?;
                    return self.fail(record, &path, "inbox", &reason, name, started);
                }
            },
        };
        let span_id = record.id;
        tracing::Span::current().record("file_id", span_id);

        if record.state == FileState::Duplicate {
            let day = crate::today(&self.config.briefing.timezone);
            let destination = self.archive_destination(&record, &day);
            self.store.finish_file(record.id, FileState::Duplicate, None, Some("the same bytes arrived before"), &destination)?;
            self.move_to(&record, &path, &destination)?;
            info!(file_id = record.id, outcome = "duplicate", total_ms = ms(started), "article finished");
            return Ok(Report { file: name, outcome: Outcome::Duplicate, day: None });
        }

        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(e) => return self.fail(record, &path, "inbox", &e.to_string(), name, started),
        };
        let article = Article {
            file_name: name.clone(),
            item_index: 0,
            received_at: record.received_at.clone(),
            raw: Some(bytes),
            ..Default::default()
        };
        let (finished, timings) = self.pipeline.run(&self.store, record.id, article)?;
        let stages = timings.iter().map(|(s, t)| format!("{s}={t:.1}ms")).collect::<Vec<_>>().join(" ");
        match finished {
            Finished::Done(article) => {
                let day = crate::today(&self.config.briefing.timezone);
                let destination = self.archive_destination(&record, &day);
                let story_id = self.store.commit_article(record.id, &article, &day, &destination)?;
                self.move_to(&record, &path, &destination)?;
                info!(file_id = record.id, story_id, outcome = "done", %stages, total_ms = ms(started), "article finished");
                Ok(Report { file: name, outcome: Outcome::Done { story_id }, day: Some(day) })
            }
            Finished::Dropped { stage, reason } => {
                let day = crate::today(&self.config.briefing.timezone);
                let destination = self.archive_destination(&record, &day);
                self.store.finish_file(record.id, FileState::Dropped, Some(&stage), Some(&reason), &destination)?;
                self.move_to(&record, &path, &destination)?;
                info!(file_id = record.id, outcome = "dropped", %stage, %reason, %stages, total_ms = ms(started), "article finished");
                Ok(Report { file: name, outcome: Outcome::Dropped { stage, reason }, day: None })
            }
            Finished::Failed { stage, message } => self.fail(record, &path, &stage, &message, name, started),
        }
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
        let destination = dispose::destination(&self.config.paths.failed, OsStr::new(&original(&record)), record.id);
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
        Ok(Report { file: name, outcome: Outcome::Failed { stage: stage.into(), reason: reason.into() }, day: None })
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

    fn move_to(&self, record: &FileRecord, path: &std::path::Path, destination: &std::path::Path) -> anyhow::Result<()> {
        dispose::move_file(path, destination)
            .with_context(|| format!("moving {} to {}", path.display(), destination.display()))?;
        self.store.mark_moved(record.id)?;
        Ok(())
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
            FileState::Done | FileState::Accepted => Outcome::Done { story_id: 0 },
        };
        let day = (record.state == FileState::Done).then(|| crate::today(&self.config.briefing.timezone));
        Report { file: name, outcome, day }
    }

    /// Settles what a crash left behind: records whose move finished, and records whose file is
    /// gone. Returns how many records were repaired.
    pub fn recover(&self) -> anyhow::Result<usize> {
        let processing = self.config.paths.processing();
        let mut repaired = 0;
        for record in self.store.files_awaiting_move()? {
            let here = processing.join(std::ffi::OsString::from_vec_lossy(&record.processing_name));
            if std::fs::symlink_metadata(&here).is_err() {
                self.store.mark_moved(record.id)?;
                repaired += 1;
            }
        }
        for record in self.store.unfinished_files()? {
            let here = processing.join(std::ffi::OsString::from_vec_lossy(&record.processing_name));
            if std::fs::symlink_metadata(&here).is_err() {
                let reason = "the file disappeared from the processing folder before it was finished; drop it again";
                let destination = dispose::destination(&self.config.paths.failed, OsStr::new(&original(&record)), record.id);
                self.store.finish_file(record.id, FileState::Failed, Some("inbox"), Some(reason), &destination)?;
                let record = FileRecord { state: FileState::Failed, reason: Some(reason.into()), failed_stage: Some("inbox".into()), ..record };
                dispose::write_error_report(&destination, &error_report(&record))?;
                self.store.mark_moved(record.id)?;
                repaired += 1;
            }
        }
        Ok(repaired)
    }
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

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
