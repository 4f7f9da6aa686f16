//! Markdown: YAML-style front matter as metadata, then the document rendered to plain paragraphs
//! (link and image syntax become their text).

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::{normalize_paragraphs, strip_invisible, Extracted};

/// Extracts an article from Markdown.
pub fn extract(input: &str) -> Extracted {
    let input = strip_invisible(&input.replace("\r\n", "\n"));
    let (front, body) = split_front_matter(&input);
    let mut out = Extracted::default();
    for line in front.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim().to_string();
        if value.is_empty() {
            continue;
        }
        let slot = match key.trim().to_ascii_lowercase().as_str() {
            "title" | "headline" => &mut out.title,
            "author" | "byline" => &mut out.author,
            "date" | "published" | "published_at" => &mut out.published,
            "url" | "link" | "canonical_url" => &mut out.url,
            "source" | "outlet" | "publisher" | "site_name" => &mut out.outlet,
            "lang" | "language" => &mut out.language,
            _ => continue,
        };
        slot.get_or_insert(value);
    }

    let mut text = String::new();
    let mut in_h1 = false;
    let mut h1 = String::new();
    for event in Parser::new(body) {
        match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. }) if out.title.is_none() && h1.is_empty() => {
                in_h1 = true
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) if in_h1 => in_h1 = false,
            Event::Text(t) | Event::Code(t) if in_h1 => h1.push_str(&t),
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::BlockQuote(_) | TagEnd::CodeBlock) => {
                text.push_str("\n\n")
            }
            _ => {}
        }
    }
    if out.title.is_none() && !h1.trim().is_empty() {
        out.title = Some(h1.trim().to_string());
    }
    out.text = normalize_paragraphs(&text);
    out
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
    }

    #[test]
    fn first_heading_is_the_title() {
        let x = extract("# Big news\n\nIt happened today.");
        assert_eq!(x.title.as_deref(), Some("Big news"));
        assert_eq!(x.text, "It happened today.");
    }
}
