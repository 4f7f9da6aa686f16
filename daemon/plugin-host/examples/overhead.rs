//! Measures what a loaded no-op plugin adds per article, against a built-in no-op stage, on the
//! same article; `bench/plugins` builds the plugin and runs this in release mode.
//!
//! Usage: `overhead <path to libmisbehaving_stage.so> <article.json>`. Prints one line per
//! measurement and a final line with `ratio` (plugin / built-in) and the microseconds added.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use plugin_host::{Library, OnError, PluginSettings, PluginStage};
use stage_api::{Article, Context, EmptyContext, Outcome, Stage};

/// The built-in baseline: passes the article on, as cheaply as a stage can.
struct Noop;

impl Stage for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    fn process(&self, article: Article, _context: &dyn Context) -> Outcome {
        Outcome::Continue(article)
    }
}

/// Mean time per `process` call over `rounds`, after a warm-up. Each call gets a fresh copy of
/// the article (the pipeline hands over an owned one), so the copy is in every figure alike.
fn per_article(stage: &dyn Stage, article: &Article, rounds: u32) -> Duration {
    for _ in 0..rounds / 10 {
        black_box(stage.process(article.clone(), &EmptyContext));
    }
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(stage.process(article.clone(), &EmptyContext));
    }
    started.elapsed() / rounds
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: overhead <libmisbehaving_stage.so> <article.json>";
    let library = PathBuf::from(args.next().ok_or(usage)?);
    let article_path = PathBuf::from(args.next().ok_or(usage)?);
    let article: Article = serde_json::from_slice(&std::fs::read(&article_path)?)?;
    let json_bytes = serde_json::to_vec(&article)?.len();

    let settings = PluginSettings {
        name: None,
        on_error: OnError::Fail,
        timeout: Duration::from_secs(10),
        options: serde_json::json!({"mode": "noop"}),
    };
    let plugin = PluginStage::new(Library::load(&library)?, settings)?;
    const ROUNDS: u32 = 20_000;
    let builtin = per_article(&Noop, &article, ROUNDS);
    let loaded = per_article(&plugin, &article, ROUNDS);
    let dedupe = per_article(&dedupe::Dedupe::new(Default::default()), &article, ROUNDS);
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!("article: {} ({json_bytes} bytes as JSON), {ROUNDS} calls each", article_path.display());
    println!("built-in no-op:        {:8.2} us/article", micros(builtin));
    println!("built-in dedupe:       {:8.2} us/article (normalise + SHA-256 of the text)", micros(dedupe));
    println!("plugin no-op (C ABI):  {:8.2} us/article", micros(loaded));
    println!(
        "ratio {:.0} (plugin no-op / built-in no-op); the plugin boundary adds {:.1} us/article, {:.1}x the time of built-in dedupe",
        micros(loaded) / micros(builtin),
        micros(loaded) - micros(builtin),
        (micros(loaded) - micros(builtin)) / micros(dedupe)
    );
    Ok(())
}
