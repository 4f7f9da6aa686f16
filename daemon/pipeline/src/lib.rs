//! The pipeline: the configured stages, run in order over one article.
//!
//! Each stage's result is recorded in the store as soon as it is known, so a restart resumes an
//! article after its last finished stage instead of from the start. A stage that panics is caught
//! and turned into a failure of that article; nothing a stage does can stop the daemon (short of
//! aborting the process). And that, too, happens at most twice per article: each start of a stage
//! is recorded before it runs, and a stage that started twice on an article without finishing
//! (the daemon died both times) fails the article at the next start instead of running again
//! ([`CRASHES_BEFORE_FAILING`]), so a poisoned file cannot crash-loop the daemon.
//!
//! Every stage has a time budget per article (`stage_budget_seconds`): the stage sees it through
//! `Context::past_budget` and the built-ins stop between sentences or items once it is spent; a
//! stage that returns past it (whatever it returned) fails the article with "stage NAME took
//! longer than N s", and the pipeline goes on with the next article. A stage that never returns
//! cannot be stopped from here (a built-in runs on the pipeline thread); the budget is checked
//! inside every loop whose work grows with the article for that reason.
//!
//! [`Pipeline::build`] is the one way from a config to running stages.

mod build;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use stage_api::{
    Article, Context, KeyHit, Outcome, Stage, StoredArticle, StoryFields, StoryOutcome, StoryStage,
    MAX_STORY_SOURCES,
};
use store::{Serialised, StageOutcome, StageResult, Store, StoreError, StoryStageResult};

/// The story assignment of one article, once a stage has read the stored stories: held until
/// the article is committed (or left out), so that no other daemon's dedupe reads the stories
/// in between (`Store::lock_assignment`).
type Assignment<'s> = RefCell<Option<Serialised<'s>>>;

pub use build::{plugin_problems, BuildError};

/// A stage that started on an article this many times without recording a result (the daemon
/// died each time) is not started on it again: the article fails instead. Two, not one, because
/// one death may be the machine's (a kill, a power cut) rather than the article's.
pub const CRASHES_BEFORE_FAILING: u32 = 2;

/// The stages, built once from the config.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage>>,
    /// The story stages, in config order: run over a story after each change to it.
    story_stages: Vec<Box<dyn StoryStage>>,
    stage_budget: Duration,
}

/// The budget of a pipeline made with [`Pipeline::new`]: the config's default.
pub const DEFAULT_STAGE_BUDGET: Duration = Duration::from_secs(60);

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
    /// A pipeline of the given stages (for tests and embedding).
    pub fn new(stages: Vec<Box<dyn Stage>>) -> Pipeline {
        Pipeline { stages, story_stages: Vec::new(), stage_budget: DEFAULT_STAGE_BUDGET }
    }

    /// This pipeline with `story_stages` run over each story an article changed.
    pub fn with_story_stages(self, story_stages: Vec<Box<dyn StoryStage>>) -> Pipeline {
        Pipeline { story_stages, ..self }
    }

    /// This pipeline with each stage allowed `budget` per article.
    pub fn with_stage_budget(self, budget: Duration) -> Pipeline {
        Pipeline { stage_budget: budget, ..self }
    }

    /// The stage names, in order: the article stages, then the story stages.
    pub fn stage_names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name()).chain(self.story_stages.iter().map(|s| s.name())).collect()
    }

    /// The story stages' names, in order.
    pub fn story_stage_names(&self) -> Vec<&str> {
        self.story_stages.iter().map(|s| s.name()).collect()
    }

    /// Runs the story stages over every story changed since they last ran (the store's queue:
    /// the stories of the articles just committed, merges, and whatever a kill left queued), in
    /// config order, and stores their fields; returns how many stories it ran over. A pipeline
    /// without story stages empties the queue.
    ///
    /// Call it after each commit, and once at start (a kill between a commit and the stages'
    /// results left the story queued). Each stage's result replaces its row for the story, and
    /// the story leaves the queue only for the revision the stages read, so a repeat after a
    /// crash neither loses nor doubles anything.
    pub fn run_story_stages(&self, store: &Store) -> Result<usize, StoreError> {
        if self.story_stages.is_empty() {
            store.clear_story_stage_queue()?;
            return Ok(0);
        }
        let mut n_stories = 0;
        while let Some(story_id) = store.next_story_for_stages()? {
            match store.story_input(story_id, MAX_STORY_SOURCES)? {
                Some(story) => {
                    let revision = story.revision;
                    self.run_story(store, story)?;
                    // A story that changed while its stages ran stays queued and runs again.
                    store.finish_story_stages(story_id, revision)?;
                }
                None => {
                    store.finish_story_stages(story_id, 0)?;
                }
            }
            n_stories += 1;
        }
        Ok(n_stories)
    }

    /// Runs every story stage over one revision of a story, recording each result.
    fn run_story(&self, store: &Store, mut story: stage_api::Story) -> Result<(), StoreError> {
        let mut fields = StoryFields::default();
        // A story stage that reads the stories does so inside the story assignment too (nested
        // in the article's, after a commit).
        let assignment = Assignment::default();
        let assignment = &assignment;
        for (stage_index, stage) in self.story_stages.iter().enumerate() {
            story.fields = fields.clone();
            let began = Instant::now();
            let context = Budgeted { store, deadline: began + self.stage_budget, assignment };
            let mut outcome =
                match catch_unwind(AssertUnwindSafe(|| stage.process_story(story.clone(), &context))) {
                    Ok(outcome) => outcome,
                    Err(panic) => StoryOutcome::Fail { message: panic_message(panic) },
                };
            let elapsed = began.elapsed();
            if elapsed > self.stage_budget {
                outcome = StoryOutcome::Fail {
                    message: format!(
                        "stage {} took longer than {} s (stage_budget_seconds) on this story",
                        stage.name(),
                        self.stage_budget.as_secs_f64()
                    ),
                };
            }
            // A built-in is held to what a plugin's host checks: citations inside the story.
            if let StoryOutcome::Set(set) = &outcome {
                if let Some(problem) = set.problem(&story) {
                    outcome = StoryOutcome::Fail { message: format!("stage {}: {problem}", stage.name()) };
                }
            }
            let millis = elapsed.as_secs_f64() * 1000.0;
            let mut result = StoryStageResult {
                story_id: story.story_id,
                revision: story.revision,
                stage_index,
                stage: stage.name().to_string(),
                outcome: StageOutcome::Continue,
                detail: None,
                fields: None,
                millis,
            };
            match outcome {
                StoryOutcome::Set(set) => {
                    fields.apply(&set);
                    result.fields = Some(set);
                }
                StoryOutcome::Skip { reason } => {
                    result.outcome = StageOutcome::Drop;
                    result.detail = Some(reason);
                }
                StoryOutcome::Fail { message } => {
                    tracing::warn!(
                        story_id = story.story_id,
                        stage = stage.name(),
                        reason = %message,
                        "story stage failed; the story keeps the fields it had"
                    );
                    result.outcome = StageOutcome::Fail;
                    result.detail = Some(message);
                }
            }
            store.record_story_stage(&result)?;
            tracing::debug!(story_id = story.story_id, stage = stage.name(), millis, "story stage done");
        }
        Ok(())
    }

    /// Runs one article (with its `raw` bytes) through the stages for file `file_id`, resuming
    /// after the last stage recorded for it, and records every stage's result. A stage that
    /// finds several articles in it fails it here; [`Pipeline::run_file`] splits instead.
    pub fn run(
        &self,
        store: &Store,
        file_id: i64,
        article: Article,
    ) -> Result<(Finished, Timings), StoreError> {
        let assignment = Assignment::default();
        match self.run_item(store, file_id, article, false, &assignment)? {
            Step::Finished(finished, timings) => Ok((finished, timings)),
            Step::Split(_) => unreachable!("run_item splits only when allowed"),
        }
    }

    /// Runs a file through the stages: the file's article, or, when a stage finds several
    /// articles in it (a JSON list or feed), each of them in turn. `finish` receives every
    /// article as it leaves the pipeline, in the file's order, and returns before the next one
    /// starts, so that a caller who commits it lets the later articles see it (dedupe does).
    /// From a stage's first read of the stored stories until `finish` returns, the article holds
    /// the story assignment (`Store::lock_assignment`): with several daemons on one database,
    /// none reads the stories between another's dedupe and its commit.
    ///
    /// Resuming is per article: a split is recorded in one transaction (all the articles or
    /// none), each article resumes after its own last recorded stage, and articles already
    /// committed to the store are skipped, so a crash mid-file neither loses nor repeats one.
    pub fn run_file<E: From<StoreError>>(
        &self,
        store: &Store,
        file_id: i64,
        article: Article,
        mut finish: impl FnMut(Item) -> Result<(), E>,
    ) -> Result<(), E> {
        let file_name = article.file_name.clone();
        let received_at = article.received_at.clone();
        let mut items = store.file_items(file_id)?;
        let mut split_timings = Timings::new();
        if items == [0] {
            if store.committed_story(file_id, 0)?.is_some() {
                return Ok(());
            }
            let assignment = Assignment::default();
            match self.run_item(store, file_id, Article { item_index: 0, ..article }, true, &assignment)? {
                Step::Finished(finished, timings) => {
                    return finish(Item { item_index: 0, finished, timings })
                }
                Step::Split(timings) => {
                    split_timings = timings;
                    items = store.file_items(file_id)?;
                }
            }
        }
        for item_index in items {
            if store.committed_story(file_id, item_index)?.is_some() {
                continue;
            }
            // The saved state of a split article replaces this stub (see `run_item`).
            let stub = Article {
                file_name: file_name.clone(),
                received_at: received_at.clone(),
                item_index,
                ..Default::default()
            };
            let assignment = Assignment::default();
            let (finished, mut timings) = match self.run_item(store, file_id, stub, false, &assignment)? {
                Step::Finished(finished, timings) => (finished, timings),
                Step::Split(_) => unreachable!("run_item splits only when allowed"),
            };
            if item_index == 0 {
                timings.splice(0..0, std::mem::take(&mut split_timings));
            }
            finish(Item { item_index, finished, timings })?;
        }
        Ok(())
    }

    fn run_item<'s>(
        &self,
        store: &'s Store,
        file_id: i64,
        article: Article,
        may_split: bool,
        assignment: &Assignment<'s>,
    ) -> Result<Step, StoreError> {
        let item_index = article.item_index;
        let mut timings = Timings::new();
        let (mut article, start) = match self.resume_point(store, file_id, article)? {
            Resume::From(article, start) => (article, start),
            Resume::Finished(finished) => return Ok(Step::Finished(finished, timings)),
        };
        if start > 0 {
            tracing::info!(
                file_id,
                item_index,
                resumed_after = self.stages[start - 1].name(),
                "resuming article"
            );
        }
        for (index, stage) in self.stages.iter().enumerate().skip(start) {
            // Recorded before the stage runs, so a stage that takes the daemon down with it (a
            // segfault in an in-process plugin) is known at the next start.
            let crashes = store.start_stage(file_id, item_index, index, stage.name())?;
            if crashes >= CRASHES_BEFORE_FAILING {
                let message = format!(
                    "stage `{}` crashed the daemon twice on this article (briefd died while it ran, \
                     both times); it is not tried a third time. If the stage is a plugin, run it \
                     with `isolation: process`, or report the file to its author",
                    stage.name()
                );
                tracing::error!(
                    file_id,
                    item_index,
                    stage = stage.name(),
                    crashes,
                    "article crashed the daemon; failing it"
                );
                let mut result = stage_result(
                    file_id,
                    item_index,
                    index,
                    stage.as_ref(),
                    0.0,
                    &Outcome::Fail { message: message.clone() },
                );
                result.detail = Some(message.clone());
                store.record_stage(&result)?;
                return Ok(Step::Finished(
                    Finished::Failed { stage: stage.name().to_string(), message },
                    timings,
                ));
            }
            // The merges the article already asked for were applied after the stage that set them.
            let merges_before = article.story_merges.clone();
            let began = Instant::now();
            let context = Budgeted { store, deadline: began + self.stage_budget, assignment };
            let mut outcomes = if may_split {
                run_stage_items(stage.as_ref(), article, &context)
            } else {
                vec![run_stage(stage.as_ref(), article, &context)]
            };
            let elapsed = began.elapsed();
            let millis = elapsed.as_secs_f64() * 1000.0;
            if elapsed > self.stage_budget {
                outcomes = vec![Outcome::Fail {
                    message: format!(
                        "stage {} took longer than {} s (stage_budget_seconds); the article is too \
                         big or too repetitive for it",
                        stage.name(),
                        self.stage_budget.as_secs_f64()
                    ),
                }];
            }
            timings.push((stage.name().to_string(), millis));
            if outcomes.len() > 1 {
                self.record_split(store, file_id, index, millis, outcomes)?;
                return Ok(Step::Split(timings));
            }
            let outcome = outcomes.pop().unwrap_or_else(|| Outcome::Fail {
                message: format!(
                    "internal: stage `{}` returned no article; this is a bug in the stage",
                    stage.name()
                ),
            });
            let mut result = stage_result(file_id, item_index, index, stage.as_ref(), millis, &outcome);
            match outcome {
                Outcome::Continue(mut next) => {
                    next.item_index = item_index;
                    // An article still carrying its raw bytes is not saved: resuming it means
                    // starting over, which keeps the bytes out of the database.
                    result.article = next.raw.is_none().then(|| next.clone());
                    record_continue(store, &result, &next, &merges_before)?;
                    article = next;
                }
                Outcome::Drop { reason } => {
                    result.detail = Some(reason.clone());
                    store.record_stage(&result)?;
                    return Ok(Step::Finished(
                        Finished::Dropped { stage: stage.name().to_string(), reason },
                        timings,
                    ));
                }
                Outcome::Fail { message } => {
                    result.detail = Some(message.clone());
                    store.record_stage(&result)?;
                    return Ok(Step::Finished(
                        Finished::Failed { stage: stage.name().to_string(), message },
                        timings,
                    ));
                }
            }
        }
        article.raw = None;
        Ok(Step::Finished(Finished::Done(article), timings))
    }

    /// Where an article starts: after its last recorded stage when that result still matches the
    /// configured stages, from the start otherwise; or already finished when a stage dropped or
    /// failed it.
    fn resume_point(&self, store: &Store, file_id: i64, article: Article) -> Result<Resume, StoreError> {
        let last = store.last_stage_result(file_id, article.item_index)?;
        let resumable = last
            .as_ref()
            .is_some_and(|last| self.stages.get(last.stage_index).is_some_and(|s| s.name() == last.stage));
        if last.is_some() && !resumable && article.raw.is_none() {
            // A split article exists only as its saved state; without a stage list that matches
            // it there is nothing to run it from.
            let message = "the configured stages changed while this file's articles were being processed; drop the file again".to_string();
            return Ok(Resume::Finished(Finished::Failed { stage: "pipeline".into(), message }));
        }
        Ok(match last.filter(|_| resumable) {
            Some(last) => match (last.outcome, last.article) {
                (StageOutcome::Continue, Some(saved)) => Resume::From(saved, last.stage_index + 1),
                (StageOutcome::Drop, _) => {
                    let reason = last.detail.unwrap_or_default();
                    Resume::Finished(Finished::Dropped { stage: last.stage, reason })
                }
                (StageOutcome::Fail, _) => {
                    let message = last.detail.unwrap_or_default();
                    Resume::Finished(Finished::Failed { stage: last.stage, message })
                }
                (StageOutcome::Continue, None) => Resume::From(article, 0),
            },
            None => Resume::From(article, 0),
        })
    }

    /// Records the articles a stage split a file into, numbered in order, in one transaction.
    fn record_split(
        &self,
        store: &Store,
        file_id: i64,
        stage_index: usize,
        millis: f64,
        outcomes: Vec<Outcome>,
    ) -> Result<(), StoreError> {
        let stage = self.stages[stage_index].as_ref();
        let n_items = outcomes.len();
        let results: Vec<StageResult> = outcomes
            .into_iter()
            .enumerate()
            .map(|(i, outcome)| {
                let item_index = u32::try_from(i).unwrap_or(u32::MAX);
                let mut result = stage_result(file_id, item_index, stage_index, stage, millis, &outcome);
                match outcome {
                    Outcome::Continue(mut next) => {
                        next.item_index = item_index;
                        // The file's bytes stay with the file; each article carries its own text.
                        next.raw = None;
                        result.article = Some(next);
                    }
                    Outcome::Drop { reason } => {
                        result.detail = Some(reason);
                    }
                    Outcome::Fail { message } => {
                        result.detail = Some(message);
                    }
                }
                result
            })
            .collect();
        store.record_stages(&results)?;
        tracing::info!(file_id, stage = stage.name(), n_items, "file split into articles");
        Ok(())
    }
}

/// One article of a file as it left the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Its position in the file (0 for a file holding one article).
    pub item_index: u32,
    /// How it ended.
    pub finished: Finished,
    /// The time each stage took for it (the splitting stage counts for the first article).
    pub timings: Timings,
}

/// Where running one article begins.
enum Resume {
    /// At this stage index, with this article.
    From(Article, usize),
    /// Nowhere: its recorded results already finish it.
    Finished(Finished),
}

/// Records a stage's result for an article it passed on, with the story merges the stage newly
/// asked for (`merges_before` are those asked for before it).
fn record_continue(
    store: &Store,
    result: &StageResult,
    next: &Article,
    merges_before: &[stage_api::StoryMerge],
) -> Result<(), StoreError> {
    if next.story_merges.is_empty() || next.story_merges == merges_before {
        return store.record_stage(result);
    }
    // Applied now, with the result, so the later stages (summaries, key points) already read
    // the merged story, and a restart finds both or neither. A merge stays even if a later stage
    // fails the article: the evidence was the article's text, which dedupe had already judged.
    for merge in store.record_stage_with_merges(result, next)? {
        tracing::info!(
            file_id = result.file_id,
            item_index = result.item_index,
            from_story = merge.from_story,
            into_story = merge.into_story,
            n_moved = merge.n_moved,
            reason = %merge.reason,
            "stories merged"
        );
    }
    Ok(())
}

/// Where running one article stopped.
enum Step {
    Finished(Finished, Timings),
    /// The article was split into several, now recorded; each is run on its own.
    Split(Timings),
}

fn stage_result(
    file_id: i64,
    item_index: u32,
    stage_index: usize,
    stage: &dyn Stage,
    millis: f64,
    outcome: &Outcome,
) -> StageResult {
    let outcome = match outcome {
        Outcome::Continue(_) => StageOutcome::Continue,
        Outcome::Drop { .. } => StageOutcome::Drop,
        Outcome::Fail { .. } => StageOutcome::Fail,
    };
    StageResult {
        file_id,
        item_index,
        stage_index,
        stage: stage.name().to_string(),
        outcome,
        millis,
        detail: None,
        article: None,
    }
}

/// The store as a stage sees it, with the time the stage's budget runs out; its first read of
/// the stories enters the story assignment.
struct Budgeted<'a, 's> {
    store: &'s Store,
    deadline: Instant,
    assignment: &'a Assignment<'s>,
}

impl<'s> Budgeted<'_, 's> {
    /// The store, once this article holds the story assignment.
    fn stories(&self) -> &'s Store {
        let mut held = self.assignment.borrow_mut();
        if held.is_none() {
            match self.store.lock_assignment() {
                Ok(guard) => *held = Some(guard),
                // The lookups degrade as they do when the store fails (a new story, at worst);
                // the commit takes the lock again itself.
                Err(e) => tracing::warn!(error = %e, "cannot enter the story assignment"),
            }
        }
        self.store
    }
}

impl Context for Budgeted<'_, '_> {
    fn stories_with_fingerprint(&self, kind: &str, value: &str) -> Vec<i64> {
        self.stories().stories_with_fingerprint(kind, value)
    }
    fn article_count(&self) -> u64 {
        self.stories().article_count()
    }
    fn key_counts(&self, kind: &str, values: Vec<String>) -> Vec<u64> {
        self.stories().key_counts(kind, values)
    }
    fn articles_with_keys(&self, kind: &str, values: Vec<String>, limit: usize) -> Vec<KeyHit> {
        self.stories().articles_with_keys(kind, values, limit)
    }
    fn story_articles(&self, story_id: i64, limit: usize) -> Vec<StoredArticle> {
        self.stories().story_articles(story_id, limit)
    }
    fn story_size(&self, story_id: i64) -> u64 {
        self.stories().story_size(story_id)
    }
    fn story_published(&self, story_id: i64) -> Vec<String> {
        self.stories().story_published(story_id)
    }
    fn past_budget(&self) -> bool {
        Instant::now() > self.deadline
    }
}

fn run_stage(stage: &dyn Stage, article: Article, context: &dyn Context) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| stage.process(article, context))) {
        Ok(outcome) => outcome,
        Err(panic) => panic_outcome(panic),
    }
}

fn run_stage_items(stage: &dyn Stage, article: Article, context: &dyn Context) -> Vec<Outcome> {
    match catch_unwind(AssertUnwindSafe(|| stage.process_items(article, context))) {
        Ok(outcomes) => outcomes,
        Err(panic) => vec![panic_outcome(panic)],
    }
}

fn panic_outcome(panic: Box<dyn std::any::Any + Send>) -> Outcome {
    Outcome::Fail { message: panic_message(panic) }
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the stage crashed (panic: {what}); this is a bug in the stage, please report it")
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

    /// Splits every article into three: two to pass on, one that fails.
    struct Splits;

    impl Stage for Splits {
        fn name(&self) -> &str {
            "splits"
        }
        fn process(&self, _: Article, _: &dyn Context) -> Outcome {
            Outcome::Fail { message: "only splits".into() }
        }
        fn process_items(&self, article: Article, _: &dyn Context) -> Vec<Outcome> {
            let item = |text: &str| Article { text: text.into(), ..article.clone() };
            vec![
                Outcome::Continue(item("first")),
                Outcome::Fail { message: "no text in the second".into() },
                Outcome::Continue(item("third")),
            ]
        }
    }

    fn raw_article() -> Article {
        Article { file_name: "list.json".into(), raw: Some(b"[...]".to_vec()), ..Default::default() }
    }

    #[test]
    fn a_split_file_runs_the_later_stages_per_article_in_order() {
        let (_d, store) = store();
        let file = store.accept_file(b"p", b"list.json", "h", 1).unwrap();
        let counting = Box::new(Counting("after", AtomicUsize::new(0)));
        let pipeline = Pipeline::new(vec![Box::new(Splits), counting]);
        let mut seen = Vec::new();
        pipeline
            .run_file(&store, file.id, raw_article(), |item| -> Result<(), StoreError> {
                if let Finished::Done(article) = &item.finished {
                    assert_eq!(article.item_index, item.item_index);
                    assert!(article.raw.is_none(), "split articles do not carry the file's bytes");
                    store.commit_item(file.id, article, "2025-07-13")?;
                }
                seen.push((item.item_index, item.finished));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen.len(), 3);
        assert!(matches!(&seen[0], (0, Finished::Done(a)) if a.text == "first" && a.tags == ["after"]));
        assert!(matches!(&seen[1], (1, Finished::Failed { message, .. }) if message.contains("second")));
        assert!(matches!(&seen[2], (2, Finished::Done(a)) if a.text == "third"));
        assert_eq!(store.file_stories(file.id).unwrap().len(), 2);
    }

    /// Issue 20: a stage that started on an article twice without finishing (the daemon died
    /// in it both times; here the two starts are recorded as those runs would have) is not run a
    /// third time: the article fails, saying why; after one such death it still runs.
    #[test]
    fn a_stage_that_crashed_the_daemon_twice_on_an_article_is_not_run_again() {
        let (_d, store) = store();
        for earlier_deaths in [1, 2] {
            let name = format!("f{earlier_deaths}");
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), &name, 1).unwrap();
            for _ in 0..earlier_deaths {
                store.start_stage(file.id, 0, 1, "fragile").unwrap();
            }
            let first = Box::new(Counting("first", AtomicUsize::new(0)));
            let fragile = Box::new(Counting("fragile", AtomicUsize::new(0)));
            let pipeline = Pipeline::new(vec![first, fragile]);
            let article = Article { file_name: name.clone(), raw: Some(b"x".to_vec()), ..Default::default() };
            let (finished, _) = pipeline.run(&store, file.id, article).unwrap();
            match (earlier_deaths, finished) {
                (1, Finished::Done(article)) => assert_eq!(article.tags, ["first", "fragile"]),
                (2, Finished::Failed { stage, message }) => {
                    assert_eq!(stage, "fragile");
                    assert!(
                        message.starts_with("stage `fragile` crashed the daemon twice on this article"),
                        "{message}"
                    );
                    let last = store.last_stage_result(file.id, 0).unwrap().unwrap();
                    assert_eq!((last.stage_index, last.outcome), (1, StageOutcome::Fail), "recorded");
                }
                other => panic!("after {earlier_deaths} deaths: {other:?}"),
            }
        }
    }

    /// A crash after the first article is committed: the restart runs only what is left, and
    /// commits nothing twice.
    #[test]
    fn a_restart_mid_file_neither_loses_nor_repeats_an_article() {
        let (_d, store) = store();
        let file = store.accept_file(b"p", b"list.json", "h", 1).unwrap();
        let pipeline =
            Pipeline::new(vec![Box::new(Splits), Box::new(Counting("after", AtomicUsize::new(0)))]);
        let crash = pipeline.run_file(&store, file.id, raw_article(), |item| -> Result<(), Crash> {
            if let Finished::Done(article) = &item.finished {
                store.commit_item(file.id, article, "2025-07-13")?;
            }
            // The process dies right after the first article is committed.
            Err(Crash::Now)
        });
        assert!(matches!(crash, Err(Crash::Now)));

        let after = Box::new(Counting("after", AtomicUsize::new(0)));
        let pipeline = Pipeline::new(vec![Box::new(Splits), after]);
        let mut seen = Vec::new();
        pipeline
            .run_file(&store, file.id, raw_article(), |item| -> Result<(), StoreError> {
                if let Finished::Done(article) = &item.finished {
                    store.commit_item(file.id, article, "2025-07-13")?;
                }
                seen.push(item.item_index);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [1, 2], "the committed first article is not run again");
        assert_eq!(store.file_stories(file.id).unwrap().len(), 2, "each article committed once");
        assert_eq!(store.file_items(file.id).unwrap(), [0, 1, 2]);
    }

    #[derive(Debug)]
    enum Crash {
        Now,
        Store,
    }

    impl From<StoreError> for Crash {
        fn from(_: StoreError) -> Self {
            Crash::Store
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    /// Joins story `.0` and asks for story `.1` to be merged into it.
    struct Merges(i64, i64);

    impl Stage for Merges {
        fn name(&self) -> &str {
            "merges"
        }
        fn process(&self, mut article: Article, _: &dyn Context) -> Outcome {
            article.raw = None;
            article.story =
                Some(stage_api::StoryMatch { story_id: self.0, reason: "test".into(), score: 1.0 });
            article.story_merges =
                vec![stage_api::StoryMerge { story_id: self.1, reason: "bridged".into(), score: 0.5 }];
            Outcome::Continue(article)
        }
    }

    /// Tags the article with the size of the story it joins, as the next stage sees it.
    struct StorySize;

    impl Stage for StorySize {
        fn name(&self) -> &str {
            "story-size"
        }
        fn process(&self, mut article: Article, context: &dyn Context) -> Outcome {
            let size = article.story.as_ref().map_or(0, |s| context.story_size(s.story_id));
            article.tags.push(format!("size:{size}"));
            Outcome::Continue(article)
        }
    }

    #[test]
    fn merges_a_stage_asks_for_are_applied_before_the_next_stage() {
        let (_d, store) = store();
        let mut stories = Vec::new();
        for name in ["a", "b"] {
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
            let article = Article { text: name.into(), ..Default::default() };
            stories.push(store.commit_item(file.id, &article, "2025-07-13").unwrap());
        }
        let file = store.accept_file(b"c", b"c", "c", 1).unwrap();
        let pipeline = Pipeline::new(vec![Box::new(Merges(stories[0], stories[1])), Box::new(StorySize)]);
        let (finished, _) = pipeline.run(&store, file.id, Article::default()).unwrap();
        let Finished::Done(article) = finished else { panic!("not done: {finished:?}") };
        assert_eq!(article.tags, ["size:2"], "the later stage sees both stories' articles as one");
        let merges = store.story_merges(stories[0]).unwrap();
        assert_eq!(merges.len(), 1);
        assert_eq!((merges[0].from_story, merges[0].reason.as_str()), (stories[1], "bridged"));
    }

    /// Tags a story with how many independent sources it has; counts its calls.
    struct CountsSources(AtomicUsize);

    impl StoryStage for CountsSources {
        fn name(&self) -> &str {
            "counts"
        }
        fn process_story(&self, story: stage_api::Story, _: &dyn Context) -> StoryOutcome {
            self.0.fetch_add(1, Ordering::SeqCst);
            let tag = format!("independent:{}", story.independent().count());
            StoryOutcome::Set(StoryFields { tags: Some(vec![tag]), ..StoryFields::default() })
        }
    }

    /// Fails or panics, by the story's size.
    struct Breaks;

    impl StoryStage for Breaks {
        fn name(&self) -> &str {
            "breaks"
        }
        fn process_story(&self, story: stage_api::Story, _: &dyn Context) -> StoryOutcome {
            if story.sources.len() > 1 {
                panic!("two sources")
            }
            StoryOutcome::Fail { message: "one source".into() }
        }
    }

    /// A commit queues its story; the story stages run over it in order and their fields are
    /// stored; a story stage's failure or panic is recorded with the story and costs nothing
    /// else; a kill before the stages ran (the queue survives reopening) runs them at the next
    /// start, once.
    #[test]
    fn story_stages_run_after_each_commit_and_after_a_kill() {
        let (dir, store) = store();
        let counts = CountsSources(AtomicUsize::new(0));
        let commit = |store: &Store, name: &str, story: Option<i64>, reprint_of: Option<i64>| {
            let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
            let mut article = Article { text: name.into(), ..Default::default() };
            article.story =
                story.map(|story_id| stage_api::StoryMatch { story_id, reason: "t".into(), score: 1.0 });
            if let Some(of) = reprint_of {
                article.metadata.insert("dedupe.reprint_of".into(), of.to_string());
            }
            store.commit_item(file.id, &article, "2025-07-13").unwrap()
        };
        let a = commit(&store, "a1", None, None);
        let pipeline = Pipeline::new(Vec::new())
            .with_story_stages(vec![Box::new(Breaks), Box::new(CountsSources(AtomicUsize::new(0)))]);
        assert_eq!(pipeline.run_story_stages(&store).unwrap(), 1);
        assert_eq!(pipeline.run_story_stages(&store).unwrap(), 0, "nothing left queued");
        let tags = |store: &Store| store.story_fields(a).unwrap().and_then(|f| f.tags);
        assert_eq!(tags(&store), Some(vec!["independent:1".to_string()]));
        let outcomes = store.story_stage_outcomes(a).unwrap();
        assert_eq!(
            (outcomes[0].outcome, outcomes[0].detail.as_deref()),
            (StageOutcome::Fail, Some("one source"))
        );

        // Killed after the commit, before the stages ran: the next start runs them once.
        commit(&store, "a2", Some(a), Some(1));
        commit(&store, "a3", Some(a), None);
        drop(store);
        let store = Store::open(&dir.path().join("db")).unwrap();
        let pipeline = Pipeline::new(Vec::new()).with_story_stages(vec![Box::new(Breaks), Box::new(counts)]);
        assert_eq!(pipeline.run_story_stages(&store).unwrap(), 1);
        assert_eq!(tags(&store), Some(vec!["independent:2".to_string()]), "the reprint is not counted");
        let outcomes = store.story_stage_outcomes(a).unwrap();
        assert!(
            outcomes[0].detail.as_deref().is_some_and(|m| m.contains("panic: two sources")),
            "{outcomes:?}"
        );
        // A pipeline without story stages empties the queue.
        commit(&store, "b1", None, None);
        assert_eq!(Pipeline::new(Vec::new()).run_story_stages(&store).unwrap(), 0);
        assert_eq!(store.next_story_for_stages().unwrap(), None);
    }

    #[test]
    fn a_panicking_stage_fails_the_article_only() {
        let (_d, store) = store();
        let file = store.accept_file(b"p", b"a", "h", 1).unwrap();
        let pipeline = Pipeline::new(vec![Box::new(Panics)]);
        let (finished, _) = pipeline.run(&store, file.id, Article::default()).unwrap();
        assert!(
            matches!(finished, Finished::Failed { ref message, .. } if message.contains("boom")),
            "{finished:?}"
        );
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
