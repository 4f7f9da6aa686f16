//! What `briefd status` shows: whether a daemon runs on the state, files per state, article and
//! story counts, the editor's queue, and the latest failures and drops with their reasons. It
//! only reads: a fresh folder gets no database.

use std::fmt::Write as _;
use std::path::Path;

use store::{FileState, RecentFile, StatusReport};

/// Identifies the JSON format; bumped only for incompatible changes.
pub const JSON_SCHEMA: &str = "briefd.status/1";

/// Everything the command reports.
pub struct View<'a> {
    /// The state database: its file, or its URL without the password.
    pub database: &'a str,
    /// `Some(pid)` when a briefd holds the state's lock (`Some(None)`: pid unknown).
    pub daemon: Option<Option<u32>>,
    /// The store's counts; `None` when there is no database yet.
    pub report: Option<&'a StatusReport>,
    /// Files waiting in the inbox, and files claimed and not finished (`inbox/.processing`).
    pub inbox: (usize, usize),
    /// With `method: model`: the model file and whether it is there.
    pub model: Option<(&'a Path, bool)>,
}

/// Files (not hidden) directly in `dir`; 0 when it cannot be read.
pub fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .count()
        })
        .unwrap_or(0)
}

/// The report as printed: who runs, one count per line, then the recent failures and drops.
pub fn text(view: &View<'_>) -> String {
    let mut out = String::new();
    let _ = match view.daemon {
        Some(Some(pid)) => writeln!(out, "{:>10}: running (pid {pid})", "daemon"),
        Some(None) => writeln!(out, "{:>10}: running", "daemon"),
        None => writeln!(out, "{:>10}: not running", "daemon"),
    };
    let (waiting, processing) = view.inbox;
    let _ = writeln!(out, "{:>10}: {waiting} waiting, {processing} being processed", "inbox");
    if let Some((path, present)) = view.model {
        let state = if present { "present" } else { "missing: run models/fetch or fix model_path" };
        let _ = writeln!(out, "{:>10}: {} ({state})", "model", path.display());
    }
    let Some(report) = view.report else {
        let _ = writeln!(
            out,
            "{:>10}: none yet at {} (nothing processed; `briefd run` creates it)",
            "state", view.database
        );
        return out;
    };
    out.push_str(&render(report));
    out
}

/// The report as one JSON object, schema [`JSON_SCHEMA`]: `{ schema, database, daemon: { running,
/// pid }, state_exists, inbox: { waiting, processing }, model: { path, present } | null,
/// files: { STATE: n }, articles, stories, queued_summaries,
/// recent_failures: [{ name, stage, reason, at }], recent_drops: [...] }`.
pub fn json(view: &View<'_>) -> String {
    let files = |r: &StatusReport| -> serde_json::Map<String, serde_json::Value> {
        r.files.iter().map(|c| (c.state.as_str().to_string(), c.n_files.into())).collect()
    };
    let list = |l: &[RecentFile]| -> Vec<serde_json::Value> {
        l.iter()
            .map(|f| serde_json::json!({ "name": f.name, "stage": f.stage, "reason": f.reason, "at": f.at }))
            .collect()
    };
    let mut out = serde_json::json!({
        "schema": JSON_SCHEMA,
        "database": view.database,
        "daemon": { "running": view.daemon.is_some(), "pid": view.daemon.flatten() },
        "state_exists": view.report.is_some(),
        "inbox": { "waiting": view.inbox.0, "processing": view.inbox.1 },
        "model": view.model.map(|(path, present)| serde_json::json!({ "path": path.display().to_string(), "present": present })),
    });
    if let (Some(r), Some(map)) = (view.report, out.as_object_mut()) {
        map.insert("files".into(), files(r).into());
        map.insert("articles".into(), r.articles.into());
        map.insert("stories".into(), r.stories.into());
        map.insert("queued_summaries".into(), r.queued_summaries.into());
        map.insert("recent_failures".into(), list(&r.recent_failures).into());
        map.insert("recent_drops".into(), list(&r.recent_drops).into());
    }
    out.to_string()
}

/// The store's part of the report: one count per line, then the recent failures and drops.
pub fn render(report: &StatusReport) -> String {
    let mut out = String::new();
    for count in &report.files {
        let _ = writeln!(out, "{:>10}: {}", state_label(count.state), count.n_files);
    }
    let _ = writeln!(out, "{:>10}: {}", "articles", report.articles);
    let _ = writeln!(out, "{:>10}: {}", "stories", report.stories);
    if report.queued_summaries > 0 {
        // Only with `method: model` does anything queue; the editor works through these.
        let _ =
            writeln!(out, "{:>10}: {} (stories awaiting a model summary)", "queued", report.queued_summaries);
    }
    let lists = [("recent failures", &report.recent_failures), ("recent drops", &report.recent_drops)];
    for (heading, list) in lists {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{heading}:");
            for file in list {
                let _ = writeln!(out, "  {}  {}  [{}] {}", file.at, file.name, file.stage, file.reason);
            }
        }
    }
    out
}

/// A state as people read it: an accepted file not finished yet is still being worked on.
fn state_label(state: FileState) -> &'static str {
    match state {
        FileState::Accepted => "in flight",
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{RecentFile, StateCount};

    #[test]
    fn counts_then_failures_and_drops_with_their_reasons() {
        let report = StatusReport {
            files: vec![
                StateCount { state: FileState::Accepted, n_files: 3 },
                StateCount { state: FileState::Done, n_files: 2 },
                StateCount { state: FileState::Failed, n_files: 1 },
            ],
            stories: 1,
            articles: 2,
            recent_failures: vec![RecentFile {
                name: "a.txt".into(),
                stage: "clean".into(),
                reason: "no article text".into(),
                at: "T1".into(),
            }],
            recent_drops: Vec::new(),
            queued_summaries: 0,
        };
        let text = render(&report);
        let counts = " in flight: 3\n      done: 2\n    failed: 1\n  articles: 2\n   stories: 1\n";
        assert_eq!(text, format!("{counts}\nrecent failures:\n  T1  a.txt  [clean] no article text\n"));
    }

    #[test]
    fn the_editors_queue_is_counted_when_it_holds_stories() {
        let report = StatusReport { stories: 4, queued_summaries: 3, ..StatusReport::default() };
        assert!(
            render(&report).contains("    queued: 3 (stories awaiting a model summary)\n"),
            "{}",
            render(&report)
        );
    }
}
