//! The briefing as a web page: `YYYY-MM-DD.html` for a day and `index.html` for the latest,
//! readable on a phone and a desktop, light or dark, with no script and nothing fetched from
//! elsewhere.
//!
//! Every string from an article reaches the page through the template engine (askama), which
//! escapes for HTML by default; nothing here marks article text as safe. Links go only to
//! `http`/`https` URLs ([`escape::web_url`]); other URLs are shown as text.

use askama::Template;

use crate::{escape, reprint, KeyPoint, SourceLine, Story};

mod story_page;

pub use story_page::story_page;

/// The page's style sheet, inlined so the page stands alone (a saved copy reads the same).
pub const STYLE: &str = include_str!("../templates/style.css");

#[derive(Template)]
#[template(path = "day.html")]
struct DayPage<'a> {
    date: &'a str,
    counts: String,
    style: &'static str,
    days: Vec<DayLink<'a>>,
    stories: Vec<StoryHtml>,
    with_heading: bool,
    /// Headlines link to `story/{id}`, the story's page (only `briefd serve` has such pages).
    story_links: bool,
    /// Whether the page offers the search form (only where a server answers it).
    search: bool,
    /// The search form's initial text.
    query: &'a str,
}

/// One story as the HTML content of a feed entry (the entry's title is its headline).
#[derive(Template)]
#[template(path = "entry.html")]
struct EntryContent<'a> {
    story: &'a StoryHtml,
    with_heading: bool,
    story_links: bool,
}

struct DayLink<'a> {
    date: &'a str,
    current: bool,
}

struct StoryHtml {
    id: i64,
    headline: String,
    summary: Option<String>,
    model_written: bool,
    /// The labels its story stages gave it.
    tags: Vec<String>,
    points: Vec<PointHtml>,
    sources_heading: String,
    sources: Vec<SourceHtml>,
}

struct PointHtml {
    text: String,
    /// "(N sources)" when more than one outlet says it.
    n_sources: Option<usize>,
    /// When the sources differ: each value with the tags of the sources giving it.
    differ: Vec<ValueHtml>,
    /// The cited sources (when the sources differ: those citing no value).
    tags: Vec<Tag>,
}

struct ValueHtml {
    value: String,
    tags: Vec<Tag>,
}

struct Tag {
    label: String,
    href: Option<String>,
}

struct SourceHtml {
    outlet: Option<String>,
    title: String,
    href: Option<String>,
    /// A URL that may not be linked, shown as text.
    url_text: Option<String>,
    file: String,
    published: Option<String>,
    received: String,
    reprints: Vec<SourceHtml>,
}

/// The page for `date` (YYYY-MM-DD), times in `tz`; `days` are the days to link to, newest
/// first (`date` among them is shown as the current one).
pub fn day(date: &str, tz: &jiff::tz::TimeZone, stories: &[Story], days: &[String]) -> String {
    day_page(date, tz, stories, days, false)
}

/// The page for `date` as `briefd serve` sends it: like [`day`], with each headline linking to
/// the story's page (`story/{id}`, beside the day pages). The files written to `briefings/`
/// link nowhere, since no story pages are written there.
pub fn served_day(date: &str, tz: &jiff::tz::TimeZone, stories: &[Story], days: &[String]) -> String {
    day_page(date, tz, stories, days, true)
}

/// [`day`] or [`served_day`]: `served` adds what only a server answers, the story links and
/// the search form.
fn day_page(date: &str, tz: &jiff::tz::TimeZone, stories: &[Story], days: &[String], served: bool) -> String {
    let n_sources: usize = stories.iter().map(|s| s.n_sources).sum();
    let page = DayPage {
        date,
        counts: format!(
            "{} · {}",
            crate::plural(stories.len(), "story", "stories"),
            crate::plural(n_sources, "source", "sources")
        ),
        style: STYLE,
        days: days.iter().map(|d| DayLink { date: d, current: d == date }).collect(),
        stories: stories.iter().map(|s| story(s, tz)).collect(),
        with_heading: true,
        story_links: served,
        search: served,
        query: "",
    };
    page.render().expect("the day template renders every value it is given")
}

/// `story` as an HTML fragment (summary, key points, sources; no headline), escaped like the
/// page, for a feed entry's content.
pub fn story_fragment(s: &Story, tz: &jiff::tz::TimeZone) -> String {
    let story = story(s, tz);
    EntryContent { story: &story, with_heading: false, story_links: false }
        .render()
        .expect("the entry template renders every value it is given")
}

fn story(s: &Story, tz: &jiff::tz::TimeZone) -> StoryHtml {
    let mut sources: Vec<SourceHtml> = Vec::new();
    for (line, reprinted) in reprint::listed(&s.sources) {
        let html = source(line, tz);
        match sources.last_mut() {
            Some(original) if reprinted => original.reprints.push(html),
            _ => sources.push(html),
        }
    }
    StoryHtml {
        id: s.id,
        headline: s.headline.clone(),
        summary: s.summary.clone(),
        model_written: s.summary.is_some() && s.summary_method.as_deref() == Some("model"),
        tags: s.tags.clone(),
        points: s.key_points.iter().map(|p| point(p, &s.sources)).collect(),
        sources_heading: crate::plural(s.n_sources, "source", "sources"),
        sources,
    }
}

fn point(p: &KeyPoint, sources: &[SourceLine]) -> PointHtml {
    if !p.sources_differ {
        return PointHtml {
            text: p.text.clone(),
            n_sources: (p.n_sources > 1).then_some(p.n_sources),
            differ: Vec::new(),
            tags: tags(p.citations.iter().map(|c| c.article_id), sources),
        };
    }
    let mut values: Vec<&str> = Vec::new();
    for v in p.citations.iter().filter_map(|c| c.value.as_deref()) {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    let differ = values
        .iter()
        .map(|v| ValueHtml {
            value: v.to_string(),
            tags: tags(
                p.citations.iter().filter(|c| c.value.as_deref() == Some(*v)).map(|c| c.article_id),
                sources,
            ),
        })
        .collect();
    PointHtml {
        text: p.text.clone(),
        n_sources: None,
        differ,
        tags: tags(p.citations.iter().filter(|c| c.value.is_none()).map(|c| c.article_id), sources),
    }
}

/// Each cited source once, in citation order: its outlet (else its file name), linked to the
/// article when its URL may be linked.
fn tags(ids: impl Iterator<Item = i64>, sources: &[SourceLine]) -> Vec<Tag> {
    let mut out: Vec<Tag> = Vec::new();
    for id in ids {
        let Some(s) = sources.iter().find(|s| s.article_id == id) else { continue };
        let label = s.outlet.as_deref().filter(|o| !o.trim().is_empty()).unwrap_or(&s.file).to_string();
        if !out.iter().any(|t| t.label == label) {
            let href = s.url.as_deref().and_then(escape::web_url).map(String::from);
            out.push(Tag { label, href });
        }
    }
    out
}

fn source(s: &SourceLine, tz: &jiff::tz::TimeZone) -> SourceHtml {
    let href = s.url.as_deref().and_then(escape::web_url).map(String::from);
    SourceHtml {
        outlet: s.outlet.clone().filter(|o| !o.trim().is_empty()),
        title: s.title.clone(),
        url_text: if href.is_none() { s.url.clone() } else { None },
        href,
        file: s.file.clone(),
        published: s.published.clone(),
        received: crate::local_time(&s.received_at, tz),
        reprints: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostile;

    const DAYS: [&str; 2] = ["2025-07-13", "2025-07-12"];

    fn days() -> Vec<String> {
        DAYS.iter().map(|d| d.to_string()).collect()
    }

    /// Issue "read it where you read": whatever an article's strings hold, the page shows them as
    /// text and holds no markup of theirs.
    #[test]
    fn hostile_strings_are_text_on_the_page() {
        let stories = hostile::stories();
        let page = day(DAYS[0], &jiff::tz::TimeZone::UTC, &stories, &days());
        hostile::assert_inert(&page, 1);
        let doc = dom_query::Document::from(page.as_str());
        let headlines: Vec<String> = doc.select("article h2").iter().map(|h| h.text().to_string()).collect();
        let (strings, _) = hostile::corpus();
        assert_eq!(headlines, strings, "each headline reads exactly as the article wrote it");
        assert_eq!(doc.select("p.note").length(), stories.len(), "every model summary is marked");
        let tags: Vec<String> = doc.select("p.tags").iter().map(|p| p.text().to_string()).collect();
        let expected: Vec<String> = stories.iter().map(|s| format!("Tags: {}", s.tags.join(", "))).collect();
        assert_eq!(tags, expected, "a story stage's tags read as written");
    }

    #[test]
    fn the_page_links_the_other_days_and_lists_reprints_under_their_source() {
        let mut stories = hostile::stories();
        stories.truncate(1);
        stories[0].headline = "Harbour wall repaired".into();
        stories[0].summary_method = Some("extractive".into());
        let page = day(DAYS[0], &jiff::tz::TimeZone::UTC, &stories, &days());
        let doc = dom_query::Document::from(page.as_str());
        assert_eq!(
            doc.select("nav a").attr("href").map(|h| h.to_string()).as_deref(),
            Some("2025-07-12.html")
        );
        assert_eq!(doc.select("nav [aria-current=page]").text().to_string(), DAYS[0]);
        assert_eq!(doc.select("p.note").length(), 0, "an extractive summary carries no model marker");
        assert_eq!(doc.select("ul.sources > li").length(), 2, "two independent sources");
        assert!(doc.select("ul.sources > li > ul > li").text().starts_with("reprinted by"));
        assert_eq!(doc.select("article h3").first().text().to_string(), "Key points");
        assert!(page.contains("(2 sources)"), "{page}");
    }

    /// Served, each headline links to its story's page; written to `briefings/`, nowhere.
    #[test]
    fn only_the_served_day_links_its_stories() {
        let stories = hostile::stories();
        let served = served_day(DAYS[0], &jiff::tz::TimeZone::UTC, &stories, &days());
        hostile::assert_inert(&served, 1);
        let doc = dom_query::Document::from(served.as_str());
        let links: Vec<String> =
            doc.select("article h2 a").iter().filter_map(|a| a.attr("href")).map(|h| h.to_string()).collect();
        let expected: Vec<String> = stories.iter().map(|s| format!("story/{}", s.id)).collect();
        assert_eq!(links, expected);
        let written = day(DAYS[0], &jiff::tz::TimeZone::UTC, &stories, &days());
        assert_eq!(dom_query::Document::from(written.as_str()).select("article h2 a").length(), 0);
    }

    /// The check itself: raw markup from an article fails it.
    #[test]
    #[should_panic(expected = "element <img>")]
    fn the_inertness_check_catches_raw_markup() {
        hostile::assert_inert("<p>Grain <img src=x onerror=alert(1)></p>", 0);
    }

    #[test]
    #[should_panic(expected = "link to")]
    fn the_inertness_check_catches_a_script_link() {
        hostile::assert_inert("<p><a href=\"javascript:alert(1)\">x</a></p>", 0);
    }

    /// Issue 18: the served page has a search box sending a GET to `search`; the written file,
    /// which nothing answers, has none.
    #[test]
    fn only_the_served_page_has_the_search_form() {
        let stories = hostile::stories();
        let served = served_day(DAYS[0], &jiff::tz::TimeZone::UTC, &stories, &days());
        hostile::assert_inert(&served, 1);
        let doc = dom_query::Document::from(served.as_str());
        assert_eq!(doc.select("form[action=search][method=get] input[name=q]").length(), 1);
        let written = day(DAYS[0], &jiff::tz::TimeZone::UTC, &stories, &days());
        assert_eq!(dom_query::Document::from(written.as_str()).select("form").length(), 0);
    }

    #[test]
    fn an_empty_day_says_how_to_fill_it() {
        let page = day(DAYS[0], &jiff::tz::TimeZone::UTC, &[], &[]);
        hostile::assert_inert(&page, 1);
        assert!(page.contains("No stories yet"), "{page}");
    }
}
