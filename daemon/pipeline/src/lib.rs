//! The pipeline: the configured stages, run in order over one article.
//!
//! Each stage's result is recorded in the store as soon as it is known, so a restart resumes an
//! article after its last finished stage instead of from the start. A stage that panics is caught
//! and turned into a failure of that article; nothing a stage does can stop the daemon (short of
//! aborting the process).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use config::StageConfig;
use stage_api::{Article, Context, Outcome, Stage};
use store::{StageResult, Store, StoreError};

/// The stages, built once from the config.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage>>,
}

/// How an article left the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// Every stage passed it on.
    Done(Article),
    /// A stage dropped it on purpose.
    Dropped {
        /// The stage.
        stage: String,
        /// Why.
        reason: String,
    },
    /// A stage failed on it.
    Failed {
        /// The stage.
        stage: String,
        /// What went wrong.
        message: String,
    },
}

/// The time each stage took for one article, in milliseconds.
pub type Timings = Vec<(String, f64)>;

impl Pipeline {
    /// Builds the stages named in the config, in order.
    pub fn from_config(stages: &[StageConfig]) -> Pipeline {
        let stages = stages
            .iter()
            .map(|s| -> Box<dyn Stage> {
                match s {
                    StageConfig::Clean(o) => Box::new(clean::Clean::new(o.clone())),
                    StageConfig::Dedupe(o) => Box::new(dedupe::Dedupe::new(o.clone())),
                    StageConfig::Summarize(o) => Box::new(summarize::Summarize::new(o.clone())),
                    StageConfig::Keypoints(o) => Box::new(keypoints::Keypoints::new(o.clone())),
                    StageConfig::Plugin(p) => Box::new(Shared(p.stage.clone())),
                }
            })
            .collect();
        Pipeline { stages }
    }

    /// A pipeline of the given stages (for tests and embedding).
    pub fn new(stages: Vec<Box<dyn Stage>>) -> Pipeline {
        Pipeline { stages }
    }

    /// The stage names, in order.
    pub fn stage_names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name()).collect()
    }

    /// Runs `article` (with its `raw` bytes) through the stages for file `file_id`, resuming
    /// after the last stage recorded for it, and records every stage's result.
    pub fn run(&self, store: &Store, file_id: i64, article: Article) -> Result<(Finished, Timings), StoreError> {
        let mut timings = Timings::new();
        let (mut article, start) = match store.last_stage_result(file_id, article.item_index)? {
            Some(last) if self.stages.get(last.stage_index).is_some_and(|s| s.name() == last.stage) => {
                match (last.outcome.as_str(), last.article) {
                    ("continue", Some(saved)) => (saved, last.stage_index + 1),
                    ("drop", _) => {
                        let reason = last.detail.unwrap_or_default();
                        return Ok((Finished::Dropped { stage: last.stage, reason }, timings));
                    }
                    ("fail", _) => {
                        let message = last.detail.unwrap_or_default();
                        return Ok((Finished::Failed { stage: last.stage, message }, timings));
                    }
                    _ => (article, 0),
                }
            }
            _ => (article, 0),
        };
        if start > 0 {
            tracing::info!(file_id, resumed_after = self.stages[start - 1].name(), "resuming article");
        }
        for (index, stage) in self.stages.iter().enumerate().skip(start) {
            let began = Instant::now();
            let outcome = run_stage(stage.as_ref(), article, store);
            let millis = began.elapsed().as_secs_f64() * 1000.0;
            timings.push((stage.name().to_string(), millis));
            let mut result = StageResult {
                file_id,
                item_index: 0,
                stage_index: index,
                stage: stage.name().to_string(),
                outcome: String::new(),
                millis,
                detail: None,
                article: None,
            };
            match outcome {
                Outcome::Continue(next) => {
                    result.item_index = next.item_index;
                    result.outcome = "continue".into();
                    // An article still carrying its raw bytes is not saved: resuming it means
                    // starting over, which keeps the bytes out of the database.
                    result.article = next.raw.is_none().then(|| next.clone());
                    store.record_stage(&result)?;
                    article = next;
                }
                Outcome::Drop { reason } => {
                    result.outcome = "drop".into();
                    result.detail = Some(reason.clone());
                    store.record_stage(&result)?;
                    return Ok((Finished::Dropped { stage: stage.name().to_string(), reason }, timings));
                }
                Outcome::Fail { message } => {
                    result.outcome = "fail".into();
                    result.detail = Some(message.clone());
                    store.record_stage(&result)?;
                    return Ok((Finished::Failed { stage: stage.name().to_string(), message }, timings));
                }
            }
        }
        article.raw = None;
        Ok((Finished::Done(article), timings))
    }
}

/// A plugin instance shared with the config that started it; a stage like any other.
struct Shared(std::sync::Arc<plugin_host::PluginStage>);

impl Stage for Shared {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn process(&self, article: Article, context: &dyn Context) -> Outcome {
        self.0.process(article, context)
    }
}

fn run_stage(stage: &dyn Stage, article: Article, context: &dyn Context) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| stage.process(article, context))) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Outcome::Fail { message: format!("the stage crashed (panic: {what}); this is a bug in the stage, please report it") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(&'static str, AtomicUsize);

    impl Stage for Counting {
        fn name(&self) -> &str {
            self.0
        }
        fn process(&self, mut article: Article, _: &dyn Context) -> Outcome {
            self.1.fetch_add(1, Ordering::SeqCst);
            article.raw = None;
            article.tags.push(self.0.into());
            Outcome::Continue(article)
        }
    }

    struct Panics;

    impl Stage for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn process(&self, _: Article, _: &dyn Context) -> Outcome {
            panic!("boom")
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_panicking_stage_fails_the_article_only() {
        let (_d, store) = store();
        let file = store.accept_file(b"p", b"a", "h", 1).unwrap();
        let pipeline = Pipeline::new(vec![Box::new(Panics)]);
        let (finished, _) = pipeline.run(&store, file.id, Article::default()).unwrap();
        assert!(matches!(finished, Finished::Failed { ref message, .. } if message.contains("boom")), "{finished:?}");
    }

    #[test]
    fn resumes_after_the_last_recorded_stage() {
        let (_d, store) = store();
        let file = store.accept_file(b"p", b"a", "h", 1).unwrap();
        let first = Pipeline::new(vec![Box::new(Counting("one", AtomicUsize::new(0)))]);
        first.run(&store, file.id, Article::default()).unwrap();
        // A restart with a longer pipeline whose first stage already ran: only the second runs.
        let one = Box::new(Counting("one", AtomicUsize::new(0)));
        let two = Box::new(Counting("two", AtomicUsize::new(0)));
        let pipeline = Pipeline::new(vec![one, two]);
        let (finished, timings) = pipeline.run(&store, file.id, Article::default()).unwrap();
        let Finished::Done(article) = finished else { panic!("not done") };
        assert_eq!(article.tags, ["one", "two"]);
        assert_eq!(timings.len(), 1);
    }
}
