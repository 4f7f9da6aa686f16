//! False positives of the injection filter (`text::injection`): how many sentences of ordinary
//! news it flags. The dev sets hold no injected instructions, so every flagged sentence is a
//! false positive (a sentence left out of summaries and key points). Prints the counts per set
//! and every flagged sentence.
//!
//! Usage: `injection_scan EVAL_DIR` (the folder holding `extraction/`, `summaries/` and
//! `same-story/`). The day's pages are the `extraction/` pages, cleaned by the clean stage.

use std::io::Read;
use std::path::Path;

use text::{injection, sentences};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = &args[..] else { anyhow::bail!("usage: injection_scan EVAL_DIR") };
    let dir = Path::new(dir);
    let sets = [
        ("day pages (cleaned)", day_pages(dir)?),
        ("CNN/DM + XSum", summaries(dir)?),
        ("ECB+", same_story(dir)?),
    ];
    let mut flagged_all = Vec::new();
    for (name, texts) in &sets {
        let (mut n_sentences, mut n_flagged, mut n_articles) = (0, 0, 0);
        for text in texts {
            let found = injection::find(text);
            n_sentences += sentences::split(text).len();
            n_flagged += found.ranges.len();
            n_articles += usize::from(!found.is_empty());
            flagged_all.extend(found.ranges.iter().map(|r| (*name, text[r.clone()].to_string())));
        }
        println!(
            "{name}: {} articles, {n_sentences} sentences, {n_flagged} flagged ({:.3} %) in {n_articles} articles",
            texts.len(),
            100.0 * n_flagged as f64 / n_sentences.max(1) as f64
        );
    }
    for (set, sentence) in flagged_all {
        println!("  [{set}] {}", sentence.replace('\n', " "));
    }
    Ok(())
}

fn day_pages(dir: &Path) -> anyhow::Result<Vec<String>> {
    let clean = clean::Clean::new(clean::Options::default());
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("extraction/html"))?.collect::<Result<_, _>>()?;
    paths.sort_by_key(|e| e.path());
    for entry in paths {
        let mut html = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(entry.path())?).read_to_end(&mut html)?;
        if let Ok((_, items)) = clean.clean_items(&html, "page.html") {
            out.extend(items.into_iter().flatten().map(|x| x.text));
        }
    }
    Ok(out)
}

fn summaries(dir: &Path) -> anyhow::Result<Vec<String>> {
    let lines = std::fs::read_to_string(dir.join("summaries/articles.jsonl"))?;
    let mut out = Vec::new();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)?;
        out.extend(value["article"].as_str().map(str::to_string));
    }
    Ok(out)
}

fn same_story(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("same-story/text"))? {
        out.push(std::fs::read_to_string(entry?.path())?);
    }
    Ok(out)
}
