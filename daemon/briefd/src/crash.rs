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

/// The note beside a SQLite database; with PostgreSQL, which has no file here, beside the
/// inbox's lock in the processing folder (a hidden name, which no scan takes for a claimed file).
pub fn note_path(database: &config::Database, processing: &Path) -> PathBuf {
    match database.file() {
        Some(file) => {
            let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(".run");
            file.with_file_name(name)
        }
        None => processing.join(".briefd.run"),
    }
}

/// Reads the previous run's note (taking back its unfinished stage starts unless it crashed),
/// writes this run's, and arms the handler. Call with the state lock held, before any article
/// is processed.
pub fn begin(path: &Path, store: &Store) -> anyhow::Result<()> {
    if let Ok(previous) = std::fs::read_to_string(path) {
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
                    forgiven, "the previous run was stopped from outside mid-stage; those starts do not count as crashes"
                );
            }
        }
    }
    let tmp = path.with_extension("run.tmp");
    let mut file = std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    writeln!(file, "{}", store::now())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    let note = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let old = NOTE_FD.swap(note.into_raw_fd(), Ordering::SeqCst);
    if old >= 0 {
        // SAFETY: `old` was ours, from `into_raw_fd`, and nothing else holds it.
        unsafe { libc::close(old) };
    }
    arm();
    Ok(())
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
