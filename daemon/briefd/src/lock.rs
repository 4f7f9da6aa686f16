//! One briefd per state database: the daemon and `ingest` hold an exclusive lock on a file beside
//! the database, so two processes never process the same files twice. The holder writes its pid
//! into the file, so `briefd status` can say who runs.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Held for as long as the process works on the state; released on drop or exit.
pub struct StateLock {
    _file: File,
}

/// Takes the lock for `database`, or explains who holds it.
pub fn acquire(database: &Path) -> anyhow::Result<StateLock> {
    let path = lock_path(database);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            let mut file = file;
            // The pid is for people; the lock itself is what counts, so a failed write is no error.
            let _ = file.set_len(0).and_then(|()| write!(file, "{}", std::process::id())).and_then(|()| file.rewind());
            Ok(StateLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another briefd is already working on {} (lock {}); stop it first, or drop files into its inbox instead",
            database.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// The pid of the briefd that holds the lock for `database`, if one does; `Some(None)` when it is
/// held but names no pid. Reads only: a shared lock is tried and dropped at once.
pub fn holder(database: &Path) -> Option<Option<u32>> {
    let mut file = File::open(lock_path(database)).ok()?;
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
