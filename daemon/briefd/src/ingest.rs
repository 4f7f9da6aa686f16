//! `briefd ingest PATH...`: process files once, then exit. Each file is *copied* into the
//! processing folder (the original stays where it is) and goes through the same worker as the
//! daemon's files, so the store, archive, failed folder and briefing end up the same. With
//! `method: model` the editor then writes the model summary of every queued story before the
//! briefings are written, as the daemon's editor would have.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use config::Config;
use pipeline::Pipeline;

use crate::worker::{Outcome, Report, Worker};

/// Counts of what happened to the files.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Files in stories.
    pub done: usize,
    /// Same bytes as an earlier file.
    pub duplicate: usize,
    /// Dropped by a stage.
    pub dropped: usize,
    /// Failed, with reasons in `failed/`.
    pub failed: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} file(s): {} done, {} duplicate, {} dropped, {} failed",
            self.done + self.duplicate + self.dropped + self.failed,
            self.done,
            self.duplicate,
            self.dropped,
            self.failed
        )
    }
}

/// The files named by `paths`: files as given, folders by their direct, non-hidden entries.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("listing {}", path.display()))?
                .filter_map(|e| e.ok())
                .filter(|e| !inbox::names::is_ignored(&e.file_name()))
                .map(|e| e.path())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Processes `files`, calling `progress` after each, and rewrites the briefings they changed.
pub fn ingest(
    config: Config,
    files: &[PathBuf],
    mut progress: impl FnMut(&Report),
) -> anyhow::Result<Summary> {
    let pipeline = Pipeline::build(&config)?;
    let config = Arc::new(config);
    let processing = config.paths.processing();
    let (_locks, store) = crate::daemon::open_state(&config, crate::daemon::Sharing::Nothing)?;
    let worker = Worker::new(config.clone(), store.clone(), pipeline);
    worker.recover()?;
    let editor = editor::Editor::for_config(&config, store.clone());
    let mut summary = Summary::default();
    let mut days = std::collections::BTreeSet::new();
    for file in files {
        let report = match inbox::claim::copy_in(file, &processing, config.inbox.max_file_bytes) {
            Ok(claimed) => worker.handle(&claimed)?,
            Err(e) => Report {
                file: file.display().to_string(),
                outcome: Outcome::Failed { stage: "inbox".into(), reason: e.to_string() },
                day: None,
            },
        };
        match &report.outcome {
            Outcome::Done { .. } => summary.done += 1,
            Outcome::Duplicate => summary.duplicate += 1,
            Outcome::Dropped { .. } => summary.dropped += 1,
            Outcome::Failed { .. } => summary.failed += 1,
        }
        if let Some(day) = &report.day {
            days.insert(day.clone());
        }
        progress(&report);
    }
    if let Some(editor) = editor {
        let written = editor.drain(&std::sync::atomic::AtomicBool::new(false), |changed| {
            days.extend(changed.iter().cloned());
        })?;
        tracing::info!(stories = written, "editor: model summaries written");
    }
    for day in days {
        crate::publish::write_day(&config, &store, &day)?;
    }
    Ok(summary)
}

/// True when `path` names something `ingest` can take.
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}
