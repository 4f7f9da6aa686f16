//! What `briefd status` shows: files per state, article and story counts, and the latest
//! failures and drops with their reasons.

use std::fmt::Write as _;

use store::{FileState, StatusReport};

/// The report as printed: one count per line, then the recent failures and drops.
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
