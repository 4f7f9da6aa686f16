//! HTML pages: the main content and metadata.
//!
//! Two extractors are available, both real HTML5 parsers with content scoring: the `trafilatura`
//! crate (a port of trafilatura's algorithm, with jusText and Readability fallbacks) and
//! `dom_smoothie` (a port of Mozilla Readability). `briefd eval extraction` scores both on the
//! same pages; the default is the one that scored higher there.

use dom_smoothie::{Config, Readability, TextMode};
use serde::Deserialize;

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

/// Extracts the article from an HTML page with `extractor`.
pub fn extract_with(html: &str, extractor: HtmlExtractor) -> Result<Extracted, String> {
    match extractor {
        HtmlExtractor::Trafilatura => with_trafilatura(html),
        HtmlExtractor::Readability => with_readability(html),
    }
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
    })
}

/// Text of an HTML fragment (e.g. a JSON feed's `content_html`), tags removed.
pub fn fragment_text(html: &str) -> String {
    let doc = dom_query::Document::fragment(html);
    normalize_paragraphs(&strip_invisible(&doc.formatted_text()))
}
