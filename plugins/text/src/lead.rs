//! What opens a news sentence without being part of what it says: a headline or byline line
//! glued on ahead of it (the splitter only breaks paragraphs at blank lines, so "NASA adds five
//! companies to lunar lander program\nWASHINGTON — NASA announced …" is one sentence), a
//! byline ("By Jane Doe, Associated Press") and a dateline ("WASHINGTON —", "LONDON (Reuters) -",
//! "SEOUL, South Korea (AP) —", "Nov. 19 (UPI) --", "(CNN) --"). The extractive summary and the
//! key points both show a sentence from its first real word, and the key points cite it by
//! byte offset, so [`body_start`] returns an offset into the sentence, not a new string.
//!
//! A dateline is told from a sentence that merely opens with a name and a dash ("Donald
//! Trump — the president — said …") by its form: at most eight words before the dash, each
//! capitalised or a number outside parentheses, and at least one mark of a dateline: a word in
//! capitals ("WASHINGTON"), a parenthesised agency ("(AP)"), a comma between place and region
//! ("Seoul, South Korea") or a month ("Nov. 19").

/// Dashes that end a dateline, with the spaces around them.
const DASHES: [&str; 6] = [" \u{2014} ", " \u{2013} ", " -- ", " - ", "\u{2014}", " \u{2014}"];

const MONTHS: [&str; 24] = [
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Byte offset in `sentence` where what it says begins: after any glued heading or byline
/// line, byline and dateline, and the spaces after them; 0 when it has none.
pub fn body_start(sentence: &str) -> usize {
    let mut offset = 0;
    // A line without an end mark before a line break is a headline or byline glued on.
    while let Some(at) = sentence[offset..].find('\n') {
        let line = sentence[offset..offset + at].trim();
        let is_heading = !line.ends_with(['.', '!', '?', '"', '\u{201D}', ':', ';', ','])
            && line.split_whitespace().count() <= 20;
        if !is_heading {
            break;
        }
        offset += at + 1;
        offset += sentence[offset..].len() - sentence[offset..].trim_start().len();
    }
    let rest = &sentence[offset..];
    if let Some((head_end, dash)) = first_dash(rest) {
        if is_dateline(&rest[..head_end]) {
            let after = head_end + dash.len();
            offset += after + (rest[after..].len() - rest[after..].trim_start().len());
        }
    } else if let Some(end) = glued_agency_end(rest) {
        offset += end;
    }
    // Nothing may be left but the dateline itself.
    if sentence[offset..].split_whitespace().count() < 2 {
        return 0;
    }
    offset
}

/// The end of a dashless dateline whose agency is glued to the first word, as some sites save
/// it: "Hong Kong (CNN Business)A muddled view …", "(CNN)The president …". Without the dash the
/// form has to be strict: at most four capitalised words before the parenthesis, at most three
/// capitalised words in it, and a capital letter right after it with no space.
fn glued_agency_end(text: &str) -> Option<usize> {
    let open = text.find('(')?;
    let close = open + text[open..].find(')')?;
    let capitalised = |s: &str, most: usize| {
        let words: Vec<&str> = s.split_whitespace().collect();
        words.len() <= most && words.iter().all(|w| w.starts_with(char::is_uppercase))
    };
    let glued = text[close + 1..].starts_with(char::is_uppercase);
    let agency = &text[open + 1..close];
    (glued && !agency.trim().is_empty() && capitalised(&text[..open], 4) && capitalised(agency, 3))
        .then_some(close + 1)
}

/// `sentence` from [`body_start`].
pub fn without_lead(sentence: &str) -> &str {
    &sentence[body_start(sentence)..]
}

/// The earliest dash of [`DASHES`] in the first 80 bytes of `text`, with where it starts.
fn first_dash(text: &str) -> Option<(usize, &'static str)> {
    DASHES
        .iter()
        .filter_map(|&d| text.find(d).map(|at| (at, d)))
        .filter(|&(at, _)| at > 0 && at <= 80)
        .min_by_key(|&(at, d)| (at, std::cmp::Reverse(d.len())))
}

/// Whether `head`, the text before a dash, is a dateline (possibly after a byline).
fn is_dateline(head: &str) -> bool {
    let head = head.trim();
    // A byline before the dateline ("By Jane Doe, AP WASHINGTON") is part of what goes.
    let head = match head.strip_prefix("By ") {
        Some(rest) => rest,
        None => head,
    };
    let mut outside = String::new();
    let mut depth = 0usize;
    let mut agency = false;
    for c in head.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                agency = true;
            }
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = outside.split_whitespace().collect();
    if words.len() > 8 || depth > 0 {
        return false;
    }
    let all_capitalised = words.iter().all(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        w.is_empty() || w.starts_with(char::is_uppercase) || w.starts_with(|c: char| c.is_ascii_digit())
    });
    if !all_capitalised {
        return false;
    }
    let letters = |w: &str| w.chars().filter(|c| c.is_alphabetic()).count();
    let in_capitals = words
        .iter()
        .any(|w| letters(w) >= 2 && w.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase));
    let month = words.first().is_some_and(|w| {
        MONTHS.contains(&w.trim_end_matches('.').to_lowercase().as_str())
            && words.get(1).is_some_and(|d| d.trim_end_matches(',').chars().all(|c| c.is_ascii_digit()))
    });
    in_capitals || agency || outside.contains(',') || month
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_usual_datelines() {
        for (sentence, body) in [
            ("WASHINGTON \u{2014} NASA announced five companies.", "NASA announced five companies."),
            ("LONDON (Reuters) - Britain's economy grew 0.2%.", "Britain's economy grew 0.2%."),
            ("SEOUL, South Korea (AP) \u{2014} North Korea fired a missile.", "North Korea fired a missile."),
            ("Nov. 19 (UPI) -- A fire destroyed the old mill.", "A fire destroyed the old mill."),
            ("(CNN) -- A fire destroyed the old mill.", "A fire destroyed the old mill."),
            ("Pyongyang, North Korea \u{2013} Talks resumed on Monday.", "Talks resumed on Monday."),
            ("WASHINGTON\u{2014}NASA announced five companies.", "NASA announced five companies."),
        ] {
            assert_eq!(without_lead(sentence), body, "{sentence}");
        }
    }

    /// Some saved pages glue the agency to the first word, with no dash; a parenthesis in a
    /// sentence's own words is left alone.
    #[test]
    fn an_agency_glued_to_the_first_word_goes() {
        let s = "Hong Kong (CNN Business)A muddled view of US-China trade talks weighs on investors.";
        assert_eq!(without_lead(s), "A muddled view of US-China trade talks weighs on investors.");
        assert_eq!(without_lead("(CNN)The president spoke on Monday."), "The president spoke on Monday.");
        let own = "The United Nations (UN) said on Monday that aid would arrive.";
        assert_eq!(without_lead(own), own);
    }

    /// A name, a clause or a range with a dash is not a dateline.
    #[test]
    fn keeps_dashes_that_are_not_datelines() {
        for sentence in [
            "Donald Trump \u{2014} the president \u{2014} said he would veto it.",
            "The vote \u{2014} the first in years \u{2014} passed.",
            "Prices rose 5 - 10 percent in May.",
            "Officials said the bridge \u{2014} closed since May \u{2014} will reopen.",
        ] {
            assert_eq!(without_lead(sentence), sentence);
        }
    }

    /// The case: the headline glued onto the first sentence by a single line break,
    /// then a dateline; and a byline line.
    #[test]
    fn strips_a_glued_headline_and_byline() {
        let sentence =
            "NASA adds five companies to commercial lunar lander program\nWASHINGTON \u{2014} NASA \
                        announced on Monday that five more companies may bid.";
        assert_eq!(without_lead(sentence), "NASA announced on Monday that five more companies may bid.");
        let sentence = "By Jane Doe, Associated Press\nThe council voted to close the plant on Friday.";
        assert_eq!(without_lead(sentence), "The council voted to close the plant on Friday.");
        let sentence = "The council voted on Friday.\nIt will close the plant.";
        assert_eq!(without_lead(sentence), sentence, "a line that ends a sentence stays");
    }
}
