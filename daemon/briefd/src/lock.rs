//! One briefd per SQLite database and one per inbox: the daemon and `ingest` hold an exclusive
//! lock on a file beside the database, and another in the inbox's processing folder, so two
//! processes never process the same files twice, whether they share a config or only an inbox.
//! The holder writes its pid into each file, so `briefd status` and the refusal can say who runs.
//!
//! Daemons on one PostgreSQL database share its inbox: each holds the inbox's lock shared
//! ([`acquire_inbox_shared`]; the database's claims keep them apart), which still refuses a
//! SQLite daemon or `ingest` on that inbox, and is refused while one runs there.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Held for as long as the process works on the state; released on drop or exit.
pub struct StateLock {
    _file: File,
}

/// Takes the lock for `database`, or explains who holds it.
pub fn acquire(database: &Path) -> anyhow::Result<StateLock> {
    let path = lock_path(database);
    match take(&path)? {
        Ok(lock) => Ok(lock),
        Err(pid) => bail!(
            "another briefd{} is already working on {} (lock {}); stop it first, or drop files into its inbox instead",
            pid_part(pid),
            database.display(),
            path.display()
        ),
    }
}

/// Takes the lock of the inbox whose processing folder is `processing`, or explains who holds it:
/// two configs with their own databases on one inbox would each claim and resume the other's
/// files.
pub fn acquire_inbox(inbox: &Path, processing: &Path) -> anyhow::Result<StateLock> {
    let path = processing.join(".lock");
    match take(&path)? {
        Ok(lock) => Ok(lock),
        Err(pid) => bail!(
            "another briefd{} is already taking files from the inbox {} (lock {}); two configs cannot share one inbox: give each its own inbox folder, or stop the other one",
            pid_part(pid),
            inbox.display(),
            path.display()
        ),
    }
}

/// Takes the inbox's lock shared, beside other daemons of the same PostgreSQL database, or
/// explains who holds it alone.
pub fn acquire_inbox_shared(inbox: &Path, processing: &Path) -> anyhow::Result<StateLock> {
    let path = processing.join(".lock");
    let file = open_lock_file(&path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(StateLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut file = file;
            let mut pid = String::new();
            let pid = file.read_to_string(&mut pid).ok().and_then(|_| pid.trim().parse().ok());
            bail!(
                "another briefd{} has the inbox {} to itself (lock {}): a daemon on a SQLite database, or `briefd ingest`; stop it first",
                pid_part(pid),
                inbox.display(),
                path.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

fn pid_part(pid: Option<u32>) -> String {
    pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
}

/// The lock at `path`, or `Err(pid)` of its holder when another process has it.
fn take(path: &Path) -> anyhow::Result<Result<StateLock, Option<u32>>> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => {
            let mut file = file;
            // The pid is for people; the lock itself is what counts, so a failed write is no error.
            let _ = file
                .set_len(0)
                .and_then(|()| write!(file, "{}", std::process::id()))
                .and_then(|()| file.rewind());
            Ok(Ok(StateLock { _file: file }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut file = file;
            let mut pid = String::new();
            Ok(Err(file.read_to_string(&mut pid).ok().and_then(|_| pid.trim().parse().ok())))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

fn open_lock_file(path: &Path) -> anyhow::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("opening lock file {}", path.display()))
}

/// The pid of the briefd that holds the lock for `database` (with PostgreSQL, which has no lock
/// file, the inbox's lock in `processing`), if one does; `Some(None)` when it is held but names
/// no pid. Reads only: a shared lock is tried and dropped at once.
pub fn holder(database: &config::Database, processing: &Path) -> Option<Option<u32>> {
    let path = match database.file() {
        Some(file) => lock_path(file),
        None => processing.join(".lock"),
    };
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut pid = String::new();
            Some(file.read_to_string(&mut pid).ok().and_then(|_| pid.trim().parse().ok()))
        }
    }
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}
