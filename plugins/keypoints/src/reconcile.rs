//! The story's summary against its "sources differ" points: a summary that states one of two
//! values the sources disagree on ("14 crossings" where another outlet says 12) would tell the
//! reader one side as fact next to a point that says the sources differ. The rule chosen is to
//! state both: each whole-word occurrence of a differing value in the summary is rewritten as
//! the values the point shows, marked ("14 / 12 (sources differ)"). Dropping the sentence
//! instead would often leave a one-sentence summary empty, and the values come from the
//! sources' own text, so the summary still says nothing the sources do not.

/// `summary` with every differing value it states shown beside the other sources' values;
/// `None` when it states none. `differing` holds, per slot, the values the sources give.
pub fn reconcile(summary: &str, differing: &[Vec<String>]) -> Option<String> {
    // Every occurrence is found in the summary as given, then all are rewritten in one pass,
    // so a value is never found again inside text this function inserted.
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    for values in differing {
        let shown = format!("{} (sources differ)", values.join(" / "));
        // Already stated with every value (a summary written after an earlier rewrite).
        if summary.contains(&shown) {
            continue;
        }
        for value in values {
            let mut from = 0;
            while let Some(at) = find_word(&summary[from..], value).map(|at| at + from) {
                let end = at + value.len();
                if !found.iter().any(|&(s, e, _)| at < e && s < end) {
                    found.push((at, end, shown.clone()));
                }
                from = end;
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    found.sort();
    let mut out = String::with_capacity(summary.len() + 32 * found.len());
    let mut last = 0;
    for (start, end, shown) in found {
        out.push_str(&summary[last..start]);
        out.push_str(&shown);
        last = end;
    }
    out.push_str(&summary[last..]);
    Some(out)
}

/// Byte offset of the first occurrence of `word` in `text` not inside a longer word or number
/// ("12" is not found in "2012" or "12.5").
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|at| at + from) {
        let before = text[..at].chars().next_back();
        let after_text = &text[at + word.len()..];
        let mut after = after_text.chars();
        let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        let next = after.next();
        // A full stop or comma followed by a digit continues the number ("12.5", "12,000").
        let continues = matches!(next, Some('.' | ',')) && after.next().is_some_and(|c| c.is_ascii_digit());
        let before_continues = matches!(before, Some('.' | ','))
            && text[..at].chars().rev().nth(1).is_some_and(|c| c.is_ascii_digit());
        if !joined(before) && !joined(next) && !continues && !before_continues {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_stating_one_side_states_both() {
        let differing = vec![vec!["14".to_string(), "12".to_string()]];
        let summary = "The ferry operator cancelled 14 crossings on Tuesday as the storm hit in 2014.";
        assert_eq!(
            reconcile(summary, &differing).as_deref(),
            Some("The ferry operator cancelled 14 / 12 (sources differ) crossings on Tuesday as the storm hit in 2014.")
        );
        let other_side = "Storm Ciaran forced the operator to cancel 12 sailings.";
        assert_eq!(
            reconcile(other_side, &differing).as_deref(),
            Some("Storm Ciaran forced the operator to cancel 14 / 12 (sources differ) sailings.")
        );
        let done = reconcile(summary, &differing).expect("changed");
        assert_eq!(reconcile(&done, &differing), None, "a reconciled summary stays as it is");
    }

    #[test]
    fn a_summary_without_the_values_is_left_alone() {
        let differing = vec![vec!["14".to_string(), "12".to_string()]];
        assert_eq!(
            reconcile("Crossings fell 12.5 percent in 2012 and 1,214 ships docked.", &differing),
            None
        );
        assert_eq!(reconcile("The ferry operator cancelled crossings.", &[]), None);
    }
}
