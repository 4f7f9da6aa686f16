//! What `briefd status` shows: files per state, article and story counts, and the latest
//! failures and drops with their reasons.

use std::fmt::Write as _;

use store::StatusReport;

/// The report as printed: one count per line, then the recent failures and drops.
pub fn render(report: &StatusReport) -> String {
    let mut out = String::new();
    for (state, n) in &report.files {
        let _ = writeln!(out, "{state:>10}: {n}");
    }
    let _ = writeln!(out, "{:>10}: {}", "articles", report.articles);
    let _ = writeln!(out, "{:>10}: {}", "stories", report.stories);
    let lists = [("recent failures", &report.recent_failures), ("recent drops", &report.recent_drops)];
    for (heading, list) in lists {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{heading}:");
            for (file, stage, reason, at) in list {
                let _ = writeln!(out, "  {at}  {file}  [{stage}] {reason}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_then_failures_and_drops_with_their_reasons() {
        let report = StatusReport {
            files: vec![("done".into(), 2), ("failed".into(), 1)],
            stories: 1,
            articles: 2,
            recent_failures: vec![("a.txt".into(), "clean".into(), "no article text".into(), "T1".into())],
            recent_drops: Vec::new(),
        };
        let text = render(&report);
        let counts = "      done: 2\n    failed: 1\n  articles: 2\n   stories: 1\n";
        assert_eq!(text, format!("{counts}\nrecent failures:\n  T1  a.txt  [clean] no article text\n"));
    }
}
