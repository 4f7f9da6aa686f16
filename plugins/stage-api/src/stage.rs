//! The `Stage` trait and what a stage may see and return.

use serde::{Deserialize, Serialize};

use crate::Article;

/// A pipeline stage: owned article in, owned outcome out.
///
/// Implementations must be cheap to call from one thread at a time; the pipeline never calls a
/// stage concurrently, but the value may move between threads.
pub trait Stage: Send + Sync {
    /// The name used in logs, the store and error files (usually the config's `kind`).
    fn name(&self) -> &str;

    /// Processes one article.
    fn process(&self, article: Article, context: &dyn Context) -> Outcome;

    /// Processes one file's article that may turn out to hold several (a JSON list, a JSON
    /// Feed): one outcome per article found, in the file's order.
    ///
    /// The pipeline calls this instead of [`Stage::process`] while a file has not been split,
    /// and [`Stage::process`] for each article after a split, so a file is split at most once.
    /// It numbers the articles (`item_index` 0, 1, ...), clears their `raw` bytes and runs the
    /// remaining stages over each one in turn. The default is one article, one outcome; only
    /// stages that read whole files (the built-in `clean`) override it. Plugins cannot split:
    /// ABI v1 carries one article per call and the host calls `process`.
    fn process_items(&self, article: Article, context: &dyn Context) -> Vec<Outcome> {
        vec![self.process(article, context)]
    }
}

/// What a stage decided about one article.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Pass the (possibly changed) article to the next stage.
    Continue(Article),
    /// Keep the article out of the briefing on purpose; the reason is stored and shown by `status`.
    Drop {
        /// Why, in a reader's words.
        reason: String,
    },
    /// The stage could not handle the article; the file goes to `failed/` with this message.
    Fail {
        /// What went wrong and, where possible, what the user can do.
        message: String,
    },
}

/// Read-only view of earlier stories, for stages like dedupe.
///
/// Methods take and return owned, plain data so that the same calls can be offered to a plugin
/// through C function pointers.
pub trait Context {
    /// Stories holding an article with this fingerprint (`kind` as in `Article::fingerprints`).
    fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64>;

    /// Number of committed articles (the `N` of document frequencies).
    fn article_count(&self) -> u64 {
        0
    }

    /// For each value, how many committed articles hold it as a key of `kind`.
    fn key_counts(&self, kind: &str, values: Vec<String>) -> Vec<u64> {
        let _ = kind;
        vec![0; values.len()]
    }

    /// Committed articles sharing the most keys of `kind` with `values`, most shared first, at
    /// most `limit`; ties go to the older article. A host may count only each key's newest
    /// few hundred articles, so the cost stays flat as the corpus grows.
    fn articles_with_keys(&self, kind: &str, values: Vec<String>, limit: usize) -> Vec<KeyHit> {
        let _ = (kind, values, limit);
        Vec::new()
    }

    /// The most recent `limit` articles of a story, newest first, each with its store ids.
    fn story_articles(&self, story_id: i64, limit: usize) -> Vec<StoredArticle> {
        let _ = (story_id, limit);
        Vec::new()
    }

    /// How many committed articles a story holds (0 for an unknown or merged-away story). Added
    /// in stage-api 1.1 with a default, so contexts written for 1.0 still compile.
    fn story_size(&self, story_id: i64) -> u64 {
        let _ = story_id;
        0
    }

    /// The publication dates (`Article::published`, as stored) of every committed article of a
    /// story that has one, in no particular order; empty for an unknown story or a host that
    /// does not know. Added in stage-api 1.3 with a default: dedupe's time window is checked
    /// against every dated member with it, not only the newest few it reads.
    fn story_published(&self, story_id: i64) -> Vec<String> {
        let _ = story_id;
        Vec::new()
    }

    /// Whether the stage being run has used up its time budget (`stage_budget_seconds`): a stage
    /// whose work grows with its input asks between items (sentences, candidates) and, when it
    /// has, stops and fails the article; the pipeline fails it anyway once the stage returns.
    /// Must be cheap: a clock read. Added in stage-api 1.3 with a default (never).
    fn past_budget(&self) -> bool {
        false
    }
}

/// A committed article that shares keys with the one being processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyHit {
    /// The article's id in the store.
    pub article_id: i64,
    /// The story it belongs to.
    pub story_id: i64,
    /// How many of the asked keys it holds.
    pub shared: u64,
}

/// A committed article with its ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredArticle {
    /// The article's id in the store.
    pub article_id: i64,
    /// The story it belongs to.
    pub story_id: i64,
    /// The article as committed.
    pub article: Article,
}

/// A context with no earlier stories, for tests and one-off runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmptyContext;

impl Context for EmptyContext {
    fn stories_with_fingerprint(&self, _kind: &str, _value: &str) -> Vec<i64> {
        Vec::new()
    }
}
