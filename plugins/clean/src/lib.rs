//! The built-in `clean` stage: turns a file's bytes into an article's text and metadata.
//!
//! It decodes the bytes safely ([`decode`]), recognises the format from the content
//! ([`detect`]), then hands the text to the reader for that format ([`html`], [`markdown`],
//! [`json`], [`feed`], [`text`]). Every failure becomes an `Outcome::Fail` with a message a user
//! can act on; nothing here panics on input. Whatever the format, the outlet is then checked to
//! be a name and the headline loses the site's name ([`attribution`]).
//!
//! A JSON list, a JSON Feed or an RSS or Atom feed holds several articles:
//! [`Stage::process_items`] returns one outcome per item and the pipeline runs the later stages
//! over each.
//!
//! # Extraction, step by step
//!
//! 1. **Decode** ([`decode`]): a byte-order mark, else UTF-16 recognised without one, else UTF-8,
//!    else a legacy encoding guessed by `chardetng`. Binary content is refused before UTF-8 is
//!    tried, and bytes that are almost UTF-8 (valid multi-byte sequences mixed with broken ones)
//!    are refused as damaged rather than read as Latin-1.
//! 2. **Detect** ([`detect`]): JSON when the text parses as JSON; HTML by its tags; Markdown by
//!    front matter, headings or links; else plain text. The extension only breaks ties.
//! 3. **Read** the format. HTML ([`html::Method`]): the `trafilatura` crate's text, whose
//!    paragraphs a [`reconcile::Rule`] can check against `dom_smoothie`'s (Readability) and a
//!    [`furniture::Filter`] drops when the page's markup shows them to be furniture; then
//!    Readability alone when the trafilatura crate finds no text, then one linear pass that strips tags and hands the
//!    rest to the plain-text reader. Pages over [`html::MAX_TREE_BYTES`] or nested deeper than
//!    [`html::MAX_NESTING`] go straight to the linear pass, which stays linear on hostile input;
//!    the tree builders would spend minutes or the stack on it. Plain text ([`text`]): headline,
//!    date, byline and wire dateline from the top; generic boilerplate-line rules; then, where
//!    the text has clear paragraphs, a jusText-style filter ([`paragraphs`]: length and share of
//!    stop words, then context) drops the lines around them; cut-off last lines go. Markdown
//!    ([`markdown`]): front matter, then the rendered text, link and image targets kept as
//!    metadata. JSON ([`json`]): one article per item, fields from a fixed list of keys. Feeds
//!    ([`feed`], RSS 2.0, RSS 1.0, Atom, read by `feed-rs`): one article per item.
//! 4. **Repair** ([`repair`]) the text and title: mojibake, leftover entities, the space lost
//!    after punctuation. An article left with fewer than `min_words` words fails, saying so.
//!
//! Metadata an earlier stage already set (title, outlet, ...) is kept over what the page says.

pub mod attribution;
pub mod decode;
pub mod detect;
pub mod feed;
pub mod furniture;
pub mod html;
pub mod json;
pub mod markdown;
pub mod paragraphs;
pub mod reconcile;
pub mod repair;
pub mod text;

use std::collections::BTreeMap;

use ::text::injection;
use serde::Deserialize;
use stage_api::{Article, Context, Format, Outcome, Stage};

/// Options of the `clean` stage, as written under `- kind: clean` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Articles with fewer words than this after cleaning fail as "no article text".
    pub min_words: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { min_words: 3 }
    }
}

impl Options {
    /// Problems with these values, in a user's words; empty when usable.
    pub fn problems(&self) -> Vec<String> {
        if self.min_words == 0 {
            vec!["min_words must be at least 1".into()]
        } else {
            Vec::new()
        }
    }
}

/// What a format reader extracts from a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// Body text, paragraphs separated by blank lines.
    pub text: String,
    /// Headline.
    pub title: Option<String>,
    /// Publisher.
    pub outlet: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Publication date, ISO 8601 where it could be read.
    pub published: Option<String>,
    /// Canonical URL.
    pub url: Option<String>,
    /// Language tag.
    pub language: Option<String>,
    /// Anything else worth keeping (e.g. `links`), merged into the article's metadata.
    pub metadata: BTreeMap<String, String>,
}

/// The `clean` stage.
#[derive(Debug, Clone, Default)]
pub struct Clean {
    options: Options,
}

impl Clean {
    /// A cleaner with these options.
    pub fn new(options: Options) -> Self {
        Clean { options }
    }

    /// Cleans one document holding one article, given as bytes; `file_name` helps recognise the
    /// format. A JSON list or feed of several articles is an error here (see
    /// [`Clean::clean_items`]).
    pub fn clean_bytes(&self, bytes: &[u8], file_name: &str) -> Result<(Format, Extracted), String> {
        let (format, mut items) = self.clean_items(bytes, file_name)?;
        match items.len() {
            1 => items.pop().expect("one item").map(|x| (format, x)),
            n => Err(format!("{file_name} holds {n} articles; read them with Clean::clean_items")),
        }
    }

    /// Cleans one document given as bytes: its format and one result per article in it (several
    /// for a JSON list or a feed, else one). `Err` when the document as a whole cannot be read.
    /// The items of an RSS or Atom feed are `Format::Html` (see [`feed`]).
    pub fn clean_items(
        &self,
        bytes: &[u8],
        file_name: &str,
    ) -> Result<(Format, Vec<Result<Extracted, String>>), String> {
        let decoded = decode::decode(bytes).map_err(|e| e.to_string())?;
        let (format, what, items) = match detect::feed_kind(&decoded.text, file_name) {
            Some(kind) => (Format::Html, kind.name(), feed::extract(&decoded.text, kind, file_name)?),
            None => {
                let format = detect::detect(&decoded.text, file_name);
                let items = match format {
                    Format::Html => vec![html::extract(&decoded.text)],
                    Format::Json => json::extract(&decoded.text, file_name)?,
                    Format::Markdown => vec![Ok(markdown::extract(&decoded.text))],
                    Format::Text => vec![Ok(text::extract(&decoded.text))],
                };
                (format, format_name(format), items)
            }
        };
        let whitespace_only = decoded.text.trim().is_empty();
        let finish = |item: Result<Extracted, String>| {
            item.and_then(|x| self.finish(x, what, whitespace_only, file_name))
        };
        let items = without_repeats(items.into_iter().map(finish).collect());
        Ok((format, items))
    }

    /// Repairs the text and title, makes the outlet a name (else the URL's host) and cuts the
    /// site's name off the title ([`attribution`]), and checks there is enough text left; `what`
    /// names the format in the message.
    fn finish(
        &self,
        mut extracted: Extracted,
        what: &str,
        whitespace_only: bool,
        file_name: &str,
    ) -> Result<Extracted, String> {
        extracted.text = repair::repair(&extracted.text);
        extracted.outlet = extracted
            .outlet
            .and_then(|o| attribution::outlet_name(&o, file_name))
            .or_else(|| extracted.url.as_deref().and_then(::text::site::host_of));
        let names: Vec<&str> = extracted.outlet.iter().chain(&extracted.url).map(String::as_str).collect();
        let strip = |title: String| attribution::strip_site_name(&repair::repair(&title), &names);
        extracted.title = extracted.title.map(strip);
        if let Some(title) = &extracted.title {
            extracted.text = without_title_line(&extracted.text, title).to_string();
        }
        if extracted.title.as_deref().is_some_and(injection::is_instruction) {
            extracted.title = headline_from_text(&extracted.text);
            extracted.metadata.insert("title_replaced".into(), "the title read as an instruction".into());
        }
        let words = extracted.text.split_whitespace().count();
        if words < self.options.min_words {
            return Err(if whitespace_only {
                "the file holds only whitespace, no article text".to_string()
            } else {
                format!(
                    "no article text found: {words} word(s) after cleaning the {what} content, \
                     fewer than min_words ({})",
                    self.options.min_words
                )
            });
        }
        Ok(extracted)
    }
}

/// The items of one file without those that repeat an earlier item: the same `item_id` (a
/// feed's guid), the same link under the same title, or the same text under the same title. A
/// feed that repeats one item a thousand times is one article (issue 20), not a story listing
/// the same source a thousand times. Failed items are kept: each says what went wrong.
fn without_repeats(items: Vec<Result<Extracted, String>>) -> Vec<Result<Extracted, String>> {
    let mut seen: std::collections::HashSet<(u8, String)> = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|item| {
            let Ok(x) = item else { return true };
            let title = x.title.as_deref().unwrap_or_default();
            let keys = [
                x.metadata.get("item_id").map(|id| (0, id.clone())),
                x.url.as_ref().map(|url| (1, format!("{url}\n{title}"))),
                Some((2, format!("{}\n{title}", x.text))),
            ];
            let repeat = keys.iter().flatten().any(|k| seen.contains(k));
            seen.extend(keys.into_iter().flatten());
            !repeat
        })
        .collect()
}

/// `text` without an opening that repeats `title`: pages and feeds often open the body with the
/// headline, and once single line breaks are joined the headline reads as the start of the first
/// sentence ("NASA adds five companies to lunar lander program WASHINGTON — NASA announced …").
/// Words are compared by their letters and digits without case, so quotes, dashes and
/// separators do not matter, and the page's heading may hold up to [`EXTRA_HEADING_WORDS`]
/// words the title lacks ("Michael Anastassiades’" for "Anastassiades'"): the `<title>` is
/// often a shortened heading. The title itself stays in `title`; a text that is only the title
/// is left alone.
fn without_title_line<'a>(text: &'a str, title: &str) -> &'a str {
    let key =
        |w: &str| w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let wanted: Vec<String> = title.split_whitespace().map(key).filter(|k| !k.is_empty()).collect();
    if wanted.is_empty() {
        return text;
    }
    let mut rest = text.trim_start();
    let (mut matched, mut extra) = (0, 0);
    while matched < wanted.len() {
        let Some(next) = rest.split_whitespace().next() else { return text };
        let k = key(next);
        if k == wanted[matched] {
            matched += 1;
        } else if !k.is_empty() {
            // A word the title lacks, never the first: the text must open like the title.
            extra += 1;
            if matched == 0 || extra > EXTRA_HEADING_WORDS {
                return text;
            }
        }
        rest = rest[next.len()..].trim_start();
    }
    // A first sentence that merely opens with the headline's words goes on in lower case
    // ("Quake kills 12 in Tarvos on Monday"); a glued headline is followed by a new start.
    let new_start = rest.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit() || c == '(');
    if !new_start || rest.split_whitespace().count() < 2 {
        return text;
    }
    rest
}

/// The headline for an article whose title reads as an instruction to an assistant
/// ("SYSTEM: …", "Ignore all previous instructions …", issue 20): its first sentence that is
/// no part of an injection (`text::injection`), cut to [`HEADLINE_WORDS`] words with an
/// ellipsis; `None` (the briefing then shows the file name) when there is none.
fn headline_from_text(text: &str) -> Option<String> {
    let injected = injection::find(text);
    let sentence = ::text::sentences::split(text).into_iter().find(|s| {
        !injected.overlaps(s.start..s.start + s.text.len()) && !injection::is_instruction(s.text)
    })?;
    let words: Vec<&str> = sentence.text.split_whitespace().collect();
    Some(if words.len() > HEADLINE_WORDS {
        format!("{}\u{2026}", words[..HEADLINE_WORDS].join(" "))
    } else {
        words.join(" ")
    })
}

/// At most this many words of a sentence stand in for a headline.
const HEADLINE_WORDS: usize = 14;

/// Words a page's heading may add to its `<title>` and still be read as the same headline.
const EXTRA_HEADING_WORDS: usize = 2;

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Html => "HTML",
        Format::Json => "JSON",
        Format::Markdown => "Markdown",
        Format::Text => "plain-text",
    }
}

impl Stage for Clean {
    fn name(&self) -> &str {
        "clean"
    }

    fn process(&self, article: Article, context: &dyn Context) -> Outcome {
        let mut outcomes = self.process_items(article, context);
        match outcomes.len() {
            1 => outcomes.pop().expect("one outcome"),
            n => Outcome::Fail {
                message: format!(
                    "the file holds {n} articles; run it through the pipeline, which splits them"
                ),
            },
        }
    }

    fn process_items(&self, mut article: Article, _context: &dyn Context) -> Vec<Outcome> {
        let Some(raw) = article.raw.take() else {
            return vec![Outcome::Fail {
                message: "internal: the article reached clean without its bytes".into(),
            }];
        };
        match self.clean_items(&raw, &article.file_name) {
            Ok((format, items)) => items
                .into_iter()
                .map(|item| match item {
                    Ok(x) => Outcome::Continue(merge(article.clone(), format, x)),
                    Err(message) => Outcome::Fail { message },
                })
                .collect(),
            Err(message) => vec![Outcome::Fail { message }],
        }
    }
}

/// The article with the text and metadata `x` found; metadata already set (e.g. by an earlier
/// plugin) wins over what the content says.
fn merge(mut article: Article, format: Format, x: Extracted) -> Article {
    article.format = Some(format);
    article.text = x.text;
    article.title = article.title.or(x.title);
    article.outlet = article.outlet.or(x.outlet);
    article.author = article.author.or(x.author);
    article.published = article.published.or(x.published);
    article.url = article.url.or(x.url);
    article.language = article.language.or(x.language);
    for (key, value) in x.metadata {
        article.metadata.entry(key).or_insert(value);
    }
    article
}

/// Collapses runs of whitespace inside each paragraph and keeps single blank lines between them.
pub fn normalize_paragraphs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for para in text.split("\n\n") {
        let para: Vec<&str> = para.split_whitespace().collect();
        if para.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&para.join(" "));
    }
    out
}

/// Removes control characters (except newlines and tabs), zero-width characters and soft hyphens.
pub fn strip_invisible(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            !matches!(c, '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
                && (!c.is_control() || c == '\n' || c == '\t')
        })
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_keep_single_blank_lines() {
        assert_eq!(normalize_paragraphs("a  b\n c\n\n\n\n d "), "a b c\n\nd");
    }

    #[test]
    fn strips_zero_width_and_soft_hyphens() {
        assert_eq!(strip_invisible("co\u{00AD}op\u{200B}er\u{0007}ate"), "cooperate");
    }

    /// Issue "a briefing a reader can trust": the headline glued onto the first sentence.
    #[test]
    fn drops_an_opening_that_repeats_the_title() {
        let title = "NASA adds five companies to lunar lander program";
        let text = "NASA adds five  companies to Lunar Lander program\nWASHINGTON \u{2014} NASA announced \
                    five companies.\n\nMore text.";
        assert_eq!(
            without_title_line(text, title),
            "WASHINGTON \u{2014} NASA announced five companies.\n\nMore text."
        );
        let other = "NASA adds five companies to its list of bidders on Monday.";
        assert_eq!(without_title_line(other, title), other);
        assert_eq!(without_title_line(title, title), title, "a text that is only the title stays");
        let opening = "NASA adds five companies to lunar lander program on Monday, officials said.";
        assert_eq!(without_title_line(opening, title), opening, "a sentence opening with the headline stays");
        let title = "Design Week 2018 | Anastassiades' light installation for FLOS";
        let text = "Design Week 2018 | Michael Anastassiades\u{2019} light installation for FLOS During the \
                    week, the showroom features an installation.";
        assert_eq!(
            without_title_line(text, title),
            "During the week, the showroom features an installation."
        );
        let title = "'The Medium is the Message': the 7th Light Festival";
        let text = "\u{2018}The Medium is the Message\u{2019}: the 7th Light Festival As of 29 November, thirty works.";
        assert_eq!(without_title_line(text, title), "As of 29 November, thirty works.");
        let far = "Design Week 2018 opened in a city where a young Anastassiades once sold light \
                   installation parts for FLOS Then it closed.";
        let design = "Design Week 2018 | Anastassiades' light installation for FLOS";
        assert_eq!(without_title_line(far, design), far, "more than a heading's extra words apart");
    }
}
