//! The summaries set (`articles.jsonl`: FRANK's CNN/DailyMail and XSum articles with their
//! reference summaries), read once for the evaluations that score against its references.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// One line of the summaries set's `articles.jsonl`.
#[derive(Debug, serde::Deserialize)]
pub struct SummaryItem {
    /// The item's id in the set.
    pub id: String,
    /// `cnndm` or `xsum`.
    pub dataset: String,
    /// The article text.
    pub article: String,
    /// The reference summary.
    pub reference: String,
}

/// Reads `dir/articles.jsonl` (the first `limit` items when given), naming the file and line of
/// any bad line; returns the file's path for reports.
pub fn summary_items(dir: &Path, limit: Option<usize>) -> anyhow::Result<(PathBuf, Vec<SummaryItem>)> {
    let path = dir.join("articles.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        items.push(serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?);
    }
    if let Some(limit) = limit {
        items.truncate(limit);
    }
    Ok((path, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let good = r#"{"id": "1", "dataset": "xsum", "article": "A.", "reference": "B."}"#;
        std::fs::write(dir.path().join("articles.jsonl"), format!("{good}\n\n{{\"id\": 2}}\n")).unwrap();
        let error = format!("{:#}", summary_items(dir.path(), None).unwrap_err());
        assert!(error.contains("articles.jsonl:3"), "{error}");
        std::fs::write(dir.path().join("articles.jsonl"), format!("{good}\n{good}\n")).unwrap();
        assert_eq!(summary_items(dir.path(), Some(1)).unwrap().1.len(), 1);
    }
}
