//! News feeds: RSS 2.0 (and 0.9x), RSS 1.0 (RDF) and Atom files, parsed by the `feed-rs` crate;
//! every item becomes an article of its own, as in a JSON Feed ([`crate::json`]).
//!
//! Per item: the title (an HTML title has its tags removed), the first link (Atom: the
//! `alternate` one) as the URL, the authors (else the feed's), the publication date (else the
//! update date) as RFC 3339 UTC, the language (else the feed's), and as text the full content
//! (`content:encoded`, Atom `content`) when there is any, else the summary or description. HTML
//! content goes through the same fragment reader as a JSON Feed's `content_html`. The outlet is
//! the feed's own title, else its site's host name. An item's id is kept as
//! `metadata["item_id"]`, and `metadata["feed_format"]` names the feed's kind.
//!
//! `stage_api::Format` has no variant for feeds: a plugin built against stage-api 1.0 could not
//! read an article carrying a new one, so feed items are marked `Html` (what their content is).

use feed_rs::model::{Entry, Feed, Text};

use crate::detect::FeedKind;
use crate::{html, normalize_paragraphs, strip_invisible, Extracted};

/// The articles of a feed document, in order: one result per item (an item with no text is an
/// `Err` in its place). `Err` when the document is not a readable feed or has no items;
/// `file_name` is named in that message.
pub fn extract(
    text: &str,
    kind: FeedKind,
    file_name: &str,
) -> Result<Vec<Result<Extracted, String>>, String> {
    let name = kind.name();
    let feed = feed_rs::parser::parse(without_xml_declaration(text).as_bytes())
        .map_err(|e| format!("{file_name}: not a readable {name} feed: {e}"))?;
    if feed.entries.is_empty() {
        let what = if kind == FeedKind::Atom { "entries" } else { "items" };
        return Err(format!("{file_name}: the {name} feed holds no {what}, so no articles"));
    }
    let outlet = feed
        .title
        .as_ref()
        .map(plain)
        .filter(|t| !t.is_empty())
        .or_else(|| feed.links.iter().find_map(|l| ::text::site::host_of(&l.href)));
    Ok(feed.entries.iter().map(|entry| item(entry, &feed, outlet.as_deref(), name)).collect())
}

/// The text with its XML declaration removed. The text was decoded already (BOM, UTF-16, legacy
/// encodings, [`crate::decode`]), but the parser would decode it again by the declared
/// `encoding`, garbling every non-ASCII letter of a feed declared as, say, ISO-8859-1.
fn without_xml_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    match trimmed.strip_prefix("<?xml").and_then(|rest| rest.find("?>").map(|end| &rest[end + 2..])) {
        Some(rest) => rest,
        None => trimmed,
    }
}

fn item(entry: &Entry, feed: &Feed, outlet: Option<&str>, name: &str) -> Result<Extracted, String> {
    let title = entry.title.as_ref().map(plain).filter(|t| !t.is_empty());
    let content = entry.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?;
        Some(to_text(body, c.content_type.essence().subty.as_str() != "plain"))
    });
    let text = content
        .filter(|t| !t.is_empty())
        .or_else(|| entry.summary.as_ref().map(rich).filter(|t| !t.is_empty()))
        .ok_or_else(|| {
            let which = title.as_deref().map(|t| format!(" {t:?}")).unwrap_or_default();
            format!("the {name} item{which} has no text: no content, summary or description")
        })?;
    // RSS writes an author as "desk@example.com (Jane Doe)"; the parser leaves the parentheses
    // on the name, and a bare address is no name.
    let people = |people: &[feed_rs::model::Person]| -> Option<String> {
        let names: Vec<&str> = people
            .iter()
            .filter_map(|p| p.name.as_deref())
            .map(|n| n.trim().trim_start_matches('(').trim_end_matches(')').trim())
            .filter(|n| !n.is_empty())
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    };
    // The item's own page: not a comments link, and in Atom the `alternate` one if any.
    let pages = || entry.links.iter().filter(|l| l.target.is_none());
    let url = pages()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| pages().next())
        .map(|l| l.href.trim().to_string())
        .filter(|u| !u.is_empty());
    let mut extracted = Extracted {
        text,
        title,
        url,
        outlet: outlet.map(str::to_string),
        author: people(&entry.authors).or_else(|| people(&feed.authors)),
        published: entry.published.or(entry.updated).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        language: entry.language.clone().or_else(|| feed.language.clone()).filter(|l| !l.trim().is_empty()),
        ..Default::default()
    };
    if !entry.id.trim().is_empty() {
        extracted.metadata.insert("item_id".into(), entry.id.trim().to_string());
    }
    extracted.metadata.insert("feed_format".into(), name.to_string());
    Ok(extracted)
}

/// A text construct (a title) as one line of plain text.
fn plain(text: &Text) -> String {
    rich(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A text construct (summary, description) as paragraphs of plain text.
fn rich(text: &Text) -> String {
    to_text(&text.content, text.content_type.essence().subty.as_str() != "plain")
}

/// `body` as text: HTML (declared so, or plain text that still holds tags, as many RSS 1.0
/// descriptions do) through the HTML fragment reader, anything else as paragraphs.
fn to_text(body: &str, is_html: bool) -> String {
    if is_html || (body.contains("</") && body.contains('>')) {
        html::fragment_text(body)
    } else {
        normalize_paragraphs(&strip_invisible(&body.replace("\r\n", "\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_legacy_encoding_does_not_garble_decoded_text() {
        let rss = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel>\
                   <title>Le Monde</title><item><title>Été</title>\
                   <description>Un été très chaud à Paris.</description></item></channel></rss>";
        let items = extract(rss, FeedKind::Rss, "f.rss").unwrap();
        let x = items[0].as_ref().unwrap();
        assert_eq!(x.title.as_deref(), Some("Été"));
        assert_eq!(x.text, "Un été très chaud à Paris.");
        assert_eq!(x.outlet.as_deref(), Some("Le Monde"));
    }

    #[test]
    fn html_titles_lose_their_tags_and_an_item_without_text_fails() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom">
            <title type="html">&lt;b&gt;Wire&lt;/b&gt;</title>
            <link href="https://www.wire.example/"/>
            <entry><id>1</id><title type="html">Storm &lt;em&gt;hits&lt;/em&gt; coast</title>
            </entry></feed>"#;
        let items = extract(atom, FeedKind::Atom, "f.atom").unwrap();
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err, "the Atom item \"Storm hits coast\" has no text: no content, summary or description");
    }

    #[test]
    fn a_feed_without_items_or_a_broken_one_fails_naming_the_file() {
        let empty = "<rss version=\"2.0\"><channel><title>T</title></channel></rss>";
        assert_eq!(
            extract(empty, FeedKind::Rss, "e.rss").unwrap_err(),
            "e.rss: the RSS feed holds no items, so no articles"
        );
        let err = extract("<rss version=\"2.0\"><channel><item>", FeedKind::Rss, "b.rss").unwrap_err();
        assert!(err.starts_with("b.rss: not a readable RSS feed: "), "{err}");
    }

    #[test]
    fn the_outlet_falls_back_to_the_sites_host() {
        let rss = "<rss version=\"2.0\"><channel><link>https://www.harbour.example/news</link>\
                   <item><title>A</title><description>Ships wait outside the port.</description>\
                   </item></channel></rss>";
        let items = extract(rss, FeedKind::Rss, "f.rss").unwrap();
        assert_eq!(items[0].as_ref().unwrap().outlet.as_deref(), Some("harbour.example"));
    }
}
