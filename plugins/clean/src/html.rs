//! HTML pages: the main content and metadata, by dom_smoothie's port of Mozilla Readability.
//!
//! This is the first cut; scoring it against trafilatura on the extraction set is a later issue.

use dom_smoothie::{Config, Readability, TextMode};

use crate::{normalize_paragraphs, strip_invisible, Extracted};

/// Extracts the article from an HTML page.
pub fn extract(html: &str) -> Result<Extracted, String> {
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
