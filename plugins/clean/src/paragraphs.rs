//! Which lines of web text are article paragraphs, after jusText (Pomikálek, 2011): a line's
//! length and share of stopwords give it a first class, then short and borderline lines take
//! the class of the paragraphs around them, so headings inside an article stay and menus,
//! footers and link lists around it go.
//!
//! Only English stopwords are known today; text in which no line qualifies as a good paragraph
//! is left to the caller's simpler rules.

use text::stop_words::PROSE_MARKERS;

/// jusText's defaults, in characters and stopword shares.
const LENGTH_LOW: usize = 70;
const LENGTH_HIGH: usize = 200;
const STOPWORDS_LOW: f64 = 0.20;
const STOPWORDS_HIGH: f64 = 0.25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Good,
    NearGood,
    Short,
    Bad,
}

fn stopword_density(line: &str) -> f64 {
    let words: Vec<String> = line
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return 0.0;
    }
    words.iter().filter(|w| PROSE_MARKERS.contains(w)).count() as f64 / words.len() as f64
}

fn first_class(line: &str) -> Class {
    let length = line.chars().count();
    let density = stopword_density(line);
    if length < LENGTH_LOW {
        Class::Short
    } else if density >= STOPWORDS_HIGH {
        if length > LENGTH_HIGH {
            Class::Good
        } else {
            Class::NearGood
        }
    } else if density >= STOPWORDS_LOW {
        Class::NearGood
    } else {
        Class::Bad
    }
}

/// For each of `lines`, whether it is an article paragraph; `None` when no line is clearly one
/// (too little English text to judge).
pub fn article_lines(lines: &[&str]) -> Option<Vec<bool>> {
    let mut classes: Vec<Class> = lines.iter().map(|l| first_class(l)).collect();
    if !classes.contains(&Class::Good) {
        return None;
    }
    // Headings: short lines of a few words right before a good paragraph. (jusText knows
    // headings from their tags; plain text only has position and shape.)
    for i in 0..lines.len().saturating_sub(1) {
        let words = lines[i].split_whitespace().count();
        if classes[i] == Class::Short && classes[i + 1] == Class::Good && (2..=15).contains(&words) {
            classes[i] = Class::NearGood;
        }
    }
    let neighbour = |classes: &[Class], i: usize, forward: bool, skip_near: bool| -> Class {
        let mut j = i as isize;
        loop {
            j += if forward { 1 } else { -1 };
            if j < 0 || j as usize >= classes.len() {
                return Class::Bad;
            }
            match classes[j as usize] {
                Class::Short => continue,
                Class::NearGood if skip_near => continue,
                c => return c,
            }
        }
    };
    let snapshot = classes.clone();
    for i in 0..lines.len() {
        if snapshot[i] != Class::Short {
            continue;
        }
        let prev = neighbour(&snapshot, i, false, true);
        let next = neighbour(&snapshot, i, true, true);
        classes[i] = match (prev, next) {
            (Class::Good, Class::Good) => Class::Good,
            (Class::Bad, Class::Bad) => Class::Bad,
            _ if (prev == Class::Bad && neighbour(&snapshot, i, false, false) == Class::NearGood)
                || (next == Class::Bad && neighbour(&snapshot, i, true, false) == Class::NearGood) =>
            {
                Class::Good
            }
            _ => Class::Bad,
        };
    }
    let snapshot = classes.clone();
    for i in 0..lines.len() {
        if snapshot[i] != Class::NearGood {
            continue;
        }
        let prev = neighbour(&snapshot, i, false, true);
        let next = neighbour(&snapshot, i, true, true);
        classes[i] = if prev == Class::Bad && next == Class::Bad { Class::Bad } else { Class::Good };
    }
    Some(classes.iter().map(|c| *c == Class::Good).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_article_and_its_headings_and_drops_the_menu() {
        let body = "The council said on Monday that it would not be able to finish the work on the bridge before the end of the year, because the steel that was ordered from abroad has not yet arrived at the port from the mill in the north.";
        let lines = ["Home", "News", "Sport", body, "What happens next", body, "Follow us", "Privacy policy"];
        let kept = article_lines(&lines).unwrap();
        assert_eq!(kept, [false, false, false, true, true, true, false, false]);
    }

    #[test]
    fn gives_up_without_a_clear_paragraph() {
        assert_eq!(article_lines(&["Menu", "Short line here."]), None);
    }
}
