//! `briefd eval <set> DIR`: reproducible quality figures on labelled dev sets (the layout of
//! `../shared/eval/`), one line per figure with its name.

pub mod agreement;
pub mod day;
pub mod extraction;
pub mod keypoints;
pub mod rouge;
pub mod same_story;
pub mod summaries;

/// Mean and standard deviation of `values`.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    (mean, var.sqrt())
}

/// A small deterministic generator for bootstrap resampling, so figures repeat exactly.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// One line of the summaries set's `articles.jsonl` (FRANK's CNN/DailyMail and XSum articles
/// with their reference summaries).
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
pub fn summary_items(dir: &std::path::Path, limit: Option<usize>) -> anyhow::Result<(std::path::PathBuf, Vec<SummaryItem>)> {
    use anyhow::Context;
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
