//! Plain text, often saved from a web page: finds the headline, date, byline and wire dateline at
//! the top, drops boilerplate lines (share bars, "You may also like", comment forms, adblock
//! notices) and a cut-off last line, and keeps every other line as article text.
//!
//! The outlet comes from the first of: a byline naming one ("By Jane Doe, Reuters"), a sign-off
//! line ("— The Guardian"), a wire dateline ("SEOUL (AP) —"), and the host of the file's origin
//! URL (a line holding only a URL, maybe after "Source:"), which also becomes the article's URL.
//!
//! The rules are generic patterns of web boilerplate, not rules for particular documents; the full
//! line classifier scored on the extraction set is a later issue.

use std::sync::LazyLock;

use regex::Regex;

use crate::{normalize_paragraphs, strip_invisible, Extracted};

/// How many lines from the top may hold the headline, date and byline.
const HEADER_LINES: usize = 12;
/// A line with at least this many words is article text, which ends the header.
const BODY_LINE_WORDS: usize = 12;

/// Extracts an article from plain text.
pub fn extract(input: &str) -> Extracted {
    let input = strip_invisible(&input.replace("\r\n", "\n").replace('\r', "\n"));
    let lines: Vec<&str> = input.lines().map(str::trim).collect();
    let mut out = Extracted::default();
    let mut keep = vec![true; lines.len()];

    let origin_host = take_origin_and_sign_off(&lines, &mut keep, &mut out);
    let breadcrumb_title = take_header(&lines, &mut keep, &mut out);
    if out.title.is_none() {
        out.title = breadcrumb_title;
    }
    drop_boilerplate(&lines, &mut keep, out.title.as_deref());
    keep_article_paragraphs(&lines, &mut keep);
    drop_cut_off_end(&lines, &mut keep);

    out.text = normalize_paragraphs(&join_kept(&lines, &keep));
    if out.outlet.is_none() {
        out.outlet = wire_outlet(&out.text).or(origin_host);
    }
    out
}

/// Takes the origin URL (a line holding only a URL, maybe labelled "Source:", anywhere) into
/// `out.url` and a sign-off into `out.outlet`; returns the origin's host.
fn take_origin_and_sign_off(lines: &[&str], keep: &mut [bool], out: &mut Extracted) -> Option<String> {
    let mut origin_host = None;
    // A sign-off ends the text: only the last few lines are looked at, so that a dashed list
    // in the body is never taken for one.
    let tail_start = (0..lines.len()).rev().filter(|&i| !lines[i].is_empty()).nth(2).unwrap_or(0);
    for (i, line) in lines.iter().enumerate() {
        if let Some((url, labelled)) = keep[i].then(|| origin_url(line)).flatten() {
            if origin_host.is_none() {
                origin_host = ::text::site::host_of(url);
                out.url.get_or_insert_with(|| url.to_string());
            }
            // "Source: URL" is a note about the text; a bare URL may be part of it (the
            // extraction set counts such lines as article text), so it stays.
            keep[i] = !labelled;
        } else if let Some(outlet) = (keep[i] && i >= tail_start).then(|| sign_off(line)).flatten() {
            out.outlet.get_or_insert(outlet);
            keep[i] = false;
        }
    }
    origin_host
}

/// The header: everything before the first line that reads like article text. Takes the
/// headline, date, byline and section label out of it; returns the last part of a breadcrumb
/// trail that reads like a headline (the title when no line is one).
fn take_header(lines: &[&str], keep: &mut [bool], out: &mut Extracted) -> Option<String> {
    let mut breadcrumb_title = None;
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() || !keep[i] {
            continue;
        }
        seen += 1;
        if seen > HEADER_LINES {
            break;
        }
        if let Some(last) = breadcrumb_tail(line).filter(|t| is_headline(t)) {
            breadcrumb_title.get_or_insert(last);
            keep[i] = false;
            continue;
        }
        if word_count(line) >= BODY_LINE_WORDS {
            break;
        }
        if is_section_label(line) && out.title.is_none() {
            keep[i] = false;
        } else if let Some(date) = date_line(line) {
            out.published.get_or_insert(date);
            keep[i] = false;
        } else if let Some(author) = byline(line) {
            let (author, outlet) = split_byline(&author);
            if !author.is_empty() {
                out.author.get_or_insert(author);
            }
            if let Some(outlet) = outlet {
                out.outlet.get_or_insert(outlet);
            }
            keep[i] = false;
        } else if out.title.is_none() && is_headline(line) {
            out.title = Some(unquote(line).to_string());
            keep[i] = false;
        }
    }
    breadcrumb_title
}

/// Drops boilerplate lines and repeats of the title.
fn drop_boilerplate(lines: &[&str], keep: &mut [bool], title: Option<&str>) {
    for (i, line) in lines.iter().enumerate() {
        if !keep[i] || line.is_empty() {
            continue;
        }
        let same_as_title = title.is_some_and(|t| t.eq_ignore_ascii_case(unquote(line)));
        if same_as_title || is_boilerplate(line) {
            keep[i] = false;
        }
    }
}

/// Where the text has clear article paragraphs, lines that neither are one nor sit among them
/// (menus, link lists, footers) go too.
fn keep_article_paragraphs(lines: &[&str], keep: &mut [bool]) {
    let candidates: Vec<usize> = (0..lines.len()).filter(|&i| keep[i] && !lines[i].is_empty()).collect();
    let candidate_lines: Vec<&str> = candidates.iter().map(|&i| lines[i]).collect();
    if let Some(verdicts) = crate::paragraphs::article_lines(&candidate_lines) {
        for (&i, is_article) in candidates.iter().zip(verdicts) {
            keep[i] = is_article;
        }
    }
}

/// A page saved mid-load often ends in cut-off fragments: short and without an ending. All of
/// them go, so that cleaning the output again changes nothing.
fn drop_cut_off_end(lines: &[&str], keep: &mut [bool]) {
    while let Some(last) = (0..lines.len()).rev().find(|&i| keep[i] && !lines[i].is_empty()) {
        let line = lines[last];
        if word_count(line) >= 8 || ends_sentence(line) {
            break;
        }
        keep[last] = false;
    }
}

/// The kept lines as paragraphs: a blank line or a line ending a sentence ends one; a
/// hard-wrapped paragraph is joined again.
fn join_kept(lines: &[&str], keep: &[bool]) -> String {
    let mut text = String::new();
    let mut prev_kept: Option<&str> = None;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            if prev_kept.is_some() {
                text.push_str("\n\n");
                prev_kept = None;
            }
            continue;
        }
        if !keep[i] {
            continue;
        }
        match prev_kept {
            // A hard-wrapped paragraph: the previous line did not end a sentence.
            Some(p) if !ends_sentence(p) && word_count(p) >= 6 => text.push(' '),
            Some(_) => text.push_str("\n\n"),
            None => {}
        }
        text.push_str(line);
        prev_kept = Some(line);
    }
    text
}

/// "Jane Doe, Reuters" gives ("Jane Doe", Some("Reuters")); a job title after the comma
/// ("Jane Doe, Staff Writer") is not an outlet.
fn split_byline(byline: &str) -> (String, Option<String>) {
    const ROLES: &[&str] = &[
        "writer",
        "reporter",
        "correspondent",
        "editor",
        "staff",
        "contributor",
        "columnist",
        "journalist",
        "and",
        "in",
        "for",
        "at",
        "updated",
        "published",
    ];
    let Some((name, rest)) = byline.split_once([',', '|']).or_else(|| byline.split_once(" for ")) else {
        return (byline.to_string(), None);
    };
    let rest = rest.trim();
    let words: Vec<&str> = rest.split_whitespace().collect();
    let is_outlet = (1..=4).contains(&words.len())
        && words.iter().all(|w| w.chars().next().is_some_and(|c| c.is_uppercase()))
        && !words.iter().any(|w| ROLES.contains(&w.to_lowercase().trim_end_matches('s')))
        && find_date(rest).is_none()
        && !rest.chars().any(|c| c.is_ascii_digit());
    if is_outlet {
        (name.trim().to_string(), Some(rest.to_string()))
    } else {
        (byline.to_string(), None)
    }
}

/// "— The Guardian", "-- Reuters": a dash and a short capitalised name alone on a line.
fn sign_off(line: &str) -> Option<String> {
    static SIGN_OFF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[—–]|--)\s*(\p{Lu}[\p{L}&.'’-]*(?:\s+(?:of|the|\p{Lu}[\p{L}&.'’-]*)){0,3})\s*$")
            .expect("valid regex")
    });
    SIGN_OFF.captures(line).map(|c| c[1].to_string())
}

/// "Source: https://example.com/a", "https://example.com/a": a line that is only a URL, and
/// whether a label said what it is.
fn origin_url(line: &str) -> Option<(&str, bool)> {
    static ORIGIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^((?:source|original|originally published(?: at)?|url|link|from|via|read (?:more|the original) at)\s*:?\s*)?<?(https?://[^\s<>]+?)>?$")
            .expect("valid regex")
    });
    ORIGIN.captures(line).and_then(|c| Some((c.get(2)?.as_str(), c.get(1).is_some())))
}

fn word_count(line: &str) -> usize {
    line.split_whitespace().count()
}

fn ends_sentence(line: &str) -> bool {
    line.trim_end().ends_with(['.', '!', '?', '"', '\u{201D}', '\u{2019}', ':', ';', ')', '\u{2026}'])
}

fn unquote(line: &str) -> &str {
    line.trim_matches(|c| matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\'' | '\u{2018}' | '\u{2019}')).trim()
}

/// "Home » News » Headline" gives "Headline".
fn breadcrumb_tail(line: &str) -> Option<String> {
    for sep in ['»', '›'] {
        let parts: Vec<&str> = line.split(sep).map(str::trim).filter(|p| !p.is_empty()).collect();
        if parts.len() >= 2 {
            return parts.last().map(|s| s.to_string());
        }
    }
    let parts: Vec<&str> = line.split(" > ").map(str::trim).collect();
    if parts.len() >= 3 {
        return parts.last().map(|s| s.to_string());
    }
    None
}

/// "WORLD", "BUSINESS NEWS": a short all-capitals section name.
fn is_section_label(line: &str) -> bool {
    word_count(line) <= 3
        && line.chars().any(char::is_alphabetic)
        && line.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase)
}

fn is_headline(line: &str) -> bool {
    let words = word_count(line);
    let text = unquote(line);
    (3..=30).contains(&words)
        && !text.ends_with('.')
        && text.chars().next().is_some_and(|c| c.is_uppercase() || c.is_numeric())
}

/// "by", "By Jane Doe", "Written by Jane Doe": gives the name (maybe empty).
fn byline(line: &str) -> Option<String> {
    static BY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:written |posted |reported )?by\b[:\s]*(.*)$").expect("valid regex")
    });
    let caps = BY.captures(line)?;
    let name = caps.get(1).map_or("", |m| m.as_str()).trim();
    (word_count(name) <= 5).then(|| name.to_string())
}

static MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// A short line carrying a date: gives it as YYYY-MM-DD.
fn date_line(line: &str) -> Option<String> {
    if word_count(line) > 10 {
        return None;
    }
    find_date(line)
}

/// The first date in `text` in a common format, as YYYY-MM-DD.
pub fn find_date(text: &str) -> Option<String> {
    static ISO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})(?:\b|T)").expect("valid regex"));
    static NUMERIC: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b(\d{1,2})([./])(\d{1,2})[./](\d{4})\b").expect("valid regex"));
    static MONTH_FIRST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
            .expect("valid regex")
    });
    static DAY_FIRST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b")
            .expect("valid regex")
    });
    let month_of = |name: &str| {
        MONTHS.iter().position(|m| name.to_ascii_lowercase().starts_with(m)).map(|i| i as u32 + 1)
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let ymd = |y: Option<u32>, m: Option<u32>, d: Option<u32>| -> Option<String> {
        let (y, m, d) = (y?, m?, d?);
        ((1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
            .then(|| format!("{y:04}-{m:02}-{d:02}"))
    };
    if let Some(c) = ISO.captures(text) {
        return ymd(num(&c[1]), num(&c[2]), num(&c[3]));
    }
    if let Some(c) = MONTH_FIRST.captures(text) {
        return ymd(num(&c[3]), month_of(&c[1]), num(&c[2]));
    }
    if let Some(c) = DAY_FIRST.captures(text) {
        return ymd(num(&c[3]), month_of(&c[2]), num(&c[1]));
    }
    if let Some(c) = NUMERIC.captures(text) {
        let (a, b) = (num(&c[1]), num(&c[3]));
        // Dots are day-first in the places that write them; slashes are month-first unless impossible.
        let day_first = &c[2] == "." || a.is_some_and(|a| a > 12);
        return if day_first { ymd(num(&c[4]), b, a) } else { ymd(num(&c[4]), a, b) };
    }
    None
}

/// "SEOUL, South Korea (AP) — ..." gives "AP".
pub(crate) fn wire_outlet(text: &str) -> Option<String> {
    static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[\p{Lu}][\p{L} .,'-]{1,60}\(([A-Z][A-Za-z]{1,15})\)\s*[—–-]").expect("valid regex")
    });
    DATELINE.captures(text).map(|c| c[1].to_string())
}

/// Whole lines that web pages add around every article.
fn is_boilerplate(line: &str) -> bool {
    static PATTERNS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?i)^(?:",
            r"related posts?|related articles?|related stories|you may also like|you might also like|recommended for you",
            r"|read more|read next|more from .{1,40}|see also|also read",
            r"|leave a (?:comment|reply)|\d+ comments?|comments?|post a comment|cancel reply",
            r"|this site uses akismet.*|.*your email address will not be published.*",
            r"|adblock detected|.*disabl\w* (?:your )?ad ?blocker.*|please support us by.*",
            r"|share(?: this)?(?: article| story| post)?:?|share on \w+|tweet|email|print|facebook|twitter|whatsapp|linkedin",
            r"|follow us.*|subscribe.*|sign up for .*newsletter.*|.*newsletter\W*$",
            r"|advertisement|sponsored|skip to (?:main )?content|all rights reserved.*|copyright.*|©.*",
            r"|.*cookies?.{0,40}(?:accept|consent|policy).*|accept (?:all )?cookies",
            r"|\d+\s*mins? read|tags?:.*",
            r")\W*$"
        ))
        .expect("valid regex")
    });
    word_count(line) <= 25 && PATTERNS.is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dates_in_common_formats() {
        assert_eq!(find_date("13.07.2025 4,39 B 5 Mins Read").as_deref(), Some("2025-07-13"));
        assert_eq!(find_date("Published July 4, 2024").as_deref(), Some("2024-07-04"));
        assert_eq!(find_date("4 Jul 2024").as_deref(), Some("2024-07-04"));
        assert_eq!(find_date("2024-07-04T10:00").as_deref(), Some("2024-07-04"));
        assert_eq!(find_date("no date here"), None);
    }

    #[test]
    fn finds_the_wire_outlet_in_a_dateline() {
        assert_eq!(wire_outlet("SEOUL, South Korea (AP) — Russia's").as_deref(), Some("AP"));
        assert_eq!(wire_outlet("Pyongyang, North Korea – In a notable"), None);
    }

    #[test]
    fn reads_the_outlet_from_a_byline_or_a_sign_off() {
        assert_eq!(split_byline("Jane Doe, Reuters"), ("Jane Doe".into(), Some("Reuters".into())));
        assert_eq!(split_byline("Jane Doe | AP"), ("Jane Doe".into(), Some("AP".into())));
        assert_eq!(split_byline("Jane Doe, Staff Writer"), ("Jane Doe, Staff Writer".into(), None));
        assert_eq!(split_byline("Jane Doe, July 4, 2024"), ("Jane Doe, July 4, 2024".into(), None));
        assert_eq!(sign_off("— The Guardian").as_deref(), Some("The Guardian"));
        assert_eq!(sign_off("-- Reuters").as_deref(), Some("Reuters"));
        assert_eq!(sign_off("— and then the storm came"), None);
    }

    #[test]
    fn a_url_line_gives_the_url_and_the_outlet() {
        let x = extract("Bridge reopens after repairs\n\nSource: https://www.citynews.example/bridge\n\nThe bridge over the river reopened on Monday after two years of repairs, the city said.");
        assert_eq!(x.url.as_deref(), Some("https://www.citynews.example/bridge"));
        assert_eq!(x.outlet.as_deref(), Some("citynews.example"));
        assert!(!x.text.contains("http"), "{}", x.text);
        let x = extract("Bridge reopens after repairs\n\nBy Ana Lima, Daily Courier\n\nThe bridge over the river reopened on Monday after two years of repairs, the city said.\n\nhttps://www.citynews.example/bridge");
        assert_eq!(x.author.as_deref(), Some("Ana Lima"));
        assert_eq!(x.outlet.as_deref(), Some("Daily Courier"), "a named outlet beats the URL's host");
        assert_eq!(origin_url("See https://x.example/a for more"), None);
        assert_eq!(origin_url("https://x.example/a"), Some(("https://x.example/a", false)));
    }

    #[test]
    fn drops_share_and_comment_lines() {
        for line in
            ["Related Post", "You may also like", "Leave a Comment", "Adblock Detected", "Share this article"]
        {
            assert!(is_boilerplate(line), "{line}");
        }
        assert!(!is_boilerplate("Share prices fell sharply on Monday after the announcement."));
    }
}
