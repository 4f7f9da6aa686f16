//! Values in a sentence (numbers, weekdays, months, names) and where two sentences about the
//! same fact give different ones: the "sources differ" check.
//!
//! A value of one sentence conflicts with a value of the other only when both are of the same
//! kind, neither appears anywhere in the other sentence, and they stand in the same place: the
//! word just before or just after each is the same ("killed 12 people" / "killed 15 people").
//! Requiring that shared neighbour is what keeps unrelated numbers of two long sentences (a
//! date in one, a count in the other) from being reported as a disagreement. Two numbers
//! followed by different words count other things ("40 homes" / "300 residents") and differ
//! only when the word before each is the same and each is the only number of its sentence
//! ("cancelled 14 crossings" / "cancelled 12 sailings": one count of one thing, named two
//! ways). Two numbers differ only when each is its sentence's one figure the other sentence
//! does not give: with several left over, sentences are too easily matched number to number
//! ("25 million in Europe alone" / "more than 100 million, from 450 million" count different
//! things).
//!
//! A range ("25 to 100", "25-100", "between 25 and 100", "25 – 100") is one value, never a
//! conflict between its ends, and a number inside the other source's range agrees with it: an
//! estimate of "25 to 100 million" and one of "100 million" do not contradict each other.
//!
//! Names (a run of capitalised words inside a sentence) are held to more, because a false
//! "sources differ" misleads more than a missed one and outlets often name more people and
//! places than each other: both neighbours must be the same ("said Anna Berg, the minister" /
//! "said Maria Lund, the minister"), and no word of either name may appear anywhere in the
//! other source's article, so a source that mentions the other name at all (it may be another
//! person of the story, or the same one written differently) is never said to contradict it.

/// A value token of a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// The token as written, without surrounding punctuation ("1,200", "6.1", "Monday"), or
    /// a name's words ("Anna Berg").
    pub text: String,
    /// Byte offset of `text` in the sentence.
    pub start: usize,
    kind: Kind,
    before: String,
    after: String,
    /// The numbers a number or range covers (`None` for other kinds, or a number that does
    /// not parse, such as "6th").
    span: Option<(f64, f64)>,
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
        if token.chars().any(|c| c.is_ascii_digit()) {
            if let Some((end, low, high)) = range_at(sentence, &tokens, i) {
                let (last_start, last) = tokens[end];
                // "between 25 and 100": the slot is the word before "between".
                let between = i > 0 && tokens[i - 1].1.eq_ignore_ascii_case("between");
                let before = if between { i.checked_sub(2) } else { i.checked_sub(1) };
                out.push(Value {
                    text: sentence[start..last_start + last.len()].to_string(),
                    start,
                    kind: Kind::Number,
                    before: neighbour(before),
                    after: neighbour(Some(end + 1)),
                    span: Some((low, high)),
                });
                i = end + 1;
                continue;
            }
        }
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
                span: None,
            });
            i += run;
            continue;
        } else {
            i += 1;
            continue;
        };
        let span = if kind == Kind::Number { number_span(token) } else { None };
        out.push(Value {
            text: token.to_string(),
            start,
            kind,
            before: neighbour(i.checked_sub(1)),
            after: neighbour(Some(i + 1)),
            span,
        });
        i += 1;
    }
    out
}

/// Where a range opens at number token `i`: the index of its last token and its two ends.
/// "25 to 100", "25 million to 100 million", "25 \u{2013} 100" and "between 25 and 100" are
/// ranges when the second number is larger; "25-100" is one token and read by
/// [`number_span`].
fn range_at(sentence: &str, tokens: &[(usize, &str)], i: usize) -> Option<(usize, f64, f64)> {
    let low = parse_number(tokens[i].1)?;
    let between = i > 0 && tokens[i - 1].1.eq_ignore_ascii_case("between");
    let magnitude =
        |j: usize| tokens.get(j).map(|t| t.1.to_lowercase()).filter(|t| MAGNITUDES.contains(&t.as_str()));
    // "25 million to 100 million": both ends carry the same magnitude word.
    let low_magnitude = magnitude(i + 1);
    let j = if low_magnitude.is_some() { i + 2 } else { i + 1 };
    let (prev_start, prev) = tokens[j - 1];
    let (next_start, next) = *tokens.get(j)?;
    let gap = sentence[prev_start + prev.len()..next_start].trim();
    let high_at = if matches!(gap, "-" | "\u{2013}" | "\u{2014}") {
        j
    } else if gap.is_empty()
        && (next.eq_ignore_ascii_case("to") || (between && next.eq_ignore_ascii_case("and")))
    {
        let &(high_start, _) = tokens.get(j + 1)?;
        // The word joining the two numbers must be followed by nothing but a space.
        if !sentence[next_start + next.len()..high_start].trim().is_empty() {
            return None;
        }
        j + 1
    } else {
        return None;
    };
    let high = parse_number(tokens[high_at].1)?;
    let end = match low_magnitude {
        Some(m) if magnitude(high_at + 1).as_deref() == Some(m.as_str()) => high_at + 1,
        Some(_) => return None,
        None => high_at,
    };
    (high > low).then_some((end, low, high))
}

/// Words that scale the number before them.
const MAGNITUDES: [&str; 5] = ["hundred", "thousand", "million", "billion", "trillion"];

/// The numbers a number token covers: itself, or both ends of a written range ("25-100").
fn number_span(token: &str) -> Option<(f64, f64)> {
    if let Some(n) = parse_number(token) {
        return Some((n, n));
    }
    let (low, high) = token.split_once(['-', '\u{2013}'])?;
    let (low, high) = (parse_number(low)?, parse_number(high)?);
    (high > low).then_some((low, high))
}

/// A plain number ("1,200", "6.1"); `None` for anything else ("6th", "9/11").
fn parse_number(token: &str) -> Option<f64> {
    let digits: String = token.chars().filter(|&c| c != ',').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    digits.parse().ok()
}

/// Whether two numbers agree: equal, or one lies inside the other's range.
fn numbers_agree(x: &Value, y: &Value) -> bool {
    match (x.span, y.span) {
        (Some((a, b)), Some((c, d))) => (a <= c && d <= b) || (c <= a && b <= d),
        _ => false,
    }
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
    let only_number = |values: &[Value]| values.iter().filter(|v| v.kind == Kind::Number).count() == 1;
    let same = |x: &Value, y: &Value| x.text == y.text || (x.kind == Kind::Number && numbers_agree(x, y));
    let unmatched_numbers = |xs: &[Value], ys: &[Value]| {
        xs.iter().filter(|x| x.kind == Kind::Number && !ys.iter().any(|y| same(x, y))).count()
    };
    // With two or more numbers left over on either side, which figure answers which is a guess
    // ("25 million in Europe alone" against "more than 100 million … from 450 million"): the
    // sentences may count different things, so only one figure each against one can differ.
    let numbers_pair_up = unmatched_numbers(a, b) == 1 && unmatched_numbers(b, a) == 1;
    for (i, x) in a.iter().enumerate() {
        if b.iter().any(|y| same(x, y)) {
            continue;
        }
        if x.kind == Kind::Number && !numbers_pair_up {
            continue;
        }
        let found = b.iter().position(|y| {
            y.kind == x.kind
                && !a.iter().any(|z| same(z, y))
                && if x.kind == Kind::Name {
                    !x.before.is_empty()
                        && x.before == y.before
                        && x.after == y.after
                        && !mentions_any(b_article, &x.text)
                        && !mentions_any(a_article, &y.text)
                } else if x.kind == Kind::Number
                    && !x.after.is_empty()
                    && !y.after.is_empty()
                    && x.after != y.after
                {
                    // Counts of different things, unless one sole figure of each sentence in the
                    // same slot.
                    !x.before.is_empty() && x.before == y.before && only_number(a) && only_number(b)
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

    /// Issue "a briefing a reader can trust": a range is one value, written any of the usual
    /// ways, with both ends as its span.
    #[test]
    fn a_range_is_read_as_one_value() {
        for (sentence, text) in [
            ("The flu killed an estimated 25 to 100 million people.", "25 to 100"),
            ("The flu killed an estimated 25-100 million people.", "25-100"),
            ("The flu killed between 25 and 100 million people.", "25 and 100"),
            ("The flu killed 25 \u{2013} 100 million people.", "25 \u{2013} 100"),
            ("The flu killed 25 million to 100 million people.", "25 million to 100 million"),
        ] {
            let numbers: Vec<Value> =
                values(sentence).into_iter().filter(|v| v.kind == Kind::Number).collect();
            assert_eq!(numbers.len(), 1, "{sentence}: {numbers:?}");
            assert_eq!(numbers[0].text, text);
            assert_eq!(numbers[0].span, Some((25.0, 100.0)));
            assert!(["million", "people"].contains(&numbers[0].after.as_str()), "{:?}", numbers[0]);
            assert_eq!(&sentence[numbers[0].start..numbers[0].start + text.len()], text);
        }
        // Not ranges: a falling figure, and "and" without "between".
        assert_eq!(values("Prices fell from 100 to 25 dollars.").len(), 2);
        assert_eq!(values("It killed 25 and injured 100 people.").len(), 2);
    }

    /// The case: one outlet's range and the other's figure at one end of it agree, as
    /// do the same range written two ways.
    #[test]
    fn a_range_and_a_figure_inside_it_do_not_conflict() {
        let a = values("The pandemic killed an estimated 25 to 100 million people worldwide.");
        let b = values("The pandemic killed an estimated 100 million people worldwide.");
        assert!(conflicts(&a, &b, "", "").is_empty());
        assert!(conflicts(&b, &a, "", "").is_empty());
        let c = values("The pandemic killed an estimated 25-100 million people worldwide.");
        assert!(conflicts(&a, &c, "", "").is_empty());
        let d = values("The pandemic killed an estimated 150 million people worldwide.");
        assert_eq!(conflicts(&a, &d, "", ""), [(0, 0)], "a figure outside the range differs");
    }

    /// Numbers before different nouns count different things, unless each is its sentence's
    /// only figure in the same slot: then they are one count named two ways.
    #[test]
    fn counts_of_different_things_do_not_conflict_but_a_sole_figure_does() {
        let a = values("The fire destroyed 40 homes and forced 300 residents to flee.");
        let b = values("The fire destroyed 35 barns and forced 300 people to flee.");
        assert!(conflicts(&a, &b, "", "").is_empty());
        let c = values("The operator cancelled 14 crossings because of the storm.");
        let d = values("The operator cancelled 12 sailings because of the storm.");
        assert_eq!(conflicts(&c, &d, "", ""), [(0, 0)]);
        let e = values("The operator cancelled 12 crossings because of the storm.");
        assert_eq!(conflicts(&c, &e, "", ""), [(0, 0)]);
    }

    /// Figures of two scopes ("in Europe alone" against the world) are not one figure told two
    /// ways: with several figures left on a side, no pair is said to differ.
    #[test]
    fn several_unmatched_figures_on_a_side_do_not_conflict() {
        let a =
            values("The pandemic killed an estimated 25 million people in Europe alone in the 14th century.");
        let b = values(
            "More than 100 million people may have perished, cutting the population from 450 million.",
        );
        assert!(conflicts(&a, &b, "", "").is_empty());
        assert!(conflicts(&b, &a, "", "").is_empty());
        // Figures both give do not count against the pair that differs.
        let c = values("In 2019 the quake killed 12 people in 3 towns.");
        let d = values("The quake killed 15 people in 3 towns in 2019.");
        assert_eq!(conflicts(&c, &d, "", ""), [(1, 0)]);
    }
}
