//! The built-in `summarize` stage, and the model-written story summaries the daemon's editor
//! makes with it.
//!
//! On the article path the stage always writes the extractive summary: the lead sentences that
//! best cover the story, scored, in milliseconds. The model never runs there, so an article never
//! waits for it. With `method: model`, a small local language model (a GGUF file, run in-process
//! by the `llm` crate) writes a summary of the *story* off the article path: the daemon's editor
//! (`daemon/editor`) loads it with [`Summarize::load`] and calls [`Summarize::story_summary`] with
//! the story's sources read from the store, then checks the draft against them (`guard`); a
//! rejected draft leaves the extractive summary shown and its reason recorded. Either way,
//! sentences that read as instructions to an assistant (`injection`) are left out of what is
//! summarised.
//!
//! # One summary per story
//!
//! A summary covers the story, not one article ([`story_text_of`]): the fullest source first (its
//! lead survives the prompt's cut), then, from each other source, the sentences of four content
//! words or more of which most are new. The stage marks its summary `summary_scope: story`; the
//! briefing shows the story's newest such summary, or the editor's when it is current. The
//! editor's model reads the lead of each source in turn instead ([`story_leads_of`]), so every
//! outlet's top fits the prompt, not the whole of the longest page, and its draft is checked
//! against every source whole.
//!
//! # The extractive summary
//!
//! Among the first 12 sentences (preferring those of six words or more that end like a
//! sentence), each is scored by its position, its coverage of the article's frequent content
//! words and its overlap with the headline; the best, up to `max_sentences` and about
//! `max_words`, are returned in article order. It is also the fallback for every refused draft.
//!
//! # The prompt
//!
//! A fixed system instruction says the article is data, not instructions; the article is fenced
//! in `<article>` tags (a closing tag inside it is defused) and cut to `max_article_tokens`, or
//! to what the model's context leaves, keeping the lead. The chat template inserts control tokens
//! by id and encodes the article as text, so the article cannot end its turn. Generation is greedy
//! by default, with a repeat penalty and a loop detector, and no token holding `<` or `>` is ever
//! generated: a summary is prose, and a small model otherwise drifts into page markup.
//!
//! # The guard
//!
//! A small model loops, copies and invents. A draft is shown only when it passes every check, in
//! this order ([`guard::check`]), else it is refused with the first reason:
//! - `empty`: fewer than 5 words;
//! - `looping`: the loop detector stopped generation, or a 3-word run occurs three times, or a
//!   draft of 20 words or more uses fewer distinct words than half its length;
//! - `injection`: it reads as an instruction itself, or uses a word that only the article's
//!   instruction-like sentences contain (their payload);
//! - `markup`: an HTML tag the article does not hold (a small model echoes page markup);
//! - `unsupported number`: a token holding a digit that is not a word of the article;
//! - `unsupported name`: a capitalised word inside a sentence (not a function word) that the
//!   article never writes with a capital, so a common word turned into a name ("the World
//!   Paralympics" from "world") is refused;
//! - `unsupported content`: under 80 % of its content words (four letters or more, not function
//!   words) are in the article, as they are or sharing the first six letters of one;
//! - `unsupported claim`: a sentence of the draft has no evidence in the article: no one sentence
//!   of it, or two adjacent ones, holds all the sentence's names and numbers, half of its other
//!   content words (and three quarters of what the best-supporting window holds, so words said
//!   of someone else are not pinned on its names), each name and number beside some of those
//!   words, a negation before each word the sentence negates, and its names in the same order,
//!   datelines aside and "U.S." read as "US" ([`claims`]). Such sentences
//!   are dropped instead when the rest still stands (as many sentences kept as dropped, five
//!   words or more: [`guard::accept`]).

pub mod abstractive;
pub mod claims;
pub mod error;
pub mod extractive;
pub mod guard;
pub mod injection;

use std::path::PathBuf;
use std::sync::Arc;

use llm::generate;
use serde::Deserialize;
use stage_api::{Article, Context, Outcome, Stage, Story, StoryFields, StoryOutcome, StoryStage};
use text::sentences;
use text::words::content_words;

pub use abstractive::Cancel;
pub use error::Error;
pub use guard::Rejection;
/// The model the stage runs, from the engine crate; callers that share one between stages
/// (`with_model`) load it with `Model::load`.
pub use llm::Model;

/// Earlier sources of a story that a summary reads besides the incoming article.
const STORY_SOURCES: usize = 8;

/// The most sources a story summary reads: the newest ones.
pub const MAX_STORY_SOURCES: usize = STORY_SOURCES + 1;

/// What a story's summary is written from, and how many sources that covers, for `article` and
/// the earlier sources of its story that `context` knows; see [`story_text_of`].
pub fn story_text(article: &Article, context: &dyn Context) -> (String, usize) {
    let others = match &article.story {
        Some(story) => context.story_articles(story.story_id, STORY_SOURCES),
        None => Vec::new(),
    };
    let texts: Vec<&str> = std::iter::once(article.text.as_str())
        .chain(others.iter().map(|o| o.article.text.as_str()))
        .collect();
    story_text_of(&texts)
}

/// What a story's summary is written from, given its sources' texts newest first: the fullest
/// text first (its lead survives the prompt's truncation; the newer wins a tie), then each other
/// source's sentences that add content words not seen yet. For one source, its own text.
pub fn story_text_of(texts: &[&str]) -> (String, usize) {
    match texts {
        [] => return (String::new(), 0),
        [only] => return (only.to_string(), 1),
        _ => {}
    }
    let texts = fullest_first(texts);
    let mut seen = Novelty::default();
    seen.add(texts[0]);
    let mut out = texts[0].trim().to_string();
    for text in &texts[1..] {
        let added: Vec<&str> =
            sentences::split(text).into_iter().map(|s| s.text.trim()).filter(|s| seen.adds(s)).collect();
        if !added.is_empty() {
            out.push_str("\n\n");
            out.push_str(&added.join(" "));
        }
    }
    (out, texts.len())
}

/// What the model reads of a story with several sources: the lead of each in turn, in the
/// order of [`story_text_of`], about an equal share of `words` each, so every outlet's top is in
/// the prompt rather than the whole of the longest page; a sentence that adds nothing new is left
/// out. Sources shorter than their share give what [`story_text_of`] gives. For one source, its
/// own text (the prompt keeps its top).
pub fn story_leads_of(texts: &[&str], words: usize) -> String {
    if let [only] = texts {
        return only.to_string();
    }
    let texts = fullest_first(texts);
    let share = (words / texts.len().max(1)).max(MIN_LEAD_WORDS);
    let mut seen = Novelty::default();
    let mut leads = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let mut taken = 0;
        // The first lead is read as it is written, up to its share; the others for what they add.
        let mut end = 0;
        let mut added = Vec::new();
        for sentence in sentences::split(text) {
            if taken >= share {
                break;
            }
            if i == 0 {
                seen.add(sentence.text);
                end = sentence.start + sentence.text.len();
            } else if seen.adds(sentence.text) {
                added.push(sentence.text.trim());
            } else {
                continue;
            }
            taken += sentence.text.split_whitespace().count();
        }
        let lead = if i == 0 { text[..end].trim().to_string() } else { added.join(" ") };
        if !lead.is_empty() {
            leads.push(lead);
        }
    }
    leads.join("\n\n")
}

/// Sources' texts, given newest first, longest first: the fullest tells most of the story. A
/// stable sort: among texts of equal length the newer stays first.
fn fullest_first<'a>(texts: &[&'a str]) -> Vec<&'a str> {
    let mut texts = texts.to_vec();
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    texts
}

/// A source's lead in [`story_leads_of`] is at least this many words, however many sources.
const MIN_LEAD_WORDS: usize = 40;

/// The content words a story's text holds so far.
#[derive(Default)]
struct Novelty {
    seen: std::collections::HashSet<String>,
}

impl Novelty {
    fn add(&mut self, text: &str) {
        self.seen.extend(content_words(text));
    }

    /// Whether `sentence` says something the text lacks (four content words or more, most of
    /// them new); if so, its words are now seen.
    fn adds(&mut self, sentence: &str) -> bool {
        let words = content_words(sentence);
        let new = words.iter().filter(|w| !self.seen.contains(*w)).count();
        let adds = words.len() >= 4 && new * 2 > words.len();
        if adds {
            self.seen.extend(words);
        }
        adds
    }
}

/// How summaries are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Chosen sentences of the article itself.
    #[default]
    Extractive,
    /// Written by a local model off the article path (the daemon's editor), checked against the
    /// sources; the extractive summary is shown until then, and when the draft is refused.
    Model,
}

impl Method {
    /// The name used in the config and in `Article::summary_method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Extractive => "extractive",
            Method::Model => "model",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default model file, as `models/fetch` leaves it (relative to the config's folder): the
/// small model, which the tests run too.
pub const DEFAULT_MODEL_PATH: &str = "models/SmolLM2-135M-Instruct-Q4_1.gguf";

/// The small model (`models/fetch smollm2-135m`), the one the tests run.
pub const SMALL_MODEL_PATH: &str = DEFAULT_MODEL_PATH;

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
            if let Err(e) = llm::model::inspect(&self.model_path) {
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
            // A summary is prose: a small model that starts writing a tag (page markup, echoed
            // from its training) is steered to a word instead of being refused afterwards.
            banned_tokens: model.tokenizer.ids_containing(&['<', '>']),
        }
    }
}

/// One article's summary with everything that led to it (for the stage and for `briefd eval`).
#[derive(Debug, Clone)]
pub struct Summary {
    /// What the reader sees.
    pub text: String,
    /// How the text shown was made: [`Method::Model`] only when the guard accepted the draft.
    pub method: Method,
    /// The model's draft, accepted or not.
    pub draft: Option<String>,
    /// Why the draft was refused.
    pub rejection: Option<Rejection>,
    /// Sentences of an accepted draft left out for want of evidence, each with why.
    pub dropped: Vec<guard::UnsupportedClaim>,
    /// The extractive summary (the fallback).
    pub extractive: String,
    /// Instruction-like sentences left out of the article.
    pub injections: usize,
    /// The model could not be used at all.
    pub model_error: Option<String>,
    /// Token counts and timings of the model's run.
    pub generation: Option<generate::Generation>,
}

/// A story's summary as the editor writes it: the summary and how many sources it read.
#[derive(Debug, Clone)]
pub struct StorySummary {
    /// The summary, with the draft, the guard's verdict and the fallback.
    pub summary: Summary,
    /// How many sources the text it was written from covers.
    pub n_sources: usize,
}

/// The `summarize` stage ([`Summarize::new`]: extractive on the article path), and the model's
/// story summaries ([`Summarize::load`], [`Summarize::story_summary`]).
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
    /// The stage for the article path: it writes the extractive summary whatever the method,
    /// and loads no model (with `method: model` the editor writes the model's summaries).
    pub fn new(options: Options) -> Self {
        Summarize { options, model: None, pool: None }
    }

    /// A summarizer with these options that writes with the model. With `method: model` the
    /// model is loaded now, once. Config validation has already read the file's header; if
    /// loading still fails (the file changed since), the error is logged and every summary is
    /// extractive with the reason recorded, rather than stopping the daemon.
    pub fn load(options: Options) -> Self {
        let (model, pool) = if options.method == Method::Model {
            llm::model::use_threads(options.threads);
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
        llm::model::use_threads(options.threads);
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(options.threads.max(1)).build().ok().map(Arc::new);
        Summarize { options: Options { method: Method::Model, ..options }, model: Some(Ok(model)), pool }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether a model is loaded (so summaries can be model-written).
    pub fn has_model(&self) -> bool {
        matches!(self.model, Some(Ok(_)))
    }

    /// Summarises `text` (headline `title`), with the guard and the fallback.
    pub fn summarize(&self, text: &str, title: Option<&str>) -> Summary {
        self.summarize_until(text, title, None).expect("without a cancel check nothing cancels a generation")
    }

    /// As [`Summarize::summarize`], asking `cancel` (when given) between the model's tokens;
    /// `Err(Cancelled)` when it said stop, and then nothing was written.
    pub fn summarize_until(
        &self,
        text: &str,
        title: Option<&str>,
        cancel: Option<Cancel<'_>>,
    ) -> Result<Summary, Cancelled> {
        self.summarize_inputs(Inputs { read: text, evidence: text, text }, title, cancel)
    }

    fn summarize_inputs(
        &self,
        Inputs { read, evidence, text }: Inputs<'_>,
        title: Option<&str>,
        cancel: Option<Cancel<'_>>,
    ) -> Result<Summary, Cancelled> {
        let injections = injection::find(text);
        let safe_text = injection::strip(text, &injections);
        let extractive =
            extractive::summarize(&safe_text, title, self.options.max_sentences, self.options.max_words);
        let mut summary = Summary {
            text: extractive.clone(),
            method: Method::Extractive,
            draft: None,
            rejection: None,
            dropped: Vec::new(),
            extractive,
            injections: injections.ranges.len(),
            model_error: None,
            generation: None,
        };
        let model = match &self.model {
            None => return Ok(summary),
            Some(Err(e)) => {
                summary.model_error = Some(e.clone());
                return Ok(summary);
            }
            Some(Ok(model)) => model,
        };
        let safe_read = injection::strip(read, &injection::find(read));
        if safe_read.trim().is_empty() {
            return Ok(summary);
        }
        let limits = abstractive::Limits { max_article_tokens: self.options.max_article_tokens };
        let settings = self.options.settings(model);
        let run = || abstractive::summarize_until(model, &safe_read, &limits, &settings, cancel);
        let draft = match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        };
        match draft {
            Err(Error::Cancelled) => return Err(Cancelled),
            Err(e) => {
                tracing::warn!(error = %e, "model failed on an article; extractive summary used");
                summary.model_error = Some(e.to_string());
            }
            Ok(draft) => {
                let looped = draft.generation.stop == generate::Stop::Loop;
                let injections = if evidence == text { injections } else { injection::find(evidence) };
                summary.judge_draft(draft.text, evidence, &injections, looped);
                summary.generation = Some(draft.generation);
            }
        }
        Ok(summary)
    }

    /// The summary of a story from its `sources`, newest first (the store's articles, owned),
    /// written by the model when one is loaded and checked against the text it was written from;
    /// `Err(Cancelled)` when `cancel` said stop between tokens. At most the newest
    /// [`MAX_STORY_SOURCES`] are read.
    pub fn story_summary(
        &self,
        sources: &[Article],
        cancel: Option<Cancel<'_>>,
    ) -> Result<StorySummary, Cancelled> {
        let sources = &sources[..sources.len().min(MAX_STORY_SOURCES)];
        let texts: Vec<&str> = sources.iter().map(|a| a.text.as_str()).collect();
        let (text, n_sources) = story_text_of(&texts);
        // The headline of the fullest source, as the article path's extractive summary uses the
        // incoming article's.
        let title = sources.iter().rev().max_by_key(|a| a.text.len()).and_then(|a| a.title.as_deref());
        // About three words in four tokens: the leads fill the prompt's room for the article.
        let leads = story_leads_of(&texts, self.options.max_article_tokens * 3 / 4);
        // The guard reads every source whole: a draft may state what any of them states.
        let evidence = texts.join("\n\n");
        let summary =
            self.summarize_inputs(Inputs { read: &leads, evidence: &evidence, text: &text }, title, cancel)?;
        Ok(StorySummary { summary, n_sources })
    }

    /// The extractive summary of `text` (headline `title`), instruction-like sentences left out.
    fn extractive(&self, text: &str, title: Option<&str>) -> (String, usize) {
        let injections = injection::find(text);
        let safe_text = injection::strip(text, &injections);
        let summary =
            extractive::summarize(&safe_text, title, self.options.max_sentences, self.options.max_words);
        (summary, injections.ranges.len())
    }
}

/// The texts of one summary: what the model reads, what the guard checks its draft against, and
/// what the extractive summary is chosen from. For one article, all three are its text.
struct Inputs<'a> {
    read: &'a str,
    evidence: &'a str,
    text: &'a str,
}

/// Generation was stopped by its caller before a draft was finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("generation cancelled")]
pub struct Cancelled;

impl Summary {
    /// Shows the model's `draft` when the guard accepts it against the `article`; otherwise the
    /// extractive text stays and the reason is recorded. The draft is kept either way, for
    /// `briefd eval` and the article's metadata.
    fn judge_draft(
        &mut self,
        draft: String,
        article: &str,
        injections: &injection::Injections,
        looped: bool,
    ) {
        match guard::accept(&draft, article, injections, looped) {
            Ok(accepted) => {
                self.text = accepted.text;
                self.dropped = accepted.dropped;
                self.method = Method::Model;
            }
            Err(rejection) => self.rejection = Some(rejection),
        }
        self.draft = Some(draft);
    }
}

impl Stage for Summarize {
    fn name(&self) -> &str {
        "summarize"
    }

    fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
        // The article path never runs the model: with `method: model` the editor writes the
        // story's model summary later, from the store, and this one is shown until then.
        let (text, sources) = story_text(&article, context);
        let (summary, injections) = self.extractive(&text, article.title.as_deref());
        if sources > 1 {
            // This article's summary stands for the whole story; the briefing shows the newest
            // such summary, so the story's summary is rewritten each time a source joins.
            article.metadata.insert("summary_scope".into(), "story".into());
            article.metadata.insert("summary_sources".into(), sources.to_string());
        }
        if injections > 0 {
            tracing::warn!(
                stage = "summarize",
                sentences = injections,
                "instruction-like sentences in the article left out of its summary"
            );
            article.metadata.insert("summary_injections".into(), injections.to_string());
        }
        if !summary.is_empty() {
            article.summary = Some(summary);
            article.summary_method = Some(Method::Extractive.as_str().into());
        }
        Outcome::Continue(article)
    }
}

/// As a story stage (how `Pipeline::build` runs the configured `summarize`, stage-api 1.4): the
/// extractive summary of the story, written once per change of the story from its independent
/// sources (newest first, at most [`MAX_STORY_SOURCES`]; a reprint adds no evidence, so it is
/// not read), under the headline of the newest of them, which is the article that just joined
/// unless a merge or a reprint changed the story. The same text and headline the article stage
/// reads when an article joins, minus the reprints. The model's summary stays the editor's.
impl StoryStage for Summarize {
    fn name(&self) -> &str {
        "summarize"
    }

    fn process_story(&self, story: Story, _context: &dyn Context) -> StoryOutcome {
        let sources: Vec<&Article> =
            story.independent().map(|s| &s.article).take(MAX_STORY_SOURCES).collect();
        let texts: Vec<&str> = sources.iter().map(|a| a.text.as_str()).collect();
        let (text, _) = story_text_of(&texts);
        let title = sources.first().and_then(|a| a.title.as_deref());
        let (summary, injections) = self.extractive(&text, title);
        if injections > 0 {
            tracing::warn!(
                stage = "summarize",
                story_id = story.story_id,
                sentences = injections,
                "instruction-like sentences in the story left out of its summary"
            );
        }
        if summary.is_empty() {
            return StoryOutcome::Skip { reason: "no sentence to summarise the story with".into() };
        }
        StoryOutcome::Set(StoryFields {
            summary: Some(summary),
            summary_method: Some(Method::Extractive.as_str().into()),
            ..StoryFields::default()
        })
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

    fn extractive_only(extractive: &str) -> Summary {
        Summary {
            text: extractive.into(),
            method: Method::Extractive,
            draft: None,
            rejection: None,
            dropped: Vec::new(),
            extractive: extractive.into(),
            injections: 0,
            model_error: None,
            generation: None,
        }
    }

    #[test]
    fn the_model_reads_the_lead_of_each_source() {
        let long = "Foreign Minister Lavrov met his counterpart Choe in the coastal city of Wonsan on \
            Saturday, state media said. Russia understands the nuclear program of North Korea, Lavrov \
            told reporters after the talks there. Tourism to the new Kalma beach resort will grow, \
            officials hoped. Unrelated page furniture follows here, with more words after it.";
        let wire = "Lavrov warned Washington, Seoul and Tokyo against a security alliance aimed at \
            Pyongyang during a visit on Saturday. Foreign Minister Lavrov met his counterpart Choe in \
            Wonsan on Saturday. Kim reaffirmed support for Russia over its war in Ukraine.";
        // About 40 words each (the least a lead gets): the first three sentences of the first
        // source, then what the second adds (its repeat of the meeting left out).
        let leads = story_leads_of(&[long, wire], 60);
        let [first, second] = leads.split("\n\n").collect::<Vec<_>>()[..] else { panic!("{leads}") };
        assert!(first.ends_with("officials hoped."), "{first}");
        assert!(!second.contains("Wonsan") && second.ends_with("war in Ukraine."), "{second}");
        assert!(story_leads_of(&[long, wire], 1000).contains("Unrelated page furniture"));
        // One source is read whole (the prompt keeps its top); short ones as the story's text.
        assert_eq!(story_leads_of(&[long], 60), long);
        let short = [
            "Ferry back.\n\nThe ferry to Kessel runs again, the operator said.",
            "Harbour reopened after the storm closed it for three days. The ferry to Kessel runs.",
        ];
        assert_eq!(story_leads_of(&short, 450), story_text_of(&short).0);
    }

    #[test]
    fn methods_keep_their_config_and_article_names() {
        use serde::de::{value::StrDeserializer, IntoDeserializer};
        for method in [Method::Extractive, Method::Model] {
            let from_config: StrDeserializer<'_, serde::de::value::Error> =
                method.as_str().into_deserializer();
            assert_eq!(Method::deserialize(from_config), Ok(method));
            assert_eq!(method.to_string(), method.as_str());
        }
        assert_eq!([Method::Extractive.as_str(), Method::Model.as_str()], ["extractive", "model"]);
    }

    #[test]
    fn a_refused_draft_leaves_the_extractive_summary_and_records_why() {
        let article = "Officials said the vote would take place on 12 May in Lyon, France.";
        let mut summary = extractive_only(article);
        let draft = "Officials said the vote would take place on 14 June in Paris.".to_string();
        summary.judge_draft(draft.clone(), article, &injection::find(article), false);
        assert_eq!(summary.method, Method::Extractive);
        assert_eq!(summary.text, article);
        assert_eq!(summary.draft.as_deref(), Some(draft.as_str()));
        let reason = summary.rejection.expect("an invented date and place are refused").to_string();
        assert!(reason.contains("14") || reason.contains("Paris"), "{reason}");
    }

    #[test]
    fn an_accepted_draft_is_shown() {
        let article = "Officials said the vote would take place on 12 May in Lyon, France.";
        let mut summary = extractive_only(article);
        let draft = "The vote will take place on 12 May in Lyon, France, officials said.".to_string();
        summary.judge_draft(draft.clone(), article, &injection::find(article), false);
        assert!(summary.rejection.is_none(), "{:?}", summary.rejection.map(|r| r.to_string()));
        assert_eq!(summary.method, Method::Model);
        assert_eq!(summary.text, draft);
    }

    #[test]
    fn a_looping_draft_is_refused_even_when_its_words_are_true() {
        let article = "Officials said the vote would take place on 12 May in Lyon, France.";
        let mut summary = extractive_only(article);
        let draft = "The vote will take place in Lyon, France, officials said.".to_string();
        summary.judge_draft(draft, article, &injection::find(article), true);
        assert_eq!(summary.method, Method::Extractive);
        assert!(summary.rejection.is_some());
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
