//! The built-in `summarize` stage.
//!
//! Today it writes the extractive summary: the lead sentences that best cover the article, scored.
//! It stays in the product as the fallback when a model-written summary is rejected; the model
//! itself is a later issue (`method: model` is not accepted yet).

pub mod extractive;
pub mod sentences;

use serde::Deserialize;
use stage_api::{Article, Context, Outcome, Stage};

/// How summaries are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Chosen sentences of the article itself.
    #[default]
    Extractive,
}

/// Options of the `summarize` stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// How summaries are made.
    pub method: Method,
    /// At most this many sentences.
    pub max_sentences: usize,
    /// At most about this many words (a sentence that would pass it is left out, unless it is the first).
    pub max_words: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { method: Method::Extractive, max_sentences: 3, max_words: 90 }
    }
}

impl Options {
    /// Problems with these values; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.max_sentences == 0 {
            problems.push("max_sentences must be at least 1".into());
        }
        if self.max_words < 10 {
            problems.push("max_words must be at least 10".into());
        }
        problems
    }
}

/// The `summarize` stage.
#[derive(Debug, Clone, Default)]
pub struct Summarize {
    options: Options,
}

impl Summarize {
    /// A summarizer with these options.
    pub fn new(options: Options) -> Self {
        Summarize { options }
    }
}

impl Stage for Summarize {
    fn name(&self) -> &str {
        "summarize"
    }

    fn process(&self, mut article: Article, _context: &dyn Context) -> Outcome {
        let summary = extractive::summarize(
            &article.text,
            article.title.as_deref(),
            self.options.max_sentences,
            self.options.max_words,
        );
        if !summary.is_empty() {
            article.summary = Some(summary);
            article.summary_method = Some("extractive".into());
        }
        Outcome::Continue(article)
    }
}
