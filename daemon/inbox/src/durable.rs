//! Making a file's state change survive the process and the machine: a `rename` is only on disk
//! once the folders it changed are fsynced, and a file's bytes only once the file is. Every move
//! that tells a user "taken", "archived" or "failed" goes through [`rename`], which syncs the
//! destination folder and then the source folder before it returns, so after a power loss a
//! file is in the old place or the new one, never in both and never in neither.
//!
//! Also the check that a folder the daemon writes into is a real folder, not a link: a link would
//! carry the daemon's moves out of the tree the user gave it.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable that turns every fsync of this module off. Only `bench/durability`
/// sets it, to measure what the syncs cost; it loses the guarantee above, so the daemon warns.
pub const NO_SYNC_VAR: &str = "BRIEFD_BENCH_NO_SYNC";

/// False only when [`NO_SYNC_VAR`] is `1` (the benchmark's baseline).
pub fn syncing() -> bool {
    static SYNCING: OnceLock<bool> = OnceLock::new();
    *SYNCING.get_or_init(|| std::env::var_os(NO_SYNC_VAR).is_none_or(|v| v != "1"))
}

/// Why a folder the daemon writes into cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// A symbolic link where a folder should be.
    #[error("{} is a symbolic link; briefd never follows links out of its folders: replace it with a real folder (or point the config at the target)", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Something else than a folder.
    #[error("{} is not a folder; move it away or point the config elsewhere", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// It could not be created or examined.
    #[error("cannot create {}: {source}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// Creates `path` (and its parents) when missing, then checks that it is a real folder and not a
/// link to one.
pub fn real_dir(path: &Path) -> Result<(), DirError> {
    let io_err = |source| DirError::Io { path: path.to_path_buf(), source };
    match std::fs::symlink_metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(path).map_err(io_err)?,
        Err(e) => return Err(io_err(e)),
    }
    let meta = std::fs::symlink_metadata(path).map_err(io_err)?;
    if meta.file_type().is_symlink() {
        return Err(DirError::Symlink { path: path.to_path_buf() });
    }
    if !meta.is_dir() {
        return Err(DirError::NotADirectory { path: path.to_path_buf() });
    }
    Ok(())
}

/// fsyncs the folder `dir`, so the names it holds (a rename, a new file) survive a power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    if !syncing() {
        return Ok(());
    }
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)?
        .sync_all()
}

/// fsyncs the bytes of the entry at `path` when it is a regular file; anything else (a link, a
/// fifo, a folder) has no bytes of its own to lose, and is neither followed nor opened for long.
pub fn sync_file(path: &Path) -> io::Result<()> {
    if !syncing() {
        return Ok(());
    }
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => file,
        // A link (ELOOP), a socket (ENXIO) or a file gone already: nothing to sync.
        Err(_) => return Ok(()),
    };
    if file.metadata()?.is_file() {
        file.sync_all()?;
    }
    Ok(())
}

/// Syncs an open file's bytes (a report or briefing just written), unless syncing is off.
pub fn sync_open(file: &File) -> io::Result<()> {
    if syncing() {
        file.sync_all()?;
    }
    Ok(())
}

/// `rename(from, to)`, then fsyncs `to`'s folder and, when it is another one, `from`'s: when this
/// returns, the move is on disk.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_parents(from, to)
}

/// fsyncs the folders of both ends of a move: the destination's first, so that after a crash
/// between the two the file is found where it went (a name twice is repaired by the store's
/// record; a name in neither place would be a lost file).
pub fn sync_parents(from: &Path, to: &Path) -> io::Result<()> {
    let to_dir = parent(to);
    sync_dir(to_dir)?;
    let from_dir = parent(from);
    if from_dir != to_dir {
        sync_dir(from_dir)?;
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_or_a_file_is_not_a_real_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("link")).unwrap();
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        assert!(matches!(real_dir(&dir.path().join("link")), Err(DirError::Symlink { .. })));
        assert!(matches!(real_dir(&dir.path().join("file")), Err(DirError::NotADirectory { .. })));
        real_dir(&dir.path().join("new/deeper")).unwrap();
        assert!(dir.path().join("new/deeper").is_dir());
    }

    #[test]
    fn renaming_across_folders_moves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("a"), b"x").unwrap();
        rename(&dir.path().join("a"), &dir.path().join("b/a")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("b/a")).unwrap(), b"x");
        sync_file(&dir.path().join("b/a")).unwrap();
        sync_file(&dir.path().join("missing")).unwrap();
    }
}
