//! Markdown: YAML-style front matter as metadata, then the document rendered to plain paragraphs.
//!
//! Link and image syntax become their text; the targets are kept, one per line, in
//! `metadata["links"]` and `metadata["images"]`. Front matter keys that name an article field
//! (`title`, `author`, `date`, `url`, `source`, `lang` and their spellings below) fill it; any
//! other key is kept as `metadata["front_matter.KEY"]` (a `- item` list joined by ", "). Only the
//! simple `key: value` subset of YAML is read: the daemon's one YAML parser lives in `config`.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::{normalize_paragraphs, strip_invisible, Extracted};

/// Extracts an article from Markdown.
pub fn extract(input: &str) -> Extracted {
    let input = strip_invisible(&input.replace("\r\n", "\n"));
    let (front, body) = split_front_matter(&input);
    let mut out = Extracted::default();
    for (key, value) in front_matter(front) {
        let slot = match key.to_ascii_lowercase().as_str() {
            "title" | "headline" => &mut out.title,
            "author" | "byline" | "authors" => &mut out.author,
            "date" | "published" | "published_at" => &mut out.published,
            "url" | "link" | "canonical_url" => &mut out.url,
            "source" | "outlet" | "publisher" | "site_name" => &mut out.outlet,
            "lang" | "language" => &mut out.language,
            _ => {
                out.metadata.entry(format!("front_matter.{key}")).or_insert(value);
                continue;
            }
        };
        slot.get_or_insert(value);
    }

    let mut text = String::new();
    let mut in_h1 = false;
    let mut h1 = String::new();
    let (mut links, mut images) = (Vec::new(), Vec::new());
    for event in Parser::new(body) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => keep_target(&mut links, &dest_url),
            Event::Start(Tag::Image { dest_url, .. }) => keep_target(&mut images, &dest_url),
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. })
                if out.title.is_none() && h1.is_empty() =>
            {
                in_h1 = true
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) if in_h1 => in_h1 = false,
            Event::Text(t) | Event::Code(t) if in_h1 => h1.push_str(&t),
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock,
            ) => text.push_str("\n\n"),
            _ => {}
        }
    }
    if out.title.is_none() && !h1.trim().is_empty() {
        out.title = Some(h1.trim().to_string());
    }
    out.text = normalize_paragraphs(&text);
    for (key, targets) in [("links", links), ("images", images)] {
        if !targets.is_empty() {
            out.metadata.insert(key.into(), targets.join("\n"));
        }
    }
    out
}

/// Keeps a link or image target once; in-page anchors (`#notes`) point nowhere worth keeping.
fn keep_target(targets: &mut Vec<String>, url: &str) {
    let url = url.trim();
    if !url.is_empty() && !url.starts_with('#') && !targets.iter().any(|t| t == url) {
        targets.push(url.to_string());
    }
}

/// The `key: value` pairs of front matter, unquoted; a key followed by `- item` lines (or an
/// inline `[a, b]`) gives its items joined by ", ". Empty values are left out.
fn front_matter(front: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in front.lines() {
        let trimmed = line.trim();
        if let Some(item) = trimmed.strip_prefix("- ") {
            // An item of the list opened by the last key (`tags:` then `  - a`).
            if let Some((_, value)) = pairs.last_mut() {
                let item = unquote(item);
                if !item.is_empty() {
                    if !value.is_empty() {
                        value.push_str(", ");
                    }
                    value.push_str(item);
                }
            }
            continue;
        }
        if line.starts_with([' ', '\t']) || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else { continue };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        let value = value.trim();
        let value = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(inline) => {
                inline.split(',').map(unquote).filter(|v| !v.is_empty()).collect::<Vec<_>>().join(", ")
            }
            None => unquote(value).to_string(),
        };
        pairs.push((key.to_string(), value));
    }
    pairs.retain(|(_, value)| !value.is_empty());
    pairs
}

fn unquote(value: &str) -> &str {
    value.trim().trim_matches(|c| c == '"' || c == '\'').trim()
}

fn split_front_matter(input: &str) -> (&str, &str) {
    let Some(rest) = input.strip_prefix("---\n") else { return ("", input) };
    match rest.find("\n---") {
        Some(end) => {
            let after = &rest[end + 4..];
            (&rest[..end], after.strip_prefix('\n').unwrap_or(after))
        }
        None => ("", input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_and_links() {
        let x = extract("---\ntitle: \"A title\"\nsource: Example News\n---\nSee [the report](http://x.example/r) here.\n\n![a chart](c.png)\n");
        assert_eq!(x.title.as_deref(), Some("A title"));
        assert_eq!(x.outlet.as_deref(), Some("Example News"));
        assert_eq!(x.text, "See the report here.\n\na chart");
        assert_eq!(x.metadata.get("links").map(String::as_str), Some("http://x.example/r"));
        assert_eq!(x.metadata.get("images").map(String::as_str), Some("c.png"));
    }

    #[test]
    fn other_front_matter_keys_are_kept_as_metadata() {
        let x = extract("---\ntitle: T\ntags:\n  - ports\n  - \"strikes\"\ncategory: [World, Europe]\nauthors:\n  - A. Writer\n---\nBody text [a](#n) [b](https://b.example) [c](https://b.example).\n");
        assert_eq!(x.metadata.get("front_matter.tags").map(String::as_str), Some("ports, strikes"));
        assert_eq!(x.metadata.get("front_matter.category").map(String::as_str), Some("World, Europe"));
        assert_eq!(x.author.as_deref(), Some("A. Writer"));
        assert_eq!(
            x.metadata.get("links").map(String::as_str),
            Some("https://b.example"),
            "anchors and repeats left out"
        );
    }

    #[test]
    fn first_heading_is_the_title() {
        let x = extract("# Big news\n\nIt happened today.");
        assert_eq!(x.title.as_deref(), Some("Big news"));
        assert_eq!(x.text, "It happened today.");
    }
}
