//! Values in a sentence (numbers, weekdays, months, names) and where two sentences about the
//! same fact give different ones: the "sources differ" check.
//!
//! A value of one sentence conflicts with a value of the other only when both are of the same
//! kind, neither appears anywhere in the other sentence, and they stand in the same place: the
//! word just before or just after each is the same ("killed 12 people" / "killed 15 people").
//! Requiring that shared neighbour is what keeps unrelated numbers of two long sentences (a
//! date in one, a count in the other) from being reported as a disagreement.
//!
//! Names (a run of capitalised words inside a sentence) are held to more, because a false
//! "sources differ" misleads more than a missed one and outlets often name more people and
//! places than each other: both neighbours must be the same ("said Anna Berg, the minister" /
//! "said Maria Lund, the minister"), and no word of either name may appear anywhere in the
//! other source's article, so a source that mentions the other name at all (it may be another
//! person of the story, or the same one written differently) is never said to contradict it.

/// A value token of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The token as written, without surrounding punctuation ("1,200", "6.1", "Monday"), or
    /// a name's words ("Anna Berg").
    pub text: String,
    /// Byte offset of `text` in the sentence.
    pub start: usize,
    kind: Kind,
    before: String,
    after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Weekday,
    Month,
    Name,
}

/// Capitalised words that are not names: pronouns, articles and titles a quote or a heading
/// may start with inside a sentence.
const NOT_NAMES: [&str; 24] = [
    "i", "we", "he", "she", "it", "they", "you", "the", "a", "an", "this", "that", "these", "those", "his",
    "her", "their", "its", "our", "my", "but", "and", "in", "on",
];

const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The values of `sentence`, in order.
pub fn values(sentence: &str) -> Vec<Value> {
    let tokens = tokens(sentence);
    let neighbour = |j: Option<usize>| {
        j.and_then(|j| tokens.get(j))
            .map(|(_, t)| t.to_lowercase())
            .filter(|t| !is_value_word(t))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (start, token) = tokens[i];
        let lower = token.to_lowercase();
        let kind = if token.chars().any(|c| c.is_ascii_digit()) {
            Kind::Number
        } else if WEEKDAYS.contains(&lower.as_str()) {
            Kind::Weekday
        // "May" opens sentences and names people; only a capitalised month name other than
        // "May" counts.
        } else if MONTHS.contains(&lower.as_str()) && lower != "may" && token.starts_with(char::is_uppercase)
        {
            Kind::Month
        } else if i > 0 && is_name_word(token) {
            // The first word is capitalised whatever it is, so a name is only looked for after it.
            let run = name_run(sentence, &tokens[i..]);
            let (last_start, last) = tokens[i + run - 1];
            out.push(Value {
                text: sentence[start..last_start + last.len()].to_string(),
                start,
                kind: Kind::Name,
                before: neighbour(i.checked_sub(1)),
                after: neighbour(Some(i + run)),
            });
            i += run;
            continue;
        } else {
            i += 1;
            continue;
        };
        out.push(Value {
            text: token.to_string(),
            start,
            kind,
            before: neighbour(i.checked_sub(1)),
            after: neighbour(Some(i + 1)),
        });
        i += 1;
    }
    out
}

/// A capitalised word that may be part of a name.
fn is_name_word(token: &str) -> bool {
    let lower = token.to_lowercase();
    token.starts_with(char::is_uppercase)
        && token.chars().all(char::is_alphabetic)
        && !NOT_NAMES.contains(&lower.as_str())
        && !WEEKDAYS.contains(&lower.as_str())
        && !MONTHS.contains(&lower.as_str())
}

/// How many of `tokens` (the first a name word) make one name: name words separated by nothing
/// but a space, so "Seoul, South Korea" is two names.
fn name_run(sentence: &str, tokens: &[(usize, &str)]) -> usize {
    let mut run = 1;
    while let Some(&(next_start, next)) = tokens.get(run) {
        let (start, token) = tokens[run - 1];
        if !is_name_word(next) || sentence[start + token.len()..next_start] != *" " {
            break;
        }
        run += 1;
    }
    run
}

/// Pairs `(value of a, value of b)` where the two sentences give different values for the same
/// slot; empty when they agree. `a_article` and `b_article` are the texts of the articles the
/// sentences come from, which a name must be absent from to conflict.
pub fn conflicts(a: &[Value], b: &[Value], a_article: &str, b_article: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, x) in a.iter().enumerate() {
        if b.iter().any(|y| y.text == x.text) {
            continue;
        }
        let found = b.iter().position(|y| {
            y.kind == x.kind
                && !a.iter().any(|z| z.text == y.text)
                && if x.kind == Kind::Name {
                    !x.before.is_empty()
                        && x.before == y.before
                        && x.after == y.after
                        && !mentions_any(b_article, &x.text)
                        && !mentions_any(a_article, &y.text)
                } else {
                    (!x.after.is_empty() && x.after == y.after)
                        || (!x.before.is_empty() && x.before == y.before)
                }
        });
        if let Some(j) = found {
            if !out.iter().any(|&(_, k)| k == j) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Whether `text` holds any word of `name` (case aside), as a word or the start of one, so
/// "Berg" is found in "Berg's" and "Korea" in "Korean".
fn mentions_any(text: &str, name: &str) -> bool {
    let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).any(|w| {
        let w = w.to_lowercase();
        words.iter().any(|n| w.starts_with(n.as_str()))
    })
}

fn is_value_word(lower: &str) -> bool {
    lower.chars().any(|c| c.is_ascii_digit()) || WEEKDAYS.contains(&lower) || MONTHS.contains(&lower)
}

/// Whitespace tokens with their byte offsets, stripped of surrounding punctuation; a currency
/// sign or percent stays outside the value so "$12" and "$15" compare as 12 and 15.
fn tokens(sentence: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for piece in sentence.split_whitespace() {
        let at =
            offset + sentence[offset..].find(piece).expect("split_whitespace yields pieces of the sentence");
        offset = at + piece.len();
        let trimmed_start = piece.trim_start_matches(|c: char| !c.is_alphanumeric());
        let lead = piece.len() - trimmed_start.len();
        let token = trimmed_start.trim_end_matches(|c: char| !c.is_alphanumeric());
        if !token.is_empty() {
            out.push((at + lead, token));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_numbers_and_dates_with_their_offsets() {
        let s = "On Monday, the quake killed 1,200 people ($3.5 billion) in May.";
        let v = values(s);
        let texts: Vec<&str> = v.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, ["Monday", "1,200", "3.5"]);
        let names = values("Officials in Seoul, South Korea said Anna Berg met them.");
        let texts: Vec<&str> = names.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, ["Seoul", "South Korea", "Anna Berg"]);
        for v in &v {
            assert_eq!(&s[v.start..v.start + v.text.len()], v.text);
        }
    }

    #[test]
    fn the_same_slot_with_other_numbers_conflicts() {
        let a = values("The quake killed 12 people in Tarvos on Monday.");
        let b = values("Officials said the quake killed 15 people in Tarvos on Monday.");
        assert_eq!(conflicts(&a, &b, "", ""), [(0, 0)]);
    }

    #[test]
    fn unrelated_numbers_do_not_conflict() {
        let a = values("The resort can host 20,000 visitors a year.");
        let b = values("The talks were held on July 12 in Wonsan.");
        assert!(conflicts(&a, &b, "", "").is_empty());
        let same = values("The quake killed 12 people.");
        assert!(conflicts(&same, &values("At least 12 people died in the quake."), "", "").is_empty());
    }

    #[test]
    fn another_name_in_the_same_slot_conflicts() {
        let a = "The bridge was opened by Anna Berg, the transport minister, in Tarvik.";
        let b = "The bridge was opened by Maria Lund, the transport minister, in Tarvik.";
        let found = conflicts(&values(a), &values(b), a, b);
        assert_eq!(found.len(), 1);
        assert_eq!(values(a)[found[0].0].text, "Anna Berg");
        assert_eq!(values(b)[found[0].1].text, "Maria Lund");
    }

    /// A name the other source mentions anywhere, or one that shares only one neighbour, is
    /// never a disagreement.
    #[test]
    fn names_conflict_only_in_the_same_slot_and_unmentioned() {
        let a = "The bridge was opened by Anna Berg, the transport minister, in Tarvik.";
        let b = "The bridge was opened by Maria Lund, the transport minister, in Tarvik.";
        let b_article = "Anna Berg's deputy spoke first. ".to_string() + b;
        assert!(conflicts(&values(a), &values(b), a, &b_article).is_empty());
        let c = "The bridge was opened by Maria Lund and the transport minister in Tarvik.";
        assert!(conflicts(&values(a), &values(c), a, c).is_empty());
        let d = "Lavrov met Choe Son Hui in Wonsan on Saturday.";
        let e = "Lavrov met his counterpart in Wonsan on Saturday.";
        assert!(conflicts(&values(d), &values(e), d, e).is_empty());
    }
}
