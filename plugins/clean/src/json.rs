//! JSON: one article object, a list of them, or a JSON Feed (<https://jsonfeed.org/version/1.1>);
//! every item of a list or feed becomes an article of its own.
//!
//! Accepted shapes:
//! - an article object: `{"title": "...", "text": "..."}`;
//! - a list of article objects: `[{...}, {...}]`;
//! - a JSON Feed: `{"version": "https://jsonfeed.org/version/1.1", "title": "...", "items": [...]}`;
//!   the feed's `title` (else its `home_page_url`'s host), `authors` and `language` fill in what an
//!   item leaves out;
//! - an object whose only article list is under `items` or `articles` (e.g. a news API answer),
//!   read like a feed.
//!
//! Fields, first key present wins:
//!
//! | field     | accepted keys                                                        |
//! |-----------|----------------------------------------------------------------------|
//! | text      | `text`, `content`, `body`, `articleBody`, `content_text`, `content_html`, `description`, `summary` |
//! | title     | `title`, `headline`, `name`                                          |
//! | url       | `url`, `link`, `canonical_url`, `external_url`                       |
//! | outlet    | `outlet`, `source`, `publisher`, `site_name` (a string or `{name}`)  |
//! | published | `published`, `date`, `published_at`, `publishedAt`, `datePublished`, `pubDate`, `date_published` |
//! | author    | `author`, `byline`, `authors` (a string, `{name}`, or a list)        |
//! | language  | `language`, `lang`, `inLanguage`                                     |
//!
//! Text that holds HTML tags (or comes as `content_html`) has its tags removed. An item's `id`
//! is kept as `metadata["item_id"]`.

use ::text::site::host_of;
use serde_json::{Map, Value};

use crate::{html, normalize_paragraphs, strip_invisible, Extracted};

const BODY_KEYS: [&str; 8] =
    ["text", "content", "body", "articleBody", "content_text", "content_html", "description", "summary"];

/// The prefix of every JSON Feed `version` (1, 1.1).
const JSON_FEED_VERSION: &str = "https://jsonfeed.org/version/";

const EXAMPLE: &str = r#"{"title": "...", "text": "..."}"#;

/// The articles of a JSON document, in order: one result per item (an item that is not a usable
/// article is an `Err` in its place). `Err` when the document as a whole is not an accepted
/// shape; `file_name` is named in that message.
pub fn extract(text: &str, file_name: &str) -> Result<Vec<Result<Extracted, String>>, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("{file_name}: invalid JSON at line {}, column {}: {e}", e.line(), e.column()))?;
    match value {
        Value::Object(map) => from_document(&map, file_name),
        Value::Array(items) => from_list(&items, &Defaults::default(), file_name, "the JSON list"),
        other => Err(format!(
            "{file_name}: the JSON file holds a {}; expected an article object such as {EXAMPLE}, \
             a list of them, or a JSON Feed ({JSON_FEED_VERSION}1.1)",
            kind(&other)
        )),
    }
}

/// What a feed says for all its items; an item's own fields win.
#[derive(Debug, Default)]
struct Defaults {
    outlet: Option<String>,
    author: Option<String>,
    language: Option<String>,
}

fn from_document(
    map: &Map<String, Value>,
    file_name: &str,
) -> Result<Vec<Result<Extracted, String>>, String> {
    let version = map.get("version").and_then(Value::as_str).unwrap_or_default();
    let is_feed = version.starts_with(JSON_FEED_VERSION);
    let has_body = BODY_KEYS.iter().any(|k| string_of(map.get(*k)).is_some());
    let list =
        ["items", "articles"].iter().find_map(|k| map.get(*k).and_then(Value::as_array).map(|l| (*k, l)));
    match list {
        Some((key, items)) if is_feed || !has_body => {
            let defaults = Defaults {
                outlet: first(map, &["outlet", "source", "publisher", "site_name", "title"])
                    .or_else(|| string_of(map.get("home_page_url")).and_then(|u| host_of(&u))),
                author: first(map, &["authors", "author"]),
                language: first(map, &["language", "lang"]),
            };
            let what = if is_feed {
                "the JSON Feed's \"items\"".to_string()
            } else {
                format!("the JSON object's {key:?}")
            };
            from_list(items, &defaults, file_name, &what)
        }
        _ if is_feed => Err(format!(
            "{file_name}: a JSON Feed ({version}) needs an \"items\" list of article objects such as \
             {{\"id\": \"1\", \"title\": \"...\", \"content_text\": \"...\"}}"
        )),
        _ => Ok(vec![from_object(map, &Defaults::default()).map_err(|e| {
            format!("{file_name}: {e}, or a list of article objects, or a JSON Feed ({JSON_FEED_VERSION}1.1)")
        })]),
    }
}

fn from_list(
    items: &[Value],
    defaults: &Defaults,
    file_name: &str,
    what: &str,
) -> Result<Vec<Result<Extracted, String>>, String> {
    if items.is_empty() {
        return Err(format!("{file_name}: {what} is empty; expected article objects such as {EXAMPLE}"));
    }
    if let Some(other) =
        items.iter().find(|v| !v.is_object()).filter(|_| items.iter().all(|v| !v.is_object()))
    {
        return Err(format!(
            "{file_name}: {what} holds no article objects (its items are {}s); expected objects such as {EXAMPLE}",
            kind(other)
        ));
    }
    Ok(items
        .iter()
        .map(|item| match item {
            Value::Object(map) => from_object(map, defaults),
            other => Err(format!("not an article: a {}; expected an object such as {EXAMPLE}", kind(other))),
        })
        .collect())
}

fn from_object(map: &Map<String, Value>, defaults: &Defaults) -> Result<Extracted, String> {
    let Some((key, body)) = BODY_KEYS.iter().find_map(|k| string_of(map.get(*k)).map(|v| (*k, v))) else {
        return Err(format!(
            "the JSON object has no article text; expected one of the keys {}",
            BODY_KEYS.map(|k| format!("\"{k}\"")).join(", ")
        ));
    };
    let text = if key == "content_html" || (body.contains("</") && body.contains('>')) {
        html::fragment_text(&body)
    } else {
        normalize_paragraphs(&strip_invisible(&body.replace("\r\n", "\n")))
    };
    let mut extracted = Extracted {
        text,
        title: first(map, &["title", "headline", "name"]),
        url: first(map, &["url", "link", "canonical_url", "external_url"]),
        outlet: first(map, &["outlet", "source", "publisher", "site_name"])
            .or_else(|| defaults.outlet.clone()),
        published: first(
            map,
            &[
                "published",
                "date",
                "published_at",
                "publishedAt",
                "datePublished",
                "pubDate",
                "date_published",
            ],
        ),
        author: first(map, &["author", "byline", "authors"]).or_else(|| defaults.author.clone()),
        language: first(map, &["language", "lang", "inLanguage"]).or_else(|| defaults.language.clone()),
        ..Default::default()
    };
    if let Some(id) = string_of(map.get("id")) {
        extracted.metadata.insert("item_id".into(), id);
    }
    Ok(extracted)
}

fn first(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| string_of(map.get(*k)))
}

/// A string, a `{ "name": ... }` object, or a list of those joined by commas.
fn string_of(value: Option<&Value>) -> Option<String> {
    let s = match value? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => return string_of(o.get("name")),
        Value::Array(items) => items.iter().filter_map(|v| string_of(Some(v))).collect::<Vec<_>>().join(", "),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Extracted, String> {
        let mut items = extract(text, "a.json")?;
        assert_eq!(items.len(), 1);
        items.remove(0)
    }

    #[test]
    fn reads_common_spellings() {
        let x = one(r#"{"headline":"H","articleBody":"Body text here.","publisher":{"name":"AP"},"datePublished":"2025-07-13"}"#)
            .unwrap();
        assert_eq!(x.title.as_deref(), Some("H"));
        assert_eq!(x.outlet.as_deref(), Some("AP"));
        assert_eq!(x.published.as_deref(), Some("2025-07-13"));
        assert_eq!(x.text, "Body text here.");
    }

    #[test]
    fn names_the_file_and_what_was_expected() {
        let err = extract("42", "n.json").unwrap_err();
        assert!(err.starts_with("n.json: the JSON file holds a number; expected an article object"), "{err}");
        assert!(one("{\"x\": 1}").unwrap_err().contains("no article text"));
        assert!(extract("{\"x\": ", "b.json").unwrap_err().starts_with("b.json: invalid JSON at line 1"));
        assert!(extract("[]", "e.json").unwrap_err().contains("the JSON list is empty"));
        assert!(extract("[1, 2]", "e.json")
            .unwrap_err()
            .contains("holds no article objects (its items are numbers)"));
        let feed = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "F"}"#;
        assert!(extract(feed, "f.json").unwrap_err().contains("needs an \"items\" list"));
    }

    #[test]
    fn a_list_gives_one_result_per_item() {
        let items =
            extract(r#"[{"title":"A","text":"One two three."}, 7, {"title":"C"}]"#, "l.json").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().title.as_deref(), Some("A"));
        assert!(items[1].as_ref().unwrap_err().contains("not an article: a number"));
        assert!(items[2].as_ref().unwrap_err().contains("no article text"));
    }

    #[test]
    fn a_feed_fills_in_outlet_and_author() {
        let feed = r#"{"version": "https://jsonfeed.org/version/1.1", "home_page_url": "https://www.example.org/",
            "authors": [{"name": "Desk"}],
            "items": [{"id": "a1", "content_html": "<p>Hello <b>there</b>.</p>", "date_published": "2025-07-13T10:00:00Z"}]}"#;
        let x = one(feed).unwrap();
        assert_eq!(x.text, "Hello there.");
        assert_eq!(x.outlet.as_deref(), Some("example.org"));
        assert_eq!(x.author.as_deref(), Some("Desk"));
        assert_eq!(x.published.as_deref(), Some("2025-07-13T10:00:00Z"));
        assert_eq!(x.metadata.get("item_id").map(String::as_str), Some("a1"));
    }
}
