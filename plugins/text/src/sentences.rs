//! Sentence splitting for news text: Unicode sentence boundaries (UAX #29), then re-joined where
//! the boundary fell after a common abbreviation or an initial ("Gen.", "J. Smith").

use unicode_segmentation::UnicodeSegmentation;

/// A sentence and its byte range in the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// The sentence, trimmed.
    pub text: &'a str,
    /// Byte offset of `text` in the source.
    pub start: usize,
    /// Index of the paragraph (blank-line separated block) it belongs to.
    pub paragraph: usize,
}

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "gov", "sen", "rep", "st", "jr",
    "sr", "inc", "ltd", "co", "corp", "vs", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
];

/// Splits `text` into sentences, paragraph by paragraph.
pub fn split(text: &str) -> Vec<Sentence<'_>> {
    let mut out: Vec<Sentence<'_>> = Vec::new();
    let mut offset = 0;
    for (paragraph, block) in text.split("\n\n").enumerate() {
        let block_start = offset;
        offset += block.len() + 2;
        let mut pending: Option<(usize, usize)> = None; // byte range within text
        for (i, piece) in block.split_sentence_bound_indices() {
            let start = block_start + i;
            let end = start + piece.len();
            let (s, _) = pending.unwrap_or((start, end));
            pending = Some((s, end));
            if !ends_in_abbreviation(piece.trim_end()) {
                push(&mut out, text, pending.take().expect("set above"), paragraph);
            }
        }
        if let Some(range) = pending {
            push(&mut out, text, range, paragraph);
        }
    }
    out
}

fn push<'a>(out: &mut Vec<Sentence<'a>>, text: &'a str, (start, end): (usize, usize), paragraph: usize) {
    let raw = &text[start..end];
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return;
    }
    let lead = raw.len() - raw.trim_start().len();
    out.push(Sentence { text: trimmed, start: start + lead, paragraph });
}

/// Whether `piece` ends in a full stop after a common abbreviation or an initial ("Gen.",
/// "John F."), where a sentence boundary is not one.
pub fn ends_in_abbreviation(piece: &str) -> bool {
    let Some(body) = piece.strip_suffix('.') else { return false };
    let last = body.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    let lower = last.to_lowercase();
    // A single capital letter is an initial ("John F. Kennedy").
    (last.chars().count() == 1 && last.chars().all(char::is_uppercase))
        || ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_abbreviations_and_initials_inside_sentences() {
        let s: Vec<&str> = split("Gen. Smith met John F. Kennedy. Then he left.\n\nNew paragraph here.")
            .iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(s, ["Gen. Smith met John F. Kennedy.", "Then he left.", "New paragraph here."]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "One two.  Three four.\n\nFive.";
        for s in split(text) {
            assert_eq!(&text[s.start..s.start + s.text.len()], s.text);
        }
    }
}
