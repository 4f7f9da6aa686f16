//! Dedupe at scale: per-article time of the `dedupe` stage (candidate retrieval, scoring and the
//! decision) over corpora of growing size, run by the pipeline with the store on disk as in the
//! daemon. Run by `bench/dedupe`.
//!
//! The corpus is real text (the ECB+ same-story documents and the FRANK news articles), repeated
//! with variation so no two articles are byte-identical: each repeat drops one sentence, swaps
//! the order of two others and adds a sentence with its own numbers.

use std::path::Path;

use pipeline::{Finished, Pipeline};
use stage_api::Article;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [eval_dir, sizes @ ..] = &args[..] else {
        anyhow::bail!("usage: dedupe_bench EVAL_DIR SIZE...   (EVAL_DIR holds same-story/ and summaries/)");
    };
    let base = base_texts(Path::new(eval_dir))?;
    let sizes: Vec<usize> = sizes.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for &size in &sizes {
        rows.push((size, run(&base, size)?));
    }
    println!("{:>10} {:>14} {:>18} {:>16}", "articles", "ms/article", "ms/article (last 1000)", "stories");
    for (size, (mean, tail, stories)) in &rows {
        println!("{size:>10} {mean:>14.3} {tail:>18.3} {stories:>16}");
    }
    if let [(_, (first, first_tail, _)), .., (_, (last, last_tail, _))] = &rows[..] {
        println!(
            "ratio {:.2} (mean), {:.2} (last 1000); corpus grew {:.0}x",
            last / first,
            last_tail / first_tail,
            sizes[sizes.len() - 1] as f64 / sizes[0] as f64
        );
    }
    Ok(())
}

fn base_texts(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    let mut names: Vec<_> =
        std::fs::read_dir(dir.join("same-story/text"))?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path)?;
        texts.push(
            text.split_once('\n')
                .map(|(first, rest)| if first.starts_with("http") { rest } else { &text[..] })
                .unwrap_or(&text)
                .to_string(),
        );
    }
    let summaries = dir.join("summaries/articles.jsonl");
    if let Ok(lines) = std::fs::read_to_string(&summaries) {
        for line in lines.lines() {
            let value: serde_json::Value = serde_json::from_str(line)?;
            if let Some(article) = value.get("article").and_then(|a| a.as_str()) {
                texts.push(article.to_string());
            }
        }
    }
    Ok(texts)
}

fn variant(text: &str, round: usize, index: usize) -> String {
    if round == 0 {
        return text.to_string();
    }
    let mut sentences: Vec<&str> = text.split_inclusive(['.', '\n']).collect();
    if sentences.len() > 3 {
        sentences.remove((round * 7 + index) % sentences.len());
        let a = (round * 3 + index) % sentences.len();
        let b = (a + 1) % sentences.len();
        sentences.swap(a, b);
    }
    let mut out = sentences.concat();
    out.push_str(&format!(
        "\nUpdate {round}: figures revised to {} and {} at {}:{:02}.",
        round * 37 + index,
        index * 11 + 3,
        round % 24,
        index % 60
    ));
    out
}

/// Returns mean ms per article, mean over the last 1000, and the number of stories.
fn run(base: &[String], size: usize) -> anyhow::Result<(f64, f64, usize)> {
    let dir = tempfile::tempdir()?;
    let store = store::Store::open(&dir.path().join("bench.db"))?;
    let pipeline = Pipeline::new(vec![Box::new(dedupe::Dedupe::new(dedupe::Options::default()))]);
    let mut millis = Vec::with_capacity(size);
    let mut stories = std::collections::BTreeSet::new();
    for i in 0..size {
        let (round, index) = (i / base.len(), i % base.len());
        let name = format!("a{i}");
        let file = store.accept_file(name.as_bytes(), name.as_bytes(), &name, 1)?;
        let article = Article {
            text: variant(&base[index], round, index),
            received_at: "2026-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        // The stage's own time as the pipeline measures it, without recording and committing.
        let (finished, timings) = pipeline.run(&store, file.id, article)?;
        let Finished::Done(article) = finished else { anyhow::bail!("not passed on: {finished:?}") };
        millis.extend(timings.iter().map(|(_, ms)| *ms));
        stories.insert(store.commit_item(file.id, &article, "2026-01-01")?);
    }
    let mean = millis.iter().sum::<f64>() / size as f64;
    let tail = &millis[size.saturating_sub(1000)..];
    Ok((mean, tail.iter().sum::<f64>() / tail.len() as f64, stories.len()))
}
