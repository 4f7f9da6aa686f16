//! The summarize stage on one text file with the model a config names: the options checked as
//! `check-config` checks them, then the summary shown, the model's draft and the guard's verdict.
//! For trying another model (`models/fetch qwen2.5-coder-1.5b`) without changing the config.
//!
//! cargo run -p summarize --example summarize_file -- MODEL.gguf ARTICLE.txt [THREADS]

use std::sync::Arc;

use summarize::{Method, Model, Options, Summarize};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (model_path, article) = match args.as_slice() {
        [_, model, article, ..] => (model, article),
        _ => return Err("usage: summarize_file MODEL.gguf ARTICLE.txt [THREADS]".into()),
    };
    let threads = args.get(3).map(|t| t.parse()).transpose()?.unwrap_or(2);
    let options =
        Options { method: Method::Model, model_path: model_path.into(), threads, ..Options::default() };
    let problems = options.problems();
    if !problems.is_empty() {
        return Err(problems.join("; ").into());
    }
    let model = Arc::new(Model::load(&options.model_path)?);
    let stage = Summarize::with_model(options, model);
    let summary = stage.summarize(&std::fs::read_to_string(article)?, None);
    println!("shown ({:?}): {}", summary.method, summary.text);
    println!("draft: {}", summary.draft.as_deref().unwrap_or("-"));
    println!("rejection: {:?}", summary.rejection);
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
