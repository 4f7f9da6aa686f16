//! Values in a sentence (numbers, weekdays, months) and where two sentences about the same fact
//! give different ones: the "sources differ" check.
//!
//! A value of one sentence conflicts with a value of the other only when both are of the same
//! kind, neither appears anywhere in the other sentence, and they stand in the same place: the
//! word just before or just after each is the same ("killed 12 people" / "killed 15 people").
//! Requiring that shared neighbour is what keeps unrelated numbers of two long sentences (a
//! date in one, a count in the other) from being reported as a disagreement.

/// A value token of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The token as written, without surrounding punctuation ("1,200", "6.1", "Monday").
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
}

const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const MONTHS: [&str; 12] = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
];

/// The values of `sentence`, in order.
pub fn values(sentence: &str) -> Vec<Value> {
    let tokens = tokens(sentence);
    let mut out = Vec::new();
    for (i, &(start, token)) in tokens.iter().enumerate() {
        let lower = token.to_lowercase();
        let kind = if token.chars().any(|c| c.is_ascii_digit()) {
            Kind::Number
        } else if WEEKDAYS.contains(&lower.as_str()) {
            Kind::Weekday
        // "May" opens sentences and names people; only a capitalised month name other than
        // "May" counts.
        } else if MONTHS.contains(&lower.as_str()) && lower != "may" && token.starts_with(char::is_uppercase) {
            Kind::Month
        } else {
            continue;
        };
        let neighbour = |j: Option<usize>| {
            j.and_then(|j| tokens.get(j)).map(|(_, t)| t.to_lowercase()).filter(|t| !is_value_word(t)).unwrap_or_default()
        };
        out.push(Value {
            text: token.to_string(),
            start,
            kind,
            before: neighbour(i.checked_sub(1)),
            after: neighbour(Some(i + 1)),
        });
    }
    out
}

/// Pairs `(value of a, value of b)` where the two sentences give different values for the same
/// slot; empty when they agree.
pub fn conflicts(a: &[Value], b: &[Value]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, x) in a.iter().enumerate() {
        if b.iter().any(|y| y.text == x.text) {
            continue;
        }
        let found = b.iter().position(|y| {
            y.kind == x.kind
                && !a.iter().any(|z| z.text == y.text)
                && ((!x.after.is_empty() && x.after == y.after) || (!x.before.is_empty() && x.before == y.before))
        });
        if let Some(j) = found {
            if !out.iter().any(|&(_, k)| k == j) {
                out.push((i, j));
            }
        }
    }
    out
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
        let at = offset + sentence[offset..].find(piece).expect("split_whitespace yields pieces of the sentence");
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
        for v in &v {
            assert_eq!(&s[v.start..v.start + v.text.len()], v.text);
        }
    }

    #[test]
    fn the_same_slot_with_other_numbers_conflicts() {
        let a = values("The quake killed 12 people in Tarvos on Monday.");
        let b = values("Officials said the quake killed 15 people in Tarvos on Monday.");
        assert_eq!(conflicts(&a, &b), [(0, 0)]);
    }

    #[test]
    fn unrelated_numbers_do_not_conflict() {
        let a = values("The resort can host 20,000 visitors a year.");
        let b = values("The talks were held on July 12 in Wonsan.");
        assert!(conflicts(&a, &b).is_empty());
        let same = values("The quake killed 12 people.");
        assert!(conflicts(&same, &values("At least 12 people died in the quake.")).is_empty());
    }
}
