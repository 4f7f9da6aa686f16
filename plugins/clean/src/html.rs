//! HTML pages: the main content and metadata.
//!
//! Two extractors are available, both real HTML5 parsers with content scoring: the `trafilatura`
//! crate (a port of trafilatura's algorithm, with jusText and Readability fallbacks) and
//! `dom_smoothie` (a port of Mozilla Readability). `briefd eval extraction` scores both on the
//! same pages; the default is the one that scored higher there.

use dom_smoothie::{Config, Readability, TextMode};
use serde::Deserialize;

use crate::attribution::{strip_site_name, PageMeta};
use crate::{normalize_paragraphs, strip_invisible, Extracted};

/// Which main-content extractor reads HTML pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HtmlExtractor {
    /// The trafilatura algorithm (`trafilatura` crate).
    #[default]
    Trafilatura,
    /// Mozilla Readability (`dom_smoothie` crate).
    Readability,
}

/// Extracts the article from an HTML page with the default extractor.
pub fn extract(html: &str) -> Result<Extracted, String> {
    extract_with(html, HtmlExtractor::default())
}

/// Nesting deeper than this is never a real page; tree-building extractors would spend minutes
/// (or the stack) on it, so such input takes the linear path instead.
pub const MAX_NESTING: usize = 512;

/// Pages larger than this take the linear path too: the tree builders hold several copies of a
/// page as nodes (a 50 MB page would cost gigabytes and minutes), and no news article needs more.
pub const MAX_TREE_BYTES: usize = 8 * 1024 * 1024;

/// Extracts the article from an HTML page with `extractor`, falling back to the other extractor
/// and then to plain tag stripping, so a page that confuses one still yields its text; the
/// outlet, URL and title then come from the page's own metadata ([`attribute`]).
pub fn extract_with(html: &str, extractor: HtmlExtractor) -> Result<Extracted, String> {
    extract_text_with(html, extractor).map(|x| attribute(html, x))
}

/// The outlet by the page's own names ([`crate::attribution`]), the URL and title from its
/// metadata when the extractor found none, and the title without the site's name. The
/// extractors' own site names are not used: they fall back to social-media links, handles and title-cased
/// host labels ("https://www.facebook.com/CBSNews", "Wday_", "Hosted").
fn attribute(html: &str, mut x: Extracted) -> Extracted {
    let page = PageMeta::read(html);
    x.outlet = page.outlet(&x.text, x.url.as_deref());
    x.url = x.url.or_else(|| page.url.clone());
    let mut names = page.names();
    names.extend(x.outlet.as_deref());
    names.extend(x.url.as_deref());
    x.title = x.title.take().or_else(|| page.title.clone()).map(|t| strip_site_name(&t, &names));
    x
}

fn extract_text_with(html: &str, extractor: HtmlExtractor) -> Result<Extracted, String> {
    if html.len() > MAX_TREE_BYTES || max_nesting(html) > MAX_NESTING {
        return Ok(crate::text::extract(&strip_tags(html)));
    }
    let other = match extractor {
        HtmlExtractor::Trafilatura => HtmlExtractor::Readability,
        HtmlExtractor::Readability => HtmlExtractor::Trafilatura,
    };
    let has_text = |r: &Result<Extracted, String>| r.as_ref().is_ok_and(|x| !x.text.trim().is_empty());
    let first = extract_only(html, extractor);
    if has_text(&first) {
        return first;
    }
    let second = extract_only(html, other);
    if has_text(&second) {
        return second;
    }
    let stripped = crate::text::extract(&strip_tags(html));
    if stripped.text.trim().is_empty() {
        first
    } else {
        Ok(stripped)
    }
}

/// Only the extractor named, no fallbacks: for scoring each extractor on its own.
pub fn extract_only(html: &str, extractor: HtmlExtractor) -> Result<Extracted, String> {
    match extractor {
        HtmlExtractor::Trafilatura => with_trafilatura(html),
        HtmlExtractor::Readability => with_readability(html),
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
];

/// The deepest element nesting in `html`, by a linear scan of its tags.
pub fn max_nesting(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let bytes = html.as_bytes();
    let mut i = 0;
    // The next '>' at or after `i`, found once and reused, so that many '<' without a '>' stay
    // linear instead of each scanning to the end.
    let mut next_gt: Option<usize> = None;
    while let Some(offset) = memchr(b'<', &bytes[i..]) {
        i += offset + 1;
        let rest = &html[i..];
        if rest.starts_with("!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        let closing = rest.starts_with('/');
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if !matches!(next_gt, Some(gt) if gt >= i) {
            next_gt = Some(memchr(b'>', &bytes[i..]).map_or(bytes.len(), |o| i + o));
        }
        let end = next_gt.unwrap_or(bytes.len());
        let self_closing = bytes[..end].ends_with(b"/");
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing && !VOID.contains(&name.as_str()) {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Text of `html` by one linear pass: tags dropped (block tags become line breaks), script and
/// style content skipped, common entities decoded.
pub fn strip_tags(html: &str) -> String {
    const BLOCK: &[&str] = &[
        "p",
        "div",
        "br",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "title",
    ];
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        rest = &rest[start + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = rest.get(end + 1..).unwrap_or("");
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            rest = find_ignore_case(rest, &format!("</{name}")).map_or("", |i| &rest[i..]);
            continue;
        }
        if BLOCK.contains(&name.as_str()) {
            out.push_str("\n\n");
        }
    }
    out.push_str(&decode_entities(rest));
    out
}

/// Where `needle` (ASCII) first occurs in `haystack`, ignoring ASCII case; without copying the
/// haystack, so that a page of many scripts stays linear.
fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    let first = needle.first()?;
    let mut from = 0;
    while let Some(offset) = memchr(*first, &hay[from..]) {
        let at = from + offset;
        if hay.get(at..at + needle.len()).is_some_and(|w| w.eq_ignore_ascii_case(needle)) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Decodes the common named and all numeric HTML entities.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let entity = &rest[1..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                    u32::from_str_radix(&entity[2..], 16).ok().and_then(char::from_u32)
                }
                _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn with_trafilatura(html: &str) -> Result<Extracted, String> {
    let options = trafilatura::Options::default();
    let result = trafilatura::extract(html, &options)
        .map_err(|e| format!("no article found in the HTML page ({e}); is it a saved news page?"))?;
    let m = result.metadata;
    let nonempty = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Extracted {
        text: normalize_paragraphs(&strip_invisible(&result.content_text)),
        title: nonempty(m.title),
        outlet: nonempty(m.sitename),
        author: nonempty(m.author),
        published: m.date.map(|d| d.to_string()),
        url: nonempty(m.url),
        language: nonempty(m.language),
        ..Default::default()
    })
}

fn with_readability(html: &str) -> Result<Extracted, String> {
    let config = Config { text_mode: TextMode::Formatted, ..Default::default() };
    let mut readability =
        Readability::new(html, None, Some(config)).map_err(|e| format!("cannot read the HTML page: {e}"))?;
    let article = readability
        .parse()
        .map_err(|e| format!("no article found in the HTML page ({e}); is it a saved news page?"))?;
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Extracted {
        text: normalize_paragraphs(&strip_invisible(&article.text_content)),
        title: nonempty(Some(article.title)),
        outlet: nonempty(article.site_name),
        author: nonempty(article.byline),
        published: nonempty(article.published_time),
        url: nonempty(article.url),
        language: nonempty(article.lang),
        ..Default::default()
    })
}

/// Text of an HTML fragment (e.g. a JSON feed's `content_html` or an RSS description), tags
/// removed; scripts, styles and other content never shown as text are dropped with them.
pub fn fragment_text(html: &str) -> String {
    let doc = dom_query::Document::fragment(html);
    doc.select("script, style, noscript, template").remove();
    normalize_paragraphs(&strip_invisible(&doc.formatted_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_takes_the_linear_path() {
        let n = 10_000;
        let html = format!(
            "<html><body>{}<p>The mayor opened the new bridge on Monday after years of delays.</p>{}</body></html>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        assert_eq!(max_nesting(&html), n + 3);
        let x = extract(&html).unwrap();
        assert_eq!(x.text, "The mayor opened the new bridge on Monday after years of delays.");
    }

    #[test]
    fn a_fragment_loses_its_scripts_and_styles() {
        let text = fragment_text("<p>Ships <b>sailed</b>.</p><script>alert(1)</script><style>p{}</style>");
        assert_eq!(text, "Ships sailed.");
    }

    #[test]
    fn strips_tags_scripts_and_entities() {
        let text = strip_tags("<p>Fish &amp; chips &#8364;5</p><script>var x = '<p>';</script><p>Next</p>");
        assert_eq!(crate::normalize_paragraphs(&text), "Fish & chips €5\n\nNext");
    }
}
