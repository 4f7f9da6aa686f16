//! Names, places, numbers and dates: the words that tell two stories of the same kind apart (two
//! earthquakes in one week share "quake", "magnitude" and "killed", not "Sumatra" and "Chile").
//!
//! Without a tagger, an entity is a capitalised word that does not open a sentence, or any token
//! holding a digit (numbers, years, days of the month). Crude, but it needs no model.

use std::collections::BTreeSet;

use text::stop_words::NON_TOPICAL;

/// The lower-cased entity words of `text`.
pub fn entities(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut sentence_start = true;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            if is_entity(&word, sentence_start) {
                out.insert(word.to_lowercase());
            }
            sentence_start = false;
            word.clear();
        }
        // A line break or end punctuation opens a sentence whose first word is capitalised
        // for grammar, not because it is a name.
        if matches!(c, '.' | '!' | '?' | '\n' | ':' | '"' | '“' | '—') {
            sentence_start = true;
        }
    }
    out
}

/// Weekdays and months, with their usual abbreviations: capitalised, but every text of a day
/// names the same few, so they tell no event from another.
const CALENDAR: [&str; 41] = [
    "apr",
    "april",
    "aug",
    "august",
    "dec",
    "december",
    "feb",
    "february",
    "fri",
    "friday",
    "jan",
    "january",
    "jul",
    "july",
    "jun",
    "june",
    "mar",
    "march",
    "may",
    "mon",
    "monday",
    "nov",
    "november",
    "oct",
    "october",
    "sat",
    "saturday",
    "sep",
    "sept",
    "september",
    "sun",
    "sunday",
    "thu",
    "thur",
    "thurs",
    "thursday",
    "tue",
    "tues",
    "tuesday",
    "wed",
    "wednesday",
];

/// The event anchors of a text's lead (its first `lead_words` words): each maximal run of entity
/// words (`Hong Kong`, `Blue Origin`, `12 000`) as one lower-cased anchor, so that two texts
/// sharing only "Hong Kong" share one anchor, not two. A run that only dates the text (weekdays,
/// months, days of the month and years: "Tuesday", "Nov 18", "November 2019") is no anchor:
/// every report of a day shares it, whatever it is about.
pub fn lead_anchors(text: &str, lead_words: usize) -> Vec<Vec<String>> {
    let mut anchors: Vec<Vec<String>> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let mut sentence_start = true;
    let mut word = String::new();
    let mut seen = 0;
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            seen += 1;
            if seen > lead_words {
                break;
            }
            if is_entity(&word, sentence_start) {
                run.push(word.to_lowercase());
            } else if !run.is_empty() {
                anchors.push(std::mem::take(&mut run));
            }
            sentence_start = false;
            word.clear();
        }
        // A run ends at punctuation too: "Tokyo, Seoul" are two places.
        if !c.is_whitespace() && !run.is_empty() && c != '-' && c != '\'' && c != '’' {
            anchors.push(std::mem::take(&mut run));
        }
        if matches!(c, '.' | '!' | '?' | '\n' | ':' | '"' | '“' | '—') {
            sentence_start = true;
        }
    }
    if !run.is_empty() {
        anchors.push(run);
    }
    anchors.retain(|run| !is_date(run));
    anchors.sort();
    anchors.dedup();
    anchors
}

/// Whether a run of entity words only names a date: weekdays, months, days of the month (1 to
/// 31) and years (1900 to 2099).
fn is_date(run: &[String]) -> bool {
    run.iter().all(|word| {
        let calendar = CALENDAR.binary_search(&word.as_str()).is_ok();
        let number = word.parse::<u32>().is_ok_and(|n| (1..=31).contains(&n) || (1900..=2099).contains(&n));
        calendar || number
    })
}

/// How many anchors the two leads share: an anchor matches when one holds the other as a
/// contiguous run of words ("hong kong" matches "hong kong police"), so a longer name in one text
/// still counts. The count is the smaller of the two sides' matched anchors, so one name that
/// appears in two runs of one lead ("Hong Kong" and "HK$176 Hong Kong") is one shared anchor,
/// not two.
pub fn shared_anchors(mine: &[Vec<String>], theirs: &[Vec<String>]) -> usize {
    let contains = |long: &[String], short: &[String]| long.windows(short.len()).any(|w| w == short);
    let matches =
        |a: &Vec<String>, b: &Vec<String>| if a.len() >= b.len() { contains(a, b) } else { contains(b, a) };
    let mine_matched = mine.iter().filter(|a| theirs.iter().any(|b| matches(a, b))).count();
    let theirs_matched = theirs.iter().filter(|b| mine.iter().any(|a| matches(a, b))).count();
    mine_matched.min(theirs_matched)
}

fn is_entity(word: &str, sentence_start: bool) -> bool {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let capitalised = word.chars().next().is_some_and(char::is_uppercase);
    capitalised && !sentence_start && word.chars().count() > 1 && !NON_TOPICAL.contains(&word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_not_sentence_openers() {
        let found = entities("The quake struck Sumatra on Monday. Officials said 52 died in 2009.");
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        assert_eq!(found, ["2009", "52", "monday", "sumatra"]);
    }

    #[test]
    fn anchors_are_runs_of_names_and_match_inside_longer_ones() {
        let lead = "Shares rose in Hong Kong and Tokyo, Seoul on Monday. More text about Alibaba here.";
        let a = lead_anchors(lead, 12);
        let shown: Vec<String> = a.iter().map(|r| r.join(" ")).collect();
        assert_eq!(shown, ["hong kong", "seoul", "tokyo"], "the lead stops after 12 words");
        let b = lead_anchors("Protests in the streets of Hong Kong Police territory and Seoul again", 20);
        assert_eq!(shared_anchors(&a, &b), 2, "{b:?}");
        assert_eq!(shared_anchors(&a, &[]), 0);
    }

    fn shown(text: &str) -> Vec<String> {
        lead_anchors(text, 60).iter().map(|r| r.join(" ")).collect()
    }

    #[test]
    fn dates_are_not_anchors() {
        let markets = shown(include_str!("../test_data/anchors/markets.txt"));
        // "Tuesday, November 19" and the "1" of "1.2 percent" (a day-sized number) are left out.
        assert_eq!(markets, ["hang seng", "hong kong", "us china"]);
        let listing = shown(include_str!("../test_data/anchors/listing.txt"));
        assert!(
            !listing.iter().any(|a| a.contains("tuesday") || a.contains("nov") || a == "2019"),
            "{listing:?}"
        );
        assert_eq!(listing, ["176 hong kong", "hk", "hong kong"], "2010 alone is a year");
    }

    #[test]
    fn one_name_in_two_runs_is_one_shared_anchor() {
        let listing = lead_anchors(include_str!("../test_data/anchors/listing.txt"), 60);
        let markets = lead_anchors(include_str!("../test_data/anchors/markets.txt"), 60);
        // "HK$176 Hong Kong dollars" and "in Hong Kong" both hold the markets' "Hong Kong".
        assert_eq!(shared_anchors(&listing, &markets), 1);
        assert_eq!(shared_anchors(&markets, &listing), 1);
        let followup = lead_anchors(include_str!("../test_data/anchors/listing_followup.txt"), 60);
        assert_eq!(shared_anchors(&listing, &followup), 3, "hk, hong kong and 176");
    }
}
