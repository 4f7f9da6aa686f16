//! HTML pages: the main content and metadata.
//!
//! Two extractors can run on a page, both real HTML5 parsers with content scoring: the
//! `trafilatura` crate (a port of trafilatura's algorithm, with jusText and Readability
//! fallbacks) and `dom_smoothie` (a port of Mozilla Readability). A [`Method`] says how they are
//! combined: the trafilatura port's output is the base, read with a [`Focus`] (its balanced
//! heuristics or its precision-first ones); a [`Rule`] can drop its paragraphs that Readability
//! does not support ([`crate::reconcile`]), and a [`Filter`] drops those that the page's markup
//! shows to be furniture ([`crate::furniture`]). `briefd eval extraction` scores each extractor
//! alone and chooses the method by cross-validation over sites, which is how [`Method::default`]
//! was chosen: on the 90 dev pages all five site folds chose the balanced focus, no reconciling
//! and [`Filter::SHIPPED`], for a held-out F1 of 0.984 (the port alone: 0.962). The port's
//! precision focus is no help: unlike Python trafilatura's `favor_precision`, it is no more
//! precise than its balanced one on those pages (0.944 against 0.945) but loses recall (0.925
//! against 0.992) and finds no text on 5 pages instead of 1. `docs/benchmarks.md` has the figures.

use dom_smoothie::{Config, Readability, TextMode};
use serde::Deserialize;

use crate::attribution::{strip_site_name, PageMeta};
use crate::furniture::{self, Filter, Page};
use crate::reconcile::{reconcile, Rule};
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

/// Which of the trafilatura port's heuristics pick the article's blocks (its `ExtractionFocus`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Focus {
    /// The port's default balance of precision and recall.
    #[default]
    Balanced,
    /// The port's precision-first heuristics: stricter link density and length thresholds, no
    /// tail text, no fallback that widens the text (Python's `favor_precision=True`).
    Precision,
}

/// How a page's text is read from the two extractors' outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Method {
    /// The heuristics the trafilatura port runs with.
    pub focus: Focus,
    /// Which of its paragraphs must Readability support to stay.
    pub rule: Rule,
    /// Which of the paragraphs left are dropped as page furniture by their place in the page
    /// ([`crate::furniture`]).
    pub filter: Filter,
}

impl Default for Method {
    /// The port's balanced text, not reconciled, without its furniture ([`Filter::SHIPPED`]).
    fn default() -> Self {
        Method { focus: Focus::Balanced, rule: Rule::PRIMARY_ONLY, filter: Filter::SHIPPED }
    }
}

/// Extracts the article from an HTML page by [`Method::default`].
pub fn extract(html: &str) -> Result<Extracted, String> {
    extract_by(html, &Method::default())
}

/// Nesting deeper than this is never a real page; tree-building extractors would spend minutes
/// (or the stack) on it, so such input takes the linear path instead.
pub const MAX_NESTING: usize = 512;

/// Pages larger than this take the linear path too: the tree builders hold several copies of a
/// page as nodes (a 50 MB page would cost gigabytes and minutes), and no news article needs more.
pub const MAX_TREE_BYTES: usize = 8 * 1024 * 1024;

/// Extracts the article from an HTML page by `method`: the trafilatura port's text, reconciled
/// with Readability's under the method's rule; Readability alone when the port finds no text,
/// and plain tag stripping when neither does, so a page that confuses one extractor still
/// yields its text. The outlet, URL and title then come from the page's own metadata
/// ([`attribute`]).
pub fn extract_by(html: &str, method: &Method) -> Result<Extracted, String> {
    extract_text_by(html, method).map(|x| attribute(html, x))
}

/// The outlet by the page's own names ([`crate::attribution`]), the URL and title from its
/// metadata when the extractor found none, and the title without the site's name. The
/// extractors' own site names are not used: they fall back to social-media links, handles and title-cased
/// host labels ("https://www.facebook.com/CBSNews", "Wday_", "Hosted").
fn attribute(html: &str, mut x: Extracted) -> Extracted {
    let page = PageMeta::read(html);
    x.outlet = page.outlet(&x.text, x.url.as_deref());
    x.url = x.url.or_else(|| page.url.clone());
    let title = match (x.title.take(), page.title.clone()) {
        (Some(found), Some(page_title)) if is_masthead(&found, &page_title) => {
            // The page named its site in a masthead, so its title most likely reads "headline
            // - site": a short last segment is the site's name, here its only one.
            if x.outlet.is_none() {
                x.outlet = title_tail(&page_title).map(str::to_string);
            }
            Some(page_title)
        }
        (found, page_title) => found.or(page_title),
    };
    let mut names = page.names();
    names.extend(x.outlet.as_deref());
    names.extend(x.url.as_deref());
    x.title = title.map(|t| strip_site_name(&t, &names));
    x
}

/// The last segment of a title after " - " or " | ", when it is a name's length (a few words).
fn title_tail(title: &str) -> Option<&str> {
    let (_, tail) =
        [" - ", " | "].iter().filter_map(|sep| title.rsplit_once(sep)).max_by_key(|(head, _)| head.len())?;
    let tail = tail.trim();
    (!tail.is_empty() && tail.split_whitespace().count() <= MASTHEAD_WORDS).then_some(tail)
}

/// Words at most in a title an extractor may have taken from the page's masthead.
const MASTHEAD_WORDS: usize = 3;

/// Whether the extractor's title `found` is the site's masthead rather than the article's
/// headline: a heading of a few words ("엔터 미디어", the site's name in its own script) that
/// the page's own title (`og:title` or `<title>`), a longer one, does not contain. A page's title
/// holds its headline, give or take the site's name; a masthead is not in it.
fn is_masthead(found: &str, page_title: &str) -> bool {
    let words = |s: &str| s.split_whitespace().count();
    words(found) <= MASTHEAD_WORDS
        && words(page_title) > words(found) + 1
        && !page_title.to_lowercase().contains(&found.to_lowercase())
}

fn extract_text_by(html: &str, method: &Method) -> Result<Extracted, String> {
    if takes_linear_path(html) {
        return Ok(linear(html));
    }
    let primary = extract_trafilatura(html, method.focus);
    // Readability runs only when its text is needed: to reconcile with, or as the fallback.
    let combined = if has_text(&primary) && method.rule == Rule::PRIMARY_ONLY {
        primary
    } else {
        let secondary = extract_only(html, HtmlExtractor::Readability);
        combine(html, &primary, &secondary, &method.rule)
    };
    if method.filter.is_none() {
        return combined;
    }
    let page = Page::read(html);
    combined.map(|x| Extracted { text: furniture::filter(&page, &x.text, &method.filter), ..x })
}

/// Whether `html` skips the tree-building extractors for the linear pass ([`MAX_TREE_BYTES`],
/// [`MAX_NESTING`]).
pub fn takes_linear_path(html: &str) -> bool {
    html.len() > MAX_TREE_BYTES || max_nesting(html) > MAX_NESTING
}

/// The linear pass: tags stripped, the rest read as plain text.
fn linear(html: &str) -> Extracted {
    crate::text::extract(&strip_tags(html))
}

fn has_text(r: &Result<Extracted, String>) -> bool {
    r.as_ref().is_ok_and(|x| !x.text.trim().is_empty())
}

/// One page's text from the two extractors' outputs under `rule`, with the fallbacks of
/// [`extract_by`]; metadata comes from the extractor whose text is used.
fn combine(
    html: &str,
    primary: &Result<Extracted, String>,
    secondary: &Result<Extracted, String>,
    rule: &Rule,
) -> Result<Extracted, String> {
    if let (Ok(first), true) = (primary, has_text(primary)) {
        let other = secondary.as_ref().map(|x| x.text.as_str()).unwrap_or_default();
        return Ok(Extracted { text: reconcile(&first.text, other, rule), ..first.clone() });
    }
    if has_text(secondary) {
        return secondary.clone();
    }
    let stripped = linear(html);
    if stripped.text.trim().is_empty() {
        primary.clone()
    } else {
        Ok(stripped)
    }
}

/// Every extractor's output for one page, so that an evaluation can read the page by many
/// methods without running the extractors again for each.
pub struct Outputs<'a> {
    html: &'a str,
    linear: bool,
    balanced: Result<Extracted, String>,
    precision: Result<Extracted, String>,
    readability: Result<Extracted, String>,
    page: Option<Page>,
}

impl<'a> Outputs<'a> {
    /// Runs every extractor on `html` (none when the page takes the linear path).
    pub fn read(html: &'a str) -> Outputs<'a> {
        let linear = takes_linear_path(html);
        let run = |f: &dyn Fn() -> Result<Extracted, String>| {
            if linear {
                Err(String::new())
            } else {
                f()
            }
        };
        Outputs {
            html,
            linear,
            balanced: run(&|| extract_trafilatura(html, Focus::Balanced)),
            precision: run(&|| extract_trafilatura(html, Focus::Precision)),
            readability: run(&|| extract_only(html, HtmlExtractor::Readability)),
            page: (!linear).then(|| Page::read(html)),
        }
    }

    /// The trafilatura port's own text with `focus` (empty when it failed or did not run).
    pub fn trafilatura(&self, focus: Focus) -> &str {
        let out = match focus {
            Focus::Balanced => &self.balanced,
            Focus::Precision => &self.precision,
        };
        out.as_ref().map_or("", |x| x.text.as_str())
    }

    /// Readability's own text (empty when it failed or did not run).
    pub fn readability(&self) -> &str {
        self.readability.as_ref().map_or("", |x| x.text.as_str())
    }

    /// The text [`extract_by`] gives for this page under `method`.
    pub fn text(&self, method: &Method) -> String {
        if self.linear {
            return linear(self.html).text;
        }
        let primary = match method.focus {
            Focus::Balanced => &self.balanced,
            Focus::Precision => &self.precision,
        };
        let text =
            combine(self.html, primary, &self.readability, &method.rule).map(|x| x.text).unwrap_or_default();
        match &self.page {
            Some(page) if !method.filter.is_none() => furniture::filter(page, &text, &method.filter),
            _ => text,
        }
    }
}

/// Only the extractor named, no fallbacks: for scoring each extractor on its own.
pub fn extract_only(html: &str, extractor: HtmlExtractor) -> Result<Extracted, String> {
    match extractor {
        HtmlExtractor::Trafilatura => extract_trafilatura(html, Focus::Balanced),
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

/// The trafilatura port alone, with `focus`, no fallbacks.
pub fn extract_trafilatura(html: &str, focus: Focus) -> Result<Extracted, String> {
    let focus = match focus {
        Focus::Balanced => trafilatura::ExtractionFocus::Balanced,
        Focus::Precision => trafilatura::ExtractionFocus::FavorPrecision,
    };
    let options = trafilatura::Options::default().with_focus(focus);
    let result = trafilatura::extract(html, &options)
        .map_err(|e| format!("no article found in the HTML page ({e}); is it a saved news page?"))?;
    let m = result.metadata;
    let nonempty = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Extracted {
        text: paragraphs_of(&result.content_html, &result.content_text),
        title: nonempty(m.title),
        outlet: nonempty(m.sitename),
        author: nonempty(m.author),
        published: m.date.map(|d| d.to_string()),
        url: nonempty(m.url),
        language: nonempty(m.language),
        ..Default::default()
    })
}

/// The port's text with its paragraphs: its `content_text` runs every block together on one
/// line, so the paragraphs come from its `content_html` instead (the same words, with the block
/// elements that separate them); the flat text when the HTML holds no words.
fn paragraphs_of(content_html: &str, content_text: &str) -> String {
    let text = fragment_text(content_html);
    if text.trim().is_empty() {
        normalize_paragraphs(&strip_invisible(content_text))
    } else {
        text
    }
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

    const SHARE_BAR: &str = include_str!("../test_data/html/share_bar.html");

    fn methods() -> Vec<Method> {
        let strict = Rule { min_support: 0.5, keep_words: 1000, min_kept_share: 0.3 };
        let mut out = Vec::new();
        for focus in [Focus::Balanced, Focus::Precision] {
            for rule in [Rule::PRIMARY_ONLY, strict] {
                out.push(Method { focus, rule, filter: Filter::NONE });
            }
        }
        out
    }

    #[test]
    fn outputs_read_once_give_what_extract_by_gives() {
        let outputs = Outputs::read(SHARE_BAR);
        for method in methods() {
            let x = extract_by(SHARE_BAR, &method).expect("the page has an article");
            assert!(x.text.contains("approved the new school budget"), "{method:?}: {}", x.text);
            assert_eq!(outputs.text(&method), x.text, "{method:?}");
        }
    }

    #[test]
    fn a_masthead_is_no_headline_and_the_titles_tail_names_the_site() {
        let page = include_str!("../test_data/html/masthead.html");
        let x = extract(page).expect("the page has an article");
        assert_eq!(x.title.as_deref(), Some("악녀의 덫에 걸린 이유리, 의외로 막장극 어울리는 남상미"));
        assert_eq!(x.outlet.as_deref(), Some("Entermedia"));
        // A short heading that the page's title holds is the headline itself.
        assert!(!is_masthead("Budget approved", "Budget approved - The Daily Planet"));
        assert!(is_masthead("The Daily Planet", "Council approves the new school budget"));
        assert!(!is_masthead("Budget approved", "Budget passes"));
    }

    #[test]
    fn outputs_of_a_linear_page_are_the_linear_text() {
        let html = format!(
            "<html><body>{}<p>The mayor opened the new bridge on Monday after years of delays.</p></body></html>",
            "<div>".repeat(600)
        );
        assert!(takes_linear_path(&html));
        let outputs = Outputs::read(&html);
        for method in methods() {
            let x = extract_by(&html, &method).expect("the linear pass always reads");
            assert!(x.text.contains("new bridge"), "{}", x.text);
            assert_eq!(outputs.text(&method), x.text);
        }
    }

    #[test]
    fn attribution_is_the_same_whatever_the_method() {
        for method in methods() {
            let x = extract_by(SHARE_BAR, &method).expect("the page has an article");
            assert_eq!(x.outlet.as_deref(), Some("The Valley Courier"), "{method:?}");
            assert_eq!(
                x.title.as_deref(),
                Some("Council approves school budget after long debate"),
                "{method:?}"
            );
        }
    }

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
