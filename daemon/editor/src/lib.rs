//! The editor: model-written summaries of stories, made off the article path.
//!
//! The article path (clean, dedupe, the extractive summary, key points) never waits for the
//! model. Each change to a story (an article joining, a merge) bumps the story's revision and
//! queues it in the store, in the transaction that changes it (`Store::queue_model_summaries`).
//! The editor owns the model and works through that queue on its own thread: the story with the
//! most independent sources first, then the most recently changed. For a story it reads the
//! revision and the newest sources together, writes the summary from those owned articles
//! ([`Writer`], `summarize::Summarize::story_summary`: the same prompt, guard and story text as
//! ever), and commits it with the revision it read (`Store::commit_story_summary`, one
//! transaction).
//!
//! **Invariants:**
//! - a summary is only ever committed for the revision its sources were read at; a story that
//!   changed meanwhile keeps its place in the queue and the draft is discarded, so the briefing
//!   never shows a summary of fewer sources than the story has;
//! - a source joining during generation cancels it: between two tokens the editor compares the
//!   store's change counter (`Store::epoch`, one atomic load) with the one it saw, and only when
//!   it moved looks the story's revision up (and, for the changes other daemons on one
//!   PostgreSQL database make, which move no counter here, at least every
//!   [`OTHERS_CHANGES_POLL`]);
//! - with several daemons, each editor takes its story for itself under its daemon's lease
//!   (`Store::next_stale_story`): two never write one story at once, and a dead daemon's story
//!   returns to the queue when its lease lapses;
//! - a rejected draft is recorded with its reason for that revision, and the extractive summary
//!   stays shown; it is not retried until the story changes;
//! - the queue lives in the store, so a kill loses none of it, and a summary is written in one
//!   transaction or not at all; a restart resumes with the queue's first story;
//! - stopping cancels the generation in hand at the next token;
//! - the article path goes first: while it has files in hand ([`Editor::yield_to`]) the editor
//!   starts no story and pauses the generation in hand between tokens (or prompt passes), so a
//!   burst of files does not share the cores with the model.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use config::{Config, StageConfig};
use stage_api::Article;
use store::{Store, StoreError, Written};
use summarize::{Cancel, Cancelled, Method, Summarize};
use tracing::{info, warn};

/// How often an idle editor looks at the store's change counter.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How often a paused editor looks whether the article path is done.
const GIVE_WAY_POLL: Duration = Duration::from_millis(20);
/// How long the editor waits after the store failed before trying again.
const RETRY: Duration = Duration::from_secs(1);
/// How often the editor looks for changes no counter of this process shows: other daemons'
/// commits on a shared PostgreSQL database (queued stories, a source joining its story).
pub const OTHERS_CHANGES_POLL: Duration = Duration::from_secs(1);

/// Writes a story's summary from its sources (newest first).
pub trait Writer {
    /// What the model made of the story, or `Err(Cancelled)` when `cancel` said stop.
    fn write(&self, sources: &[Article], cancel: Cancel<'_>) -> Result<Draft, Cancelled>;
}

/// A finished draft and its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The summary the guard passed, or why there is none.
    pub written: Written,
    /// Sources the text it was written from covers.
    pub n_sources: usize,
    /// The model's tokens and times, when it ran.
    pub run: Option<store::ModelRun>,
}

impl Writer for Summarize {
    fn write(&self, sources: &[Article], cancel: Cancel<'_>) -> Result<Draft, Cancelled> {
        let story = self.story_summary(sources, Some(cancel))?;
        let summary = story.summary;
        let written = if summary.method == Method::Model {
            for claim in &summary.dropped {
                tracing::info!(reason = %claim, "a sentence of the model's summary left out");
            }
            Written::Summary(summary.text)
        } else if let Some(rejection) = &summary.rejection {
            Written::Rejected(rejection.to_string())
        } else if let Some(error) = &summary.model_error {
            Written::Rejected(format!("model unavailable: {error}"))
        } else {
            // No draft at all: the sources hold no text once instructions are left out.
            Written::Rejected("nothing to summarise".into())
        };
        let run = summary.generation.as_ref().map(|g| store::ModelRun {
            prompt_tokens: g.prompt_tokens as u64,
            prompt_seconds: g.prompt_seconds,
            // The generation time starts after the first token.
            generated_tokens: g.ids.len().saturating_sub(1) as u64,
            generate_seconds: g.generate_seconds,
        });
        Ok(Draft { written, n_sources: story.n_sources, run })
    }
}

/// What one step of the editor did.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The queue is empty.
    Idle,
    /// A summary (or a rejection) was committed for the story's revision.
    Wrote {
        /// The story.
        story_id: i64,
        /// The revision written for.
        revision: i64,
        /// Whether the guard passed the draft.
        accepted: bool,
        /// The days whose briefings show the story.
        days: Vec<String>,
    },
    /// The story changed while its summary was written: the draft was dropped (or its
    /// generation cancelled) and the story stays queued.
    Superseded {
        /// The story.
        story_id: i64,
        /// The revision that was being written.
        revision: i64,
    },
    /// Stopping was asked for; nothing was written.
    Stopped,
}

/// The editor the daemon runs: the summarize stage's model.
pub type ModelEditor = Editor<Summarize>;

/// The editor over a store, with a writer.
pub struct Editor<W> {
    store: Arc<Store>,
    writer: W,
    /// Files the article path has in hand; the editor waits while there are any.
    articles_waiting: Option<Arc<AtomicUsize>>,
}

impl Editor<Summarize> {
    /// The editor `config` asks for: one when its summarize stage has `method: model`, with the
    /// model loaded now (once). The store starts queueing the stories that change.
    pub fn for_config(config: &Config, store: Arc<Store>) -> Option<Editor<Summarize>> {
        let options = config.stages.iter().find_map(|stage| match stage {
            StageConfig::Summarize(o) if o.method == Method::Model => Some(o.clone()),
            _ => None,
        })?;
        Some(Editor::new(store, Summarize::load(options)))
    }
}

impl<W: Writer> Editor<W> {
    /// An editor writing with `writer`; the store queues changed stories from now on.
    pub fn new(store: Arc<Store>, writer: W) -> Editor<W> {
        store.queue_model_summaries(true);
        Editor { store, writer, articles_waiting: None }
    }

    /// Makes the editor give way to the article path: while `files_in_hand` (kept by the daemon:
    /// files claimed and not yet finished) is above zero, no story is started and the
    /// generation in hand pauses at its next token or prompt pass.
    pub fn yield_to(mut self, files_in_hand: Arc<AtomicUsize>) -> Editor<W> {
        self.articles_waiting = Some(files_in_hand);
        self
    }

    fn articles_waiting(&self) -> bool {
        articles_waiting(self.articles_waiting.as_deref())
    }

    /// Takes the queue's first story, writes its summary and commits it (see [`Step`]).
    pub fn step(&self, stop: &AtomicBool) -> Result<Step, StoreError> {
        if stop.load(Ordering::SeqCst) {
            return Ok(Step::Stopped);
        }
        let seen = AtomicU64::new(self.store.epoch());
        let Some(stale) = self.store.next_stale_story(summarize::MAX_STORY_SOURCES)? else {
            return Ok(Step::Idle);
        };
        let (story_id, revision) = (stale.story_id, stale.revision);
        let changed = AtomicBool::new(false);
        let store: &Store = &self.store;
        let looked = std::sync::Mutex::new(Instant::now());
        let paused = std::sync::Mutex::new(Duration::ZERO);
        let files_in_hand = self.articles_waiting.as_deref();
        let cancel = || {
            let waited = give_way(files_in_hand, stop);
            if !waited.is_zero() {
                *paused.lock().unwrap_or_else(|e| e.into_inner()) += waited;
            }
            if stop.load(Ordering::SeqCst) {
                return true;
            }
            let now = store.epoch();
            let mut looked = looked.lock().unwrap_or_else(|e| e.into_inner());
            if seen.swap(now, Ordering::SeqCst) == now && looked.elapsed() < OTHERS_CHANGES_POLL {
                return changed.load(Ordering::SeqCst);
            }
            *looked = Instant::now();
            // Some story changed; a failed look-up lets the draft finish, and the commit checks
            // the revision again anyway.
            let moved = store.story_revision(story_id).is_ok_and(|r| r != Some(revision));
            changed.fetch_or(moved, Ordering::SeqCst) || moved
        };
        info!(story_id, revision, sources = stale.sources.len(), "writing the story's summary");
        let started = Instant::now();
        let sources: Vec<Article> = stale.sources.into_iter().map(|s| s.article).collect();
        let draft = match self.writer.write(&sources, &cancel) {
            Ok(draft) => draft,
            Err(Cancelled) if stop.load(Ordering::SeqCst) => {
                info!(story_id, revision, "stopping; the story stays queued");
                return Ok(Step::Stopped);
            }
            Err(Cancelled) => {
                info!(story_id, revision, "a source joined during generation; the story stays queued");
                return Ok(Step::Superseded { story_id, revision });
            }
        };
        let paused = paused.into_inner().unwrap_or_else(|e| e.into_inner());
        if !paused.is_zero() {
            info!(story_id, paused_seconds = paused.as_secs_f64(), "the model gave way to the article path");
        }
        if let Some(run) = &draft.run {
            self.store.record_model_run(run)?;
        }
        if !self.store.commit_story_summary(story_id, revision, &draft.written, draft.n_sources)? {
            info!(story_id, revision, "the story changed while its summary was written; draft dropped");
            return Ok(Step::Superseded { story_id, revision });
        }
        let accepted = matches!(draft.written, Written::Summary(_));
        match &draft.written {
            Written::Summary(_) => info!(
                story_id,
                revision,
                sources = draft.n_sources,
                seconds = started.elapsed().as_secs_f64(),
                "model summary written"
            ),
            Written::Rejected(reason) => warn!(
                story_id,
                revision,
                reason = reason.as_str(),
                seconds = started.elapsed().as_secs_f64(),
                "model summary rejected; the extractive summary stays"
            ),
        }
        let days = self.store.story_days(story_id)?;
        Ok(Step::Wrote { story_id, revision, accepted, days })
    }

    /// Works through the queue until `stop` is set, waiting for changes when it is empty;
    /// `on_write` gets the days of each story written (their briefings are due).
    pub fn run(&self, stop: &AtomicBool, mut on_write: impl FnMut(&[String])) {
        // The store's change counter when the queue was last found empty: until it moves, there
        // is nothing to look for.
        let mut idle_at: Option<(u64, Instant)> = None;
        while !stop.load(Ordering::SeqCst) {
            if self.articles_waiting() {
                std::thread::sleep(GIVE_WAY_POLL);
                continue;
            }
            if let Some((epoch, since)) = idle_at {
                if self.store.epoch() == epoch && since.elapsed() < OTHERS_CHANGES_POLL {
                    std::thread::sleep(IDLE_POLL);
                    continue;
                }
                idle_at = None;
            }
            // Read before the queue is, so a change that lands in between is not missed.
            let epoch = self.store.epoch();
            match self.step(stop) {
                Ok(Step::Idle) => idle_at = Some((epoch, Instant::now())),
                Ok(Step::Wrote { days, .. }) => on_write(&days),
                Ok(Step::Superseded { .. }) => {}
                Ok(Step::Stopped) => return,
                Err(e) => {
                    warn!(error = %e, retry_seconds = RETRY.as_secs_f64(), "the store failed; will retry");
                    sleep_unless(RETRY, stop);
                }
            }
        }
    }

    /// Writes every queued story, then returns how many were written (for `briefd ingest`,
    /// which exits when done); stops early when `stop` is set.
    pub fn drain(&self, stop: &AtomicBool, mut on_write: impl FnMut(&[String])) -> Result<usize, StoreError> {
        let mut written = 0;
        loop {
            match self.step(stop)? {
                Step::Idle | Step::Stopped => return Ok(written),
                Step::Wrote { days, .. } => {
                    written += 1;
                    on_write(&days);
                }
                Step::Superseded { .. } => {}
            }
        }
    }
}

/// Sleeps for `wait` in short steps, returning early once `stop` is set.
fn articles_waiting(files_in_hand: Option<&AtomicUsize>) -> bool {
    files_in_hand.is_some_and(|n| n.load(Ordering::SeqCst) > 0)
}

/// Waits while the article path has files in hand (or until `stop`); the time waited.
fn give_way(files_in_hand: Option<&AtomicUsize>, stop: &AtomicBool) -> Duration {
    if !articles_waiting(files_in_hand) {
        return Duration::ZERO;
    }
    let started = Instant::now();
    while articles_waiting(files_in_hand) && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(GIVE_WAY_POLL);
    }
    started.elapsed()
}

fn sleep_unless(wait: Duration, stop: &AtomicBool) {
    let until = Instant::now() + wait;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use stage_api::StoryMatch;

    use super::*;

    /// A writer that summarises by joining the sources' texts, after running `during` (a change
    /// to the store, say) and asking `cancel` once.
    struct Joiner<'a> {
        during: Box<dyn Fn() + 'a>,
        calls: Cell<usize>,
    }

    impl Writer for Joiner<'_> {
        fn write(&self, sources: &[Article], cancel: Cancel<'_>) -> Result<Draft, Cancelled> {
            self.calls.set(self.calls.get() + 1);
            (self.during)();
            if cancel() {
                return Err(Cancelled);
            }
            let text: Vec<&str> = sources.iter().map(|a| a.text.as_str()).collect();
            Ok(Draft { written: Written::Summary(text.join(" + ")), n_sources: sources.len(), run: None })
        }
    }

    /// A writer that summarises by joining the sources' texts, and can be shared between threads.
    struct Echo;

    impl Writer for Echo {
        fn write(&self, sources: &[Article], _cancel: Cancel<'_>) -> Result<Draft, Cancelled> {
            let text: Vec<&str> = sources.iter().map(|a| a.text.as_str()).collect();
            Ok(Draft { written: Written::Summary(text.join(" + ")), n_sources: sources.len(), run: None })
        }
    }

    fn open() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("briefd.db")).expect("open");
        (dir, Arc::new(store))
    }

    fn commit(store: &Store, name: &str, story: Option<i64>) -> i64 {
        let file = store.accept_file(name.as_bytes(), name.as_bytes(), name, 1).unwrap();
        let mut article = Article { text: name.into(), ..Default::default() };
        article.story = story.map(|story_id| StoryMatch { story_id, reason: "test".into(), score: 1.0 });
        store.commit_item(file.id, &article, "2026-12-01").unwrap()
    }

    fn shown(store: &Store) -> Vec<Option<String>> {
        store.stories_for_day("2026-12-01").unwrap().into_iter().map(|s| s.model_summary).collect()
    }

    #[test]
    fn writes_each_queued_story_once_for_its_revision() {
        let (_dir, store) = open();
        let editor = Editor::new(store.clone(), Joiner { during: Box::new(|| {}), calls: Cell::new(0) });
        let a = commit(&store, "a1", None);
        commit(&store, "a2", Some(a));
        let b = commit(&store, "b1", None);
        let stop = AtomicBool::new(false);
        let step = editor.step(&stop).unwrap();
        assert_eq!(
            step,
            Step::Wrote { story_id: a, revision: 2, accepted: true, days: vec!["2026-12-01".into()] }
        );
        assert!(matches!(editor.step(&stop).unwrap(), Step::Wrote { story_id, .. } if story_id == b));
        assert_eq!(editor.step(&stop).unwrap(), Step::Idle);
        assert_eq!(shown(&store), [Some("a2 + a1".to_string()), Some("b1".to_string())]);
        assert_eq!(editor.writer.calls.get(), 2);
    }

    #[test]
    fn a_source_joining_during_generation_supersedes_the_draft() {
        let (_dir, store) = open();
        let a = commit(&store, "a1", None);
        let joined = Cell::new(false);
        let during = {
            let store = store.clone();
            let joined = &joined;
            move || {
                if !joined.replace(true) {
                    commit(&store, "a2", Some(a));
                }
            }
        };
        let editor = Editor::new(store.clone(), Joiner { during: Box::new(during), calls: Cell::new(0) });
        // Queued now that the editor exists: a1 was committed before it, so touch the story.
        commit(&store, "a0", Some(a));
        let stop = AtomicBool::new(false);
        assert_eq!(editor.step(&stop).unwrap(), Step::Superseded { story_id: a, revision: 2 });
        assert_eq!(shown(&store), [None], "nothing written for the old revision");
        assert_eq!(store.status(1).unwrap().queued_summaries, 1, "still queued");
        assert!(matches!(editor.step(&stop).unwrap(), Step::Wrote { revision: 3, .. }));
        assert_eq!(shown(&store), [Some("a2 + a0 + a1".to_string())]);
    }

    #[test]
    fn a_change_to_another_story_does_not_cancel() {
        let (_dir, store) = open();
        let b = commit(&store, "b1", None);
        let during = {
            let store = store.clone();
            move || {
                commit(&store, "b-more", Some(b));
            }
        };
        let editor = Editor::new(store.clone(), Joiner { during: Box::new(during), calls: Cell::new(0) });
        let a = commit(&store, "a1", None);
        let stop = AtomicBool::new(false);
        assert!(matches!(editor.step(&stop).unwrap(), Step::Wrote { story_id, .. } if story_id == a));
    }

    #[test]
    fn stopping_cancels_and_leaves_the_story_queued() {
        let (_dir, store) = open();
        let stop = Arc::new(AtomicBool::new(false));
        let during = {
            let stop = stop.clone();
            move || stop.store(true, Ordering::SeqCst)
        };
        let editor = Editor::new(store.clone(), Joiner { during: Box::new(during), calls: Cell::new(0) });
        commit(&store, "a1", None);
        assert_eq!(editor.step(&stop).unwrap(), Step::Stopped);
        assert_eq!(shown(&store), [None]);
        assert_eq!(store.status(1).unwrap().queued_summaries, 1);
    }

    #[test]
    fn the_model_gives_way_while_the_article_path_has_files() {
        let (_dir, store) = open();
        let files_in_hand = Arc::new(AtomicUsize::new(1));
        // The article path finishes its file 300 ms after the generation has begun.
        let during = {
            let files_in_hand = files_in_hand.clone();
            move || {
                let files_in_hand = files_in_hand.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(300));
                    files_in_hand.store(0, Ordering::SeqCst);
                });
            }
        };
        let editor = Editor::new(store.clone(), Joiner { during: Box::new(during), calls: Cell::new(0) })
            .yield_to(files_in_hand.clone());
        let a = commit(&store, "a1", None);
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        assert!(matches!(editor.step(&stop).unwrap(), Step::Wrote { story_id, .. } if story_id == a));
        assert!(started.elapsed() >= Duration::from_millis(300), "the writer's cancel check waited");
        assert_eq!(files_in_hand.load(Ordering::SeqCst), 0);

        // With files in hand, `run` starts no story; stopping still works.
        files_in_hand.store(1, Ordering::SeqCst);
        commit(&store, "a2", Some(a));
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                stop.store(true, Ordering::SeqCst);
            });
            editor.run(&stop, |_| {});
        });
        assert_eq!(editor.writer.calls.get(), 1, "no story started while files were in hand");
        assert_eq!(store.status(1).unwrap().queued_summaries, 1);
    }

    #[test]
    fn run_writes_what_is_queued_later_and_stops_when_asked() {
        let (_dir, store) = open();
        let editor = Editor::new(store.clone(), Echo);
        let stop = AtomicBool::new(false);
        let written = std::sync::Mutex::new(0);
        std::thread::scope(|scope| {
            scope.spawn(|| editor.run(&stop, |_| *written.lock().unwrap() += 1));
            // Queued while the editor idles: the change counter wakes it.
            std::thread::sleep(Duration::from_millis(250));
            commit(&store, "late", None);
            let deadline = Instant::now() + Duration::from_secs(20);
            while *written.lock().unwrap() == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            stop.store(true, Ordering::SeqCst);
        });
        assert_eq!(*written.lock().unwrap(), 1);
        assert_eq!(shown(&store), [Some("late".to_string())]);
    }

    #[test]
    fn drain_empties_the_queue() {
        let (_dir, store) = open();
        let editor = Editor::new(store.clone(), Joiner { during: Box::new(|| {}), calls: Cell::new(0) });
        for name in ["a", "b", "c"] {
            commit(&store, name, None);
        }
        let mut days = 0;
        assert_eq!(editor.drain(&AtomicBool::new(false), |d| days += d.len()).unwrap(), 3);
        assert_eq!(days, 3);
        assert_eq!(store.status(1).unwrap().queued_summaries, 0);
    }
}
