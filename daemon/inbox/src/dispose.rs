//! A finished file's way out: `archive/YYYY-MM-DD/` when it was handled, `failed/` beside a
//! `<name>.error.txt` when it was not. Files are moved, never deleted.
//!
//! Destinations are computed from the file's own name (one path component, so it cannot escape
//! the folder) and, on a clash, made unique with the file's id; the caller records the
//! destination before moving, so a restart after a crash finishes the same move.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// `archive/YYYY-MM-DD`.
pub fn archive_dir(archive: &Path, day: &str) -> PathBuf {
    archive.join(day)
}

/// Where a file named `name` goes in `dir`: its own name, or `stem.<id>.ext` when that is taken.
pub fn destination(dir: &Path, name: &OsStr, file_id: i64) -> PathBuf {
    let name = safe_name(name);
    let plain = dir.join(&name);
    if std::fs::symlink_metadata(&plain).is_err() {
        return plain;
    }
    let bytes = name.as_bytes();
    let (stem, ext) = match bytes.iter().rposition(|&b| b == b'.') {
        Some(i) if i > 0 => (&bytes[..i], &bytes[i..]),
        _ => (bytes, &b""[..]),
    };
    let mut unique = stem.to_vec();
    unique.extend_from_slice(format!(".{file_id}").as_bytes());
    unique.extend_from_slice(ext);
    dir.join(OsString::from_vec(unique))
}

/// A single, harmless path component: never empty, `.`, `..`, or containing `/`.
fn safe_name(name: &OsStr) -> OsString {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes == b"." || bytes == b".." {
        return OsString::from("unnamed");
    }
    OsString::from_vec(bytes.iter().map(|&b| if b == b'/' || b == 0 { b'_' } else { b }).collect())
}

/// Moves `from` to `to`, creating `to`'s folder. Succeeds when the move already happened (a
/// restart repeating it). Across file systems it copies, syncs, then removes the original.
pub fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && std::fs::symlink_metadata(to).is_ok() => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            let meta = std::fs::symlink_metadata(from)?;
            if !meta.is_file() {
                return Err(io::Error::other(format!(
                    "{} is not a regular file and cannot be moved to another file system",
                    from.display()
                )));
            }
            let tmp = hidden_sibling(to, ".moving-");
            std::fs::copy(from, &tmp)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, to)?;
            std::fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

/// Writes `<file>.error.txt` beside a failed file, atomically (hidden temp file, then rename).
pub fn write_error_report(failed_file: &Path, report: &str) -> io::Result<PathBuf> {
    let mut name = failed_file.file_name().map(OsStr::to_os_string).unwrap_or_default();
    name.push(".error.txt");
    let path = failed_file.with_file_name(name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = hidden_sibling(&path, ".writing-");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(report.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
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
        assert_eq!(destination(dir.path(), OsStr::new(".."), 7), dir.path().join("unnamed"));
    }

    #[test]
    fn moving_twice_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        let to = dir.path().join("day/a");
        std::fs::write(&from, b"x").unwrap();
        move_file(&from, &to).unwrap();
        move_file(&from, &to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"x");
    }
}
