//! Bytes to text: byte-order marks, UTF-16 without a mark, UTF-8, and legacy encodings.
//!
//! Binary content is refused before any decoding, and bytes that are *almost* UTF-8 (valid
//! multi-byte sequences mixed with broken ones) are refused rather than guessed at: such a file
//! is damaged, and reading it as Latin-1 would garble every accented letter in it.

use std::fmt;

/// Decoded text and how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, without any byte-order mark.
    pub text: String,
    /// The encoding used, e.g. "UTF-8", "UTF-16LE", "windows-1252".
    pub encoding: &'static str,
}

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Zero bytes.
    Empty,
    /// NUL bytes or many control characters.
    Binary,
    /// Mostly UTF-8 with broken sequences.
    BrokenUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "the file is empty (0 bytes)"),
            DecodeError::Binary => write!(
                f,
                "the file looks binary (NUL bytes or control characters), not an article; briefd reads plain text, Markdown, HTML and JSON"
            ),
            DecodeError::BrokenUtf8 { offset } => write!(
                f,
                "the file is damaged UTF-8: valid UTF-8 text with an invalid byte sequence at byte {offset}; re-save it as UTF-8"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes `bytes` into text.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return finish(text.into_owned(), encoding.name());
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return finish(text.into_owned(), encoding.name());
    }
    if looks_binary(bytes) {
        return Err(DecodeError::Binary);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => finish(text.to_owned(), "UTF-8"),
        Err(e) => {
            if has_valid_multibyte_utf8(bytes) {
                return Err(DecodeError::BrokenUtf8 { offset: e.valid_up_to() });
            }
            let mut detector = chardetng::EncodingDetector::new();
            detector.feed(bytes, true);
            let encoding = detector.guess(None, true);
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            finish(text.into_owned(), encoding.name())
        }
    }
}

fn finish(text: String, encoding: &'static str) -> Result<Decoded, DecodeError> {
    // Decoded UTF-16 of a binary file shows up as control characters or NULs.
    let sample: Vec<char> = text.chars().take(8192).collect();
    let controls =
        sample.iter().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0C}')).count();
    if sample.contains(&'\0') || controls * 20 > sample.len().max(1) {
        return Err(DecodeError::Binary);
    }
    Ok(Decoded { text, encoding })
}

/// UTF-16 without a BOM: ASCII-range text leaves one zero byte in every pair.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let zero_odd = sample.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if zero_odd * 10 > pairs * 6 && zero_even * 20 < pairs {
        Some(encoding_rs::UTF_16LE)
    } else if zero_even * 10 > pairs * 6 && zero_odd * 20 < pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    let controls =
        sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C | 0x1B)).count();
    sample.contains(&0) || controls * 20 > sample.len()
}

/// True when the bytes hold at least one well-formed UTF-8 sequence of two or more bytes.
fn has_valid_multibyte_utf8(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => return s.bytes().any(|b| b >= 0x80),
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                if valid.iter().any(|&b| b >= 0x80) {
                    return true;
                }
                let skip = e.error_len().unwrap_or(after.len()).max(1);
                rest = &after[skip.min(after.len())..];
                if rest.is_empty() {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf16_with_and_without_bom() {
        let le: Vec<u8> = "Hello, news world".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = "Hello, news world".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend_from_slice(&le);
        assert_eq!(decode(&le).unwrap().text, "Hello, news world");
        assert_eq!(decode(&be).unwrap().text, "Hello, news world");
        assert_eq!(decode(&with_bom).unwrap().text, "Hello, news world");
    }

    #[test]
    fn reads_latin1_as_a_legacy_encoding() {
        let d = decode(b"Caf\xe9 au lait in M\xfcnchen, the caf\xe9 opened").unwrap();
        assert!(d.text.contains("Café"), "{}", d.text);
    }

    #[test]
    fn refuses_broken_utf8() {
        let e = decode(b"Caf\xc3\xa9 is fine but this \xc3\x28 is not").unwrap_err();
        assert_eq!(e, DecodeError::BrokenUtf8 { offset: 23 });
    }

    #[test]
    fn refuses_binary_and_empty() {
        assert_eq!(decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err(), DecodeError::Binary);
        assert_eq!(decode(b"").unwrap_err(), DecodeError::Empty);
    }

    #[test]
    fn strips_the_utf8_bom() {
        assert_eq!(decode(b"\xEF\xBB\xBFhello").unwrap().text, "hello");
    }
}
