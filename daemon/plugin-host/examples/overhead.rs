//! Measures what a loaded no-op plugin adds per article, against a built-in no-op stage, on the
//! same article, in-process and in a process of its own; `bench/plugins` builds the plugin and
//! runs this in release mode.
//!
//! Usage: `overhead <path to libmisbehaving_stage.so> <article.json>`. Prints one line per
//! measurement, a line with `ratio` (in-process plugin / built-in) and the microseconds added,
//! and a line with `ratio` (process / in-process). For the process figure this program is its
//! own plugin host: started as `overhead plugin-host --library ...` it serves the pipe with
//! `plugin_host::child::serve`, the same function `briefd plugin-host` runs, so no release build
//! of the whole daemon is needed and the figure is the boundary's alone.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use plugin_host::{Isolation, Library, OnError, PluginSettings, PluginStage, ProcessLimits, ProcessStage};
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
    if std::env::args().nth(1).as_deref() == Some("plugin-host") {
        return serve_as_host(args.skip(1));
    }
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
        isolation: Isolation::InProcess,
    };
    let plugin = PluginStage::new(Library::load(&library)?, settings.clone())?;
    let isolated = ProcessStage::start(
        &std::env::current_exe()?,
        &library,
        PluginSettings { isolation: Isolation::Process(ProcessLimits::default()), ..settings },
    )?;
    const ROUNDS: u32 = 20_000;
    let builtin = per_article(&Noop, &article, ROUNDS);
    let loaded = per_article(&plugin, &article, ROUNDS);
    let process = per_article(&isolated, &article, ROUNDS);
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
    println!("plugin no-op (process): {:7.2} us/article", micros(process));
    println!(
        "ratio {:.1} (process / in-process, same plugin and article); the process boundary adds {:.1} us/article",
        micros(process) / micros(loaded),
        micros(process) - micros(loaded)
    );
    Ok(())
}

/// `overhead plugin-host --library PATH --memory-limit-bytes N`: the host side of the pipe.
fn serve_as_host(mut args: impl Iterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let (mut library, mut memory) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--library" => library = args.next().map(PathBuf::from),
            "--memory-limit-bytes" => memory = args.next().map(|n| n.parse()).transpose()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    plugin_host::child::serve(&library.ok_or("--library is required")?, memory)?;
    Ok(())
}
