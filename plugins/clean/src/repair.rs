//! Text repair shared by every format: mojibake (UTF-8 that was read as Windows-1252 or
//! Latin-1 somewhere upstream), leftover HTML entities, and the space lost after punctuation in
//! pasted text.

use std::sync::LazyLock;

use regex::Regex;

/// Applies every repair.
pub fn repair(text: &str) -> String {
    let text = fix_mojibake(text);
    let text = if text.contains('&') { crate::html::decode_entities(&text) } else { text };
    repair_spacing(&text)
}

/// Sequences that UTF-8 text takes on when its bytes are read as Windows-1252.
const MOJIBAKE_MARKS: &[&str] =
    &["Ã©", "Ã¨", "Ã¶", "Ã¼", "Ã¤", "Ã¡", "Ã³", "Ã±", "Ã§", "â€™", "â€œ", "â€", "Â "];

fn mojibake_count(text: &str) -> usize {
    MOJIBAKE_MARKS.iter().map(|m| text.matches(m).count()).sum()
}

/// Undoes UTF-8-read-as-Windows-1252 when doing so makes the marks of it disappear; text that
/// does not round-trip cleanly is left as it was.
pub fn fix_mojibake(text: &str) -> String {
    let before = mojibake_count(text);
    if before == 0 {
        return text.to_string();
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    if unmappable {
        return text.to_string();
    }
    match std::str::from_utf8(&bytes) {
        Ok(fixed) if mojibake_count(fixed) < before => fixed.to_string(),
        _ => text.to_string(),
    }
}

/// Puts back the space lost after punctuation in pasted text ("scrutiny.Choe", "talks,held"),
/// leaving abbreviations ("U.S."), numbers ("3.5", "1,000") and web addresses alone.
pub fn repair_spacing(text: &str) -> String {
    static GLUED_SENTENCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\p{Ll}{2})([.!?])(\p{Lu}\p{Ll})").expect("valid regex"));
    static GLUED_COMMA: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\p{Ll}{2})([,;])(\p{Ll}{2})").expect("valid regex"));
    let text = GLUED_SENTENCE.replace_all(text, "$1$2 $3");
    GLUED_COMMA.replace_all(&text, "$1$2 $3").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undoes_utf8_read_as_windows_1252() {
        assert_eq!(fix_mojibake("CafÃ© owners donâ€™t agree"), "Café owners don’t agree");
        assert_eq!(fix_mojibake("Plain text stays"), "Plain text stays");
    }

    #[test]
    fn repairs_glued_punctuation_but_not_abbreviations_or_numbers() {
        assert_eq!(
            repair_spacing("scrutiny.Choe said talks,held amid"),
            "scrutiny. Choe said talks, held amid"
        );
        assert_eq!(
            repair_spacing("the U.S. said 3.5 and 1,000 at example.com"),
            "the U.S. said 3.5 and 1,000 at example.com"
        );
    }

    #[test]
    fn decodes_leftover_entities() {
        assert_eq!(repair("Fish &amp; chips"), "Fish & chips");
    }
}
