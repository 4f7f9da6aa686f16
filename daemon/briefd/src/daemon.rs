//! The long-running service.
//!
//! Three parts, joined by bounded hand-offs:
//! - the **intake** task watches the inbox (notify events, a poll of files still settling, a
//!   rescan at start and every `rescan_interval`), claims each complete file by renaming it into
//!   the processing folder, and queues it; when the queue is full it waits, and files simply stay
//!   in the inbox (backpressure, bounded memory under any burst);
//! - the **pipeline** thread takes queued files one at a time (so story assignment is
//!   deterministic; stages parallelise inside themselves) and runs the [`Worker`];
//! - the **publisher** task rewrites a day's briefing after changes settle for the debounce time;
//! - with `method: model`, the **editor** thread (`editor::Editor`) owns the model and writes the
//!   stories' model summaries from the store's queue, off the article path; each one it commits
//!   marks its days for the publisher.
//!
//! On shutdown the intake stops taking files, the editor cancels the generation in hand (its
//! story stays queued), the pipeline finishes the article in hand (or leaves it, recorded, for
//! the next start once `shutdown_timeout` passes), and the briefing is flushed.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use config::Config;
use inbox::settle::Tracker;
use inbox::Claimed;
use pipeline::Pipeline;
use store::Store;
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use crate::lock::StateLock;
use crate::publish::{self, Dirty};
use crate::worker::Worker;
use std::path::Path;

/// How long a stopping daemon lets the HTTP server finish the requests in hand.
const SERVER_DRAIN: Duration = Duration::from_secs(5);

/// How often files that are still settling are looked at again.
const SETTLE_POLL: Duration = Duration::from_millis(200);

/// Runs the daemon until `shutdown` completes; returns once the state is safe to leave.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    run_with_reloads(config, shutdown, None).await
}

/// [`run`], reloading the config each time `reloads` yields (`briefd run` sends one per SIGHUP):
/// the file is read and checked again and, if it is valid and its stages start, they replace the
/// running ones from the next file on; otherwise the running config stays and the problem is
/// logged. Folders, inbox and briefing settings and the editor's model are read at start only.
pub async fn run_with_reloads(
    config: Config,
    shutdown: impl Future<Output = ()>,
    mut reloads: Option<mpsc::Receiver<()>>,
) -> anyhow::Result<()> {
    // First, so that a plugin that cannot start leaves nothing behind.
    let pipeline = Pipeline::build(&config)?;
    let config = Arc::new(config);
    let (_lock, store, worker) = open(&config, pipeline)?;
    // Bound before anything starts, so an address in use stops the start with its reason; the
    // store exists by now (`open` made and migrated it) for the server's read-only connection.
    let server = match config.serve {
        Some(serve) => Some(crate::serve::bind((*config).clone(), serve.listen, serve.public).await?),
        None => None,
    };
    // The model loads here, once (seconds); the store queues changed stories from now on.
    let editor = editor::Editor::for_config(&config, store.clone());
    if editor.is_some() {
        let queued = store.status(0).map(|s| s.queued_summaries).unwrap_or_default();
        info!(queued, "editor started: stories awaiting a model summary resume");
    }
    let running = Running::start(config, store, worker, editor)?;
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server.map(|server| {
        tokio::spawn(server.run(async move {
            let _ = server_stopped.await;
        }))
    });
    crate::notify::ready();
    let watchdog = crate::notify::watchdog_interval().map(|every| {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                crate::notify::watchdog();
            }
        })
    });
    tokio::pin!(shutdown);
    loop {
        let reload = async {
            match reloads.as_mut() {
                Some(r) => r.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            Some(()) = reload => running.reload(),
            else => break,
        }
    }
    crate::notify::stopping();
    // The server first: it takes no new request, and the ones in hand finish (bounded, so a
    // client that keeps its connection open cannot hold the daemon up).
    let _ = stop_server.send(());
    if let Some(server) = server {
        match tokio::time::timeout(SERVER_DRAIN, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => error!(error = format!("{e:#}"), "the HTTP server failed"),
            Ok(Err(e)) => error!(error = %e, "the HTTP server task ended abnormally"),
            Err(_) => {
                warn!(seconds = SERVER_DRAIN.as_secs(), "requests still in hand at shutdown were dropped")
            }
        }
    }
    running.stop().await;
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    info!("briefd stopped");
    Ok(())
}

/// Makes the folders, takes the locks (held as long as the returned guards live), opens the
/// store and repairs what a previous run left half done.
fn open(config: &Arc<Config>, pipeline: Pipeline) -> anyhow::Result<(Locks, Arc<Store>, Worker)> {
    let paths = &config.paths;
    let (locks, store) = open_state(config)?;
    let stages: Vec<String> = pipeline.stage_names().into_iter().map(str::to_string).collect();
    let worker = Worker::new(config.clone(), store.clone(), pipeline);
    let repaired = worker.recover()?;
    info!(
        inbox = %paths.inbox.display(),
        database = %crate::location(&paths.database).display(),
        ?stages,
        repaired,
        "briefd started"
    );
    Ok((locks, store, worker))
}

/// The two locks a process working on a config holds: its database's and its inbox's. A
/// PostgreSQL database's lock is held by the store's connection instead (`Store::lock_for_daemon`).
pub struct Locks {
    _state: Option<StateLock>,
    _inbox: StateLock,
}

/// What `run` and `ingest` both do first: make the folders (each must be a real folder, not a
/// link), take the database's lock and then the inbox's, clear the temporary files a kill left
/// behind, and open the store (an existing database that is empty or damaged is refused).
pub fn open_state(config: &Config) -> anyhow::Result<(Locks, Arc<Store>)> {
    let paths = &config.paths;
    std::fs::create_dir_all(&paths.inbox).with_context(|| format!("creating {}", paths.inbox.display()))?;
    let state_dir = paths.database.file().and_then(Path::parent).filter(|d| !d.as_os_str().is_empty());
    for dir in [Some(paths.processing()), Some(paths.archive.clone()), Some(paths.failed.clone())]
        .into_iter()
        .chain([Some(paths.briefings.clone()), state_dir.map(Path::to_path_buf)])
        .flatten()
    {
        inbox::durable::real_dir(&dir)?;
    }
    let state = paths.database.file().map(crate::lock::acquire).transpose()?;
    let inbox_lock = crate::lock::acquire_inbox(&paths.inbox, &paths.processing())?;
    if !inbox::durable::syncing() {
        warn!(
            variable = inbox::durable::NO_SYNC_VAR,
            "file and database syncs are off (a benchmark's baseline): a power loss can lose finished work"
        );
    }
    for (dir, prefix) in
        [(&paths.briefings, ".briefing-"), (&paths.failed, ".writing-"), (&paths.failed, ".moving-")]
    {
        remove_stale(dir, prefix);
    }
    remove_stale(&paths.processing(), ".copy-");
    let store = Arc::new(Store::open_at(&crate::location(&paths.database))?);
    // Before anything is written: a second daemon on one PostgreSQL database is refused here.
    store.lock_for_daemon()?;
    crate::crash::begin(&crate::crash::note_path(&paths.database, &paths.processing()), &store)?;
    Ok((Locks { _state: state, _inbox: inbox_lock }, store))
}

/// Removes the temporary files named `prefix...` in `dir`: written by a process a kill stopped
/// mid-write (only the lock holder writes them, and it holds the lock now), never a user's file.
fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().starts_with(prefix.as_bytes()) {
            continue;
        }
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        match removed {
            Ok(()) => info!(path = %path.display(), "removed a temporary file left by an interrupted write"),
            Err(e) => warn!(path = %path.display(), error = %e, "cannot remove a stale temporary file"),
        }
    }
}

/// The three parts at work, and what it takes to stop them in order.
struct Running {
    config: Arc<Config>,
    store: Arc<Store>,
    dirty: Arc<Dirty>,
    stop_tx: watch::Sender<bool>,
    stopping: Arc<AtomicBool>,
    intake: tokio::task::JoinHandle<()>,
    publisher: tokio::task::JoinHandle<()>,
    pipeline_thread: std::thread::JoinHandle<()>,
    pipeline_done: tokio::sync::oneshot::Receiver<()>,
    editor_thread: Option<std::thread::JoinHandle<()>>,
    /// Stages of a reloaded config, taken by the pipeline thread before its next file.
    reloaded: Arc<Mutex<Option<Pipeline>>>,
}

impl Running {
    /// Starts the pipeline thread, the publisher and the intake, joined by a bounded queue, and
    /// the editor's thread when there is one.
    fn start(
        config: Arc<Config>,
        store: Arc<Store>,
        worker: Worker,
        editor: Option<editor::ModelEditor>,
    ) -> anyhow::Result<Running> {
        let dirty = Arc::new(Dirty::default());
        dirty.mark(&crate::today(&config.briefing.timezone));
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopping = Arc::new(AtomicBool::new(false));
        let (queue_tx, queue_rx) = mpsc::channel::<Claimed>(config.inbox.queue_capacity.get());
        // Files claimed and not yet finished: the editor's model gives way while there are any.
        let in_hand = Arc::new(AtomicUsize::new(0));

        let (done_tx, pipeline_done) = tokio::sync::oneshot::channel::<()>();
        let reloaded: Arc<Mutex<Option<Pipeline>>> = Arc::default();
        let pipeline_thread = {
            let dirty = dirty.clone();
            let stopping = stopping.clone();
            let reloaded = reloaded.clone();
            let in_hand = in_hand.clone();
            std::thread::Builder::new()
                .name("pipeline".into())
                .spawn(move || {
                    pipeline_loop(worker, queue_rx, &dirty, &stopping, &reloaded, &in_hand);
                    let _ = done_tx.send(());
                })
                .context("starting the pipeline thread")?
        };

        let editor_thread = match editor {
            None => None,
            Some(editor) => {
                let editor = editor.yield_to(in_hand.clone());
                let dirty = dirty.clone();
                let stopping = stopping.clone();
                let thread = std::thread::Builder::new()
                    .name("editor".into())
                    .spawn(move || {
                        editor.run(&stopping, |days| {
                            for day in days {
                                dirty.mark(day);
                            }
                        })
                    })
                    .context("starting the editor thread")?;
                Some(thread)
            }
        };

        let publisher = publisher(config.clone(), store.clone(), dirty.clone(), stop_rx.clone());
        let publisher = tokio::spawn(publisher);
        let intake = tokio::spawn(intake(config.clone(), queue_tx, stop_rx, in_hand));
        Ok(Running {
            config,
            store,
            dirty,
            stop_tx,
            stopping,
            intake,
            publisher,
            pipeline_thread,
            pipeline_done,
            editor_thread,
            reloaded,
        })
    }

    /// Reads the config file again; on success its stages take the next file, else the running
    /// ones stay. Either way the outcome is logged (and told to a service manager).
    fn reload(&self) {
        crate::notify::reloading();
        let source = &self.config.source;
        let outcome = Config::load(source).map_err(anyhow::Error::from).and_then(|new| {
            let pipeline = Pipeline::build(&new)?;
            Ok((new, pipeline))
        });
        match outcome {
            Ok((new, pipeline)) => {
                let stages: Vec<String> = pipeline.stage_names().into_iter().map(str::to_string).collect();
                *self.reloaded.lock().unwrap_or_else(|e| e.into_inner()) = Some(pipeline);
                if new.paths != self.config.paths || new.inbox != self.config.inbox {
                    warn!("config reloaded: changed folders or inbox settings take effect at the next start");
                }
                info!(config = %source.display(), ?stages, "config reloaded: the stages take the next file");
            }
            Err(e) => error!(
                config = %source.display(),
                error = format!("{e:#}"),
                "config not reloaded: the running config stays"
            ),
        }
        crate::notify::ready();
    }

    /// Stops taking files, lets the article in hand finish (or leaves it, recorded, once
    /// `shutdown_timeout` passes), stops the publisher and writes the briefings still due.
    async fn stop(self) {
        info!("shutting down: taking no new files");
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.stop_tx.send(true);
        if let Err(e) = self.intake.await {
            error!(error = %e, "intake task ended abnormally");
        }
        match tokio::time::timeout(self.config.shutdown_timeout, self.pipeline_done).await {
            Ok(_) => {
                let _ = self.pipeline_thread.join();
            }
            Err(_) => {
                warn!(
                    timeout_seconds = self.config.shutdown_timeout.as_secs(),
                    "the article in flight did not finish in time; \
                     it is recorded and will resume at the next start"
                );
                // Leaving a stage unfinished on purpose is no crash: the next start sees this
                // run's note without a crash line and takes its unfinished start back (`crash`).
            }
        }
        if let Some(editor) = self.editor_thread {
            // The editor checks `stopping` between tokens, so this is one token's wait.
            let deadline = Instant::now() + self.config.shutdown_timeout;
            while !editor.is_finished() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if editor.is_finished() {
                let _ = editor.join();
            } else {
                warn!("the editor did not stop in time; its story stays queued for the next start");
            }
        }
        if let Err(e) = self.publisher.await {
            error!(error = %e, "publisher task ended abnormally");
        }
        for day in self.dirty.take() {
            if let Err(e) = publish::write_day(&self.config, &self.store, &day) {
                error!(day, error = format!("{e:#}"), "could not write the briefing");
            }
        }
    }
}

fn pipeline_loop(
    mut worker: Worker,
    mut queue: mpsc::Receiver<Claimed>,
    dirty: &Dirty,
    stopping: &AtomicBool,
    reloaded: &Mutex<Option<Pipeline>>,
    in_hand: &AtomicUsize,
) {
    while let Some(claimed) = queue.blocking_recv() {
        handle_until_done(&mut worker, &claimed, dirty, stopping, reloaded);
        in_hand.fetch_sub(1, Ordering::SeqCst);
        if stopping.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// One claimed file through the worker, tried again while the store or the disk fails; returns
/// when it is finished or stopping was asked for (then it stays in the processing folder).
fn handle_until_done(
    worker: &mut Worker,
    claimed: &Claimed,
    dirty: &Dirty,
    stopping: &AtomicBool,
    reloaded: &Mutex<Option<Pipeline>>,
) {
    // Between files: a reloaded config's stages start with this one.
    if let Some(pipeline) = reloaded.lock().unwrap_or_else(|e| e.into_inner()).take() {
        worker.replace_pipeline(pipeline);
    }
    let mut retry = RETRY_FIRST;
    let mut tries = 0;
    loop {
        if stopping.load(Ordering::SeqCst) {
            // Left in the processing folder; the next start resumes it.
            return;
        }
        let result = worker.handle(claimed);
        tries += 1;
        // A file that keeps failing for a reason of its own (not a full or read-only disk)
        // goes to failed/ with that reason rather than holding up every file behind it.
        let result = match result {
            Err(e) if tries >= crate::worker::MAX_TRIES && !crate::worker::is_resource_error(&e) => {
                worker.give_up(claimed, &e)
            }
            other => other,
        };
        match result {
            Ok(report) => {
                if let Some(day) = report.day {
                    dirty.mark(&day);
                }
                break;
            }
            Err(e) => {
                // Only the store or the file system failing gets here (a full or read-only
                // disk, say). Every step is recorded and repeatable, so the same file is
                // tried again, later and later, until it goes through: the files behind it
                // wait in the inbox (the queue is bounded), none is lost or taken out of order.
                error!(
                    file = %claimed.original_name.to_string_lossy(),
                    error = format!("{e:#}"),
                    retry_seconds = retry.as_secs_f64(),
                    "could not finish the file; it stays in the processing folder and will be retried"
                );
                wait_unless_stopping(retry, stopping);
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// First wait before a file whose store or disk failed is tried again; doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(250);
/// Longest wait between two tries of the same file, or two writes of a briefing that failed.
const RETRY_MAX: Duration = Duration::from_secs(10);

/// Sleeps for `wait` in short steps, returning early once the daemon is stopping.
fn wait_unless_stopping(wait: Duration, stopping: &AtomicBool) {
    let until = Instant::now() + wait;
    while !stopping.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

async fn publisher(
    config: Arc<Config>,
    store: Arc<Store>,
    dirty: Arc<Dirty>,
    mut stop: watch::Receiver<bool>,
) {
    let mut retry = RETRY_FIRST;
    loop {
        tokio::select! {
            _ = dirty.notify.notified() => {}
            _ = stop.changed() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(config.briefing.debounce) => {}
            _ = stop.changed() => return,
        }
        let mut failed = false;
        for day in dirty.take() {
            let (config, store) = (config.clone(), store.clone());
            let result = tokio::task::spawn_blocking({
                let day = day.clone();
                move || publish::write_day(&config, &store, &day)
            })
            .await;
            let error = match result {
                Ok(Ok(_)) => {
                    tracing::debug!(day, "briefing written");
                    continue;
                }
                Ok(Err(e)) => format!("{e:#}"),
                Err(e) => format!("the briefing writer crashed: {e}"),
            };
            // A full or read-only disk: keep the day marked and try again later, without waiting
            // for another article to arrive (there may be none).
            error!(
                day,
                error,
                retry_seconds = retry.as_secs_f64(),
                "could not write the briefing; will retry"
            );
            dirty.mark(&day);
            failed = true;
        }
        if failed {
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = stop.changed() => return,
            }
            retry = (retry * 2).min(RETRY_MAX);
        } else {
            retry = RETRY_FIRST;
        }
    }
}

async fn intake(
    config: Arc<Config>,
    queue: mpsc::Sender<Claimed>,
    mut stop: watch::Receiver<bool>,
    in_hand: Arc<AtomicUsize>,
) {
    let inbox_dir = config.paths.inbox.clone();
    let processing = config.paths.processing();

    // Work a previous run left in the processing folder goes first, oldest first.
    match tokio::task::spawn_blocking({
        let processing = processing.clone();
        move || inbox::claim::in_processing(&processing)
    })
    .await
    {
        Ok(Ok(left)) => {
            if !left.is_empty() {
                info!(files = left.len(), "resuming files left in flight");
            }
            for claimed in left {
                in_hand.fetch_add(1, Ordering::SeqCst);
                tokio::select! {
                    sent = queue.send(claimed) => if sent.is_err() { return },
                    _ = stop.changed() => return,
                }
            }
        }
        Ok(Err(e)) => error!(error = %e, path = %processing.display(), "cannot list the processing folder"),
        Err(e) => error!(error = %e, "listing the processing folder crashed"),
    }

    let mut watcher = match inbox::watch::watch(&inbox_dir, 4096) {
        Ok(w) => Some(w),
        Err(e) => {
            warn!(error = %e, "cannot watch the inbox; relying on periodic rescans");
            None
        }
    };
    let mut tracker = Tracker::new(config.inbox.settle);
    let mut rescan_due = Instant::now();
    let mut poll = tokio::time::interval(SETTLE_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let watch_rescan = watcher.as_ref().is_some_and(|w| w.rescan.swap(false, Ordering::Relaxed));
        if watch_rescan || Instant::now() >= rescan_due {
            if watch_rescan {
                info!("watcher events were lost; rescanning the inbox");
            }
            scan(&inbox_dir, &mut tracker);
            rescan_due = Instant::now() + config.inbox.rescan_interval;
        }
        tokio::select! {
            _ = stop.changed() => return,
            noticed = async {
                match watcher.as_mut() {
                    Some(w) => w.events.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some(n) = noticed {
                    if !inbox::names::is_ignored(&n.name) {
                        tracker.note(&n.name, n.renamed_in, Instant::now());
                    }
                }
            }
            _ = poll.tick() => {
                for name in tracker.poll(&inbox_dir, Instant::now()) {
                    let claimed = match inbox::claim::claim(&inbox_dir, &processing, &name) {
                        Ok(Some(c)) => c,
                        Ok(None) => continue,
                        Err(e) => {
                            warn!(file = %name.to_string_lossy(), error = %e, "cannot take the file; will retry");
                            continue;
                        }
                    };
                    in_hand.fetch_add(1, Ordering::SeqCst);
                    tokio::select! {
                        sent = queue.send(claimed) => if sent.is_err() { return },
                        // Already claimed: it waits in the processing folder for the next start.
                        _ = stop.changed() => return,
                    }
                }
            }
        }
    }
}

/// Notes every takeable name in the inbox.
fn scan(dir: &std::path::Path, tracker: &mut Tracker) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            error!(path = %dir.display(), error = %e, "cannot list the inbox");
            return;
        }
    };
    let now = Instant::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !inbox::names::is_ignored(&name) {
            tracker.note(&name, false, now);
        }
    }
}
