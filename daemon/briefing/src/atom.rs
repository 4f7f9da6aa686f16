//! The Atom feed (RFC 4287): one entry per story of the last days, so a feed reader shows new
//! stories and, through `updated`, stories that gained sources.
//!
//! An entry's id is the story's (`urn:briefd:story:ID`), stable for the life of the store; its
//! `updated` is when its newest source arrived, `published` when its first did. The content is
//! the story as HTML ([`crate::html::story_fragment`], escaped by the template), carried as
//! Atom `type="html"` text, which the XML writer escapes once more.

use atom_syndication::{Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};

use crate::{escape, html, Story};

/// One day of the feed: its date and its stories.
pub struct Day<'a> {
    /// YYYY-MM-DD.
    pub date: &'a str,
    /// Its stories, in briefing order.
    pub stories: &'a [Story],
}

/// The feed over `days` (newest first), times in `tz`. With no story at all the feed is valid
/// and empty.
pub fn feed(days: &[Day<'_>], tz: &jiff::tz::TimeZone) -> String {
    let entries: Vec<Entry> =
        days.iter().flat_map(|d| d.stories.iter().map(|s| entry(d.date, s, tz))).collect();
    let updated = entries.iter().map(|e| *e.updated()).max().unwrap_or_else(epoch);
    let mut feed = Feed::default();
    feed.set_id("urn:briefd:feed");
    feed.set_title(Text::plain("briefd: the daily briefing"));
    feed.set_updated(updated);
    feed.set_authors(vec![Person { name: "briefd".into(), ..Default::default() }]);
    feed.set_generator(Some(Generator { value: "briefd".into(), ..Default::default() }));
    feed.set_links(vec![Link {
        href: "index.html".into(),
        rel: "alternate".into(),
        mime_type: Some("text/html".into()),
        ..Default::default()
    }]);
    feed.set_entries(entries);
    let mut out = feed.to_string();
    out.push('\n');
    out
}

fn entry(date: &str, s: &Story, tz: &jiff::tz::TimeZone) -> Entry {
    let times = || s.sources.iter().filter_map(|src| timestamp(&src.received_at));
    let mut entry = Entry::default();
    entry.set_id(format!("urn:briefd:story:{}", s.id));
    entry.set_title(Text::plain(s.headline.clone()));
    entry.set_updated(times().max().unwrap_or_else(epoch));
    entry.set_published(times().min());
    let mut links = vec![Link {
        href: format!("{date}.html#story-{}", s.id),
        rel: "alternate".into(),
        mime_type: Some("text/html".into()),
        ..Default::default()
    }];
    links.extend(
        s.sources.iter().filter_map(|src| src.url.as_deref().and_then(escape::web_url)).map(|url| Link {
            href: url.into(),
            rel: "related".into(),
            ..Default::default()
        }),
    );
    entry.set_links(links);
    // A story stage's labels, where feed readers look for them.
    entry.set_categories(
        s.tags.iter().map(|t| Category { term: t.clone(), ..Default::default() }).collect::<Vec<_>>(),
    );
    let mut content = Content::default();
    content.set_content_type(Some("html".to_string()));
    content.set_value(Some(html::story_fragment(s, tz)));
    entry.set_content(Some(content));
    entry
}

fn timestamp(rfc3339: &str) -> Option<FixedDateTime> {
    FixedDateTime::parse_from_rfc3339(rfc3339).ok()
}

fn epoch() -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339("1970-01-01T00:00:00Z").expect("a valid RFC 3339 time")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostile;

    fn parse(xml: &str) -> feed_rs::model::Feed {
        feed_rs::parser::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}:\n{xml}"))
    }

    /// Issue "read it where you read": a feed reader reads every story, with stable ids, and no
    /// article string becomes markup in the entry's HTML.
    #[test]
    fn each_story_is_an_entry_a_feed_parser_reads_and_its_content_is_inert() {
        let stories = hostile::stories();
        let xml = feed(&[Day { date: "2025-07-13", stories: &stories }], &jiff::tz::TimeZone::UTC);
        assert!(xml.starts_with("<?xml"), "{xml}");
        let parsed = parse(&xml);
        assert_eq!(parsed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(parsed.entries.len(), stories.len());
        let (strings, _) = hostile::corpus();
        for ((entry, story), s) in parsed.entries.iter().zip(&stories).zip(&strings) {
            assert_eq!(entry.id, format!("urn:briefd:story:{}", story.id));
            assert_eq!(entry.title.as_ref().map(|t| t.content.as_str()), Some(s.as_str()), "title is text");
            let content = entry.content.as_ref().and_then(|c| c.body.as_deref()).expect("content");
            hostile::assert_inert(content, 0);
            assert!(content.contains("Summary written by a local model"), "{content}");
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(
                terms,
                story.tags.iter().map(String::as_str).collect::<Vec<_>>(),
                "tags are categories"
            );
            for link in &entry.links {
                assert!(
                    link.href.starts_with("https://")
                        || link.href.starts_with("http://")
                        || link.href.starts_with("2025-07-13.html#story-"),
                    "{}",
                    link.href
                );
            }
        }
    }

    #[test]
    fn an_entry_is_updated_when_its_newest_source_arrived() {
        let mut stories = hostile::stories();
        stories.truncate(2);
        stories[0].sources[1].received_at = "2025-07-13T09:30:00Z".into();
        let xml = feed(
            &[
                Day { date: "2025-07-13", stories: &stories[..1] },
                Day { date: "2025-07-12", stories: &stories[1..] },
            ],
            &jiff::tz::TimeZone::UTC,
        );
        let parsed = parse(&xml);
        let updated: Vec<String> =
            parsed.entries.iter().map(|e| e.updated.map(|t| t.to_rfc3339()).unwrap_or_default()).collect();
        assert_eq!(updated, ["2025-07-13T09:30:00+00:00", "2025-07-13T08:00:00+00:00"]);
        assert_eq!(
            parsed.entries[0].published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-07-13T08:00:00+00:00")
        );
        assert_eq!(parsed.updated.map(|t| t.to_rfc3339()).as_deref(), Some("2025-07-13T09:30:00+00:00"));
        assert_eq!(parse(&feed(&[], &jiff::tz::TimeZone::UTC)).entries.len(), 0, "an empty feed is valid");
    }
}
