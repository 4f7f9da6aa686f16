//! One story's own page (`briefd serve`'s `/story/{id}`): the headline, the summary, the key
//! points, each cited sentence shown where it stands in its source's cleaned text, every source,
//! and why the sources are one story (what `briefd explain` says).
//!
//! A citation is a byte span of its article's stored `text` (what the keypoints stage read), so
//! the page marks it there with `<mark>` and each point links to its marks by an in-page anchor.
//! A span that no longer fits the text (a later stage rewrote it, or it names an article outside
//! the story) is listed without a link rather than marked somewhere wrong.
//!
//! As on the day page, every article string reaches the page through the template engine, which
//! escapes it; the only links are `http`/`https` ones, in-page anchors and the day pages.

use std::collections::BTreeMap;

use askama::Template;
use store::{MergeRecord, StoryView};

use super::{source, StoryHtml, Tag, STYLE};
use crate::{reprint, KeyPoint, SourceLine};

#[derive(Template)]
#[template(path = "story_page.html")]
struct StoryPage<'a> {
    style: &'static str,
    story: StoryHtml,
    days: &'a [String],
    points: Vec<PagePoint>,
    cited: Vec<CitedSource>,
    reasons: Vec<Reason>,
    merges: Vec<String>,
}

/// A key point with links to its cited sentences.
struct PagePoint {
    text: String,
    n_sources: Option<usize>,
    /// When the sources differ: each value with links to the sentences giving it.
    differ: Vec<PageValue>,
    /// Links to the cited sentences (when the sources differ: those citing no value).
    cites: Vec<Tag>,
}

struct PageValue {
    value: String,
    cites: Vec<Tag>,
}

/// A cited source's text, paragraph by paragraph, its cited sentences marked.
struct CitedSource {
    anchor: String,
    outlet: Option<String>,
    title: String,
    paragraphs: Vec<Vec<Segment>>,
}

/// A run of a paragraph: plain or cited; the first run of a cited span carries its anchor.
struct Segment {
    text: String,
    marked: bool,
    anchor: Option<String>,
}

/// Why one source is in the story.
struct Reason {
    source: String,
    why: String,
    /// The `dedupe.*` notes the stage left (`key`, `value`), as `briefd explain` prints them.
    notes: Vec<(String, String)>,
}

/// The page of the story `view` (as the store holds it now), with `merges` (from
/// `Store::story_merges`) and the `days` whose briefings show it; `None` for a story without
/// sources.
pub fn story_page(
    view: &StoryView,
    merges: &[MergeRecord],
    days: &[String],
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    let shaped = crate::stories(std::slice::from_ref(view)).pop()?;
    let texts: BTreeMap<i64, &str> =
        view.sources.iter().map(|s| (s.article_id, s.article.text.as_str())).collect();
    let marks = Marks::new(&shaped.key_points, &texts);
    let points = shaped.key_points.iter().map(|p| page_point(p, &shaped.sources, &marks)).collect();
    let cited = reprint::listed(&shaped.sources)
        .into_iter()
        .filter_map(|(line, _)| {
            let spans = marks.spans.get(&line.article_id)?;
            let text = texts.get(&line.article_id)?;
            let shown = source(line, tz);
            Some(CitedSource {
                anchor: format!("source-{}", line.article_id),
                outlet: shown.outlet,
                title: shown.title,
                paragraphs: paragraphs(text, line.article_id, spans),
            })
        })
        .collect();
    let reasons = view
        .sources
        .iter()
        .map(|s| {
            let article = &s.article;
            let label = article.outlet.as_deref().filter(|o| !o.trim().is_empty());
            let why = match &article.story {
                Some(m) if m.story_id != view.id => {
                    format!(
                        "joined story {}: {} (score {:.3}); moved here by a merge",
                        m.story_id, m.reason, m.score
                    )
                }
                Some(m) => format!("joined: {} (score {:.3})", m.reason, m.score),
                None => "started the story".to_string(),
            };
            Reason {
                source: match label {
                    Some(outlet) => format!("{outlet}, “{}”", article.headline()),
                    None => format!("“{}”", article.headline()),
                },
                why,
                notes: article
                    .metadata
                    .iter()
                    .filter(|(k, _)| k.starts_with("dedupe."))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }
        })
        .collect();
    let merges = merges
        .iter()
        .map(|m| {
            format!(
                "{} (by {}, item {}; {} article(s) moved, at {})",
                m.reason, m.file_name, m.item_index, m.n_moved, m.at
            )
        })
        .collect();
    let page =
        StoryPage { style: STYLE, story: super::story(&shaped, tz), days, points, cited, reasons, merges };
    Some(page.render().expect("the story page template renders every value it is given"))
}

/// Where each citation is marked: per article, its cited spans (overlapping ones joined), in
/// text order.
struct Marks {
    spans: BTreeMap<i64, Vec<std::ops::Range<usize>>>,
}

impl Marks {
    fn new(points: &[KeyPoint], texts: &BTreeMap<i64, &str>) -> Marks {
        let mut spans: BTreeMap<i64, Vec<std::ops::Range<usize>>> = BTreeMap::new();
        for c in points.iter().flat_map(|p| &p.citations) {
            if let Some(text) = texts.get(&c.article_id) {
                if c.start < c.end && text.get(c.start..c.end).is_some() {
                    spans.entry(c.article_id).or_default().push(c.start..c.end);
                }
            }
        }
        for list in spans.values_mut() {
            list.sort_by_key(|r| (r.start, r.end));
            let mut joined: Vec<std::ops::Range<usize>> = Vec::new();
            for r in list.drain(..) {
                match joined.last_mut() {
                    Some(last) if r.start < last.end => last.end = last.end.max(r.end),
                    _ => joined.push(r),
                }
            }
            *list = joined;
        }
        Marks { spans }
    }

    /// The anchor of the mark that holds the whole citation; `None` when it was not marked (its
    /// span does not fit its article's text).
    fn anchor(&self, c: &crate::Citation) -> Option<String> {
        let spans = self.spans.get(&c.article_id)?;
        let index = spans.iter().position(|r| c.start < c.end && r.start <= c.start && c.end <= r.end)?;
        Some(anchor(c.article_id, index))
    }
}

fn anchor(article_id: i64, mark_index: usize) -> String {
    format!("cite-{article_id}-{mark_index}")
}

fn page_point(p: &KeyPoint, sources: &[SourceLine], marks: &Marks) -> PagePoint {
    let cites = |filter: &dyn Fn(&crate::Citation) -> bool| -> Vec<Tag> {
        let mut out: Vec<Tag> = Vec::new();
        for c in p.citations.iter().filter(|c| filter(c)) {
            let Some(s) = sources.iter().find(|s| s.article_id == c.article_id) else { continue };
            let outlet = s.outlet.as_deref().filter(|o| !o.trim().is_empty()).unwrap_or(&s.file);
            let href = marks.anchor(c).map(|a| format!("#{a}"));
            let label = match &href {
                Some(_) => outlet.to_string(),
                None => format!("{outlet}: cited text not found"),
            };
            if !out.iter().any(|t| t.label == label && t.href == href) {
                out.push(Tag { label, href });
            }
        }
        out
    };
    if !p.sources_differ {
        return PagePoint {
            text: p.text.clone(),
            n_sources: (p.n_sources > 1).then_some(p.n_sources),
            differ: Vec::new(),
            cites: cites(&|_| true),
        };
    }
    let mut values: Vec<&str> = Vec::new();
    for v in p.citations.iter().filter_map(|c| c.value.as_deref()) {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    PagePoint {
        text: p.text.clone(),
        n_sources: None,
        differ: values
            .iter()
            .map(|v| PageValue { value: v.to_string(), cites: cites(&|c| c.value.as_deref() == Some(*v)) })
            .collect(),
        cites: cites(&|c| c.value.is_none()),
    }
}

/// `text`'s paragraphs (the cleaner separates them by a blank line), each cut into plain and
/// marked runs at the `spans` (sorted, disjoint, on character boundaries). A span crossing a
/// paragraph break is marked in both; its anchor goes on its first run.
fn paragraphs(text: &str, article_id: i64, spans: &[std::ops::Range<usize>]) -> Vec<Vec<Segment>> {
    let mut out = Vec::new();
    let mut anchored = vec![false; spans.len()];
    let mut offset = 0;
    for block in text.split("\n\n") {
        let start = offset;
        offset += block.len() + 2;
        let trimmed = block.trim();
        if trimmed.is_empty() {
            continue;
        }
        let start = start + (block.len() - block.trim_start().len());
        let end = start + trimmed.len();
        let mut segments = Vec::new();
        let mut at = start;
        for (index, span) in spans.iter().enumerate() {
            if span.end <= start || span.start >= end {
                continue;
            }
            let from = span.start.max(start);
            let to = span.end.min(end);
            if at < from {
                segments.push(Segment { text: text[at..from].to_string(), marked: false, anchor: None });
            }
            let first = !std::mem::replace(&mut anchored[index], true);
            segments.push(Segment {
                text: text[from..to].to_string(),
                marked: true,
                anchor: first.then(|| anchor(article_id, index)),
            });
            at = to;
        }
        if at < end {
            segments.push(Segment { text: text[at..end].to_string(), marked: false, anchor: None });
        }
        out.push(segments);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostile;

    fn render(view: &StoryView, merges: &[MergeRecord]) -> String {
        let days = vec!["2025-07-13".to_string()];
        story_page(view, merges, &days, &jiff::tz::TimeZone::UTC).expect("a story with sources")
    }

    /// Issue 18: whatever an article's strings hold, its story page shows them as text, the
    /// cited sentence marked in each cited source and every point linking to its marks.
    #[test]
    fn hostile_strings_are_text_on_the_story_page() {
        let (strings, urls) = hostile::corpus();
        for (i, s) in strings.iter().enumerate() {
            let (view, merges) = hostile::story_view(s, &urls[i % urls.len()]);
            let page = render(&view, &merges);
            hostile::assert_inert(&page, 1);
            let doc = dom_query::Document::from(page.as_str());
            assert_eq!(doc.select("h1").text().to_string(), *s);
            let marks: Vec<String> = doc.select("mark").iter().map(|m| m.text().to_string()).collect();
            let sentence = format!("The cited sentence says {s}.");
            assert_eq!(marks, [sentence.clone(), sentence], "sources 1 and 2 are cited, the reprint is not");
            assert_eq!(doc.select("section.text").length(), 2);
            let links: Vec<String> = doc
                .select("ol.points a")
                .iter()
                .filter_map(|a| a.attr("href"))
                .map(|h| h.to_string())
                .collect();
            assert_eq!(links.len(), 4, "two points, each citing two sources: {links:?}");
            for href in &links {
                let id = href.strip_prefix('#').expect("an in-page link");
                assert_eq!(doc.select(&format!("mark[id=\"{id}\"]")).length(), 1, "{href} lands on a mark");
            }
            assert_eq!(doc.select("p.note").length(), 1, "the model summary is marked");
            assert_eq!(doc.select("ul.reasons > li").length(), 3 + 1, "each source's reason and the merge");
            assert_eq!(
                doc.select("ul.reasons > li").first().text().to_string(),
                format!("{s}, “{s}”: started the story; dedupe.note {s}")
            );
        }
    }

    #[test]
    fn paragraphs_mark_each_span_once_with_its_anchor_on_the_first_run() {
        let text = "One two.\n\nThree four. Five.\n\nSix.";
        let three = text.find("Three").unwrap();
        let six = text.find("Six").unwrap();
        // The second span crosses a paragraph break.
        let spans = [three..three + "Three four.".len(), six - 7..six + 3];
        let shown: Vec<Vec<(String, bool, Option<String>)>> = paragraphs(text, 7, &spans)
            .into_iter()
            .map(|p| p.into_iter().map(|s| (s.text, s.marked, s.anchor)).collect())
            .collect();
        let plain = |t: &str| (t.to_string(), false, None);
        let marked = |t: &str, anchor: Option<&str>| (t.to_string(), true, anchor.map(String::from));
        assert_eq!(
            shown,
            [
                vec![plain("One two.")],
                vec![marked("Three four.", Some("cite-7-0")), plain(" "), marked("Five.", Some("cite-7-1"))],
                vec![marked("Six", None), plain(".")],
            ]
        );
    }

    #[test]
    fn overlapping_citations_make_one_mark_and_a_span_off_the_text_none() {
        let (mut view, _) = hostile::story_view("Grain", "https://example.com/a");
        let len = view.sources[0].article.text.len();
        let points = &mut view.sources[1].article.key_points;
        points[0].citations[1].start += 2;
        points[0].citations[1].end += 2;
        points[1].citations[0].end = len + 10;
        let page = render(&view, &[]);
        let doc = dom_query::Document::from(page.as_str());
        assert_eq!(doc.select("mark").length(), 2, "{page}");
        assert!(page.contains("Grain: cited text not found"), "{page}");
        // The shifted citation still lands on the mark it overlaps.
        for href in doc.select("ol.points a").iter().filter_map(|a| a.attr("href")) {
            let id = href.strip_prefix('#').unwrap().to_string();
            assert_eq!(doc.select(&format!("mark[id=\"{id}\"]")).length(), 1, "{href}");
        }
    }

    #[test]
    fn a_story_without_sources_has_no_page() {
        let view = StoryView { id: 3, sources: Vec::new(), model_summary: None, fields: None };
        assert_eq!(story_page(&view, &[], &[], &jiff::tz::TimeZone::UTC), None);
    }
}
