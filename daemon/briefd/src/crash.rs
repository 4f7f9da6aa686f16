//! Telling a crash from a kill. The store counts each stage start that never ended, and an
//! article whose stage was started twice without ending is failed (`pipeline`): a stage that
//! segfaults takes the daemon down each time it runs. But a daemon stopped by `kill -9`, an out
//! of memory killer or a power cut leaves the same trace, and that is no fault of the article.
//!
//! So each run leaves a note beside the database: the time it began, and, written by a handler
//! of the fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) as the process dies, a line
//! saying it crashed. At the next start a note without that line means the run was stopped from
//! outside (or exited): its unfinished starts are taken back. A kill leaves no line, since no
//! handler runs for SIGKILL.

use std::io::Write;
use std::os::fd::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;
use store::Store;
use tracing::{info, warn};

/// The line the handler appends. Written by `write(2)` alone: nothing else is safe in a handler.
const CRASHED: &[u8] = b"crashed: fatal signal\n";

/// The note's file descriptor, for the handler; -1 when none is open.
static NOTE_FD: AtomicI32 = AtomicI32::new(-1);

const FATAL_SIGNALS: [libc::c_int; 5] =
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT];

/// Where a run's note is: beside a SQLite database; with PostgreSQL, which has no file here and
/// several daemons, one per daemon (by its store's instance name) in the processing folder,
/// hidden, so no scan takes it for a claimed file.
pub fn note_path(database: &config::Database, processing: &Path, instance: &str) -> PathBuf {
    match database.file() {
        Some(file) => {
            let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(".run");
            file.with_file_name(name)
        }
        None => processing.join(format!("{SHARED_NOTE_PREFIX}{instance}.run")),
    }
}

/// The name of each daemon's note with PostgreSQL, up to its instance name.
const SHARED_NOTE_PREFIX: &str = ".briefd-";

/// Reads the previous run's note (taking back its unfinished stage starts unless it crashed),
/// writes this run's, and arms the handler. Call with the state lock held, before any article
/// is processed. With several daemons (PostgreSQL), the notes of the others that are gone
/// (their note is not locked by a live process) are read and removed instead: a daemon's
/// note is locked (`flock`) for as long as it runs.
pub fn begin(path: &Path, store: &Store, shared: bool) -> anyhow::Result<()> {
    if shared {
        read_dead_notes(path, store);
    } else if let Ok(previous) = std::fs::read_to_string(path) {
        read_previous(&previous, store)?;
    }
    let tmp = path.with_extension("run.tmp");
    let mut note = std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    // Locked before it has its name, and until the process ends however it ends: a live
    // daemon's note is never another's to read (with several daemons; one alone holds it too).
    note.try_lock().with_context(|| format!("locking {}", tmp.display()))?;
    writeln!(note, "{}", store::now())?;
    note.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    // The handler's line goes after the first, where this descriptor's offset is.
    let old = NOTE_FD.swap(note.into_raw_fd(), Ordering::SeqCst);
    if old >= 0 {
        // SAFETY: `old` was ours, from `into_raw_fd`, and nothing else holds it.
        unsafe { libc::close(old) };
    }
    arm();
    Ok(())
}

/// Acts on a finished run's note: its unfinished stage starts are taken back unless it crashed.
fn read_previous(previous: &str, store: &Store) -> anyhow::Result<()> {
    let began = previous.lines().next().unwrap_or("").trim();
    if previous.as_bytes().windows(CRASHED.len()).any(|w| w == CRASHED) {
        warn!(
            run_began = began,
            "the previous run died of a fatal signal; the stage it was in counts against its article"
        );
    } else if !began.is_empty() {
        let forgiven = store.forgive_starts_since(began)?;
        if forgiven > 0 {
            info!(
                run_began = began,
                forgiven,
                "the previous run was stopped from outside mid-stage; those starts do not count as crashes"
            );
        }
    }
    Ok(())
}

/// Reads and removes the notes beside `own` of daemons that are gone (their note can be locked).
fn read_dead_notes(own: &Path, store: &Store) {
    let Some(dir) = own.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(SHARED_NOTE_PREFIX) || !name.ends_with(".run") || entry.path() == own {
            continue;
        }
        let Ok(mut file) = std::fs::File::open(entry.path()) else { continue };
        if file.try_lock().is_err() {
            continue;
        }
        let mut previous = String::new();
        if std::io::Read::read_to_string(&mut file, &mut previous).is_ok() {
            if let Err(e) = read_previous(&previous, store) {
                warn!(note = %entry.path().display(), error = format!("{e:#}"), "cannot act on a gone daemon's note");
                continue;
            }
        }
        let _ = std::fs::remove_file(entry.path());
    }
}

extern "C" fn on_fatal_signal(signal: libc::c_int) {
    let fd = NOTE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) and raise(3) are async-signal-safe; the buffer is static.
        unsafe { libc::write(fd, CRASHED.as_ptr().cast(), CRASHED.len()) };
    }
    // SA_RESETHAND restored the default action: dying of the same signal keeps the exit status
    // (and a core dump) what they would have been.
    unsafe { libc::raise(signal) };
}

fn arm() {
    for signal in FATAL_SIGNALS {
        // SAFETY: a zeroed sigaction is valid; the handler only calls async-signal-safe functions,
        // and SA_ONSTACK lets it run on the alternate stack Rust gives each thread (a stack
        // overflow is a SIGSEGV too).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESETHAND | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                warn!(signal, "cannot watch for this fatal signal; a crash will count as a kill");
            }
        }
    }
}
