//! The built-in `summarize` stage.
//!
//! `method: extractive` writes the extractive summary: the lead sentences that best cover the
//! article, scored. `method: model` has a small local language model (a GGUF file, run
//! in-process with candle) write the summary, then checks it against the article (`guard`); a
//! rejected draft is replaced by the extractive summary and the reason is recorded in the
//! article's metadata (`summary_rejected`) and logged. Either way, sentences of the article that
//! read as instructions to an assistant (`injection`) are left out of what is summarised.

pub mod abstractive;
pub mod engine;
pub mod error;
pub mod extractive;
pub mod generate;
pub mod guard;
pub mod injection;
pub mod model;
pub mod template;
pub mod tokenizer;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use stage_api::{Article, Context, Outcome, Stage};
use text::sentences;
use text::words::content_words;

pub use error::Error;
pub use guard::Rejection;
pub use model::Model;

/// Earlier sources of a story that a summary reads besides the incoming article.
const STORY_SOURCES: usize = 8;

/// What a story's summary is written from, and how many sources that covers: the fullest
/// article first (its lead survives the prompt's truncation), then each other source's
/// sentences that add content words not seen yet. For an article alone, its own text.
pub fn story_text(article: &Article, context: &dyn Context) -> (String, usize) {
    let others = match &article.story {
        Some(story) => context.story_articles(story.story_id, STORY_SOURCES),
        None => Vec::new(),
    };
    if others.is_empty() {
        return (article.text.clone(), 1);
    }
    let mut texts: Vec<&str> = std::iter::once(article.text.as_str()).chain(others.iter().map(|o| o.article.text.as_str())).collect();
    // Fullest first; the incoming article wins ties, then the newer source.
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let mut seen: std::collections::HashSet<String> = content_words(texts[0]).into_iter().collect();
    let mut out = texts[0].trim().to_string();
    for text in &texts[1..] {
        let mut added = Vec::new();
        for sentence in sentences::split(text) {
            let words = content_words(sentence.text);
            let new = words.iter().filter(|w| !seen.contains(*w)).count();
            // A sentence mostly made of new content words says something the story lacks.
            if words.len() >= 4 && new * 2 > words.len() {
                seen.extend(words);
                added.push(sentence.text.trim());
            }
        }
        if !added.is_empty() {
            out.push_str("\n\n");
            out.push_str(&added.join(" "));
        }
    }
    (out, texts.len())
}

/// How summaries are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Chosen sentences of the article itself.
    #[default]
    Extractive,
    /// Written by a local model, checked against the article, extractive when refused.
    Model,
}

/// The default model file, as `models/fetch` leaves it (relative to the config's folder).
pub const DEFAULT_MODEL_PATH: &str = "models/SmolLM2-135M-Instruct-Q4_1.gguf";

/// Options of the `summarize` stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// How summaries are made.
    pub method: Method,
    /// At most this many sentences (extractive summary).
    pub max_sentences: usize,
    /// At most about this many words (a sentence that would pass it is left out, unless it is the first).
    pub max_words: usize,
    /// The GGUF model file (`method: model`); relative paths are resolved against the config's folder.
    pub model_path: PathBuf,
    /// CPU threads for the model.
    pub threads: usize,
    /// At most this many generated tokens.
    pub max_new_tokens: usize,
    /// At most this many article tokens in the prompt (the lead is kept).
    pub max_article_tokens: usize,
    /// 0 = greedy (the same article always gets the same summary); above 0 samples with `seed`.
    pub temperature: f64,
    /// Seed for sampling.
    pub seed: u64,
    /// 1.0 = off. Penalises tokens of the last 64, which keeps a small model from looping.
    pub repeat_penalty: f32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Extractive,
            max_sentences: 3,
            max_words: 90,
            model_path: PathBuf::from(DEFAULT_MODEL_PATH),
            threads: 2,
            max_new_tokens: 96,
            max_article_tokens: 600,
            temperature: 0.0,
            seed: 299_792_458,
            repeat_penalty: 1.1,
        }
    }
}

impl Options {
    /// Problems with these values; empty when usable. With `method: model` this reads the model
    /// file's header (not its weights), so a missing, damaged or unsupported file is reported here.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.max_sentences == 0 {
            problems.push("max_sentences must be at least 1".into());
        }
        if self.max_words < 10 {
            problems.push("max_words must be at least 10".into());
        }
        if self.method == Method::Model {
            if self.threads == 0 || self.threads > 256 {
                problems.push("threads must be between 1 and 256".into());
            }
            if !(8..=1024).contains(&self.max_new_tokens) {
                problems.push("max_new_tokens must be between 8 and 1024".into());
            }
            if !(32..=8192).contains(&self.max_article_tokens) {
                problems.push("max_article_tokens must be between 32 and 8192".into());
            }
            if !(0.0..=2.0).contains(&self.temperature) {
                problems.push("temperature must be between 0 (greedy) and 2".into());
            }
            if !(1.0..=2.0).contains(&self.repeat_penalty) {
                problems.push("repeat_penalty must be between 1.0 (off) and 2.0".into());
            }
            if let Err(e) = model::inspect(&self.model_path) {
                problems.push(format!("model_path: {e}"));
            }
        }
        problems
    }

    fn settings(&self, model: &Model) -> generate::Settings {
        generate::Settings {
            max_new_tokens: self.max_new_tokens,
            temperature: self.temperature,
            seed: self.seed,
            repeat_penalty: self.repeat_penalty,
            repeat_last_n: 64,
            stop_tokens: model.template.stop_tokens(&model.tokenizer),
        }
    }
}

/// One article's summary with everything that led to it (for the stage and for `briefd eval`).
#[derive(Debug, Clone)]
pub struct Summary {
    /// What the reader sees.
    pub text: String,
    /// `"model"` or `"extractive"`.
    pub method: &'static str,
    /// The model's draft, accepted or not.
    pub draft: Option<String>,
    /// Why the draft was refused.
    pub rejection: Option<Rejection>,
    /// The extractive summary (the fallback).
    pub extractive: String,
    /// Instruction-like sentences left out of the article.
    pub injections: usize,
    /// The model could not be used at all.
    pub model_error: Option<String>,
    /// Token counts and timings of the model's run.
    pub generation: Option<generate::Generation>,
}

/// The `summarize` stage.
#[derive(Clone)]
pub struct Summarize {
    options: Options,
    /// Loaded once, shared; `Err` holds why it could not be (then every article is extractive).
    model: Option<Result<Arc<Model>, String>>,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl std::fmt::Debug for Summarize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summarize").field("options", &self.options).finish_non_exhaustive()
    }
}

impl Default for Summarize {
    fn default() -> Self {
        Summarize::new(Options::default())
    }
}

impl Summarize {
    /// A summarizer with these options. With `method: model` the model is loaded now, once.
    /// Config validation has already read the file's header; if loading still fails (the file
    /// changed since), the error is logged and every article gets the extractive summary with
    /// the reason recorded, rather than stopping the daemon.
    pub fn new(options: Options) -> Self {
        let (model, pool) = if options.method == Method::Model {
            use_threads(options.threads);
            let model = match Model::load(&options.model_path) {
                Ok(model) => {
                    tracing::info!(
                        path = %model.path.display(),
                        seconds = model.load_seconds,
                        name = model.info.name.as_deref().unwrap_or(""),
                        "summarization model loaded"
                    );
                    Ok(Arc::new(model))
                }
                Err(e) => {
                    tracing::error!(error = %e, "summarization model not loaded; summaries will be extractive");
                    Err(e.to_string())
                }
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(options.threads.max(1))
                .thread_name(|i| format!("briefd-model-{i}"))
                .build()
                .map_err(|e| tracing::warn!(error = %e, "no model thread pool; using the global one"))
                .ok()
                .map(Arc::new);
            (Some(model), pool)
        } else {
            (None, None)
        };
        Summarize { options, model, pool }
    }

    /// With an already loaded model (shared between stages or an evaluation).
    pub fn with_model(options: Options, model: Arc<Model>) -> Self {
        use_threads(options.threads);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(options.threads.max(1)).build().ok().map(Arc::new);
        Summarize { options: Options { method: Method::Model, ..options }, model: Some(Ok(model)), pool }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Summarises `text` (headline `title`), with the guard and the fallback.
    pub fn summarize(&self, text: &str, title: Option<&str>) -> Summary {
        let injections = injection::find(text);
        let safe_text = injection::strip(text, &injections);
        let extractive =
            extractive::summarize(&safe_text, title, self.options.max_sentences, self.options.max_words);
        let mut summary = Summary {
            text: extractive.clone(),
            method: "extractive",
            draft: None,
            rejection: None,
            extractive,
            injections: injections.ranges.len(),
            model_error: None,
            generation: None,
        };
        let model = match &self.model {
            None => return summary,
            Some(Err(e)) => {
                summary.model_error = Some(e.clone());
                return summary;
            }
            Some(Ok(model)) => model,
        };
        if safe_text.trim().is_empty() {
            return summary;
        }
        let limits = abstractive::Limits { max_article_tokens: self.options.max_article_tokens };
        let settings = self.options.settings(model);
        let run = || abstractive::summarize(model, &safe_text, &limits, &settings);
        let draft = match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        };
        match draft {
            Err(e) => {
                tracing::warn!(error = %e, "model failed on an article; extractive summary used");
                summary.model_error = Some(e.to_string());
            }
            Ok(draft) => {
                let looped = draft.generation.stop == generate::Stop::Loop;
                match guard::check(&draft.text, text, &injections, looped) {
                    Ok(()) => {
                        summary.text = draft.text.clone();
                        summary.method = "model";
                    }
                    Err(rejection) => summary.rejection = Some(rejection),
                }
                summary.draft = Some(draft.text);
                summary.generation = Some(draft.generation);
            }
        }
        summary
    }
}

/// candle 0.11 runs its CPU kernels on a process-wide pool sized once, at first use, from
/// `CANDLE_NUM_THREADS`; a rayon pool around the call does not reach it. So the first model
/// stage sets the variable (unless the user did) before any kernel runs; a second model stage
/// with another thread count shares the first one's pool.
fn use_threads(threads: usize) {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // Called while the process sets up its stages, before the pipeline runs any kernel.
        std::env::set_var("CANDLE_NUM_THREADS", threads.max(1).to_string());
    }
}

impl Stage for Summarize {
    fn name(&self) -> &str {
        "summarize"
    }

    fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
        let (text, sources) = story_text(&article, context);
        let summary = self.summarize(&text, article.title.as_deref());
        if sources > 1 {
            // This article's summary stands for the whole story; the briefing shows the newest
            // such summary, so the story's summary is rewritten each time a source joins.
            article.metadata.insert("summary_scope".into(), "story".into());
            article.metadata.insert("summary_sources".into(), sources.to_string());
        }
        if summary.injections > 0 {
            tracing::warn!(
                stage = "summarize",
                sentences = summary.injections,
                "instruction-like sentences in the article left out of its summary"
            );
            article.metadata.insert("summary_injections".into(), summary.injections.to_string());
        }
        if let Some(rejection) = &summary.rejection {
            tracing::warn!(stage = "summarize", reason = %rejection, "model summary rejected; extractive summary used");
            article.metadata.insert("summary_rejected".into(), rejection.to_string());
        }
        if let Some(error) = &summary.model_error {
            article.metadata.insert("summary_rejected".into(), format!("model unavailable: {error}"));
        }
        if !summary.text.is_empty() {
            article.summary = Some(summary.text);
            article.summary_method = Some(summary.method.into());
        }
        Outcome::Continue(article)
    }
}

#[cfg(test)]
mod story_tests {
    use super::*;
    use stage_api::{StoredArticle, StoryMatch};

    /// A context holding one earlier source of story 7.
    struct OneEarlier(Article);

    impl Context for OneEarlier {
        fn stories_with_fingerprint(&self, _kind: &str, _value: &str) -> Vec<i64> {
            Vec::new()
        }
        fn story_articles(&self, story_id: i64, _limit: usize) -> Vec<StoredArticle> {
            assert_eq!(story_id, 7);
            vec![StoredArticle { article_id: 1, story_id, article: self.0.clone() }]
        }
    }

    fn article(text: &str, story: Option<i64>) -> Article {
        Article {
            text: text.into(),
            story: story.map(|story_id| StoryMatch { story_id, reason: "test".into(), score: 1.0 }),
            ..Default::default()
        }
    }

    #[test]
    fn a_story_summary_reads_the_fullest_source_then_what_others_add() {
        let earlier = article(
            "Officials opened the new harbour bridge on Monday after four years of work. \
             The bridge carries two railway lines and six traffic lanes across the estuary.",
            None,
        );
        let joining = article(
            "The harbour bridge opened on Monday. Engineers said the steel towers were shipped from Rotterdam in forty sections.",
            Some(7),
        );
        let (text, sources) = story_text(&joining, &OneEarlier(earlier));
        assert_eq!(sources, 2);
        assert!(text.starts_with("Officials opened the new harbour bridge"), "{text}");
        assert!(text.contains("Rotterdam"), "what the second source adds is kept: {text}");
        assert_eq!(text.matches("opened").count(), 1, "what it repeats is not: {text}");

        let alone = article("Just this article.", None);
        assert_eq!(story_text(&alone, &stage_api::EmptyContext), ("Just this article.".to_string(), 1));
    }
}
