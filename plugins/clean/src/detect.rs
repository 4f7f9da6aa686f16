//! Recognises a document's format from its content, with the file extension as a tie-breaker.
//!
//! A news feed (RSS 2.0, RSS 1.0, Atom) is recognised apart ([`feed_kind`]), before the
//! document formats: a feed is XML whose items often carry HTML, so the HTML signs below would
//! otherwise claim it as one page.

use stage_api::Format;

/// The kind of news feed a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// RSS 0.9x or 2.0: `<rss>`.
    Rss,
    /// RSS 1.0: RDF with the `http://purl.org/rss/1.0/` vocabulary.
    Rdf,
    /// Atom: `<feed>`.
    Atom,
}

impl FeedKind {
    /// The name a user knows the format by.
    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Rss => "RSS",
            FeedKind::Rdf => "RSS 1.0",
            FeedKind::Atom => "Atom",
        }
    }
}

/// The vocabulary that makes an RDF document an RSS 1.0 feed.
const RSS_1_NAMESPACE: &str = "purl.org/rss/1.0";

/// The kind of feed `text` is, judged by its root element (after any XML declaration, comments
/// and doctype); `file_name`'s `.rss` or `.atom` extension makes any XML document a feed, so a
/// damaged feed fails as a feed rather than being read as prose. `None` for anything else.
pub fn feed_kind(text: &str, file_name: &str) -> Option<FeedKind> {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    // Prolog: the XML declaration, processing instructions, comments and a doctype, in any order.
    loop {
        let skipped = if rest.starts_with("<?") {
            rest.find("?>").map(|e| e + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|e| e + 1)
        } else {
            break;
        };
        rest = rest[skipped.unwrap_or(rest.len())..].trim_start();
    }
    let root = rest.strip_prefix('<')?;
    let name: String =
        root.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_')).collect();
    let local = name.rsplit(':').next().unwrap_or_default();
    let open_tag = &root[..root.find('>').unwrap_or(root.len())];
    match local {
        "rss" => Some(FeedKind::Rss),
        "feed" => Some(FeedKind::Atom),
        "RDF" if open_tag.contains(RSS_1_NAMESPACE) || text.contains(RSS_1_NAMESPACE) => Some(FeedKind::Rdf),
        _ => match ext.as_str() {
            "rss" => Some(FeedKind::Rss),
            "atom" => Some(FeedKind::Atom),
            _ => None,
        },
    }
}

/// The format of `text`, judged by content first; `file_name`'s extension decides only
/// between formats the content leaves open.
pub fn detect(text: &str, file_name: &str) -> Format {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && (serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() || ext == "json")
    {
        return Format::Json;
    }
    if ext == "json" {
        return Format::Json;
    }
    let head: String = trimmed.chars().take(2048).collect::<String>().to_ascii_lowercase();
    if head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<html")
        || head.contains("<body")
        || head.contains("<head")
        || (head.starts_with("<?xml") && head.contains("xhtml"))
        || matches!(ext.as_str(), "html" | "htm" | "xhtml")
    {
        return Format::Html;
    }
    let lower_tags = ["</p>", "</div>", "<br", "</a>", "</span>"];
    let tag_count: usize = lower_tags.iter().map(|t| head.matches(t).count()).sum();
    if tag_count >= 3 {
        return Format::Html;
    }
    if trimmed.starts_with("---\n")
        || trimmed.starts_with("---\r\n")
        || matches!(ext.as_str(), "md" | "markdown")
    {
        return Format::Markdown;
    }
    let markdown_signs = text
        .lines()
        .take(200)
        .filter(|l| l.starts_with("# ") || l.starts_with("## ") || l.contains("](http"))
        .count();
    if markdown_signs >= 2 {
        return Format::Markdown;
    }
    Format::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(detect("<!DOCTYPE html><html><body><p>x</p></body></html>", "a.txt"), Format::Html);
        assert_eq!(detect("{\"title\": \"x\"}", "a.txt"), Format::Json);
        assert_eq!(detect("---\ntitle: x\n---\nbody", "a.txt"), Format::Markdown);
        assert_eq!(detect("Just words.\n\nMore words.", "a.txt"), Format::Text);
    }

    #[test]
    fn feeds_are_recognised_by_their_root_element() {
        let rss = "\u{feff}<?xml version=\"1.0\"?>\n<!-- generator --><rss version=\"2.0\"><channel>";
        assert_eq!(feed_kind(rss, "news.txt"), Some(FeedKind::Rss));
        let atom = "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">";
        assert_eq!(feed_kind(atom, "x"), Some(FeedKind::Atom));
        let rdf = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                   xmlns=\"http://purl.org/rss/1.0/\">";
        assert_eq!(feed_kind(rdf, "a.xml"), Some(FeedKind::Rdf));
        assert_eq!(feed_kind("<rdf:RDF xmlns:rdf=\"x\"><foaf:Person/>", "a.xml"), None, "RDF, but no feed");
        assert_eq!(feed_kind("<!DOCTYPE html><html><body><p>rss</p>", "a.rss.html"), None);
        assert_eq!(feed_kind("<?xml version=\"1.0\"?><note>x</note>", "a.xml"), None);
        assert_eq!(feed_kind("<?xml version=\"1.0\"?><note>x</note>", "a.rss"), Some(FeedKind::Rss));
        assert_eq!(feed_kind("Plain words about <feed> and rss.", "a.txt"), None);
    }

    #[test]
    fn extension_decides_when_content_is_open() {
        assert_eq!(detect("plain words", "a.md"), Format::Markdown);
        assert_eq!(detect("{broken", "a.json"), Format::Json);
    }
}
