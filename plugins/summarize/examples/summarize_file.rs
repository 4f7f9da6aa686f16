//! The summarize stage on text files with a model: the options checked as `check-config` checks
//! them, then the summary shown, the model's draft and the guard's verdict on each of its
//! sentences. Several files are read as one story's sources, newest first, as the editor reads
//! a story (`Summarize::story_summary`).
//! For trying another model or prompt without a daemon.
//!
//! cargo run -p summarize --example summarize_file -- MODEL.gguf ARTICLE.txt [ARTICLE.txt ...]
//! (`BRIEFD_THREADS` sets the model's threads, 2 by default)

use std::sync::Arc;

use stage_api::Article;
use summarize::{Method, Model, Options, Summarize};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (model_path, files) = match args.as_slice() {
        [_, model, files @ ..] if !files.is_empty() => (model, files),
        _ => return Err("usage: summarize_file MODEL.gguf ARTICLE.txt [ARTICLE.txt ...]".into()),
    };
    let threads = std::env::var("BRIEFD_THREADS").ok().map(|t| t.parse()).transpose()?.unwrap_or(2);
    let options =
        Options { method: Method::Model, model_path: model_path.into(), threads, ..Options::default() };
    let problems = options.problems();
    if !problems.is_empty() {
        return Err(problems.join("; ").into());
    }
    let texts = files.iter().map(std::fs::read_to_string).collect::<Result<Vec<_>, _>>()?;
    let model = Arc::new(Model::load(&options.model_path)?);
    let stage = Summarize::with_model(options, model);
    // As the editor reads a story: its sources as articles, newest first.
    let sources: Vec<Article> =
        texts.iter().map(|text| Article { text: text.clone(), ..Article::default() }).collect();
    let summary = stage.story_summary(&sources, None).map_err(|_| "cancelled")?.summary;
    let evidence = texts.join("\n\n");
    println!("shown ({:?}): {}", summary.method, summary.text);
    println!("draft: {}", summary.draft.as_deref().unwrap_or("-"));
    println!("rejection: {:?}", summary.rejection);
    if let Some(draft) = &summary.draft {
        for (sentence, verdict) in summarize::claims::Source::new(&evidence).judge(draft) {
            println!(
                "  {}: {sentence}",
                verdict.err().map_or("supported".to_string(), |why| why.to_string())
            );
        }
    }
    if let Some(g) = &summary.generation {
        println!(
            "prompt {} tokens in {:.1} s; {} new tokens",
            g.prompt_tokens,
            g.prompt_seconds,
            g.ids.len()
        );
    }
    Ok(())
}
