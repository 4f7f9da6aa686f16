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
    let (locks, store) = open_state(config, Sharing::Inbox)?;
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

/// Whether a process shares the inbox with other daemons (see [`open_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// With the other daemons on the same PostgreSQL database (none on SQLite).
    Inbox,
    /// With no one.
    Nothing,
}

/// What a process working on a config holds: its lease in the store (first, so that it is
/// given up first), its SQLite database's lock (a PostgreSQL database has several daemons,
/// kept apart by their claims) and its inbox's (shared between daemons on one PostgreSQL
/// database).
pub struct Locks {
    _lease: crate::lease::Lease,
    _state: Option<StateLock>,
    _inbox: StateLock,
}

/// What `run` and `ingest` both do first: make the folders (each must be a real folder, not a
/// link), take the database's lock and then the inbox's, clear the temporary files a kill left
/// behind, open the store (an existing database that is empty or damaged is refused) and join
/// the daemons working on it. `Sharing::Inbox` (a daemon on PostgreSQL) shares the inbox with
/// other daemons on the same database; `Sharing::Nothing` (`ingest`, whose copies into the
/// processing folder are not claimed) has it to itself.
pub fn open_state(config: &Config, sharing: Sharing) -> anyhow::Result<(Locks, Arc<Store>)> {
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
    // Several daemons on one PostgreSQL database share its inbox; one on SQLite has it alone.
    let shared = sharing == Sharing::Inbox && paths.database.file().is_none();
    let inbox_lock = if shared {
        crate::lock::acquire_inbox_shared(&paths.inbox, &paths.processing())?
    } else {
        crate::lock::acquire_inbox(&paths.inbox, &paths.processing())?
    };
    if !inbox::durable::syncing() {
        warn!(
            variable = inbox::durable::NO_SYNC_VAR,
            "file and database syncs are off (a benchmark's baseline): a power loss can lose finished work"
        );
    }
    // Another daemon may be writing its own right now: only those older than a lease are a
    // dead one's.
    let older_than = shared.then_some(config.inbox.claim_lease);
    for (dir, prefix) in
        [(&paths.briefings, ".briefing-"), (&paths.failed, ".writing-"), (&paths.failed, ".moving-")]
    {
        remove_stale(dir, prefix, older_than);
    }
    remove_stale(&paths.processing(), ".copy-", older_than);
    let store = Arc::new(Store::open_at(&crate::location(&paths.database))?);
    let lease = crate::lease::Lease::start(store.clone(), config.inbox.claim_lease, config.inbox.heartbeat)?;
    let note = crate::crash::note_path(&paths.database, &paths.processing(), store.instance());
    crate::crash::begin(&note, &store, shared)?;
    Ok((Locks { _lease: lease, _state: state, _inbox: inbox_lock }, store))
}

/// Removes the temporary files named `prefix...` in `dir` (those unchanged for `older_than`,
/// when given): written by a process a kill stopped mid-write (only the lock holder writes
/// them, and it holds the lock now; or, with several daemons, one silent for a lease), never a
/// user's file.
fn remove_stale(dir: &Path, prefix: &str, older_than: Option<Duration>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().starts_with(prefix.as_bytes()) {
            continue;
        }
        if let Some(age) = older_than {
            let modified = entry.metadata().and_then(|m| m.modified()).ok();
            if modified.and_then(|m| m.elapsed().ok()).is_none_or(|elapsed| elapsed < age) {
                continue;
            }
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
        let intake = tokio::spawn(intake(config.clone(), store.clone(), queue_tx, stop_rx, in_hand));
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
        // The serialised share of this daemon's work (`bench/cluster` reads it).
        let (held, waited) = self.store.assignment_time();
        info!(
            held_seconds = held.as_secs_f64(),
            waited_seconds = waited.as_secs_f64(),
            "story assignment: time held and waited for in this run"
        );
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
    store: Arc<Store>,
    queue: mpsc::Sender<Claimed>,
    mut stop: watch::Receiver<bool>,
    in_hand: Arc<AtomicUsize>,
) {
    let inbox_dir = config.paths.inbox.clone();
    let processing = config.paths.processing();

    // Work a previous run (or a dead daemon sharing the inbox) left in the processing folder
    // goes first, oldest first; the same at every rescan.
    if !take_over(&processing, &store, &queue, &mut stop, &in_hand).await {
        return;
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
            if !take_over(&processing, &store, &queue, &mut stop, &in_hand).await {
                return;
            }
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
                    let claimed = match claim(&store, &inbox_dir, &processing, &name) {
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

/// Claims `name` in the store, then takes it from the inbox; `Ok(None)` when another daemon
/// claims it or it is gone.
fn claim(
    store: &Store,
    inbox_dir: &Path,
    processing: &Path,
    name: &std::ffi::OsStr,
) -> anyhow::Result<Option<Claimed>> {
    let claimed = inbox::claim::plan(name);
    let processing_name = claimed.processing_name.as_encoded_bytes();
    if !store.begin_claim(processing_name, claimed.original_name.as_encoded_bytes())? {
        return Ok(None);
    }
    match inbox::claim::take(inbox_dir, processing, &claimed) {
        Ok(true) => {
            if let Err(e) = store.claim_renamed(processing_name) {
                // The file is this daemon's all the same; only its inbox name stays claimed (a
                // new file of that name waits) until the file is finished.
                warn!(file = %name.to_string_lossy(), error = %e, "cannot record the file as taken");
            }
            Ok(Some(claimed))
        }
        Ok(false) => {
            store.drop_claim(processing_name)?;
            Ok(None)
        }
        Err(e) => {
            // Whether or not it moved, it is not this daemon's: a file in the processing
            // folder without a claim is the next rescan's to take.
            let _ = store.drop_claim(processing_name);
            Err(e.into())
        }
    }
}

/// Takes over the files in the processing folder that no live daemon holds (`Store::take_over`)
/// and queues them, oldest first. `false` when the daemon is stopping.
async fn take_over(
    processing: &Path,
    store: &Arc<Store>,
    queue: &mpsc::Sender<Claimed>,
    stop: &mut watch::Receiver<bool>,
    in_hand: &AtomicUsize,
) -> bool {
    let found = tokio::task::spawn_blocking({
        let (processing, store) = (processing.to_path_buf(), store.clone());
        move || files_to_take_over(&processing, &store)
    })
    .await;
    let files = match found {
        Ok(Ok(files)) => files,
        Ok(Err(e)) => {
            error!(error = format!("{e:#}"), path = %processing.display(), "cannot take over the processing folder's files");
            return true;
        }
        Err(e) => {
            error!(error = %e, "taking over the processing folder's files crashed");
            return true;
        }
    };
    if !files.is_empty() {
        info!(files = files.len(), "resuming files left in flight");
    }
    for claimed in files {
        in_hand.fetch_add(1, Ordering::SeqCst);
        tokio::select! {
            sent = queue.send(claimed) => if sent.is_err() { return false },
            // Claimed: it waits in the processing folder for this daemon's next start or, once
            // its lease lapses, for another daemon.
            _ = stop.changed() => return false,
        }
    }
    true
}

fn files_to_take_over(processing: &Path, store: &Store) -> anyhow::Result<Vec<Claimed>> {
    let listed = inbox::claim::in_processing(processing)?;
    let names: Vec<(Vec<u8>, Vec<u8>)> = listed
        .iter()
        .map(|c| (c.processing_name.as_encoded_bytes().to_vec(), c.original_name.as_encoded_bytes().to_vec()))
        .collect();
    let taken = store.take_over(&names)?;
    let mut files = Vec::with_capacity(taken.len());
    for claimed in listed {
        let name = claimed.processing_name.as_encoded_bytes();
        if !taken.iter().any(|t| t.as_slice() == name) {
            continue;
        }
        // Unclaimed because a daemon just moved it out (its claim goes after the move).
        if std::fs::symlink_metadata(processing.join(&claimed.processing_name)).is_err() {
            store.drop_claim(name)?;
            continue;
        }
        files.push(claimed);
    }
    Ok(files)
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
