//! Deciding when a file is complete.
//!
//! A file renamed into the inbox is complete at once (the Maildir habit: write elsewhere, then
//! `mv`). Any other file is complete once its size and modification time have stayed the same
//! for the settle time, so a slow writer or a browser's "save page as" is not taken half-written.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    size: u64,
    mtime_ns: i128,
    ino: u64,
}

#[derive(Debug)]
struct Entry {
    seen: Option<Seen>,
    stable_since: Instant,
    renamed_in: bool,
}

/// Files seen in the inbox and not yet taken.
#[derive(Debug)]
pub struct Tracker {
    settle: Duration,
    entries: HashMap<OsString, Entry>,
}

impl Tracker {
    /// A tracker that needs `settle` of stillness before a file is complete.
    pub fn new(settle: Duration) -> Tracker {
        Tracker { settle, entries: HashMap::new() }
    }

    /// Notes that `name` exists or changed; `renamed_in` when it arrived by a rename.
    pub fn note(&mut self, name: &OsStr, renamed_in: bool, now: Instant) {
        let entry = self.entries.entry(name.to_os_string()).or_insert(Entry {
            seen: None,
            stable_since: now,
            renamed_in,
        });
        entry.renamed_in |= renamed_in;
    }

    /// Number of files being watched.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no file is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks at every tracked file in `dir` and returns the names now complete, oldest first
    /// by when they were noticed. Vanished files are forgotten.
    pub fn poll(&mut self, dir: &Path, now: Instant) -> Vec<OsString> {
        let mut ready = Vec::new();
        self.entries.retain(|name, entry| {
            let Ok(meta) = std::fs::symlink_metadata(dir.join(name)) else {
                return false;
            };
            let seen = Some(snapshot(&meta));
            if seen != entry.seen {
                // A file that is still changing was not complete when renamed either.
                if entry.seen.is_some() {
                    entry.renamed_in = false;
                }
                entry.seen = seen;
                entry.stable_since = now;
            }
            if entry.renamed_in || now.duration_since(entry.stable_since) >= self.settle {
                ready.push((entry.stable_since, name.clone()));
                return false;
            }
            true
        });
        ready.sort();
        ready.into_iter().map(|(_, name)| name).collect()
    }
}

fn snapshot(meta: &Metadata) -> Seen {
    Seen {
        size: meta.size(),
        mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        ino: meta.ino(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_growing_file_waits_until_it_settles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"part one").unwrap();
        let mut tracker = Tracker::new(Duration::from_millis(500));
        let t0 = Instant::now();
        tracker.note(OsStr::new("a.txt"), false, t0);
        assert!(tracker.poll(dir.path(), t0).is_empty());
        f.write_all(b" and part two").unwrap();
        f.sync_all().unwrap();
        assert!(tracker.poll(dir.path(), t0 + Duration::from_millis(400)).is_empty());
        assert!(tracker.poll(dir.path(), t0 + Duration::from_millis(800)).is_empty(), "changed at 400 ms");
        assert_eq!(tracker.poll(dir.path(), t0 + Duration::from_millis(950)), vec![OsString::from("a.txt")]);
    }

    #[test]
    fn a_renamed_in_file_is_taken_at_once_and_a_vanished_one_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.txt"), b"x").unwrap();
        let mut tracker = Tracker::new(Duration::from_secs(60));
        let t0 = Instant::now();
        tracker.note(OsStr::new("b.txt"), true, t0);
        tracker.note(OsStr::new("gone.txt"), false, t0);
        assert_eq!(tracker.poll(dir.path(), t0), vec![OsString::from("b.txt")]);
        assert!(tracker.is_empty());
    }
}
