//! Taking a file: one atomic rename from the inbox into the processing folder, so no file is ever
//! taken twice and a file in flight is never in the inbox. Reading it refuses links, folders and
//! special files, whatever they point at.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::durable;

/// A file in the processing folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// Its unique name in the processing folder.
    pub processing_name: OsString,
    /// The name it had in the inbox.
    pub original_name: OsString,
}

/// Why a claimed file's content cannot be read, in a user's words.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A symbolic link.
    #[error("it is a symbolic link; briefd never follows links, which could point outside the inbox: copy the file itself into the inbox")]
    Symlink,
    /// A folder.
    #[error("it is a folder, not a file; drop the files inside it one by one")]
    Directory,
    /// A fifo, socket or device.
    #[error("it is a {0}, not a regular file; only regular files can be read as articles")]
    Special(&'static str),
    /// Over the size limit.
    #[error("it is {size} bytes, over the limit of {limit} bytes (inbox.max_file_bytes in the config)")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Permission denied.
    #[error("it cannot be read: permission denied; give briefd read access and drop it again")]
    PermissionDenied,
    /// It disappeared.
    #[error("it disappeared before it could be read")]
    Vanished,
    /// Any other I/O error.
    #[error("it cannot be read: {0}")]
    Io(io::Error),
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Longest part of the original name kept in a processing name (file names max out at 255 bytes).
const MAX_NAME_PART: usize = 200;

/// A processing name: a unique, time-ordered prefix, `_`, then the original name.
fn processing_name(original: &OsStr) -> OsString {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("{nanos:016x}-{:x}-{n:x}_", std::process::id()).into_bytes();
    let bytes = original.as_bytes();
    name.extend_from_slice(&bytes[..bytes.len().min(MAX_NAME_PART)]);
    OsString::from_vec(name)
}

/// The inbox name recorded in a processing name.
pub fn original_name(processing_name: &OsStr) -> OsString {
    let bytes = processing_name.as_bytes();
    match bytes.iter().position(|&b| b == b'_') {
        Some(i) => OsString::from_vec(bytes[i + 1..].to_vec()),
        None => processing_name.to_os_string(),
    }
}

/// Moves `name` from `inbox` into `processing`. `Ok(None)` when it is gone already (taken by
/// another process, or deleted by its writer).
pub fn claim(inbox: &Path, processing: &Path, name: &OsStr) -> io::Result<Option<Claimed>> {
    let claimed = plan(name);
    Ok(take(inbox, processing, &claimed)?.then_some(claimed))
}

/// The name `name` would have in the processing folder (unique, time-ordered), before it is
/// taken: a daemon sharing the inbox with others records its claim under it first.
pub fn plan(name: &OsStr) -> Claimed {
    Claimed { processing_name: processing_name(name), original_name: name.to_os_string() }
}

/// Moves the planned file from `inbox` into `processing`; `Ok(false)` when it is gone already.
pub fn take(inbox: &Path, processing: &Path, claimed: &Claimed) -> io::Result<bool> {
    let (from, to) = (inbox.join(&claimed.original_name), processing.join(&claimed.processing_name));
    match std::fs::rename(&from, &to) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    // Taken means on disk: the writer may never have synced its bytes, and the rename is only
    // durable once both folders are, so a power loss can neither lose the file nor leave it
    // both in the inbox and in flight.
    durable::sync_file(&to)?;
    durable::sync_parents(&from, &to)?;
    Ok(true)
}

/// Copies a file from anywhere into `processing` (for `briefd ingest`), leaving the original.
/// The copy is written under a hidden name and renamed, so a crash never leaves half a copy.
pub fn copy_in(source: &Path, processing: &Path, max_bytes: u64) -> Result<Claimed, ReadError> {
    let bytes = read(source, max_bytes)?;
    let name = source.file_name().map(OsStr::to_os_string).unwrap_or_else(|| OsString::from("unnamed"));
    let claimed = Claimed { processing_name: processing_name(&name), original_name: name };
    let mut tmp = OsString::from(".copy-");
    tmp.push(&claimed.processing_name);
    let tmp = processing.join(tmp);
    let mut file = std::fs::File::create(&tmp).map_err(ReadError::Io)?;
    file.write_all(&bytes).map_err(ReadError::Io)?;
    durable::sync_open(&file).map_err(ReadError::Io)?;
    durable::rename(&tmp, &processing.join(&claimed.processing_name)).map_err(ReadError::Io)?;
    Ok(claimed)
}

/// Files in the processing folder, oldest first: work left by a previous run.
pub fn in_processing(processing: &Path) -> io::Result<Vec<Claimed>> {
    let mut out: Vec<Claimed> = std::fs::read_dir(processing)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| !n.as_bytes().starts_with(b"."))
        .map(|n| Claimed { original_name: original_name(&n), processing_name: n })
        .collect();
    out.sort_by(|a, b| a.processing_name.cmp(&b.processing_name));
    Ok(out)
}

/// Reads the regular file at `path`, refusing links, folders, special files and files over
/// `max_bytes`. The open itself refuses links (`O_NOFOLLOW`) and never blocks on a fifo.
pub fn read(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => ReadError::Symlink,
            Some(libc::EACCES) | Some(libc::EPERM) => ReadError::PermissionDenied,
            Some(libc::ENOENT) => ReadError::Vanished,
            Some(libc::ENXIO) => ReadError::Special("socket"),
            _ => ReadError::Io(e),
        })?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(ReadError::Directory);
    }
    if kind.is_fifo() {
        return Err(ReadError::Special("named pipe (fifo)"));
    }
    if kind.is_socket() {
        return Err(ReadError::Special("socket"));
    }
    if kind.is_block_device() || kind.is_char_device() {
        return Err(ReadError::Special("device"));
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge { size: meta.len(), limit: max_bytes });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may still grow after the check; never read past the limit.
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { size: bytes.len() as u64, limit: max_bytes });
    }
    Ok(bytes)
}

/// Hex SHA-256 of a file's bytes: its identity for "the same bytes under any name".
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_name_survives_the_processing_name() {
        let p = processing_name(OsStr::new("my file_2025.txt"));
        assert_eq!(original_name(&p), OsString::from("my file_2025.txt"));
    }

    #[test]
    fn refuses_links_folders_fifos_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, b"secret").unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join("link")).unwrap();
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: c is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(matches!(read(&dir.path().join("link"), 100), Err(ReadError::Symlink)));
        assert!(matches!(read(&dir.path().join("folder"), 100), Err(ReadError::Directory)));
        assert!(matches!(read(&fifo, 100), Err(ReadError::Special(_))));
        assert!(matches!(read(&outside, 3), Err(ReadError::TooLarge { size: 6, limit: 3 })));
        assert_eq!(read(&outside, 6).unwrap(), b"secret");
    }

    #[test]
    fn claiming_moves_the_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let processing = dir.path().join(".processing");
        std::fs::create_dir(&processing).unwrap();
        std::fs::write(dir.path().join("a.txt"), b"x").unwrap();
        let first = claim(dir.path(), &processing, OsStr::new("a.txt")).unwrap();
        assert!(first.is_some());
        assert_eq!(claim(dir.path(), &processing, OsStr::new("a.txt")).unwrap(), None);
        assert_eq!(in_processing(&processing).unwrap(), vec![first.unwrap()]);
    }
}
