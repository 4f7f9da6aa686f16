//! Names the inbox does not take: hidden files and the temporary names browsers, downloaders and
//! editors write under before renaming the finished file.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

const TEMPORARY_SUFFIXES: &[&str] =
    &[".part", ".partial", ".crdownload", ".download", ".tmp", ".temp", "~", ".swp", ".swx"];

/// True when `name` is to be left alone until it is renamed.
pub fn is_ignored(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes[0] == b'.' {
        return true;
    }
    let lower = bytes.to_ascii_lowercase();
    TEMPORARY_SUFFIXES.iter().any(|s| lower.ends_with(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_hidden_and_temporary_names() {
        for name in [".hidden", "a.txt.part", "page.crdownload", "x.TMP", "notes~", ".a.swp", "f.swp"] {
            assert!(is_ignored(OsStr::new(name)), "{name}");
        }
        for name in ["a.txt", "partial-news.md", "tmp.html"] {
            assert!(!is_ignored(OsStr::new(name)), "{name}");
        }
    }
}
