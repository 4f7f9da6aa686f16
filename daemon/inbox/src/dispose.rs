//! A finished file's way out: `archive/YYYY-MM-DD/` when it was handled, `failed/` beside a
//! `<name>.error.txt` when it was not. Files are moved, never deleted.
//!
//! Destinations are computed from the file's own name (one path component, so it cannot escape
//! the folder) and, on a clash, made unique with the file's id; the caller records the
//! destination before moving, so a restart after a crash finishes the same move.
//!
//! A destination is free only when neither it nor its report name is taken, and a report never
//! replaces a file (it is linked into place, which fails on an existing name): a user's file
//! called `note.txt.error.txt` can never be overwritten by the report for `note.txt`. Names are
//! cut to [`MAX_NAME`] bytes, the rest replaced by a hash of the whole name, so that the report
//! (`NAME.error.txt`) and the temporary names (`.writing-NAME.error.txt`, `.moving-NAME`) stay
//! within the file system's 255 bytes, whatever the user's name was.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::durable;

/// The suffix of a failed file's report.
pub const REPORT_SUFFIX: &str = ".error.txt";

/// Longest destination name: 255 bytes (NAME_MAX) less the longest temporary name built on it,
/// `.writing-NAME.error.txt`.
pub const MAX_NAME: usize = 255 - ".writing-".len() - REPORT_SUFFIX.len();

/// `archive/YYYY-MM-DD`.
pub fn archive_dir(archive: &Path, day: &str) -> PathBuf {
    archive.join(day)
}

/// Where a file named `name` goes in `dir`: its own name (shortened to [`MAX_NAME`]), or
/// `stem.<id>.ext` (then `stem.<id>-2.ext`, ...) when that or its report name is taken.
pub fn destination(dir: &Path, name: &OsStr, file_id: i64) -> PathBuf {
    let name = fit(&safe_name(name), MAX_NAME);
    let free = |path: &Path| {
        std::fs::symlink_metadata(path).is_err() && std::fs::symlink_metadata(report_path(path)).is_err()
    };
    let plain = dir.join(&name);
    if free(&plain) {
        return plain;
    }
    let (stem, ext) = split_extension(name.as_bytes());
    let mut attempt = 1u64;
    loop {
        let mut unique = stem.to_vec();
        unique.extend_from_slice(format!(".{file_id}").as_bytes());
        if attempt > 1 {
            unique.extend_from_slice(format!("-{attempt}").as_bytes());
        }
        unique.extend_from_slice(ext);
        let candidate = dir.join(fit(&OsString::from_vec(unique), MAX_NAME));
        if free(&candidate) {
            return candidate;
        }
        attempt += 1;
    }
}

/// The report written beside a failed file at `failed_file`.
pub fn report_path(failed_file: &Path) -> PathBuf {
    let mut name = failed_file.file_name().map(OsStr::to_os_string).unwrap_or_default();
    name.push(REPORT_SUFFIX);
    failed_file.with_file_name(name)
}

/// `name` when it is at most `max` bytes; else its start (cut at a character boundary), `~`, the
/// first 8 hex digits of its SHA-256 and its extension, `max` bytes at most, so two long names
/// that differ only at the end still get different names.
fn fit(name: &OsStr, max: usize) -> OsString {
    let bytes = name.as_bytes();
    if bytes.len() <= max {
        return name.to_os_string();
    }
    let hash: String = Sha256::digest(bytes).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let (stem, ext) = split_extension(bytes);
    // A long "extension" is part of the name, not a type.
    let (stem, ext) = if ext.len() <= 16 { (stem, ext) } else { (bytes, &b""[..]) };
    let mut keep = (max - ext.len() - 1 - hash.len()).min(stem.len());
    // Never cut a UTF-8 character in two (a continuation byte is 0b10xx_xxxx).
    while keep > 0 && stem.get(keep).is_some_and(|b| b & 0xC0 == 0x80) {
        keep -= 1;
    }
    let mut out = stem[..keep].to_vec();
    out.push(b'~');
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(ext);
    OsString::from_vec(out)
}

/// (stem, `.ext`) of a name; no extension for a leading dot or none at all.
fn split_extension(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().rposition(|&b| b == b'.') {
        Some(i) if i > 0 => (&bytes[..i], &bytes[i..]),
        _ => (bytes, &b""[..]),
    }
}

/// A single, harmless path component: never empty, `.`, `..`, or containing `/`.
fn safe_name(name: &OsStr) -> OsString {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes == b"." || bytes == b".." {
        return OsString::from("unnamed");
    }
    OsString::from_vec(bytes.iter().map(|&b| if b == b'/' || b == 0 { b'_' } else { b }).collect())
}

/// What became of a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// The file is at its destination (moved now, or by an earlier run).
    Done,
    /// Neither the file nor its destination exists: something removed the file meanwhile.
    Vanished,
}

/// Moves `from` to `to`, creating `to`'s folder, and syncs both folders. Succeeds when the move
/// already happened (a restart repeating it). Across file systems it copies (a regular file's
/// bytes; a link as a link, never followed; a fifo or socket as a new one, never opened; a
/// folder entry by entry), syncs, renames the copy into place, then removes the original.
pub fn move_file(from: &Path, to: &Path) -> io::Result<Moved> {
    move_file_with(from, to, |a, b| std::fs::rename(a, b))
}

/// [`move_file`] with the first rename given, so a test can make it fail with `EXDEV`.
pub fn move_file_with(
    from: &Path,
    to: &Path,
    rename: impl FnOnce(&Path, &Path) -> io::Result<()>,
) -> io::Result<Moved> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match rename(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(to).is_ok() {
                // Moved by an earlier run: make sure it is on disk before saying so.
                durable::sync_parents(from, to)?;
                return Ok(Moved::Done);
            }
            if std::fs::symlink_metadata(from).is_err() {
                return Ok(Moved::Vanished);
            }
            return Err(e);
        }
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            let tmp = hidden_sibling(to, ".moving-");
            remove_any(&tmp)?;
            copy_entry(from, &tmp)?;
            durable::rename(&tmp, to)?;
            remove_any(from)?;
        }
        Err(e) => return Err(e),
    }
    durable::sync_parents(from, to)?;
    Ok(Moved::Done)
}

/// Copies the entry at `from` to `to` without following links or opening a fifo, and syncs what
/// it wrote.
fn copy_entry(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)?;
    } else if kind.is_dir() {
        std::fs::create_dir(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_entry(&entry.path(), &to.join(entry.file_name()))?;
        }
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        durable::sync_dir(to)?;
    } else if kind.is_file() {
        std::fs::copy(from, to)?;
        durable::sync_file(to)?;
    } else {
        // A fifo, socket or device: a node of the same kind (a device needs root; without it the
        // error is reported like any other failed move).
        let format = if kind.is_fifo() {
            libc::S_IFIFO
        } else if kind.is_socket() {
            libc::S_IFSOCK
        } else if kind.is_char_device() {
            libc::S_IFCHR
        } else {
            libc::S_IFBLK
        };
        let c = std::ffi::CString::new(to.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: `c` is a valid NUL-terminated path; mknod reads nothing else of ours.
        let rc =
            unsafe { libc::mknod(c.as_ptr(), format | (meta.mode() & 0o7777), meta.rdev() as libc::dev_t) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Removes whatever is at `path` (a folder with its contents; never through a link); nothing
/// there is fine.
fn remove_any(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `<file>.error.txt` beside a failed file, atomically (hidden temp file, then a link
/// into place, which never replaces an existing file). An existing report with the same text is
/// this report, written by a run a crash interrupted; any other file there is left alone and the
/// write fails.
pub fn write_error_report(failed_file: &Path, report: &str) -> io::Result<PathBuf> {
    let path = report_path(failed_file);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = hidden_sibling(&path, ".writing-");
    remove_any(&tmp)?;
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(report.as_bytes())?;
    durable::sync_open(&file)?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, &path);
    std::fs::remove_file(&tmp)?;
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let same = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                && std::fs::read(&path).is_ok_and(|old| old == report.as_bytes());
            if !same {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not this report; it is left alone", path.display()),
                ));
            }
        }
        Err(e) => return Err(e),
    }
    durable::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    Ok(path)
}

fn hidden_sibling(path: &Path, prefix: &str) -> PathBuf {
    let mut name = OsString::from(prefix);
    name.push(path.file_name().unwrap_or_default());
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashing_names_get_the_file_id() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(destination(dir.path(), OsStr::new("a.txt"), 7), dir.path().join("a.txt"));
        std::fs::write(dir.path().join("a.txt"), b"x").unwrap();
        assert_eq!(destination(dir.path(), OsStr::new("a.txt"), 7), dir.path().join("a.7.txt"));
        std::fs::write(dir.path().join("a.7.txt"), b"x").unwrap();
        assert_eq!(destination(dir.path(), OsStr::new("a.txt"), 7), dir.path().join("a.7-2.txt"));
        assert_eq!(destination(dir.path(), OsStr::new(".."), 7), dir.path().join("unnamed"));
    }

    /// Issue 20, finding 2: a user's `note.txt.error.txt` already in failed/ takes `note.txt`'s
    /// report name, so `note.txt` goes elsewhere, and a report never replaces a file.
    #[test]
    fn a_report_name_taken_by_a_users_file_moves_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("note.txt.error.txt"), b"user's bytes").unwrap();
        let to = destination(dir.path(), OsStr::new("note.txt"), 3);
        assert_eq!(to, dir.path().join("note.3.txt"));
        assert!(write_error_report(&dir.path().join("note.txt"), "report").is_err());
        assert_eq!(std::fs::read(dir.path().join("note.txt.error.txt")).unwrap(), b"user's bytes");
        // The same report again (a resumed run) is fine.
        write_error_report(&to, "report").unwrap();
        write_error_report(&to, "report").unwrap();
        assert_eq!(std::fs::read_to_string(report_path(&to)).unwrap(), "report");
    }

    #[test]
    fn long_names_are_shortened_with_a_hash_and_stay_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let long_a = format!("{}a.txt", "é".repeat(125));
        let long_b = format!("{}b.txt", "é".repeat(125));
        assert_eq!(long_a.len(), 255);
        let a = destination(dir.path(), OsStr::new(&long_a), 1);
        let b = destination(dir.path(), OsStr::new(&long_b), 2);
        assert_ne!(a, b);
        for path in [&a, &b] {
            let name = path.file_name().unwrap();
            assert!(name.len() <= MAX_NAME, "{}", name.len());
            assert!(name.to_str().is_some(), "cut inside a character");
            assert!(name.to_string_lossy().ends_with(".txt"));
        }
        std::fs::write(&a, b"x").unwrap();
        let again = destination(dir.path(), OsStr::new(&long_a), 9);
        assert_ne!(again, a);
        assert!(again.file_name().unwrap().len() <= MAX_NAME);
        write_error_report(&again, "r").unwrap();
    }

    #[test]
    fn moving_twice_is_harmless_and_a_vanished_file_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        let to = dir.path().join("day/a");
        std::fs::write(&from, b"x").unwrap();
        assert_eq!(move_file(&from, &to).unwrap(), Moved::Done);
        assert_eq!(move_file(&from, &to).unwrap(), Moved::Done);
        assert_eq!(std::fs::read(&to).unwrap(), b"x");
        assert_eq!(
            move_file(&dir.path().join("gone"), &dir.path().join("day/gone")).unwrap(),
            Moved::Vanished
        );
    }

    /// Issue 20, finding 3: across file systems (an injected `EXDEV`) every kind of entry moves,
    /// links are copied as links and never followed, and a fifo is never opened.
    #[test]
    fn across_file_systems_every_kind_of_entry_moves() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let dst = dir.path().join("dst");
        std::fs::create_dir(&src).unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, b"secret").unwrap();
        std::fs::write(src.join("file.txt"), b"bytes").unwrap();
        std::os::unix::fs::symlink(&outside, src.join("link")).unwrap();
        let fifo = src.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: c is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        std::fs::create_dir_all(src.join("folder/inner")).unwrap();
        std::fs::write(src.join("folder/inner/x.txt"), b"deep").unwrap();
        std::os::unix::fs::symlink(&outside, src.join("folder/link")).unwrap();
        let exdev = |_: &Path, _: &Path| Err(io::Error::from_raw_os_error(libc::EXDEV));
        for name in ["file.txt", "link", "fifo", "folder"] {
            let moved = move_file_with(&src.join(name), &dst.join(name), exdev).unwrap();
            assert_eq!(moved, Moved::Done, "{name}");
            assert!(std::fs::symlink_metadata(src.join(name)).is_err(), "{name} left behind");
        }
        assert_eq!(std::fs::read(dst.join("file.txt")).unwrap(), b"bytes");
        assert_eq!(std::fs::read_link(dst.join("link")).unwrap(), outside);
        assert!(std::fs::symlink_metadata(dst.join("fifo")).unwrap().file_type().is_fifo());
        assert_eq!(std::fs::read(dst.join("folder/inner/x.txt")).unwrap(), b"deep");
        assert!(std::fs::symlink_metadata(dst.join("folder/link")).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&outside).unwrap(), b"secret");
        let leftovers: Vec<_> = std::fs::read_dir(&dst)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
