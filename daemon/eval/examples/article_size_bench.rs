//! Work per article against article size: each built-in stage (clean, dedupe, summarize's
//! extractive path, keypoints) over one article of a given size that joins a story holding a
//! near-identical copy of it (issue 20: two near-identical 1 MB sources took 485 s in
//! keypoints). Prints the seconds each stage took and the process's peak RSS. Run by
//! `bench/article-size`, one process per size so each peak is its own.
//!
//! The text is the paragraphs of `bench/data/typical_article.json` repeated until the size is
//! reached, each repeat with its own number, so the sentences are similar but not identical
//! (the worst case for comparing sentences across sources); the second source changes every
//! number, as another outlet's copy would.

use std::path::Path;
use std::time::Instant;

use stage_api::{Article, Context, KeyHit, Outcome, Stage, StoredArticle, StoryMatch};

/// The story both sources are in.
const STORY: i64 = 7;

/// A store holding the other source, alone in story [`STORY`].
struct OtherSource(Article);

impl Context for OtherSource {
    fn stories_with_fingerprint(&self, _kind: &str, _value: &str) -> Vec<i64> {
        Vec::new()
    }
    fn article_count(&self) -> u64 {
        1
    }
    fn key_counts(&self, _kind: &str, values: Vec<String>) -> Vec<u64> {
        vec![1; values.len()]
    }
    fn articles_with_keys(&self, _kind: &str, values: Vec<String>, _limit: usize) -> Vec<KeyHit> {
        vec![KeyHit { article_id: 1, story_id: STORY, shared: values.len() as u64 }]
    }
    fn story_articles(&self, story_id: i64, _limit: usize) -> Vec<StoredArticle> {
        if story_id != STORY {
            return Vec::new();
        }
        vec![StoredArticle { article_id: 1, story_id, article: self.0.clone() }]
    }
    fn story_size(&self, story_id: i64) -> u64 {
        u64::from(story_id == STORY)
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, size] = &args[..] else {
        anyhow::bail!("usage: article_size_bench ARTICLE.json BYTES");
    };
    let size: usize = size.parse()?;
    let base = base_text(Path::new(base))?;
    let (a, b) = (grown(&base, size, 0), grown(&base, size, 1));

    let mut timings = Vec::new();
    let timed = |name: &str, timings: &mut Vec<(String, f64)>, run: &mut dyn FnMut() -> Outcome| {
        let began = Instant::now();
        let outcome = run();
        timings.push((name.to_string(), began.elapsed().as_secs_f64()));
        match outcome {
            Outcome::Continue(article) => Ok(article),
            other => Err(anyhow::anyhow!("{name} did not pass the article on: {other:?}")),
        }
    };
    let raw = |text: &str| Article {
        file_name: "bench.txt".into(),
        received_at: "2026-12-02T00:00:00Z".into(),
        raw: Some(text.as_bytes().to_vec()),
        ..Default::default()
    };
    let cleaner = clean::Clean::new(clean::Options::default());
    let other = match cleaner.process(raw(&b), &stage_api::EmptyContext) {
        Outcome::Continue(article) => article,
        other => anyhow::bail!("clean did not pass the second source on: {other:?}"),
    };
    let context = OtherSource(other);
    let article = timed("clean", &mut timings, &mut || cleaner.process(raw(&a), &context))?;
    let dedupe = dedupe::Dedupe::new(dedupe::Options::default());
    let mut article = timed("dedupe", &mut timings, &mut || dedupe.process(article.clone(), &context))?;
    // Whatever dedupe decided, the later stages are measured on the story of both sources.
    article.story = Some(StoryMatch { story_id: STORY, reason: "bench".into(), score: 1.0 });
    let summarize = summarize::Summarize::new(summarize::Options::default());
    let article = timed("summarize", &mut timings, &mut || summarize.process(article.clone(), &context))?;
    let keypoints = keypoints::Keypoints::new(keypoints::Options::default());
    let article = timed("keypoints", &mut timings, &mut || keypoints.process(article.clone(), &context))?;

    let cells: Vec<String> = timings.iter().map(|(name, s)| format!("{name} {s:.2} s")).collect();
    println!(
        "{:>9} bytes  {}  points {}  peak RSS {} MB",
        a.len(),
        cells.join("  "),
        article.key_points.len(),
        peak_rss_kb()? / 1024
    );
    Ok(())
}

/// The text of the JSON article at `path`.
fn base_text(path: &Path) -> anyhow::Result<String> {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    json["text"].as_str().map(str::to_string).ok_or_else(|| anyhow::anyhow!("{} has no text", path.display()))
}

/// `base`'s paragraphs repeated to `size` bytes, repeat `n` of a paragraph ending "(n)"; the
/// `variant` 1 copy adds one to every number, as another outlet's figures.
fn grown(base: &str, size: usize, variant: u64) -> String {
    let paragraphs: Vec<&str> = base.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let mut out = String::with_capacity(size + 4096);
    let mut n = 0u64;
    while out.len() < size {
        for p in &paragraphs {
            let p = if variant == 0 { p.to_string() } else { bumped(p, variant) };
            out.push_str(&format!("{p} ({n})\n\n"));
            if out.len() >= size {
                break;
            }
        }
        n += 1;
    }
    out
}

/// `text` with `by` added to every whole number.
fn bumped(text: &str, by: u64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            match digits.parse::<u64>() {
                Ok(v) => out.push_str(&(v + by).to_string()),
                Err(_) => out.push_str(&digits),
            }
            digits.clear();
        }
        out.push(c);
    }
    out.pop();
    out
}

/// The process's peak resident set (`VmHWM`), in kB.
fn peak_rss_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/self/status"))
}
