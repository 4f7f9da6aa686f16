//! File-system events for the inbox, from `notify`.
//!
//! Events go through a bounded channel. When it is full, or the watcher reports an error (such
//! as the kernel's queue overflowing under a burst), the event is not kept: a flag asks the daemon
//! for a full rescan instead, so memory stays bounded and nothing is missed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// A name that appeared or changed in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noticed {
    /// The file's name in the inbox.
    pub name: OsString,
    /// It arrived by a rename, so it is complete.
    pub renamed_in: bool,
}

/// A running watcher; dropping it stops the events.
pub struct Watch {
    _watcher: RecommendedWatcher,
    /// Noticed names.
    pub events: mpsc::Receiver<Noticed>,
    /// Set when events were lost and the inbox must be rescanned.
    pub rescan: Arc<AtomicBool>,
}

/// Starts watching `dir` (not its subfolders), keeping at most `capacity` pending events.
pub fn watch(dir: &Path, capacity: usize) -> notify::Result<Watch> {
    let (tx, events) = mpsc::channel(capacity.max(1));
    let rescan = Arc::new(AtomicBool::new(false));
    let flag = rescan.clone();
    let root: PathBuf = dir.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let event = match result {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, "inbox watcher error; rescanning the inbox");
                flag.store(true, Ordering::Relaxed);
                return;
            }
        };
        if event.need_rescan() {
            flag.store(true, Ordering::Relaxed);
        }
        let (paths, renamed_in): (&[PathBuf], bool) = match event.kind {
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => (&event.paths[..], true),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                (event.paths.get(1..).unwrap_or(&[]), true)
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => return,
            EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Access(_)
            | EventKind::Any
            | EventKind::Other => (&event.paths[..], false),
        };
        for path in paths {
            if path.parent() != Some(root.as_path()) {
                continue;
            }
            let Some(name) = path.file_name() else { continue };
            if tx.try_send(Noticed { name: name.to_os_string(), renamed_in }).is_err() {
                flag.store(true, Ordering::Relaxed);
            }
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(Watch { _watcher: watcher, events, rescan })
}
